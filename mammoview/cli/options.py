"""Argument types and options shared by the subcommands: checked as the line is parsed, before any work.

One definition each, so that every command takes the same device names, counts and probabilities, and says the same
thing about a wrong one.
"""

from __future__ import annotations

import argparse
import math
import re
import unicodedata
from pathlib import Path


def probability(text: str) -> float:
    """A threshold: a number in [0, 1] (argparse type)."""
    try:
        value: float = real(0.0, 1.0)(text)
    except argparse.ArgumentTypeError as exc:
        if str(exc).startswith("not a number"):
            raise
        raise argparse.ArgumentTypeError(f"must be a probability in [0, 1], got {text!r}") from None  # (nan too)
    return value


def model_version(text: str) -> str:
    """A model's version (argparse type): it goes into models/manifest.json and the viewer's labels and exports, so
    it must say something and stay on one line: not empty nor blank, no control characters (a newline, a tab) nor
    invisible ones (a right-to-left override that would show another version than the one stored)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"a model version must not be empty or blank, got {text!r} (e.g. 1.0.0)")
    bad = next((ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise argparse.ArgumentTypeError(f"a model version is one line of visible text; {text!r} holds {bad!r}")
    return text


def device_name(text: str) -> str:
    """A device: auto, cpu, cuda, cuda:N or mps (argparse type; whether it is present is checked at load)."""
    name = text.strip().lower()
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", name):
        raise argparse.ArgumentTypeError(f"unknown device {text!r} (use auto, cpu, cuda, cuda:N or mps)")
    return name


def count(minimum: int):  # type: ignore[no-untyped-def]
    """An argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def real(  # type: ignore[no-untyped-def]
    lo: float = -math.inf, hi: float = math.inf, *, open_lo: bool = False, open_hi: bool = False
):
    """An argparse type: a finite number in [``lo``, ``hi``] (above ``lo`` with ``open_lo``, below ``hi`` with
    ``open_hi``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        above = lo < value if open_lo else lo <= value
        below = value < hi if open_hi else value <= hi
        if not (math.isfinite(value) and above and below):  # (NaN too)
            bounds = [f"{'>' if open_lo else '>='} {lo:g}"] * math.isfinite(lo)
            bounds += [f"{'<' if open_hi else '<='} {hi:g}"] * math.isfinite(hi)
            raise argparse.ArgumentTypeError(f"must be a number {' and '.join(bounds) or 'finite'}, got {text!r}")
        return value

    return parse


def preprocess_value(name: str):  # type: ignore[no-untyped-def]
    """An argparse type: a value of the preprocessing option ``name`` (e.g. ``pixel_size_mm``) that a model's manifest
    entry may hold (``PREPROCESS_RANGES``). Outside it a cut or a training failed late and obscurely (a pixel size of
    0: "float division by zero"; -1, inf: after reading every image) or made a model that never loads."""

    def parse(text: str) -> float:
        from mammoview.cad.manifest import PREPROCESS_RANGES  # (here: the command line's imports stay light)

        return float(real(*PREPROCESS_RANGES[name])(text))

    return parse


#: A share strictly between 0 and 1 (argparse type), e.g. the validation patients' (0 or 1 leaves a split empty).
fraction = real(0.0, 1.0, open_lo=True, open_hi=True)


def add_model_options(p: argparse.ArgumentParser) -> None:
    """``--model``, ``--models-dir`` and ``--device`` (shared by detect and classify)."""
    p.add_argument("--model", metavar="NAME", help="model name from `mammoview models` (default: the default one)")
    p.add_argument(
        "--models-dir",
        type=Path,
        metavar="DIR",
        help="models folder (default: $MAMMOVIEW_MODELS, else the shipped models)",
    )
    p.add_argument(
        "--device", type=device_name, default=None, metavar="D", help="auto (default), cpu, cuda, cuda:N or mps"
    )
    p.add_argument(
        "--threads",
        type=count(1),
        default=None,
        metavar="N",
        help="CPU threads (default: $MAMMOVIEW_THREADS, else one per core)",
    )


def add_flip_option(p: argparse.ArgumentParser) -> None:
    """``--flip-tta`` / ``--no-flip-tta``: override the model's ``test_time_flip``."""
    p.add_argument(
        "--flip-tta",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average each image's maps with its mirror image's (twice the time; default: the model's test_time_flip)",
    )


def add_map_windows_option(p: argparse.ArgumentParser, what: str = "override the model's map_windows_px") -> None:
    """``--map-windows PX [PX ...]``: patch-equivalent windows (model px) whose logit maps are averaged."""
    p.add_argument(
        "--map-windows",
        type=count(1),
        nargs="+",
        default=None,
        metavar="PX",
        help=f"patch-equivalent windows in model pixels whose logit maps are averaged, e.g. 96 64 ({what})",
    )
