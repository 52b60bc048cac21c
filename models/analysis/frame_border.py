"""What the breast mask's frame rule changes on real films: masks with and without `breast_mask.flat_border`.

    .venv/bin/python models/analysis/frame_border.py [--data DIR] [--pixel-size MM] [--sheet PNG] [--show N]

A digitised film's unexposed border is a bright frame; lines along an edge that are all foreground, flat (SD within
``FRAME_FLATNESS`` pixel noises) and among the image's brightest (mean at least its ``FRAME_PERCENTILE`` percentile)
are cut before the breast is labelled, and the breast threshold is found without them.  This prints, for every
CBIS-DDSM and mini-MIAS image at the model's pixel size, how many masks change, how many frame lines each edge had,
and the share of each changed mask lost (the frame) and gained (the skin line, where the threshold found without the
frame is lower); ``--sheet`` draws the ``--show`` most changed masks (lost red, gained green, the new outline yellow).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import mammoview.cad.breast_mask as bm
from mammoview.cad.resample import resample
from mammoview.training.patches import load_presentation
from mammoview.training.sources import cbis_images, mias_images

NO_FRAME = {"top": 0, "bottom": 0, "left": 0, "right": 0}


def masks(img: np.ndarray, px: float) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(the mask as `breast_mask` makes it, the mask without the frame rule, the frame lines per edge)."""
    rule = bm.flat_border
    try:
        new = bm.breast_mask(img, px)
        bm.flat_border = lambda image, fg: dict(NO_FRAME)  # type: ignore[assignment]
        old = bm.breast_mask(img, px)
    finally:
        bm.flat_border = rule
    return new, old, rule(img, np.ones(img.shape, dtype=bool))


def picture(img: np.ndarray, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    g = (np.clip(img, 0, 1) * 255).astype(np.float32)
    rgb = np.stack([g, g, g], -1)
    rgb[old & ~new] = rgb[old & ~new] * 0.4 + np.array([255.0, 0, 0]) * 0.6
    rgb[new & ~old] = rgb[new & ~old] * 0.4 + np.array([0, 255.0, 0]) * 0.6
    rgb[(new ^ np.roll(new, 1, 0)) | (new ^ np.roll(new, 1, 1))] = (255, 255, 0)
    return rgb.astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: MAMMOVIEW_DATA or ../shared/data)")
    ap.add_argument("--pixel-size", type=float, default=0.3, help="mm per pixel (default 0.3, the detector's)")
    ap.add_argument("--sheet", type=Path, default=None, help="PNG of the most changed masks")
    ap.add_argument("--show", type=int, default=6, help="masks on the sheet (default 6)")
    args = ap.parse_args()
    px = args.pixel_size
    rows: list[tuple[str, float, float, dict[str, int]]] = []
    shown: list[tuple[float, np.ndarray]] = []
    n = 0
    for src in cbis_images(args.data) + mias_images(args.data):
        img = resample(load_presentation(src.path), src.spacing, px)
        new, old, frame = masks(img, px)
        n += 1
        if (new == old).all():
            continue
        area = max(int(old.sum()), 1)
        lost, gained = float((old & ~new).sum() / area), float((new & ~old).sum() / area)
        rows.append((src.image_id, lost, gained, frame))
        if args.sheet is not None:
            shown = sorted([*shown, (lost + gained, picture(img, new, old))], key=lambda t: -t[0])[: args.show]
    lost_all = np.array([r[1] for r in rows]) if rows else np.zeros(1)
    gained_all = np.array([r[2] for r in rows]) if rows else np.zeros(1)
    edges = {side: sum(r[3][side] > 0 for r in rows) for side in NO_FRAME}
    print(f"{n} images at {px} mm: {len(rows)} masks changed; frame lines found on edges {edges}")
    print(f"share of the old mask lost: median {np.median(lost_all):.4f}, max {lost_all.max():.4f}; gained: median "
          f"{np.median(gained_all):.4f}, max {gained_all.max():.4f}")  # fmt: skip
    for name, lost, gained, frame in sorted(rows, key=lambda r: -(r[1] + r[2]))[:10]:
        print(f"  {name:<20} lost {lost:.4f} gained {gained:.4f} frame {frame}")
    if args.sheet is not None and shown:
        from PIL import Image

        h = max(t.shape[0] for _, t in shown)
        sheet = np.concatenate([np.pad(t, ((0, h - t.shape[0]), (0, 4), (0, 0))) for _, t in shown], 1)
        Image.fromarray(sheet).save(args.sheet)
        print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
