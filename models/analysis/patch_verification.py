"""Lesion-vs-normal patch metrics of the detector alone and with its verifier, on the same validation patches.

    .venv/bin/python models/analysis/patch_verification.py --patches runs/patches/ctx

The paper's patch-level figure (accuracy of lesion vs normal tissue) for the CAD as shipped: each
validation patch of the detector's patch set (random normal tissue, as the model card's table) is
scored by the detector (its own patch, 0.3 mm with context) and by the verifier on a crop centred on
the same stored-grid point at the verifier's pixel size (0.6 mm, the whole image prepared as the
engine does); the combined score is the engine's (``mammoview.cad.verification.combined_score``:
the mean of the two log-odds).  MAGIC-5 patches (5 mm squares, nothing to crop at 0.6 mm) keep the
detector's score and are reported apart.  Prints accuracy / precision / recall at p 0.5 and AUC, per
source and overall.  Needs ../shared/data (or MAMMOVIEW_DATA) and the installed models.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from mammoview.cad.malignancy import crop_logits
from mammoview.cad.verification import abnormal_log_odds, load_verifier
from mammoview.cad.weights import load_model
from mammoview.training.datasets import PatchSet
from mammoview.training.eval_inputs import EvaluateOptions
from mammoview.training.eval_patches import evaluate_patches
from mammoview.training.metrics import roc_auc
from mammoview.training.patches import prepare_source
from mammoview.training.sources import all_sources, default_data_dir


def report(name: str, y: np.ndarray, z: np.ndarray) -> None:
    pred = z >= 0
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    print(f"  {name:28s} n {len(y):5d}  acc {np.mean(pred == y):.3f}  precision {tp / max(tp + fp, 1):.3f}  "
          f"recall {tp / max(int(y.sum()), 1):.3f}  AUC {roc_auc(y, z).auc:.3f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    ap.add_argument("--models-dir", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_verifier(load_model(None, args.models_dir, "cpu"), args.models_dir)
    if model.verifier is None:
        raise SystemExit("no verifier installed for the default detector")
    ps = PatchSet(args.patches)
    val = ps.split("val")
    out = evaluate_patches(model.model, ps, EvaluateOptions(out=Path(".")), "cpu", None)
    probs = out["_probs"]  # rows of val: normal, mass, calcification, malignant
    z1 = np.log(np.clip(probs[:, 1] + probs[:, 2], 1e-12, 1)) - np.log(np.clip(probs[:, 0], 1e-12, 1))
    y = ps.labels[val] != "normal"
    sources = {s.image_id: s for s in all_sources(default_data_dir(), ("cbis", "mias"))}
    ver = model.verifier
    context = int(ver.entry.extra.get("context_px", 0))
    z2 = np.full(len(val), np.nan)
    rows = [ps.index[i] for i in val]
    by_image: dict[str, list[int]] = {}
    for k, r in enumerate(rows):
        if r["source"] != "magic5":
            by_image.setdefault(r["image_id"], []).append(k)
    for image_id, ks in by_image.items():
        prep = prepare_source(sources[image_id], ver.preprocess)
        centres = [(float(rows[k]["cx"]), float(rows[k]["cy"])) for k in ks]
        z2[ks] = abnormal_log_odds(crop_logits(ver.model, prep, ver.entry.patch_size, context, centres))
    weight = 0.5
    both = np.where(np.isnan(z2), z1, (1 - weight) * z1 + weight * np.nan_to_num(z2))
    src = ps.sources[val]
    print(f"{args.patches}: {len(val)} validation patches ({int(y.sum())} lesion); detector "
          f"{model.entry.name} {model.entry.version}, verifier {ver.entry.name} {ver.entry.version}")  # fmt: skip
    for name, keep in (("all", np.ones(len(val), bool)), ("cbis", src == "cbis"), ("mias", src == "mias"),
                       ("magic5 (detector only)", src == "magic5")):  # fmt: skip
        print(name)
        report("detector", y[keep], z1[keep])
        if name.startswith("magic5"):
            continue
        report("detector + verifier", y[keep], both[keep])
        report("verifier alone", y[keep], np.nan_to_num(z2[keep]))


if __name__ == "__main__":
    main()
