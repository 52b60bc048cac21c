"""How much does the CAD depend on the films' grey-level rendering?  Evaluation on gamma-transformed images.

    .venv/bin/python models/analysis/intensity_shift.py 0.7 --out runs/eval/gamma07
    .venv/bin/python models/analysis/intensity_shift.py 1.4 --out runs/eval/gamma14
    .venv/bin/python models/analysis/rescoring.py compare runs/eval/verified runs/eval/gamma07

Unseen images come from other scanners and other processing: digital mammograms in particular are
rendered with other, non-linear grey-level curves.  The CAD's input normalisation (robust z-score
inside the breast) removes any linear change of brightness and contrast, not a non-linear one.
This runs ``mammoview evaluate`` on the installed CAD with every validation image's stored values
``v`` (8-bit films) replaced by ``max * (v / max) ** GAMMA`` as it is read (GAMMA < 1 brightens
the darker tissue, > 1 darkens it) and writes the usual evaluation to --out; compare its FROC with
the images as they are (``runs/eval/verified``).  Arguments after ``--`` go to evaluate.  Needs
../shared/data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from cad_evaluation import evaluate_wrapped, parse, parser

import mammoview.io


def run(gamma: float, out: str, patches: str, extra: list[str]) -> int:
    def bent(read_image: Any) -> Any:
        def read_gamma(*args: Any, **kwargs: Any) -> Any:
            image = read_image(*args, **kwargs)
            v = np.asarray(image.stored)
            top = float(np.iinfo(v.dtype).max) if np.issubdtype(v.dtype, np.integer) else float(v.max() or 1.0)
            curve = top * (v.astype(np.float64) / top) ** gamma
            return type(image)(image.info, np.round(curve).astype(v.dtype), image.display)

        return read_gamma

    return evaluate_wrapped(mammoview.io, "read_image", bent, out, patches, extra)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("gamma", type=float, help="the grey-level curve's exponent (1: the images as they are)")
    a, extra = parse(p)
    raise SystemExit(run(a.gamma, a.out, a.patches, extra))
