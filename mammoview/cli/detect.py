"""``mammoview detect``: CAD findings for image files, written as the detect JSON of docs/cad-design.md."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mammoview.cli.info import parse_spacing
from mammoview.cli.options import add_flip_option, add_map_windows_option, add_model_options, count, probability
from mammoview.cli.output import check_json_out, say_warnings, scanned, spacing_warning, write_json_out
from mammoview.terminal import say, terminal_text


def add_subparser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "detect",
        help="run the CAD on images and write findings as JSON",
        description="Run the CAD second reader on image files or folders (searched recursively) and write "
        "one JSON file with scores and findings per image, in each file's stored pixel grid.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--json", required=True, type=Path, dest="json_out", metavar="OUT",
                   help="JSON file to write (-: standard output; progress and messages: standard error)")  # fmt: skip
    add_model_options(p)
    p.add_argument("--heatmaps", type=Path, metavar="DIR", help="also write a PNG overlay and a .npy map per image")
    p.add_argument(
        "--sr",
        type=Path,
        metavar="DIR",
        help="also write one DICOM SR per study (TID 1500 measurement report: each finding's outline or point, "
        "score and malignancy, referencing its image; DICOM inputs only)",
    )
    p.add_argument(
        "--pixel-spacing", type=parse_spacing, metavar="MM", help="spacing for files without one (MM or ROW,COL)"
    )
    p.add_argument("--max-findings", type=count(0), default=10, metavar="N", help="findings per image (default 10)")
    point = p.add_mutually_exclusive_group()
    point.add_argument(
        "--threshold",
        type=probability,
        default=None,
        metavar="P",
        help="region threshold on p(abnormal) (default: the model's finding_threshold); with a verification "
        "model, on the re-scored candidates' score (default: the verifier's threshold); lower it to "
        "list more, weaker candidates, e.g. for a FROC curve",
    )
    point.add_argument(
        "--fp-per-image",
        type=float,
        default=None,
        metavar="RATE",
        help="operating point as false marks per image on the model's validation FROC (e.g. 0.5): the loosest "
        "threshold that stayed at or below RATE (needs a model with an operating curve; see `mammoview models`)",
    )
    p.add_argument("--cam", choices=("cam", "gradcam"), default="cam", help="heatmap method (default cam)")
    p.add_argument(
        "--no-verification",
        action="store_true",
        help="the detector's own findings and scores even when a verification model (a second network that "
        "re-scores each candidate) is installed for it",
    )
    p.add_argument(
        "--no-malignancy-model",
        action="store_true",
        help="the detector's own malignancy even when a second-stage malignancy model is installed beside it",
    )
    p.add_argument(
        "--raw-malignancy",
        action="store_true",
        help="the network's own malignancy output, without the model's calibration (what `evaluate` fits one on)",
    )
    add_flip_option(p)
    add_map_windows_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def with_map_windows(model: Any, windows: Sequence[int] | None) -> Any:
    """``model`` (a LoadedModel) with its entry's ``map_windows_px`` replaced, when ``windows`` is given."""
    if not windows:
        return model
    from dataclasses import replace

    from mammoview.cad.probability_maps import map_windows

    map_windows(model.entry.patch_size, model.model.feature_stride, windows)  # ValueError: mixed even/odd
    return replace(model, entry=replace(model.entry, map_windows_px=tuple(int(w) for w in windows)))


def threshold_at_rate(entry: Any, rate: float, flip: bool | None = None, windows: Sequence[int] | None = None) -> float:
    """The region threshold of ``entry`` (a ModelEntry) at ``rate`` false marks per image.

    Raises ValueError with a one-line reason when the model has no curve, the rate is not a
    finite number >= 0, or lies beyond the curve; warns (stderr) when ``flip``/``windows``
    differ from what the curve was measured with, since the rates then describe another setting.
    """
    curve = entry.curve
    if curve is None:
        raise ValueError(f"model {entry.name} {entry.version} has no operating curve "
                         "(install it with --operating-curve); use --threshold instead")  # fmt: skip
    threshold: float = curve.threshold_for(rate)  # ValueError for a rate that is not finite and >= 0
    if rate > curve.max_fpi:
        raise ValueError(f"{entry.name} {entry.version}'s curve reaches {curve.max_fpi:.2f} "
                         f"FP/image; --fp-per-image {rate:g} lies beyond what was measured")  # fmt: skip
    evaluated = entry.operating_curve.get("evaluated", {})
    if (flip is not None and flip != evaluated.get("test_time_flip", entry.test_time_flip)) or (
        windows and list(windows) != list(evaluated.get("map_windows_px", entry.map_windows_px))
    ):
        say(
            "mammoview detect: warning: the operating curve was measured with the model's own flip/windows; "
            "with these overrides its rates are only indicative"
        )
    say(
        f"mammoview detect: {rate:g} FP/image on {entry.name}'s validation curve = p(abnormal) >= {threshold:.4f} "
        f"(sensitivity {curve.sensitivity_at(threshold):.2f})"
    )
    return threshold


def verified_or_not(model: Any, models_dir: Path | None, device: str | None) -> Any:
    """``model`` with its installed verification model, or alone (saying why on stderr when one is broken)."""
    from mammoview.cad.verification import verified_or_alone

    model, why = verified_or_alone(model, models_dir, device)
    if why is not None:  # (it may quote a file under a folder of any name)
        say(f"mammoview detect: the verification model is not used: {why}")
    return model


def malignancy_or_none(models_dir: Path | None, device: str | None) -> Any:
    """The installed second-stage malignancy model, or None (saying why on stderr when one is broken)."""
    from mammoview.cad.weights import ModelError, load_optional

    try:
        return load_optional("malignancy", models_dir, device)
    except (ModelError, ValueError) as exc:
        say(f"mammoview detect: the malignancy model is not used: {exc}")
        return None


def _output_folder(folder: Path | None, option: str, what: str) -> None:
    """Create ``folder`` (when given), or say in words why it cannot be one."""
    if folder is None:
        return
    if folder.is_symlink() and not folder.exists():  # mkdir said '[Errno 17] File exists'
        raise ValueError(f"{option} {folder} is a link to {os.readlink(folder)}, which is missing: give the folder "
                         f"to write {what} into")  # fmt: skip
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{option} {folder} is a file: give the folder to write {what} into")
    above = next((p for p in folder.parents if p.exists() or p.is_symlink()), None)
    if above is not None and not above.is_dir():  # mkdir said '[Errno 20] Not a directory'
        raise ValueError(f"{option} {folder}: {above} is no folder (a file, or a link leading nowhere): give a folder "
                         f"to write {what} into")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)


#: bytes of an image's file name kept in its heatmaps' names (``<stem>_12.json`` must stay a legal file name)
STEM_BYTES = 230


def _stem(path: Path, used: set[str], folder: Path | None = None, inputs: frozenset[str] = frozenset()) -> str:
    """The name of ``path``'s heatmap files in ``folder``: unique in this run, and never one whose files would
    replace a mammogram (``detect . --heatmaps .`` over PNG mammograms: ``x.png``'s overlay is ``x_2.png``, not
    ``x.png``) -- an image being analysed (``inputs``: real paths), or a picture there that is no overlay of ours."""
    from mammoview.io.files import cut_name

    stem = cut_name(path.stem or path.name, STEM_BYTES)

    def taken(name: str) -> bool:
        if name in used:  # the same file name in different folders
            return True
        if folder is None:
            return False
        targets = [folder / f"{name}{suffix}" for suffix in (".png", ".npy", ".json")]
        if any(os.path.realpath(t) in inputs for t in targets):
            return True
        png = targets[0]  # an earlier run's overlay (a .npy beside it) may be replaced; another picture not
        return (png.exists() or png.is_symlink()) and not targets[1].is_file()

    name, k = stem, 1
    while taken(name):
        k += 1
        name = f"{stem}_{k}"
    used.add(name)
    return name


def _not_our_outputs(infos: Sequence[Any], args: argparse.Namespace) -> list[Any]:
    """``infos`` without the pictures of ``--heatmaps`` found in a scanned folder (a run before this one wrote them
    there: they are overlays, not mammograms); a file named on the command line is kept."""
    if args.heatmaps is None:
        return list(infos)
    heat = Path(os.path.realpath(args.heatmaps))
    named = {os.path.realpath(p) for p in args.paths}

    def ours(real: Path) -> bool:  # an overlay write_heatmap_files made: <stem>.png beside its <stem>.npy
        return heat in real.parents and real.suffix.lower() == ".png" and real.with_suffix(".npy").is_file()

    # (the --heatmaps folder may be the scanned folder itself, or hold it: its mammograms are read all the same)
    return [i for i in infos if (real := os.path.realpath(i.path)) in named or not ours(Path(real))]


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from tqdm import tqdm

    from mammoview.cad.cad_input import IMPLANT_NOTE, NO_BREAST_NOTE, SYNTHESIZED_NOTE, ImageRefused
    from mammoview.cad.device import configure_threads
    from mammoview.cad.pipeline import STEPS, analyse_image
    from mammoview.cad.render import write_heatmap_files
    from mammoview.cad.types import Progress
    from mammoview.cad.weights import load_model
    from mammoview.io import LoadError, read_image, scan_paths
    from mammoview.io.pixels import to_presentation

    configure_threads(args.threads)
    model = with_map_windows(load_model(args.model, args.models_dir, args.device), args.map_windows)
    if not args.no_verification:
        model = verified_or_not(model, args.models_dir, args.device)
    second = None if args.no_malignancy_model else malignancy_or_none(args.models_dir, args.device)
    threshold = args.threshold
    if args.fp_per_image is not None:
        threshold = threshold_at_rate(model.entry, args.fp_per_image, args.flip_tta, args.map_windows)
    # a file in an output folder's place is said here, in one line, before any work
    _output_folder(args.heatmaps, "--heatmaps", "the heatmap pictures and maps")
    check_json_out(args.json_out, args.paths)
    _output_folder(args.sr, "--sr", "the DICOM SRs")
    scan = scan_paths(args.paths, pixel_spacing=args.pixel_spacing)
    check_json_out(args.json_out, scanned(scan))  # a file a named folder holds is an input too
    infos = _not_our_outputs(scan.images, args)
    entries: list[dict[str, Any]] = []
    failed = 0
    for err in scan.errors:
        say(f"mammoview detect: {err}")
        entries.append({"path": os.path.abspath(err.path), "error": err.reason})  # (as named: see below)
        failed += 1
    used: set[str] = set()
    inputs = frozenset(os.path.realpath(i.path) for i in infos)  # never overwritten by a heatmap file
    results: dict[str, Any] = {}  # absolute path as named -> ImageCadResult, for --sr
    guessed: list[Path] = []  # images read with an estimated pixel spacing
    bar = tqdm(total=len(infos), unit="image", disable=args.quiet or None, file=sys.stderr)
    with bar:
        for info in infos:
            # absolute, but as named: a link keeps its own name (a folder of links into a PACS store), as the issue's
            # "absolute path" means the file the caller passed, which it can match to its input
            path = Path(os.path.abspath(info.path))
            bar.set_description(terminal_text(path.name))  # (a name may hold ESC sequences)
            start = bar.n
            try:
                image = read_image(path, pixel_spacing=args.pixel_spacing)
                gen = analyse_image(
                    model,
                    image,
                    cam=args.cam,
                    max_findings=args.max_findings,
                    threshold=threshold,
                    flip=args.flip_tta,
                    calibrated=not args.raw_malignancy,
                    malignancy=second,
                )
                while True:
                    try:
                        p: Progress = next(gen)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    bar.update(start + p.done / STEPS - bar.n)
                entry = result.to_json()
                entry["path"] = str(path)
                if args.heatmaps is not None:
                    pres = to_presentation(image.stored, image.info.chain)
                    write_heatmap_files(
                        args.heatmaps,
                        _stem(path, used, args.heatmaps, inputs),
                        pres,
                        result.heatmaps["abnormal"],
                        args.cam,
                        image=str(path),
                    )
                entries.append(entry)
                if args.sr is not None:  # the SR needs the findings and scores, not the maps (kept per image)
                    results[str(path)] = replace(result, heatmaps={}, source=None)
                if result.spacing_estimated:
                    guessed.append(path)
                # what the reader warned about (e.g. not MG, a raw FOR PROCESSING image) and what the CAD notes (the
                # JSON keeps its fixed schema: scores 0 and no finding where no breast was found, said here only)
                notes = [*image.info.warnings, *([IMPLANT_NOTE] if result.implant else []),
                         *([SYNTHESIZED_NOTE] if result.synthesized else []),
                         *([NO_BREAST_NOTE] if result.breast_found is False else [])]  # fmt: skip
                say_warnings("detect", path, notes)
            except (LoadError, ValueError, RuntimeError, OSError, MemoryError) as exc:
                # One bad file (or one too large for memory) must not stop the batch; it is reported in the JSON
                # and here.
                reason = (exc.reason if isinstance(exc, LoadError) else str(exc) if isinstance(exc, ImageRefused)
                          else f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)  # fmt: skip
                say(f"mammoview detect: {path}: {reason}")  # (the JSON: exact)
                entries.append({"path": str(path), "error": reason})
                failed += 1
            bar.update(start + 1 - bar.n)
    doc = {
        "model": {"name": model.info.name, "version": model.info.version, "sha256": model.info.sha256},
        "images": entries,
    }
    reader_gone = False
    try:
        write_json_out(args.json_out, doc)
    except BrokenPipeError:  # `--json - | head`: the JSON's reader has gone, but the SRs asked for are still written
        from mammoview.cli import _silence_stdout

        _silence_stdout()
        reader_gone = True
    if guessed:
        consequence = "The network reads lesions at a fixed size in mm, so a wrong spacing costs findings"
        say(spacing_warning("detect", guessed, consequence))
    sr_failed = 0  # studies without their SR: errors, but not images that failed
    if args.sr is not None:
        sr_failed = write_srs(
            args.sr,
            infos,
            results,
            model.info,
            quiet=args.quiet,
            malignancy_model=second.info if second is not None else None,
            raw_malignancy=args.raw_malignancy,
        )
    if not args.quiet:
        n_find = sum(len(e.get("findings", [])) for e in entries)
        say(
            f"{len(entries) - failed} image(s), {n_find} finding(s), {failed + sr_failed} error(s) -> "
            f"{'standard output' if str(args.json_out) == '-' else args.json_out}"
        )
    return 1 if failed or sr_failed or reader_gone else 0


def write_srs(folder: Path, infos: Sequence[Any], results: dict[str, Any], model: Any, quiet: bool = False,
              malignancy_model: Any = None, raw_malignancy: bool = False) -> int:  # fmt: skip
    """One DICOM SR per study of the analysed images into ``folder``; returns the number of studies that failed.

    Files are named by a hash of the study key (the key can be a patient ID), and each
    study's key and file are printed; a study with a non-DICOM image is reported, not written.
    """
    import hashlib

    from mammoview.cad.sr import SrError, by_dicom_study, study_sr, write_sr
    from mammoview.io import group_studies
    from mammoview.io.files import name_bytes

    folder.mkdir(parents=True, exist_ok=True)
    failed = 0
    done = [info for info in infos if os.path.abspath(info.path) in results]
    for study in group_studies(done):
        # one SR per DICOM study: a study grouped across Study Instance UIDs (CBIS-DDSM's views) gets several
        parts = by_dicom_study([results[os.path.abspath(i.path)] for i in study.images])
        for uid, mine in parts:
            key = study.key if len(parts) == 1 else f"{study.key} ({uid})"
            stem = f"cad-sr-{hashlib.sha256(name_bytes(key)).hexdigest()[:16]}"
            try:
                sr = study_sr(mine, model, malignancy_model=malignancy_model, raw_malignancy=raw_malignancy)
                n = 1
                while True:  # an earlier (or concurrent) run's SR of this study is kept (another threshold, model...)
                    try:
                        path = write_sr(sr, folder / (f"{stem}.dcm" if n == 1 else f"{stem}-{n}.dcm"), exclusive=True)
                        break
                    except FileExistsError:  # (never replaced: linked into place, which fails on an existing name)
                        n += 1
            except (SrError, OSError) as exc:  # a disk error is this study's, as a non-DICOM image is
                say(f"mammoview detect: no SR for study {key}: {exc}")
                failed += 1
                continue
            if not quiet:
                say(f"study {key}: DICOM SR -> {path}")  # (a key: a header or folder)
    return failed
