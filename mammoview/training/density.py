"""``mammoview train-density``: a whole-breast BI-RADS density classifier, trained and evaluated.

Data: every CBIS-DDSM Mass-Training image with its ``breast_density`` (ACR 1-4 -> a-d) from
the official case descriptions; the patient split is the CAD's (``split.json`` of its patch
set), so no validation patient of either model was seen in training by the other.  mini-MIAS
is an external test: its ``background`` tissue (F fatty, G glandular, D dense) is a coarser
scale from another country and decade, never trained on.

Inputs are :func:`mammoview.cad.density.view_canvas` canvases of the ``prepare`` road at
``pixel_size_mm`` (2 mm by default: density is a whole-breast property).  The network is one
of the registry's (``paper_cnn`` by default) with four outputs, trained with class-weighted
cross-entropy (square-root inverse frequency), AdamW and a one-cycle schedule; augmentation:
up-down flips, shifts, intensity scaling.  The model is chosen at the epoch of the best
validation linear-weighted kappa and installed with ``task: "density"``.

Metrics (``metrics.json`` + ``report.md`` + ``confusion.png``): 4-class accuracy, linear- and
quadratic-weighted Cohen's kappa, confusion matrix and dense (c+d) vs non-dense ROC AUC per
image and per breast (mean of its views); on mini-MIAS the AUC of D vs F and of G+D vs F on the
expected category.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from mammoview.cad.density import CATEGORIES, TASK, predict, view_canvas
from mammoview.cad.preprocess import PreprocessConfig
from mammoview.cad.registry import create_model
from mammoview.cad.weights import ModelEntry, save_model
from mammoview.io import read_image
from mammoview.io.files import atomic_write_bytes, atomic_write_text
from mammoview.training.metrics import confusion_matrix, roc_auc
from mammoview.training.plots import plot_confusion
from mammoview.training.sources import (
    CBIS_CALC_COLUMNS,
    cbis_images,
    cbis_patient,
    default_data_dir,
    mias_images,
    read_label_rows,
)
from mammoview.training.split import load_split

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

MIAS_TISSUE = {"F": 0, "G": 1, "D": 2}

#: the key that marks a ``metrics.json`` as train-density's (as ``mammoview_evaluate`` marks an evaluation's): a run
#: folder whose metrics.json lacks it holds another command's, which a run must not replace
METRICS_KEY = "mammoview_train_density"


@dataclass(frozen=True)
class DensityConfig:
    """Everything that defines a density training run (saved with it)."""

    arch: str = "paper_cnn"
    pixel_size_mm: float = 2.0
    canvas_mm: tuple[float, float] = (256.0, 192.0)  # rows, cols: a breast is rarely larger
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int | None = None

    @property
    def canvas_px(self) -> tuple[int, int]:
        return (round(self.canvas_mm[0] / self.pixel_size_mm), round(self.canvas_mm[1] / self.pixel_size_mm))


@dataclass
class DensityData:
    """Canvases and labels: CBIS (label 0-3 = a-d, split) and MIAS (tissue 0-2 = F/G/D)."""

    x: FloatArray  # (N, H, W)
    label: IntArray  # CBIS: 0-3; MIAS: -1
    tissue: IntArray  # MIAS: 0-2; CBIS: -1
    patient: npt.NDArray[np.str_]
    laterality: npt.NDArray[np.str_]
    split: npt.NDArray[np.str_]  # "train" / "val" (CBIS), "test" (MIAS)


def cbis_density_labels(data_dir: Path) -> dict[tuple[str, str, str], int]:
    """``(patient, "L"/"R", "CC"/"MLO") -> 0..3`` from the CBIS-DDSM mass case descriptions."""
    out = {}
    path = data_dir / "cbis-ddsm-mass" / "mass_case_description_train_set.csv"
    for line, row in enumerate(read_label_rows(path, ("patient_id", "breast_density", *CBIS_CALC_COLUMNS[1:])), 2):
        try:
            d = int(row["breast_density"])
        except ValueError:
            raise ValueError(f"{path} line {line}: breast_density {row['breast_density']!r} is not a whole number "
                             "(ACR 1-4)") from None  # fmt: skip
        if 1 <= d <= 4:
            out[(cbis_patient(row["patient_id"]), row["left or right breast"][0], row["image view"])] = d - 1
    return out


def mias_tissue(path: Path) -> dict[str, int]:
    """``refnum -> 0..2`` (F / G / D) from the mini-MIAS ``labels.csv`` ``background`` column."""
    out = {}
    for row in read_label_rows(path, ("refnum", "background")):
        if row["background"] not in MIAS_TISSUE:
            raise ValueError(f"{path} ({row['refnum']}): background {row['background']!r} unknown (one of "
                             f"{', '.join(MIAS_TISSUE)})")  # fmt: skip
        out[row["refnum"]] = MIAS_TISSUE[row["background"]]
    return out


def load_data(cfg: DensityConfig, split_path: Path, data_dir: Path | None = None, progress: bool = True) -> DensityData:
    """Read and prepare every CBIS image with a density label and every mini-MIAS image."""
    from tqdm import tqdm

    root = data_dir or default_data_dir()
    labels = cbis_density_labels(root)
    split = load_split(split_path)
    pcfg = PreprocessConfig(pixel_size_mm=cfg.pixel_size_mm)
    shape = cfg.canvas_px
    tissue = mias_tissue(root / "mini-mias" / "labels.csv")
    xs, ys, ts, ps, lats, splits = [], [], [], [], [], []
    sources = [*cbis_images(root), *mias_images(root)]
    for src in tqdm(sources, desc="density inputs", unit="image", disable=not progress):
        if src.source == "cbis":
            key = (src.patient.split(":", 1)[1], src.laterality or "", src.projection or "")
            if key not in labels:
                continue
            if src.patient not in split:
                raise ValueError(f"{src.patient} is not in {split_path}: use the split of the CAD's patch set")
            y, t, s = labels[key], -1, split[src.patient]
        else:
            y, t, s = -1, tissue[src.image_id], "test"
        image = read_image(src.path, pixel_spacing=src.spacing)
        xs.append(view_canvas(image, pcfg, shape))
        ys.append(y)
        ts.append(t)
        ps.append(src.patient)
        lats.append(src.laterality or "")
        splits.append(s)
    return DensityData(np.stack(xs), np.array(ys), np.array(ts), np.array(ps), np.array(lats), np.array(splits))


def weighted_kappa(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, n: int = 4, power: int = 1) -> float:
    """Cohen's kappa with linear (``power=1``) or quadratic (2) disagreement weights."""
    o = confusion_matrix(y_true, y_pred, n).astype(np.float64)
    w = (np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]) / (n - 1)) ** power
    e = np.outer(o.sum(1), o.sum(0)) / max(o.sum(), 1.0)
    den = float((w * e).sum())
    return 1.0 - float((w * o).sum()) / den if den > 0 else float("nan")


def density_metrics(data: DensityData, probs: npt.NDArray[np.float64]) -> dict[str, Any]:
    """Validation (CBIS val) and external test (MIAS) metrics from per-image probabilities."""
    val = data.split == "val"
    y, p = data.label[val], probs[val]
    pred = p.argmax(1)
    out: dict[str, Any] = {"classes": list(CATEGORIES)}
    out["val_images"] = {
        "n": int(val.sum()),
        "accuracy": float(np.mean(pred == y)),
        "kappa_linear": weighted_kappa(y, pred, power=1),
        "kappa_quadratic": weighted_kappa(y, pred, power=2),
        "dense_auc": asdict(roc_auc(y >= 2, p[:, 2:].sum(1))),
        "dense_accuracy": float(np.mean((pred >= 2) == (y >= 2))),
        "confusion": confusion_matrix(y, pred, 4).tolist(),
    }
    # per breast: the mean of its views (the label is the patient's: consistent over views in CBIS)
    keys = [f"{a}|{b}" for a, b in zip(data.patient[val], data.laterality[val], strict=True)]
    by: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        by.setdefault(k, []).append(i)
    bp = np.array([p[idx].mean(0) for idx in by.values()])
    by_ = np.array([y[idx[0]] for idx in by.values()])
    out["val_breasts"] = {
        "n": len(by),
        "accuracy": float(np.mean(bp.argmax(1) == by_)),
        "kappa_linear": weighted_kappa(by_, bp.argmax(1), power=1),
        "dense_auc": asdict(roc_auc(by_ >= 2, bp[:, 2:].sum(1))),
    }
    test = data.split == "test"
    if test.any():
        t, expected = data.tissue[test], probs[test] @ np.arange(4)
        fd = (t == 0) | (t == 2)
        out["mias_test"] = {
            "n": int(test.sum()),
            "counts": {k: int(np.sum(t == v)) for k, v in MIAS_TISSUE.items()},
            "dense_vs_fatty_auc": asdict(roc_auc(t[fd] == 2, expected[fd])),
            "glandular_or_dense_vs_fatty_auc": asdict(roc_auc(t >= 1, expected)),
            "mean_expected_category": {k: float(expected[t == v].mean()) for k, v in MIAS_TISSUE.items()},
        }
    return out


def _augment(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    if rng.random() < 0.5:
        x = x.flip(2)
    dy, dx = int(rng.integers(-6, 7)), int(rng.integers(0, 5))
    x = torch.roll(x, (dy, dx), (2, 3))
    return x * float(rng.uniform(0.9, 1.1))


def train_density(cfg: DensityConfig, data: DensityData, out: Path, progress: bool = True) -> dict[str, Any]:
    """Train, keep the best-kappa epoch, write ``metrics.json``/``report.md``/``confusion.png``; return metrics."""
    from tqdm import tqdm

    from mammoview.cad.device import configure_threads

    if not np.any(data.split == "val"):  # (density_metrics failed after the first epoch: "axis 1 is out of bounds")
        raise ValueError("no validation image with a density label: the epoch is chosen by the validation kappa "
                         "(use the split.json of a patch set with validation patients)")  # fmt: skip
    check_density_out(out)
    configure_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    tr = np.flatnonzero(data.split == "train")
    x_all = torch.from_numpy(data.x[:, None])
    y_all = torch.from_numpy(np.maximum(data.label, 0))
    counts = np.bincount(data.label[tr], minlength=4).astype(np.float64)
    weights = torch.tensor(np.sqrt(counts.sum() / np.maximum(counts, 1)), dtype=torch.float32)
    net = create_model(cfg.arch, num_outputs=len(CATEGORIES))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * -(-len(tr) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(weight=weights / weights.mean())
    history, best, best_state = [], -np.inf, None
    t0 = time.time()
    for epoch in tqdm(range(1, cfg.epochs + 1), desc="density", unit="epoch", disable=not progress):
        net.train()
        order = rng.permutation(tr)
        total = 0.0
        for s in range(0, len(order), cfg.batch_size):
            b = order[s : s + cfg.batch_size]
            loss = loss_fn(net(_augment(x_all[b], rng)), y_all[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
        net.eval()
        probs = predict(net, data.x)
        m = density_metrics(data, probs)
        kappa = m["val_images"]["kappa_linear"]
        history.append({"epoch": epoch, "train_loss": total / len(tr), "val_kappa_linear": kappa,
                        "val_accuracy": m["val_images"]["accuracy"]})  # fmt: skip
        # an undefined kappa (NaN: one category, all predicted as it) ranks below any other, never above none
        score = kappa if np.isfinite(kappa) else -np.inf
        if best_state is None or score > best:
            best, best_state = score, {k: v.clone() for k, v in net.state_dict().items()}
            best_metrics = {**m, "epoch": epoch}
    assert best_state is not None
    net.load_state_dict(best_state)
    best_metrics[METRICS_KEY] = 1
    best_metrics["history"] = history
    best_metrics["config"] = {**asdict(cfg), "canvas_px": list(cfg.canvas_px)}
    best_metrics["seconds"] = round(time.time() - t0, 1)
    atomic_write_text(out / "metrics.json", json.dumps(best_metrics, indent=1) + "\n")
    plot_confusion(best_metrics["val_images"]["confusion"], [c.upper() for c in CATEGORIES], out / "confusion.png",
                   "density, CBIS validation images")  # fmt: skip
    atomic_write_text(out / "report.md", report(best_metrics))
    buffer = io.BytesIO()  # our own file, read back with weights_only=True; written whole or not at all
    torch.save(best_state, buffer)
    atomic_write_bytes(out / "best_state.pt", buffer.getvalue(), private=False)
    return best_metrics


def check_density_out(out: Path) -> None:
    """Refuse a run folder holding another command's output (an evaluation's metrics.json, a ``train`` run): the
    run replaced its metrics.json.  An earlier density run's is replaced, as a run again is meant to; one written
    before :data:`METRICS_KEY` is known by its validation images and density categories."""
    from mammoview.training.jsonfile import read_json

    held = out / "metrics.json"
    if held.exists():
        try:
            doc = read_json(held)
        except (OSError, ValueError) as exc:
            raise ValueError(f"--out {out}: {exc} (remove it, or choose another --out)") from None
        earlier = "val_images" in doc and doc.get("classes") == list(CATEGORIES)
        if METRICS_KEY not in doc and ("mammoview_evaluate" in doc or not earlier):
            raise FileExistsError(f"--out {out} holds another command's metrics.json (not a train-density run's): "
                                  "choose another --out")  # fmt: skip
    run = next((p for p in (out / "summary.json", out / "checkpoints") if p.exists()), None)
    if run is not None:
        raise FileExistsError(f"--out {out} holds a `mammoview train` run ({run.name}): choose another --out")


def density_entry(cfg: DensityConfig, metrics: dict[str, Any], name: str, version: str, command: str) -> ModelEntry:
    """The manifest entry of a trained density network."""
    v, t = metrics["val_images"], metrics.get("mias_test", {})
    return ModelEntry(
        name=name, arch=cfg.arch, version=version, task=TASK, outputs=CATEGORIES, classes=CATEGORIES,
        pixel_size_mm=cfg.pixel_size_mm, patch_size=cfg.canvas_px[0],
        preprocessing=PreprocessConfig(pixel_size_mm=cfg.pixel_size_mm).to_dict(),
        normalization="robust z-score inside the breast mask, clipped to +-4; breast on a canvas, chest wall left",
        test_time_flip=True,
        training_data=["CBIS-DDSM Mass-Training breast_density (ACR 1-4 -> a-d), CC BY 3.0, training patients"],
        metrics={"val_accuracy": round(v["accuracy"], 4), "val_kappa_linear": round(v["kappa_linear"], 4),
                 "val_dense_auc": round(v["dense_auc"]["auc"], 4),
                 "mias_dense_vs_fatty_auc": round(t.get("dense_vs_fatty_auc", {}).get("auc", float("nan")), 4)},
        command=command, extra={"canvas_px": list(cfg.canvas_px)},
    )  # fmt: skip


def install(cfg: DensityConfig, out: Path, models_dir: Path, name: str, version: str, command: str) -> ModelEntry:
    """Save the run's best network into ``models_dir`` (safetensors + manifest entry)."""
    metrics = json.loads((out / "metrics.json").read_text())
    net = create_model(cfg.arch, num_outputs=len(CATEGORIES))
    net.load_state_dict(torch.load(out / "best_state.pt", weights_only=True))
    return save_model(net.eval(), density_entry(cfg, metrics, name, version, command), models_dir)


def report(m: dict[str, Any]) -> str:
    """A markdown summary of :func:`density_metrics` output."""
    v, b = m["val_images"], m["val_breasts"]
    lines = [
        "# Breast density (BI-RADS a-d), CBIS-DDSM validation patients",
        "",
        "| set | n | accuracy | kappa (linear) | dense (c+d) AUC |",
        "|---|---|---|---|---|",
        f"| images | {v['n']} | {v['accuracy']:.3f} | {v['kappa_linear']:.3f} | {v['dense_auc']['auc']:.3f} |",
        f"| breasts (mean of views) | {b['n']} | {b['accuracy']:.3f} | {b['kappa_linear']:.3f} | "
        f"{b['dense_auc']['auc']:.3f} |",
        "",
        f"Quadratic-weighted kappa (images): {v['kappa_quadratic']:.3f}. Epoch {m.get('epoch')}.",
        "",
        "Confusion (rows: true a-d, columns: predicted a-d): " + json.dumps(v["confusion"]),
    ]
    if "mias_test" in m:
        t = m["mias_test"]
        lines += [
            "",
            f"mini-MIAS external test ({t['n']} images, never trained on; F/G/D {t['counts']}): "
            f"dense vs fatty AUC {t['dense_vs_fatty_auc']['auc']:.3f}, glandular-or-dense vs fatty AUC "
            f"{t['glandular_or_dense_vs_fatty_auc']['auc']:.3f}; mean expected category (0 = a ... 3 = d) "
            + ", ".join(f"{k} {val:.2f}" for k, val in t["mean_expected_category"].items()),
        ]
    return "\n".join(lines) + "\n"
