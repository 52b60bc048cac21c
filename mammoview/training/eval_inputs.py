"""An evaluation's inputs, read and checked before anything is written: what to evaluate (:class:`EvaluateOptions`),
the patch set and its validation patients, the whole images to score, and the detect JSON of ``--detections``.

:func:`prepare_evaluation` reads them all; a refused evaluation (a patch set made for another model, no validation
patients, detections by other weights) raises ValueError or FileNotFoundError, in words, and leaves ``--out`` as
it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mammoview.training.sources import SOURCE_FOLDERS, SourceImage, cbis_images, default_data_dir, mias_images


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


def load_detections(paths: Sequence[Path]) -> list[Mapping[str, Any]]:
    """Existing detect JSON files (``--detections``)."""
    from mammoview.training.froc import read_detections

    return [read_detections(p) for p in paths]


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
