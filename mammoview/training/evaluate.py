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
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mammoview.training import report
from mammoview.training.calibrate import fit_malignancy_calibration
from mammoview.training.froc import DetectionScores, score_detections
from mammoview.training.metrics import patch_metrics
from mammoview.training.sources import SOURCE_FOLDERS, SourceImage, cbis_images, default_data_dir, mias_images

#: Runs detect's own code path over ``paths`` with one pixel spacing ``(row_mm, col_mm)``,
#: writes the detect JSON to the third argument and returns the document it wrote.
DetectFn = Callable[[Sequence[Path], tuple[float, float], Path], Mapping[str, Any]]
#: Seconds of the whole-image pipeline on one image (decoded before the clock starts).
TimeFn = Callable[[SourceImage], float]


@dataclass(frozen=True)
class EvaluateOptions:
    """What to evaluate and where to write it (mirrors the CLI flags)."""

    out: Path
    patches: Path | None = None
    data_dir: Path | None = None
    max_images: int | None = None
    detections: tuple[Path, ...] = ()
    timing_views: int = 20
    batch_size: int = 256
    threshold: float = 0.5
    #: the image level on every CBIS / MIAS image of ``data_dir`` (a held-out test set in the shared data's
    #: layout), not on the patch set's validation patients; ``patches`` is then optional (its patch level)
    all_images: bool = False


@dataclass
class StagedModel:
    """The model to evaluate, loaded; a run folder's installed in ``staging`` beside ``OUT/model``.

    :meth:`install` puts a staged run in place of ``OUT/model`` once the evaluation's inputs are checked, and
    :meth:`discard` removes it (and the folders staging created): a refused evaluation leaves OUT as it was.
    """

    loaded: Any
    #: the models folder detect must use (None = detect's default folder); ``OUT/model`` once installed
    models_dir: Path | None
    staging: Path | None = None
    target: Path | None = None
    #: folders that staging created (OUT and above), deepest first
    created: tuple[Path, ...] = ()

    def install(self, loaded: Any) -> Any:
        """Put the staged run in place of ``OUT/model`` (an earlier evaluation's model there is replaced); returns
        ``loaded`` (this model, as the caller adapted it) with its weights path there."""
        import shutil
        from dataclasses import replace

        if self.staging is None or self.target is None:
            return loaded
        target, staging = self.target, self.staging
        if os.path.lexists(target):
            old = staging.with_name(f"{staging.name}-old")
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old)
        else:
            staging.rename(target)
        self.staging, self.models_dir, self.created = None, target, ()
        return replace(loaded, path=target / loaded.path.name) if loaded.path is not None else loaded

    def discard(self) -> None:
        """Remove the staged run and the folders made for it."""
        import shutil

        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:  # something else was written there meanwhile: not ours to remove
                break
        self.created = ()


def stage_model(
    name: str | None = None,
    weights: Path | None = None,
    models_dir: Path | None = None,
    out_dir: Path | None = None,
    device: str | None = None,
) -> StagedModel:
    """Load the model to evaluate; a run folder's is staged beside ``out_dir/model``, not yet installed there.

    ``weights`` is a ``mammoview train`` run folder (``summary.json`` +
    ``checkpoints/best.safetensors``) or a folder with a ``manifest.json``.  A run is
    installed with the training code's own installer into a folder beside ``out_dir/model``,
    which :meth:`StagedModel.install` puts in its place, so detect (which only reads
    installed models) runs exactly these weights, hash-checked; that folder then holds
    this run alone (an earlier evaluation's model there is replaced).
    """
    from mammoview.cad.weights import load_model

    if weights is None:
        return StagedModel(load_model(name, models_dir, device), models_dir)
    weights = Path(weights)
    if (weights / "manifest.json").is_file():
        return StagedModel(load_model(name, weights, device), weights)
    summary_path = weights / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{weights}: neither a run folder (summary.json) nor a models folder (manifest.json)")
    if out_dir is None:
        raise ValueError("installing a run for evaluation needs an output folder")
    import secrets

    from mammoview.training.install import install_run
    from mammoview.training.jsonfile import read_json

    run_name = name or f"run-{weights.resolve().name}"
    out_dir = Path(out_dir)
    target = out_dir / "model"
    summary = read_json(summary_path)
    ours = target.is_dir() and not target.is_symlink() and (target / "manifest.json").is_file()
    if os.path.lexists(target) and not ours:  # the user's own, not ours to replace
        raise ValueError(f"{target} is not the models folder of an earlier evaluation: move it or give another --out")
    # installed beside OUT/model, then put in its place: OUT holds one evaluation, so one model (an install into
    # OUT/model itself added each run evaluated there to the earlier ones), and a failed install keeps the earlier
    created = tuple(p for p in (out_dir, *out_dir.parents) if not os.path.lexists(p))
    staging = out_dir / f".model-{secrets.token_hex(4)}"
    staging.mkdir(parents=True)  # (the user's umask, as OUT/model had: not mkdtemp's 0700)
    staged = StagedModel(None, staging, staging, target, created)
    try:
        install_run(weights, summary, run_name, staging)
        staged.loaded = load_model(run_name, staging, device)
    except BaseException:
        staged.discard()
        raise
    return staged


def resolve_model(
    name: str | None = None,
    weights: Path | None = None,
    models_dir: Path | None = None,
    out_dir: Path | None = None,
    device: str | None = None,
) -> tuple[Any, Path | None]:
    """:func:`stage_model`, with a run installed into ``out_dir/model`` at once.

    Returns
    -------
    (LoadedModel, Path or None)
        The model and the models folder (None = detect's default folder).
    """
    staged = stage_model(name, weights, models_dir, out_dir, device)
    try:
        loaded = staged.install(staged.loaded)
    finally:
        staged.discard()  # (nothing left to remove once installed)
    return loaded, staged.models_dir


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


def model_summary(loaded: Any) -> dict[str, Any]:
    """What ``metrics.json`` records about the model (manifest entry + parameter count)."""
    e = loaded.entry
    return {
        "name": e.name,
        "version": e.version,
        "sha256": e.sha256,
        "arch": e.arch,
        "arch_kwargs": dict(e.arch_kwargs),
        # all parameters: the loaded model is frozen (requires_grad False) but they still count
        "params": int(sum(p.numel() for p in loaded.model.parameters())),
        "pixel_size_mm": e.pixel_size_mm,
        "patch_size": e.patch_size,
        "in_chans": e.in_chans,
        "preprocessing": loaded.preprocess.to_dict(),
        "finding_threshold": e.finding_threshold,
        "test_time_flip": e.test_time_flip,
        "map_windows_px": list(e.map_windows_px) or [e.patch_size],
        "weights": str(loaded.path) if loaded.path else None,
        # the second network that re-scored the findings (the FROC is then the two stages')
        "verifier": (
            {k: getattr(loaded.verifier.entry, k) for k in ("name", "version", "sha256")}
            if getattr(loaded, "verifier", None) is not None
            else None
        ),
    }


def check_compatible(model: Mapping[str, Any], ps: Any) -> list[str]:
    """Refuse a patch set made differently from the model's training data; return soft notes.

    A different pixel size, channel count or preprocessing would score the network on
    inputs it was not made for; a different patch size is only noted (the network is
    fully convolutional, and that is a legitimate if different measurement).
    """
    from mammoview.cad.preprocess import PreprocessConfig

    problems = []
    if not math.isclose(float(model["pixel_size_mm"]), ps.pixel_size_mm, rel_tol=1e-6):
        problems.append(f"pixel size {ps.pixel_size_mm} mm vs the model's {model['pixel_size_mm']} mm")
    if int(model["in_chans"]) != ps.channels:
        problems.append(f"{ps.channels} channel(s) vs the model's {model['in_chans']}")
    theirs = PreprocessConfig.from_dict(ps.preprocessing).to_dict()
    diff = sorted(k for k in theirs if k != "pixel_size_mm" and theirs[k] != model["preprocessing"].get(k))
    if diff:
        problems.append(
            "preprocessing differs in "
            + ", ".join(f"{k} ({theirs[k]} vs {model['preprocessing'].get(k)})" for k in diff)
        )
    if problems:
        raise ValueError(f"{ps.root}: patch set does not match the model: " + "; ".join(problems))
    if int(model["patch_size"]) != ps.patch_size:
        return [f"patch size {ps.patch_size} px differs from the model's {model['patch_size']} px"]
    return []


def split_patients(patch_dir: Path, side: str) -> set[str]:
    """The ``side`` ("train" / "val") patients of ``patch_dir/split.json``."""
    from mammoview.training.split import read_split_patients

    return set(read_split_patients(Path(patch_dir) / "split.json").get(side) or [])


def validation_patients(patch_dir: Path) -> set[str]:
    """The ``val`` patients of ``patch_dir/split.json`` (``ValueError`` when there are none)."""
    patients = split_patients(patch_dir, "val")
    if not patients:
        raise ValueError(f"{Path(patch_dir) / 'split.json'}: no validation patients (patients.val is empty)")
    return patients


def held_out_images(data_dir: Path, loaders: Mapping[str, Callable[[Path], list[SourceImage]]]) -> list[SourceImage]:
    """Every whole image of the sources present in ``data_dir`` (a test set in the shared data's layout)."""
    present = [src for src in ("cbis", "mias") if (data_dir / SOURCE_FOLDERS[src]).is_dir()]
    if not present:
        raise ValueError(f"{data_dir}: neither cbis-ddsm-mass/ nor mini-mias/ (the shared data's layout) is there")
    return [im for src in present for im in loaders[src](data_dir) if not im.is_patch]


def validation_images(
    truth: Sequence[SourceImage], patients: set[str], max_images: int | None = None
) -> list[SourceImage]:
    """Whole validation images (CBIS, MIAS) in a fixed order, optionally the first ``max_images``.

    Sources alternate so a small ``max_images`` still covers both, and MIAS normals and
    abnormals stay mixed (its ids interleave them).
    """
    by_source: dict[str, list[SourceImage]] = {}
    for s in sorted(truth, key=lambda s: (s.source, s.image_id)):
        if s.patient in patients and not s.is_patch:
            by_source.setdefault(s.source, []).append(s)
    queues = list(by_source.values())
    out: list[SourceImage] = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out if max_images is None else out[:max_images]


def patch_probabilities(
    module: Any,
    x: npt.NDArray[np.float32],
    device: Any = "cpu",
    batch_size: int = 256,
    context: int = 0,
    flip: bool = False,
) -> npt.NDArray[np.float64]:
    """Network outputs on patches as probabilities ``(N, 4)``: tissue softmax + malignant sigmoid.

    ``context``: px of surroundings around each patch in ``x`` (only the centre is pooled).  ``flip``: the logits of
    each patch and of its mirror image averaged, as a model with ``test_time_flip`` reads whole images (the mean of
    the two CAMs, pooled, is the mean of the two pooled logits: the head is linear).
    """
    import torch

    def run(xb: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = module.forward_context(xb, context) if context else module(xb)
        return logits.float()

    out = []
    with torch.inference_mode():
        for i in range(0, x.shape[0], batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size])).to(device)
            logits = (run(xb) + run(xb.flip(-1))) / 2 if flip else run(xb)
            tissue = torch.softmax(logits[:, :3], dim=1)
            out.append(torch.cat([tissue, torch.sigmoid(logits[:, 3:4])], dim=1).cpu().numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 4))


def check_patch_level(ps: Any, model_info: Mapping[str, Any] | None = None) -> list[str]:
    """Refuse a patch set that cannot be scored (by this model); return :func:`check_compatible`'s notes."""
    notes = check_compatible(model_info, ps) if model_info and "preprocessing" in model_info else []
    val = ps.split("val")
    if len(val) == 0:
        raise ValueError(f"{ps.root}: no validation patches")
    val_patients = set(ps.split_patients().get("val", []))
    leaked = sorted(set(ps.patients[val].tolist()) - val_patients)
    if leaked:
        raise ValueError(f"{ps.root}: index.csv puts patient {leaked[0]} in val but split.json does not")
    return notes


def evaluate_patches(
    module: Any, ps: Any, opts: EvaluateOptions, device: Any = "cpu", model_info: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Patch-level metrics of ``module`` on the validation split of the ``PatchSet`` ``ps``.

    Patches are run in groups of equal content size (MAGIC-5 patches are smaller than
    the slot they sit in): the network is fully convolutional, and a zero border it
    never saw in training would bias those patches.
    """
    notes = check_patch_level(ps, model_info)
    val = ps.split("val")
    # as the model reads whole images: with its mirror pass where it has one (``test_time_flip``, or --flip-tta)
    flip = bool((model_info or {}).get("test_time_flip", False))
    probs = np.zeros((len(ps), 4), dtype=np.float64)
    for size, idx in ps.groups(val).items():
        x, _, _ = ps.arrays(idx)
        probs[idx] = patch_probabilities(module, x, device, opts.batch_size, ps.context_of(size), flip=flip)
    mal = [None if np.isnan(m) else bool(m) for m in ps.malignant[val]]
    # patient-level intervals: a patient's jittered patches of one lesion are not independent samples
    out = patch_metrics(probs[val], list(ps.labels[val]), mal, list(ps.sources[val]), opts.threshold,
                        patients=list(ps.patients[val]))  # fmt: skip
    out["n_patients"] = len(set(ps.patients[val].tolist()))
    out["test_time_flip"] = flip
    out["three_way"]["notes"] += notes
    # for the plots only; dropped before writing metrics.json
    out["_probs"], out["_labels"], out["_malignant"] = probs[val], ps.labels[val], ps.malignant[val]
    return out


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


def load_detections(paths: Sequence[Path]) -> list[Mapping[str, Any]]:
    """Existing detect JSON files (``--detections``)."""
    docs: list[Mapping[str, Any]] = []
    for p in paths:
        from mammoview.training.jsonfile import read_json

        doc = read_json(p)
        if not isinstance(doc, dict) or "images" not in doc:
            raise ValueError(f"{p}: not a detect JSON (no 'images')")
        docs.append(doc)
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


def clear_evaluation(out: Path, keep: Sequence[Path] = ()) -> list[str]:
    """Remove the files of an earlier evaluation in ``out`` but those in ``keep`` (detections to be scored); returns
    their names. A new one writes only its own levels' files: an evaluation without detect left the earlier one's
    FROC, image ROC and detections beside its metrics.json, as if they were its own."""
    kept = {p.resolve() for p in map(Path, keep) if p.exists()}
    held = [p for p in (*(out / n for n in EVALUATION_FILES), *sorted(out.glob("detections-*.json"))) if p.is_file()]
    gone = [p for p in held if p.resolve() not in kept]
    for p in gone:
        p.unlink()
    return [p.name for p in gone]


def read_patch_inputs(opts: EvaluateOptions) -> tuple[Any, set[str]]:
    """The patch set of ``opts`` (None with ``all_images`` and no ``patches``) and its validation patients; raises
    ValueError or FileNotFoundError, in words, when they are not there. Called before anything is written or
    installed into ``opts.out``, so a refused evaluation leaves nothing behind."""
    from mammoview.training.datasets import PatchSet

    if opts.patches is None and not opts.all_images:
        raise ValueError("--patches is required: its split.json says which patients are validation patients")
    ps = PatchSet(opts.patches, mmap=True) if opts.patches is not None else None  # mmap: only val rows are read
    patients = validation_patients(opts.patches) if opts.patches is not None else set()
    return ps, patients


@dataclass(frozen=True)
class EvaluationInputs:
    """What an evaluation reads, read and checked before anything in its folder is removed or written."""

    ps: Any
    #: the validation patients of the patch set's split.json
    n_val_patients: int
    #: the patients scored at the image level
    patients: set[str]
    truth: list[SourceImage]
    images: list[SourceImage]
    #: whether the whole images were read (to run or score detect, or to time it)
    whole_images: bool
    #: ``metrics.json``'s ``images`` (with ``all_images``)
    images_info: dict[str, Any] | None
    #: the ``detections`` documents
    docs: list[Mapping[str, Any]]
    notes: list[str]


def prepare_evaluation(
    opts: EvaluateOptions, model_info: Mapping[str, Any], *, patch_level: bool, whole_images: bool
) -> EvaluationInputs:
    """Read and check every input of an evaluation: the patch set (against the model with ``patch_level``), the
    whole images of ``opts.data_dir`` (with ``whole_images``) and the ``opts.detections`` files (made by the model
    of ``model_info``). Raises ValueError or FileNotFoundError, in words; writes nothing."""
    ps, patients = read_patch_inputs(opts)
    n_val_patients = len(patients)
    if patch_level and ps is not None:
        check_patch_level(ps, model_info)
    notes: list[str] = []
    images_info = None
    data_dir = opts.data_dir or default_data_dir()
    loaders = {"cbis": cbis_images, "mias": mias_images}
    # the whole images are only needed to run or score detect, or to time it: a patch-level evaluation
    # (--no-detect) reads nothing but the patch set, which is self-contained
    if not whole_images:
        truth = []
    elif opts.all_images:
        truth = held_out_images(data_dir, loaders)
        patients = {s.patient for s in truth}
        images_info = {"data": str(data_dir), "set": "every image", "n_patients": len(patients)}
        trained = split_patients(opts.patches, "train") & patients if opts.patches is not None else set()
        if trained:
            notes.append(f"{len(trained)} of the {len(patients)} patients of {data_dir} are training patients of "
                         f"{opts.patches}: not a held-out test")  # fmt: skip
    else:
        # whole images only from the sources the patch set was made from (MAGIC-5 has none)
        sources = ps.manifest.get("sources", loaders) if ps is not None else loaders  # ps: required here
        truth = [im for src in sources if src in loaders for im in loaders[src](data_dir)]
    images = validation_images(truth, patients, opts.max_images)
    docs: list[Mapping[str, Any]] = []
    if opts.detections:
        docs = load_detections(opts.detections)
        shas = {str((d.get("model") or {}).get("sha256", "")) for d in docs}
        if len(shas) > 1 or (model_info.get("sha256") and shas != {model_info["sha256"]}):
            # metrics.json names the evaluated model: retune and --operating-curve trust its sha256
            theirs = ", ".join(sorted(s[:8] or "none" for s in shas))
            raise ValueError(
                f"the detections were made by weights {theirs}, not by the evaluated model "
                f"{model_info.get('name')} {str(model_info.get('sha256', ''))[:8]}: score one model's detections "
                "(without --model/--weights, they name their model)"
            )
    return EvaluationInputs(ps, n_val_patients, patients, truth, images, whole_images, images_info, docs, notes)


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
    replaced = clear_evaluation(out, keep=opts.detections)  # once the inputs are checked: a refused one keeps it
    if replaced:
        print(f"mammoview evaluate: replacing the evaluation in {out} ({', '.join(replaced)})", file=sys.stderr)
    notes: list[str] = list(inputs.notes)
    metrics: dict[str, Any] = {
        "mammoview_evaluate": report.METRICS_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": dict(model_info),
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
