"""``mammoview classify``: per-class probabilities for image patches."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from mammoview.cli.info import parse_spacing
from mammoview.cli.options import add_model_options
from mammoview.cli.output import check_json_out, say_warnings, write_json_out
from mammoview.io.model import ImageInfo
from mammoview.terminal import say


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "classify",
        help="classify image patches (normal / mass / calcification, malignant)",
        description="Classify image patches with the CAD network. A patch is resampled to the model's pixel "
        "size when its spacing is known (from the file or --pixel-spacing), else used as is.",
    )
    p.add_argument("paths", nargs="+", metavar="PATCH", help="patch image files or folders (searched recursively)")
    p.add_argument("--json", type=Path, dest="json_out", metavar="OUT", help="JSON file to write (default: stdout)")
    p.add_argument("--pixel-spacing", type=parse_spacing, metavar="MM", help="patch spacing (MM or ROW,COL)")
    add_model_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mammoview.cad.device import configure_threads
    from mammoview.cad.patches import classify_patch, prepare_patch
    from mammoview.cad.preprocess import presentation_of
    from mammoview.cad.weights import load_model
    from mammoview.io import LoadError, read_image, scan_paths

    configure_threads(args.threads)
    model = load_model(args.model, args.models_dir, args.device)
    check_json_out(args.json_out, args.paths)
    # the outputs follow the arguments (a file that cannot be read keeps its place, as before folders were read):
    # each argument is scanned on its own, a file reached twice is classified once
    items: list[Any] = []
    seen: set[Path] = set()
    for name in args.paths:
        scan = scan_paths([name], pixel_spacing=args.pixel_spacing)
        items.extend(scan.errors)
        for info in scan.images:
            if (key := Path(info.path).resolve()) not in seen:
                seen.add(key)
                items.append(info)
    check_json_out(args.json_out, [i.path for i in items])  # a file a named folder holds is an input too
    out: list[dict[str, Any]] = []
    failed = 0
    bar = tqdm(total=sum(not isinstance(i, LoadError) for i in items), unit="patch", disable=args.quiet or None,
               file=sys.stderr)  # fmt: skip
    for info in items:
        if isinstance(info, LoadError):
            say(f"mammoview classify: {info}")
            out.append({"path": os.path.abspath(info.path), "error": info.reason})  # (as named, as detect)
            failed += 1
            continue
        path = Path(os.path.abspath(info.path))  # as named, as detect
        try:
            image = read_image(path, pixel_spacing=args.pixel_spacing)
            sp = image.info.spacing
            spacing = (sp.row_mm, sp.col_mm) if sp is not None else None
            data = prepare_patch(presentation_of(image), model, spacing)
            probs = classify_patch(model, data)
        except (LoadError, ValueError, RuntimeError, OSError, MemoryError) as exc:  # e.g. a spacing 1000x too big
            reason = exc.reason if isinstance(exc, LoadError) else f"{type(exc).__name__}: {exc}"
            say(f"mammoview classify: {path}: {reason}")  # (the JSON: exact)
            out.append({"path": str(path), "error": reason})
            failed += 1
            bar.update(1)
            continue
        say_warnings("classify", path, _patch_warnings(image.info))  # e.g. not MG, a colour file: as detect
        label = max(("normal", "mass", "calcification"), key=lambda k: probs[k])
        out.append(
            {
                "path": str(path),
                "width": image.shape[1],
                "height": image.shape[0],
                "pixel_spacing": list(spacing) if spacing else None,
                "label": label,
                "probabilities": {k: round(v, 4) for k, v in probs.items()},
            }
        )
        bar.update(1)
    bar.close()
    doc = {
        "model": {"name": model.info.name, "version": model.info.version, "sha256": model.info.sha256},
        "patches": out,
    }
    write_json_out(args.json_out, doc)
    return 1 if failed else 0


def _patch_warnings(info: ImageInfo) -> tuple[str, ...]:
    """The file's warnings but the whole-image one that its size in mm is smaller than a mammogram's: a patch is.

    One larger than any mammogram (a spacing in the wrong unit) is still said.
    """
    problem = info.extent_problem()
    if problem is None or info.extent_problem(smallest=0.0) is not None:
        return info.warnings
    return tuple(w for w in info.warnings if w != problem)
