"""Post-hoc re-scoring ideas measured on an evaluation's detections: the numbers behind MODEL_CARD.md's
"tried, not shipped" notes on second-stage malignancy, contralateral comparison and two-view matching.

    .venv/bin/python models/analysis/rescoring.py stage2 runs/eval/default-1.3 --run runs/vgg-mal15
    mammoview detect ../shared/data/mini-mias/images --pixel-spacing 0.2 --json runs/eval/mias-all-1.3.json
    .venv/bin/python models/analysis/rescoring.py contralateral runs/eval/mias-all-1.3.json
    .venv/bin/python models/analysis/rescoring.py two-view runs/eval/default-1.3
    .venv/bin/python models/analysis/rescoring.py fp-stage2 runs/eval/base --run runs/cnn-fp6
    .venv/bin/python models/analysis/rescoring.py compare runs/eval/verified runs/eval/s125 --bootstrap 1000
    .venv/bin/python models/analysis/rescoring.py shift runs/eval/verified --run runs/vgg-fp6 --step 4.8

- ``stage2``: the top-3 findings of each CBIS validation image (``detections-cbis.json`` of
  ``mammoview evaluate --out DIR``) re-scored for malignancy by a second network (a
  ``mammoview train`` run, e.g. the 0.15 mm one), patch + context cut around each finding centre
  on that run's own grid, mirror-averaged; image malignancy AUCs of several aggregations.
- ``contralateral``: MIAS abnormal-vs-normal image AUC of the image score and of the score minus
  the other breast's (logits), for a detect JSON over all mini-MIAS images
  (``mammoview detect <data>/mini-mias/images --pixel-spacing 0.2 --json OUT``); all patients
  and the validation patients alone.
- ``two-view``: FROC of CBIS validation masses when each finding's logit gets ``beta`` x the logit
  of the best finding of the same breast's other view at a similar distance from the nipple
  (Gaussian weight, ``sigma`` mm) - the classic CC/MLO correspondence of CAD systems.
- ``fp-stage2``: every FROC candidate of the validation images (CBIS and MIAS detections of
  ``mammoview evaluate --out DIR``) re-scored for *abnormal* by a second network (a ``mammoview
  train`` run, e.g. one trained at 0.6 mm on lesions and on the detector's own false positives,
  ``extract-patches --hard-negatives-from-detections``): each finding's log-odds becomes
  ``(1 - w) logit(score) + w logit(p2)``; FROC and MIAS abnormal AUC per ``w``.
- ``compare``: two evaluations of the same validation images (e.g. the shipped CAD and a change
  to it): CBIS mean sensitivity (0.25-2 FP/image) of the second minus the first, with a paired
  patient bootstrap; then the image malignancy AUC's difference, the same way.
- ``shift``: each verified candidate (``mammoview evaluate`` of the installed CAD with its verifier)
  moved to where the verifier's crop reads most abnormal among the centre and a 3 x 3 grid of
  ``--step`` mm around it, keeping its score or adding ``w`` x the gain in the verifier's log-odds
  (the combined score's weight): FROC of each, and the paired bootstrap against the unmoved.

Prints tables; writes nothing.  Needs ../shared/data (or MAMMOVIEW_DATA).
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mammoview.cad.landmarks import nipple_point
from mammoview.cad.malignancy import crop_logits, crop_malignancy
from mammoview.cad.preprocess import PreprocessConfig
from mammoview.training.eval_inputs import load_detections, validation_patients
from mammoview.training.eval_model import resolve_model
from mammoview.training.froc import _unlocated, match_detections, score_detections
from mammoview.training.metrics import roc_auc
from mammoview.training.patches import prepare_source
from mammoview.training.sources import SourceImage, cbis_images, default_data_dir, mias_images

Pair = tuple[SourceImage, Mapping[str, Any]]


def logit(p: float | np.ndarray) -> Any:
    q = np.clip(p, 1e-6, 1 - 1e-7)
    return np.log(q / (1 - q))


def cbis_validation(eval_dir: Path, patches: Path) -> list[Pair]:
    pairs, _ = match_detections(load_detections([eval_dir / "detections-cbis.json"]), cbis_images(default_data_dir()))
    patients = validation_patients(patches)
    return [(s, e) for s, e in pairs if s.patient in patients]


def validation_pairs(eval_dir: Path, patches: Path) -> tuple[list[SourceImage], set[str], list[Pair]]:
    """The truth, the validation patients and their (image, detections) of an evaluation's CBIS + MIAS JSON."""
    truth = cbis_images(default_data_dir()) + mias_images(default_data_dir())
    patients = validation_patients(patches)
    docs = load_detections([p for p in (eval_dir / "detections-cbis.json",
                                        eval_dir / "detections-mias.json") if p.is_file()])  # fmt: skip
    pairs, _ = match_detections(docs, truth)
    return truth, patients, [(s, e) for s, e in pairs if s.patient in patients]


def second_network(run: Path) -> tuple[Any, int, int, PreprocessConfig]:
    """A ``mammoview train`` run's (or an installed model's) network, patch, context and preprocessing."""
    with tempfile.TemporaryDirectory() as tmp:
        loaded, _ = resolve_model(weights=run, out_dir=Path(tmp))
    return (loaded.model.eval(), loaded.entry.patch_size, int(loaded.entry.extra.get("context_px", 0)),
            loaded.preprocess)  # fmt: skip


def with_image_score(e: Mapping[str, Any]) -> Mapping[str, Any]:
    """``e`` with its image abnormal score the best of its (re-scored) findings'."""
    return {**e, "scores": {**e["scores"], "abnormal": max((f["score"] for f in e["findings"]), default=0.0)}}


def froc_row(label: str, docs: Sequence[Mapping[str, Any]], truth: Sequence[SourceImage], patients: set[str]) -> str:
    """``label``, CBIS sensitivity at 0.25 / 0.5 / 1 / 2 FP per image and its mean, MIAS sens@1, MIAS abnormal AUC."""
    sc = score_detections({"images": list(docs)}, truth, patients)
    cb, mi = sc.froc["cbis_mass"], sc.froc["mias"]
    return (f"{label}  " + " / ".join(f"{v:.3f}" for v in cb.sens_at.values()) + f"  {cb.mean_sensitivity:.3f}"
            f"  | {mi.sensitivity_at(1.0):.3f}  {sc.image_auc['abnormal_mias'].auc:.3f}")  # fmt: skip


def top_findings(e: Mapping[str, Any], k: int) -> list[Mapping[str, Any]]:
    return sorted(e["findings"], key=lambda f: -f["score"])[:k]


def stage2(args: argparse.Namespace) -> None:
    rows = [(s, e) for s, e in cbis_validation(args.eval_dir, args.patches) if s.malignant is not None]
    with tempfile.TemporaryDirectory() as tmp:
        loaded, _ = resolve_model(weights=args.run, out_dir=Path(tmp))
    net = loaded.model.eval()
    summary = json.loads((args.run / "summary.json").read_text())["patch_manifest"]
    p, c = int(summary["patch_size"]), int(summary.get("context_px", 0))
    out = []
    for s, e in rows:
        found = top_findings(e, 3)
        # the engine's own crops (mammoview.cad.malignancy, what the shipped second stage runs)
        second = crop_malignancy(net, prepare_source(s, loaded.preprocess), p, c, [tuple(f["center"]) for f in found])
        out.append((bool(s.malignant), e, [f["score"] for f in found], [f["malignancy"] for f in found], second))
    y = np.array([o[0] for o in out])
    aggregations: dict[str, Callable[[Any], float]] = {
        "image score 'malignant' (shipped)": lambda o: o[1]["scores"]["malignant"],
        "image score 'abnormal'": lambda o: o[1]["scores"]["abnormal"],
        "top finding's malignancy (first stage)": lambda o: o[3][0] if o[3] else 0.0,
        "top finding, second stage": lambda o: o[4][0] if o[4] else 0.0,
        "top-3 findings, second stage, max": lambda o: max(o[4], default=0.0),
        "top-3, second stage weighted by score": lambda o: float(np.dot(o[2], o[4]) / sum(o[2])) if o[4] else 0.0,
        "top-3, max of score x second stage": lambda o: max(
            (a * b for a, b in zip(o[2], o[4], strict=True)), default=0.0
        ),
    }
    print(f"CBIS validation images {len(y)} ({int(y.sum())} malignant); second stage {args.run} ({p} px + {c})")
    for name, f in aggregations.items():
        print(f"  {name:45s} AUC {roc_auc(y, np.array([f(o) for o in out])).auc:.3f}")


def contralateral(args: argparse.Namespace) -> None:
    doc = json.loads(args.detections.read_text())
    root = default_data_dir() / "mini-mias"
    with open(root / "labels.csv", newline="") as fh:
        labels = {r["refnum"]: r for r in csv.DictReader(fh)}
    score = {Path(i["path"]).stem: float(i["scores"]["abnormal"]) for i in doc["images"] if "error" not in i}
    side = {(labels[k]["patient"], labels[k]["side"]): k for k in score if k in labels}
    val = {p.split(":", 1)[1] for p in validation_patients(args.patches) if p.startswith("mias:")}
    rows = []
    for k, s in score.items():
        r = labels.get(k)
        other = side.get((r["patient"], "left" if r["side"] == "right" else "right")) if r else None
        if r is not None and other is not None:
            rows.append((r["abn_class"] != "NORM", s, score[other], r["patient"] in val))
    for name, keep in (("all patients", lambda r: True), ("validation patients", lambda r: r[3])):
        sel = [r for r in rows if keep(r)]
        y = np.array([r[0] for r in sel])
        a = roc_auc(y, np.array([r[1] for r in sel])).auc
        b = roc_auc(y, np.array([logit(r[1]) - logit(r[2]) for r in sel])).auc
        print(
            f"MIAS {name:20s} images {len(sel):3d} ({int(y.sum())} abnormal): image AUC {a:.3f}, "
            f"minus contralateral {b:.3f}"
        )


def nipple_distance(pairs: Sequence[Pair]) -> Callable[[SourceImage, Mapping[str, Any]], float]:
    """mm from the nipple (as the CAD finds it, :func:`mammoview.cad.landmarks.nipple_point`) to a finding centre."""
    cfg = PreprocessConfig.from_dict({"pixel_size_mm": 0.3})
    nipples = {}
    for s, _ in pairs:
        point = nipple_point(prepare_source(s, cfg), mlo=s.projection == "MLO")
        if point is not None:
            nipples[s.image_id] = point

    def dist(s: SourceImage, f: Mapping[str, Any]) -> float:
        if s.image_id not in nipples:
            return float("nan")
        (nx, ny), (row_mm, col_mm) = nipples[s.image_id], s.spacing
        return float(np.hypot((f["center"][0] - nx) * col_mm, (f["center"][1] - ny) * row_mm))

    return dist


def two_view(args: argparse.Namespace) -> None:
    pairs = cbis_validation(args.eval_dir, args.patches)
    truth = cbis_images(default_data_dir())
    patients = validation_patients(args.patches)
    dist = nipple_distance(pairs)
    breasts: dict[tuple[str, Any], dict[Any, Pair]] = {}
    for s, e in pairs:
        breasts.setdefault((s.patient, s.laterality), {})[s.projection] = (s, e)

    def rescored(beta: float, sigma: float) -> list[Mapping[str, Any]]:
        out = []
        for views in breasts.values():
            for proj, (s, e) in views.items():
                e2 = copy.deepcopy(dict(e))
                other = views.get("MLO" if proj == "CC" else "CC")
                for f in e2["findings"] if other is not None and beta else []:
                    d, (s2, e_other) = dist(s, f), other
                    gaps = [d - dist(s2, g) for g in e_other["findings"]]  # NaN where a view has no nipple
                    near = [g["score"] * np.exp(-0.5 * (gap / sigma) ** 2) if np.isfinite(gap) else 0.0
                            for g, gap in zip(e_other["findings"], gaps, strict=True)]  # fmt: skip
                    support = max(near, default=0.0)
                    f["score"] = float(1 / (1 + np.exp(-(logit(f["score"]) + beta * logit(max(support, 1e-6))))))
                out.append(e2)
        return out

    print(f"CBIS validation breasts {len(breasts)}, with both views {sum(len(v) == 2 for v in breasts.values())}")
    print(f"{'beta':>5s} {'sigma mm':>8s}  sens@0.25 / 0.5 / 1 / 2 FP per image")
    for beta, sigma in [(0.0, 0.0)] + [(b, s) for b in (0.1, 0.25, 0.5) for s in (10.0, 20.0, 40.0)]:
        fr = score_detections({"images": rescored(beta, sigma)}, truth, patients).froc["cbis_mass"]
        print(f"{beta:5.2f} {sigma:8.0f}  " + " / ".join(f"{v:.3f}" for v in fr.sens_at.values()))


def fp_stage2(args: argparse.Namespace) -> None:
    truth, patients, pairs = validation_pairs(args.eval_dir, args.patches)
    second: list[np.ndarray] = [np.zeros(len(e["findings"])) for _, e in pairs]  # per image: mean log-odds
    for run in args.run:  # several second networks: the mean of their log-odds
        net, p, c, prep = second_network(run)
        for k, (s, e) in enumerate(pairs):
            lg = crop_logits(net, prepare_source(s, prep), p, c, [tuple(f["center"]) for f in e["findings"]])
            if len(lg):
                second[k] += (np.logaddexp(lg[:, 1], lg[:, 2]) - lg[:, 0]) / len(args.run)

    def rescored(w: float) -> list[Mapping[str, Any]]:
        out: list[Mapping[str, Any]] = []
        for (_, e), z2 in zip(pairs, second, strict=True):
            e2 = copy.deepcopy(dict(e))
            for f, z in zip(e2["findings"], z2, strict=True):
                f["score"] = float(1 / (1 + np.exp(-((1 - w) * logit(f["score"]) + w * z))))
            out.append(with_image_score(e2))
        return out

    n_cbis = sum(s.source == "cbis" for s, _ in pairs)
    print(f"validation images: {n_cbis} CBIS, {len(pairs) - n_cbis} MIAS; second network(s) "
          f"{', '.join(map(str, args.run))}")  # fmt: skip
    print(f"{'w':>5s}  CBIS sens@0.25 / 0.5 / 1 / 2 FP per image  mean  | MIAS sens@1  MIAS abnormal AUC")
    for w in args.weights:
        print(froc_row(f"{w:5.2f}", rescored(w), truth, patients))
    if args.bootstrap:
        base = rescored(0.0)
        for w in args.weights:
            if w:
                paired_bootstrap([s for s, _ in pairs], base, rescored(w), f"w {w:.2f} vs w 0", args.bootstrap)


def shift(args: argparse.Namespace) -> None:
    truth, patients, pairs = validation_pairs(args.eval_dir, args.patches)
    net, p, c, prep = second_network(args.run)
    grid = [(i * args.step, j * args.step) for i in (-1, 0, 1) for j in (-1, 0, 1)]  # mm; (0, 0) is the 5th
    moved: dict[str, list[Mapping[str, Any]]] = {"kept": [], "moved": [], "moved + score": []}
    for s, e in pairs:
        row_mm, col_mm = e["pixel_spacing"]
        centres = [(f["center"][0] + dx / col_mm, f["center"][1] + dy / row_mm)
                   for f in e["findings"] for dx, dy in grid]  # fmt: skip
        lg = crop_logits(net, prepare_source(s, prep), p, c, centres)
        z = (np.logaddexp(lg[:, 1], lg[:, 2]) - lg[:, 0]).reshape(len(e["findings"]), len(grid)) if len(lg) else lg
        outs = {k: copy.deepcopy(dict(e)) for k in moved}
        for k, f in enumerate(e["findings"]):
            best = int(np.argmax(z[k]))
            outs["moved"]["findings"][k]["center"] = list(centres[k * len(grid) + best])
            outs["moved + score"]["findings"][k]["center"] = list(centres[k * len(grid) + best])
            gain = args.weight * (z[k, best] - z[k, len(grid) // 2])
            outs["moved + score"]["findings"][k]["score"] = float(1 / (1 + np.exp(-(logit(f["score"]) + gain))))
        for k, d in outs.items():
            moved[k].append(with_image_score(d))
    print(f"candidates moved within a 3 x 3 grid of {args.step} mm by {args.run}")
    print(f"{'':>14s}  CBIS sens@0.25 / 0.5 / 1 / 2 FP per image  mean  | MIAS sens@1  MIAS abnormal AUC")
    for k, docs_k in moved.items():
        print(froc_row(f"{k:>14s}", docs_k, truth, patients))
    srcs = [s for s, _ in pairs]
    for k in ("moved", "moved + score"):
        paired_bootstrap(srcs, moved["kept"], moved[k], k, args.bootstrap)


def compare(args: argparse.Namespace) -> None:
    runs = []
    for d in (args.eval_dir, args.other):
        _, _, pairs = validation_pairs(d, args.patches)
        runs.append({s.path: (s, e) for s, e in pairs if s.source == "cbis"})
    common = sorted(set(runs[0]) & set(runs[1]))
    if len(common) != len(runs[0]) or len(common) != len(runs[1]):
        raise SystemExit(f"the two evaluations cover different images ({len(runs[0])} vs {len(runs[1])})")
    srcs = [runs[0][k][0] for k in common]
    print(f"{args.other} minus {args.eval_dir}:")
    first, second = ([r[k][1] for k in common] for r in runs)
    paired_bootstrap(srcs, first, second, "difference", args.bootstrap)
    malignancy_auc_bootstrap(args.eval_dir, args.other, args.patches, args.bootstrap)


def malignancy_auc_bootstrap(base: Path, other: Path, patches: Path, n: int, seed: int = 0) -> None:
    """Image malignancy AUC (CBIS + MIAS abnormal images of known pathology, as ``evaluate``) of ``other`` minus
    ``base``, validation patients resampled with replacement."""
    scored = []
    for d in (base, other):
        _, _, pairs = validation_pairs(d, patches)
        scored.append({s.path: (s, float(e["scores"]["malignant"])) for s, e in pairs
                       if s.malignant is not None and (s.source == "cbis" or s.abnormal)})  # fmt: skip
    keys = sorted(set(scored[0]) & set(scored[1]))
    y = np.array([bool(scored[0][k][0].malignant) for k in keys])
    a, b = (np.array([sc[k][1] for k in keys]) for sc in scored)
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(scored[0][k][0].patient, []).append(i)
    g = list(groups.values())
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n):
        idx = [i for j in rng.integers(0, len(g), len(g)) for i in g[j]]
        if y[idx].all() or not y[idx].any():
            continue
        diffs.append(roc_auc(y[idx], b[idx]).auc - roc_auc(y[idx], a[idx]).auc)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    print(
        f"image malignancy AUC ({len(keys)} images): {roc_auc(y, a).auc:.3f} -> {roc_auc(y, b).auc:.3f}, "
        f"difference {roc_auc(y, b).auc - roc_auc(y, a).auc:+.3f}, 95 % interval [{lo:+.3f}, {hi:+.3f}] "
        f"over {len(g)} patients"
    )


def _lesion_hits(s: SourceImage, e: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Per lesion the best score of a finding on it (-inf: none); the scores of the false positives."""
    scores = np.array([f["score"] for f in e["findings"]], dtype=np.float64)
    hits = np.array([[les.contains(*f["center"]) for les in s.lesions] for f in e["findings"]], dtype=bool)
    hits = hits.reshape(len(scores), len(s.lesions))
    best = np.array([scores[hits[:, j]].max() if hits[:, j].any() else -np.inf for j in range(len(s.lesions))])
    return best, scores[~hits.any(axis=1)]


def _mean_sensitivity(parts: Sequence[tuple[np.ndarray, np.ndarray]], rates: Sequence[float]) -> float:
    best = np.concatenate([b for b, _ in parts])
    fps = np.sort(np.concatenate([f for _, f in parts]))
    thr = np.unique(np.concatenate([best[np.isfinite(best)], fps]))[::-1]
    fpi = (fps.size - np.searchsorted(fps, thr, side="left")) / len(parts)
    sens = (best[None, :] >= thr[:, None]).mean(axis=1)
    return float(np.mean([sens[fpi <= r + 1e-12].max(initial=0.0) for r in rates]))


def paired_bootstrap(srcs: Sequence[SourceImage], base: Sequence[Mapping[str, Any]],
                     cand: Sequence[Mapping[str, Any]], label: str, n: int, seed: int = 0) -> None:  # fmt: skip
    """Mean CBIS sensitivity (0.25-2 FP/image) of ``cand`` minus ``base``, CBIS patients resampled with replacement."""
    keep = [i for i, s in enumerate(srcs) if s.source == "cbis" and not _unlocated(s)]  # as score_detections
    a = {i: _lesion_hits(srcs[i], base[i]) for i in keep}
    b = {i: _lesion_hits(srcs[i], cand[i]) for i in keep}
    by_patient: dict[str, list[int]] = {}
    for i in keep:
        by_patient.setdefault(srcs[i].patient, []).append(i)
    groups = list(by_patient.values())
    rates = (0.25, 0.5, 1.0, 2.0)
    base_mean = _mean_sensitivity([a[i] for i in keep], rates)
    point = _mean_sensitivity([b[i] for i in keep], rates) - base_mean
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n):
        idx = [i for g in rng.integers(0, len(groups), len(groups)) for i in groups[g]]
        diffs.append(_mean_sensitivity([b[i] for i in idx], rates) - _mean_sensitivity([a[i] for i in idx], rates))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    below = float(np.mean(np.array(diffs) <= 0))
    print(f"{label}: CBIS mean sensitivity {point:+.3f} vs {base_mean:.3f}, 95 % CI [{lo:+.3f}, {hi:+.3f}] "
          f"({n} resamplings of {len(groups)} patients; P(diff <= 0) = {below:.3f})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("stage2")
    a.add_argument("eval_dir", type=Path)
    a.add_argument("--run", type=Path, required=True, help="mammoview train run folder of the second network")
    b = sub.add_parser("contralateral")
    b.add_argument("detections", type=Path, help="detect JSON over all mini-MIAS images")
    c = sub.add_parser("two-view")
    c.add_argument("eval_dir", type=Path)
    d = sub.add_parser("fp-stage2")
    d.add_argument("eval_dir", type=Path)
    d.add_argument("--run", type=Path, nargs="+", required=True,
                   help="mammoview train run folder(s) of the second network (several: log-odds averaged)")  # fmt: skip
    d.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0], metavar="W")
    d.add_argument("--bootstrap", type=int, default=0, metavar="N", help="paired patient bootstrap of each w vs 0")
    e = sub.add_parser("compare")
    e.add_argument("eval_dir", type=Path)
    e.add_argument("other", type=Path)
    e.add_argument("--bootstrap", type=int, default=1000, metavar="N")
    f = sub.add_parser("shift")
    f.add_argument("eval_dir", type=Path)
    f.add_argument("--run", type=Path, required=True, help="the verifier's mammoview train run (or models folder)")
    f.add_argument("--step", type=float, default=4.8, help="grid step in mm")
    f.add_argument("--weight", type=float, default=0.5, help="weight of the verifier's log-odds gain in the score")
    f.add_argument("--bootstrap", type=int, default=1000, metavar="N")
    for p in (a, b, c, d, e, f):
        p.add_argument("--patches", type=Path, default=Path("runs/patches/ctx"))
        p.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    {
        "stage2": stage2,
        "contralateral": contralateral,
        "two-view": two_view,
        "fp-stage2": fp_stage2,
        "compare": compare,
        "shift": shift,
    }[args.what](args)


if __name__ == "__main__":
    main()
