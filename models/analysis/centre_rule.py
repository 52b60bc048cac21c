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
        peak = region.peak
        if maps.cell_logit is None or maps.window <= 1:
            return maps.cell_center(*peak)
        w, s, off = maps.window, maps.stride, maps.offset
        k = int(np.floor(off + 0.5 - w / 2))
        b0, b1, b2, b3 = region.box
        lo_r, lo_c = int(np.ceil(b0 + off - 0.5)), int(np.ceil(b1 + off - 0.5))
        hi_r, hi_c = int(np.ceil(b2 + off - 0.5)), int(np.ceil(b3 + off - 0.5))
        h, wd = maps.cell_logit.shape
        r0, c0 = max(0, peak[0] + k, lo_r), max(0, peak[1] + k, lo_c)
        r1, c1 = min(h, peak[0] + k + w, hi_r), min(wd, peak[1] + k + w, hi_c)
        block = maps.cell_logit[r0:r1, c0:c1] if r1 > r0 and c1 > c0 else np.zeros((0, 0), np.float32)
        if block.size == 0 or not np.isfinite(block).any():
            return maps.cell_center(*peak)
        wts = np.where(np.isfinite(block), np.exp((block - np.nanmax(np.where(np.isfinite(block), block, np.nan)))
                                                  / temperature), 0.0)  # fmt: skip
        rows, cols = np.mgrid[r0:r1, c0:c1]
        y = float((wts * (rows + 0.5)).sum() / wts.sum())
        x = float((wts * (cols + 0.5)).sum() / wts.sum())
        return (x * s, y * s)

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
