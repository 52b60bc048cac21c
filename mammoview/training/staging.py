"""The hidden ``.extract-*`` folder a new patch set is written in before it is renamed into place, and the ones
killed extractions left behind.

An extraction stopped in a way it can handle (Ctrl-C, a full disk) removes its folder; one killed outright (SIGKILL,
the out-of-memory killer, a power cut) cannot, and its new set (GBs for a real one) stayed beside the old one for
good, in a folder no listing shows.  The next extraction into the same folder removes such leftovers, but never the
folder of an extraction still writing: each holds an exclusive ``flock`` on the ``claim`` file in its folder while it
runs, and the system lets go of it when the process ends, however it ends (no process id to outlive it and be reused).
A folder whose claim can be locked is a dead extraction's and goes.  One whose claim is locked is being written.
Where it cannot be told (no claim file: an older mammoview's folder, or one made this very moment; no file locks on
this system or file system) the folder is kept and named, with its size, for the user to remove.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from mammoview.terminal import say

try:
    import fcntl
except ImportError:  # Windows: no flock; folders are made unclaimed and leftovers only named
    fcntl = None  # type: ignore[assignment]

PREFIX = ".extract-"
CLAIM = "claim"


@contextlib.contextmanager
def staging_folder(out_dir: Path) -> Iterator[Path]:
    """A new hidden folder of ``out_dir`` (the same file system: renamed into place from there), claimed while the
    block runs and removed after it."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=out_dir))
    claim = None
    try:
        claim = _claim(folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if claim is not None:  # let go only once the folder is gone
            claim.close()


def _claim(folder: Path) -> IO[str] | None:
    """The open ``claim`` file of ``folder``, locked; None where files cannot be locked (the folder is unclaimed:
    kept by others).  Locked under a temporary name and then renamed: under its own name, a claim is always held
    until its process ends (else another extraction could lock it between its creation and its lock)."""
    if fcntl is None:
        return None
    tmp = folder / f"{CLAIM}.tmp"
    fh = open(tmp, "w", encoding="utf-8")  # noqa: SIM115  (held open while the extraction writes)
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh.write(f"extract-patches, process {os.getpid()} on {socket.gethostname()}\n")
        fh.flush()
        os.replace(tmp, folder / CLAIM)
    except OSError:
        fh.close()
        tmp.unlink(missing_ok=True)
        return None
    return fh


def remove_leftovers(out_dir: Path, command: str = "mammoview extract-patches") -> None:
    """Remove the ``.extract-*`` folders of ``out_dir`` that killed extractions left, saying so with their size;
    name the others (module docstring) and keep them."""
    if not out_dir.is_dir():
        return
    for folder in sorted(out_dir.glob(PREFIX + "*")):
        if folder.is_symlink() or not folder.is_dir():
            continue
        size = _size(folder)
        why_kept = _remove_if_left(folder)
        if why_kept is None:
            say(f"{command}: removed {folder} ({size}), left by an extraction that was killed")
        else:
            say(f"{command}: kept {folder} ({size}): {why_kept}")


def _remove_if_left(folder: Path) -> str | None:
    """Remove ``folder`` if its extraction has ended (its claim can be locked); else why it is kept."""
    unsure = "remove it if no extraction is writing it"
    if fcntl is None:
        return f"whether an extraction is writing it cannot be told on this system; {unsure}"
    try:
        fd = os.open(folder / CLAIM, os.O_RDWR)
    except FileNotFoundError:
        return f"no claim in it (an older mammoview's, or an extraction's just starting); {unsure}"
    except OSError as exc:
        return f"its claim could not be opened ({exc.strerror or exc}); {unsure}"
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip()
            return f"an extraction is writing it ({holder or 'its claim is locked'})"
        except OSError as exc:
            return f"its claim could not be locked ({exc.strerror or exc}); {unsure}"
        shutil.rmtree(folder, ignore_errors=True)  # (its claim held: no other extraction removes it meanwhile)
        return "it could not be removed (wholly)" if folder.exists() else None
    finally:
        os.close(fd)


def _size(folder: Path) -> str:
    """The size of the files under ``folder``, for a person (1000-based, as ``du --si``)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    value, unit = float(total), "bytes"
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{total} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
