"""Which patch set a run was trained on: an id of its split (``index.csv``) and its pixels (``patches.npy``).

``train --resume`` and evaluate's check of a run's own patch set compare the id a run recorded with the patch set
they are given.  The same ``index.csv`` cut again with other pixels (other preprocessing switches, another
``--context``, a reader that decodes differently) is another patch set: the weights never saw those pixels.

``patches.npy`` can be hundreds of MB: ``extract-patches`` hashes it once and records the hash in
``manifest.json`` (``patches_npy``) with the file's size and modification time; the record is used while the file
still has them, else the file is hashed again (about a second per 500 MB), so a stale manifest is never trusted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from mammoview.terminal import say
from mammoview.training.jsonfile import read_json


def pixels_record(path: Path) -> dict[str, Any]:
    """What ``manifest.json`` records of ``patches.npy`` (``patches_npy``): its SHA-256, and the size and
    modification time that show, later, that the file is still the one hashed."""
    st = Path(path).stat()
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return {"sha256": digest, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def pixels_sha256(patches_dir: Path) -> str:
    """SHA-256 of ``patches_dir/patches.npy``: the manifest's record while the file has the size and time it
    recorded (a copy that kept the times included), else hashed now (replaced, touched, or no record)."""
    root = Path(patches_dir)
    path = root / "patches.npy"
    try:
        rec = read_json(root / "manifest.json").get("patches_npy")
    except (OSError, ValueError):  # no manifest, or not one: hash the file
        rec = None
    st = path.stat()
    if (
        isinstance(rec, dict)
        and isinstance(rec.get("sha256"), str)
        and (rec.get("bytes"), rec.get("mtime_ns")) == (st.st_size, st.st_mtime_ns)
    ):
        return str(rec["sha256"])
    return str(pixels_record(path)["sha256"])


def patch_set_id(patches_dir: Path) -> str:
    """A fingerprint of a patch set's patches, split and pixels (``index.csv`` and ``patches.npy``): what a resumed
    run must train on, and what a run's own patch set must still be when it is measured on it."""
    root = Path(patches_dir)
    h = hashlib.sha256((root / "index.csv").read_bytes())
    h.update(b"\0patches.npy sha256 " + pixels_sha256(root).encode())
    return h.hexdigest()[:16]


def index_id(patches_dir: Path) -> str:
    """The id runs recorded before :func:`patch_set_id` covered the pixels: ``index.csv``'s alone."""
    return hashlib.sha256((Path(patches_dir) / "index.csv").read_bytes()).hexdigest()[:16]


def match_recorded_id(recorded: str, patches_dir: Path, current: str) -> Literal["same", "index only", "other"]:
    """How the id a run recorded matches ``patches_dir`` (whose :func:`patch_set_id` is ``current``).

    ``"index only"``: an id recorded before the pixels counted, of the same ``index.csv``: accepted, as it was then,
    with a note (:func:`note_index_only`) that the pixels cannot be checked.
    """
    if recorded == current:
        return "same"
    return "index only" if recorded == index_id(patches_dir) else "other"


def note_index_only(run: Path, patches_dir: Path) -> None:
    """Say that ``run``'s record of its patch set predates pixel ids: its index matches, its pixels are unchecked."""
    say(
        f"mammoview: note: {run} recorded its patch set before the id covered the pixels: {patches_dir} has its "
        "index.csv, but whether it has the pixels the run trained on is not checked"
    )
