"""Four-way flip test-time augmentation: the mirror pair (shipped) and the same pair upside down.

    .venv/bin/python models/analysis/flip_tta4.py --out runs/eval/tta4-1.3
    .venv/bin/python models/analysis/flip_tta4.py --weights runs/e8/models --out runs/eval/tta4-e8

The shipped model averages the CAM of each image and of its left-right mirror image
(``test_time_flip``, ``mammoview.cad.inference.whole_image_maps``).  The patches were trained with
all 8 flips / quarter turns, so the network is roughly invariant to an up-down flip as well.  This
runs ``mammoview evaluate`` with every CAM pass replaced by the mean of the pass and of the
upside-down image's pass (so four passes in all: twice the inference time) and writes the usual
evaluation to --out; compare its FROC with ``runs/eval/x-default-1.3`` (or the draws'
``runs/eval/x-e8*`` with ``models/analysis/paired_draws.py``).  Needs ../shared/data.
"""

from __future__ import annotations

import argparse

import numpy as np

import mammoview.cad.inference as inference
from mammoview.cli import main


def run(out: str, patches: str, weights: str | None) -> int:
    original = inference.cam_tiled

    def with_upside_down(model, data, *, needed=None, **kw):  # type: ignore[no-untyped-def]
        cam = yield from original(model, data, needed=needed, **kw)
        flipped = None if needed is None else np.ascontiguousarray(needed[::-1, :])
        down = yield from original(model, np.ascontiguousarray(data[:, ::-1, :]), needed=flipped, **kw)
        return (0.5 * (cam + down[:, ::-1, :])).astype(np.float32)

    inference.cam_tiled = with_upside_down  # type: ignore[assignment]
    which = ["--weights", weights] if weights else ["--model", "mammoview-vgg"]
    try:
        return main(["evaluate", *which, "--patches", patches, "--out", out, "--quiet", "--timing-views", "0"])
    finally:
        inference.cam_tiled = original  # type: ignore[assignment]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--patches", default="runs/patches/ctx")
    p.add_argument("--weights", default=None, help="an installed models folder (default: the shipped model)")
    a = p.parse_args()
    raise SystemExit(run(a.out, a.patches, a.weights))
