"""Does the verifier's malignancy output add to the second-stage malignancy model's?  Image AUC, paired bootstrap.

    .venv/bin/python models/analysis/verifier_malignancy.py runs/eval/verified --run runs/vgg-fp6

The verifier (a ``mammoview train`` run, 4 outputs like every CadNet) also has a malignancy head,
and the engine already runs it on every candidate.  For the validation images of an evaluation
with the verifier installed (``mammoview evaluate --out DIR``: its detections hold the raw
second-stage malignancy), the image malignancy is the score-weighted mean over the top-3 findings
(as the engine) of (a) the second-stage model's malignancy and (b) the mean of its log-odds and
the verifier's; prints both AUCs (CBIS + MIAS abnormal images of known pathology, and CBIS alone)
and the difference with a 95 % interval over 1000 resamplings of the patients.  Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from mammoview.cad.calibration import logit
from mammoview.cad.malignancy import crop_logits
from mammoview.training.eval_inputs import load_detections, validation_patients
from mammoview.training.eval_model import resolve_model
from mammoview.training.froc import match_detections
from mammoview.training.metrics import roc_auc
from mammoview.training.patches import prepare_source
from mammoview.training.sources import cbis_images, default_data_dir, mias_images


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--run", type=Path, required=True, help="the verifier's mammoview train run")
    ap.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    truth = cbis_images(default_data_dir()) + mias_images(default_data_dir())
    patients = validation_patients(args.patches)
    docs = load_detections([args.eval_dir / "detections-cbis.json", args.eval_dir / "detections-mias.json"])
    pairs, _ = match_detections(docs, truth)
    rows = [(s, e) for s, e in pairs
            if s.patient in patients and s.malignant is not None and (s.source == "cbis" or s.abnormal)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        ver, _ = resolve_model(weights=args.run, out_dir=Path(tmp))
    net, context = ver.model.eval(), int(ver.entry.extra.get("context_px", 0))
    y, own, mean, patient, source = [], [], [], [], []
    for s, e in rows:
        top = sorted(e["findings"], key=lambda f: -f["score"])[:3]
        y.append(bool(s.malignant))
        patient.append(s.patient)
        source.append(s.source)
        if not top:
            own.append(0.0)
            mean.append(0.0)
            continue
        w = np.array([f["score"] for f in top])
        m1 = np.array([f["malignancy"] for f in top])
        z2 = crop_logits(net, prepare_source(s, ver.preprocess), ver.entry.patch_size, context,
                         [tuple(f["center"]) for f in top])[:, 3]  # fmt: skip
        own.append(float(np.dot(w, m1) / w.sum()))
        mean.append(float(np.dot(w, 1 / (1 + np.exp(-(0.5 * logit(m1) + 0.5 * z2)))) / w.sum()))
    ya, a, b, src = np.array(y), np.array(own), np.array(mean), np.array(source)
    for name, k in (("CBIS + MIAS", np.ones(len(ya), bool)), ("CBIS", src == "cbis")):
        print(f"{name:12s} images {int(k.sum())}: second stage AUC {roc_auc(ya[k], a[k]).auc:.3f}, "
              f"mean with the verifier's {roc_auc(ya[k], b[k]).auc:.3f}")  # fmt: skip
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(patient):
        groups.setdefault(p, []).append(i)
    g = list(groups.values())
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(1000):
        idx = [i for j in rng.integers(0, len(g), len(g)) for i in g[j]]
        if ya[idx].all() or not ya[idx].any():
            continue
        diffs.append(roc_auc(ya[idx], b[idx]).auc - roc_auc(ya[idx], a[idx]).auc)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    print(f"difference (CBIS + MIAS) {np.mean(diffs):+.3f}, 95 % interval [{lo:+.3f}, {hi:+.3f}], {len(g)} patients")


if __name__ == "__main__":
    main()
