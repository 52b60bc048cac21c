"""The training loop (``mammoview train``): patches in memory, augmentation in torch, CPU-friendly.

- **Data**: the patch set's uint8 arrays stay in memory; each step dequantises and
  augments one batch (:mod:`.augment`).  Whole-image patches (``size_px == P``) and the
  small MAGIC-5 group (``size_px < P``) are drawn as separate batches each step (the
  GAP network takes both sizes) and their losses are averaged per patch.
- **Class imbalance**: weighted *sampling* with replacement, class ``c`` drawn in
  proportion to ``n_c ** (1 - balance)`` (default 0.5, square-root balancing), within each
  size group; the malignancy BCE uses ``pos_weight = n_benign / n_malignant``.
- **Loss**: 3-way cross-entropy + ``malignant_weight`` x masked BCE (:mod:`.losses`).
- **Optimiser**: ``adam`` (AdamW, decoupled weight decay) or ``sgd`` (Nesterov momentum);
  linear warm-up then cosine decay per step.
- **Validation** each epoch on the patient-level split with
  :func:`mammoview.training.metrics.patch_metrics`; early stopping on ``monitor``
  (default ``combined`` = mean of the lesion-vs-normal and mass-vs-calcification AUCs).
- **Weight averaging** (``ema > 0``): validation, early stopping and the installed
  weights use an exponential moving average of the weights (and BatchNorm statistics),
  ``torch.optim.swa_utils.AveragedModel``; it smooths the epoch-to-epoch noise of a
  high learning rate.  ``init_from`` starts from another run's best weights (fine-tuning
  on a mined patch set instead of starting over).
- **Auxiliary targets** (``aux_descriptors``): a separate linear layer on the pooled features
  learns the CBIS-DDSM case descriptions' margin, shape and BI-RADS flags
  (:mod:`.descriptors`) with masked BCE x ``aux_weight``, to push the shared features towards
  what malignancy is judged on.  Training only: the layer is not saved with the weights, so
  the run's model has the same 4 outputs as any other.
- **Checkpoints** every epoch (:mod:`.checkpoint`, no pickle), ``--resume``, a hard
  ``max_minutes`` stop, learning curves PNG, ``summary.json`` with the full config.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from mammoview.training.augment import AugmentConfig, augment
from mammoview.training.checkpoint import load_checkpoint, save_checkpoint, state_tensors
from mammoview.training.curves import plot_learning_curves
from mammoview.training.datasets import PatchSet
from mammoview.training.descriptors import descriptor_targets, target_counts
from mammoview.training.losses import aux_loss, cad_loss, class_sampling_weights
from mammoview.training.monitor import DetectionMonitor, monitor_images
from mammoview.training.validate import (
    Group,
    evaluate_groups,
    make_groups,
    monitor_value,
    patch_logits,
    patch_pooled,
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; saved in ``config.json``, ``summary.json`` and the model entry."""

    arch: str = "paper_cnn"
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.01  # AdamW's decoupled decay (SGD: ~5e-4)
    momentum: float = 0.9
    epochs: int = 30
    batch_size: int = 64
    small_batch_size: int = 16
    steps_per_epoch: int = 0  # 0 = one pass over the whole-image training patches
    warmup_epochs: float = 1.0
    balance: float = 0.5
    malignant_weight: float = 0.5
    label_smoothing: float = 0.05
    seed: int = 0
    patience: int = 10
    max_minutes: float = 55.0
    time_schedule: bool = False  # the cosine follows max(step, wall-clock) progress: a capped run still anneals
    threads: int = 2
    monitor: Literal["combined", "auc", "balanced_accuracy", "loss", "malignant_auc", "froc"] = "combined"
    monitor_images: int = 120  # validation whole images of the "froc" monitor
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    eval_batch_size: int = 256
    ema: float = 0.0  # per-step decay of the weight average; 0 = off
    #: the average's decay ramps up as ``min(ema, (1 + n) / (10 + n))`` over its first updates, so the
    #: near-random weights of the first steps wash out (off: a fixed decay, as runs before the option)
    ema_warmup: bool = True
    init_from: str = ""  # run folder (its best epoch) or .safetensors to start from
    #: forward/backward arithmetic of the training steps: ``bf16`` autocast (weights, optimiser
    #: and validation stay float32), ``fp32``, or ``auto`` = bf16 where the CPU/GPU has it natively
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    aux_descriptors: bool = False  # also learn the case descriptions' flags (training-only outputs)
    aux_weight: float = 0.5  # weight of their masked BCE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        d = dict(d)
        d["augment"] = AugmentConfig(**d.get("augment", {}))
        d.setdefault("precision", "fp32")  # runs saved before the option trained in float32
        d.setdefault("ema_warmup", False)  # ... and averaged with a fixed decay
        return cls(**d)


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or Nesterov SGD; no weight decay on BatchNorm and bias parameters."""
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    rest = [p for n, p in model.named_parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    if cfg.optimizer == "adam":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r} (adam or sgd)")


def lr_at(step: int, total: int, warmup: int, base: float, time_frac: float = 0.0) -> float:
    """Linear warm-up from ``base / 10`` over ``warmup`` steps, then cosine down to ``base / 100``.

    ``time_frac`` (elapsed / max_minutes, with ``TrainConfig.time_schedule``) moves the cosine
    on when the wall-clock budget runs out before the steps do, so a capped run ends annealed.
    """
    if step < warmup:
        return base * (0.1 + 0.9 * step / max(1, warmup))
    t = min(1.0, max((step - warmup) / max(1, total - warmup), time_frac))
    return base * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * t)))


def train_precision(precision: str, device: torch.device | None = None) -> Literal["fp32", "bf16"]:
    """The arithmetic a run uses: ``auto`` is ``bf16`` where ``device`` (default CPU) computes it natively.

    On a CPU with AMX (this project's 2-core machine) a bf16 VGG step is ~2.3x faster than
    float32 (``benchmarks/bench_training.py``), so the same minutes train ~2x the epochs.
    """
    from mammoview.cad.device import native_bf16

    if precision in ("fp32", "bf16"):
        return precision  # type: ignore[return-value]
    if precision != "auto":
        raise ValueError(f"unknown precision {precision!r} (auto, fp32 or bf16)")
    return "bf16" if native_bf16(device or torch.device("cpu")) else "fp32"


def train_step(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    cfg: TrainConfig,
    gen: torch.Generator,
    clip: float,
    pos_weight: float | None,
    contexts: list[int] | None = None,
    aux_head: torch.nn.Module | None = None,
    aux_targets: list[torch.Tensor] | None = None,
) -> tuple[float, int, int]:
    """One optimiser step over one batch per size group; returns (loss sum, correct, count).

    With ``cfg.precision`` resolving to bf16 the forward pass runs under CPU/CUDA autocast
    (float32 master weights; the loss is computed in float32).  With ``aux_head`` (a layer on
    the pooled features) and ``aux_targets`` (per batch, ``(n, K)`` 1 / 0 / NaN) the loss adds
    ``cfg.aux_weight`` x their masked BCE (:func:`~mammoview.training.losses.aux_loss`).
    """
    bf16 = train_precision(cfg.precision) == "bf16"
    model.train()
    opt.zero_grad(set_to_none=True)
    n_total = sum(int(b[1].shape[0]) for b in batches)
    loss_sum, correct = 0.0, 0
    targets: list[torch.Tensor | None] = list(aux_targets) if aux_targets is not None else [None] * len(batches)
    for (x, y, mal), context, aux in zip(batches, contexts or [0] * len(batches), targets, strict=True):
        if x.shape[0] == 0:
            continue
        xa = augment(x, gen, cfg.augment, clip).contiguous(memory_format=torch.channels_last)
        aux_logits = None
        with torch.autocast(device_type=xa.device.type, dtype=torch.bfloat16, enabled=bf16):
            if aux_head is not None and aux is not None:
                pooled = patch_pooled(model, xa, context)
                logits = model.head(pooled)  # type: ignore[operator]  # CadNet's linear head
                aux_logits = aux_head(pooled)
            else:
                logits = patch_logits(model, xa, context)
        logits = logits.float()
        loss, _ = cad_loss(
            logits,
            y,
            mal,
            malignant_weight=cfg.malignant_weight,
            pos_weight=pos_weight,
            label_smoothing=cfg.label_smoothing,
            reduction="sum",
        )
        if aux_logits is not None and aux is not None:
            loss = loss + cfg.aux_weight * aux_loss(aux_logits.float(), aux)[0]
        (loss / n_total).backward()  # type: ignore[no-untyped-call]
        loss_sum += float(loss.detach())
        correct += int((logits[:, :3].argmax(1) == y).sum())
    opt.step()
    return loss_sum, correct, n_total


def init_weights_path(init_from: str) -> Path:
    """The weights file ``init_from`` names: a run folder's best epoch or a ``.safetensors`` file."""
    path = Path(init_from)
    if path.is_dir():
        path = path / "checkpoints" / "best.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: init_from needs a finished run folder or a .safetensors file")
    return path


def make_ema(model: torch.nn.Module, decay: float, warmup: bool = True) -> torch.nn.Module | None:
    """An exponential moving average of ``model``'s weights and buffers (``None`` when ``decay`` is 0).

    The first update copies the weights.  With ``warmup`` the decay of update ``n`` (``n``
    updates averaged so far) is ``min(decay, (1 + n) / (10 + n))``, as timm's ``ModelEmaV3``:
    with a fixed 0.998 the weights of the first epoch (near-random) still make up half of the
    average after 350 steps, and an 8-epoch run's average lags behind it (measured: patch AUC
    0.913 vs 0.926-0.935 without an average, ``runs/eval/ema0``).
    """
    if decay <= 0.0:
        return None
    if decay >= 1.0:
        raise ValueError(f"ema decay must be in [0, 1): {decay}")
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    if not warmup:
        return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)  # type: ignore[no-untyped-call]

    Tensors = tuple[torch.Tensor, ...] | list[torch.Tensor]

    @torch.no_grad()
    def ramped(ema_params: Tensors, params: Tensors, n_averaged: torch.Tensor | int) -> None:
        n = float(n_averaged)
        d = min(decay, (1.0 + n) / (10.0 + n))
        floats = [(e, p) for e, p in zip(ema_params, params, strict=True) if e.is_floating_point()]
        if floats:
            torch._foreach_lerp_([e for e, _ in floats], [p for _, p in floats], 1.0 - d)
        for e, p in zip(ema_params, params, strict=True):
            if not e.is_floating_point():
                e.copy_(p)  # counters (BatchNorm's num_batches_tracked) follow the model

    return AveragedModel(model, multi_avg_fn=ramped, use_buffers=True)


def _sampling(groups: list[Group], alpha: float) -> list[np.ndarray]:
    return [class_sampling_weights(g.y.numpy(), alpha) for g in groups]


def detection_monitor(ps: PatchSet, cfg: TrainConfig) -> DetectionMonitor:
    """The ``froc`` monitor: ``cfg.monitor_images`` validation CBIS images of the patch set's data.

    The data folder is ``$MAMMOVIEW_DATA`` when set, else the one the patch set was cut from
    (its manifest's ``data_dir``) when it still exists, else :func:`default_data_dir`.

    Raises
    ------
    ValueError
        If the patch set's data folder holds no such image (the monitor would score nothing).
    """
    from mammoview.cad.preprocess import PreprocessConfig

    data = ps.data_dir()
    images = monitor_images(data, ps.split_patients().get("val", []), cfg.monitor_images)
    if not images:
        raise ValueError(f"--monitor froc: no validation CBIS-DDSM image with located masses under {data}")
    return DetectionMonitor(images, PreprocessConfig.from_dict(ps.manifest["preprocessing"]), ps.patch_size)


def train(
    patches_dir: Path,
    out_dir: Path,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
) -> dict[str, Any]:
    """Train ``cfg.arch`` on a patch set; writes checkpoints, curves and ``summary.json`` to ``out_dir``.

    Returns
    -------
    dict
        The summary: config, best epoch and its validation metrics, stop reason, timing.
    """
    from tqdm import tqdm

    from mammoview.cad.registry import create_model

    t0 = time.perf_counter()
    torch.set_num_threads(max(1, cfg.threads))
    torch.manual_seed(cfg.seed)
    np_rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt = out_dir / "checkpoints"
    (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n")

    ps = PatchSet(patches_dir)
    tr = ps.split("train")
    tr = tr[ps.y[tr] >= 0]
    va = ps.split("val")
    model = create_model(cfg.arch, in_chans=ps.channels, **cfg.arch_kwargs)
    model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    aux_head = torch.nn.Linear(int(model.num_features), 3) if cfg.aux_descriptors else None  # training only
    # patches smaller than the network's stride would pool to nothing: leave them out
    min_size = int(getattr(model, "feature_stride", 1))
    train_groups = [g for g in make_groups(ps, tr) if g.size >= min_size]
    val_groups = [g for g in make_groups(ps, va[ps.y[va] >= 0]) if g.size >= min_size]
    probs = _sampling(train_groups, cfg.balance)
    bsizes = [cfg.batch_size if g.size == ps.patch_size else cfg.small_batch_size for g in train_groups]
    known = np.isfinite(ps.malignant[tr]) & (ps.y[tr] > 0)
    n_mal = int(np.sum(ps.malignant[tr][known] == 1))
    pos_weight = float((known.sum() - n_mal) / n_mal) if n_mal else None
    aux_all = descriptor_targets(ps) if aux_head is not None else None  # (N, 3), NaN = unknown
    aux_groups = [torch.from_numpy(aux_all[g.idx]) for g in train_groups] if aux_all is not None else None

    if cfg.init_from and not resume:
        from mammoview.training.checkpoint import load_weights

        load_weights(init_weights_path(cfg.init_from), model)
    ema = make_ema(model, cfg.ema, cfg.ema_warmup)
    net: torch.nn.Module = ema.module if ema is not None else model  # type: ignore[assignment]  # validated, kept, installed

    detection = detection_monitor(ps, cfg) if cfg.monitor == "froc" else None

    opt = make_optimizer(torch.nn.ModuleList([model, aux_head]) if aux_head is not None else model, cfg)
    main = next((g for g in train_groups if g.size == ps.patch_size), train_groups[0])
    steps = cfg.steps_per_epoch or math.ceil(len(main) / cfg.batch_size)
    total, warmup = steps * cfg.epochs, round(steps * cfg.warmup_epochs)

    history: list[dict[str, Any]] = []
    best, best_epoch, bad, start, before = -math.inf, -1, 0, 0, 0.0
    if resume:
        doc = load_checkpoint(ckpt, "last", model, opt, np_rng=np_rng, torch_gen=gen, ema=ema)
        history, best, best_epoch = doc["history"], doc["best"], doc["best_epoch"]
        bad, start, before = doc["bad_epochs"], doc["epoch"] + 1, doc["elapsed_s"]
        if aux_head is not None:
            from safetensors.torch import load_file

            aux_head.load_state_dict(load_file(ckpt / "last_aux.safetensors"), strict=True)
    deadline = t0 + 60.0 * cfg.max_minutes
    stopped = "epochs"
    for epoch in range(start, cfg.epochs):
        draws = [
            np_rng.choice(len(g), size=steps * b, p=p) for g, b, p in zip(train_groups, bsizes, probs, strict=True)
        ]
        loss_sum, correct, count = 0.0, 0, 0
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress, leave=False)
        for step in bar:
            time_frac = (before + time.perf_counter() - t0) / (60.0 * cfg.max_minutes) if cfg.time_schedule else 0.0
            lr = lr_at(epoch * steps + step, total, warmup, cfg.lr, time_frac)
            for group in opt.param_groups:
                group["lr"] = lr
            batches = [
                g.batch(d[step * b : (step + 1) * b]) for g, d, b in zip(train_groups, draws, bsizes, strict=True)
            ]
            aux_batch = (
                [a[d[step * b : (step + 1) * b]] for a, d, b in zip(aux_groups, draws, bsizes, strict=True)]
                if aux_groups is not None
                else None
            )
            ls, c, n = train_step(
                model,
                opt,
                batches,
                cfg,
                gen,
                ps.clip,
                pos_weight,
                [g.context for g in train_groups],
                aux_head,
                aux_batch,
            )
            if ema is not None:
                ema.update_parameters(model)  # type: ignore[operator]  # AveragedModel (make_ema)
            loss_sum, correct, count = loss_sum + ls, correct + c, count + n
            bar.set_postfix(loss=f"{loss_sum / max(1, count):.3f}", acc=f"{correct / max(1, count):.3f}")
            if time.perf_counter() > deadline:
                stopped = "max_minutes"
                break
        bar.close()
        val = evaluate_groups(net, val_groups, ps, cfg.eval_batch_size, cfg.malignant_weight, pos_weight)
        if detection is not None:
            val["summary"].update(detection(net))
        score = monitor_value(val, cfg.monitor)
        improved = score > best + 1e-4
        if improved:
            best, best_epoch, bad = score, epoch + 1, 0
            ckpt.mkdir(parents=True, exist_ok=True)
            from safetensors.torch import save_file

            meta = {"config": json.dumps(cfg.to_dict()), "epoch": str(epoch + 1)}
            save_file(state_tensors(net), str(ckpt / "best.safetensors"), metadata=meta)
            (ckpt / "best_metrics.json").write_text(json.dumps(val["metrics"], indent=1, default=float) + "\n")
        else:
            bad += 1
        row = {
            "epoch": epoch + 1,
            "lr": lr,
            "train_loss": loss_sum / max(1, count),
            "train_acc": correct / max(1, count),
            **val["summary"],
            "monitor": score,
            "best": improved,
            "steps": step + 1,
            "partial": step + 1 < steps,
            "elapsed_s": round(before + time.perf_counter() - t0, 1),
        }
        history.append(row)
        save_checkpoint(
            ckpt,
            "last",
            model,
            opt,
            np_rng=np_rng,
            torch_gen=gen,
            ema=ema,
            extra={
                "epoch": epoch,
                "history": history,
                "best": best,
                "best_epoch": best_epoch,
                "bad_epochs": bad,
                "elapsed_s": row["elapsed_s"],
                "config": cfg.to_dict(),
            },
        )
        if aux_head is not None:  # resume needs it; the installed weights never hold it
            from safetensors.torch import save_file

            save_file(state_tensors(aux_head), str(ckpt / "last_aux.safetensors"))
        plot_learning_curves(history, out_dir / "learning_curves.png", title=f"{cfg.arch} on {Path(patches_dir).name}")
        if progress:
            print(_epoch_line(row), flush=True)
        if stopped == "max_minutes":
            break
        if bad >= cfg.patience and epoch + 1 < cfg.epochs:
            stopped = "early_stopping"
            break
    summary = {
        "arch": cfg.arch,
        "config": cfg.to_dict(),
        "patches": str(patches_dir),
        "patch_manifest": {
            k: ps.manifest[k]
            for k in (
                "pixel_size_mm",
                "patch_size",
                "context_px",
                "channels",
                "preprocessing",
                "extract",
                "counts",
                "command",
            )
            if k in ps.manifest
        },
        "best_epoch": best_epoch,
        "best_monitor": best,
        "monitor": cfg.monitor,
        "stopped": stopped,
        "epochs_run": len(history),
        "minutes": round((before + time.perf_counter() - t0) / 60.0, 2),
        "pos_weight": pos_weight,
        "aux_targets": None if aux_all is None else target_counts(aux_all[tr[ps.y[tr] > 0]]),
        "torch_version": torch.__version__,
        "threads": cfg.threads,
        "precision": train_precision(cfg.precision),
        "command": command,
        "history": history,
    }
    best_metrics = ckpt / "best_metrics.json"
    summary["val_metrics"] = json.loads(best_metrics.read_text()) if best_metrics.exists() else {}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=float) + "\n")
    return summary


def _epoch_line(r: dict[str, Any]) -> str:
    keys = (
        "train_loss",
        "val_loss",
        "train_acc",
        "val_acc",
        "val_bal_acc",
        "val_auc_lesion",
        "val_auc_mass_calc",
        "val_auc_malignant",
    )
    vals = " ".join(f"{k.replace('train_', 't_').replace('val_', 'v_')}={r.get(k, float('nan')):.3f}" for k in keys)
    return f"epoch {r['epoch']:3d} {vals} {'*' if r['best'] else ' '} {r['elapsed_s'] / 60:.1f} min"
