"""A right-drag of the window/level had no limits: on 16-bit data the level reached -10 million, and the width
grew without end, so that the way back was pages of dragging.  The level stays within the image's value range
widened by that range on either side, the width between one stored unit and twice the range."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mammoview.gui.window_level import WindowState, dragged, image_stats
from mammoview.io.chain_model import ModalityTransform, PixelChain, VoiFunction, VoiWindow


def stats_of(chain: PixelChain, low: int, high: int):  # type: ignore[no-untyped-def]
    return image_stats(chain, np.arange(low, high + 1, dtype=np.uint16)[None, :], 0, low, high)


def test_the_level_and_width_of_16_bit_data_stay_near_its_values():
    stats = stats_of(PixelChain(16, False, "MONOCHROME2"), 0, 65535)
    state = WindowState(stats.default_voi)
    for dx, dy in ((0, -1e6), (0, 1e6), (1e6, 0), (-1e6, 0)):
        moved = state
        for _ in range(50):  # a long drag: many mouse moves
            moved = dragged(moved, dx, dy, stats)
        assert isinstance(moved.voi, VoiWindow)
        assert -65535 <= moved.voi.center <= 2 * 65535, (dx, dy, moved.voi)
        assert 1 <= moved.voi.width <= 2 * 65535, (dx, dy, moved.voi)
    low = dragged(state, 0, -1e9, stats).voi
    assert isinstance(low, VoiWindow) and low.center == -65535
    narrowest = dragged(state, -1e9, 0, stats).voi
    assert isinstance(narrowest, VoiWindow) and narrowest.width == 1 and narrowest.function is VoiFunction.LINEAR
    back = dragged(dragged(state, 0, 1e9, stats), 0, -300, stats).voi  # at the limit, the way back is at once
    assert isinstance(back, VoiWindow) and back.center == pytest.approx(2 * 65535 - 300 * 65535 / 600)


def test_a_file_window_beyond_the_limits_does_not_jump_but_goes_no_further_out():
    stats = stats_of(PixelChain(12, False, "MONOCHROME2"), 1000, 1100)
    wide = WindowState(VoiWindow(5000.0, 4096.0))  # a 12-bit window on an image of 100 values
    still = dragged(wide, 10, 10, stats).voi  # wider and higher: further out
    assert isinstance(still, VoiWindow) and (still.center, still.width) == (5000.0, 4096.0)
    inward = dragged(wide, -10, -10, stats).voi
    assert isinstance(inward, VoiWindow) and inward.center < 5000 and inward.width < 4096


def test_a_float_images_window_narrows_to_one_of_its_steps():
    """A float TIFF normalised to 0-1 is read as 65536 steps of 1/65535: a LINEAR window may not be narrower than 1
    (PS3.3 C.11.2.1.2.1), the whole range, so a drag narrows it as LINEAR_EXACT, to one step."""
    chain = replace(PixelChain(16, False, "MONOCHROME2"), modality=ModalityTransform(slope=1 / 65535, source="float"))
    stats = stats_of(chain, 0, 65535)
    narrowest = dragged(WindowState(VoiWindow(0.5, 1.0)), -1e9, 0, stats).voi
    assert isinstance(narrowest, VoiWindow) and narrowest.function is VoiFunction.LINEAR_EXACT
    assert narrowest.width == pytest.approx(1 / 65535)
    wider = dragged(WindowState(narrowest), 1e9, 0, stats).voi
    assert isinstance(wider, VoiWindow) and wider.width == pytest.approx(2.0) and wider.function is VoiFunction.LINEAR
