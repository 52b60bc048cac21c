"""`detect --sr DIR` into a folder on a file system without hard links (a FAT/exFAT stick, some network shares: a
common way to carry SRs to a PACS): the second run on the same study replaced the first run's SR without a word,
where the README promises that an earlier run's SR is kept and the new one written as `...-2.dcm`."""

from __future__ import annotations

import os

import pydicom

from tests.cad.test_sr_interop import _models
from tests.synthetic import mammo_dataset, write_dataset


def test_detect_sr_run_again_keeps_the_earlier_sr_without_hard_links(tmp_path, monkeypatch, bright_model,
                                                                      breast_with_blob):  # fmt: skip
    from mammoview.cli import main

    def no_links(src, dst):  # type: ignore[no-untyped-def]
        raise PermissionError(1, "Operation not permitted")  # FAT, some network shares

    _models(tmp_path, monkeypatch, bright_model)
    src = write_dataset(mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.3"),
                        tmp_path / "in" / "lcc.dcm")  # fmt: skip
    monkeypatch.setattr(os, "link", no_links)
    argv = ["detect", str(src), "--json", str(tmp_path / "d.json"), "--quiet", "--sr", str(tmp_path / "sr")]
    assert main([*argv, "--threshold", "0.05"]) == 0
    (first,) = (tmp_path / "sr").iterdir()
    uid = pydicom.dcmread(first).SOPInstanceUID
    assert main([*argv, "--threshold", "0.5"]) == 0
    assert pydicom.dcmread(first).SOPInstanceUID == uid  # the first run's SR is still there
    assert {p.name for p in (tmp_path / "sr").iterdir()} == {first.name, first.stem + "-2.dcm"}
