"""`mammoview info PATH...`: studies, images and why each view was decided (headers only).

Reads headers only (no pixel decode) and imports neither torch nor Qt, so it starts
fast.  Bad files are listed on stderr, one line each ("path: reason"), the good
ones still print, and the exit code is 1 when any file failed.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from mammoview.terminal import say, terminal_text

if TYPE_CHECKING:
    from mammoview.io.model import ImageInfo, LoadError, StudyInfo


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "info",
        help="list studies and images: view, laterality (and why), size, spacing, encoding",
        description="Read image headers (DICOM, PNG, JPEG, PGM, TIFF) and print each study with its "
        "images, and the reason for every view/laterality decision. Exit code 1 if any file failed.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files and/or folders (searched recursively)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--pixel-spacing",
        type=parse_spacing,
        default=None,
        metavar="MM",
        help="pixel spacing in mm for files without one: MM or ROW,COL (e.g. 0.2 or 0.29,0.18)",
    )
    p.set_defaults(func=run)


def parse_spacing(text: str) -> float | tuple[float, float]:
    """``--pixel-spacing`` value: ``MM`` or ``ROW,COL`` (mm, > 0); see :func:`mammoview.io.reader.parse_spacing`."""
    from mammoview.io.reader import parse_spacing as parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from mammoview.io import open_paths  # light: numpy + pydicom, no torch/Qt

    studies, errors = open_paths(args.paths, pixel_spacing=args.pixel_spacing)
    if args.json:
        print(json.dumps(to_json(studies, errors), indent=2))
    else:
        for study in studies:
            print(format_study(study, studies))
    for err in errors:
        say(str(err))
    if not studies and not errors:
        say("mammoview info: no images found")
        return 1
    return 1 if errors else 0


def format_study(study: StudyInfo, listed: list[StudyInfo] | None = None) -> str:
    """Human-readable block for one study (with its priors among ``listed``: the viewer's comparison layouts)."""
    from mammoview.io.priors import find_priors, interval_text, study_day

    n = len(study.images)
    lines = [f"Study {study.title}  ({n} image{'s' if n != 1 else ''}; grouped by {study.key_source})"]
    priors = find_priors(study, listed or [])
    if priors:
        said = [f"{study_day(p)} ({interval_text(study, p)}) {p.key}" for p in priors]
        lines.append("  priors:  " + "; ".join(said))
    for info in study.images:
        lines.extend(_image_lines(info))
    return "\n".join(terminal_text(line) for line in lines) + "\n"  # (a header's ESC, BEL or newline: escaped)


def _image_lines(info: ImageInfo) -> list[str]:
    from mammoview.io.header_dump import reading_rows

    view = info.view.label if info.view is not None else "? ?"
    return [f"  {view:<6} {info.path}", *(f"      {what + ':':<13}{value}" for what, value in reading_rows(info))]


def to_json(studies: list[StudyInfo], errors: list[LoadError]) -> dict[str, Any]:
    """The same content as the text output, as plain JSON values; paths absolute, as ``detect`` writes them."""
    from mammoview.io.priors import find_priors

    return {
        "studies": [
            {
                "key": s.key,
                "key_source": s.key_source,
                "title": s.title,
                "priors": [p.key for p in find_priors(s, studies)],
                "images": [_image_json(i) for i in s.images],
            }
            for s in studies
        ],
        "errors": [{"path": os.path.abspath(e.path), "reason": e.reason} for e in errors],
    }


def _image_json(info: ImageInfo) -> dict[str, Any]:
    def decision(d: Any) -> dict[str, Any]:
        value = d.value.value if d.value is not None else None
        return {"value": value, "source": d.source, "detail": d.detail}

    sp = info.spacing
    return {
        "path": os.path.abspath(info.path),  # as named (a link not resolved), as detect writes it
        "format": info.file_format,
        "view": info.view.value if info.view is not None else None,
        "laterality": decision(info.laterality),
        "projection": decision(info.projection),
        "rows": info.rows,
        "columns": info.columns,
        "frames": info.frames,
        "pixel_spacing": None if sp is None else {"row_mm": sp.row_mm, "col_mm": sp.col_mm, "source": sp.source},
        "photometric": info.photometric,
        "bits_stored": info.chain.bits_stored,
        "transfer_syntax": info.transfer_syntax,
        "orientation": {
            "row": info.orientation.row,
            "column": info.orientation.column,
            "source": info.orientation.source,
        },
        "patient_id": info.meta.patient_id,
        "modality": info.meta.modality,
        "study_uid": info.meta.study_uid,
        "view_modifiers": list(info.meta.view_modifiers),
        "magnification_factor": info.meta.magnification_factor,
        "close_up": info.meta.close_up,
        "breast_implant": info.meta.implant_present,
        "partial_view": info.meta.partial_view,
        "synthesized_2d": info.meta.synthesized,
        "warnings": list(info.warnings),
    }
