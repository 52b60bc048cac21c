"""A model's validation operating curve: how many false marks per image the CAD makes at a score.

At the operating point of a high-specificity model every finding the viewer shows scores
0.97-1.00, and the third decimal says little to a reader.  What does say something is where
a finding sits on the model's measured FROC curve: ``fp_per_image(score)`` is the number of
false-positive marks per image the CAD made on its validation images when its threshold was
set at that score (and ``sensitivity(score)`` the share of lesions it found).  A finding at
0.1 FP/image is one the CAD makes rarely by mistake; one at 1 FP/image is at the edge of what
is shown.

The curve comes from ``mammoview evaluate`` (``metrics.json``: ``detection.froc.cbis_mass``)
and is stored, thinned, in the model's manifest entry (``operating_curve``).  Between stored
points both quantities are interpolated linearly in the score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Most points kept in a manifest (the full curve has one per distinct validation score).
MAX_POINTS = 64
#: Operating points the viewer offers (false marks per image; those FROC sensitivities are reported at).
PRESET_RATES = (0.25, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class OperatingCurve:
    """Operating points from the strictest threshold down (thresholds falling, rates rising).

    ``images``, ``lesions``: what the curve was measured on; ``data``: a short description.
    """

    thresholds: tuple[float, ...]
    fpi: tuple[float, ...]
    sensitivity: tuple[float, ...]
    images: int = 0
    lesions: int = 0
    data: str = ""

    def __post_init__(self) -> None:
        t, f, s = (np.asarray(v, dtype=np.float64) for v in (self.thresholds, self.fpi, self.sensitivity))
        if not (t.size == f.size == s.size) or t.size < 2:
            raise ValueError("an operating curve needs >= 2 points with a threshold, a rate and a sensitivity each")
        if not (np.isfinite(t).all() and np.isfinite(f).all() and np.isfinite(s).all()):
            raise ValueError("operating curve values must be finite")
        if np.any(np.diff(t) > 0) or np.any(np.diff(f) < 0) or np.any(np.diff(s) < 0):
            raise ValueError("operating curve: thresholds must fall while false positives and sensitivity rise")
        if f[0] < 0 or s[0] < 0 or s[-1] > 1:
            raise ValueError("operating curve: rates must be >= 0 and sensitivities in [0, 1]")

    def _interp(self, score: float, values: tuple[float, ...]) -> float:
        # np.interp needs rising x: walk the curve from the loosest threshold up
        t = np.asarray(self.thresholds[::-1])
        v = np.asarray(values[::-1])
        if score > t[-1]:
            return 0.0  # stricter than any measured point: nothing was marked there
        return float(np.interp(score, t, v))

    def fp_per_image(self, score: float) -> float:
        """False-positive marks per validation image with the threshold at ``score``."""
        if not math.isfinite(score):
            raise ValueError(f"score must be finite, got {score}")
        return self._interp(score, self.fpi)

    def sensitivity_at(self, score: float) -> float:
        """Share of validation lesions found with the threshold at ``score``."""
        return self._interp(score, self.sensitivity)

    def threshold_for(self, fpi: float) -> float:
        """The loosest threshold whose false marks per image (:meth:`fp_per_image`) stay <= ``fpi``.

        The inverse of :meth:`fp_per_image` on the interpolated curve: on a plateau (a rate
        that holds over a range of thresholds while more lesions are found) the loosest end,
        the one with the highest sensitivity.  A rate at or beyond the loosest measured point
        gives that point's threshold (the curve says nothing looser); a rate below the
        strictest point's gives a threshold just above it (nothing marked).
        """
        if not math.isfinite(fpi) or fpi < 0:
            raise ValueError(f"false positives per image must be finite and >= 0, got {fpi}")
        t, f = self.thresholds, self.fpi
        if f[-1] <= fpi:
            return float(t[-1])
        if f[0] > fpi:
            return float(np.nextafter(t[0], np.inf))
        i = max(k for k in range(len(f)) if f[k] <= fpi)  # f[i] <= fpi < f[i + 1]
        if f[i] == fpi or t[i] == t[i + 1]:
            return float(t[i])
        # linear in the score between points i and i + 1 (as fp_per_image interpolates)
        return float(t[i] + (fpi - f[i]) / (f[i + 1] - f[i]) * (t[i + 1] - t[i]))

    def points(self, rates: Sequence[float] = PRESET_RATES) -> list[tuple[float, float, float]]:
        """``(rate, threshold, sensitivity)`` for each of ``rates`` the curve reaches (the viewer's choices)."""
        out = []
        for rate in rates:
            if rate <= self.max_fpi:
                t = self.threshold_for(rate)
                out.append((float(rate), t, self.sensitivity_at(t)))
        return out

    @property
    def max_fpi(self) -> float:
        """The loosest measured rate (operating points beyond it cannot be set)."""
        return float(self.fpi[-1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data, "images": self.images, "lesions": self.lesions,
            "threshold": list(self.thresholds), "fpi": list(self.fpi), "sensitivity": list(self.sensitivity),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OperatingCurve:
        """The manifest form (:meth:`to_dict`); ValueError names what is missing or wrong."""
        try:
            return cls(
                thresholds=tuple(float(v) for v in d["threshold"]), fpi=tuple(float(v) for v in d["fpi"]),
                sensitivity=tuple(float(v) for v in d["sensitivity"]), images=int(d.get("images", 0)),
                lesions=int(d.get("lesions", 0)), data=str(d.get("data", "")),
            )  # fmt: skip
        except (KeyError, TypeError) as exc:
            raise ValueError(f"operating curve: missing or malformed {exc}") from exc

    @classmethod
    def from_froc(
        cls,
        thresholds: Sequence[float | None],
        fpi: Sequence[float],
        sensitivity: Sequence[float],
        *,
        images: int = 0,
        lesions: int = 0,
        data: str = "",
        max_points: int = MAX_POINTS,
    ) -> OperatingCurve:
        """Thin a full FROC curve (``FrocResult.to_dict()["curve"]``: ``None`` = the +inf start).

        A curve of at most ``max_points`` points is kept whole.  A longer one keeps its first
        and last points and, for each of about ``max_points / 2 - 1`` rates spaced evenly on
        a log scale, both ends of the plateau of the last point at or below that rate (so the
        strict end, where shown findings sit, keeps its detail, and a score on a kept plateau
        reads its rate exactly); and at each of :data:`PRESET_RATES` the last point within the rate and the one
        after it, so that :meth:`threshold_for` a preset rate gives the full curve's operating point. The curve
        may then hold a few points more than ``max_points``.
        """
        pts = [(float(t), float(f), float(s)) for t, f, s in zip(thresholds, fpi, sensitivity, strict=True)
               if t is not None and math.isfinite(float(t))]  # fmt: skip
        if len(pts) < 2:
            raise ValueError("the FROC curve has fewer than 2 finite operating points")
        keep = set(range(len(pts)))
        if len(pts) > max_points:
            rates = np.array([p[1] for p in pts])
            lo = max(float(rates[rates > 0].min(initial=rates[-1])), 1e-3)
            keep = {0, len(pts) - 1}
            for r in np.geomspace(lo, max(float(rates[-1]), lo), max(1, max_points // 2 - 1)):
                end = int(np.searchsorted(rates, r, side="right")) - 1
                if end >= 0:
                    keep |= {end, int(np.searchsorted(rates, rates[end], side="left"))}
            for r in PRESET_RATES:  # the viewer's choices: their point and the next, so no dropped point lies between
                end = int(np.searchsorted(rates, r, side="right")) - 1
                keep |= {i for i in (end, end + 1) if 0 <= i < len(pts)}
        chosen = [pts[i] for i in sorted(keep)]
        return cls(
            thresholds=tuple(p[0] for p in chosen), fpi=tuple(p[1] for p in chosen),
            sensitivity=tuple(p[2] for p in chosen), images=images, lesions=lesions, data=data,
        )  # fmt: skip


def format_rate(fpi: float, unit: bool = True) -> str:
    """``0.3 FP/img``: one decimal, two below 0.1, ``<0.01`` near zero (``unit=False``: the number alone)."""
    if fpi < 0.005:
        text = "<0.01"
    elif fpi < 0.1:
        text = f"{fpi:.2f}"
    elif fpi < 10:
        text = f"{fpi:.1f}"
    else:
        text = f"{fpi:.0f}"
    return f"{text} FP/img" if unit else text


def format_threshold(threshold: float) -> str:
    """``0.983``: an operating threshold as :func:`describe_point` prints it (four decimals from 0.9995 up)."""
    return f"{threshold:.3f}" if threshold < 0.9995 else f"{threshold:.4f}"


def describe_point(threshold: float, curve: OperatingCurve | None, rate: float | None = None) -> str:
    """``p >= 0.971 · 1.0 FP/img · finds 62%``: a threshold and, with a curve, what it meant on validation.

    ``rate``: the false marks per image the threshold was chosen for (:meth:`OperatingCurve.threshold_for`),
    printed as chosen (0.25, not a rounded 0.2 or 0.3).
    """
    text = f"p \u2265 {format_threshold(threshold)}"
    if curve is not None:
        found = curve.sensitivity_at(threshold)
        shown = f"{rate:g} FP/img" if rate else format_rate(curve.fp_per_image(threshold))
        text += f" \u00b7 {shown} \u00b7 finds {found:.0%}"
    return text
