"""The CAD SR when two files carry one SOP Instance UID, and `detect --sr` run again."""

from __future__ import annotations

import shutil
from pathlib import Path

import highdicom as hd
import pydicom
import pytest

from mammoview.cad.sr import SrError, study_sr, write_sr
from mammoview.cad.types import Finding, FindingKind, ImageCadResult
from mammoview.io.model import View
from tests.cad.test_sr_interop import MODEL, PIXELS, _models, _result
from tests.synthetic import mammo_dataset, write_dataset


def _roi_refs(path: Path) -> list[str]:
    sr = hd.sr.srread(path)
    return [g.roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            for g in sr.content.get_planar_roi_measurement_groups()]  # fmt: skip


def test_a_copy_of_an_image_does_not_report_its_findings_twice(tmp_path):
    """The same DICOM file in two folders (a copy beside the original, which the viewer names as 'the same image
    twice'): `detect --sr` and the viewer's export wrote every finding twice on the one image, each with its own
    tracking UID, so a PACS draws two marks per finding and counts twice as many."""
    a = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "a" / "lcc.dcm")
    b = tmp_path / "b" / "lcc.dcm"
    b.parent.mkdir()
    shutil.copy(a, b)
    refs = _roi_refs(write_sr(study_sr([_result(a), _result(b)], MODEL), tmp_path / "sr.dcm"))
    assert len(refs) == 1, refs


def test_two_different_images_sharing_one_sop_instance_uid_are_refused(tmp_path):
    """A broken export that gave two images one UID: the SR put the second image's findings (other places) on the
    first image's reference, where a PACS draws them on the wrong picture."""
    ds = mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3")
    a = write_dataset(ds, tmp_path / "lcc.dcm")
    ds2 = mammo_dataset(PIXELS, "L", "MLO", study_uid="1.2.3")
    ds2.SOPInstanceUID = ds.SOPInstanceUID
    ds2.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    b = write_dataset(ds2, tmp_path / "lmlo.dcm")
    other = Finding(FindingKind.MASS, 0.8, 0.3, (30.0, 40.0), (25.0, 35.0, 35.0, 45.0))
    rb = ImageCadResult(path=str(b), width=40, height=60, view=View.LMLO, pixel_spacing=(0.1, 0.1),
                        spacing_source="test", abnormal=0.8, malignant=0.3, findings=(other,))  # fmt: skip
    with pytest.raises(SrError, match="SOP Instance UID"):
        study_sr([_result(a), rb], MODEL)


@pytest.mark.parametrize("hard_links", [True, False])
def test_detect_sr_run_again_does_not_silently_replace_the_earlier_sr(tmp_path, monkeypatch, bright_model,
                                                                      breast_with_blob, hard_links):  # fmt: skip
    """`detect --sr DIR` names each SR by a hash of its study: a second run on the same study (another
    threshold, model, or the study's other images) replaced the first SR without a word; on a file system without
    hard links (a FAT/exFAT stick, some network shares: a common way to carry SRs to a PACS) it still did."""
    import os

    from mammoview.cli import main

    def no_links(src, dst):  # type: ignore[no-untyped-def]
        raise PermissionError(1, "Operation not permitted")  # FAT, some network shares

    _models(tmp_path, monkeypatch, bright_model)
    src = write_dataset(mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.3"),
                        tmp_path / "in" / "lcc.dcm")  # fmt: skip
    if not hard_links:
        monkeypatch.setattr(os, "link", no_links)
    argv = ["detect", str(src), "--json", str(tmp_path / "d.json"), "--quiet", "--sr", str(tmp_path / "sr")]
    assert main([*argv, "--threshold", "0.05"]) == 0
    (first,) = (tmp_path / "sr").iterdir()
    uid = pydicom.dcmread(first).SOPInstanceUID
    assert main([*argv, "--threshold", "0.5"]) == 0
    assert pydicom.dcmread(first).SOPInstanceUID == uid  # the first run's SR is still there
    assert {p.name for p in (tmp_path / "sr").iterdir()} == {first.name, first.stem + "-2.dcm"}


@pytest.mark.parametrize("raw", [False, True])
def test_the_sr_says_its_finding_threshold_and_whether_the_malignancy_is_calibrated(tmp_path, raw):
    """A PACS user read the SR's Probability of cancer without knowing whether it was the calibrated value the viewer
    shows or `detect --raw-malignancy`'s network output, nor at which threshold the findings were cut."""
    from dataclasses import replace

    path = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "lcc.dcm")
    result = replace(_result(path), threshold=0.813)
    from mammoview.cad.calibration import MalignancyCalibration

    model = replace(MODEL, malignancy_calibration=MalignancyCalibration(1.0, 0.0))  # (a model without one: raw)
    sr = pydicom.dcmread(write_sr(study_sr([result], model, raw_malignancy=raw), tmp_path / "sr.dcm"))
    params: set[str] = set()

    def walk(items) -> None:  # type: ignore[no-untyped-def]
        for item in items:  # DCM 111002 Algorithm Parameters, anywhere in the content tree
            if item.get("ValueType") == "TEXT" and item.ConceptNameCodeSequence[0].CodeValue == "111002":
                params.add(str(item.TextValue))
            walk(item.get("ContentSequence", []))

    walk(sr.ContentSequence)
    assert "finding threshold 0.813" in params
    assert ("malignancy: network output, not calibrated" in params) is raw
    assert ("malignancy: calibrated" in params) is (not raw)
