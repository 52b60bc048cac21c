"""Second-stage malignancy: a whole-lesion network on a crop at each finding (manifest task "malignancy").

The detector sees 29 mm patches at 0.3 mm and its malignancy head knows little more than a
mass's size.  A second network trained on lesion patches at 0.6 mm with context (58 mm: the
whole mass and its surroundings) classifies a patch centred on each finding
(:class:`SecondStage`: every centre the viewer can show, at every operating point it offers,
is classified once, in one batch).  Its map over the whole image
(:func:`mammoview.cad.inference.whole_image_maps`, :class:`MalignancyMap`) answers for a centre
cut at any other threshold.  The image's p(malignant | lesion) is the mean over its top
:data:`CANDIDATES` candidate findings (regions from :data:`CANDIDATE_THRESHOLD` up, whatever
threshold the marks are shown at), weighted by their scores, as measured on the validation
images (models/MODEL_CARD.md, "Known gaps"); the image's malignancy is that (calibrated) times its
abnormal score (:func:`mammoview.cad.pipeline.analyse_image`), as the detector's own maps give it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from scipy import ndimage as ndi

from mammoview.cad.calibration import logit
from mammoview.cad.networks.layers import CadNet
from mammoview.cad.preprocess import PreparedImage
from mammoview.cad.probability_maps import ProbabilityMaps
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
    offset: float  # cell (i, j) is centred at ((j + 0.5 + offset) * stride_x + origin_x, ...)
    origin_x: float = 0.0  # stored pixels (ProbabilityMaps.origin_x)

    @classmethod
    def of(cls, maps: ProbabilityMaps, prepared: PreparedImage) -> MalignancyMap:
        values = maps.malignant_given_lesion.astype(np.float32)
        mask = maps.mask
        if mask.any() and not mask.all():
            idx = ndi.distance_transform_edt(~mask, return_distances=False, return_indices=True)
            values = values[idx[0], idx[1]]
        sx = prepared.scale_x
        return cls(values, maps.stride * sx, maps.stride * prepared.scale_y, maps.offset, maps.origin_x * sx)

    def at(self, x: float, y: float) -> float:
        """p(malignant | lesion) at stored pixel (x, y): the cells' log-odds interpolated bilinearly.

        The cells are 16 model pixels (9.6 mm at 0.6 mm) apart; a finding's centre rarely sits
        on one, and the nearest cell's window can be centred up to 4.8 mm off the lesion.
        """
        h, w = self.values.shape
        u = float(np.clip((x - self.origin_x) / self.stride_x - self.offset - 0.5, 0, w - 1))  # cell coordinates
        v = float(np.clip(y / self.stride_y - self.offset - 0.5, 0, h - 1))
        j0, i0 = min(int(u), w - 1), min(int(v), h - 1)
        j1, i1 = min(j0 + 1, w - 1), min(i0 + 1, h - 1)
        fu, fv = u - j0, v - i0
        lg = logit(self.values[[i0, i0, i1, i1], [j0, j1, j0, j1]])
        z = (1 - fv) * ((1 - fu) * lg[0] + fu * lg[1]) + fv * ((1 - fu) * lg[2] + fu * lg[3])
        return float(1.0 / (1.0 + np.exp(-z)))

    def image_malignancy(self, candidates: Sequence[Finding]) -> float:
        return image_malignancy(self, candidates)


@dataclass(frozen=True, eq=False)
class SecondStage:
    """The second network's p(malignant | lesion) at the centres classified from crops, else its map."""

    crops: dict[tuple[float, float], float]
    fallback: MalignancyMap

    def at(self, x: float, y: float) -> float:
        value = self.crops.get((x, y))
        return self.fallback.at(x, y) if value is None else value

    def image_malignancy(self, candidates: Sequence[Finding]) -> float:
        return image_malignancy(self, candidates)


def image_malignancy(stage: MalignancyMap | SecondStage, candidates: Sequence[Finding]) -> float:
    """Score-weighted mean of ``stage``'s malignancy over the top :data:`CANDIDATES` candidates (0 with none)."""
    top = sorted(candidates, key=lambda f: f.score, reverse=True)[:CANDIDATES]
    weights = np.array([f.score for f in top], dtype=np.float64)
    if not top or weights.sum() <= 0:
        return 0.0
    return float(np.dot(weights, [stage.at(*f.center) for f in top]) / weights.sum())


def crop_malignancy(net: CadNet, prepared: PreparedImage, patch: int, context: int,
                    centres: Sequence[tuple[float, float]], batch: int = 64) -> list[float]:  # fmt: skip
    """p(malignant | lesion) of a ``patch`` + ``context`` crop centred on each stored-grid centre.

    Mirror-averaged logits (as the map's test-time flip); the image is zero-padded (its
    normalised mean) where a crop reaches past it, as the validation analysis did.
    """
    logits = crop_logits(net, prepared, patch, context, centres, batch)
    return [float(v) for v in 1.0 / (1.0 + np.exp(-logits[:, 3]))] if len(centres) else []


def crop_logits(net: CadNet, prepared: PreparedImage, patch: int, context: int,
                centres: Sequence[tuple[float, float]], batch: int = 64) -> npt.NDArray[np.float64]:  # fmt: skip
    """The network's logits ``(N, outputs)`` on a ``patch`` + ``context`` crop centred on each stored-grid centre.

    Mirror-averaged (as the map's test-time flip); zero-padded (the normalised mean) past the image.
    """
    pad = patch + context
    data = np.pad(prepared.data, ((0, 0), (pad, pad), (pad, pad)))
    size = patch + 2 * context
    crops = []
    for x, y in centres:
        cx, cy = x / prepared.scale_x + pad, y / prepared.scale_y + pad
        x0, y0 = round(cx - size / 2), round(cy - size / 2)
        crops.append(data[:, y0 : y0 + size, x0 : x0 + size])
    out = []
    device = next(net.parameters()).device
    with torch.no_grad():
        for k in range(0, len(crops), batch):
            t = torch.from_numpy(np.ascontiguousarray(np.stack(crops[k : k + batch]))).to(device)
            lg = 0.5 * (net.forward_context(t, context) + net.forward_context(t.flip(-1), context))
            out.append(lg.float().cpu().numpy().astype(np.float64))
    return np.concatenate(out) if out else np.zeros((0, 0))
