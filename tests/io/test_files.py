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


@pytest.mark.skipif(sys.platform == "win32", reason="Windows names are UTF-16: every name has a UTF-8 form")
@pytest.mark.parametrize("name", [b"lecture_\xe9.json", b"\xe9" * 250 + b".json"], ids=["latin-1", "latin-1-long"])
def test_a_file_whose_name_is_not_utf8_is_written(tmp_path: Path, name: bytes):
    """A name in Latin-1 bytes (old shares and CDs) is a legal file name, which Python holds with surrogate escapes;
    its temporary name was cut as UTF-8 text and the write failed ("'utf-8' codec can't encode character '\\udce9':
    surrogates not allowed"): `detect --json` to such a name lost the run's results."""
    target = tmp_path / os.fsdecode(name)
    atomic_write_bytes(target, b"{}")
    assert (tmp_path / os.fsdecode(name)).read_bytes() == b"{}" and os.listdir(os.fsencode(tmp_path)) == [name]
