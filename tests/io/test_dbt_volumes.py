"""Tomosynthesis objects: one-frame volumes (hung behind the 2-D view, refused by the CAD), combo exams, orientation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from mammoview.cad.preprocess import ImageRefused, check_cad_input
from mammoview.io import View, hang, load_study, open_paths, read_info
from tests.io.conftest import MakeFile

TOMO_CLASS = "1.2.840.10008.5.1.4.1.1.13.1.3"  # Breast Tomosynthesis Image Storage


def tomo(frames: int, instance: int):  # type: ignore[no-untyped-def]
    def edit(ds: Dataset) -> None:
        ds.NumberOfFrames = frames
        ds.PixelData = ds.PixelData * frames
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = TOMO_CLASS
        ds.InstanceNumber = instance

    return edit


def flat(instance: int):  # type: ignore[no-untyped-def]
    def edit(ds: Dataset) -> None:
        ds.InstanceNumber = instance

    return edit


SIZE = {"pixel_spacing": (0.25, 0.25)}


def test_a_one_frame_tomosynthesis_slice_hangs_behind_the_2d_view(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A Breast Tomosynthesis Image with one frame (a slice, or a 1-frame export) is a tomosynthesis object like a
    60-frame one: the 2-D view hangs, whatever the Instance Numbers."""
    write_dcm("a_tomo_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=tomo(1, 1), **SIZE)
    write_dcm("b_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=flat(2), **SIZE)
    (info,), _ = open_paths([tmp_path])
    h = hang(load_study(info, max_workers=2))
    assert h.panels[View.LCC].path.name == "b_lcc.dcm"
    assert not [w for w in h.warnings if "claim" in w]


def test_the_cad_refuses_a_one_frame_tomosynthesis_slice(write_dcm: MakeFile) -> None:
    info = read_info(write_dcm("tomo_lcc.dcm", laterality="L", view="CC", edit=tomo(1, 1), **SIZE))
    assert info.meta.tomosynthesis and info.frames == 1
    with pytest.raises(ImageRefused, match="tomosynthesis"):
        check_cad_input(info)  # a slice of a reconstructed volume is no 2-D mammogram (detect analysed it)


def test_a_combo_exams_volume_is_noted_beside_its_two_2d_images(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A combo exam (2-D + synthesized 2-D + volume per view): the two 2-D images are the duplicate said as a
    problem; the volume behind them is the note every DBT exam has, not one more image "claiming" the view."""
    write_dcm("a_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=flat(1), **SIZE)
    write_dcm("b_lcc_synth.dcm", study_uid="5.5", laterality="L", view="CC", edit=flat(2), **SIZE)
    write_dcm("c_tomo_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=tomo(3, 3), **SIZE)
    (info,), _ = open_paths([tmp_path])
    h = hang(load_study(info, max_workers=2))
    # no times: the higher Instance Number shows (the rule that hangs a retake; a synthesized 2-D is not told apart
    # from one), the other stays selectable and is named
    assert h.panels[View.LCC].path.name == "b_lcc_synth.dcm"
    assert [w for w in h.warnings if "claim" in w] == ["2 images claim L CC: showing b_lcc_synth.dcm (Instance Number "
                                                       "2); also a_lcc.dcm (Instance Number 1)"]  # fmt: skip
    assert "tomosynthesis behind the 2-D views (D shows it) of L CC: c_tomo_lcc.dcm" in h.notes


def test_a_volumes_patient_orientation_in_its_functional_groups_is_read(write_dcm: MakeFile) -> None:
    """The Breast Tomosynthesis Image IOD carries Patient Orientation in the Patient Orientation in Frame functional
    group (0020,9450), not at the top level: a volume stored upside down (R MLO, head at the bottom: "P\\\\HR") must
    be turned like its 2-D view, which the pixels never decide (they are only asked about the chest wall side)."""
    import numpy as np

    from mammoview.io import read_image
    from tests.synthetic import synthetic_breast

    def volume(ds: Dataset) -> None:
        tomo(2, 1)(ds)
        if "PatientOrientation" in ds:
            del ds.PatientOrientation
        item = Dataset()
        item.PatientOrientation = ["P", "HR"]
        shared = Dataset()
        shared.PatientOrientationInFrameSequence = [item]
        ds.SharedFunctionalGroupsSequence = [shared]

    pixels = np.flipud(synthetic_breast(120, 80, chest_wall="right", seed=3))
    image = read_image(write_dcm("rmlo_tomo.dcm", pixels, laterality="R", view="MLO", edit=volume, **SIZE))
    assert image.info.orientation.column == "HR"
    assert image.display.flip_vertical
