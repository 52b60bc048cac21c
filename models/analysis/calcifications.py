"""How the CAD does on calcifications: the numbers behind MODEL_CARD.md's "Known gaps".

    .venv/bin/python models/analysis/calcifications.py runs/eval/verified2 [--patches runs/patches/ctx]

Reads an evaluation (`mammoview evaluate --out DIR`: its ``metrics.json`` and detect JSONs) and prints
(1) the patch-level 3-way confusion of the calcification patches by source (MAGIC-5, mini-MIAS);
(2) every located mini-MIAS calcification cluster of the validation patients with the best finding whose
centre lies in its circle (any score, its kind and score), and whether a calcification mark reaches it at
the evaluation's finding threshold; (3) the calcification marks at that threshold on the CBIS-DDSM
validation images (the mass set: calcifications are not located there), how many fall in a mass box, and
how often they fall on images that the CBIS calcification set says hold calcifications (at unknown
places) against images it does not.  Needs ../shared/data (or MAMMOVIEW_DATA).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mammoview.training.eval_inputs import load_detections, validation_patients
from mammoview.training.froc import match_detections
from mammoview.training.sources import cbis_images, default_data_dir, mias_images


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("eval_dir", type=Path, help="a `mammoview evaluate --out` folder")
    p.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"), help="the patch set (its split)")
    args = p.parse_args()
    metrics = json.loads((args.eval_dir / "metrics.json").read_text())
    threshold = float(metrics["model"]["finding_threshold"])
    patients = validation_patients(args.patches)

    print("1. validation patches of calcifications, predicted as (normal / mass / calcification):")
    for source, block in metrics["patch"]["by_source"].items():
        three = block["three_way"]
        row = dict(zip(three["classes"], three["confusion"], strict=True)).get("calcification")
        if row is not None and sum(row) > 0:
            print(f"   {source:<7} {sum(row):>3} patches: {' / '.join(str(n) for n in row)}")

    print(f"\n2. located mini-MIAS calcification clusters of the validation patients (threshold {threshold:.4g}):")
    pairs, _ = match_detections(load_detections([args.eval_dir / "detections-mias.json"]), mias_images())
    n = reached = marked = 0
    for src, entry in pairs:
        if src.patient not in patients:
            continue
        for lesion in src.lesions:
            if lesion.kind != "calcification" or lesion.center is None:
                continue
            inside = [f for f in entry.get("findings", []) if lesion.contains(*f["center"])]
            best = max(inside, key=lambda f: f["score"], default=None)
            calc_mark = any(f["kind"] == "calcification" and f["score"] >= threshold for f in inside)
            n, reached, marked = n + 1, reached + (best is not None), marked + calc_mark
            found = f"best finding {best['kind']} {best['score']:.3f}" if best else "no finding in its circle"
            print(f"   {src.image_id} radius {lesion.radius:.0f} px: {found}; calcification mark: {calc_mark}")
    print(f"   {n} clusters: {reached} with a finding at any score, {marked} with a calcification mark")

    print(f"\n3. calcification marks on the CBIS-DDSM validation images (threshold {threshold:.4g}):")
    cbis = load_detections([args.eval_dir / "detections-cbis.json"])
    pairs, _ = match_detections(cbis, cbis_images(default_data_dir()))
    images = {True: 0, False: 0}
    marks = {True: 0, False: 0}
    in_box = 0
    for src, entry in pairs:
        if src.patient not in patients:
            continue
        has_calc = src.unlocated_findings  # its breast and view are in the CBIS calcification set
        images[has_calc] += 1
        for f in entry.get("findings", []):
            if f["kind"] == "calcification" and f["score"] >= threshold:
                marks[has_calc] += 1
                in_box += any(lesion.contains(*f["center"]) for lesion in src.lesions)
    total = sum(marks.values())
    print(f"   {total} marks on {sum(images.values())} images, {in_box} of them in a mass box")
    for has_calc, label in ((True, "with calcifications (unlocated)"), (False, "without")):
        rate = marks[has_calc] / images[has_calc] if images[has_calc] else float("nan")
        print(f"   images {label}: {images[has_calc]}, marks {marks[has_calc]} ({rate:.2f} per image)")


if __name__ == "__main__":
    main()
