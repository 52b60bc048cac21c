"""Tomosynthesis objects: one-frame volumes (hung behind the 2-D view, refused by the CAD), combo exams, orientation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from mammoview.cad.cad_input import ImageRefused, check_cad_input
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
    # no times and no Image Type GENERATED_2D: the higher Instance Number shows (the rule that hangs a retake; a
    # synthesized 2-D that does not say it is one is not told apart from one), the other stays selectable and is named
    assert h.panels[View.LCC].path.name == "b_lcc_synth.dcm"
    assert [w for w in h.warnings if "claim" in w] == ["2 images claim L CC: showing b_lcc_synth.dcm (Instance Number "
                                                       "2); also a_lcc.dcm (Instance Number 1)"]  # fmt: skip
    assert "tomosynthesis behind the 2-D views (D shows it) of L CC: c_tomo_lcc.dcm" in h.notes


def synthesized(instance: int, time: str):  # type: ignore[no-untyped-def]
    def edit(ds: Dataset) -> None:
        ds.InstanceNumber = instance
        ds.ImageType = ["DERIVED", "PRIMARY", "TOMOSYNTHESIS", "GENERATED_2D"]  # PS3.3 C.8.11.7.1.4, Table C.8-74d
        ds.AcquisitionDate, ds.AcquisitionTime = "20240102", time

    return edit


def test_a_combo_exams_exposure_hangs_before_its_synthesized_2d(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A synthesized 2-D image that says it is one (Image Type GENERATED_2D) is computed after the exposure of the
    same compression, so it has the later time and the higher Instance Number: the latest-first rule for retakes
    hung it in place of the acquired 2-D.  The exposure shows; the synthesized image stays selectable, named as
    such."""

    def exposure(ds: Dataset) -> None:
        ds.InstanceNumber = 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", ""]
        ds.AcquisitionDate, ds.AcquisitionTime = "20240102", "103001"

    write_dcm("a_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=exposure, **SIZE)
    write_dcm("b_lcc_synth.dcm", study_uid="5.5", laterality="L", view="CC", edit=synthesized(2, "103045"), **SIZE)
    write_dcm("c_tomo_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=tomo(3, 3), **SIZE)
    (info,), _ = open_paths([tmp_path])
    h = hang(load_study(info, max_workers=2))
    assert h.panels[View.LCC].path.name == "a_lcc.dcm"
    assert [i.path.name for i in h.alternatives[View.LCC]] == ["b_lcc_synth.dcm", "c_tomo_lcc.dcm"]
    assert [w for w in h.warnings if "claim" in w] == ["2 images claim L CC: showing a_lcc.dcm (acquired 2024-01-02 "
                                                       "10:30:01); also b_lcc_synth.dcm (synthesized 2-D, acquired "
                                                       "2024-01-02 10:30:45)"]  # fmt: skip


def test_a_synthesized_2d_alone_hangs_in_its_view(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A DBT-only exam (synthesized 2-D + volume, no exposure) hangs its synthesized 2-D in front, said as such."""
    write_dcm("a_lcc_synth.dcm", study_uid="5.5", laterality="L", view="CC", edit=synthesized(1, "103045"), **SIZE)
    write_dcm("b_tomo_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=tomo(3, 2), **SIZE)
    (info,), _ = open_paths([tmp_path])
    h = hang(load_study(info, max_workers=2))
    assert h.panels[View.LCC].path.name == "a_lcc_synth.dcm" and h.panels[View.LCC].info.meta.synthesized
    assert not [w for w in h.warnings if "claim" in w]


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
