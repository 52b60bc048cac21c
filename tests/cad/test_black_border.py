"""A black border beyond the edge that cuts the breast is trimmed before the CAD reads a view (mammoview.cad.border).

The networks learned films with the chest wall on the image's edge; a framed export put a dark strip there and the
CAD lost the findings at the chest wall (the model card's "Invariances": 11 on 7 views with a 10 mm border).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mammoview.cad.border import Border, black_border
from mammoview.cad.cad_input import estimate_spacing
from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.preprocess import presentation_of
from mammoview.cad.resample import brighter_half
from mammoview.io import read_image
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MammoImage
from tests.cad.conftest import make_image
from tests.synthetic import synthetic_breast

SPACING = PixelSpacing(0.1, 0.1, source="test")


def framed_view(image: MammoImage, mm: float = 10.0, name: str | None = None) -> tuple[MammoImage, int, bool]:
    """``image`` with ``mm`` of black (its own darkest value: the presentation range stays) added beyond its chest
    wall, as a framed export gives it (renamed ``name``); the columns added, and whether the chest wall is on the
    left.  (The demo's files have no spacing: the estimate from the height stays.)"""
    width = round(mm / estimate_spacing(*image.shape).col_mm)
    left = brighter_half(presentation_of(image)) == "left"
    stored = np.pad(image.stored, ((0, 0), (width, 0) if left else (0, width)), constant_values=image.stored.min())
    info = replace(image.info, rows=stored.shape[0], columns=stored.shape[1])
    if name is not None:
        info = replace(info, path=image.path.with_name(name))
    return replace(image, stored=stored, info=info), width, left


def _presentation(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float32) / 4095).astype(np.float32)


def test_a_black_border_beyond_the_chest_wall_is_trimmed() -> None:
    breast = synthetic_breast(chest_wall="left")
    framed = np.pad(breast, ((0, 0), (40, 0)))
    assert black_border(_presentation(framed), SPACING) == Border(left=40)
    right = np.pad(synthetic_breast(chest_wall="right"), ((0, 0), (0, 25)))
    assert black_border(_presentation(right), SPACING) == Border(right=25)


def test_air_above_a_cc_view_and_beyond_the_nipple_stays() -> None:
    """The air above and below the synthetic CC breast (its skin line's arc meets the line over a few mm) is as dark
    as a padding, and so is a border on the nipple side: neither is cut tissue, so neither goes."""
    breast = synthetic_breast(chest_wall="left")
    framed = np.pad(breast, ((30, 30), (0, 50)))
    assert black_border(_presentation(framed), SPACING) == Border()
    assert black_border(_presentation(breast), SPACING) == Border()


def test_black_rows_above_a_breast_cut_by_the_top_edge_are_trimmed() -> None:
    """An MLO view's top edge cuts the pectoral muscle and axilla straight across: black rows above it go."""
    cut = synthetic_breast(rows=800, chest_wall="left")[200:]
    assert black_border(_presentation(cut), SPACING) == Border()
    assert black_border(_presentation(np.pad(cut, ((35, 0), (0, 0)))), SPACING) == Border(top=35)


def test_a_black_image_or_one_without_a_breast_is_not_trimmed() -> None:
    assert black_border(np.zeros((300, 200), np.float32), SPACING) == Border()
    speck = np.zeros((300, 200), np.float32)
    speck[100:110, 50:60] = 1.0  # bright, but no breast
    assert black_border(speck, SPACING) == Border()


def test_the_cad_reads_a_view_with_a_black_border_as_the_view_without(demo_dir, shipped_detector) -> None:
    """The demo L CC with 10 mm of black beyond its chest wall: the same scores, findings, contours, heatmaps and
    nipple as the view itself, placed on the framed image's stored grid (before, the findings at the chest wall
    were lost)."""
    image = read_image(demo_dir / "1-280.dcm")
    assert image.info.spacing is None
    framed, width, left = framed_view(image)
    dx = width if left else 0
    a, b = drain(analyse_image(shipped_detector, image)), drain(analyse_image(shipped_detector, framed))
    assert (b.width, b.height) == (a.width + width, a.height)
    assert (a.abnormal, a.malignant) == (b.abnormal, b.malignant)

    def moved(found):  # type: ignore[no-untyped-def]
        return [(f.score, f.center[0] + dx, f.center[1], f.bbox[0] + dx, f.bbox[1], f.bbox[2] + dx, f.bbox[3])
                for f in found]  # fmt: skip

    def placed(found):  # type: ignore[no-untyped-def]
        return [(f.score, *f.center, *f.bbox) for f in found]

    assert a.findings
    np.testing.assert_allclose(placed(b.findings), moved(a.findings))
    for fa, fb in zip(a.findings, b.findings, strict=True):
        np.testing.assert_allclose(fb.contour, fa.contour + np.array([dx, 0]))
    lower = 0.3  # cut again at another threshold (the viewer's operating points): on the framed grid too
    np.testing.assert_allclose(placed(b.at_threshold(lower).findings), moved(a.at_threshold(lower).findings))
    for name, ha in a.heatmaps.items():
        hb = b.heatmaps[name]
        np.testing.assert_array_equal(hb.data, ha.data)
        assert hb.rect == pytest.approx((ha.x0 + dx, ha.y0, *ha.rect[2:]))
    assert a.nipple is not None and b.nipple == pytest.approx((a.nipple[0] + dx, a.nipple[1]))
    assert b.breast_mask_fraction == pytest.approx(a.breast_mask_fraction * a.width / b.width)


def test_a_spacing_estimated_from_the_height_is_estimated_again_without_the_border(shipped_detector, tmp_path) -> None:
    """A file without a spacing is taken as ~23 cm tall: black rows above an MLO view's cut edge would have made
    its pixels larger; without them the estimate is the unframed view's."""
    from PIL import Image

    cut = synthetic_breast(rows=2400, cols=1600, chest_wall="left")[800:]
    Image.fromarray(cut).save(tmp_path / "plain.png")
    Image.fromarray(np.pad(cut, ((400, 0), (0, 0)))).save(tmp_path / "framed.png")
    plain, framed = read_image(tmp_path / "plain.png"), read_image(tmp_path / "framed.png")
    assert plain.info.spacing is None
    a, b = drain(analyse_image(shipped_detector, plain)), drain(analyse_image(shipped_detector, framed))
    sp = estimate_spacing(*cut.shape)
    assert a.pixel_spacing == b.pixel_spacing == (sp.row_mm, sp.col_mm)
    assert a.abnormal == b.abnormal
    assert [f.center for f in a.findings] == [(x, y - 400) for x, y in (f.center for f in b.findings)]


def test_a_breast_cut_on_both_sides_keeps_both_borders() -> None:
    """A breast wider than the film is cut by its edge on the nipple side too (mini-MIAS mdb151/152): which side is
    the chest wall is then not known, and trimming the nipple side's border made false marks along the film's edge
    (mdb152: two at 0.98-1.0).  Neither goes, with or without black lines beyond the chest wall.  A view cut at its
    top and bottom, away from the nipple, loses both; on a view stored a quarter turn the nipple is at one of them."""
    wide = synthetic_breast(chest_wall="left")[:, :250]  # the film's edge cuts the breast 25 mm from the wall
    framed = _presentation(np.pad(wide, ((0, 0), (30, 30))))
    assert black_border(framed, SPACING) == Border()
    assert black_border(np.ascontiguousarray(framed.T), SPACING) == Border(top=30, bottom=30)
    assert black_border(np.ascontiguousarray(framed.T), SPACING, quarter_turn=True) == Border()
    assert black_border(_presentation(np.pad(wide, ((0, 0), (0, 30)))), SPACING) == Border()  # the wall on the edge


def test_the_cad_keeps_the_nipple_side_of_a_view_stored_a_quarter_turn(tiny_model, monkeypatch) -> None:
    """The pipeline tells black_border that a view is stored a quarter turn: a breast cut at its top and bottom
    there is cut at the chest wall and the nipple, and is read as stored; the same pixels hung upright lose both."""
    wide = synthetic_breast(chest_wall="left")[:, :250]
    turned = make_image(np.ascontiguousarray(np.pad(wide, ((0, 0), (30, 30))).T), spacing=0.1)
    turned = replace(turned, display=replace(turned.display, quarter_turn=True))
    upright = replace(turned, display=replace(turned.display, quarter_turn=False))
    read = [drain(analyse_image(tiny_model, im)).heatmaps["abnormal"] for im in (turned, upright)]
    monkeypatch.setattr("mammoview.cad.border.black_border", lambda *args, **kwargs: Border())
    as_stored = drain(analyse_image(tiny_model, turned)).heatmaps["abnormal"]
    assert read[0].rect == as_stored.rect and np.array_equal(read[0].data, as_stored.data)
    assert read[1].rect != as_stored.rect


@pytest.mark.parametrize("spacing", [0.1, None])
def test_a_label_on_an_empty_field_is_read_as_stored(tiny_model, spacing) -> None:
    """A 15 x 30 mm label alone on a black field passes the ~1 mm copy's breast mask and is cut straight at its top
    and bottom; trimmed to it, the CAD refused the view as a 15 x 120 mm image ("check the pixel spacing"; 1840 mm
    wide at the spacing estimated again for a file without one).  What the CAD would refuse is no view to read: the
    image is read as stored, where the CAD's own rules decide (the shipped detector finds no breast in it)."""
    field = np.zeros((2000, 1200), np.uint16)
    field[500:650, 400:700] = 3000 + np.random.default_rng(0).integers(0, 100, (150, 300), dtype=np.uint16)
    image = make_image(field, spacing=spacing)
    result = drain(analyse_image(tiny_model, image))
    assert (result.width, result.height) == (1200, 2000)


def test_the_density_model_reads_a_view_with_a_black_border_as_the_view_without(demo_dir) -> None:
    """The density canvas is cropped to the breast, but on its 1.5 mm grid the cell across the chest wall and the
    black beyond it joined the breast as a dark column: 10 mm of black beyond the demo R CC's chest wall moved its
    p(d) from 0.34 to 0.43 and its category from c to d.  The canvas is made without the border, as the CAD reads."""
    from mammoview.cad.density import TASK, assess, density_canvas
    from mammoview.cad.weights import default_models_dir, list_installed, load_model

    root = default_models_dir()
    if not any(r.entry.task == TASK for r in list_installed(root)):
        pytest.skip(f"no density model installed in {root}")
    density = load_model(models_dir=root, device="cpu", task=TASK)
    image = read_image(demo_dir / "1-282.dcm")
    framed, _, _ = framed_view(image, name="framed.dcm")
    np.testing.assert_array_equal(density_canvas(density, framed), density_canvas(density, image))
    got = assess(density, [image, framed])
    assert got[str(framed.path)].probabilities == pytest.approx(got[str(image.path)].probabilities)


def test_a_view_the_cad_refuses_is_not_looked_at_for_a_border(monkeypatch, tmp_path) -> None:
    """A 1 x 5000 px PNG (estimated 230 mm per pixel) has black columns at its left end: the border's ~1 mm copy
    of a 1.15 km wide image took so long that the viewer's CAD never came back; prepare refuses it as before."""
    from PIL import Image

    from mammoview.cad import border as border_module
    from mammoview.cad.border import without_border

    Image.fromarray(np.linspace(0, 65535, 5000).astype(np.uint16)[None, :]).save(tmp_path / "strip.png")
    strip = read_image(tmp_path / "strip.png")

    def refused(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("resampled a view the CAD refuses")

    monkeypatch.setattr(border_module, "resample", refused)
    found, inner, _, _ = without_border(strip, presentation_of(strip))
    assert found == Border() and inner is strip


def test_a_study_looks_for_each_views_border_once(demo_dir, shipped_detector, monkeypatch) -> None:
    """analyse_study with the density network: the detector's road and the density canvas each looked for the
    border (a ~1 mm copy and a breast mask: ~55 ms a framed full-field view, twice); the canvas is now made from
    the view as the detector read it, and gives the unframed view's density."""
    from mammoview.cad import border as border_module
    from mammoview.cad.density import TASK
    from mammoview.cad.pipeline import analyse_study
    from mammoview.cad.weights import default_models_dir, list_installed, load_model

    root = default_models_dir()
    if not any(r.entry.task == TASK for r in list_installed(root)):
        pytest.skip(f"no density model installed in {root}")
    density = load_model(models_dir=root, device="cpu", task=TASK)
    image = read_image(demo_dir / "1-282.dcm")
    framed, _, _ = framed_view(image)
    plain = drain(analyse_study(shipped_detector, [image], density=density))
    looked: list[object] = []
    real = border_module.black_border
    monkeypatch.setattr(border_module, "black_border", lambda *a, **k: looked.append(a) or real(*a, **k))
    got = drain(analyse_study(shipped_detector, [framed], density=density))
    assert len(looked) == 1
    a, b = plain.breasts[image.view.laterality].density, got.breasts[image.view.laterality].density
    assert a is not None and b is not None and b.probabilities == pytest.approx(a.probabilities)
