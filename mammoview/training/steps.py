"""One optimiser step, the optimiser, its schedule and the weight average (used by :mod:`.train`).

- :func:`train_step`: one batch per patch size group (whole-image patches with context, MAGIC-5);
- :func:`dense_train_step`: a batch of whole-image crops (:mod:`.dense`) + patch batches;
- :func:`train_precision`: bf16 autocast where the CPU/GPU has it natively, else float32.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import torch

from mammoview.training.augment import augment, dihedral_pair
from mammoview.training.dense import DenseConfig, WindowGrid
from mammoview.training.losses import aux_loss, cad_loss, dense_loss, window_accuracy
from mammoview.training.validate import dense_logits, patch_logits, patch_pooled

if TYPE_CHECKING:
    from mammoview.training.train_config import TrainConfig


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


def dense_train_step(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    crops: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    patches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    cfg: TrainConfig,
    grid: WindowGrid,
    gen: torch.Generator,
    clip: float,
    pos_weight: float | None,
    contexts: list[int] | None = None,
    weights: list[float] | None = None,
) -> tuple[float, int, int]:
    """One optimiser step on a batch of crops (:mod:`.dense`) + patch batches (``contexts`` px around them).

    Each patch batch's mean loss enters with its ``weights`` entry (default the dense config's
    ``small_weight``): the MAGIC-5 small patches, and with ``patch_batch`` whole-image patches.

    Returns (loss x labelled windows, correct windows, labelled windows), so the epoch's
    ``loss_sum / count`` is the mean step loss weighted by windows.
    """
    from dataclasses import replace

    dcfg = cfg.dense or DenseConfig()
    bf16 = train_precision(cfg.precision) == "bf16"
    model.train()
    opt.zero_grad(set_to_none=True)
    x, (y, mal, weight) = dihedral_pair(crops[0], [crops[1], crops[2], crops[3]], gen)
    intensity = replace(cfg.augment, dihedral=False, affine_p=0.0)
    xa = augment(x, gen, intensity, clip).contiguous(memory_format=torch.channels_last)
    with torch.autocast(device_type=xa.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = dense_logits(model, xa, grid)
    loss, _ = dense_loss(
        logits.float(),
        y,
        mal,
        hard_fraction=dcfg.hard_fraction,
        malignant_weight=cfg.malignant_weight,
        pos_weight=pos_weight,
        label_smoothing=cfg.label_smoothing,
        weight=weight if dcfg.per_lesion else None,
    )
    ctx = contexts or [0] * len(patches)
    wts = weights or [dcfg.small_weight] * len(patches)
    for (xs, ys, ms), context, patch_weight in zip(patches, ctx, wts, strict=True):
        if xs.shape[0] == 0:
            continue
        xsa = augment(xs, gen, cfg.augment, clip).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=xsa.device.type, dtype=torch.bfloat16, enabled=bf16):
            small_logits = patch_logits(model, xsa, context)
        small_loss, _ = cad_loss(
            small_logits.float(),
            ys,
            ms,
            malignant_weight=cfg.malignant_weight,
            pos_weight=pos_weight,
            label_smoothing=cfg.label_smoothing,
        )
        loss = loss + patch_weight * small_loss
    loss.backward()  # type: ignore[no-untyped-call]
    opt.step()
    correct, n = window_accuracy(logits, y)
    return float(loss.detach()) * n, correct, n


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
