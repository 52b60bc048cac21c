"""Does the shipped CAD read a view and its flipped copy alike?  Left-right (mirror) and up-down, on the demo study.

    .venv/bin/python models/analysis/flip_consistency.py [--verifier]

For each view of ``resources/demo``: the image's abnormal score against its flipped copy's (difference in log-odds)
and how far apart the two top findings are once mapped back (px of the stored grid).  Left-right should agree
(the grid and resampling's blocks are anchored at the chest wall and the mirror pass averages both orientations);
up-down is what the network itself does with a head-down image (no up-down pass, the grid anchored at the top).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from mammoview.cad.calibration import logit
from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.verification import load_verifier
from mammoview.cad.weights import load_model, load_optional
from mammoview.io import read_image

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verifier", action="store_true", help="the two-stage CAD as the viewer runs it")
    args = ap.parse_args()
    model = load_model(None, None, "cpu")
    malignancy = None
    if args.verifier:
        model = load_verifier(model, None)
        malignancy = load_optional("malignancy", None, "cpu")
    print("view        flip        abnormal    flipped   d logit  top findings apart (px)")
    for f in sorted(DEMO.glob("*.dcm")):
        image = read_image(f)
        h, w = image.shape
        a = drain(analyse_image(model, image, malignancy=malignancy))
        for name, flip in (("left-right", np.s_[:, ::-1]), ("up-down", np.s_[::-1, :])):
            copy = replace(image, stored=np.ascontiguousarray(image.stored[flip]))
            b = drain(analyse_image(model, copy, malignancy=malignancy))
            apart = float("nan")
            if a.findings and b.findings:
                (xa, ya), (xb, yb) = a.findings[0].center, b.findings[0].center
                xb, yb = (w - xb, yb) if name == "left-right" else (xb, h - yb)
                apart = float(np.hypot(xa - xb, ya - yb))
            d = logit(a.abnormal) - logit(b.abnormal)
            print(f"{f.name:10}  {name:10}  {a.abnormal:.5f}  {b.abnormal:.5f}  {d:+7.2f}  {apart:7.0f}")


if __name__ == "__main__":
    main()
