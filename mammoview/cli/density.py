"""`mammoview density`: BI-RADS breast density (a-d) per image and per breast, as JSON."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mammoview.cli.info import parse_spacing
from mammoview.cli.options import add_model_options
from mammoview.cli.output import check_json_out, say_warnings, scanned, spacing_warning, write_json_out
from mammoview.terminal import say


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "density",
        help="breast density (BI-RADS a-d) per image and per breast, as JSON",
        description="Run the installed density network on image files or folders (searched recursively): "
        "per image the category probabilities, per breast of each study their mean. Research use only.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--json", required=True, type=Path, dest="json_out", metavar="OUT",
                   help="JSON file to write (-: standard output; messages: standard error)")  # fmt: skip
    add_model_options(p)  # --model (here: the density model's name), --models-dir, --device, --threads
    p.add_argument("--pixel-spacing", type=parse_spacing, metavar="MM", help="spacing for files without one")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mammoview.cad.cad_input import IMPLANT_NOTE, SYNTHESIZED_NOTE, ImageRefused, check_cad_input, estimate_spacing
    from mammoview.cad.density import TASK, assess, per_breast
    from mammoview.cad.device import configure_threads
    from mammoview.cad.types import DensityResult, denser_breast
    from mammoview.cad.weights import load_model
    from mammoview.io import LoadError, group_studies, read_image, scan_paths

    configure_threads(args.threads)
    model = load_model(args.model, args.models_dir, args.device, task=TASK)
    check_json_out(args.json_out, args.paths)
    scan = scan_paths(args.paths, pixel_spacing=args.pixel_spacing)
    check_json_out(args.json_out, scanned(scan))  # a file a named folder holds is an input too
    guessed: list[Path] = []
    failed = len(scan.errors)
    # (os.path.abspath: as named, as detect; Path.resolve raises on a symlink loop before Python 3.13)
    images: list[dict[str, Any]] = [{"path": os.path.abspath(e.path), "error": e.reason} for e in scan.errors]
    for e in scan.errors:
        say(f"mammoview density: {e}")
    studies = []
    for study in group_studies(scan.images):
        graded = {}
        for info in study.images:
            path = Path(os.path.abspath(info.path))  # as named, as detect
            try:
                check_cad_input(info)  # a close-up or a tomosynthesis volume is refused, as by detect and the viewer
                image = read_image(path, pixel_spacing=args.pixel_spacing)
                result = assess(model, [image]).get(str(image.path))
                if result is None:  # no breast in the image: no density (the network's prior is no breast's)
                    raise ImageRefused("no breast found in the image: no density")
            except (LoadError, ValueError, RuntimeError, OSError, MemoryError) as exc:
                reason = (exc.reason if isinstance(exc, LoadError) else str(exc) if isinstance(exc, ImageRefused)
                          else f"{type(exc).__name__}: {exc}")  # fmt: skip
                say(f"mammoview density: {path}: {reason}")  # (the JSON: exact)
                images.append({"path": str(path), "error": reason})
                failed += 1
                continue
            graded[str(path)] = (info, result)
            if image.info.spacing is None or image.info.spacing.estimated:
                guessed.append(path)
            lat = info.laterality.value.value if info.laterality.value is not None else None
            proj = info.projection.value.value if info.projection.value is not None else None
            sp = image.info.spacing or estimate_spacing(*image.shape)
            images.append({"path": str(path), "laterality": lat, "view": proj,  # as detect's entries
                           "pixel_spacing": [sp.row_mm, sp.col_mm], "density": result.to_json()})  # fmt: skip
            notes = [*image.info.warnings, *([IMPLANT_NOTE] if image.info.meta.implant_present else []),
                     *([SYNTHESIZED_NOTE] if image.info.meta.synthesized else [])]  # fmt: skip
            say_warnings("density", path, notes)  # e.g. a raw FOR PROCESSING image, an implant, a synthesized 2-D
        breasts = {}
        for side in ("L", "R"):
            # one image per view, as the viewer grades a breast: the first in the study's order (processed before
            # raw, so a raw FOR PROCESSING twin or a retake does not weigh twice in the mean)
            per_view: dict[object, DensityResult] = {}
            for i, r in sorted(graded.values(), key=lambda ir: ir[0].meta.for_processing):
                if i.laterality.value is not None and i.laterality.value.value == side:
                    per_view.setdefault(i.view if i.view is not None else i.path, r)
            mine = list(per_view.values())
            if (mean := per_breast(mine)) is not None:
                breasts[side] = mean
        exam = denser_breast(breasts)  # BI-RADS grades the exam by the denser breast
        studies.append({"key_sha256": _hash(study.key), "breasts": {k: v.to_json() for k, v in breasts.items()},
                        "exam": {**exam[1].to_json(), "breast": exam[0]} if exam is not None else None})  # fmt: skip
    doc = {"model": {"name": model.info.name, "version": model.info.version, "sha256": model.info.sha256},
           "images": images, "studies": studies}  # fmt: skip
    write_json_out(args.json_out, doc)
    if guessed:
        consequence = "The breast's size on the density network's canvas depends on it"
        say(spacing_warning("density", guessed, consequence))
    return 1 if failed else 0


def _hash(key: str) -> str:
    import hashlib

    from mammoview.io.files import name_bytes

    return hashlib.sha256(name_bytes(key)).hexdigest()
