"""``mammoview evaluate``: patch, image and FROC metrics of a model on the validation patients.

Detect runs through this very command line (``mammoview detect ...`` parsed by the same
parser), so the JSON scored is exactly what a user running detect would get.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mammoview.cli.detect import with_map_windows
from mammoview.cli.options import add_flip_option, add_map_windows_option, count, device_name, probability
from mammoview.terminal import say


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "evaluate",
        help="patch-level, image-level and FROC metrics on the validation patients",
        description="Evaluate a model on the validation patients of a patch set (its split.json): patch "
        "metrics on the validation patches, then `mammoview detect` on the validation CBIS-DDSM and "
        "mini-MIAS images and image-level AUCs + FROC from its JSON. Writes metrics.json, report.md "
        "and PNG plots to --out. With --compare, prints one table comparing earlier evaluations.",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", metavar="NAME", help="installed model (default: the default one)")
    which.add_argument(
        "--weights",
        type=Path,
        metavar="DIR",
        help="a `mammoview train` run folder, or a models folder (manifest.json: `ensemble --install-to`'s)",
    )
    p.add_argument("--models-dir", type=Path, metavar="DIR", help="models folder (default: $MAMMOVIEW_MODELS)")
    p.add_argument("--patches", type=Path, metavar="DIR", help="patch set (its validation split is scored)")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (with --compare: a .md file)")
    p.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="data folder (default: $MAMMOVIEW_DATA, else ../shared/data beside the repository)",
    )
    p.add_argument(
        "--device", type=device_name, default=None, metavar="D", help="auto (default), cpu, cuda, cuda:N or mps"
    )
    p.add_argument("--max-images", type=count(1), metavar="N", help="detect on the first N validation images only")
    p.add_argument(
        "--all-images",
        action="store_true",
        help="image level and FROC on every CBIS-DDSM / mini-MIAS image of --data (a held-out test set in the "
        "shared data's layout) instead of the patch set's validation patients; --patches is then optional (its "
        "patch level, and a note when a patient of --data was trained on)",
    )
    p.add_argument(
        "--detections",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="score existing detect JSON file(s) instead of running detect (without --model/--weights: "
        "no patch level, no timing)",
    )
    p.add_argument("--no-detect", action="store_true", help="patch level only (no detect, no timing)")
    p.add_argument(
        "--timing-views",
        type=count(0),
        default=20,
        metavar="N",
        help="views timed for ms/view (default 20; 0: no timing)",
    )
    p.add_argument("--batch-size", type=count(1), default=256, metavar="N", help="patches per forward pass")
    p.add_argument("--threshold", type=probability, default=0.5, help="lesion if 1 - p(normal) >= this (default 0.5)")
    p.add_argument(
        "--froc-threshold",
        type=probability,
        default=0.1,
        metavar="P",
        help="detect's region threshold for the FROC candidates (default 0.1: low, so the curve reaches 2 FP/image)",
    )
    add_flip_option(p)
    add_map_windows_option(p)
    p.add_argument(
        "--no-verification",
        action="store_true",
        help="the detector alone, even when a verification model is installed for it",
    )
    p.add_argument("--froc-max-findings", type=count(1), default=25, metavar="N", help="FROC candidates per image")
    p.add_argument(
        "--compare", type=Path, nargs="+", metavar="RUN", help="metrics.json files or folders: print one table"
    )
    p.add_argument("--labels", nargs="+", metavar="LABEL", help="row names for --compare")
    p.add_argument("--quiet", action="store_true", help="no progress bars, no report on stdout")
    p.set_defaults(func=run)


def detect_with_cli(  # -> DetectFn
    model: str | None,
    models_dir: Path | None,
    device: str | None,
    quiet: bool,
    threshold: float | None = None,
    max_findings: int | None = None,
    flip: bool | None = None,
    map_windows: Sequence[int] | None = None,
    verification: bool = True,
) -> Any:
    """A :data:`mammoview.training.evaluate.DetectFn` that runs ``mammoview detect`` in-process."""
    from mammoview.cli import main

    def detect(paths: Sequence[Path], spacing: tuple[float, float], json_out: Path) -> Mapping[str, Any]:
        json_out.unlink(missing_ok=True)  # never score a stale file if detect fails to write
        argv = ["detect", *map(str, paths), "--json", str(json_out), "--pixel-spacing", f"{spacing[0]},{spacing[1]}"]
        options = (
            ("--model", model),
            ("--models-dir", models_dir),
            ("--device", device),
            ("--threshold", threshold),
            ("--max-findings", max_findings),
        )
        for flag, value in options:
            if value is not None:
                argv += [flag, str(value)]
        if flip is not None:
            argv.append("--flip-tta" if flip else "--no-flip-tta")
        if map_windows:
            argv += ["--map-windows", *map(str, map_windows)]
        if not verification:
            argv.append("--no-verification")
        argv.append("--raw-malignancy")  # the calibration is fitted on (and cannot change) the raw output
        if quiet:
            argv.append("--quiet")
        code = main(argv)  # 1 when some images failed: they are in the JSON as errors and counted
        if not json_out.is_file():
            raise RuntimeError(f"mammoview detect wrote no {json_out} (exit code {code})")
        doc: Mapping[str, Any] = json.loads(json_out.read_text())
        return doc

    return detect


def run(args: argparse.Namespace) -> int:
    from mammoview.training.report import compare_table

    if args.compare:
        table = compare_table(args.compare, args.labels)
        if args.out is not None:
            args.out.write_text(table)
        print(table, end="")
        return 0
    if (args.patches is None and not args.all_images) or args.out is None:
        raise ValueError("--patches and --out are required (or --compare; --all-images needs only --out)")
    from mammoview.cli.output import check_out_folder

    check_out_folder(args.out, "--out")
    from mammoview.cad.device import configure_threads
    from mammoview.training.eval_inputs import EvaluateOptions, load_detections, prepare_evaluation, read_patch_inputs
    from mammoview.training.eval_model import model_summary, stage_model
    from mammoview.training.evaluate import evaluate, pipeline_timer

    configure_threads(None)  # $MAMMOVIEW_THREADS, as detect

    opts = EvaluateOptions(
        out=args.out,
        patches=args.patches,
        data_dir=args.data,
        max_images=args.max_images,
        detections=tuple(args.detections or ()),
        timing_views=args.timing_views,
        batch_size=args.batch_size,
        threshold=args.threshold,
        all_images=args.all_images,
    )
    read_patch_inputs(opts)  # before a run is installed into --out/model: a refused evaluation leaves nothing there
    if args.detections and args.model is None and args.weights is None:
        # scoring someone's detect JSON needs no network: no patch level, no timing
        header = load_detections(args.detections[:1])[0].get("model") or {}
        metrics = evaluate(opts, module=None, model_info=dict(header))
    else:
        summary_path = args.weights / "summary.json" if args.weights is not None else None
        if summary_path is not None and summary_path.is_file() and args.patches is not None and not args.all_images:
            from mammoview.training.install import check_not_trained_on
            from mammoview.training.jsonfile import read_json

            check_not_trained_on(args.weights, read_json(summary_path), args.patches)
        # every input checked (the model's map windows, the data, the --detections files) before the run is put
        # into --out/model and an earlier evaluation there is cleared: a refused evaluation leaves --out as it was
        staged = stage_model(args.model, args.weights, args.models_dir, args.out, args.device)
        try:
            loaded = with_map_windows(staged.loaded, args.map_windows)
            if not args.no_verification:
                from mammoview.cli.detect import verified_or_not

                loaded = verified_or_not(loaded, staged.models_dir, args.device)
            whole_images = args.all_images or bool(args.detections) or not args.no_detect
            inputs = prepare_evaluation(opts, model_summary(loaded), patch_level=True, whole_images=whole_images)
            loaded = staged.install(loaded)
        finally:
            staged.discard()  # (nothing left to remove once installed)
        models_dir = staged.models_dir
        info = model_summary(loaded)
        detect = None
        if not (args.no_detect or args.detections):
            detect = detect_with_cli(
                info["name"],
                models_dir,
                args.device,
                args.quiet,
                args.froc_threshold,
                args.froc_max_findings,
                args.flip_tta,
                args.map_windows,
                not args.no_verification,
            )
        if args.flip_tta is not None:
            info["test_time_flip"] = args.flip_tta
        timer = None if args.no_detect else pipeline_timer(loaded, args.flip_tta)
        metrics = evaluate(opts, module=loaded.model, model_info=info, device=loaded.device, detect=detect, timer=timer,
                           inputs=inputs)  # fmt: skip
    if not args.quiet:
        print((args.out / "report.md").read_text(), end="")
    say(f"metrics -> {args.out / 'metrics.json'}")
    return 0 if metrics else 1
