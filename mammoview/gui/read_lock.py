"""The reads folder lock: one running viewer claims the folder its reads are saved in (:func:`claim_folder`), so
that no two windows each write their whole read of a study over the other's."""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

from PySide6 import QtCore

log = logging.getLogger(__name__)

_claims: dict[str, QtCore.QLockFile] = {}
_refused: dict[str, str] = {}  # folders another running viewer was saving to: this process never saves there
_claims_lock = threading.Lock()


def claim_folder(folder: Path) -> None:
    """Make this process the one mammoview that writes reads to ``folder`` (held until it exits; the lock of a viewer
    that died, even by kill -9, is taken over).  PermissionError when another running viewer got it first, then and
    for the rest of this process (its reads, loaded beside the other's saves, may be stale): two windows each writing
    their whole read of a study silently dropped each other's marks and decisions."""
    key = os.path.realpath(folder)  # (a folder reached through a link is the same folder: one lock)
    with _claims_lock:
        if key in _claims:
            return
        if key not in _refused:
            folder.parent.mkdir(parents=True, exist_ok=True)
            lock = QtCore.QLockFile(key + ".lock")
            lock.setStaleLockTime(0)  # stale when its process is gone, never by age (a viewer stays open for hours)
            if lock.tryLock(0):
                _claims[key] = lock
                _remove_leftover_temps(folder)
                return
            if lock.error() != QtCore.QLockFile.LockError.LockFailedError:
                return  # no lock file can be made there (read-only, some network shares): the write says why
            info = lock.getLockInfo()  # PySide6: (pid, hostname, appname)
            pid, host = (info[-3], info[-2]) if isinstance(info, tuple) and len(info) >= 3 else ("?", "")
            _refused[key] = (
                f"another mammoview window (process {pid} on {host or 'this computer'}) is saving reads in {folder}: "
                "this window saves none, so neither overwrites the other's marks; close it and read in the other one"
            )
        raise PermissionError(_refused[key])


#: a temporary file of :func:`atomic_write_json` for a read (``.<32 hex>.json.<random>.tmp``)
_READ_TEMP = re.compile(r"\.[0-9a-f]{32}\.json\..+\.tmp")


def _remove_leftover_temps(folder: Path) -> None:
    """Remove the temporary files of saves a viewer killed mid-save left in ``folder`` (owner-only, but each a copy
    of a read that stayed there for ever); only with the folder claimed, so that no save of another viewer is under
    way."""
    try:
        leftovers = [p for p in folder.iterdir() if _READ_TEMP.fullmatch(p.name) and p.is_file()]
    except OSError:
        return
    for leftover in leftovers:
        try:
            leftover.unlink()
            log.info("removed %s, left by a save that did not finish", leftover)
        except OSError as exc:
            log.warning("could not remove %s, left by a save that did not finish: %s", leftover, exc)


def saving_refused(folder: Path) -> bool:
    """Whether this process was refused ``folder`` (another viewer saves reads there): for the rest of its life."""
    with _claims_lock:
        return os.path.realpath(folder) in _refused
