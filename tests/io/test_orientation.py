"""Display orientation: right breasts with the chest wall on the display's right, left on the left."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mammoview.io import MammoImage, Study, View, chest_wall_side_stored, display_transform, read_image
from mammoview.io.orientation import pixel_chest_wall
from tests.io.conftest import MakeFile
from tests.synthetic import Blob, synthetic_breast


def image_file(
    write_dcm: MakeFile,
    chest_wall: str,
    laterality: str | None,
    view: str = "CC",
    orientation: str | None = None,
    pad: int = 0,
) -> MammoImage:
    px = synthetic_breast(300, 200, chest_wall=chest_wall, blobs=(Blob(100, 150, 12),))
    if pad:  # mini-MIAS style: the breast floats in a black square
        px = np.pad(px, ((pad, pad), (pad, pad)))
    path = write_dcm(
        f"{chest_wall}_{laterality}_{view}_{pad}.dcm",
        px,
        laterality=laterality,
        view=view,
        patient_orientation=orientation,
    )
    return read_image(path)


@pytest.mark.parametrize("pad", [0, 150])
@pytest.mark.parametrize(
    ("chest_wall", "laterality", "flip"),
    [("left", "R", True), ("right", "R", False), ("left", "L", False), ("right", "L", True)],
)
def test_pixels_decide_the_horizontal_flip(
    write_dcm: MakeFile, chest_wall: str, laterality: str, flip: bool, pad: int
) -> None:
    image = image_file(write_dcm, chest_wall, laterality, pad=pad)
    d = image.display
    assert d.flip_horizontal is flip and d.flip_vertical is False
    assert d.chest_wall_side == ("right" if laterality == "R" else "left")
    assert d.source.startswith("pixel content") and chest_wall in d.source
    assert chest_wall_side_stored(image) == chest_wall


@pytest.mark.parametrize(
    ("chest_wall", "laterality", "view", "orientation", "flip_h", "flip_v"),
    [
        ("left", "L", "CC", "A\\R", False, False),  # IHE LCC
        ("right", "R", "CC", "P\\L", False, False),  # IHE RCC
        ("left", "L", "MLO", "A\\FR", False, False),  # IHE LMLO
        ("right", "R", "MLO", "P\\FL", False, False),  # IHE RMLO
        ("left", "R", "CC", "A\\R", True, True),  # right breast, chest wall left, lateral at the bottom
        ("right", "L", "MLO", "P\\HL", True, True),  # left breast mirrored and upside down
        ("left", "L", "CC", "A\\L", False, True),  # lateral side at the bottom
    ],
)
def test_patient_orientation_decides(
    write_dcm: MakeFile, chest_wall: str, laterality: str, view: str, orientation: str, flip_h: bool, flip_v: bool
) -> None:
    image = image_file(write_dcm, chest_wall, laterality, view, orientation)
    d = image.display
    assert (d.flip_horizontal, d.flip_vertical) == (flip_h, flip_v)
    assert d.source == f"PatientOrientation {orientation}"
    assert d.chest_wall_side == ("right" if laterality == "R" else "left")


def test_tags_win_over_pixels(write_dcm: MakeFile) -> None:
    image = image_file(write_dcm, "left", "L", "CC", "P\\R")  # the tag says chest wall right
    assert image.display.flip_horizontal is True
    assert chest_wall_side_stored(image) == "right"


def test_unknown_laterality_is_not_flipped(write_dcm: MakeFile) -> None:
    image = image_file(write_dcm, "left", None)
    assert image.display.flip_horizontal is False
    assert image.display.chest_wall_side == "left" and "laterality unknown" in image.display.source


def test_flat_image_is_inconclusive(write_dcm: MakeFile) -> None:
    image = read_image(write_dcm("flat.dcm", np.full((50, 40), 7, np.uint16), laterality="R"))
    assert image.display.flip_horizontal is False and "inconclusive" in image.display.source
    assert chest_wall_side_stored(image) in ("left", "right")


def test_real_study_is_already_in_hanging_orientation(malign_study: Study) -> None:
    for img in malign_study.images:
        side = "right" if img.view in (View.RCC, View.RMLO) else "left"
        assert img.display.flip_horizontal is False, img.path.name
        assert img.display.chest_wall_side == side
        assert img.display.source.startswith("pixel content")
        assert chest_wall_side_stored(img) == side


def test_real_image_mirrored_gets_flipped(malign_study: Study) -> None:
    lcc = next(i for i in malign_study.images if i.view is View.LCC)
    mirrored = replace(lcc, stored=np.ascontiguousarray(lcc.stored[:, ::-1]))
    d = display_transform(mirrored)
    assert d.flip_horizontal is True and d.chest_wall_side == "left"
    assert chest_wall_side_stored(mirrored) == "right"


def test_cbis_film_measurements_are_clear(malign_study: Study) -> None:
    for img in malign_study.images:
        cue = pixel_chest_wall(img.stored, img.info.chain)
        chest, nipple = sorted(cue.end_heights, reverse=True)
        assert chest > 0.4 and nipple < 0.25, (img.path.name, cue)


def test_shared_cbis_jpeg_stored_mirrored(data_dir: Path) -> None:
    """Some CBIS-DDSM films are stored mirrored; 00009_RIGHT_MLO has its chest wall on the left."""
    image = read_image(data_dir / "cbis-ddsm-mass" / "images" / "00009_RIGHT_MLO.jpg")
    assert image.display.flip_horizontal is True and image.display.chest_wall_side == "right"


@pytest.mark.parametrize("orientation", ["R\\A", "L\\P", "F\\A", "H\\PL"])
def test_an_image_stored_a_quarter_turn_is_shown_as_stored_and_said(write_dcm: MakeFile, orientation: str) -> None:
    """Patient Orientation whose column (not row) runs anterior/posterior: the chest wall lies along the top or
    bottom of the stored grid.  The viewer has no rotation; it used to take the pixels' left/right cue, flip the
    image as if it were upright and say nothing, and the CAD put the nipple on the chest wall."""
    image = image_file(write_dcm, "left", "L", orientation=orientation)
    d = image.display
    assert d.quarter_turn and not d.flip_horizontal and not d.flip_vertical
    assert "quarter turn" in d.warning and orientation in d.warning


def test_a_header_window_that_whites_out_the_image_does_not_hide_a_mirrored_film(
    demo_dir: Path, tmp_path: Path
) -> None:
    """The pixels' chest-wall cue read the windowed picture: a window whiting out the whole image (background too)
    left it flat, and a film stored mirrored hung with its chest wall away from the midline, without a word (the CAD
    reads the full range since 278295c)."""
    import pydicom
    from pydicom.uid import ExplicitVRLittleEndian

    ds = pydicom.dcmread(demo_dir / "1-280.dcm")  # L CC, stored with the chest wall on the left
    ds.PixelData = np.ascontiguousarray(ds.pixel_array[:, ::-1]).tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.WindowCenter, ds.WindowWidth = "0", "1"
    ds.save_as(tmp_path / "mirrored.dcm", enforce_file_format=False)
    d = read_image(tmp_path / "mirrored.dcm").display
    assert d.flip_horizontal and d.chest_wall_side == "left"
