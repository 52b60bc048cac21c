"""Does comparing a breast with the woman's other breast separate abnormal from normal mini-MIAS images better?

    .venv/bin/mammoview detect ../shared/data/mini-mias/images --pixel-spacing 0.2 --json runs/mias-all.json
    .venv/bin/python models/analysis/bilateral.py runs/mias-all.json [--patches runs/patches/ctx]

A radiologist reads each breast against the other: a dense breast that looks like its partner is less suspicious
than one that does not.  mini-MIAS pairs the two MLO views of each woman (mdb(2k-1) right, mdb(2k) left).  The
score of an image is ``logit(abnormal) - alpha * logit(abnormal of the other breast)``; alpha 0 is the shipped image
score.  Prints the abnormal-vs-normal ROC AUC (every abnormal image a positive, as ``mammoview evaluate`` counts
them) on the training and on the validation patients of the split in ``--patches``, for alpha 0, 0.5 and 1.  The
detector was trained on the training patients' lesions, so their figures are optimistic in level; what matters is
whether the comparison helps on both sides.  Needs ../shared/data (or MAMMOVIEW_DATA).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from mammoview.training.eval_inputs import validation_patients
from mammoview.training.metrics import roc_auc
from mammoview.training.sources import default_data_dir, mias_images

ALPHAS = (0.0, 0.5, 1.0)


def logit(p: float) -> float:
    p = min(max(p, 1e-7), 1 - 1e-7)
    return float(np.log(p / (1 - p)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("detections", type=Path, help="mammoview detect's JSON over every mini-MIAS image")
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    args = ap.parse_args()
    val = validation_patients(args.patches)
    scores = {
        Path(im["path"]).name: logit(im["scores"]["abnormal"])
        for im in json.loads(args.detections.read_text())["images"]
        if "scores" in im
    }
    images = [s for s in mias_images(default_data_dir()) if s.path.name in scores]
    by_patient: dict[str, list[str]] = defaultdict(list)
    for s in images:
        by_patient[s.patient].append(s.path.name)
    for side in ("train", "validation"):
        chosen = [s for s in images if (s.patient in val) == (side == "validation")]
        labels = np.array([int(s.abnormal) for s in chosen])
        for alpha in ALPHAS:
            values = []
            for s in chosen:
                other = [n for n in by_patient[s.patient] if n != s.path.name]
                own = scores[s.path.name]
                values.append(own - alpha * (scores[other[0]] if other else own))
            auc = roc_auc(labels, np.array(values))
            counts = f"{labels.sum()} abnormal, {len(labels) - labels.sum()} normal"
            print(f"{side:10s} alpha {alpha:.1f}: AUC {auc.auc:.3f} ({counts})")


if __name__ == "__main__":
    main()
