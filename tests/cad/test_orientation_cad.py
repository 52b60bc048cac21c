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


def test_a_view_stored_upside_down_is_read_as_the_upright_one(demo_dir, shipped_detector) -> None:
    """The networks learned MLO views pectoral muscle up and are not invariant to an up-down flip (0.2-1.2 in
    log-odds and another top finding on the demo views, models/analysis/flip_consistency.py): a view stored head
    down (the display flips it) is read turned upright, and every result comes back on its stored grid."""
    from dataclasses import replace

    upright = read_image(demo_dir / "1-281.dcm")  # L MLO
    rows = upright.shape[0]
    down = replace(upright, stored=np.ascontiguousarray(upright.stored[::-1]),
                   display=replace(upright.display, flip_vertical=True))  # fmt: skip
    a, b = drain(analyse_image(shipped_detector, upright)), drain(analyse_image(shipped_detector, down))
    assert (a.abnormal, a.malignant) == (b.abnormal, b.malignant)

    def turned(found):  # type: ignore[no-untyped-def]
        """(score, centre, box) of the upright view's findings, placed on the grid stored head down."""
        return [(f.score, f.center[0], rows - f.center[1], f.bbox[0], rows - f.bbox[3], f.bbox[2], rows - f.bbox[1])
                for f in found]  # fmt: skip

    def placed(found):  # type: ignore[no-untyped-def]
        return [(f.score, *f.center, *f.bbox) for f in found]

    assert a.findings and [f.kind for f in a.findings] == [f.kind for f in b.findings]
    np.testing.assert_allclose(placed(b.findings), turned(a.findings))
    for fa, fb in zip(a.findings, b.findings, strict=True):
        np.testing.assert_allclose(fb.contour, np.c_[fa.contour[:, 0], rows - fa.contour[:, 1]])
    lower = 0.3  # cut again at another threshold (the viewer's operating points): on the stored grid too
    again = b.at_threshold(lower).findings
    assert [f.center for f in again] != [f.center for f in b.findings]
    np.testing.assert_allclose(placed(again), turned(a.at_threshold(lower).findings))
    for name, ha in a.heatmaps.items():
        hb = b.heatmaps[name]
        np.testing.assert_array_equal(hb.data, ha.data[::-1])
        x, y, w, h = ha.rect
        assert hb.rect == pytest.approx((x, rows - y - h, w, h))
    assert a.nipple is not None and b.nipple == pytest.approx((a.nipple[0], rows - a.nipple[1]))
