"""Calibrating the network's malignancy output: Platt scaling fitted on validation findings.

The network's malignancy head is trained on lesion patches of which about half are malignant
and it ends over-confident on whole images: the findings that hit a validation mass read
0.88-0.999 (median 0.986) while 57 % of those masses are malignant.  A reader shown
``M 0.97`` would read near-certainty into an output whose benign-vs-malignant AUC is about
0.6.  :class:`MalignancyCalibration` maps it to what it meant on the validation images,

    p' = sigmoid(slope * logit(p) + intercept),

fitted (:func:`fit_platt`, maximum likelihood) on the findings whose centre hits a validation
lesion of known pathology.  Both parameters come from data the model never trained on; the
mapping is monotone, so every ranking, ROC AUC and FROC is unchanged: only the numbers the
reader sees mean what they say ("of the masses the CAD marked this way on its validation
images, this share was malignant").  No torch, no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

#: Probabilities are clipped this far from 0 and 1 before the logit (float64 scores reach 1 - 1e-12).
EPS = 1e-12


def logit(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    q = np.clip(np.asarray(p, dtype=np.float64), EPS, 1.0 - EPS)
    out: npt.NDArray[np.float64] = np.log(q) - np.log1p(-q)
    return out


@dataclass(frozen=True)
class MalignancyCalibration:
    """Platt scaling of p(malignant | lesion); ``findings`` / ``malignant``: what it was fitted on."""

    slope: float
    intercept: float
    findings: int = 0
    malignant: int = 0
    data: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.slope) and math.isfinite(self.intercept)):
            raise ValueError("malignancy calibration: slope and intercept must be finite")
        if self.slope <= 0:
            raise ValueError(f"malignancy calibration: slope must be > 0 (monotone), got {self.slope}")

    def apply(self, p: float) -> float:
        """The calibrated probability of one network output ``p``."""
        return float(1.0 / (1.0 + math.exp(-(self.slope * float(logit(p)) + self.intercept))))

    def to_dict(self) -> dict[str, Any]:
        return {"method": "platt", "slope": self.slope, "intercept": self.intercept, "findings": self.findings,
                "malignant": self.malignant, "data": self.data}  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MalignancyCalibration:
        """The manifest form (:meth:`to_dict`); ValueError names what is missing or wrong."""
        if d.get("method", "platt") != "platt":
            raise ValueError(f"malignancy calibration: unknown method {d.get('method')!r}")
        try:
            return cls(float(d["slope"]), float(d["intercept"]), int(d.get("findings", 0)),
                       int(d.get("malignant", 0)), str(d.get("data", "")))  # fmt: skip
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malignancy calibration: missing or malformed {exc}") from exc


def fit_platt(p: npt.ArrayLike, y: npt.ArrayLike, l2: float = 1e-3) -> tuple[float, float]:
    """``(slope, intercept)`` maximising the likelihood of labels ``y`` given ``sigmoid(a logit(p) + b)``.

    Newton's method with step halving on the (convex) log loss plus a small ridge ``l2`` on the
    slope, so separable data still gives finite parameters.  The slope is kept > 0: a
    calibration must not turn the ranking around (an output that anti-ranks on validation is
    reported with the smallest slope, i.e. a near-constant probability, not reversed).
    """
    x, t = logit(p), np.asarray(y, dtype=np.float64)
    if x.size < 2 or t.min() == t.max():
        raise ValueError("fitting a calibration needs findings of both classes")

    def loss(w: npt.NDArray[np.float64]) -> float:
        z = w[0] * x + w[1]
        return float(np.mean(np.logaddexp(0.0, z) - t * z) + 0.5 * l2 * w[0] ** 2)

    w = np.array([1.0, 0.0])
    for _ in range(100):
        q = 1.0 / (1.0 + np.exp(-(w[0] * x + w[1])))
        g = np.array([np.mean((q - t) * x) + l2 * w[0], np.mean(q - t)])
        h = q * (1.0 - q)
        hess = np.array([[np.mean(h * x * x) + l2, np.mean(h * x)], [np.mean(h * x), np.mean(h) + 1e-12]])
        step = np.linalg.solve(hess, g)
        f0, k = loss(w), 1.0
        while loss(w - k * step) > f0 and k > 1e-6:
            k *= 0.5
        w = w - k * step
        if np.abs(k * step).max() < 1e-10:
            break
    if w[0] <= 1e-3:  # no positive ranking: the base rate, whatever the output
        return 1e-3, float(logit(t.mean())) - 1e-3 * float(x.mean())
    return float(w[0]), float(w[1])
