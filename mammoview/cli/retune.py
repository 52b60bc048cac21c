"""``mammoview retune``: new operating points for an installed model, its weights unchanged."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from mammoview.cli.options import model_version
from mammoview.terminal import say


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "retune",
        help="write an installed model's new operating point, curve and calibration (weights unchanged)",
        description=(
            "Rewrite an installed model's finding threshold, FROC operating curve and malignancy calibration from "
            "evaluations of it as installed (`mammoview evaluate --out DIR`: DIR/metrics.json), under a new "
            "version; the weights and their sha256 stay. For when inference changed and the old operating points "
            "no longer describe the model (models/MODEL_CARD.md, Versions)."
        ),
    )
    p.add_argument("name", help="the installed model's name")
    p.add_argument("--models-dir", type=Path, metavar="DIR", required=True,
                   help="models folder whose manifest is rewritten (e.g. a copy of models/)")  # fmt: skip
    p.add_argument("--model-version", type=model_version, required=True, metavar="V", help="the entry's new version")
    p.add_argument("--finding-threshold", type=float, metavar="P", help="the new operating point")
    p.add_argument("--threshold-from", type=Path, metavar="METRICS_JSON",
                   help="the operating point of 1 false positive per CBIS validation image of this evaluation "
                        "(detection.froc.cbis_mass.threshold_at.1)")  # fmt: skip
    p.add_argument("--operating-curve", type=Path, metavar="METRICS_JSON", help="the FROC curve of this evaluation")
    p.add_argument("--malignancy-calibration", type=Path, metavar="METRICS_JSON",
                   help="the malignancy calibration this evaluation fitted")  # fmt: skip
    p.set_defaults(func=run)


def _command(args: argparse.Namespace) -> str:
    """The command as given (for the manifest: how the entry came to be)."""
    parts = ["mammoview", "retune", args.name, "--models-dir", str(args.models_dir), "--model-version",
             args.model_version]  # fmt: skip
    for flag, value in (("--finding-threshold", args.finding_threshold), ("--threshold-from", args.threshold_from),
                        ("--operating-curve", args.operating_curve),
                        ("--malignancy-calibration", args.malignancy_calibration)):  # fmt: skip
        if value is not None:
            parts += [flag, str(value)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:

    from mammoview.training.calibrate import calibration_from_metrics
    from mammoview.training.install import operating_curve_from_metrics
    from mammoview.training.retune import retune

    threshold = args.finding_threshold
    evaluated = None
    if args.threshold_from is not None:
        if threshold is not None:
            say("mammoview retune: give --finding-threshold or --threshold-from, not both")
            return 2
        from mammoview.training.jsonfile import read_json

        doc = read_json(args.threshold_from)
        at = (((doc.get("detection") or {}).get("froc") or {}).get("cbis_mass") or {}).get("threshold_at") or {}
        if at.get("1") is None:  # no detection level (--no-detect), or no threshold keeps <= 1 FP/image (null)
            say(
                f"mammoview retune: {args.threshold_from} has no threshold of 1 false positive per image "
                "(detection.froc.cbis_mass.threshold_at.1: an evaluation without detect, or one whose strictest "
                "finding already made more); give --finding-threshold"
            )
            return 2
        threshold = float(at["1"])
        model = doc.get("model") or {}  # what was evaluated: checked as a curve's is
        evaluated = {k: model.get(k) for k in ("name", "version", "sha256", "test_time_flip", "map_windows_px",
                                               "patch_size", "verifier")}  # fmt: skip
    if threshold is not None and not 0.0 < threshold < 1.0:
        say(f"mammoview retune: a finding threshold is a probability in (0, 1), not {threshold}")
        return 2
    curve = operating_curve_from_metrics(args.operating_curve) if args.operating_curve else None
    calibration = calibration_from_metrics(args.malignancy_calibration) if args.malignancy_calibration else None
    for option, path, ran in (("--threshold-from", args.threshold_from, evaluated),
                              ("--operating-curve", args.operating_curve, (curve or {}).get("evaluated")),
                              ("--malignancy-calibration", args.malignancy_calibration,
                               (calibration or {}).get("evaluated"))):  # fmt: skip
        if path is not None and not (ran or {}).get("sha256"):  # (checked against the weights: "None None")
            say(f"mammoview retune: {option} {path} is not an evaluation of an installed model: it names no "
                "evaluated weights (no model.sha256); give the metrics.json of `mammoview evaluate --model "
                f"{args.name} --models-dir {args.models_dir} --out DIR` (DIR/metrics.json)")  # fmt: skip
            return 2
    entry = retune(
        args.models_dir,
        args.name,
        args.model_version,
        finding_threshold=threshold,
        operating_curve=curve,
        malignancy_calibration=calibration,
        threshold_evaluated=evaluated,
        command=_command(args),
    )
    say(f"{entry.name} {entry.version}: finding threshold {entry.finding_threshold:.4g} -> {args.models_dir}")
    return 0
