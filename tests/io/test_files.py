"""Crash-safe writes: after :func:`atomic_write_bytes` returns, the new file survives a power cut, not only a
killed process."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from mammoview.io import files
from mammoview.io.files import atomic_write_bytes


@pytest.mark.skipif(sys.platform == "win32", reason="a folder cannot be opened to be synced on Windows")
@pytest.mark.parametrize("exclusive", [False, True])
def test_the_folder_is_synced_after_the_file_is_moved_into_place(tmp_path: Path, monkeypatch, exclusive: bool):
    """The rename (or link) that puts the file in place is an entry of its folder: until that folder is synced a
    power cut can bring back the previous file (a reader's last actions lost, though each said it was saved)."""
    target = tmp_path / "reads" / "read.json"
    synced: list[tuple[bool, bool]] = []  # (a folder, the target there yet) per fsync
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        synced.append((stat.S_ISDIR(st.st_mode) and st.st_ino == target.parent.stat().st_ino, target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    atomic_write_bytes(target, b"{}", exclusive=exclusive)
    assert target.read_bytes() == b"{}"
    assert (True, True) in synced  # its folder, synced once the file was there
