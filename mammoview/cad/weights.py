"""Versioned weights: ``models/<name>-<sha8>.safetensors`` + ``models/manifest.json``.

Loading reads the file once, checks its SHA-256 against the manifest *before* parsing it,
parses it with safetensors (no pickle), loads it with ``strict=True`` on the CPU and only
then moves the model to the chosen device.  Every failure is a :class:`ModelError` whose
message is one line naming the file.  The manifest's entries are :mod:`mammoview.cad.manifest`
(re-exported here).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from mammoview.cad.device import Precision
from mammoview.cad.manifest import (
    MANIFEST,
    MODELS_ENV,
    Manifest,
    ModelEntry,
    ModelError,
    check_install_target,
    default_models_dir,
    read_manifest,
)
from mammoview.cad.operating import OperatingCurve
from mammoview.cad.preprocess import PreprocessConfig
from mammoview.cad.registry import create_model
from mammoview.cad.types import ModelInfo
from mammoview.io.files import atomic_write_bytes, atomic_write_text
from mammoview.io.model import MAX_EXTENT_MM

__all__ = [
    "MANIFEST", "MODELS_ENV", "InstalledModel", "LoadedModel", "Manifest", "ModelEntry", "ModelError",
    "build_model", "default_models_dir", "list_installed", "load_model", "load_optional",
    "load_weights",
    "prepare_for_inference", "read_manifest", "save_model",
]  # fmt: skip


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A network in eval mode on its device, with the manifest entry it came from.

    ``fused`` is an inference-only copy with BatchNorm folded in (see
    :func:`mammoview.cad.networks.fuse.fuse_for_inference`); when None the network
    itself is used.  Grad-CAM always uses ``model``.
    """

    model: nn.Module
    entry: ModelEntry
    device: torch.device
    path: Path | None = None
    precision: Precision = "auto"
    fused: nn.Module | None = None
    #: a second-stage network that re-scores this detector's candidates (:mod:`mammoview.cad.verification`)
    verifier: LoadedModel | None = None
    #: with a verifier (whose curve ``entry`` then holds): the detector's own curve, of its map
    detector_curve: OperatingCurve | None = None
    #: why an installed verifier is not used beside this detector (``ModelInfo.not_used``)
    not_used: tuple[str, ...] = ()

    def to(self, device: str | torch.device | None) -> LoadedModel:
        """This model on ``device``: itself if already there, else a moved copy (this one is untouched)."""
        from mammoview.cad.device import select_device

        dev = select_device(device)
        if dev == self.device:
            return self
        model = copy.deepcopy(self.model).to(dev)
        fused = copy.deepcopy(self.fused).to(dev) if self.fused is not None else None
        verifier = self.verifier.to(dev) if self.verifier is not None else None
        return replace(self, model=model, fused=fused, device=dev, verifier=verifier)

    @property
    def inference_net(self) -> nn.Module:
        """The network whole-image inference runs (``fused`` if present)."""
        return self.fused if self.fused is not None else self.model

    @property
    def info(self) -> ModelInfo:
        info = replace(self.entry.info, not_used=self.not_used) if self.not_used else self.entry.info
        if self.verifier is None:
            return info
        return replace(info, verifier=self.verifier.info, detector_curve=self.detector_curve)

    @property
    def preprocess(self) -> PreprocessConfig:
        return self.entry.preprocess_config


def build_model(entry: ModelEntry, path: Path | str = "manifest.json") -> nn.Module:
    """A freshly initialised network of the entry's architecture (``ModelError`` if unknown or inconsistent)."""
    try:  # a hand-edited entry fails here, naming the file, not at every image
        entry.check()
    except (ValueError, TypeError) as exc:
        raise ModelError(path, f"malformed manifest entry {entry.name!r}: {exc}") from exc
    try:
        model = create_model(entry.arch, in_chans=entry.in_chans, num_outputs=len(entry.outputs), **entry.arch_kwargs)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # (torch: a negative width, beyond memory)
        raise ModelError(path, f"cannot build arch {entry.arch!r} with {entry.arch_kwargs}: {exc}") from exc
    if entry.map_windows_px:
        from mammoview.cad.probability_maps import map_windows

        try:
            map_windows(entry.patch_size, int(getattr(model, "feature_stride", 1)), entry.map_windows_px)
        except (TypeError, ValueError) as exc:
            raise ModelError(path, f"map_windows_px: {exc}") from exc
    try:  # parsed here so a malformed curve or calibration fails at load, naming the file
        entry.curve  # noqa: B018
        entry.calibration  # noqa: B018
    except ValueError as exc:
        raise ModelError(path, str(exc)) from exc
    if (why := _crop_geometry_problem(entry, int(getattr(model, "feature_stride", 1)))) is not None:
        raise ModelError(path, f"malformed manifest entry {entry.name!r}: {why}")
    if entry.task == "density":  # its canvas: read at every CAD run, whose whole study failed without one
        from mammoview.cad.density import CATEGORIES, canvas_shape

        # output k is read as category a-d[k] (mammoview.cad.density.assess): other names, order or count misnamed
        # every density (classes d-a showed the network's "a" as "D"), a fifth output was dropped unsaid
        if tuple(entry.outputs) != CATEGORIES or tuple(entry.classes) != CATEGORIES:
            raise ModelError(
                path,
                f"malformed manifest entry {entry.name!r}: a density model's outputs and classes "
                f"must be {list(CATEGORIES)}, got {list(entry.outputs)} and {list(entry.classes)}",
            )
        try:
            rows, cols = canvas_shape(entry.extra)
        except ValueError as exc:
            raise ModelError(path, f"malformed manifest entry {entry.name!r}: {exc}") from exc
        if (why := _beyond_any_mammogram(entry, "canvas_px", max(rows, cols))) is not None:
            raise ModelError(path, f"malformed manifest entry {entry.name!r}: {why}")
    return model


def _beyond_any_mammogram(entry: ModelEntry, what: str, px: int) -> str | None:
    """Why ``px`` model pixels (a patch, a map window, the density canvas) cannot be meant (None: they can): more mm
    than any mammogram's side (:data:`MAX_EXTENT_MM`); a hand edit such as ``patch_size`` 1e9 failed every image
    mid-study ("MemoryError: Unable to allocate 3.47 PiB"), blaming the image."""
    mm = px * entry.preprocess_config.pixel_size_mm
    if mm <= MAX_EXTENT_MM:
        return None
    return f"{what} {px} px is {mm:.4g} mm, larger than any mammogram (at most {MAX_EXTENT_MM:.0f} mm a side)"


def _crop_geometry_problem(entry: ModelEntry, stride: int) -> str | None:
    """Why the entry's patch and context leave the network nothing to classify, or they or its map windows are larger
    than any mammogram (None: neither): a hand edit such as ``patch_size`` 1 failed every image mid-study ("input
    (33, 33) leaves no centre"), blaming the image."""
    context = entry.extra.get("context_px", 0)
    if not isinstance(context, int) or isinstance(context, bool) or context < 0 or context % stride:
        return f"context_px must be a whole multiple of the network's {stride} px stride, got {context!r}"
    if entry.patch_size < stride:
        return f"patch_size {entry.patch_size} px is less than one {stride} px cell of the network: nothing to classify"
    sizes = [("patch_size + 2 x context_px", entry.patch_size + 2 * context)]
    sizes += [("map_windows_px", w) for w in entry.map_windows_px]
    return next((why for what, px in sizes if (why := _beyond_any_mammogram(entry, what, px)) is not None), None)


def load_weights(model: nn.Module, path: Path, sha256: str) -> None:
    """Verify ``path`` against ``sha256``, parse it and load it into ``model`` (strict, on CPU)."""
    try:
        if path.exists() and not path.is_file() and not path.is_dir():  # a pipe or device: reading could wait forever
            raise ModelError(path, "cannot read weights file (not a regular file: a pipe, socket or device)")
        blob = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(path, "weights file not found") from None
    except OSError as exc:
        raise ModelError(path, f"cannot read weights file ({exc.strerror})") from exc
    digest = hashlib.sha256(blob).hexdigest()
    if not sha256:
        raise ModelError(path, "manifest entry has no sha256; refusing unverified weights")
    if digest != sha256.lower():
        raise ModelError(
            path, f"SHA-256 mismatch (file {digest[:12]}..., manifest {sha256[:12]}...): corrupt, truncated or replaced"
        )
    try:
        state = st_load(blob)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ModelError(path, f"not a valid safetensors file ({exc})") from exc
    expected = model.state_dict()
    # load_state_dict casts silently: integer weights would load as garbage (NaN scores), half ones lose precision
    # (checked before the NaN scan below: torch.isfinite is not implemented for every dtype, e.g. float8)
    wrong = next((k for k, v in state.items() if k in expected and v.dtype != expected[k].dtype), None)
    if wrong is not None:
        raise ModelError(path, f"weights do not match the architecture: {wrong} is {state[wrong].dtype}, "
                               f"the network's is {expected[wrong].dtype}")  # fmt: skip
    # a diverged training run saves NaN weights: every score would be NaN (detect wrote `"abnormal": NaN`, not JSON)
    bad = next((k for k, v in state.items() if k in expected and v.is_floating_point()
                and not bool(torch.isfinite(v).all())), None)  # fmt: skip
    if bad is not None:
        raise ModelError(path, f"weights hold NaN or infinite values ({bad}): a training run that diverged? not used")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        # torch's message is several lines ("Missing key(s)...", "size mismatch..."); keep one.
        detail = "; ".join(line.strip() for line in str(exc).splitlines()[1:] if line.strip())
        raise ModelError(path, f"weights do not match the architecture: {detail[:400]}") from exc


def load_model(
    name: str | None = None,
    models_dir: Path | str | None = None,
    device: str | torch.device | None = None,
    precision: Precision = "auto",
    task: str = "detection",
) -> LoadedModel:
    """Load a model listed in the manifest, verified, in eval mode on ``device``.

    Parameters
    ----------
    name
        Manifest name; default ``manifest["default"]`` (or the only entry).
    models_dir
        Folder with ``manifest.json``; default :func:`default_models_dir`.
    device
        ``"cpu"``, ``"cuda"``, ``"mps"``, ``"auto"``/None (see :func:`mammoview.cad.device.select_device`).
    precision
        Inference precision (see :func:`mammoview.cad.device.autocast_dtype`).
    task
        What the model must do (``ModelEntry.task``); without ``name``, the default model
        for "detection" and the first model of that task otherwise.

    Raises
    ------
    ModelError
        No manifest or no such model; a model of another task; weights missing, corrupt,
        truncated, of the wrong hash, or not matching the architecture (keys, shapes).
    """
    from mammoview.cad.device import select_device

    root = Path(models_dir or default_models_dir())
    manifest_path = root / MANIFEST
    if not root.is_dir():  # a typo (or $MAMMOVIEW_MODELS pointing nowhere) is not "no models installed"
        source = f" (${MODELS_ENV})" if models_dir is None and os.environ.get(MODELS_ENV) else ""
        raise ModelError(root, f"no such models folder{source}")
    manifest = read_manifest(root)
    if not manifest.models:
        raise ModelError(manifest_path, "no models installed (train one with `mammoview train`)")
    mine = [m for m in manifest.models if m.task == task]
    if name is None and task != "detection":
        if not mine:
            raise ModelError(manifest_path, f"no {task} model installed")
        name = mine[0].name
    detectors = [m for m in manifest.models if m.task == "detection"]
    chosen = name or manifest.default or (detectors[0].name if len(detectors) == 1 else None)
    if chosen is None:
        raise ModelError(manifest_path, "several models and no default; pass a model name")
    entry = manifest.get(chosen)
    if entry is None:
        names = ", ".join(str(m.name) for m in manifest.models)  # (a hand-edited name may be a number)
        raise ModelError(manifest_path, f"no model named {chosen!r} (installed: {names})")
    if entry.task != task:
        raise ModelError(manifest_path, f"{chosen} is a {entry.task} model, not a {task} model")
    path = weights_path(root, entry)
    model = build_model(entry, path)
    load_weights(model, path, entry.sha256)
    dev = select_device(device)
    return prepare_for_inference(model, entry, dev, path=path, precision=precision)


def weights_path(root: Path, entry: ModelEntry) -> Path:
    """Where ``entry``'s weights are; a ModelError naming the manifest when its ``file`` is no file name (a hand edit
    left ``null`` or a number: ``root / None`` raised a TypeError naming nothing)."""
    if not isinstance(entry.file, str) or not entry.file or "\0" in entry.file:  # (a NUL: no file name, ValueError)
        raise ModelError(root / MANIFEST, f"malformed manifest entry {entry.name!r}: file must be text (the weights "
                                          f"file's name), got {entry.file!r}")  # fmt: skip
    return root / entry.file


def load_optional(task: str, models_dir: Path | str | None = None, device: str | torch.device | None = None
                  ) -> LoadedModel | None:  # fmt: skip
    """The installed model of an optional ``task`` ("density", "malignancy"); None when none is installed.

    Raises
    ------
    ModelError
        If one is installed but broken (callers go on without it and say why).
    """
    root = Path(models_dir or default_models_dir())
    if not any(m.task == task for m in read_manifest(root).models):
        return None
    return load_model(None, root, device, task=task)


def prepare_for_inference(
    model: nn.Module,
    entry: ModelEntry,
    device: torch.device,
    *,
    path: Path | None = None,
    precision: Precision = "auto",
) -> LoadedModel:
    """Eval mode, frozen, channels_last on ``device``, plus the fused inference copy."""
    from mammoview.cad.networks.fuse import fuse_for_inference

    # channels_last: oneDNN (CPU) and cuDNN tensor cores run these convs ~1.3x faster in NHWC.
    model = model.to(device).to(memory_format=torch.channels_last).eval()  # type: ignore[call-overload]
    model.requires_grad_(False)
    fused = fuse_for_inference(model).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return LoadedModel(model=model, entry=entry, device=device, path=path, precision=precision, fused=fused)


def save_model(
    model: nn.Module, entry: ModelEntry, models_dir: Path | str | None = None, *, make_default: bool = False
) -> ModelEntry:
    """Write weights + manifest entry (both atomically) and return the completed entry.

    The file is ``<name>-<sha8>.safetensors``; an entry with the same name is replaced
    (its old weights file removed when nothing else refers to it).  The model becomes
    the default when ``make_default`` or, a detector, when the manifest has none yet.
    An entry :func:`load_model` would refuse (:func:`build_model`'s checks) is a ValueError, nothing written.
    """
    root = Path(models_dir or default_models_dir())
    old = check_install_target(root, entry.name)  # before any file is written there
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    # One metadata key: safetensors writes a multi-key metadata map in a random order, so the
    # same weights would get a different sha256 (and file name) at every save.
    blob = st_save(state, metadata={"mammoview": json.dumps({"arch": entry.arch, "name": entry.name}, sort_keys=True)})
    sha = hashlib.sha256(blob).hexdigest()
    fname = f"{entry.name}-{sha[:8]}.safetensors"
    done = replace(
        entry,
        file=fname,
        sha256=sha,
        torch_version=torch.__version__.split("+")[0],
        created=entry.created or _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )
    try:  # the load's checks: an entry it would refuse, installed (as the default, say), failed every CAD run
        build_model(done, root / MANIFEST)
    except ModelError as exc:
        raise ValueError(f"{entry.name} not installed into {root}: {exc.reason}") from exc
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(root / fname, blob, private=False)
    others = [m for m in old.models if m.name != entry.name]
    replaced = old.get(entry.name)
    # (only a detector by itself: the default is the CAD's, and a density model installed first into an empty folder
    # stayed it, failing every CAD run once a detector was installed beside it)
    default = entry.name if make_default or (not old.default and entry.task == "detection") else old.default
    doc = {"default": default, "models": [m.to_dict() for m in [*others, done]]}
    atomic_write_text(root / MANIFEST, json.dumps(doc, indent=2) + "\n")
    if (
        replaced
        and isinstance(replaced.file, str)
        and replaced.file
        and replaced.file != fname
        and all(m.file != replaced.file for m in others)
    ):  # (a hand edit may have left no file name)
        with contextlib.suppress(OSError):
            (root / replaced.file).unlink()
    return done


@dataclass(frozen=True)
class InstalledModel:
    """A manifest entry, where its file is, whether it is there and whether it is the default."""

    entry: ModelEntry
    path: Path
    exists: bool
    is_default: bool


def list_installed(models_dir: Path | str | None = None) -> list[InstalledModel]:
    """The models of the manifest (no hashing: that happens at load time)."""
    root = Path(models_dir or default_models_dir())
    manifest = read_manifest(root)
    detectors = [m for m in manifest.models if m.task == "detection"]
    default = manifest.default or (detectors[0].name if len(detectors) == 1 else None)

    def where(m: ModelEntry) -> Path:  # an entry whose file is no name is listed (check() says what is wrong)
        return root / m.file if isinstance(m.file, str) else root / MANIFEST

    def present(m: ModelEntry) -> bool:
        try:
            return isinstance(m.file, str) and bool(m.file) and where(m).is_file()
        except OSError:  # e.g. a name too long for the file system: listed as missing (loading it says why)
            return False

    return [
        InstalledModel(
            entry=m,
            path=where(m),
            exists=present(m),
            is_default=m.name == default,
        )
        for m in manifest.models
    ]
