"""The CAD SR as a PACS reads it: character sets, blanked UIDs, malformed optional values, files without the
DICM preamble, one SR per DICOM study, the detect summary, CID 6000 meanings."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.data import get_charset_files

from mammoview.cad.sr import SrError, study_sr, write_sr
from mammoview.cad.types import BreastScore, DensityResult, Finding, FindingKind, ImageCadResult, ModelInfo
from mammoview.io.model import Laterality, View
from tests.synthetic import mammo_dataset, write_dataset

MODEL = ModelInfo("test-model", "1.0", "a" * 64)
PIXELS = np.zeros((60, 40), np.uint16)


def _result(path: Path | str, view: View | None = View.LCC) -> ImageCadResult:
    calc = Finding(FindingKind.CALCIFICATION, 0.9, 0.5, (10.0, 20.0), (5.0, 15.0, 15.0, 25.0))
    return ImageCadResult(path=str(path), width=40, height=60, view=view, pixel_spacing=(0.1, 0.1),
                          spacing_source="test", abnormal=0.9, malignant=0.5, findings=(calc,))  # fmt: skip


def _tracking_ids(sr: pydicom.Dataset) -> list[str]:
    groups = sr.ContentSequence[-1].ContentSequence  # Imaging Measurements
    return [str(i.TextValue) for g in groups for i in g.ContentSequence if i.ValueType == "TEXT"
            and i.ConceptNameCodeSequence[0].CodeValue == "112039"]  # fmt: skip


@pytest.mark.parametrize("name", ["chrH31.dcm", "chrI2.dcm", "chrJapMulti.dcm", "chrKoreanMulti.dcm"])
def test_a_japanese_or_korean_study_gets_its_sr_with_the_patient_name_intact(name, tmp_path):
    """'\\ISO 2022 IR 87' (Japanese) and '\\ISO 2022 IR 149' (Korean), the usual character sets of those
    countries' modalities, start with an empty value; highdicom refused that and no SR could be written."""
    (src,) = get_charset_files(name)
    source = pydicom.dcmread(src)
    out = write_sr(study_sr([_result(src)], MODEL), tmp_path / "sr.dcm")
    back = pydicom.dcmread(out)
    assert str(back.PatientName) == str(source.PatientName)
    assert back.StudyInstanceUID == source.StudyInstanceUID


def test_a_file_name_outside_the_source_character_set_is_kept_in_the_tracking_identifier(tmp_path):
    """An image of unknown view is named by its file in the SR; a Latin-1 study's SR wrote a Greek or
    Japanese file name as '????'."""
    ds = mammo_dataset(PIXELS, None, None, patient_name="Müller^Zoë")
    ds.SpecificCharacterSet = "ISO_IR 100"
    path = write_dataset(ds, tmp_path / "μαστογραφία.dcm")
    back = pydicom.dcmread(write_sr(study_sr([_result(path, view=None)], MODEL), tmp_path / "sr.dcm"))
    assert _tracking_ids(back)[0] == "μαστογραφία.dcm CAD finding 1"
    assert str(back.PatientName) == "Müller^Zoë"


@pytest.mark.parametrize("keyword", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
@pytest.mark.parametrize("blanked", [True, False])
def test_a_blanked_uid_is_refused_not_written_as_an_empty_reference(keyword, blanked, tmp_path):
    """Anonymisers that blank UIDs leave the element present and empty: the SR was written with an empty
    (Type 1) Study Instance UID, referencing an image by an empty SOP Instance UID, or listing its evidence under
    an empty (Type 1) Series Instance UID; a missing Series Instance UID was 'AttributeError: ...'."""
    ds = mammo_dataset(PIXELS, "L", "CC")
    if blanked:
        setattr(ds, keyword, "")
    else:
        delattr(ds, keyword)
    path = tmp_path / "a.dcm"
    pydicom.dcmwrite(path, ds)
    with pytest.raises(SrError, match=f"no {keyword}"):
        study_sr([_result(path)], MODEL)


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("StudyDate", "2016-10-04"),
        ("StudyTime", "13:25:32"),
        ("PatientSex", "Female"),
        ("PatientBirthDate", "19600000"),
    ],
)
def test_a_malformed_type2_value_of_the_source_does_not_stop_the_sr(keyword, value, tmp_path):
    """The viewer and `detect` read such legacy files; the SR was refused ('cannot build the SR: ValueError:
    Unable to convert ...') for a Type 2 attribute it may leave empty."""
    ds = mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3")
    path = tmp_path / "a.dcm"
    with warnings.catch_warnings():  # pydicom warns of the invalid value it is told to write
        warnings.simplefilter("ignore", UserWarning)
        setattr(ds, keyword, value)
        pydicom.dcmwrite(path, ds)
    back = pydicom.dcmread(write_sr(study_sr([_result(path)], MODEL), tmp_path / "sr.dcm"))
    assert back.StudyInstanceUID == "1.2.3" and keyword in back


def test_a_dicom_file_without_the_dicm_preamble_gets_an_sr(tmp_path):
    """The reader opens DICOM files without the 128-byte preamble (forced read); the SR said of the same
    file 'not a DICOM file ... a DICOM SR can only reference DICOM images'."""
    ds = mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3")
    ds.preamble = None
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    path = tmp_path / "raw.dcm"
    ds.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=False)
    from mammoview.io.dicom import read_dicom_info

    assert read_dicom_info(path).meta.study_uid == "1.2.3"  # the viewer reads it
    back = pydicom.dcmread(write_sr(study_sr([_result(path)], MODEL), tmp_path / "sr.dcm"))
    assert back.StudyInstanceUID == "1.2.3"


def test_breast_composition_codes_carry_the_meanings_of_cid_6000(tmp_path):
    """Category a was written as 'Almost entirely fat breast composition (finding)' (a SNOMED fully specified
    name), b-d as CID 6000's 'Scattered fibroglandular densities' ... 'Extremely dense'."""
    path = write_dataset(mammo_dataset(PIXELS, "L", "CC"), tmp_path / "a.dcm")
    fatty = DensityResult((0.7, 0.1, 0.1, 0.1))
    breasts = {Laterality.LEFT: BreastScore(Laterality.LEFT, 0.1, 0.1, 1, density=fatty)}
    sr = study_sr([_result(path)], MODEL, breasts, density_model=ModelInfo("test-density", "0.1", "d" * 64))
    sr = hd.sr.srread(write_sr(sr, tmp_path / "sr.dcm"))
    (group,) = [g for g in sr.content.get_image_measurement_groups() if not g.get_measurements()]
    (evaluation,) = group.get_qualitative_evaluations()
    assert (evaluation.value.value, evaluation.value.meaning) == ("129716005", "Almost entirely fat")


def test_detect_writes_one_sr_per_dicom_study_of_a_cbis_ddsm_patient(tmp_path, monkeypatch, bright_model,
                                                                       breast_with_blob):  # fmt: skip
    """CBIS-DDSM gives each view its own PatientID and StudyInstanceUID; mammoview groups them by patient.
    The one SR took the first image's patient and study: the other views' findings pointed to images of another
    patient ID in other studies (Pertinent Other Evidence), which a PACS files and shows apart from the SR."""
    paths = []
    for side in ("LEFT", "RIGHT"):
        ds = mammo_dataset(breast_with_blob, side[0], "CC", pixel_spacing=(0.25, 0.25),
                           patient_id=f"Mass-Test_P_00820_{side}_CC")  # fmt: skip
        paths.append(write_dataset(ds, tmp_path / "in" / f"{side}.dcm"))
    _models(tmp_path, monkeypatch, bright_model)
    from mammoview.cli import main

    argv = ["detect", str(tmp_path / "in"), "--json", str(tmp_path / "d.json"), "--quiet", "--threshold", "0.05"]
    assert main([*argv, "--sr", str(tmp_path / "sr")]) == 0
    srs = [pydicom.dcmread(p) for p in sorted((tmp_path / "sr").iterdir())]
    assert sorted(str(sr.PatientID) for sr in srs) == sorted(str(pydicom.dcmread(p).PatientID) for p in paths)
    for sr in srs:  # each SR references only the images of its own study and patient
        assert "PertinentOtherEvidenceSequence" not in sr


def _models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bright_model) -> None:  # type: ignore[no-untyped-def]
    from mammoview.cad.weights import save_model
    from tests.cad.conftest import bright_net

    models = tmp_path / "models"
    save_model(bright_net(), bright_model.entry, models)
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(models))


def test_the_detect_summary_counts_the_images_analysed_not_minus_the_failed_srs(
    tmp_path, capsys, monkeypatch, bright_model, breast_with_blob
):
    """A study whose SR cannot be written (a PNG) is one error, but the summary also took it off the images:
    '1 image(s), ... 1 error(s)' for two images analysed."""
    from matplotlib.image import imsave

    from mammoview.cli import main

    _models(tmp_path, monkeypatch, bright_model)
    dcm = write_dataset(
        mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25)), tmp_path / "in" / "lcc.dcm"
    )
    png = tmp_path / "png" / "flat.png"
    png.parent.mkdir()
    imsave(png, np.zeros((64, 48)), cmap="gray")
    out = tmp_path / "d.json"
    assert main(["detect", str(dcm), str(png), "--json", str(out), "--sr", str(tmp_path / "sr")]) == 1
    assert len([e for e in json.loads(out.read_text())["images"] if "error" not in e]) == 2
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.startswith("2 image(s),") and "1 error(s)" in summary, summary


def test_a_forced_read_of_a_non_dicom_file_is_still_said_to_be_not_dicom(tmp_path):
    png = tmp_path / "x.png"
    shutil.copy(Path(__file__), png)  # any non-DICOM bytes
    with pytest.raises(SrError, match="not a DICOM file"):
        study_sr([_result(png)], MODEL)
