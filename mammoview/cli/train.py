"""`mammoview train` (placeholder until its owner lands it)."""

from __future__ import annotations

import argparse


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("train", help="(not implemented yet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("mammoview train is not implemented yet")
