"""The validation operating curve: false marks per image at a finding's score, thinning, validation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mammoview.cad.operating import OperatingCurve, describe_point, format_rate

# a hand-made FROC: 4 images; thresholds fall while FP/image and sensitivity rise
CURVE = OperatingCurve(thresholds=(0.99, 0.95, 0.9, 0.5), fpi=(0.0, 0.25, 1.0, 2.0),
                       sensitivity=(0.2, 0.5, 0.6, 0.8), images=4, lesions=5, data="toy")  # fmt: skip


def test_rate_and_sensitivity_at_a_score():
    assert CURVE.fp_per_image(0.95) == pytest.approx(0.25)
    assert CURVE.sensitivity_at(0.9) == pytest.approx(0.6)
    assert CURVE.fp_per_image(0.925) == pytest.approx(0.625)  # linear between the stored points
    assert CURVE.fp_per_image(0.999) == 0.0  # stricter than every measured point: nothing was marked
    assert CURVE.fp_per_image(0.1) == pytest.approx(2.0)  # looser than the curve: its last rate
    rates = [CURVE.fp_per_image(s) for s in np.linspace(0.0, 1.0, 101)]
    assert all(a >= b for a, b in itertools.pairwise(rates))  # a higher score never reads worse
    with pytest.raises(ValueError, match="finite"):
        CURVE.fp_per_image(math.nan)


def test_round_trip_and_bad_curves():
    assert OperatingCurve.from_dict(CURVE.to_dict()) == CURVE
    with pytest.raises(ValueError, match="fall while"):
        OperatingCurve(thresholds=(0.5, 0.9), fpi=(0.0, 1.0), sensitivity=(0.1, 0.2))
    with pytest.raises(ValueError, match="fall while"):
        OperatingCurve(thresholds=(0.9, 0.5), fpi=(1.0, 0.0), sensitivity=(0.1, 0.2))
    with pytest.raises(ValueError, match=">= 2 points"):
        OperatingCurve(thresholds=(0.9,), fpi=(0.0,), sensitivity=(0.1,))
    with pytest.raises(ValueError, match="missing or malformed"):
        OperatingCurve.from_dict({"threshold": [0.9, 0.5], "fpi": [0.0, 1.0]})


def test_thinning_a_full_froc_keeps_its_ends_and_shape():
    rng = np.random.default_rng(0)
    n = 2000
    thresholds = [None, *np.sort(rng.uniform(0, 1, n))[::-1].tolist()]  # FrocResult: +inf (None) first
    fpi = [0.0, *np.linspace(0.0, 9.0, n).tolist()]
    sens = [0.0, *np.linspace(0.05, 0.9, n).tolist()]
    thin = OperatingCurve.from_froc(thresholds, fpi, sens, images=10, lesions=20, max_points=40)
    assert len(thin.thresholds) <= 40
    assert thin.thresholds[0] == thresholds[1] and thin.thresholds[-1] == thresholds[-1]
    assert thin.fpi[-1] == pytest.approx(9.0)
    # interpolating the thinned curve stays close to the full one where the shown findings sit
    full = OperatingCurve(tuple(thresholds[1:]), tuple(fpi[1:]), tuple(sens[1:]))
    for s in np.quantile(thresholds[1:], [0.999, 0.99, 0.95, 0.9]):
        assert thin.fp_per_image(s) == pytest.approx(full.fp_per_image(s), abs=0.05 + 0.1 * full.fp_per_image(s))
    with pytest.raises(ValueError, match="fewer than 2"):
        OperatingCurve.from_froc([None, 0.5], [0.0, 1.0], [0.0, 0.5])


def test_format_rate():
    assert format_rate(0.0) == "<0.01 FP/img"
    assert format_rate(0.034) == "0.03 FP/img"
    assert format_rate(0.31) == "0.3 FP/img"
    assert format_rate(1.26) == "1.3 FP/img"
    assert format_rate(12.4) == "12 FP/img"


def test_threshold_for_a_rate_inverts_the_curve():
    assert CURVE.threshold_for(0.25) == pytest.approx(0.95)
    assert CURVE.threshold_for(0.625) == pytest.approx(0.925)  # between points, as fp_per_image interpolates
    assert CURVE.threshold_for(2.0) == CURVE.threshold_for(7.0) == 0.5  # the loosest measured point
    for rate in np.linspace(0.0, 2.0, 41):
        assert CURVE.fp_per_image(CURVE.threshold_for(rate)) == pytest.approx(rate)
    assert CURVE.max_fpi == 2.0
    assert CURVE.points((0.25, 1.0, 3.0)) == [(0.25, pytest.approx(0.95), 0.5), (1.0, 0.9, 0.6)]  # 3 is beyond
    with pytest.raises(ValueError, match=">= 0"):
        CURVE.threshold_for(-0.1)
    with pytest.raises(ValueError, match="finite"):
        CURVE.threshold_for(math.inf)


def test_threshold_for_takes_the_loose_end_of_a_plateau_and_nothing_below_the_strictest_rate():
    plateau = OperatingCurve(thresholds=(0.99, 0.95, 0.9, 0.5), fpi=(0.1, 0.5, 0.5, 2.0),
                             sensitivity=(0.2, 0.4, 0.6, 0.8))  # fmt: skip
    assert plateau.threshold_for(0.5) == 0.9  # same false marks, more lesions found
    assert plateau.sensitivity_at(plateau.threshold_for(0.5)) == pytest.approx(0.6)
    strict = plateau.threshold_for(0.05)  # below the strictest measured rate
    assert strict > 0.99 and plateau.fp_per_image(strict) == 0.0


def test_describe_point():
    assert describe_point(0.95, CURVE) == "p ≥ 0.950 · 0.2 FP/img · finds 50%"
    assert describe_point(0.95, CURVE, rate=0.25) == "p ≥ 0.950 · 0.25 FP/img · finds 50%"  # as chosen
    assert describe_point(0.99971, None) == "p ≥ 0.9997"  # near 1: a fourth decimal


def test_thinning_keeps_the_preset_rates_exact():
    """The viewer's 0.25 / 0.5 / 1 / 2 FP/img choices read a thinned curve; its points at those rates were dropped
    when they fell between the log-spaced rates kept, and the interpolated '1 FP/img' threshold marked up to
    1.07 false positives per image on the validation data it came from (a helper review)."""
    rng = np.random.default_rng(3)
    n = 3000
    thresholds = np.sort(rng.uniform(0, 1, n))[::-1]
    fpi = np.cumsum(rng.random(n) < 0.6) / 250  # 250 images: FP/img rises by 1/250 at most findings
    sens = np.cumsum(rng.random(n) < 0.1) / 400
    thin = OperatingCurve.from_froc([None, *thresholds], [0.0, *fpi], [0.0, *sens], max_points=64)
    for rate in (0.25, 0.5, 1.0, 2.0):
        t = thin.threshold_for(rate)
        k = int(np.flatnonzero(thresholds >= t)[-1])  # the marks at t: every finding scoring >= t
        best = int(np.flatnonzero(fpi <= rate)[-1])  # the loosest point of the full curve within the rate
        assert fpi[k] <= rate and sens[k] == sens[best], rate
