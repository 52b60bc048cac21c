"""Does the verifier's own whole-image map find the masses the detector proposes no candidate for?

    .venv/bin/python models/analysis/own_candidates.py 0.5 10 --out runs/eval/own50
    .venv/bin/python models/analysis/own_candidates.py 0.2 10 --out runs/eval/own20
    .venv/bin/python models/analysis/own_candidates.py 0.8 5 --out runs/eval/own80

Copies the installed models (``models/`` or $MAMMOVIEW_MODELS) into a temporary folder, sets the
verifier's ``own_map_threshold`` / ``own_map_candidates`` there (``VerificationSettings``:
the verifier runs over the whole image too, and its map's regions that no detector candidate
covers become candidates scored by the detector's map at that point,
``mammoview.cad.verification.merge_candidates``), and runs ``mammoview evaluate`` with it into
--out.  Compare its FROC with the shipped two stages (``runs/eval/verified``).  Arguments after
``--`` go to evaluate.  Needs ../shared/data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from cad_evaluation import evaluate_cad, parse, parser

from mammoview.cad.manifest import default_models_dir


def run(threshold: float, count: int, out: str, patches: str, extra: list[str]) -> int:
    src = Path(os.environ.get("MAMMOVIEW_MODELS") or default_models_dir())
    with tempfile.TemporaryDirectory() as tmp:
        for f in src.glob("*.safetensors"):
            shutil.copy2(f, tmp)
        manifest = json.loads((src / "manifest.json").read_text())
        verifiers = [e for e in manifest["models"] if e.get("task") == "verification"]
        if not verifiers:
            raise SystemExit(f"no verifier installed in {src}")
        for e in verifiers:
            e["verification"] |= {"own_map_threshold": threshold, "own_map_candidates": count}
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest, indent=2))
        return evaluate_cad(out, patches, extra, models_dir=tmp)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("threshold", type=float, help="the verifier's map is cut here for its own candidates")
    p.add_argument("count", type=int, help="at most this many of them per image")
    a, extra = parse(p)
    raise SystemExit(run(a.threshold, a.count, a.out, a.patches, extra))
