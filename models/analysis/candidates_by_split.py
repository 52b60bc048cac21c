"""Are the detector's candidates on its training images like those on new ones?  False positives per image by split.

    mammoview detect ../shared/data/cbis-ddsm-mass/images --pixel-spacing 0.29,0.1769 --threshold 0.1 \\
        --max-findings 25 --no-verification --no-malignancy-model --json runs/cand/cbis.json
    .venv/bin/python models/analysis/candidates_by_split.py runs/cand/cbis.json

The verifier's negatives are the detector's candidates on the training images (models/reproduce.sh,
last block), cut by a network that saw those images.  If it had memorised them, they would be
fewer and easier than the false positives it makes on new images.  Prints, for the training and
the validation patients (``runs/patches/ctx/split.json``), the false positives per image at
scores 0.5 / 0.9 / 0.97 and the share of masses hit at 0.97.  Needs ../shared/data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mammoview.training.eval_inputs import load_detections, validation_patients
from mammoview.training.froc import _unlocated, match_detections
from mammoview.training.sources import cbis_images, default_data_dir

CUTS = (0.5, 0.9, 0.97)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("detections", type=Path, help="detect JSON over all CBIS-DDSM images")
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    args = ap.parse_args()
    val = validation_patients(args.patches)
    pairs, _ = match_detections(load_detections([args.detections]), cbis_images(default_data_dir()))
    print(f"{'split':6s} {'images':>6s}  " + "  ".join(f"FP/img >= {t:g}" for t in CUTS) + "  masses hit >= 0.97")
    for name, in_val in (("train", False), ("val", True)):
        fps: dict[float, list[int]] = {t: [] for t in CUTS}
        hit = []
        for s, e in pairs:
            if (s.patient in val) != in_val or _unlocated(s):
                continue
            false = [f for f in e["findings"] if not any(les.contains(*f["center"]) for les in s.lesions)]
            for t in CUTS:
                fps[t].append(sum(f["score"] >= t for f in false))
            hit += [any(les.contains(*f["center"]) and f["score"] >= 0.97 for f in e["findings"]) for les in s.lesions]
        print(f"{name:6s} {len(fps[CUTS[0]]):6d}  " + "  ".join(f"{np.mean(fps[t]):11.2f}" for t in CUTS)
              + f"  {np.mean(hit):18.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
