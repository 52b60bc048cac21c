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

import numpy as np
from cad_evaluation import evaluate_cad, parse, parser, patched

import mammoview.cad.findings as findings


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
        x = float((wts * (cols + 0.5)).sum() / wts.sum()) * s + maps.origin_x  # the grid's left edge
        return (x, float((wts * (rows + 0.5)).sum() / wts.sum()) * s)

    return rule


def run(temperature: float, out: str, patches: str, extra: list[str]) -> int:
    with patched(findings, "refined_center", centroid_center(temperature)):
        return evaluate_cad(out, patches, extra)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("rule", choices=["centroid"])
    p.add_argument("--temperature", type=float, default=1.0)
    a, extra = parse(p)
    raise SystemExit(run(a.temperature, a.out, a.patches, extra))
