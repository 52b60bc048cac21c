"""What if a film comes without its pixel spacing?  Evaluation with every image's spacing estimated.

    .venv/bin/python models/analysis/unknown_spacing.py --out runs/eval/nospacing
    .venv/bin/python models/analysis/rescoring.py compare runs/eval/verified runs/eval/nospacing

JPEG and PNG files carry no pixel spacing, and neither do many secondary-capture DICOMs; the
reader then estimates one from the image height (``cad_input.estimate_spacing``: a square pixel,
the image ~230 mm tall).  For the training sources that estimate is off: a CBIS-DDSM JPEG of the
shared data is 800 x 800 stretched from a ~1.64 : 1 film (true spacing 0.29 x 0.177 mm, estimated
0.2875 x 0.2875: every breast read 1.6 times too wide), a mini-MIAS PNG is 0.2 mm (estimated
0.225 mm, 12 % too coarse).  This runs ``mammoview evaluate`` on the installed CAD with each
validation image read as ``mammoview detect`` reads a file without a spacing (what a user gets
who runs ``detect`` on these files without ``--pixel-spacing``) and writes the usual evaluation to
--out.  Arguments after ``--`` go to evaluate.  Needs ../shared/data.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cad_evaluation import evaluate_wrapped, parse, parser

from mammoview.cad.cad_input import estimate_spacing
from mammoview.io import read_info
from mammoview.training import evaluate


def spacing(path: Any) -> tuple[float, float]:
    """What ``detect`` assumes for ``path`` without a spacing (:func:`estimate_spacing`)."""
    info = read_info(path)
    s = estimate_spacing(info.rows, info.columns)
    return (s.row_mm, s.col_mm)


def run(out: str, patches: str, extra: list[str]) -> int:
    def estimated(run_detection: Any) -> Any:
        return lambda images, detect, out_dir: run_detection(
            [replace(s, spacing=spacing(s.path)) for s in images], detect, out_dir
        )

    return evaluate_wrapped(evaluate, "run_detection", estimated, out, patches, extra)


if __name__ == "__main__":
    a, extra = parse(parser(__doc__))
    raise SystemExit(run(a.out, a.patches, extra))
