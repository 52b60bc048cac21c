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
- **Dense training** (``dense``, :mod:`.dense`): instead of the patch set's whole-image
  patches, crops of the training patients' whole images with every window position of the
  viewer's maps labelled (online hard negatives); the patch set still gives the split, the
  validation patches and the MAGIC-5 small patches.
- **Checkpoints** every epoch (:mod:`.checkpoint`, no pickle), ``--resume``, a hard
  ``max_minutes`` stop, learning curves PNG, ``summary.json`` with the full config.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mammoview.training.checkpoint import (
    init_weights_path,
    load_checkpoint,
    save_checkpoint,
    state_tensors,
)
from mammoview.training.curves import epoch_line, plot_learning_curves
from mammoview.training.datasets import PatchSet
from mammoview.training.dense import DenseConfig, dense_sampler
from mammoview.training.descriptors import descriptor_targets, target_counts
from mammoview.training.jsonfile import write_json
from mammoview.training.losses import class_sampling_weights
from mammoview.training.monitor import detection_monitor
from mammoview.training.patch_identity import patch_set_id
from mammoview.training.run_folder import (
    check_resumed_patch_set,
    check_run_folder,
    clear_run_folder,
    pixel_differences,
    pixel_settings,
)
from mammoview.training.steps import (
    dense_train_step,
    lr_at,
    make_ema,
    make_optimizer,
    train_precision,
    train_step,
)
from mammoview.training.train_config import TrainConfig
from mammoview.training.validate import (
    Group,
    evaluate_groups,
    make_groups,
    monitor_value,
)


def _sampling(groups: list[Group], alpha: float) -> list[np.ndarray]:
    return [class_sampling_weights(g.y.numpy(), alpha) for g in groups]


def train(
    patches_dir: Path,
    out_dir: Path,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
    overwrite: bool = False,
) -> dict[str, Any]:
    """Train ``cfg.arch`` on a patch set; writes checkpoints, curves and ``summary.json`` to ``out_dir``.

    A fresh run (not ``resume``) refuses a folder that holds another run (``FileExistsError``) unless
    ``overwrite``; ``resume`` refuses another patch set than the run's (``ValueError``).

    Returns
    -------
    dict
        The summary: config, best epoch and its validation metrics, stop reason, timing.
    """
    from tqdm import tqdm

    from mammoview.cad.registry import create_model

    if cfg.dense is not None and cfg.aux_descriptors:
        raise ValueError("dense training does not take --aux-descriptors (the descriptions label patches)")
    check_run_folder(out_dir, resume, overwrite)
    t0 = time.perf_counter()
    torch.set_num_threads(max(1, cfg.threads))
    torch.manual_seed(cfg.seed)
    np_rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    ckpt = out_dir / "checkpoints"

    ps = PatchSet(patches_dir)
    pixels = pixel_settings(ps.manifest)
    patch_set: dict[str, Any] = {"dir": str(patches_dir), "id": patch_set_id(patches_dir), "pixels": pixels}
    tr = ps.split("train")
    tr = tr[ps.y[tr] >= 0]
    va = ps.split("val")
    if tr.size == 0:
        raise ValueError(f"{patches_dir}: no training patches (--val-fraction 1?); cut the patch set again")
    if not np.any(ps.y[va] >= 0):
        # nothing to validate on: every epoch's monitor would read 0, epoch 1 would be kept and installed
        raise ValueError(
            f"{patches_dir}: no validation patches (split.json has no validation patient with patches: "
            "--val-fraction 0?); early stopping and the kept epoch need them, cut the patch set again"
        )
    model = create_model(cfg.arch, in_chans=ps.channels, **cfg.arch_kwargs)
    model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    aux_head = torch.nn.Linear(int(model.num_features), 3) if cfg.aux_descriptors else None  # training only
    # patches smaller than the network's stride would pool to nothing: leave them out
    min_size = int(getattr(model, "feature_stride", 1))
    train_groups = [g for g in make_groups(ps, tr) if g.size >= min_size]
    sampler = (
        dense_sampler(
            ps, cfg.dense, int(getattr(model, "feature_stride", 1)), max(1, cfg.threads), cfg.balance, progress
        )
        if cfg.dense is not None
        else None
    )
    dcfg = cfg.dense or DenseConfig()
    if sampler is not None and dcfg.patch_batch <= 0:  # the crops replace the whole-image patches
        train_groups = [g for g in train_groups if g.size != ps.patch_size]
    val_groups = [g for g in make_groups(ps, va[ps.y[va] >= 0]) if g.size >= min_size]
    # what the monitor can be measured on: the patches the network validates (none smaller than its stride), with
    # both classes of the AUCs it reads; otherwise every epoch reads 0 and epoch 1 is kept and installed
    vy = ps.y[np.concatenate([g.idx for g in val_groups])] if val_groups else np.zeros(0, dtype=np.int64)
    vmal = ps.malignant[np.concatenate([g.idx for g in val_groups])] if val_groups else np.zeros(0)
    lacking = (
        "no validation patch the network can read (every one is smaller than its stride)"
        if vy.size == 0
        else "no normal or no lesion validation patch: the lesion AUC is undefined"
        if cfg.monitor in ("auc", "combined") and not ((vy == 0).any() and (vy > 0).any())
        else "no benign or no malignant validation lesion: the malignancy AUC is undefined"
        if cfg.monitor == "malignant_auc" and not ((vmal == 0).any() and (vmal == 1).any())
        else ""
    )
    if lacking:
        raise ValueError(
            f"{patches_dir}: {lacking}; early stopping on {cfg.monitor} and the kept epoch need it, cut the patch "
            "set again (another --val-fraction or split seed) or choose another --monitor"
        )
    probs = _sampling(train_groups, cfg.balance)
    whole_batch = dcfg.patch_batch if sampler is not None else cfg.batch_size
    bsizes = [whole_batch if g.size == ps.patch_size else cfg.small_batch_size for g in train_groups]
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

    detection = detection_monitor(ps, cfg.monitor_images) if cfg.monitor == "froc" else None

    opt = make_optimizer(torch.nn.ModuleList([model, aux_head]) if aux_head is not None else model, cfg)
    if sampler is not None:
        steps = cfg.steps_per_epoch or 250
    else:
        main = next((g for g in train_groups if g.size == ps.patch_size), train_groups[0])
        steps = cfg.steps_per_epoch or math.ceil(len(main) / cfg.batch_size)
    total, warmup = steps * cfg.epochs, round(steps * cfg.warmup_epochs)

    history: list[dict[str, Any]] = []
    best, best_epoch, bad, start, before = -math.inf, -1, 0, 0, 0.0
    ran_out = False  # the saved run's last epoch ended on --max-minutes
    if resume:
        doc = load_checkpoint(ckpt, "last", model, opt, np_rng=np_rng, torch_gen=gen, ema=ema, aux=aux_head)
        trained_on: dict[str, Any] = doc.get("patch_set") or {}  # absent in checkpoints saved before it was recorded
        differ = pixel_differences(trained_on["pixels"], pixels) if trained_on.get("pixels") else []
        if differ:  # before the id, which says only that the pixels differ
            raise ValueError(
                f"{patches_dir} was cut with other settings than the patch set {out_dir} was trained on "
                f"({trained_on.get('dir')}): {', '.join(differ)}; resume on the run's own patch set, or start a new run"
            )
        check_resumed_patch_set(trained_on, patches_dir, patch_set["id"], out_dir)
        history, best, best_epoch = doc["history"], doc["best"], doc["best_epoch"]
        bad, start, before = doc["bad_epochs"], doc["epoch"] + 1, doc["elapsed_s"]
        ran_out = doc.get("stopped") == "max_minutes" or bool(history and history[-1].get("partial"))
    if resume:  # unfinished until this session writes its own: an interrupted one must not leave the last
        # session's summary beside newer best weights (--install-only, ensemble and evaluate read the two together)
        (out_dir / "summary.json").unlink(missing_ok=True)
    # written once the inputs are checked: a run that cannot start leaves no folder holding only its config
    clear_run_folder(out_dir, resume, overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "config.json", cfg.to_dict())
    deadline = t0 + 60.0 * cfg.max_minutes - before  # the budget is the whole run's, resumed sessions included
    stopped = "epochs"
    if resume and start < cfg.epochs:  # a run that stopped on its budget: resumed as it was, it trains no further
        if before >= 60.0 * cfg.max_minutes:
            stopped = "max_minutes"
        elif bad >= cfg.patience:
            stopped = "early_stopping"
        if stopped != "epochs":
            start = cfg.epochs  # (the summary is written again; a larger --max-minutes / --patience trains on)
            if progress:
                option = "--max-minutes" if stopped == "max_minutes" else "--patience"
                print(f"{out_dir} stopped on its {option} ({stopped}) at epoch {len(history)}: nothing left to "
                      f"train; resume with a larger {option} to go on", flush=True)  # fmt: skip
    elif resume and ran_out:  # its last epoch was cut short by the budget: the rewritten summary says so still
        stopped = "max_minutes"
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
            if sampler is not None:
                crops = sampler.sample(dcfg.batch, np_rng)
                ls, c, n = dense_train_step(
                    model,
                    opt,
                    crops,
                    batches,
                    cfg,
                    sampler.grid,
                    gen,
                    ps.clip,
                    pos_weight,
                    [g.context for g in train_groups],
                    [dcfg.patch_weight if g.size == ps.patch_size else dcfg.small_weight for g in train_groups],
                )
            else:
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
        best_files: list[tuple[Path, Callable[[str], Any]]] = []
        if improved:
            best, best_epoch, bad = score, epoch + 1, 0
            from safetensors.torch import save_file

            meta = {"config": json.dumps(cfg.to_dict()), "epoch": str(epoch + 1)}
            weights, metrics_text = state_tensors(net), json.dumps(val["metrics"], indent=1, default=float) + "\n"
            # renamed into place with the epoch's checkpoint, which names the best epoch: a run killed while saving
            # keeps its previous best weights, metrics and checkpoint together, never a truncated file
            best_files = [
                (ckpt / "best.safetensors", partial(save_file, weights, metadata=meta)),
                (ckpt / "best_metrics.json", partial(_write_text, text=metrics_text)),
            ]
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
            aux=aux_head,  # resume needs it; the installed weights never hold it
            also=best_files,
            extra={
                "epoch": epoch,
                "history": history,
                "best": best,
                "best_epoch": best_epoch,
                "bad_epochs": bad,
                "elapsed_s": row["elapsed_s"],
                "stopped": stopped,  # "max_minutes" when the budget ran out in this epoch
                "config": cfg.to_dict(),
                "patch_set": patch_set,
            },
        )
        plot_learning_curves(history, out_dir / "learning_curves.png", title=f"{cfg.arch} on {Path(patches_dir).name}")
        if progress:
            print(epoch_line(row), flush=True)
        if stopped == "max_minutes":
            break
        if bad >= cfg.patience and epoch + 1 < cfg.epochs:
            stopped = "early_stopping"
            break
    summary = {
        "arch": cfg.arch,
        "config": cfg.to_dict(),
        "patches": str(patches_dir),
        "patch_set_id": patch_set["id"],
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
        "dense_images": sampler.counts() if sampler is not None else None,
        "aux_targets": None if aux_all is None else target_counts(aux_all[tr[ps.y[tr] > 0]]),
        "torch_version": torch.__version__,
        "threads": cfg.threads,
        "precision": train_precision(cfg.precision),
        "command": command,
        "history": history,
    }
    best_metrics = ckpt / "best_metrics.json"
    summary["val_metrics"] = json.loads(best_metrics.read_text()) if best_metrics.exists() else {}
    write_json(out_dir / "summary.json", summary, default=float)
    return summary


def _write_text(path: str, text: str) -> None:
    Path(path).write_text(text)
