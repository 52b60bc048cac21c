"""`mammoview train`: train a registered network on a patch set (CPU-friendly), optionally install it."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mammoview.cli.install_options import add_install_options, install_options
from mammoview.cli.options import count, real
from mammoview.terminal import say

if TYPE_CHECKING:  # the training imports stay lazy at run time (torch)
    from mammoview.training.train_config import TrainConfig


def json_object(text: str) -> dict[str, object]:
    """``--arch-kwargs``: a JSON object (argparse type)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object like '{{\"drop_rate\": 0.2}}', got {text!r}")
    return value


def _recording(cls: type[argparse.Action]) -> type[argparse.Action]:
    """``cls`` that also adds its dest to ``namespace.given``: which options were typed (``--resume`` compares
    those with the run's configuration, whatever their value; a default cannot tell them from options left out)."""

    class Recording(cls):  # type: ignore[valid-type,misc]
        def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
            super().__call__(parser, namespace, values, option_string)
            namespace.given = frozenset({*getattr(namespace, "given", ()), self.dest})

    return Recording


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "train",
        help="train a CAD network on a patch set (from extract-patches)",
        description="Train a registered network (paper_cnn, vgg, resnet) on a patch set with augmentation, "
        "class-balanced sampling, early stopping on the patient-level validation split, checkpoints every "
        "epoch (--resume), and optionally install the best epoch into models/.",
    )
    for name, action in ((None, argparse._StoreAction), ("store", argparse._StoreAction),
                         ("store_true", argparse._StoreTrueAction)):  # fmt: skip
        p.register("action", name, _recording(action))
    p.set_defaults(given=frozenset())
    p.add_argument("--patches", type=Path, required=True, metavar="DIR", help="patch set folder")
    p.add_argument("--arch", default="paper_cnn", help="registered network (see `mammoview models`)")
    p.add_argument("--arch-kwargs", type=json_object, default={}, metavar="JSON", help="e.g. '{\"drop_rate\": 0.2}'")
    p.add_argument("--out", type=Path, required=True, metavar="RUNDIR", help="run folder (checkpoints, curves)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="adam = AdamW; sgd = Nesterov")
    p.add_argument(
        "--lr", type=real(0.0, open_lo=True), default=None, help="peak learning rate (default 1e-3 adam, 1e-2 sgd)"
    )
    p.add_argument("--epochs", type=count(1), default=None, help="default 30")
    p.add_argument("--batch-size", type=count(1), default=64)
    p.add_argument("--small-batch-size", type=count(1), default=16, help="MAGIC-5 small patches per step")
    p.add_argument("--steps-per-epoch", type=count(0), default=0, help="0 = one pass over the whole-image patches")
    p.add_argument(
        "--weight-decay", type=real(0.0), default=None, help="default 0.01 for adam (decoupled), 5e-4 for sgd"
    )
    p.add_argument(
        "--balance",
        type=real(0.0),
        default=0.5,
        help="class-balanced sampling exponent: 0 natural, 0.5 square-root, 1 uniform",
    )
    p.add_argument("--malignant-weight", type=real(0.0), default=0.5, help="weight of the malignancy BCE")
    p.add_argument("--label-smoothing", type=real(0.0, 1.0), default=0.05)
    p.add_argument(
        "--aux-descriptors",
        action="store_true",
        help="also learn the CBIS-DDSM case descriptions (suspicious margin, irregular shape, BI-RADS >= 4) on "
        "training-only outputs; the installed network keeps its 4 outputs",
    )
    p.add_argument("--aux-weight", type=real(0.0), default=0.5, help="weight of the --aux-descriptors BCE")
    p.add_argument(
        "--ema",
        type=real(0.0, 1.0, open_hi=True),
        default=0.0,
        metavar="DECAY",
        help="validate, keep and install an exponential moving average of the weights with this per-step "
        "decay (e.g. 0.998; default 0 = off)",
    )
    p.add_argument(
        "--ema-warmup",
        action=_recording(argparse.BooleanOptionalAction),
        default=True,
        help="ramp the average's decay up as min(DECAY, (1+n)/(10+n)) over its first updates (default on)",
    )
    p.add_argument(
        "--init-from",
        default="",
        metavar="RUN",
        help="start from this run folder's best weights (or a .safetensors file): fine-tune instead of "
        "training from scratch",
    )
    p.add_argument("--no-augment", action="store_true", help="switch augmentation off")
    p.add_argument(
        "--augment",
        default="{}",
        metavar="JSON",
        help='augmentation strengths over the defaults, e.g. \'{"scale": 0.2, "contrast": 0.3}\' '
        "(keys: dihedral, affine_p, degrees, scale, translate, contrast, brightness, noise)",
    )
    p.add_argument(
        "--monitor",
        choices=("combined", "auc", "balanced_accuracy", "loss", "malignant_auc", "froc"),
        default="combined",
        help="early stopping: combined = mean of lesion-vs-normal and mass-vs-calc AUC; auc = lesion-vs-normal; "
        "malignant_auc = benign-vs-malignant lesions; froc = whole-image mass detection (mean FROC sensitivity "
        "at 0.25-2 FP/image) on --monitor-images validation CBIS-DDSM images",
    )
    p.add_argument(
        "--monitor-images",
        type=count(1),
        default=120,
        metavar="N",
        help="validation whole images the froc monitor runs on after every epoch (default 120: ~8 s per epoch "
        "on 2 CPU threads)",
    )
    p.add_argument(
        "--dense",
        action="store_true",
        help="dense training: crops of the training patients' whole images with every window of the viewer's maps "
        "labelled (lesion / normal / ignore), instead of the patch set's whole-image patches; the patch set still "
        "gives the split, validation and MAGIC-5 patches (docs: mammoview/training/dense.py)",
    )
    p.add_argument(
        "--dense-options",
        default="{}",
        metavar="JSON",
        help='with --dense, e.g. \'{"crop_px": 320, "batch": 16, "hard_fraction": 0.1, "lesion_fraction": 0.5}\'',
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from RUNDIR/checkpoints/last")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="RUNDIR holds another run: remove its summary, config, curves and checkpoints and start afresh "
        "(without it, such a folder is refused)",
    )
    p.add_argument("--patience", type=count(1), default=None, help="epochs without improvement (default 10)")
    p.add_argument("--max-minutes", type=real(0.0, open_lo=True), default=None, help="hard stop (default 55)")
    p.add_argument(
        "--time-schedule",
        action="store_true",
        help="the cosine learning-rate schedule follows the wall-clock budget too, so a run capped by "
        "--max-minutes still ends annealed",
    )
    p.add_argument("--threads", type=count(1), default=None, help="torch CPU threads (default 2)")
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="arithmetic of the training steps: bf16 autocast (float32 weights, optimiser and validation) or fp32; "
        "auto (default) = bf16 where the CPU (AMX / AVX512-BF16) or GPU has it natively, ~2.3x faster steps",
    )
    p.add_argument("--install-to", type=Path, default=None, metavar="DIR", help="install the best epoch here")
    p.add_argument("--name", default=None, help="model name for --install-to (default mammoview-ARCH)")
    add_install_options(p)
    p.add_argument(
        "--install-only",
        action="store_true",
        help="no training: install RUNDIR's best epoch (its summary.json) into --install-to",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


#: What ``--resume`` may change in a run's saved configuration: its budget, not what it learns.
RESUME_OPTIONS = ("epochs", "patience", "max_minutes", "threads")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run's configuration: from the options, or with ``--resume`` the run's saved one with new budget options.

    Raises
    ------
    ValueError
        ``--resume`` with an option that would configure the run otherwise than it was (it used to be
        dropped without a word).
    """
    from mammoview.training.jsonfile import read_json
    from mammoview.training.train_config import TrainConfig

    saved_config: dict[str, Any] | None = None
    if args.resume and (args.out / "config.json").exists():
        saved_config = read_json(args.out / "config.json")
    elif args.resume and (args.out / "checkpoints" / "last.json").exists():
        # the checkpoint's copy: a run folder without config.json (copied without it) resumed on the options'
        # defaults, another batch size, schedule and budget than the run's, and said nothing
        saved_config = read_json(args.out / "checkpoints" / "last.json").get("config")
    if saved_config is not None:
        saved = TrainConfig.from_dict(saved_config)
        over = {k: getattr(args, k) for k in RESUME_OPTIONS if getattr(args, k) is not None}
        resumed = TrainConfig.from_dict({**saved.to_dict(), **over})
        _check_resume_options(args, resumed)
        return resumed
    return _new_config(args)


#: The options that set each field of the configuration (the others: the field's own name).
_FIELD_OPTIONS = {"augment": ("augment", "no_augment"), "dense": ("dense", "dense_options")}


def _check_resume_options(args: argparse.Namespace, resumed: TrainConfig) -> None:
    """Refuse options given on the command line that set a field of the configuration away from the run's value."""
    asked, kept, given = _new_config(args).to_dict(), resumed.to_dict(), args.given  # given: the train parser's
    differ = [k for k in asked if k not in RESUME_OPTIONS and asked[k] != kept[k]
              and any(o in given for o in _FIELD_OPTIONS.get(k, (k,)))]  # fmt: skip
    if differ:
        said = ", ".join(f"{k} {asked[k]!r} (the run's: {kept[k]!r})" for k in differ)
        raise ValueError(
            f"--resume continues {args.out}'s run as it was configured ({args.out / 'config.json'}); it can change "
            f"only --{', --'.join(k.replace('_', '-') for k in RESUME_OPTIONS)}, not: {said}. Leave those out, "
            "or start a new run in another --out"
        )


def _new_config(args: argparse.Namespace) -> TrainConfig:
    """The configuration the options give a new run."""
    from mammoview.training.augment import AugmentConfig
    from mammoview.training.train_config import TrainConfig

    try:
        aug = (
            AugmentConfig(dihedral=False, affine_p=0.0, contrast=0.0, brightness=0.0, noise=0.0)
            if args.no_augment
            else AugmentConfig(**json.loads(args.augment))
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--augment {args.augment!r}: {exc}") from exc
    dense = None
    if args.dense:
        from mammoview.training.dense import DenseConfig

        try:
            dense = DenseConfig.from_dict(json.loads(args.dense_options))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"--dense-options {args.dense_options!r}: {exc}") from exc
    return TrainConfig(
        arch=args.arch,
        arch_kwargs=dict(args.arch_kwargs),
        optimizer=args.optimizer,
        lr=args.lr if args.lr is not None else (1e-3 if args.optimizer == "adam" else 1e-2),
        weight_decay=args.weight_decay
        if args.weight_decay is not None
        else (0.01 if args.optimizer == "adam" else 5e-4),
        epochs=args.epochs if args.epochs is not None else 30,
        batch_size=args.batch_size,
        small_batch_size=args.small_batch_size,
        steps_per_epoch=args.steps_per_epoch,
        balance=args.balance,
        malignant_weight=args.malignant_weight,
        label_smoothing=args.label_smoothing,
        seed=args.seed,
        patience=args.patience if args.patience is not None else 10,
        max_minutes=args.max_minutes if args.max_minutes is not None else 55.0,
        time_schedule=args.time_schedule,
        threads=args.threads if args.threads is not None else 2,
        monitor=args.monitor,
        monitor_images=args.monitor_images,
        augment=aug,
        ema=args.ema,
        ema_warmup=args.ema_warmup,
        init_from=str(args.init_from),
        precision=args.precision,
        aux_descriptors=args.aux_descriptors,
        aux_weight=args.aux_weight,
        dense=dense,
    )


def run(args: argparse.Namespace) -> int:
    from mammoview.cli.output import check_out_folder
    from mammoview.training.install import install_run, validation_metrics
    from mammoview.training.train import train

    check_out_folder(args.out, "--out")
    check_out_folder(args.install_to, "--install-to")

    cfg = config_from_args(args)
    if args.install_to is not None:  # what the install would refuse, said now rather than after the training
        from mammoview.cad.manifest import check_install_target

        check_install_target(args.install_to, args.name or f"mammoview-{cfg.arch}")
    command = "mammoview " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        options = install_options(args)  # a bad --operating-curve fails now, not after the training
    except ValueError as exc:
        say(f"mammoview train: {exc}")
        return 2
    if args.install_only:
        if args.install_to is None:
            say("mammoview train: --install-only needs --install-to DIR")
            return 2
        path = args.out / "summary.json"
        if not path.exists():
            say(f"mammoview train: {path} not found (the run has not finished)")
            return 2
        from mammoview.training.jsonfile import read_json

        summary = read_json(path)
        cfg = type(cfg).from_dict(summary["config"])
    else:
        summary = train(
            args.patches,
            args.out,
            cfg,
            resume=args.resume,
            progress=not args.quiet,
            command=command,
            overwrite=args.overwrite,
        )
    from mammoview.training.report import fmt

    m = validation_metrics(summary)
    print(
        f"{cfg.arch}: {summary['epochs_run']} epochs in {summary['minutes']:.1f} min, stopped by "
        f"{summary['stopped']}; best epoch {summary['best_epoch']} ({cfg.monitor} {fmt(summary['best_monitor'], 4)})"
    )
    if m:  # an undefined value (None here: NaN in metrics.json) prints n/a, never stops the install below
        lvn = m["lesion_vs_normal"]
        print(
            f"  lesion vs normal: acc {fmt(lvn['accuracy'], 4)} precision {fmt(lvn['precision'], 4)} "
            f"recall {fmt(lvn['recall'], 4)} AUC {fmt(m['lesion_vs_normal_auc'], 4)}"
        )
        print(
            f"  mass vs calc AUC {fmt(m['mass_vs_calcification_auc'], 4)}; benign vs malignant AUC "
            f"{fmt(m['benign_vs_malignant_auc'], 4)}; 3-way balanced acc {fmt(m['three_way_balanced_accuracy'], 4)}"
        )
    if args.install_to is not None:
        entry = install_run(args.out, summary, args.name or f"mammoview-{cfg.arch}", args.install_to, options)
        print(f"installed {entry.name} -> {args.install_to / entry.file}")
    return 0
