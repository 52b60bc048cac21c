"""How much malignancy information the CAD has: the numbers behind MODEL_CARD.md's malignancy notes.

    .venv/bin/python models/analysis/malignancy.py --model mammoview-vgg --patches runs/patches/ctx \
        --eval runs/eval/default-1.2

1. A linear probe: an L2-regularised logistic regression of benign vs malignant on the model's
   pooled features of the lesion patches of the training patients, scored (ROC AUC) on the
   validation patients' lesion patches, next to the trained head's own malignancy logit.
2. Breast-level malignancy AUCs from an evaluation's detect JSON (`--eval`, CBIS validation
   images): the per-view scores combined by max, mean, minimum and geometric mean.

Prints a table; writes nothing.  Needs ../shared/data (or MAMMOVIEW_DATA) for step 2.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from mammoview.cad.weights import load_model
from mammoview.training.datasets import PatchSet
from mammoview.training.eval_inputs import load_detections, validation_patients
from mammoview.training.froc import match_detections
from mammoview.training.metrics import roc_auc
from mammoview.training.sources import cbis_images, default_data_dir
from mammoview.training.validate import make_groups


def pooled_features(net, ps: PatchSet, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, malignant 0/1, trained malignancy logit) of the split's lesion patches of known pathology."""
    idx = ps.split(split)
    idx = idx[(ps.y[idx] > 0) & np.isfinite(ps.malignant[idx])]
    feats, ys, logits = [], [], []
    for g in make_groups(ps, idx):
        if g.size < net.feature_stride:
            continue
        for s in range(0, len(g), 256):
            x, _, mal = g.batch(np.arange(s, min(len(g), s + 256)))
            with torch.no_grad():
                f = net.forward_features(x)
                m = g.context // net.feature_stride
                if m:
                    f = f[:, :, m:-m, m:-m]
                pooled = f.mean(dim=(2, 3))
                logits.append(net.head(pooled)[:, 3].numpy())
            feats.append(pooled.numpy())
            ys.append(mal.numpy() > 0.5)
    return np.concatenate(feats), np.concatenate(ys), np.concatenate(logits)


def probe(xtr: np.ndarray, ytr: np.ndarray, xva: np.ndarray, lam: float) -> np.ndarray:
    """Validation decision values of a class-weighted, L2-regularised logistic regression (LBFGS)."""
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    x = torch.tensor((xtr - mu) / sd, dtype=torch.float32)
    y = torch.tensor(ytr, dtype=torch.float32)
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=500)
    pos_weight = (1 - y.mean()) / y.mean()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y, pos_weight=pos_weight)
        loss = loss + lam * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (torch.tensor((xva - mu) / sd, dtype=torch.float32) @ w + b).numpy()


def breast_aucs(eval_dir: Path, patches: Path) -> dict[str, float]:
    docs = load_detections([eval_dir / "detections-cbis.json"])
    patients = validation_patients(patches)
    pairs, _ = match_detections(docs, cbis_images(default_data_dir()))
    breasts: dict[tuple[str, str], list[tuple[bool, float]]] = defaultdict(list)
    for s, e in pairs:
        if s.patient in patients and s.malignant is not None:
            breasts[(s.patient, str(e["laterality"]))].append((bool(s.malignant), float(e["scores"]["malignant"])))
    y = np.array([any(m for m, _ in v) for v in breasts.values()])
    combine = {
        "max": np.max,
        "mean": np.mean,
        "min": np.min,
        "geometric mean": lambda a: float(np.exp(np.mean(np.log(np.clip(a, 1e-9, 1.0))))),
    }
    out = {f"breasts ({len(y)}, {int(y.sum())} malignant)": float("nan")}
    for name, f in combine.items():
        out[f"breast malignancy AUC, {name} over views"] = roc_auc(
            y, np.array([f([v for _, v in b]) for b in breasts.values()])
        ).auc
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="installed model (default: the default one)")
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    ap.add_argument("--eval", type=Path, default=None, help="a `mammoview evaluate --out` folder (step 2)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net = load_model(args.model, device="cpu").model.eval()
    ps = PatchSet(args.patches)
    xtr, ytr, _ = pooled_features(net, ps, "train")
    xva, yva, head = pooled_features(net, ps, "val")
    rows = {
        f"lesion patches train / val ({len(ytr)} / {len(yva)})": float("nan"),
        "trained head, validation AUC": roc_auc(yva, head).auc,
    }
    for lam in (1e-3, 1e-2, 1e-1, 1.0):
        rows[f"linear probe (L2 {lam:g}), validation AUC"] = roc_auc(yva, probe(xtr, ytr, xva, lam)).auc
    if args.eval is not None:
        rows.update(breast_aucs(args.eval, args.patches))
    for k, v in rows.items():
        print(f"{k:55s} {'' if np.isnan(v) else f'{v:.3f}'}")


if __name__ == "__main__":
    main()
