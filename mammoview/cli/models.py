"""``mammoview models``: the installed CAD and density models (from ``models/manifest.json``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mammoview.terminal import say


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "models",
        help="list the installed CAD models",
        description="List the installed models ($MAMMOVIEW_MODELS, else the shipped ones).",
    )
    p.add_argument(
        "--models-dir",
        type=Path,
        metavar="DIR",
        help="models folder (default: $MAMMOVIEW_MODELS, else the shipped models)",
    )
    p.add_argument("--json", action="store_true", help="print the manifest entries as JSON")
    p.set_defaults(func=run)


def _metrics_summary(metrics: dict[str, Any]) -> str:
    """A few scalar metrics, e.g. ``auc=0.81 froc@1=0.62``."""
    items = [f"{k}={v:.3g}" for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return " ".join(items[:4]) or "-"


def run(args: argparse.Namespace) -> int:
    from mammoview.cad.weights import default_models_dir, list_installed

    root = args.models_dir or default_models_dir()
    if not root.is_dir():  # a typo is not "no models installed"
        say(f"mammoview models: {root}: no such folder")
        return 1
    rows = list_installed(root)
    if args.json:
        from mammoview.training.report import to_jsonable

        doc = [{**r.entry.to_dict(), "default": r.is_default, "present": r.exists} for r in rows]
        # strict JSON: a NaN or Infinity a hand-edited manifest holds (Python's json reads them) is null here
        sys.stdout.write(json.dumps(to_jsonable(doc), indent=1, allow_nan=False) + "\n")
        return 0
    if not rows:
        say(f"no models installed in {root}")
        return 0
    table: list[tuple[str, ...]] = [
        ("", "NAME", "TASK", "VERSION", "ARCH", "PIXEL", "INPUT", "FINDINGS", "SHA8", "METRICS")
    ]
    for r in rows:
        e = r.entry
        try:
            e.check()
            table.append(_row(r))
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:  # a hand-edited entry: listed,
            # with what is wrong (a field check() lets through, e.g. metrics or canvas_px of another type, too)
            table.append(("*" if r.is_default else "", str(e.name), str(e.task), str(e.version), str(e.arch), "-", "-",
                          f"malformed manifest entry: {exc}", str(e.sha256)[:8], "-"))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(f"(* = default; folder {root})")
    from mammoview.cad.weights import read_manifest

    default = read_manifest(root).default
    if default and not any(r.entry.name == default and r.exists for r in rows):  # detect and the viewer would fail
        say(f"warning: the manifest's default model {default!r} is not installed here: pass --model NAME")
    for r in rows:
        try:
            curve = r.entry.curve
        except (ValueError, TypeError, AttributeError) as exc:
            print(f"{r.entry.name}: malformed operating curve ({exc})")
            continue
        if curve is not None:
            on = f"{curve.images} validation images, {curve.lesions} lesions" if curve.images else "validation"
            pts = " | ".join(f"{rate:g} FP/img: p>={t:.4f}, finds {s:.0%}" for rate, t, s in curve.points())
            print(f"{r.entry.name} operating points ({on}; `detect --fp-per-image RATE`): {pts}")
    return 0


def _verifies(entry: Any) -> str:
    """`` verifies mammoview-vgg 26e82974`` for a verification model (its two-stage threshold and curve)."""
    if entry.task != "verification":
        return ""
    made_for = (entry.extra.get("verification") or {}).get("detector") or {}
    return f" verifies {made_for.get('name', '?')} {str(made_for.get('sha256', ''))[:8] or '?'}"


def _row(r: Any) -> tuple[str, ...]:
    """One model's row of the table (a field of another type raises, and the caller lists the entry as malformed)."""
    e = r.entry
    density = e.task == "density"
    canvas = e.extra.get("canvas_px") or ["?", "?"]
    return (
        "*" if r.is_default else "",
        e.name,
        e.task,
        e.version,
        f"{e.arch_kwargs.get('n')}x {e.arch_kwargs.get('arch')}" if e.arch == "ensemble" else e.arch,
        f"{e.pixel_size_mm:g} mm",
        f"breast {canvas[0]}x{canvas[1]} px" if density else f"patch {e.patch_size} px",
        "-"
        if density
        else f"p>={e.finding_threshold:g}"
        + (" mirror-TTA" if e.test_time_flip else "")
        + (f" windows {'+'.join(map(str, e.map_windows_px))} px" if e.map_windows_px else "")
        + (" FP/img-curve" if e.operating_curve else "")
        + (" calibrated-malignancy" if e.malignancy_calibration else "")
        + _verifies(e),
        e.sha8 if r.exists else f"{e.sha8} (missing)",
        _metrics_summary(e.metrics),
    )
