"""Crash-safe file writes shared by the layers (model manifest and weights, reader state)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, exclusive: bool = False, private: bool = True) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync, then ``os.replace``.

    A crash mid-write leaves either the old file or the new one, never half of it.  ``exclusive``: never replace a
    file; the temporary file is hard-linked into place, which raises FileExistsError when ``path`` exists (two
    writers at once: the first one's file stays).  Where the file system has no hard links (FAT, some network
    shares) it is moved into place after checking that no file is there (FileExistsError otherwise).  ``private``:
    mode 0600 (the app data: reads, the pseudonym secret); else the mode any new file gets under the user's umask
    (a command's output, a model).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if not private:
            os.chmod(tmp, 0o666 & ~user_umask())
        if not exclusive:
            os.replace(tmp, path)
        else:
            _place_new(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    sync_folder(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` (UTF-8) with the user's umask: a command's output file (a patch set's
    manifest, a split, an evaluation's metrics), whole or not there after a kill."""
    atomic_write_bytes(path, text.encode("utf-8"), private=False)


def _place_new(tmp: str, path: Path) -> None:
    """Put ``tmp`` at ``path`` where no file is (:func:`atomic_write_bytes` ``exclusive``)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here: moved into place, unless a file is there now (checked just before:
        if os.path.lexists(path):  # two writers at that very moment may still meet, as elsewhere without links)
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries to disk (POSIX): a file renamed or linked into it is there after a power cut, not
    only after a killed process (until then the rename may be undone, and the file before it come back).  Best
    effort: where a folder cannot be synced (Windows, some network file systems) the file is written all the same."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: bytes of a file's name kept in its temporary file's name: the temporary name (dot, name, dot, 8 random letters,
#: suffix) must stay within the 255 bytes a file name may have, however long the name being written is
TEMP_NAME_BYTES = 200


def temp_prefix(path: Path) -> str:
    """``.<name>.`` for the temporary file written beside ``path``, the name cut to :data:`TEMP_NAME_BYTES` bytes
    (:func:`cut_name`): a legal long name (240 bytes) must not fail as a temporary name over 255 bytes."""
    return f".{cut_name(path.name, TEMP_NAME_BYTES)}."


def name_bytes(text: str) -> bytes:
    """``text`` in UTF-8, where it may hold a file or folder name (a study keyed by its folder), for a hash: a name in
    bytes that are not UTF-8 (Latin-1 from an old share or CD) is held with surrogates, which plain encoding refused
    (UnicodeEncodeError); they are encoded as the code points they are, so each name hashes to its own value and any
    other text as before."""
    return text.encode("utf-8", "surrogatepass")


def cut_name(name: str, limit: int) -> str:
    """``name`` cut to at most ``limit`` bytes as the file system stores it, between characters (a file name may have
    255).  A name in bytes that are not UTF-8 (Latin-1 from an old share or CD), which Python holds as surrogate
    escapes, keeps those bytes: cut as UTF-8 text it raised UnicodeEncodeError."""
    raw = os.fsencode(name)
    if len(raw) <= limit:
        return name
    end = limit
    while end > 0 and raw[end] & 0xC0 == 0x80:  # the first byte left out continues a character: left out with it
        end -= 1
    return os.fsdecode(raw[:end])


def user_umask() -> int:
    """The process's umask, read without changing it (Linux: /proc; elsewhere the usual 022)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022
