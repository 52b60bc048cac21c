"""`mammoview view [PATH...] [--pixel-spacing MM] [--model NAME] [--device D] [--auto-cad]`: the desktop viewer.

Also what plain `mammoview` runs.  The CAD flags override the saved settings for this
session only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mammoview.cli.info import parse_spacing
from mammoview.cli.options import device_name


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "view",
        help="open the viewer (2x2 hanging protocol); the default command",
        description="Open the mammography viewer, optionally with studies (files or folders). Research use only.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="DICOM/PNG/JPEG/PGM/TIFF files or folders to open")
    p.add_argument(
        "--pixel-spacing",
        type=parse_spacing,
        metavar="MM",
        default=None,
        help="pixel spacing in mm (MM or ROW,COL) for images that carry none (rasters, DICOMs without spacing "
        "tags); non-square pixels are shown in their true proportions",
    )
    p.add_argument("--model", metavar="NAME", default=None,
                   help="CAD model from `mammoview models` (default: the manifest's default)")  # fmt: skip
    p.add_argument("--models-dir", type=Path, metavar="DIR", default=None,
                   help="models folder (default: $MAMMOVIEW_MODELS, else the shipped models)")  # fmt: skip
    p.add_argument("--device", type=device_name, metavar="D", default=None,
                   help="where the CAD runs: auto (default: the saved setting), cpu, cuda, cuda:N or mps")  # fmt: skip
    p.add_argument("--auto-cad", action="store_true", default=None,
                   help="compute CAD in the background when a study opens (shown after the first read)")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Qt is imported here, not at module level, so other subcommands stay light.
    from mammoview.gui.app import run_viewer
    from mammoview.gui.cad_worker import CadOptions

    options = CadOptions(model=args.model, models_dir=args.models_dir, device=args.device, auto_run=args.auto_cad)
    # Without CAD flags the viewer uses its saved settings (and the call stays the plain one).
    extra = {"cad_options": options} if options != CadOptions() else {}
    return run_viewer(args.paths, pixel_spacing=args.pixel_spacing, **extra)
