"""Do more FROC candidates find the masses never hit?  Peak separation of the findings, halved or quartered.

    .venv/bin/python models/analysis/peak_separation.py 4 --out runs/eval/mindist4

The CAD places one candidate per peak of the patch-equivalent abnormal map, peaks at least
half a patch window apart (``find_regions(min_distance=window // 2)`` in
``mammoview.cad.pipeline``).  This runs ``mammoview evaluate`` on the default model with the
separation divided by DIV/2 (DIV 4: a quarter window) and writes the usual evaluation to --out;
compare its FROC with the shipped model's (``runs/eval/default-1.3``).  Needs ../shared/data.
"""

from __future__ import annotations

import argparse

import mammoview.cad.pipeline as pipeline
from mammoview.cli import main


def run(div: int, out: str, patches: str) -> int:
    original = pipeline.find_regions  # type: ignore[attr-defined]

    def closer_peaks(score, threshold, min_distance=1, rank=None):  # type: ignore[no-untyped-def]
        return original(score, threshold, min_distance=max(1, (min_distance * 2) // div), rank=rank)

    pipeline.find_regions = closer_peaks  # type: ignore[attr-defined]
    try:
        return main(["evaluate", "--model", "mammoview-vgg", "--patches", patches, "--out", out, "--quiet",
                     "--timing-views", "0"])  # fmt: skip
    finally:
        pipeline.find_regions = original  # type: ignore[attr-defined]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("div", type=int, help="peak separation = window // DIV (the CAD uses 2)")
    p.add_argument("--out", required=True)
    p.add_argument("--patches", default="runs/patches/ctx")
    a = p.parse_args()
    raise SystemExit(run(a.div, a.out, a.patches))
