"""The settings of a training run (``mammoview train``): what :func:`mammoview.training.train.train` is given.

Kept apart from the loop: the command line builds, compares and resumes configs, and :mod:`.steps` (which the loop
imports) types its arguments with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mammoview.training.augment import AugmentConfig
from mammoview.training.dense import DenseConfig


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
    #: dense training on whole-image crops (:mod:`.dense`) instead of the whole-image patches
    dense: DenseConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        d = dict(d)
        d["augment"] = AugmentConfig(**d.get("augment", {}))
        d["dense"] = DenseConfig.from_dict(d["dense"]) if d.get("dense") else None
        d.setdefault("precision", "fp32")  # runs saved before the option trained in float32
        d.setdefault("ema_warmup", False)  # ... and averaged with a fixed decay
        return cls(**d)
