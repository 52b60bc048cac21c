"""How much of the breast mask's component is enclosed holes: real mammograms against detector noise.

    .venv/bin/python models/analysis/mask_holes.py [--data DIR]

`breast_mask` refuses a component whose enclosed holes are more than ``MAX_HOLE_SHARE`` of its filled region with no
hole holding half of them (Otsu splitting detector noise in two makes such a sponge).  This prints the hole shares
on every CBIS-DDSM and mini-MIAS image at the detector's 0.3 mm, on crops of their middle rows (chest wall to
skin, the breast filling the field: where a contrast rule had refused real breasts), and on synthetic noise fields.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from mammoview.cad.preprocess import MAX_HOLE_SHARE, breast_mask, hole_shares, largest_component, resample
from mammoview.training.patches import load_presentation
from mammoview.training.sources import cbis_images, mias_images


def component(image: np.ndarray, px: float = 0.3, border_mm: float = 3.0) -> np.ndarray:
    """The largest foreground component as `breast_mask` labels it, before its breast checks."""
    found = largest_component(image, px, max(1, round(border_mm / px)))
    assert found is not None
    return found[0]


def refused(shares: tuple[float, float]) -> bool:
    return shares[0] > MAX_HOLE_SHARE and shares[1] < 0.5


def summary(name: str, rows: list[tuple[str, float, float]]) -> None:
    share = np.array([r[1] for r in rows])
    worst = max(rows, key=lambda r: r[1])
    n_ref = sum(refused((r[1], r[2])) for r in rows)
    print(
        f"{name:<34}{len(rows):>6}  hole share median {np.median(share):.4f}, max {share.max():.4f} ({worst[0]}), "
        f"refused {n_ref}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: MAMMOVIEW_DATA or ../shared/data)")
    args = ap.parse_args()
    images: list[tuple[str, float, float]] = []
    crops: list[tuple[str, float, float]] = []
    for src in cbis_images(args.data) + mias_images(args.data):
        img = resample(load_presentation(src.path), src.spacing, 0.3)
        images.append((src.image_id, *hole_shares(component(img))))
        full = breast_mask(img, 0.3)
        ys, xs = np.nonzero(full)
        if ys.size == 0:
            continue
        h = ys.max() - ys.min()
        for f in (0.25, 0.35):
            crop = img[ys.min() + int(f * h) : ys.max() - int(f * h), xs.min() : xs.max() + 1]
            crops.append((f"{src.image_id} middle {1 - 2 * f:.0%}", *hole_shares(component(crop))))
    summary("CBIS-DDSM + mini-MIAS images", images)
    summary("their middle rows (breast fills)", crops)
    rng = np.random.default_rng(0)
    noise: list[tuple[str, float, float]] = []
    for sd in (0.01, 0.03):
        field = np.clip(rng.normal(0.05, sd, (800, 500)), 0, 1).astype(np.float32)
        noise.append((f"white noise sd {sd}", *hole_shares(component(field))))
    for sigma in (2.0, 4.0):
        field = ndi.gaussian_filter(rng.normal(0, 1, (800, 500)), sigma).astype(np.float32)
        noise.append((f"noise correlated over {sigma * 0.3:.1f} mm", *hole_shares(component(field))))
    for name, share, largest in noise:
        verdict = refused((share, largest))
        print(f"{name:<34}hole share {share:.3f}, largest hole {largest:.3f} of the holes, refused {verdict}")


if __name__ == "__main__":
    main()
