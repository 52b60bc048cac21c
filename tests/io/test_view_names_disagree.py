"""Names that disagree about the side or the view, with each other or with the tags: named, never hung silently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from mammoview.io import read_info
from mammoview.io.model import View
from tests.io.conftest import MakeFile


def test_patient_id_and_file_name_naming_other_sides_are_named(write_dcm: MakeFile) -> None:
    """No side or view tags; the PatientID says RIGHT CC, the file name LEFT CC: hung as R CC with no word."""
    info = read_info(write_dcm("Mass-Test_P_00001_LEFT_CC.dcm", laterality=None, view=None,
                               patient_id="Mass-Test_P_00001_RIGHT_CC"))  # fmt: skip
    assert info.view is View.RCC  # the first rule still decides
    assert any("PatientID (0010,0020) names R but file name names L" in w for w in info.warnings), info.warnings


def test_a_file_name_naming_the_other_side_than_the_tags_is_named(write_dcm: MakeFile) -> None:
    """ImageLaterality R and no view tag: the view came from a file name ``..._LEFT_CC`` that names the other side,
    and the image hung as R CC without a word."""
    info = read_info(write_dcm("P_00001_LEFT_CC.dcm", laterality="R", view=None))
    assert info.view is View.RCC
    assert any("ImageLaterality (0020,0062) R but file name names L" in w for w in info.warnings), info.warnings


def test_a_cbis_folder_naming_the_other_side_than_the_tags_is_named(write_dcm: MakeFile) -> None:
    info = read_info(write_dcm("Mass-Training_P_00001_LEFT_MLO/1-1.dcm", laterality="R", view="CC"))
    assert info.view is View.RCC
    said = " ".join(info.warnings)
    assert "ImageLaterality (0020,0062) R but folder name names L" in said, info.warnings
    assert "ViewPosition (0018,5101) CC but folder name names MLO" in said, info.warnings


def test_names_that_agree_with_the_tags_say_nothing(write_dcm: MakeFile) -> None:
    info = read_info(write_dcm("Mass-Training_P_00001_LEFT_CC/1-1.dcm", laterality="L", view="CC",
                               patient_id="Mass-Training_P_00001_LEFT_CC"))  # fmt: skip
    assert info.view is View.LCC
    assert not any("names" in w for w in info.warnings), info.warnings


def test_a_raster_whose_file_and_folder_names_disagree_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "Calc-Test_P_00038_RIGHT_CC"
    folder.mkdir()
    png = folder / "P_00038_LEFT_CC.png"
    Image.fromarray(np.zeros((40, 30), np.uint8)).save(png)
    info = read_info(png)
    assert info.view is View.LCC
    assert any("file name names L but folder name names R" in w for w in info.warnings), info.warnings


def test_a_view_code_sequence_of_two_disagreeing_views_is_named() -> None:
    """Two items in the View Code Sequence (Type 1, one item), cranio-caudal and medio-lateral oblique: the first
    decided, the second was never looked at."""
    from pydicom.dataset import Dataset

    from mammoview.io.views import conflicts, decide
    from tests.synthetic import code_item

    ds = Dataset()
    ds.ViewCodeSequence = [code_item("SCT", "399162004", "cranio-caudal"),
                           code_item("SCT", "399368009", "medio-lateral oblique")]  # fmt: skip
    _, proj = decide(ds, Path("/x/1.dcm"))
    assert proj.value is not None and proj.value.value == "CC"
    assert any("ViewCodeSequence (0054,0220) CC but ViewCodeSequence (0054,0220) item 2 MLO" in c
               for c in conflicts(ds)), conflicts(ds)  # fmt: skip


def test_an_unusable_image_laterality_overridden_by_the_series_laterality_is_named() -> None:
    """ImageLaterality B (both breasts), R\\L or RIGHT beside Laterality L: hung as the left breast, the image's own
    tag that says otherwise was only in `info`'s detail when nothing decided."""
    from pydicom.dataset import Dataset

    from mammoview.io.views import conflicts, decide

    for value in ("B", "R\\L", "RIGHT"):
        ds = Dataset()
        ds.ImageLaterality, ds.Laterality, ds.ViewPosition = value, "L", "CC"
        lat, _ = decide(ds, Path("/x/1.dcm"))
        assert lat.source == "Laterality (0020,0060)"
        said = conflicts(ds)
        assert any("ImageLaterality (0020,0062)" in c and repr(value) in c and "Laterality (0020,0060) L" in c
                   for c in said), (value, said)  # fmt: skip


def test_a_view_code_under_the_other_snomed_designator_is_read() -> None:
    """SCT's 399368009 (medio-lateral oblique) labelled SRT, or SRT's R-10242 (cranio-caudal) labelled SCT, as exports
    caught between the two write them: passed over, ViewPosition CC decided (or nothing did) with no word, while the
    code and its meaning name the MLO.  The code value alone is one view in either scheme."""
    from pydicom.dataset import Dataset

    from mammoview.io.views import conflicts, decide
    from tests.synthetic import code_item

    for designator, value, view in (("SRT", "399368009", "MLO"), ("SCT", "R-10242", "CC"), ("", "R-10226", "MLO")):
        ds = Dataset()
        ds.ViewCodeSequence = [code_item(designator, value, "")]
        _, proj = decide(ds, Path("/x/1.dcm"))
        assert proj.value is not None and proj.value.value == view, (designator, value, proj)
        assert proj.source == "ViewCodeSequence (0054,0220)" and value in proj.detail
    ds = Dataset()
    ds.ViewCodeSequence = [code_item("SRT", "399368009", "medio-lateral oblique")]
    ds.ViewPosition = "CC"
    assert any("ViewCodeSequence (0054,0220) MLO but ViewPosition (0018,5101) CC" in c for c in conflicts(ds))


def test_a_patient_orientation_of_the_other_breasts_mlo_is_named(write_dcm: MakeFile) -> None:
    """ImageLaterality R on an MLO whose Patient Orientation is A\\FR, the left MLO's (IHE Mammography Image; an MLO's
    column runs to the feet and medially, or to the head and laterally, whatever flips): hung as R MLO with no word
    (e.g. a side corrected on the PACS, the orientation kept)."""
    info = read_info(write_dcm("x.dcm", laterality="R", view="MLO", patient_orientation="A\\FR"))
    assert info.view is View.RMLO
    assert any("ImageLaterality (0020,0062) R but PatientOrientation (0020,0020) A\\FR" in w for w in info.warnings)
    for side, orientation in (("R", "P\\FL"), ("R", "A\\FL"), ("R", "A\\HR"), ("L", "A\\FR"), ("L", "P\\HL")):
        ok = read_info(write_dcm("ok.dcm", laterality=side, view="MLO", patient_orientation=orientation))
        assert not any("PatientOrientation" in w for w in ok.warnings), (side, orientation, ok.warnings)
    cc = read_info(write_dcm("cc.dcm", laterality="R", view="CC", patient_orientation="A\\R"))  # a CC: either way
    assert not any("PatientOrientation" in w for w in cc.warnings), cc.warnings
