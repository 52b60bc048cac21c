"""`mammoview train-density`: the whole-breast BI-RADS density network (see mammoview.training.density)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from mammoview.cli.options import count, model_version, preprocess_value, real
from mammoview.terminal import say


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "train-density",
        help="train the breast density (BI-RADS a-d) network on CBIS-DDSM, test it on mini-MIAS",
        description="Train a registered network on whole-breast canvases with the CBIS-DDSM breast_density "
        "labels (the CAD's patient split), evaluate it on the validation patients and on mini-MIAS (external), "
        "and optionally install it into a models folder (task: density).",
    )
    p.add_argument("--out", type=Path, required=True, metavar="RUNDIR", help="run folder (metrics, report, plot)")
    p.add_argument(
        "--split",
        type=Path,
        required=True,
        metavar="SPLIT_JSON",
        help="split.json of the CAD's patch set (e.g. runs/patches/ctx/split.json): the same validation patients",
    )
    p.add_argument("--arch", default="paper_cnn", help="registered network (default paper_cnn)")
    p.add_argument(
        "--pixel-size",
        type=preprocess_value("pixel_size_mm"),
        default=2.0,
        metavar="MM",
        help="input pixel size (default 2 mm)",
    )
    p.add_argument("--epochs", type=count(1), default=30)
    p.add_argument("--lr", type=real(0.0, open_lo=True), default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=count(1), default=None, metavar="N", help="CPU threads")
    p.add_argument("--install-to", type=Path, metavar="MODELS_DIR", help="install the best epoch there")
    p.add_argument("--name", default="mammoview-density", help="model name when installing")
    p.add_argument(
        "--model-version", type=model_version, default="1.0.0", metavar="VERSION", help="model version when installing"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mammoview.cli.output import check_out_folder
    from mammoview.training.density import (
        DensityConfig,
        check_density_out,
        install,
        load_data,
        report,
        train_density,
    )

    check_out_folder(args.out, "--out")
    check_density_out(args.out)  # before reading every image, as train_density checks again
    check_out_folder(args.install_to, "--install-to")
    if args.install_to is not None:  # what the install would refuse, said now rather than after the training
        from mammoview.cad.manifest import check_install_target

        check_install_target(args.install_to, args.name)

    cfg = DensityConfig(arch=args.arch, pixel_size_mm=args.pixel_size, epochs=args.epochs, lr=args.lr,
                        seed=args.seed, threads=args.threads)  # fmt: skip
    data = load_data(cfg, args.split, progress=not args.quiet)
    metrics = train_density(cfg, data, args.out, progress=not args.quiet)
    sys.stdout.write(report(metrics))
    if args.install_to is not None:
        command = "mammoview " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "mammoview train-density"
        entry = install(cfg, args.out, args.install_to, args.name, args.model_version, command)
        say(f"installed {entry.name} {entry.version} ({entry.file}) into {args.install_to}")
    return 0
