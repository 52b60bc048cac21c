"""The files of the reads folder (:mod:`~mammoview.gui.read_store`): a study's file name, a hash of its key
(:func:`study_hash`), written atomically (:func:`atomic_write_json`); a damaged read set aside beside itself
(:func:`set_aside`), by a window that holds the folder only (:func:`held_elsewhere`); the folder the user's only
(:func:`private_folder`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from mammoview.gui.read_lock import claim_folder
from mammoview.io.files import atomic_write_bytes, name_bytes


def study_hash(study_key: str) -> str:
    """SHA-256 (hex) of the study key: names the file without naming the patient."""
    return hashlib.sha256(name_bytes(study_key)).hexdigest()


def atomic_write_json(path: Path, doc: dict[str, Any], exclusive: bool = False) -> None:
    """Write ``doc`` as JSON to ``path`` atomically (:func:`mammoview.io.files.atomic_write_bytes`; ``exclusive``:
    FileExistsError rather than over a file there); a NaN or infinite number is a ValueError before anything is
    written (json would write NaN, which is not JSON: the read would be set aside as damaged when next opened)."""
    atomic_write_bytes(path, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8"), exclusive)


#: what reading a damaged file raises: not JSON, a missing key, a value of the wrong type, an unknown enum value,
#: a number too large for an int (1e999 reads as infinity), JSON nested too deep
DAMAGED = (ValueError, KeyError, TypeError, OverflowError, RecursionError)


def set_aside(path: Path) -> Path:
    """Rename an unreadable read beside itself (``<name>.damaged-<time>``, ``-2``, ``-3``... after it when a copy set
    aside in the same second is there: never over it); where it went.  OSError if it cannot be."""
    stem = path.with_name(f"{path.name}.damaged-{_dt.datetime.now():%Y%m%d-%H%M%S}")
    aside, n = stem, 1
    while aside.exists() or aside.is_symlink():
        n += 1
        aside = stem.with_name(f"{stem.name}-{n}")
    os.replace(path, aside)
    return aside


def held_elsewhere(folder: Path) -> bool:
    """Whether another viewer holds ``folder`` (:func:`~mammoview.gui.read_lock.claim_folder` refuses it, or finds it
    taken over): this window then renames, removes and writes nothing there, not even a damaged read aside (a race
    could move aside that viewer's good read, saved there meanwhile)."""
    try:
        claim_folder(folder)
    except PermissionError:
        return True
    except OSError:  # (the folder's parent cannot be made: setting a file aside there says why)
        pass
    return False


def private_folder(folder: Path) -> None:
    """``folder`` made (or kept) the user's only: its file names are hashes of study keys, which for a patient-number
    key (CBIS-DDSM's) can be found by trying them all; the reads in it are 0600 already."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and folder.stat().st_mode & 0o077:
        with contextlib.suppress(OSError):
            folder.chmod(0o700)
