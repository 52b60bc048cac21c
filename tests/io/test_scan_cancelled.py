"""A folder scan stops within one file once it is cancelled (a viewer closed, or another folder opened, while a
PACS export of thousands of files is read): closing the window waited for the whole scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from mammoview.gui.background_jobs import JobCancelled
from mammoview.gui.loader import scan_job
from mammoview.io import scan, scan_paths
from tests.io.conftest import MakeFile


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files whose headers the scan read."""
    read: list[Path] = []
    original = scan.read_info

    def reading(path, spacing):  # type: ignore[no-untyped-def]
        read.append(path)
        return original(path, spacing)

    monkeypatch.setattr(scan, "read_info", reading)
    return read


def test_a_cancelled_scan_stops_within_one_file_and_returns_what_it_read(
    write_dcm: MakeFile, tmp_path: Path, counted: list[Path]
) -> None:
    files = [write_dcm(f"export/series{i // 4}/{i}.dcm") for i in range(12)]
    result = scan_paths([tmp_path / "export"], cancelled=lambda: len(counted) >= 3)
    assert len(counted) == 3 and [i.path for i in result.images] == files[:3]
    counted.clear()
    assert len(scan_paths([tmp_path / "export"]).images) == 12 and len(counted) == 12  # not cancelled: all


def test_a_scan_cancelled_before_it_lists_a_folder_reads_nothing(
    write_dcm: MakeFile, tmp_path: Path, counted: list[Path]
) -> None:
    write_dcm("export/a.dcm")
    result = scan_paths([tmp_path / "export", tmp_path / "export" / "a.dcm"], cancelled=lambda: True)
    assert not counted and not result.images and not result.errors  # (no "no image files in this folder")


def test_the_viewers_scan_job_ends_as_cancelled_not_with_a_partial_worklist(
    write_dcm: MakeFile, tmp_path: Path, counted: list[Path]
) -> None:
    for i in range(6):
        write_dcm(f"export/{i}.dcm")
    with pytest.raises(JobCancelled):
        scan_job([tmp_path / "export"], None)(lambda _msg: None, lambda: len(counted) >= 2)
    assert len(counted) == 2
