"""Crash-safe file writes shared by the layers (model manifest and weights, reader state)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder (mode 0600), fsync, then ``os.replace``.

    A crash mid-write leaves either the old file or the new one, never half of it.  ``exclusive``: never replace a
    file; the temporary file is hard-linked into place, which raises FileExistsError when ``path`` exists (two
    writers at once: the first one's file stays).  Where the file system has no hard links (FAT, some network
    shares) it is replaced into place instead.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # no hard links here
            os.replace(tmp, path)
            return
        os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
