"""`mammoview info` (placeholder until its owner lands it)."""

from __future__ import annotations

import argparse


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("info", help="(not implemented yet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("mammoview info is not implemented yet")
