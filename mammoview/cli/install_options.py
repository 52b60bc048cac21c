"""The installed model's manifest entry on the command line: the options ``train`` and ``ensemble`` share.

``add_install_options`` adds them to a parser; ``install_options`` turns them into the
:class:`~mammoview.training.install.InstallOptions` an install writes (the training imports stay lazy: torch).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from mammoview.cli.options import add_map_windows_option, model_version, probability

if TYPE_CHECKING:
    from mammoview.training.install import InstallOptions


def add_install_options(p: argparse.ArgumentParser) -> None:
    """The installed model's manifest entry: default, version and operating point (train and ensemble)."""
    p.add_argument("--make-default", action="store_true", help="make the installed model the default")
    p.add_argument(
        "--model-version",
        type=model_version,
        default="1.0.0",
        metavar="X.Y.Z",
        help="version of the installed model (shown in exports; bump it when the weights or the operating "
        "point change)",
    )
    p.add_argument(
        "--finding-threshold",
        type=probability,
        default=0.5,
        metavar="P",
        help="p(abnormal) above which the installed model reports findings (default 0.5; pick it on the "
        "validation FROC of `mammoview evaluate`, e.g. at 1 false positive per image)",
    )
    p.add_argument(
        "--test-time-flip",
        action="store_true",
        help="the installed model averages each image's maps with its mirror image's (choose the finding "
        "threshold on `mammoview evaluate --flip-tta`)",
    )
    add_map_windows_option(p, "stored in the manifest; default: the patch size alone")
    p.add_argument(
        "--operating-curve",
        type=Path,
        default=None,
        metavar="METRICS_JSON",
        help="store this evaluation's CBIS validation FROC curve (`mammoview evaluate --out DIR`: DIR/metrics.json, "
        "run with the same TTA and windows) so the viewer shows each finding's false marks per image",
    )
    p.add_argument(
        "--task",
        choices=("detection", "malignancy", "verification"),
        default="detection",
        help="what the installed model does: detection (the CAD, default), malignancy (a second stage read "
        "at each finding of the detection model beside it) or verification (a second stage that re-scores each "
        "candidate of --detector; its --finding-threshold and --operating-curve are the two stages')",
    )
    p.add_argument(
        "--detector",
        default=None,
        metavar="NAME",
        help="with --task verification: the detection model of --install-to it verifies (default: the default one)",
    )
    p.add_argument(
        "--malignancy-calibration",
        type=Path,
        default=None,
        metavar="METRICS_JSON",
        help="store the malignancy calibration this evaluation fitted on its validation findings (the same "
        "TTA and windows), so findings and breasts show calibrated malignancy",
    )


def install_options(args: argparse.Namespace) -> InstallOptions:
    """The :class:`~mammoview.training.install.InstallOptions` of the command line (ValueError: bad curve file)."""
    from mammoview.training.calibrate import calibration_from_metrics
    from mammoview.training.install import InstallOptions, operating_curve_from_metrics

    cal = args.malignancy_calibration
    if args.make_default and args.task != "detection":  # the default is the CAD's detector; a second stage is not one
        raise ValueError(f"--make-default: only a detection model can be the default, not a {args.task} model")
    detector = None
    if args.task == "verification":
        from mammoview.cad.weights import load_model

        if args.install_to is None:
            raise ValueError("--task verification needs --install-to DIR (where its detector is installed)")
        entry = load_model(args.detector, args.install_to, "cpu").entry  # hash-checked: the detector is real
        detector = {"name": entry.name, "version": entry.version, "sha256": entry.sha256}
    return InstallOptions(
        version=args.model_version,
        task=args.task,
        detector=detector,
        finding_threshold=args.finding_threshold,
        test_time_flip=args.test_time_flip,
        map_windows_px=tuple(args.map_windows or ()),
        operating_curve=operating_curve_from_metrics(args.operating_curve) if args.operating_curve else {},
        malignancy_calibration=calibration_from_metrics(cal) if cal else {},
        make_default=args.make_default,
    )
