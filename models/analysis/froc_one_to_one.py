"""How much the FROC changes when one mark may find one lesion only (the stricter convention).

    .venv/bin/python models/analysis/froc_one_to_one.py runs/eval/shipped-1207b [--patches runs/patches/ctx]

``mammoview evaluate`` follows the issue's rule (a lesion is found when a finding's centre lies in its box), so one
finding inside two overlapping CBIS boxes finds both (7 CBIS validation images have overlapping boxes).  Here each
mark is matched to at most one lesion (a maximum bipartite matching of the marks at or above a threshold and the
lesions they hit) at every threshold; false positives are counted as evaluate counts them (marks that hit no
lesion).  Prints CBIS sensitivity at 0.25 / 0.5 / 1 / 2 false positives per image under both rules, from the
evaluation's own ``detections-cbis.json``, on the validation patients of the split.  Needs ../shared/data (or
MAMMOVIEW_DATA).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mammoview.training.eval_inputs import validation_patients
from mammoview.training.froc import FP_RATES, FrocCase, froc, marks_from_json, match_detections, sensitivity_at
from mammoview.training.sources import cbis_images, default_data_dir


def matched(hits: np.ndarray) -> int:
    """Size of a maximum matching in the bipartite graph ``hits[mark, lesion]`` (augmenting paths; a few marks)."""
    owner = [-1] * hits.shape[1]

    def augment(m: int, seen: set[int]) -> bool:
        for j in np.flatnonzero(hits[m]):
            if j in seen:
                continue
            seen.add(int(j))
            if owner[j] < 0 or augment(owner[j], seen):
                owner[j] = m
                return True
        return False

    return sum(augment(m, set()) for m in range(hits.shape[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("evaluation", type=Path, help="a mammoview evaluate --out folder")
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    args = ap.parse_args()
    val = validation_patients(args.patches)
    detections = json.loads((args.evaluation / "detections-cbis.json").read_text())
    pairs, _ = match_detections(detections, cbis_images(default_data_dir()))
    cases = []
    for s, e in pairs:
        if s.patient not in val or s.unlocated_findings:
            continue
        marks = marks_from_json(e.get("findings", []))
        hits = np.array([[les.contains(m.x, m.y) for les in s.lesions] for m in marks], dtype=bool)
        cases.append((s, marks, hits.reshape(len(marks), len(s.lesions))))
    n_images, n_lesions = len(cases), sum(len(s.lesions) for s, _, _ in cases)
    scores = np.unique([m.score for _, marks, _ in cases for m in marks])[::-1]
    fpi, strict = [], []
    for t in scores:
        fp = detected = 0
        for _, marks, hits in cases:
            keep = np.array([m.score >= t for m in marks], dtype=bool)
            fp += int(np.sum(keep & ~hits.any(axis=1))) if len(marks) else 0
            detected += matched(hits[keep]) if keep.any() else 0
        fpi.append(fp / n_images)
        strict.append(detected / n_lesions)
    rule = froc([FrocCase(s.image_id, s.lesions, marks) for s, marks, _ in cases])
    overlapping = sum(1 for _, _, hits in cases if hits.size and (hits.sum(axis=1) > 1).any())
    print(f"{n_images} CBIS validation images, {n_lesions} masses; {overlapping} image(s) with a finding in two boxes")
    for r in FP_RATES:
        one = sensitivity_at(np.array(fpi), np.array(strict), r)
        print(
            f"  {r:g} FP/img: sensitivity {rule.sensitivity_at(r):.3f} (evaluate's rule), {one:.3f} (one mark, one "
            "lesion)"
        )


if __name__ == "__main__":
    main()
