"""The breast mask's rules against a blank exposure: real breasts against detector noise fields.

    .venv/bin/python models/analysis/mask_holes.py [--data DIR] [--every N] [--pixel-size MM]

`breast_mask` refuses a component that `is_noise`: its enclosed holes more than ``MAX_HOLE_SHARE`` of its filled
region, no hole holding half of them, and more than ``MIN_HOLES_PER_KPX`` holes per 1000 pixels (Otsu splitting
flat detector noise in two makes such a sponge); and an image whose `structure_ratio` is below ``MIN_STRUCTURE``
(noise over smooth shading: the heel effect, vignetting).  This prints both measures and how many would be refused on
every CBIS-DDSM and mini-MIAS image at the detector's 0.3 mm (or ``--pixel-size``: 0.6 for the verifier and the
malignancy model, 1.5 for the density model), on crops of their middle rows (chest wall to skin), on crops of the
breast's interior (60 x 60 and 120 x 80 mm, every N-th image) read as they are and magnified x1.8 (as a
magnification or spot view shows tissue filling the field: where the hole share alone refused real breasts), and
on synthetic noise fields at 0.3, 0.6 and 1.5 mm, flat, with a heel slope or vignetting, holding a lead letter or a
label, or correlated.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from mammoview.cad.breast_mask import (
    MIN_STRUCTURE,
    STRUCTURE_MAX_MM,
    breast_mask,
    hole_stats,
    is_noise,
    largest_component,
    structure_ratio,
)
from mammoview.cad.resample import resample
from mammoview.training.patches import load_presentation
from mammoview.training.sources import cbis_images, mias_images

Row = tuple[str, tuple[float, float, float], float]  # name, hole_stats, structure_ratio


def stats(image: np.ndarray, px: float = 0.3, border_mm: float = 3.0) -> tuple[tuple[float, float, float], float]:
    """`hole_stats` of the largest foreground component as `breast_mask` labels it, before its breast checks, and
    the image's `structure_ratio`."""
    found = largest_component(image, px, max(1, round(border_mm / px)))
    return (hole_stats(found[0]) if found is not None else (0.0, 1.0, 0.0)), structure_ratio(image, px)


def refused(row: Row, px: float) -> bool:
    """As `breast_mask` decides: the structure rule only at the detector's grid (``STRUCTURE_MAX_MM``)."""
    return is_noise(row[1]) or (px <= STRUCTURE_MAX_MM and row[2] < MIN_STRUCTURE)


def summary(name: str, rows: list[Row], px: float) -> None:
    share = np.array([r[1][0] for r in rows])
    per_kpx = np.array([r[1][2] for r in rows])
    ratio = np.array([r[2] for r in rows])
    worst = max(rows, key=lambda r: r[1][0])
    flattest = min(rows, key=lambda r: r[2])
    out = [r[0] for r in rows if refused(r, px)]
    print(
        f"{name:<46}{len(rows):>6}  hole share median {np.median(share):.4f} max {share.max():.3f} ({worst[0]}); "
        f"holes per 1000 px max {per_kpx.max():.1f}; structure min {ratio.min():.1f} ({flattest[0]}), 1st "
        f"percentile {np.percentile(ratio, 1):.1f}, below {MIN_STRUCTURE:g}: {int((ratio < MIN_STRUCTURE).sum())}; "
        f"refused {len(out)} {out[:3]}"
    )


def interior(img: np.ndarray, mask: np.ndarray, h_mm: float, w_mm: float, px: float = 0.3) -> np.ndarray | None:
    """A crop of ``h_mm`` x ``w_mm`` of the breast's interior (all inside the mask), or None when none fits."""
    h, w = round(h_mm / px), round(w_mm / px)
    inside = ndi.binary_erosion(mask, iterations=3)
    ys, xs = np.nonzero(inside)
    if ys.size == 0:
        return None
    cy, cx = int(np.median(ys)), int(np.median(xs))
    y0, x0 = max(0, cy - h // 2), max(0, cx - w // 2)
    crop_mask = inside[y0 : y0 + h, x0 : x0 + w]
    if crop_mask.shape != (h, w) or crop_mask.mean() < 0.98:
        return None
    return img[y0 : y0 + h, x0 : x0 + w]


def markers(shape: tuple[int, int], px: float) -> list[tuple[str, np.ndarray]]:
    """Small bright objects a blank exposure may hold: a lead letter (an L 12 x 9 mm, 3 mm strokes) and a label's
    eight characters (4.5 x 9 mm each), as masks of ``shape`` at ``px`` mm."""

    def box(mask: np.ndarray, y_mm: float, x_mm: float, h_mm: float, w_mm: float) -> None:
        mask[round(y_mm / px) : round((y_mm + h_mm) / px), round(x_mm / px) : round((x_mm + w_mm) / px)] = True

    letter, label = np.zeros(shape, bool), np.zeros(shape, bool)
    box(letter, 18, 12, 12, 3)
    box(letter, 27, 12, 3, 9)
    for i in range(8):
        box(label, 210, 90 + 7.5 * i, 9, 4.5)
    return [("lead letter", letter), ("label", label)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: MAMMOVIEW_DATA or ../shared/data)")
    ap.add_argument("--every", type=int, default=3, help="interior crops of every N-th image (default 3)")
    ap.add_argument("--pixel-size", type=float, default=0.3,
                    help="mm per pixel of the real images (default 0.3, the detector's; 0.6 the verifier's and the "
                    "malignancy model's, 1.5 the density model's)")  # fmt: skip
    args = ap.parse_args()
    px = args.pixel_size
    images: list[Row] = []
    middle: list[Row] = []
    inner: dict[str, list[Row]] = {"interior crops": [], "interior crops magnified x1.8": []}
    for i, src in enumerate(cbis_images(args.data) + mias_images(args.data)):
        img = resample(load_presentation(src.path), src.spacing, px)
        images.append((src.image_id, *stats(img, px)))
        full = breast_mask(img, px)
        ys, xs = np.nonzero(full)
        if ys.size == 0:
            continue
        h = ys.max() - ys.min()
        for f in (0.25, 0.35):
            crop = img[ys.min() + int(f * h) : ys.max() - int(f * h), xs.min() : xs.max() + 1]
            middle.append((f"{src.image_id} middle {1 - 2 * f:.0%}", *stats(crop, px)))
        if i % args.every:
            continue
        for h_mm, w_mm in ((60.0, 60.0), (120.0, 80.0)):
            crop = interior(img, full, h_mm, w_mm, px)
            if crop is None:
                continue
            name = f"{src.image_id} {h_mm:.0f}x{w_mm:.0f} mm"
            inner["interior crops"].append((name, *stats(crop, px)))
            magnified = resample(crop, (px, px), px / 1.8)  # the same tissue at 1.8x: read at px as a mag view
            inner["interior crops magnified x1.8"].append((name, *stats(magnified, px)))
    print(f"real images at {px} mm:")
    summary("CBIS-DDSM + mini-MIAS images", images, px)
    summary("their middle rows (breast fills)", middle, px)
    for name, rows in inner.items():
        summary(name, rows, px)
    rng = np.random.default_rng(0)
    noise: list[tuple[float, Row]] = []
    for px in (0.3, 0.6, 1.5):
        shape = (int(240 / px), int(160 / px))
        yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
        heel = xx / shape[1]
        r2 = ((xx - shape[1] / 2) ** 2 + (yy - shape[0] / 2) ** 2) / ((shape[1] / 2) ** 2 + (shape[0] / 2) ** 2)
        cos4 = 1 / (1 + r2) ** 2  # vignetting by the cosine-fourth law (a source 1 field half-diagonal away)
        shadings = (("flat", 0 * xx), ("heel slope", heel), ("quadratic vignetting", 1 - r2), ("cos4 vignetting", cos4))
        for name, shading in shadings:
            for amount in (0.02, 0.3):  # 2 and 30 noise SDs across the field
                field = np.clip(0.05 + rng.normal(0, 0.01, shape) + amount * shading, 0, 1).astype(np.float32)
                noise.append((px, (f"noise, {name} {amount:g}, at {px} mm", *stats(field, px))))
        for name, marker in markers(shape, px):  # on a field of 2 noise SDs of heel slope
            field = np.clip(0.05 + rng.normal(0, 0.01, shape) + 0.02 * heel, 0, 1).astype(np.float32)
            field[marker] = 0.9
            noise.append((px, (f"noise, heel slope 0.02, {name}, at {px} mm", *stats(field, px))))
        for mm in (0.6, 1.2):
            field = ndi.gaussian_filter(rng.normal(0, 1, shape), mm / px / 2).astype(np.float32)
            noise.append((px, (f"noise correlated over {mm} mm at {px} mm", *stats(field, px))))
    for px, row in noise:
        name, (share, largest, per_kpx), ratio = row
        verdict = refused(row, px)
        print(f"{name:<58}hole share {share:.3f}, largest {largest:.3f} of the holes, {per_kpx:.1f} per 1000 px, "
              f"structure {ratio:.1f}; refused {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
