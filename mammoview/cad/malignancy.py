"""Second-stage malignancy: a whole-lesion network's map, read at each finding (manifest task "malignancy").

The detector sees 29 mm patches at 0.3 mm and its malignancy head knows little more than a
mass's size.  A second network trained on lesion patches at 0.6 mm with context (58 mm: the
whole mass and its surroundings) is run, like the detector, fully convolutionally over the
whole image (:func:`mammoview.cad.inference.whole_image_maps`: its patch-equivalent map is the
classifier applied at every cell).  A finding's malignancy is that map's
p(malignant | lesion) at the finding's centre; the image's malignancy is the mean of it over
the image's top :data:`CANDIDATES` candidate findings (regions from
:data:`CANDIDATE_THRESHOLD` up, whatever threshold the marks are shown at), weighted by their
scores, as measured on the validation images (models/MODEL_CARD.md, "Known gaps").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage as ndi

from mammoview.cad.inference import ProbabilityMaps
from mammoview.cad.preprocess import PreparedImage
from mammoview.cad.types import Finding

#: Candidate findings the image's malignancy averages, and the region threshold they are cut at.
CANDIDATES = 3
CANDIDATE_THRESHOLD = 0.1


@dataclass(frozen=True, eq=False)
class MalignancyMap:
    """The second network's p(malignant | lesion) per cell, placed over the stored grid.

    ``values`` holds every cell's value with the cells outside the breast filled from the
    nearest breast cell, so a finding at the breast edge (where the coarser grid's mask ends
    earlier than the detector's) still reads the tissue next to it.
    """

    values: npt.NDArray[np.float32]
    stride_x: float  # stored pixels per cell
    stride_y: float
    offset: float  # cell (i, j) is centred at ((j + 0.5 + offset) * stride_x, ...)

    @classmethod
    def of(cls, maps: ProbabilityMaps, prepared: PreparedImage) -> MalignancyMap:
        values = maps.malignant_given_lesion.astype(np.float32)
        mask = maps.mask
        if mask.any() and not mask.all():
            idx = ndi.distance_transform_edt(~mask, return_distances=False, return_indices=True)
            values = values[idx[0], idx[1]]
        return cls(values, maps.stride * prepared.scale_x, maps.stride * prepared.scale_y, maps.offset)

    def at(self, x: float, y: float) -> float:
        """p(malignant | lesion) at stored pixel (x, y): the cells' log-odds interpolated bilinearly.

        The cells are 16 model pixels (9.6 mm at 0.6 mm) apart; a finding's centre rarely sits
        on one, and the nearest cell's window can be centred up to 4.8 mm off the lesion.
        """
        h, w = self.values.shape
        u = float(np.clip(x / self.stride_x - self.offset - 0.5, 0, w - 1))  # cell coordinates of (x, y)
        v = float(np.clip(y / self.stride_y - self.offset - 0.5, 0, h - 1))
        j0, i0 = min(int(u), w - 1), min(int(v), h - 1)
        j1, i1 = min(j0 + 1, w - 1), min(i0 + 1, h - 1)
        fu, fv = u - j0, v - i0
        q = np.clip(self.values[[i0, i0, i1, i1], [j0, j1, j0, j1]].astype(np.float64), 1e-7, 1 - 1e-7)
        lg = np.log(q) - np.log1p(-q)
        z = (1 - fv) * ((1 - fu) * lg[0] + fu * lg[1]) + fv * ((1 - fu) * lg[2] + fu * lg[3])
        return float(1.0 / (1.0 + np.exp(-z)))

    def image_malignancy(self, candidates: Sequence[Finding]) -> float:
        """Score-weighted mean over the top :data:`CANDIDATES` candidates (0 with none)."""
        top = sorted(candidates, key=lambda f: f.score, reverse=True)[:CANDIDATES]
        weights = np.array([f.score for f in top], dtype=np.float64)
        if not top or weights.sum() <= 0:
            return 0.0
        return float(np.dot(weights, [self.at(*f.center) for f in top]) / weights.sum())
