"""The heatmaps' log-odds levels, their colour table and the ``detect --heatmaps`` pictures."""

from __future__ import annotations

import numpy as np
import pytest

from mammoview.cad.render import DEFAULT_THRESHOLD, heat_lut, overlay, threshold_level
from mammoview.cad.types import HEAT_LOGIT_RANGE, Heatmap, heat_levels, heat_probability


def test_levels_are_linear_in_log_odds_and_decode_to_the_probability():
    lo, hi = HEAT_LOGIT_RANGE
    logits = np.linspace(lo, hi, 255)
    p = 1.0 / (1.0 + np.exp(-logits))
    levels = heat_levels(p)
    assert levels.dtype == np.uint8
    assert np.array_equal(levels, np.arange(1, 256))  # one level per 1/254 of the range
    back = heat_probability(levels).astype(np.float64)  # float32 near 1: a few thousandths of a unit
    assert np.allclose(np.log(back / (1 - back)), logits, atol=0.01)
    every = np.arange(256)
    assert np.array_equal(heat_levels(heat_probability(every)), every)  # the slider's round trip


def test_zero_is_no_value_and_the_ends_saturate():
    assert heat_levels(np.array([0.0, 1e-9, 0.001, 1.0 - 1e-9, 1.0])).tolist() == [0, 1, 1, 255, 255]
    assert heat_probability(0) == 0.0
    assert float(heat_probability(1)) == pytest.approx(1 / (1 + np.exp(4.0)), rel=1e-5)


def test_scores_near_one_get_levels_of_their_own():
    # The CAD's validation curve runs from 2 false marks per image (p 0.78) to 0.2 (p 0.9999):
    # on a linear uint8 scale 0.99, 0.999 and 0.9999 were all level 255 or 254.
    levels = heat_levels(np.array([0.78, 0.97, 0.99, 0.999, 0.9999]))
    assert np.all(np.diff(levels.astype(int)) >= 10), levels


def test_heatmap_as_float_is_the_probability():
    p = np.array([[0.0, 0.2, 0.5], [0.9, 0.99, 0.9999]], dtype=np.float32)
    hm = Heatmap("abnormal", heat_levels(p), 0.0, 0.0, 8.0, 8.0)
    got = hm.as_float()
    assert got.dtype == np.float32 and got[0, 0] == 0.0
    logit = lambda q: np.log(q / (1 - q))  # noqa: E731
    assert np.allclose(logit(got[p > 0]), logit(p[p > 0].astype(np.float64)), atol=0.04)  # half a level


def test_lookup_table_hides_values_below_the_threshold_with_a_soft_edge():
    lut = heat_lut(0.9)
    first = threshold_level(0.9)
    assert lut[0, 3] == 0 and not lut[:first, 3].any()
    assert 0 < lut[first, 3] < 255 and lut[-1, 3] == 255
    assert np.all(np.diff(lut[first:, 3].astype(int)) >= 0)
    # colours run blue (low levels) to red (top)
    assert lut[10, 2] > lut[10, 0] and lut[250, 0] > lut[250, 2]
    assert heat_lut(0.0)[1, 3] > 0  # threshold 0: every level but "no value"


def test_detect_picture_paints_only_what_the_viewer_shows_by_default():
    grey = np.full((64, 64), 0.5, dtype=np.float32)
    p = np.zeros((8, 8))
    p[1, 1], p[5, 5] = 0.5, 0.999  # below and above the default threshold
    hm = Heatmap("abnormal", heat_levels(p), 0.0, 0.0, 8.0, 8.0)
    rgb = overlay(grey, hm).astype(int)
    grey_rgb = round(0.5 * 255)
    assert np.all(rgb[8:16, 8:16] == grey_rgb)  # p 0.5 < 0.80: untouched
    assert np.abs(rgb[40:48, 40:48] - grey_rgb).max() > 40  # p 0.999: coloured
    assert DEFAULT_THRESHOLD == 0.80
    assert np.abs(overlay(grey, hm, threshold=0.3)[8:16, 8:16].astype(int) - grey_rgb).max() > 10


def test_detect_picture_keeps_the_last_rows_and_columns_of_an_image_not_a_multiple_of_its_block():
    """A picture block-sampled by 2 of a 2049 x 101 image: its last row and column (a partial block) were black."""
    grey = np.full((2049, 101), 0.5, dtype=np.float32)
    hm = Heatmap("abnormal", np.zeros((4, 4), np.uint8), 0.0, 0.0, 32.0, 600.0)
    rgb = overlay(grey, hm)
    assert rgb.shape == (1025, 51, 3)
    assert (rgb == round(0.5 * 255)).all()
