"""``mammoview evaluate``: patch-level, image-level and localisation metrics of one model.

Three levels, all on the **validation patients** of the patch set's ``split.json``:

1. patches: the network on the validation patches (``PatchSet``), 3-way and
   lesion-vs-normal metrics, AUCs, per-source breakdown (:func:`.metrics.patch_metrics`);
2. images: detect's own code path over the validation CBIS and MIAS images writes the
   detect JSON, which is then *read back* and scored (:func:`.froc.score_detections`):
   image-level AUCs from its scores, FROC from its findings;
3. speed: median wall time of the whole-image pipeline per view (decode excluded).

Detect is passed in as a callable (:data:`DetectFn`) because its code lives above this
layer (the CLI) or beside it (cad); this module only needs "images in, JSON document out".

The inputs are read and checked by :mod:`.eval_inputs`, the model is loaded (a run staged) by :mod:`.eval_model`
and the patch level scored by :mod:`.eval_patches`; this module runs the levels (detect and its scoring, the
timing) and writes ``metrics.json``, the plots and ``report.md``.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mammoview.terminal import say
from mammoview.training import report
from mammoview.training.calibrate import fit_malignancy_calibration
from mammoview.training.eval_inputs import EvaluateOptions, EvaluationInputs, prepare_evaluation
from mammoview.training.eval_model import INSTALLED_KEY, earlier_model_folder, holds, installed_here
from mammoview.training.eval_patches import evaluate_patches
from mammoview.training.froc import DetectionScores, score_detections
from mammoview.training.sources import SourceImage

#: Runs detect's own code path over ``paths`` with one pixel spacing ``(row_mm, col_mm)``,
#: writes the detect JSON to the third argument and returns the document it wrote.
DetectFn = Callable[[Sequence[Path], tuple[float, float], Path], Mapping[str, Any]]
#: Seconds of the whole-image pipeline on one image (decoded before the clock starts).
TimeFn = Callable[[SourceImage], float]


def pipeline_timer(loaded: Any, flip: bool | None = None) -> TimeFn:
    """Seconds of :func:`mammoview.cad.pipeline.analyse_image` on one validation image.

    The file is decoded before the clock starts: the figure is the CAD's cost per view,
    not the disk's or the JPEG decoder's.
    """
    from mammoview.cad.pipeline import analyse_image, drain
    from mammoview.io import read_image

    def timer(src: SourceImage) -> float:
        image = read_image(src.path, pixel_spacing=src.spacing)
        t0 = time.perf_counter()
        drain(analyse_image(loaded, image, flip=flip))
        return time.perf_counter() - t0

    return timer


def run_detection(images: Sequence[SourceImage], detect: DetectFn, out_dir: Path) -> list[Mapping[str, Any]]:
    """Detect over the images, one call per pixel spacing (CBIS is anisotropic, MIAS 0.2 mm).

    Each call writes ``detections-<source>.json`` in ``out_dir``; the documents are read
    back from those files, so what is scored is exactly what detect wrote.
    """
    groups: dict[tuple[str, tuple[float, float]], list[Path]] = {}
    for s in images:
        groups.setdefault((s.source, s.spacing), []).append(s.path)
    docs = []
    for (source, spacing), paths in groups.items():
        path = out_dir / f"detections-{source}.json"
        detect(paths, spacing, path)
        docs.append(json.loads(path.read_text()))
    return docs


def time_views(images: Sequence[SourceImage], timer: TimeFn, n: int) -> dict[str, Any]:
    """Median (and quartiles) of ``timer`` over up to ``n`` images, after one untimed warm-up."""
    chosen = list(images)[: n + 1]
    if not chosen:
        return {"ms_per_view_median": None, "n_views": 0}
    timer(chosen[0])  # first call pays one-off costs (allocator, kernel selection)
    secs = np.array([timer(s) for s in (chosen[1:] or chosen)], dtype=np.float64)
    q1, med, q3 = np.percentile(secs * 1e3, [25, 50, 75])
    return {"ms_per_view_median": float(med), "ms_per_view_iqr": [float(q1), float(q3)], "n_views": int(secs.size)}


def _machine(device: Any) -> dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    return {"device": str(device), "threads": torch.get_num_threads(), "cpu": cpu}


#: what an evaluation writes in its folder, besides ``detections-<source>.json`` (and ``model/`` for a run)
EVALUATION_FILES = ("metrics.json", "report.md", "roc_patches.png", "confusion_3way.png", "confusion_lesion.png",
                    "roc_images.png", "froc.png")  # fmt: skip


def clear_evaluation(out: Path, keep: Sequence[Path] = (), sha256: str | None = None) -> list[str]:
    """Remove the files of an earlier evaluation in ``out`` but those in ``keep`` (detections to be scored, the
    evaluated model's weights); returns their names. A new one writes only its own levels' files: an evaluation
    without detect left the earlier one's FROC, image ROC and detections beside its metrics.json, as if they were
    its own, and one of an installed model by name left the run an earlier one installed in ``model/``, as if that
    were the model evaluated (kept when the evaluated weights are in it: ``--models-dir OUT/model``, or, by their
    ``sha256``, detections made with them, which name no file)."""
    kept = {p.resolve() for p in map(Path, keep) if p.exists()}
    model = earlier_model_folder(out)  # (before its metrics.json goes, which may be what names it)
    held = [p for p in (*(out / n for n in EVALUATION_FILES), *sorted(out.glob("detections-*.json"))) if p.is_file()]
    gone = [p for p in held if p.resolve() not in kept]
    for p in gone:
        p.unlink()
    names = [p.name for p in gone]
    if model is not None and not any(model.resolve() in p.parents for p in kept) and not holds(model, sha256):
        shutil.rmtree(model)
        names.append(f"{model.name}/")
    return names


def evaluate(
    opts: EvaluateOptions,
    *,
    module: Any | None,
    model_info: Mapping[str, Any],
    device: Any = "cpu",
    detect: DetectFn | None = None,
    timer: TimeFn | None = None,
    inputs: EvaluationInputs | None = None,
) -> dict[str, Any]:
    """Run every level that has its inputs, write ``metrics.json``, plots and ``report.md``.

    Parameters
    ----------
    opts : EvaluateOptions
        ``patches`` is required: its ``split.json`` names the validation patients, the
        only ones scored at every level (also when scoring ``detections`` files).
    module : torch.nn.Module or None
        The network in eval mode (None when only scoring ``detections``).
    model_info : mapping
        Name, version, sha256, arch, params... copied into ``metrics.json``.
    detect : DetectFn, optional
        Detect's own code path; required unless ``opts.detections`` is given.
    timer : TimeFn, optional
        Times the pipeline on one image; no timing without it.
    inputs : EvaluationInputs, optional
        What :func:`prepare_evaluation` read for this evaluation (read here when not given), before anything in
        ``opts.out`` is removed or written.

    Returns
    -------
    dict
        The metrics as written to ``opts.out / "metrics.json"``.
    """
    whole_images = opts.all_images or bool(opts.detections) or detect is not None or timer is not None
    if inputs is None:
        inputs = prepare_evaluation(opts, model_info, patch_level=module is not None, whole_images=whole_images)
    elif inputs.whole_images != whole_images:
        raise ValueError("the inputs were prepared for another evaluation (with or without the whole images)")
    ps, patients, truth, images = inputs.ps, inputs.patients, inputs.truth, inputs.images
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = [Path(model_info["weights"])] if model_info.get("weights") else []  # (none: scoring --detections)
    # once the inputs are checked: a refused evaluation keeps the earlier one
    replaced = clear_evaluation(out, keep=[*opts.detections, *weights], sha256=model_info.get("sha256"))
    if replaced:
        say(f"mammoview evaluate: replacing the evaluation in {out} ({', '.join(replaced)})")
    notes: list[str] = list(inputs.notes)
    metrics: dict[str, Any] = {
        "mammoview_evaluate": report.METRICS_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": dict(model_info),
        # (the next evaluation into OUT replaces or removes OUT/model only if an evaluation installed it)
        INSTALLED_KEY: installed_here(out, weights[0] if weights else None),
        "patches": {"dir": str(opts.patches), "split": "val", "n_val_patients": inputs.n_val_patients},
    }
    patch = None
    if module is not None and ps is not None:
        patch = evaluate_patches(module, ps, opts, device, model_info)
        metrics["patch"] = {k: v for k, v in patch.items() if not k.startswith("_")}
    if inputs.images_info is not None:
        metrics["images"] = inputs.images_info
    metrics["patches"]["n_val_images"] = len(images) if whole_images else None
    if opts.detections:
        docs = inputs.docs
    elif detect is not None:
        docs = run_detection(images, detect, out)
    else:
        docs = []
        notes.append("no detect run and no --detections: image level and FROC skipped")
    det: DetectionScores | None = score_detections(docs, truth, patients) if docs else None
    if det is not None:
        metrics["detection"] = det.to_dict()
        # fitted on detect's raw malignancy (evaluate's own detect run passes --raw-malignancy)
        metrics["detection"]["malignancy_calibration"] = fit_malignancy_calibration(docs, truth, patients)
        if opts.detections:
            notes.append("the malignancy calibration is fitted on the detections' malignancy as written "
                         "(raw only if detect ran with --raw-malignancy or with an uncalibrated model)")  # fmt: skip
        if opts.max_images is not None and not opts.detections:
            notes.append(f"--max-images {opts.max_images}: detect ran on a subset of the validation images")
        missing = len(images) - det.counts["scored"]
        if missing > 0:
            notes.append(f"{missing} of {len(images)} validation image(s) not scored (detect error or no entry)")
    if timer is not None and opts.timing_views > 0:  # (--timing-views 0: no timing)
        # time only views detect could read: an unreadable file is counted there, not here
        ok = {str(Path(e["path"]).resolve()) for d in docs for e in d.get("images", []) if "error" not in e}
        timed = [s for s in images if str(s.path.resolve()) in ok] if docs else images
        if timed:
            metrics["timing"] = {**time_views(timed, timer, opts.timing_views), **_machine(device)}
    metrics["notes"] = notes
    from mammoview.training.plots import write_evaluation_plots  # matplotlib only when writing

    write_evaluation_plots(out, patch, det)
    report.write_metrics(metrics, out / "metrics.json")
    (out / "report.md").write_text(report.metrics_report(metrics))
    return metrics
