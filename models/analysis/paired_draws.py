"""Two recipes compared draw by draw: the means, the paired differences and the smallest one.

    .venv/bin/python models/analysis/paired_draws.py runs/eval/x-e8,runs/eval/x-e8s1,runs/eval/x-e8s2 \\
        runs/eval/x-hn8s0,runs/eval/x-hn8s1,runs/eval/x-hn8s2

Each argument is a comma-separated list of ``mammoview evaluate --out DIR`` folders, the i-th of
the second list paired with the i-th of the first (same seed, same first-round network).  Prints
patch accuracy and AUC, CBIS mass FROC sensitivity at 0.25 / 0.5 / 1 / 2 false positives per
image, MIAS sensitivity at 1, image malignancy AUC and MIAS abnormal AUC: the numbers behind
MODEL_CARD.md's "Recipe changes judged over the three draws".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

NAMES = ("acc", "auc", "s@.25", "s@.5", "s@1", "s@2", "mias@1", "mal", "mias-abn")


def row(folder: Path) -> list[float]:
    m = json.loads((folder / "metrics.json").read_text())
    d = m["detection"]
    froc = d["froc"]["cbis_mass"]["sens_at"]
    return [
        m["patch"]["lesion_vs_normal"]["accuracy"], m["patch"]["auc"]["lesion_vs_normal"]["auc"],
        *(froc[k] for k in ("0.25", "0.5", "1", "2")), d["froc"]["mias"]["sens_at"]["1"],
        d["image_auc"]["malignant_all"]["auc"], d["image_auc"]["abnormal_mias"]["auc"],
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="evaluation folders of the baseline draws, comma-separated")
    ap.add_argument("candidate", help="evaluation folders of the candidate's draws, same order")
    args = ap.parse_args()
    a = np.array([row(Path(p)) for p in args.base.split(",")])
    b = np.array([row(Path(p)) for p in args.candidate.split(",")])
    if a.shape != b.shape:
        raise SystemExit(f"{len(a)} baseline draws but {len(b)} candidate draws: they are compared in pairs")
    print(f"{'':10}" + "".join(f"{n:>9}" for n in NAMES))
    for label, values in (("base", a.mean(0)), ("candidate", b.mean(0))):
        print(f"{label:10}" + "".join(f"{v:9.3f}" for v in values))
    for label, values in (("mean diff", (b - a).mean(0)), ("min diff", (b - a).min(0))):
        print(f"{label:10}" + "".join(f"{v:+9.3f}" for v in values))


if __name__ == "__main__":
    main()
