"""A file that cannot be opened (permission denied: `chmod 000`, a file owned by another user, a share's ACL; or one
moved away after the scan) is one line naming it, 'cannot read: Permission denied', wherever it is met: reading its
header, decoding its pixels after the scan, or scanning the folder that holds it (whose other images still load).
The tests run as root, whom permissions never stop: the refusal is made by ``open``."""

from __future__ import annotations

import builtins
import errno
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.uid import RLELossless

from mammoview.io import LoadError, load_study, open_paths, read_image, read_info, scan_paths
from mammoview.io.reader import decode
from tests.io.conftest import MakeFile
from tests.io.test_bad_input import assert_one_line
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

Lock = Callable[..., None]


@pytest.fixture()
def lock(monkeypatch: pytest.MonkeyPatch) -> Lock:
    """``lock(*paths, error=errno.EACCES)``: opening any of them fails as for a user the permissions refuse."""
    locked: dict[Path, int] = {}
    real = builtins.open

    def refusing_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and (code := locked.get(Path(os.path.realpath(file)))) is not None:
            raise OSError(code, os.strerror(code), os.fspath(file))  # (PermissionError for EACCES)
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing_open)
    monkeypatch.setattr(io, "open", refusing_open)  # (Path.open, which pydicom uses)

    def lock_paths(*paths: Path, error: int = errno.EACCES) -> None:
        locked.update({Path(os.path.realpath(p)): error for p in paths})

    return lock_paths


@pytest.fixture()
def files(write_dcm: MakeFile, write_raster: MakeFile, tmp_path: Path) -> dict[str, Path]:
    """One image of each reader path: native and RLE DICOM, PNG (counted here, then Pillow), JPEG (Pillow), PGM
    (parsed here)."""
    ds = mammo_dataset(synthetic_breast(64, 48), laterality="R")
    ds.compress(RLELossless, encoding_plugin="pydicom")
    grey = synthetic_breast(64, 48, max_value=255, dtype=np.uint8)
    return {
        "native": write_dcm("native.dcm"),
        "rle": write_dataset(ds, tmp_path / "rle.dcm"),
        "png": write_raster("mias_LEFT_CC.png", grey),
        "jpeg": write_raster("mias_LEFT_MLO.jpg", grey),
        "pgm": write_raster("mias_RIGHT_CC.pgm", grey),
    }


KINDS = ["native", "rle", "png", "jpeg", "pgm"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("read", [read_info, read_image], ids=["read_info", "read_image"])
def test_an_unreadable_file_is_one_line(
    files: dict[str, Path], lock: Lock, kind: str, read: Callable[[Path], Any]
) -> None:
    lock(files[kind])
    with pytest.raises(LoadError) as exc:
        read(files[kind])
    assert_one_line(exc.value, files[kind], "cannot read: Permission denied")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("error", [errno.EACCES, errno.ENOENT, errno.EIO], ids=["denied", "gone", "io-error"])
def test_a_file_unreadable_after_the_scan_says_so_when_decoded(
    files: dict[str, Path], lock: Lock, kind: str, error: int
) -> None:
    """Read at the scan, refused at the decode (its permissions changed, the share's ticket expired, it was moved
    away): it was 'cannot decode pixel data (PermissionError: [Errno 13] Permission denied: '<the path again>')' or
    'cannot decode PNG (...)', as if its data were damaged."""
    info = read_info(files[kind])
    lock(files[kind], error=error)
    with pytest.raises(LoadError) as exc:
        decode(info)
    assert_one_line(exc.value, files[kind], f"cannot read: {os.strerror(error)}")
    assert "decode" not in exc.value.reason and str(files[kind]) not in exc.value.reason


def test_a_folder_scan_reports_an_unreadable_file_and_reads_the_others(files: dict[str, Path], lock: Lock) -> None:
    lock(files["rle"], files["png"])
    result = scan_paths([files["native"].parent])
    assert sorted(i.path.name for i in result.images) == ["mias_LEFT_MLO.jpg", "mias_RIGHT_CC.pgm", "native.dcm"]
    assert sorted(e.path.name for e in result.errors) == ["mias_LEFT_CC.png", "rle.dcm"]
    for err in result.errors:
        assert_one_line(err, err.path, "cannot read: Permission denied")


def test_a_study_whose_file_turned_unreadable_loads_its_other_views(
    write_dcm: MakeFile, tmp_path: Path, lock: Lock
) -> None:
    views = {v: write_dcm(f"{v}.dcm", laterality=v[0], view=v[1:], study_uid="1.2.3") for v in ("RCC", "LCC")}
    (study,), errors = open_paths([tmp_path])
    assert not errors
    lock(views["LCC"])
    loaded = load_study(study)
    assert [i.path for i in loaded.images] == [views["RCC"]]
    (err,) = loaded.errors
    assert_one_line(err, views["LCC"], "cannot read: Permission denied")
