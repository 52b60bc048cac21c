"""Which CBIS validation masses the CAD finds, by mass size: the numbers behind MODEL_CARD.md's window choice.

    .venv/bin/python models/analysis/missed_by_size.py runs/eval/default-1.3 [--patches runs/patches/ctx]
    .venv/bin/python models/analysis/missed_by_size.py runs/eval/verified2 --sheet runs/missed.png

Reads an evaluation's ``detections-cbis.json`` (`mammoview evaluate --out DIR`), matches it to the
CBIS-DDSM ground truth of the validation patients, and prints per size bin (the larger side of
the mass box in mm) how many masses have a finding centre inside their box at any score
("ever") and at the model's finding threshold, and, of the masses never hit, how many have a
finding centre within 5 or 10 mm of their box (near misses: a localisation problem, not a
detection one).  ``--sheet PNG``: a contact sheet of the masses never hit, to look at: each a 35 mm
crop around its box (red) beside its whole image with the box and the image's top 5 findings (green),
at the CBIS JPEG's roughly square-pixel aspect (800 rows x 488 columns).  Needs ../shared/data (or
MAMMOVIEW_DATA).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mammoview.training.eval_inputs import load_detections, validation_patients
from mammoview.training.froc import match_detections
from mammoview.training.sources import cbis_images, default_data_dir

BINS_MM = ((0, 10), (10, 15), (15, 20), (20, 30), (30, 1000))


def box_gap_mm(center: list[float], bbox: tuple[float, float, float, float], row_mm: float, col_mm: float) -> float:
    """Distance (mm) from a point to a box, 0 inside it."""
    dx = max(bbox[0] - center[0], 0.0, center[0] - bbox[2]) * col_mm
    dy = max(bbox[1] - center[1], 0.0, center[1] - bbox[3]) * row_mm
    return float(np.hypot(dx, dy))


def contact_sheet(missed: list[tuple[Path, tuple[float, float, float, float], list[list[float]]]], out: Path) -> None:
    """Each never-hit mass: a crop around its box, and its image with the box and the top findings."""
    from PIL import Image, ImageDraw

    tiles = []
    for path, (x0, y0, x1, y1), centres in missed:
        sx = 488 / 800  # columns of the stretched 800 x 800 JPEG to roughly square pixels
        im = Image.open(path).convert("L").resize((488, 800)).convert("RGB")
        cx, cy, half = (x0 + x1) / 2 * sx, (y0 + y1) / 2, 60  # 120 px at ~0.29 mm: 35 mm
        crop = im.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
        ImageDraw.Draw(crop).rectangle((x0 * sx - cx + half, y0 - cy + half, x1 * sx - cx + half, y1 - cy + half),
                                       outline=(255, 0, 0))  # fmt: skip
        whole = im.copy()
        draw = ImageDraw.Draw(whole)
        draw.rectangle((x0 * sx, y0, x1 * sx, y1), outline=(255, 0, 0), width=3)
        for fx, fy in centres[:5]:
            draw.ellipse((fx * sx - 6, fy - 6, fx * sx + 6, fy + 6), outline=(0, 255, 0), width=2)
        tile = Image.new("RGB", (200, 130))
        tile.paste(crop.resize((120, 120)), (0, 5))
        tile.paste(whole.resize((73, 120)), (125, 5))
        tiles.append(tile)
    cols = 6
    sheet = Image.new("RGB", (cols * 200, max(1, -(-len(tiles) // cols)) * 130))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % cols) * 200, (i // cols) * 130))
    sheet.save(out)
    print(f"{len(tiles)} never-hit masses: {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    ap.add_argument("--sheet", type=Path, help="write a contact sheet PNG of the masses never hit")
    args = ap.parse_args()
    threshold = float(json.loads((args.eval_dir / "metrics.json").read_text())["model"]["finding_threshold"])
    pairs, _ = match_detections(
        load_detections([args.eval_dir / "detections-cbis.json"]), cbis_images(default_data_dir())
    )
    patients = validation_patients(args.patches)
    rows = []
    missed = []
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
            if best == 0 and src.source == "cbis":
                missed.append((src.path, lesion.bbox, [f["center"] for f in det["findings"]]))
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
    if args.sheet:
        contact_sheet(missed, args.sheet)


if __name__ == "__main__":
    main()
