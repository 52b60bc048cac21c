"""Classify image patches (``mammoview classify``): the same preprocessing, no breast mask.

A patch is assumed to be all tissue, so its intensities are normalised over the whole
patch (training normalises over the whole breast; for a patch cut from a breast this is
the closest available estimate).  Any size works: the network is fully convolutional
and global-average-pooled.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from skimage import filters

from mammoview.cad.device import autocast
from mammoview.cad.preprocess import normalize
from mammoview.cad.registry import OUTPUTS
from mammoview.cad.resample import resample
from mammoview.cad.weights import LoadedModel


def prepare_patch(
    presentation: npt.NDArray[np.float32], model: LoadedModel, spacing: tuple[float, float] | None
) -> npt.NDArray[np.float32]:
    """(C, H, W) network input: resampled to the model's pixel size when ``spacing`` is known."""
    cfg = model.preprocess
    img = np.asarray(presentation, dtype=np.float32)
    if spacing is not None:
        img = resample(img, spacing, cfg.pixel_size_mm)
    least = int(getattr(model.model, "feature_stride", 1))  # one cell of the network's grid
    if min(img.shape) < least:
        mm = f"{least * cfg.pixel_size_mm:g} mm" if spacing is not None else "that many pixels: no spacing known"
        raise ValueError(f"patch of {img.shape[1]} x {img.shape[0]} px at the model's {cfg.pixel_size_mm:g} mm/px is "
                         f"smaller than the network reads: at least {least} px a side ({mm})")  # fmt: skip
    everything = np.ones(img.shape, dtype=bool)
    norm = normalize(img, everything, cfg.normalization, cfg.clip)
    channels = [norm]
    if cfg.sobel_channel:
        channels.append(normalize(filters.sobel(norm), everything, "zscore", cfg.clip))  # type: ignore[no-untyped-call]
    return np.stack(channels).astype(np.float32)


def classify_patch(model: LoadedModel, data: npt.NDArray[np.float32]) -> dict[str, float]:
    """Probabilities of one prepared patch.

    Returns ``normal``, ``mass``, ``calcification`` (one softmax), ``malignant_given_lesion``
    (sigmoid) and ``malignant`` = (1 - normal) * malignant_given_lesion.
    """
    net = model.model
    with torch.inference_mode(), autocast(model.device):
        logits = net(torch.from_numpy(np.ascontiguousarray(data))[None].to(model.device))[0].float().cpu()
    tissue = torch.softmax(logits[:3], dim=0)
    mal = float(torch.sigmoid(logits[3]))
    probs = {name: float(p) for name, p in zip(OUTPUTS[:3], tissue, strict=True)}
    probs["malignant_given_lesion"] = mal
    probs["malignant"] = (1.0 - probs["normal"]) * mal
    return probs
