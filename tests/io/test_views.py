"""View and laterality: every rule, in order, with the source it reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sr._cid_dict import cid_concepts
from pydicom.sr._concepts_dict import concepts
from pydicom.sr._snomed_dict import mapping as snomed_mapping

from mammoview.io import Laterality, Projection, View, read_info
from mammoview.io.views import MODIFIER_CODES, VIEW_CODES, decide, match_name
from tests.io.conftest import MakeFile
from tests.synthetic import code_item, mammo_dataset, synthetic_breast

PX = synthetic_breast(40, 30)
NOWHERE = Path("/data/image.dcm")


def ds_with(**kw: object) -> Dataset:
    """A dataset with neither laterality nor view unless given."""
    ds = mammo_dataset(PX, laterality=None, view=None)
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


# --- laterality ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "value", "source"),
    [
        ({"ImageLaterality": "L"}, Laterality.LEFT, "ImageLaterality (0020,0062)"),
        ({"Laterality": "R"}, Laterality.RIGHT, "Laterality (0020,0060)"),
        ({"ImageLaterality": "R", "Laterality": "L"}, Laterality.RIGHT, "ImageLaterality (0020,0062)"),
        ({"ImageLaterality": "B", "Laterality": "L"}, Laterality.LEFT, "Laterality (0020,0060)"),
    ],
)
def test_laterality_tags_in_order(tags: dict[str, str], value: Laterality, source: str) -> None:
    lat, _ = decide(ds_with(**tags), NOWHERE)
    assert (lat.value, lat.source) == (value, source)


@pytest.mark.parametrize("group", ["SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"])
def test_frame_laterality_in_functional_groups(group: str) -> None:
    anatomy = Dataset()
    anatomy.FrameLaterality = "L"
    fg = Dataset()
    fg.FrameAnatomySequence = [anatomy]
    lat, _ = decide(ds_with(**{group: [fg]}), NOWHERE)
    assert lat.value is Laterality.LEFT
    assert lat.source == "FrameLaterality (0020,9072)"
    assert ("shared" in lat.detail) == (group.startswith("Shared"))


def test_unknown_stays_unknown_and_says_why() -> None:
    lat, proj = decide(ds_with(ImageLaterality="B"), NOWHERE)
    assert lat.value is None and lat.source == "not found" and "'B'" in lat.detail
    assert proj.value is None and proj.source == "not found"
    assert not lat.known
    assert proj.describe().startswith("unknown (not found)") and lat.describe().startswith("unknown (not found) (")


# --- projection ---------------------------------------------------------------------


@pytest.mark.parametrize("projection", list(VIEW_CODES))
@pytest.mark.parametrize("designator", ["SRT", "SNM3", "SCT"])
def test_view_code_sequence_every_code_and_designator(projection: Projection, designator: str) -> None:
    srt, sct = VIEW_CODES[projection]
    code = sct if designator == "SCT" else srt
    _, proj = decide(ds_with(ViewCodeSequence=[code_item(designator, code, "m")], ViewPosition="CC"), NOWHERE)
    assert proj.value is projection
    assert proj.source == "ViewCodeSequence (0054,0220)"
    assert code in proj.detail


def test_view_code_table_matches_dicom_cid_4014() -> None:
    """Our table equals PS3.16 CID 4014 as shipped in pydicom (SCT codes), and SRT maps to the same concepts."""
    sct_in_cid = {code for name in cid_concepts[4014]["SCT"] for code in concepts["SCT"][name]}
    specimen = "127457009"  # "tissue specimen from breast": in CID 4014, but not a view we hang
    assert {sct for _, sct in VIEW_CODES.values()} == sct_in_cid - {specimen}
    srt_to_sct = snomed_mapping["SRT"]
    for srt, sct in (*VIEW_CODES.values(), *MODIFIER_CODES.values()):
        assert srt_to_sct[srt] == sct


def test_view_modifier_is_reported() -> None:
    item = code_item("SRT", "R-10226", "medio-lateral oblique")
    item.ViewModifierCodeSequence = [code_item("SRT", "R-102D1", "Axillary Tail")]
    _, proj = decide(ds_with(ViewCodeSequence=[item]), NOWHERE)
    assert proj.value is Projection.MLO and "Axillary Tail" in proj.detail


def test_unknown_view_code_falls_through_to_view_position() -> None:
    ds = ds_with(ViewCodeSequence=[code_item("SCT", "127457009", "tissue specimen")], ViewPosition="MLO")
    _, proj = decide(ds, NOWHERE)
    assert proj.value is Projection.MLO and proj.source == "ViewPosition (0018,5101)"


@pytest.mark.parametrize(
    ("value", "projection"),
    [("CC", Projection.CC), ("MLO", Projection.MLO), ("XCCL", Projection.XCCL), ("L MLO", Projection.MLO)],
)
def test_view_position(value: str, projection: Projection) -> None:
    _, proj = decide(ds_with(ViewPosition=value, PatientOrientation="CC"), NOWHERE)
    assert (proj.value, proj.source, proj.detail) == (projection, "ViewPosition (0018,5101)", value)


@pytest.mark.parametrize(
    ("value", "side", "projection"),
    [("RCCID", Laterality.RIGHT, Projection.CC), ("L MLO ID", Laterality.LEFT, Projection.MLO),
     ("CCID", None, Projection.CC)],
)  # fmt: skip
def test_acr_implant_displaced_view_labels(value: str, side: Laterality | None, projection: Projection) -> None:
    """An implant-displaced (Eklund) view labelled as the ACR names it (``RCCID``) hangs in its slot and says so."""
    from mammoview.io.views import view_modifiers

    ds = ds_with(ViewPosition=value)
    lat, proj = decide(ds, NOWHERE)
    assert (lat.value, proj.value) == (side, projection)
    assert view_modifiers(ds) == ("implant displaced",)
    assert view_modifiers(ds_with(ViewPosition="RCC")) == ()


@pytest.mark.parametrize(("value", "projection"), [("CC", Projection.CC), ("MLO", Projection.MLO)])
def test_patient_orientation_holding_a_view_cbis_quirk(value: str, projection: Projection) -> None:
    _, proj = decide(ds_with(PatientOrientation=value), NOWHERE)
    assert (proj.value, proj.source) == (projection, "PatientOrientation (0020,0020)")


def test_real_patient_orientation_pair_is_not_a_view() -> None:
    _, proj = decide(ds_with(PatientOrientation=["A", "R"]), NOWHERE)
    assert proj.value is None


# --- names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "laterality", "projection", "rule"),
    [
        ("Mass-Training_P_00001_LEFT_CC", Laterality.LEFT, Projection.CC, "_LEFT_CC"),
        ("Calc-Test_P_00038_RIGHT_MLO", Laterality.RIGHT, Projection.MLO, "_RIGHT_MLO"),
        ("00001_RIGHT_CC", Laterality.RIGHT, Projection.CC, "_RIGHT_CC"),
        ("20586908_6c613a14b80a8591_MG_R_CC_ANON", Laterality.RIGHT, Projection.CC, "INbreast _MG_R_CC_"),
        ("20586934_6c613a14b80a8591_MG_L_ML_ANON", Laterality.LEFT, Projection.MLO, "INbreast _MG_L_ML_"),
        ("mdb001", Laterality.RIGHT, Projection.MLO, "mini-MIAS mdbNNN (odd = right)"),
        ("mdb002", Laterality.LEFT, Projection.MLO, "mini-MIAS mdbNNN (even = left)"),
        ("patient7_RCC", Laterality.RIGHT, Projection.CC, "R CC token"),
        ("L_MLO", Laterality.LEFT, Projection.MLO, "L MLO token"),
    ],
)
def test_name_patterns(name: str, laterality: Laterality, projection: Projection, rule: str) -> None:
    m = match_name(name)
    assert m is not None
    assert (m.laterality, m.projection, m.rule) == (laterality, projection, rule)


@pytest.mark.parametrize("name", ["image", "scan_0001", "mdb", "CLCC", "mdb0012", "RIGHTCC"])
def test_names_without_a_pattern(name: str) -> None:
    assert match_name(name) is None


def test_file_name_folder_and_patient_id_sources(tmp_path: Path) -> None:
    lat, proj = decide(None, Path("/x/Mass-Test_P_00001_LEFT_MLO/1-1.dcm"))
    assert lat.source == proj.source == "folder name pattern _LEFT_MLO"
    lat, proj = decide(None, Path("/x/y/mdb003.png"))
    assert (lat.value, proj.value) == (Laterality.RIGHT, Projection.MLO)
    assert lat.source == "file name pattern mini-MIAS mdbNNN (odd = right)"
    assert "MLO views only" in proj.detail
    # mdbNNN is only a file-name rule: a folder called mdb002 says nothing
    assert decide(None, Path("/x/mdb002/scan.png"))[0].value is None
    ds = ds_with(PatientID="Mass-Test_P_00820_LEFT_CC")
    lat, proj = decide(ds, NOWHERE, [("PatientID (0010,0020)", "Mass-Test_P_00820_LEFT_CC")])
    assert (lat.value, proj.value, lat.source) == (
        Laterality.LEFT,
        Projection.CC,
        "PatientID (0010,0020) pattern _LEFT_CC",
    )


def test_tags_win_over_names() -> None:
    lat, proj = decide(ds_with(ImageLaterality="R", ViewPosition="MLO"), Path("/x/00001_LEFT_CC.dcm"))
    assert (lat.value, proj.value) == (Laterality.RIGHT, Projection.MLO)
    # a name fills in only what the tags leave open
    lat, proj = decide(ds_with(ImageLaterality="R"), Path("/x/00001_LEFT_CC.dcm"))
    assert (lat.value, lat.source) == (Laterality.RIGHT, "ImageLaterality (0020,0062)")
    assert (proj.value, proj.source) == (Projection.CC, "file name pattern _LEFT_CC")


def test_read_info_reports_decisions(write_dcm: MakeFile) -> None:
    path = write_dcm("a.dcm", laterality="R", view="MLO")
    info = read_info(path)
    assert info.view is View.RMLO
    assert info.laterality.describe() == "R from ImageLaterality (0020,0062) (R)"
    assert info.projection.describe() == "MLO from ViewPosition (0018,5101) (MLO)"


def test_real_cbis_dicoms(malign_dir: Path) -> None:
    info = read_info(malign_dir / "1-281.dcm")
    assert info.view is View.LMLO
    assert info.laterality.source == "Laterality (0020,0060)"
    assert info.projection.source == "PatientOrientation (0020,0020)"
