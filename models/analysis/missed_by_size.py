"""Which CBIS validation masses the CAD finds, by mass size: the numbers behind MODEL_CARD.md's window choice.

    .venv/bin/python models/analysis/missed_by_size.py runs/eval/default-1.3 [--patches runs/patches/ctx]

Reads an evaluation's ``detections-cbis.json`` (`mammoview evaluate --out DIR`), matches it to the
CBIS-DDSM ground truth of the validation patients, and prints per size bin (the larger side of
the mass box in mm) how many masses have a finding centre inside their box at any score
("ever") and at the model's finding threshold.  Needs ../shared/data (or MAMMOVIEW_DATA).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mammoview.training.evaluate import load_detections, validation_patients
from mammoview.training.froc import match_detections
from mammoview.training.sources import cbis_images, default_data_dir

BINS_MM = ((0, 10), (10, 15), (15, 20), (20, 30), (30, 1000))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    args = ap.parse_args()
    threshold = float(json.loads((args.eval_dir / "metrics.json").read_text())["model"]["finding_threshold"])
    pairs, _ = match_detections(
        load_detections([args.eval_dir / "detections-cbis.json"]), cbis_images(default_data_dir())
    )
    patients = validation_patients(args.patches)
    rows = []
    for src, det in pairs:
        if src.patient not in patients:
            continue
        row_mm, col_mm = det.get("pixel_spacing") or (float("nan"), float("nan"))
        for lesion in src.lesions:
            if lesion.bbox is None:
                continue
            x0, y0, x1, y1 = lesion.bbox
            best = max(
                (f["score"] for f in det["findings"] if x0 <= f["center"][0] <= x1 and y0 <= f["center"][1] <= y1),
                default=0.0,
            )
            rows.append((max((x1 - x0) * col_mm, (y1 - y0) * row_mm), best))
    size, best = np.array(rows).T
    print(f"{args.eval_dir}: {len(rows)} CBIS validation masses, finding threshold {threshold:g}")
    print(f"{'size (mm)':>10}  {'n':>4}  {'hit ever':>8}  {'hit at threshold':>16}")
    for lo, hi in BINS_MM:
        m = (size >= lo) & (size < hi)
        if m.any():
            label = f"{lo}-{hi}" if hi < 1000 else f">= {lo}"
            print(
                f"{label:>10}  {int(m.sum()):>4}  {np.mean(best[m] > 0):>8.2f}  {np.mean(best[m] >= threshold):>16.2f}"
            )


if __name__ == "__main__":
    main()
