"""Unit tests of the display pieces: pyramid, window/level, the image item's exact LUT path, loupe, linking."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtGui

from mammoview.gui.image_layer import StoredImageItem
from mammoview.gui.linking import LinkMode, group_of, link_groups
from mammoview.gui.magnifier import loupe_crop
from mammoview.gui.pyramid import build_pyramid, halve
from mammoview.gui.window_level import (
    Preset,
    WindowState,
    dragged,
    file_choices,
    image_stats,
    lut_for,
    preset_window,
)
from mammoview.io.chain_model import PixelChain, VoiLut, VoiWindow
from mammoview.io.model import View
from mammoview.io.pixels import display_lut
from tests.synthetic import synthetic_breast


def test_halve_is_a_rounded_box_average():
    a = np.array([[0, 1, 9], [2, 3, 9], [100, 200, 9]], dtype=np.uint16)
    assert halve(a).tolist() == [[2]]  # (0+1+2+3+2)//4, odd row/column dropped
    big = np.full((4, 4), 65535, np.uint16)
    assert halve(big).dtype == np.uint16 and halve(big).max() == 65535  # no overflow


def test_pyramid_levels_and_level_choice():
    img = np.arange(1000 * 600, dtype=np.uint16).reshape(1000, 600)
    p = build_pyramid(img)
    assert p.levels[0] is img  # unsigned data are used as they are, no copy
    assert [lv.shape for lv in p.levels[:3]] == [(1000, 600), (500, 300), (250, 150)]
    assert max(p.levels[-1].shape) < 256
    assert (p.stored_min, p.stored_max, p.value_offset) == (int(img.min()), int(img.max()), 0)
    assert p.level_for_scale(1.0) == 0 and p.level_for_scale(2.0) == 0
    assert p.level_for_scale(0.5) == 1 and p.level_for_scale(0.3) == 1 and p.level_for_scale(0.24) == 2
    assert p.level_for_scale(1e-6) == len(p.levels) - 1


def test_signed_data_are_shifted_into_uint16():
    img = np.array([[-1000, 0], [500, 3000]], dtype=np.int16)
    p = build_pyramid(img, min_side=1)
    assert p.value_offset == -1000 and p.levels[0].dtype == np.uint16
    assert (p.levels[0].astype(int) + p.value_offset).tolist() == img.tolist()


def chain(**kw) -> PixelChain:  # type: ignore[no-untyped-def]
    return PixelChain(bits_stored=12, signed=False, photometric=kw.pop("photometric", "MONOCHROME2"), **kw)


def test_lut_matches_io_and_inversion():
    c = chain(windows=(VoiWindow(2048, 1000),))
    state = WindowState(c.windows[0])
    offset, lut = lut_for(c, state, 10, 4000)
    ref_offset, ref = display_lut(c, c.windows[0], 10, 4000)
    assert offset == ref_offset and np.array_equal(lut, ref)
    _, inv = lut_for(c, WindowState(c.windows[0], inverted=True), 10, 4000)
    assert np.array_equal(inv, 255 - ref)


def test_presets_follow_the_tissue():
    img = synthetic_breast(400, 300, seed=3)
    p = build_pyramid(img)
    for photometric in ("MONOCHROME2", "MONOCHROME1"):
        c = chain(photometric=photometric)
        stats = image_stats(c, p.levels[-1], 0, p.stored_min, p.stored_max)
        dense = preset_window(Preset.DENSE, c, stats).voi
        soft = preset_window(Preset.SOFT, c, stats).voi
        full = preset_window(Preset.FULL, c, stats).voi
        assert full.width >= p.stored_max - p.stored_min
        bright_first = photometric == "MONOCHROME2"  # dense tissue is bright on screen either way
        assert (dense.center > soft.center) == bright_first
        assert preset_window(Preset.DEFAULT, c, stats).voi == stats.default_voi


def test_file_windows_and_voi_luts_are_offered():
    lut = VoiLut(first_mapped=0, data=np.arange(4096, dtype=np.uint16), output_bits=12, explanation="FILM")
    c = chain(windows=(VoiWindow(2000, 1000, explanation="NORMAL"), VoiWindow(2500, 500)), voi_luts=(lut,))
    texts = [t for t, _ in file_choices(c)]
    assert texts[0].startswith("NORMAL") and texts[1].startswith("Window 2") and texts[2].startswith("FILM")
    moved = dragged(WindowState(lut), 10, 0, image_stats(c, np.arange(4096, dtype=np.uint16)[None, :], 0, 0, 4095))
    assert isinstance(moved.voi, VoiWindow) and moved.voi.width > 4096 and moved.name == "Custom"


def test_image_item_renders_exactly_the_lut(qapp):
    """pyqtgraph's folded levels+LUT path must give lut[stored - offset] for every pixel."""
    rng = np.random.default_rng(0)
    stored = rng.integers(100, 3900, size=(64, 48), dtype=np.uint16)
    c = chain(windows=(VoiWindow(2000, 1500),))
    p = build_pyramid(stored, min_side=1000)  # one level only
    offset, lut = lut_for(c, WindowState(c.windows[0]), p.stored_min, p.stored_max)
    item = StoredImageItem()
    item.set_pyramid(p, 0, offset, lut)
    item.render()
    q = item.qimage.convertToFormat(QtGui.QImage.Format.Format_Grayscale8)
    got = np.frombuffer(q.constBits(), np.uint8, count=q.bytesPerLine() * q.height())
    got = got.reshape(q.height(), q.bytesPerLine())[:, : q.width()]
    assert np.array_equal(got, lut[stored.astype(int) - offset])
    # A short LUT (narrow stored range) takes the same exact path.
    small = np.array([[5, 6], [7, 8]], np.uint16)
    ps = build_pyramid(small, min_side=1000)
    o2, l2 = lut_for(c, WindowState(VoiWindow(6, 4)), 5, 8)
    item.set_pyramid(ps, 0, o2, l2)
    item.render()
    q = item.qimage.convertToFormat(QtGui.QImage.Format.Format_Grayscale8)
    got = np.frombuffer(q.constBits(), np.uint8, count=q.bytesPerLine() * 2).reshape(2, -1)[:, :2]
    assert np.array_equal(got, l2[small.astype(int) - o2])


def test_loupe_crop_is_centred_and_flipped(qapp):
    img = np.zeros((200, 100), np.uint16)
    img[50, 80] = 4000  # one bright pixel right of centre
    p = build_pyramid(img, min_side=1000)
    lut = np.linspace(0, 255, 4001).astype(np.uint8)
    q, src = loupe_crop(p, 0, lut, (80.5, 50.5), 10.0, 100, (False, False))
    assert src.width() == pytest.approx(10.0) and src.height() == pytest.approx(10.0)  # 100 px at 10 px/pixel
    q2, src2 = loupe_crop(p, 0, lut, (80.5, 50.5), 10.0, 100, (True, False))
    for image, rect in ((q, src), (q2, src2)):
        g = image.convertToFormat(QtGui.QImage.Format.Format_Grayscale8)
        c = rect.center()
        assert g.pixelColor(int(c.x()), int(c.y())).red() == 255  # the bright pixel is at the loupe centre
    # columns half as wide as rows: the loupe spans twice as many stored columns as rows, and stays centred
    q3, src3 = loupe_crop(p, 0, lut, (80.5, 50.5), 10.0, 100, (False, False), aspect=0.5)
    assert src3.width() == pytest.approx(20.0) and src3.height() == pytest.approx(10.0)
    c = src3.center()
    assert q3.convertToFormat(QtGui.QImage.Format.Format_Grayscale8).pixelColor(int(c.x()), int(c.y())).red() == 255


def test_link_groups():
    assert link_groups(LinkMode.PAIRS) == [(View.RCC, View.LCC), (View.RMLO, View.LMLO)]
    assert link_groups(LinkMode.CC) == [(View.RCC, View.LCC), (View.RMLO,), (View.LMLO,)]
    assert group_of(View.LMLO, LinkMode.ALL) == (View.RCC, View.LCC, View.RMLO, View.LMLO)
    assert link_groups(LinkMode.ALL, visible=[View.LCC]) == [(View.LCC,)]


@pytest.mark.parametrize("function", ["SIGMOID", "LINEAR_EXACT"])
def test_a_level_drag_keeps_a_narrow_window_narrow(function):
    """SIGMOID and LINEAR_EXACT windows may be narrower than 1 (PS3.3 C.11.2.1.3.1-2: width > 0); moving only the
    level (a vertical drag) widened them to 1, the LINEAR minimum (LINEAR_EXACT became LINEAR: a softer step)."""
    from mammoview.io.chain_model import VoiFunction

    kind = VoiFunction[function]
    narrow = VoiWindow(100.25, 0.5, kind)
    stats = image_stats(chain(windows=(narrow,)), np.arange(4096, dtype=np.uint16)[None, :], 0, 0, 4095)
    moved = dragged(WindowState(narrow), 0, 3, stats).voi
    assert isinstance(moved, VoiWindow) and moved.function is kind
    assert moved.width == 0.5 and moved.center > 100.25
    narrower = dragged(WindowState(narrow), -50, 0, stats).voi
    assert isinstance(narrower, VoiWindow) and 0 < narrower.width <= 0.5
    wider = dragged(WindowState(narrow), 50, 0, stats).voi  # widened past 1: LINEAR_EXACT becomes LINEAR as before
    assert isinstance(wider, VoiWindow) and wider.width > 1
    assert wider.function is (VoiFunction.LINEAR if kind is VoiFunction.LINEAR_EXACT else kind)
