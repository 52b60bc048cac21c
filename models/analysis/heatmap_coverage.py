"""How much of the breast the viewer's heatmap paints, and how many masses it covers, per threshold.

    .venv/bin/python models/analysis/heatmap_coverage.py [--patches runs/patches/ctx] [--max-images N]

Runs the shipped CAD (``mammoview-vgg``, as the viewer: mirror pass, its map windows) on the
CBIS-DDSM validation images of the patient split in ``--patches`` and prints, for each heatmap
threshold, the share of breast cells painted (the abnormal map at or above it, mean over images)
and the share of validation masses with a painted cell inside their box.  The numbers behind the
viewer's default heatmap threshold (``mammoview.cad.render.DEFAULT_THRESHOLD``).  Needs
../shared/data (or MAMMOVIEW_DATA).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.weights import load_model
from mammoview.io import read_image
from mammoview.training.eval_inputs import validation_images, validation_patients
from mammoview.training.sources import cbis_images, default_data_dir

THRESHOLDS = (0.3, 0.5, 0.8, 0.9, 0.97, 0.99, 0.999)


def cell_boxes_hit(heat: np.ndarray, x0: float, y0: float, sx: float, sy: float, box: tuple) -> np.ndarray:
    """The map cells whose stored-grid rectangle overlaps ``box`` (x0, y0, x1, y1)."""
    h, w = heat.shape
    j0, j1 = int(np.floor((box[0] - x0) / sx)), int(np.ceil((box[2] - x0) / sx))
    i0, i1 = int(np.floor((box[1] - y0) / sy)), int(np.ceil((box[3] - y0) / sy))
    return heat[max(i0, 0) : max(min(i1, h), 0), max(j0, 0) : max(min(j1, w), 0)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    ap.add_argument("--max-images", type=int, default=None)
    args = ap.parse_args()
    model = load_model("mammoview-vgg")
    images = validation_images(cbis_images(default_data_dir()), validation_patients(args.patches), args.max_images)
    painted: dict[float, list[float]] = {t: [] for t in THRESHOLDS}
    covered: dict[float, list[bool]] = {t: [] for t in THRESHOLDS}
    for k, src in enumerate(images):
        result = drain(analyse_image(model, read_image(src.path, pixel_spacing=src.spacing)))
        hm = result.heatmaps["abnormal"]
        p = hm.as_float()
        breast = p > 0
        for t in THRESHOLDS:
            painted[t].append(float((p[breast] >= t).mean()) if breast.any() else 0.0)
            for lesion in src.lesions:
                if lesion.bbox is not None:
                    cells = cell_boxes_hit(p, hm.x0, hm.y0, hm.scale_x, hm.scale_y, lesion.bbox)
                    covered[t].append(bool((cells >= t).any()))
        if (k + 1) % 50 == 0:
            print(f"  {k + 1}/{len(images)} images")
    print(f"{len(images)} CBIS validation images, {len(covered[THRESHOLDS[0]])} masses, model {model.entry.name} "
          f"{model.entry.version}")  # fmt: skip
    print(f"{'threshold':>9}  {'breast painted':>14}  {'masses covered':>14}")
    for t in THRESHOLDS:
        print(f"{t:>9g}  {np.mean(painted[t]):>14.2f}  {np.mean(covered[t]):>14.2f}")


if __name__ == "__main__":
    main()
