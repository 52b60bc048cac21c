"""The CAD follows the io layer's orientation decisions: an MLO stored upside down (Patient Orientation says so,
and the viewer shows it the right way up) gets its nipple at the nipple, not in the axilla."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mammoview.cad.pipeline import analyse_image, drain
from mammoview.io import read_image
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def _mlo(tmp_path: Path, name: str, pixels: np.ndarray, orientation: str):  # type: ignore[no-untyped-def]
    ds = mammo_dataset(
        np.ascontiguousarray(pixels),
        laterality="L",
        view="MLO",
        pixel_spacing=(0.25, 0.25),
        patient_orientation=orientation,
    )
    return read_image(write_dataset(ds, tmp_path / name))


def test_upside_down_mlo_nipple_follows_the_display_flip(bright_model, tmp_path: Path) -> None:
    px = synthetic_breast(rows=600, cols=400, seed=3)  # chest wall left: an L MLO as hung
    upright = _mlo(tmp_path, "up.dcm", px, "A\\FR")
    upside_down = _mlo(tmp_path, "down.dcm", px[::-1], "A\\HL")  # the same breast stored head down
    assert upside_down.display.flip_vertical and not upright.display.flip_vertical
    a = drain(analyse_image(bright_model, upright, tile=64))
    b = drain(analyse_image(bright_model, upside_down, tile=64))
    assert a.nipple is not None and b.nipple is not None
    # the same anatomical point: mirrored rows on the stored grid
    assert b.nipple == pytest.approx((a.nipple[0], 600 - a.nipple[1]), abs=8)


def test_the_cad_gives_no_nipple_on_an_image_stored_a_quarter_turn(demo_dir, bright_model):
    """Patient Orientation saying the image is stored a quarter turn (io.orientation): the breast point farthest
    from a side edge is no nipple there (it fell on the chest wall), so no nipple distances are given."""
    from dataclasses import replace

    from mammoview.cad.pipeline import analyse_image, drain
    from mammoview.io import read_image

    upright = read_image(demo_dir / "1-280.dcm")
    turned = replace(upright, display=replace(upright.display, quarter_turn=True))
    assert drain(analyse_image(bright_model, upright)).nipple is not None
    assert drain(analyse_image(bright_model, turned)).nipple is None
