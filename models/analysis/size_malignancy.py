"""How much of CBIS-DDSM mass malignancy the box size alone tells: the baseline a malignancy output must beat.

    .venv/bin/python models/analysis/size_malignancy.py [--patches runs/patches/ctx]

For every CBIS-DDSM image with a known pathology and located masses, the larger side (mm) of its
largest mass box is the score; prints the benign-vs-malignant ROC AUC of that score on the training
and on the validation patients of the split in ``--patches``.  Needs ../shared/data (or
MAMMOVIEW_DATA).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mammoview.training.eval_inputs import validation_patients
from mammoview.training.metrics import roc_auc
from mammoview.training.sources import cbis_images, default_data_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    args = ap.parse_args()
    val = validation_patients(args.patches)
    rows: dict[str, list[tuple[int, float]]] = {"train": [], "validation": []}
    for s in cbis_images(default_data_dir()):
        boxes = [lesion.bbox for lesion in s.lesions if lesion.bbox is not None]
        if s.malignant is None or not boxes:
            continue
        row_mm, col_mm = s.spacing
        size = max(max((x1 - x0) * col_mm, (y1 - y0) * row_mm) for x0, y0, x1, y1 in boxes)
        rows["validation" if s.patient in val else "train"].append((int(s.malignant), size))
    for name, pairs in rows.items():
        y, size = (np.array(v) for v in zip(*pairs, strict=True))
        auc = roc_auc(y, size)
        lo, hi = auc.ci95
        print(f"{name:>10}: {len(y)} images, {y.mean():.0%} malignant, box-size AUC {auc.auc:.3f} [{lo:.2f}, {hi:.2f}]")


if __name__ == "__main__":
    main()
