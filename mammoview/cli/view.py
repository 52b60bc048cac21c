"""`mammoview view [PATH...] [--pixel-spacing MM]`: the desktop viewer (also what plain `mammoview` runs)."""

from __future__ import annotations

import argparse


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "view",
        help="open the viewer (2x2 hanging protocol); the default command",
        description="Open the mammography viewer, optionally with studies (files or folders). Research use only.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="DICOM/PNG/JPEG/PGM/TIFF files or folders to open")
    p.add_argument(
        "--pixel-spacing",
        type=float,
        metavar="MM",
        default=None,
        help="pixel spacing in mm for images that carry none (rasters, DICOMs without spacing tags)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.pixel_spacing is not None and not args.pixel_spacing > 0:
        raise ValueError(f"--pixel-spacing must be > 0 mm, got {args.pixel_spacing}")
    # Qt is imported here, not at module level, so other subcommands stay light.
    from mammoview.gui.app import run_viewer

    return run_viewer(args.paths, pixel_spacing=args.pixel_spacing)
