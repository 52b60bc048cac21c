"""Where in its patch window is a finding's centre?  The strongest CAM cell (shipped) or their weighted centroid.

    .venv/bin/python models/analysis/centre_rule.py centroid --out runs/eval/centroid
    .venv/bin/python models/analysis/centre_rule.py centroid --temperature 2 --out runs/eval/centroid-t2
    .venv/bin/python models/analysis/rescoring.py compare runs/eval/verified runs/eval/centroid

A finding counts as a hit when its centre lies inside the mass's box, and many hits lie near a box
edge (moving every centre by 2 mm loses 0.06 of CBIS mean sensitivity: ``rescoring.py shift``), so
the centre rule matters.  ``mammoview.cad.findings.refined_center`` puts the centre on the
strongest CAM cell (4.8 mm cells) inside the peak's patch window and the region's box; ``centroid``
puts it at the mean of those cells' centres weighted by ``exp((logit - max) / T)``.  Runs
``mammoview evaluate`` on the installed CAD with that rule.  Arguments after ``--`` go to evaluate.
Needs ../shared/data.
"""

from __future__ import annotations

import argparse

import numpy as np

import mammoview.cad.findings as findings
from mammoview.cli import main


def centroid_center(temperature: float):  # type: ignore[no-untyped-def]
    def rule(maps, region):  # type: ignore[no-untyped-def]
        found = findings.window_block(maps, region)  # the cells the shipped rule takes the strongest of
        if found is None:
            return maps.cell_center(*region.peak)
        r0, c0, block = found
        finite = np.isfinite(block)
        wts = np.where(finite, np.exp((np.where(finite, block, 0.0) - block[finite].max()) / temperature), 0.0)
        rows, cols = np.mgrid[r0 : r0 + block.shape[0], c0 : c0 + block.shape[1]]
        s = maps.stride
        return (float((wts * (cols + 0.5)).sum() / wts.sum()) * s, float((wts * (rows + 0.5)).sum() / wts.sum()) * s)

    return rule


def run(temperature: float, out: str, patches: str, extra: list[str]) -> int:
    original = findings.refined_center
    findings.refined_center = centroid_center(temperature)
    try:
        return main(["evaluate", "--model", "mammoview-vgg", "--patches", patches, "--out", out, "--quiet",
                     "--timing-views", "0", *extra])  # fmt: skip
    finally:
        findings.refined_center = original


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rule", choices=["centroid"])
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--out", required=True)
    p.add_argument("--patches", default="runs/patches/ctx")
    p.add_argument("extra", nargs="*", help="after --: more evaluate arguments")
    a = p.parse_args()
    raise SystemExit(run(a.temperature, a.out, a.patches, a.extra))
