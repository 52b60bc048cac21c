"""A view exposed twice (a retake after motion or poor positioning): the latest exposure hangs, the first stays
behind it (``alternatives``), and the warning names both with what ordered them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from mammoview.io import View, hang, load_study, open_paths
from mammoview.io.tags import date_and_time, dicom_datetime
from tests.io.conftest import MakeFile


def _exposure(number: int | None, **times: str) -> Callable[[Dataset], None]:
    def edit(ds: Dataset) -> None:
        if number is not None:
            ds.InstanceNumber = number
        for keyword, value in times.items():
            setattr(ds, keyword, value)

    return edit


def _hung(tmp_path: Path) -> tuple[str, list[str], str]:
    (info,), _ = open_paths([tmp_path])
    h = hang(load_study(info, max_workers=2))
    shown = h.panels[View.LCC]
    assert shown is not None
    claims = [w for w in h.warnings if "claim L CC" in w]
    assert len(claims) == 1
    return shown.path.name, [i.path.name for i in h.alternatives[View.LCC]], claims[0]


def test_the_retake_hangs_in_front_of_the_first_exposure(write_dcm: MakeFile, tmp_path: Path) -> None:
    write_dcm("lcc_1.dcm", study_uid="7.7", edit=_exposure(1, AcquisitionDateTime="20240102103001"))
    write_dcm("lcc_2.dcm", study_uid="7.7", edit=_exposure(2, AcquisitionDateTime="20240102103405.5"))
    shown, behind, warning = _hung(tmp_path)
    assert (shown, behind) == ("lcc_2.dcm", ["lcc_1.dcm"])
    assert warning == ("2 images claim L CC: showing lcc_2.dcm (acquired 2024-01-02 10:34:05); also lcc_1.dcm "
                       "(acquired 2024-01-02 10:30:01)")  # fmt: skip


def test_the_acquisition_time_decides_before_the_instance_number(write_dcm: MakeFile, tmp_path: Path) -> None:
    """Neither the lowest nor the highest Instance Number: the latest acquisition (numbers need not follow it)."""
    write_dcm("a.dcm", study_uid="7.7", edit=_exposure(1, AcquisitionDate="20240102", AcquisitionTime="1030"))
    write_dcm("b.dcm", study_uid="7.7", edit=_exposure(3, AcquisitionDate="20240102", AcquisitionTime="103405.25"))
    write_dcm("c.dcm", study_uid="7.7", edit=_exposure(5, AcquisitionDate="20240102", AcquisitionTime="103200"))
    assert _hung(tmp_path)[:2] == ("b.dcm", ["c.dcm", "a.dcm"])


def test_the_content_time_stands_in_for_a_missing_acquisition_time(write_dcm: MakeFile, tmp_path: Path) -> None:
    write_dcm("a.dcm", study_uid="7.7", edit=_exposure(1, ContentDate="20240102", ContentTime="103001"))
    write_dcm("b.dcm", study_uid="7.7", edit=_exposure(3, ContentDate="20240102", ContentTime="103405"))
    write_dcm("c.dcm", study_uid="7.7", edit=_exposure(5, ContentDate="20240102", ContentTime="103200"))
    assert _hung(tmp_path)[:2] == ("b.dcm", ["c.dcm", "a.dcm"])


def test_equal_times_and_no_times_go_by_the_highest_instance_number(write_dcm: MakeFile, tmp_path: Path) -> None:
    write_dcm("a.dcm", study_uid="7.7", edit=_exposure(1))
    write_dcm("b.dcm", study_uid="7.7", edit=_exposure(2))
    write_dcm("c.dcm", study_uid="7.7", edit=_exposure(None))  # no number either: behind the numbered ones
    shown, behind, warning = _hung(tmp_path)
    assert (shown, behind) == ("b.dcm", ["a.dcm", "c.dcm"])
    assert warning == "3 images claim L CC: showing b.dcm (Instance Number 2); also a.dcm (Instance Number 1), c.dcm"


def test_a_retake_does_not_displace_the_whole_breast_view(write_dcm: MakeFile, tmp_path: Path) -> None:
    """Recency orders exposures of one kind only: a later raw (FOR PROCESSING) image stays behind the processed one."""
    write_dcm("shown.dcm", study_uid="7.7", edit=_exposure(1, AcquisitionDateTime="20240102103001"))
    raw = _exposure(2, AcquisitionDateTime="20240102110000", PresentationIntentType="FOR PROCESSING")
    write_dcm("raw.dcm", study_uid="7.7", edit=raw)
    assert _hung(tmp_path)[:2] == ("shown.dcm", ["raw.dcm"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20240102103405.5+0100", "20240102103405.500000"),
        ("202401021034", "20240102103400.000000"),
        ("20240102", ""),  # a date alone orders no two exposures of one exam
        ("garbage", ""),
        ("", ""),
    ],
)
def test_datetime_values_are_normalised(value: str, expected: str) -> None:
    assert dicom_datetime(value) == expected


def test_date_and_time_values_are_joined() -> None:
    assert date_and_time("20240102", "10:34:05.25") == "20240102103405.250000"  # ACR-NEMA style time
    assert date_and_time("2024.01.02", "10") == "20240102100000.000000"  # ACR-NEMA style date
    assert date_and_time("20240102", "") == date_and_time("", "103405") == ""


def test_the_parts_of_a_large_breasts_view_keep_their_order(write_dcm: MakeFile, tmp_path: Path) -> None:
    """Partial View (0028,1350) YES: a large breast taken in two exposures is no retake; the whole view hangs, the
    parts behind it in the order they were taken."""
    write_dcm("part_1.dcm", study_uid="7.7", edit=_exposure(2, AcquisitionDateTime="20240102103001", PartialView="YES"))
    write_dcm("part_2.dcm", study_uid="7.7", edit=_exposure(3, AcquisitionDateTime="20240102103405", PartialView="YES"))
    write_dcm("whole.dcm", study_uid="7.7", edit=_exposure(1, AcquisitionDateTime="20240102102000"))
    assert _hung(tmp_path)[:2] == ("whole.dcm", ["part_1.dcm", "part_2.dcm"])
