"""Lesion-vs-normal patch accuracy at the threshold the training patients choose, not at p = 0.5.

    .venv/bin/python models/analysis/patch_threshold.py [--patches runs/patches/ctx] [--model mammoview-vgg]

The patch level of `mammoview evaluate` calls a patch a lesion when 1 - p(normal) >= 0.5.  The networks were
trained with class-balanced sampling (square-root), which shifts their outputs towards the lesion classes, so 0.5
is not the accuracy's best threshold.  This script scores (as the model reads whole images: with its mirror pass
where it has one) a random sample of the training patients' patches and all validation patches, picks the
threshold that maximises accuracy on the training sample, and prints the validation accuracy at 0.5, at that
threshold, and at the validation's own best (optimistic: chosen on the data it is measured on).  Needs a patch set
(`mammoview extract-patches --out runs/patches/ctx --context 32`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mammoview.cad.weights import load_model
from mammoview.training.datasets import PatchSet
from mammoview.training.eval_patches import patch_probabilities

THRESHOLDS = np.round(np.arange(0.05, 0.996, 0.005), 3)


def lesion_scores(module: object, ps: PatchSet, idx: np.ndarray, flip: bool) -> np.ndarray:
    """1 - p(normal) of the patches ``idx`` (in ``idx``'s order)."""
    out = np.zeros(len(ps))
    for size, group in ps.groups(idx).items():
        x, _, _ = ps.arrays(group)
        out[group] = 1 - patch_probabilities(module, x, "cpu", 256, ps.context_of(size), flip=flip)[:, 0]
    return out[idx]


def accuracies(scores: np.ndarray, lesion: np.ndarray) -> np.ndarray:
    return np.array([((scores >= t) == lesion).mean() for t in THRESHOLDS])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    p.add_argument("--model", default="mammoview-vgg")
    p.add_argument("--models-dir", type=Path, default=None)
    p.add_argument("--train-sample", type=int, default=3000, help="training patches scored (random, seed 0)")
    args = p.parse_args()
    ps = PatchSet(args.patches, mmap=True)
    loaded = load_model(args.model, args.models_dir, "cpu")
    flip = loaded.entry.test_time_flip
    train = ps.split("train")
    train = np.sort(np.random.default_rng(0).choice(train, min(args.train_sample, len(train)), replace=False))
    val = ps.split("val")
    acc_train = accuracies(lesion_scores(loaded.model, ps, train, flip), ps.labels[train] != "normal")
    chosen = float(THRESHOLDS[int(np.argmax(acc_train))])
    val_scores, val_lesion = lesion_scores(loaded.model, ps, val, flip), ps.labels[val] != "normal"
    acc_val = accuracies(val_scores, val_lesion)
    at = {t: float(((val_scores >= t) == val_lesion).mean()) for t in (0.5, chosen)}
    print(f"{loaded.entry.name} {loaded.entry.version}, mirror pass {'on' if flip else 'off'}; "
          f"{len(train)} training / {len(val)} validation patches")  # fmt: skip
    print(f"training sample: accuracy {acc_train[int(np.argmax(acc_train))]:.3f} at its best threshold {chosen:.3f}")
    print(
        f"validation accuracy at 0.5: {at[0.5]:.3f}; at the training threshold {chosen:.3f}: {at[chosen]:.3f}; "
        f"at its own best ({float(THRESHOLDS[int(np.argmax(acc_val))]):.3f}, optimistic): {acc_val.max():.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
