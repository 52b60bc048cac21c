"""Do more FROC candidates find the masses never hit?  Peak separation of the findings, halved or quartered.

    .venv/bin/python models/analysis/peak_separation.py 4 --out runs/eval/mindist4
    .venv/bin/python models/analysis/peak_separation.py 4 --out runs/eval/mindist4-40 -- --no-verification \
        --froc-max-findings 40

The CAD places one candidate per peak of the patch-equivalent abnormal map, peaks at least
half a patch window apart (``find_regions(min_distance=window // 2)`` in
``mammoview.cad.findings.findings_from_maps``).  This runs ``mammoview evaluate`` on the default
model with the separation divided by DIV/2 (DIV 4: a quarter window) and writes the usual
evaluation to --out; compare its FROC with the shipped model's (``runs/eval/base``).  Arguments
after ``--`` go to evaluate (e.g. ``--no-verification --froc-max-findings 40``: more stage-1
candidates for ``rescoring.py fp-stage2``).  Needs ../shared/data.
"""

from __future__ import annotations

from cad_evaluation import evaluate_wrapped, parse, parser

import mammoview.cad.findings as findings


def run(div: int, out: str, patches: str, extra: list[str]) -> int:
    def closer(find_regions):  # type: ignore[no-untyped-def]
        def closer_peaks(score, threshold, min_distance=1, rank=None):  # type: ignore[no-untyped-def]
            return find_regions(score, threshold, min_distance=max(1, (min_distance * 2) // div), rank=rank)

        return closer_peaks

    return evaluate_wrapped(findings, "find_regions", closer, out, patches, extra)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("div", type=int, help="peak separation = window // DIV (the CAD uses 2)")
    a, extra = parse(p)
    raise SystemExit(run(a.div, a.out, a.patches, extra))
