"""The patch level of an evaluation: the network on the validation patches of a ``PatchSet``, as probabilities,
and their 3-way and lesion-vs-normal metrics, AUCs and per-source breakdown (:func:`.metrics.patch_metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from mammoview.training.eval_inputs import EvaluateOptions, check_patch_level
from mammoview.training.metrics import patch_metrics


def patch_probabilities(
    module: Any,
    x: npt.NDArray[np.float32],
    device: Any = "cpu",
    batch_size: int = 256,
    context: int = 0,
    flip: bool = False,
) -> npt.NDArray[np.float64]:
    """Network outputs on patches as probabilities ``(N, 4)``: tissue softmax + malignant sigmoid.

    ``context``: px of surroundings around each patch in ``x`` (only the centre is pooled).  ``flip``: the logits of
    each patch and of its mirror image averaged, as a model with ``test_time_flip`` reads whole images (the mean of
    the two CAMs, pooled, is the mean of the two pooled logits: the head is linear).
    """
    import torch

    def run(xb: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = module.forward_context(xb, context) if context else module(xb)
        return logits.float()

    out = []
    with torch.inference_mode():
        for i in range(0, x.shape[0], batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size])).to(device)
            logits = (run(xb) + run(xb.flip(-1))) / 2 if flip else run(xb)
            tissue = torch.softmax(logits[:, :3], dim=1)
            out.append(torch.cat([tissue, torch.sigmoid(logits[:, 3:4])], dim=1).cpu().numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 4))


def evaluate_patches(
    module: Any, ps: Any, opts: EvaluateOptions, device: Any = "cpu", model_info: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Patch-level metrics of ``module`` on the validation split of the ``PatchSet`` ``ps``.

    Patches are run in groups of equal content size (MAGIC-5 patches are smaller than
    the slot they sit in): the network is fully convolutional, and a zero border it
    never saw in training would bias those patches.
    """
    notes = check_patch_level(ps, model_info)
    val = ps.split("val")
    # as the model reads whole images: with its mirror pass where it has one (``test_time_flip``, or --flip-tta)
    flip = bool((model_info or {}).get("test_time_flip", False))
    probs = np.zeros((len(ps), 4), dtype=np.float64)
    for size, idx in ps.groups(val).items():
        x, _, _ = ps.arrays(idx)
        probs[idx] = patch_probabilities(module, x, device, opts.batch_size, ps.context_of(size), flip=flip)
    mal = [None if np.isnan(m) else bool(m) for m in ps.malignant[val]]
    # patient-level intervals: a patient's jittered patches of one lesion are not independent samples
    out = patch_metrics(probs[val], list(ps.labels[val]), mal, list(ps.sources[val]), opts.threshold,
                        patients=list(ps.patients[val]))  # fmt: skip
    out["n_patients"] = len(set(ps.patients[val].tolist()))
    out["test_time_flip"] = flip
    out["three_way"]["notes"] += notes
    # for the plots only; dropped before writing metrics.json
    out["_probs"], out["_labels"], out["_malignant"] = probs[val], ps.labels[val], ps.malignant[val]
    return out
