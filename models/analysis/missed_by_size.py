"""Which CBIS validation masses the CAD finds, by mass size: the numbers behind MODEL_CARD.md's window choice.

    .venv/bin/python models/analysis/missed_by_size.py runs/eval/default-1.3 [--patches runs/patches/ctx]

Reads an evaluation's ``detections-cbis.json`` (`mammoview evaluate --out DIR`), matches it to the
CBIS-DDSM ground truth of the validation patients, and prints per size bin (the larger side of
the mass box in mm) how many masses have a finding centre inside their box at any score
("ever") and at the model's finding threshold, and, of the masses never hit, how many have a
finding centre within 5 or 10 mm of their box (near misses: a localisation problem, not a
detection one).  Needs ../shared/data (or MAMMOVIEW_DATA).
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


def box_gap_mm(center: list[float], bbox: tuple[float, float, float, float], row_mm: float, col_mm: float) -> float:
    """Distance (mm) from a point to a box, 0 inside it."""
    dx = max(bbox[0] - center[0], 0.0, center[0] - bbox[2]) * col_mm
    dy = max(bbox[1] - center[1], 0.0, center[1] - bbox[3]) * row_mm
    return float(np.hypot(dx, dy))


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
            gap = min((box_gap_mm(f["center"], lesion.bbox, row_mm, col_mm) for f in det["findings"]), default=np.inf)
            rows.append((max((x1 - x0) * col_mm, (y1 - y0) * row_mm), best, gap))
    size, best, gap = np.array(rows).T
    print(f"{args.eval_dir}: {len(rows)} CBIS validation masses, finding threshold {threshold:g}")
    near_title = "never hit: a finding <= 5 / 10 mm away"
    print(f"{'size (mm)':>10}  {'n':>4}  {'hit ever':>8}  {'hit at threshold':>16}  {near_title:>38}")
    for lo, hi in BINS_MM:
        m = (size >= lo) & (size < hi)
        if m.any():
            label = f"{lo}-{hi}" if hi < 1000 else f">= {lo}"
            miss = m & (best == 0)
            near = f"{int((gap[miss] <= 5).sum())} / {int((gap[miss] <= 10).sum())} of {int(miss.sum())}"
            print(f"{label:>10}  {int(m.sum()):>4}  {np.mean(best[m] > 0):>8.2f}  "
                  f"{np.mean(best[m] >= threshold):>16.2f}  {near:>38}")  # fmt: skip
    miss = best == 0
    print(f"{'all':>10}  {len(best):>4}  {np.mean(best > 0):>8.2f}  {np.mean(best >= threshold):>16.2f}  "
          f"{f'{int((gap[miss] <= 5).sum())} / {int((gap[miss] <= 10).sum())} of {int(miss.sum())}':>38}")  # fmt: skip


if __name__ == "__main__":
    main()
