"""`mammoview ensemble`: install the mean of several finished training runs as one model."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from mammoview.cli.install_options import add_install_options, install_options
from mammoview.terminal import say


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ensemble",
        help="install the mean of several training runs as one model",
        description="Combine finished `mammoview train` runs of one architecture and input into one network "
        "whose logits (and class activation maps) are the mean of theirs, then install it like "
        "`mammoview train --install-only`. Its patch metrics are measured on the validation split.",
    )
    p.add_argument(
        "runs",
        nargs="+",
        metavar="RUNDIR[:best|:last]",
        help="training run folders; ':last' takes the run's last epoch instead of its best",
    )
    p.add_argument("--name", required=True, help="model name")
    p.add_argument("--install-to", type=Path, required=True, metavar="DIR", help="models folder (manifest.json)")
    p.add_argument(
        "--patches",
        type=Path,
        default=None,
        metavar="DIR",
        help="patch set whose validation split gives the manifest's metrics (default: the first run's)",
    )
    add_install_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mammoview.cad.manifest import check_install_target
    from mammoview.cli.output import check_out_folder
    from mammoview.training.ensemble import install_ensemble, parse_member

    check_out_folder(args.install_to, "--install-to")
    check_install_target(args.install_to, args.name)  # before the networks are read and measured

    try:
        options = install_options(args)
    except ValueError as exc:
        say(f"mammoview ensemble: {exc}")
        return 2

    command = "mammoview " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        entry = install_ensemble(
            [parse_member(s) for s in args.runs],
            args.name,
            args.install_to,
            patches=args.patches,
            command=command,
            options=options,
        )
    except (ValueError, FileNotFoundError) as exc:
        say(f"mammoview ensemble: {exc}")
        return 2
    from mammoview.training.report import fmt

    acc = entry.metrics.get("lesion_vs_normal", {}).get("accuracy")
    auc = entry.metrics.get("lesion_vs_normal_auc")  # None when undefined (one class in the validation split)
    print(
        f"{entry.name}: mean of {entry.arch_kwargs['n']} {entry.arch_kwargs['arch']} networks; "
        f"validation lesion vs normal acc {fmt(acc, 4)} AUC {fmt(auc, 4)}"
    )
    print(f"installed {entry.name} -> {args.install_to / entry.file}")
    return 0
