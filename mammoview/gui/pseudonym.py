"""Pseudonyms: keyed hashes (HMAC-SHA256) of study keys and Patient IDs with this installation's secret, and the
application data folder that secret is kept in (:func:`app_data_dir`, the saved reads' folder too).

The secret (``pseudonym.key``, owner-only) never leaves the installation, so a pseudonym in what does (an anonymised
export, a read log) cannot be traced back to the patient by trying every key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from pathlib import Path

from PySide6 import QtCore

from mammoview.gui.settings import APPLICATION, ORGANISATION
from mammoview.io.files import atomic_write_bytes, name_bytes

log = logging.getLogger(__name__)


def study_pseudonym(study_key: str) -> str:
    """A name for a study in what may leave this machine (an anonymised export): HMAC-SHA256 of its key with this
    installation's secret (:func:`_pseudonym_secret`).  The same study gets the same pseudonym here, and nobody
    without the secret can find it from the key: a plain hash of a CBIS-DDSM key (``P_00820``) is reversed by trying
    its 100,000 possible values."""
    return hmac.new(_pseudonym_secret(), name_bytes(study_key), hashlib.sha256).hexdigest()


def patient_pseudonym(patient_id: str) -> str:
    """Who a saved read is of, without naming her: HMAC-SHA256 of the Patient ID with this installation's secret (as
    :func:`study_pseudonym`; a plain hash of a hospital's numeric IDs is reversed by trying them)."""
    return hmac.new(_pseudonym_secret(), b"PatientID\0" + patient_id.encode("utf-8"), hashlib.sha256).hexdigest()


SECRET_BYTES = 32
_secret_lock = threading.Lock()
_session_secret: bytes | None = None


def _pseudonym_secret() -> bytes:
    """32 random bytes kept in the app data folder (``pseudonym.key``, readable by the user only), made once and
    written atomically (never seen half written); a key file of another length is replaced.  When the folder cannot
    be read or written, one secret for this process (pseudonyms then differ between sessions; logged)."""
    global _session_secret
    with _secret_lock:
        path = app_data_dir() / "pseudonym.key"
        try:
            try:
                if len(data := _read_private(path)) == SECRET_BYTES:
                    return data
            except FileNotFoundError:
                pass
            return _install_secret(path)
        except OSError as exc:
            if _session_secret is None:
                log.warning("no pseudonym secret in the app data folder (%s): pseudonyms of this session only", exc)
                _session_secret = secrets.token_bytes(SECRET_BYTES)
            return _session_secret


def _read_private(path: Path) -> bytes:
    """The bytes of the key file at ``path``, made owner-only (0600) first on POSIX when others may read it (a key
    copied in or restored from a backup); one that cannot be (another user's file, a read-only mount) is still
    read, and that is logged: whoever can read it can reverse the pseudonyms."""
    with open(path, "rb") as fh:
        if os.name == "posix" and (mode := os.fstat(fh.fileno()).st_mode) & 0o077:
            try:  # (on the open file: the one read, even if the name is replaced meanwhile)
                os.fchmod(fh.fileno(), 0o600)
            except OSError as exc:
                log.warning("pseudonym.key at %s is readable by others (mode %03o) and cannot be made owner-only "
                            "(%s): used as it is", path, mode & 0o777, exc)  # fmt: skip
        return fh.read()


def _install_secret(path: Path) -> bytes:
    """A new secret at ``path``, whole or not at all; when another viewer made its key meanwhile, theirs (used by both
    then); a damaged key (empty, another length) is replaced."""
    data = secrets.token_bytes(SECRET_BYTES)
    try:
        atomic_write_bytes(path, data, exclusive=True)
    except FileExistsError:
        if len(theirs := path.read_bytes()) == SECRET_BYTES:
            return theirs
        atomic_write_bytes(path, data)
    return path.read_bytes()  # (without hard links, another viewer replacing at the same moment: the one kept)


def app_data_dir() -> Path:
    """``$MAMMOVIEW_APP_DATA``, else Qt's per-user AppDataLocation of mammoview (the same folder from the viewer and
    from a command such as ``reader-study``, which runs without a QApplication)."""
    env = os.environ.get("MAMMOVIEW_APP_DATA")
    if env:
        return Path(env)
    if QtCore.QCoreApplication.organizationName() != ORGANISATION:  # the names AppDataLocation is made of
        QtCore.QCoreApplication.setOrganizationName(ORGANISATION)
        QtCore.QCoreApplication.setApplicationName(APPLICATION)
    loc = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".mammoview")
