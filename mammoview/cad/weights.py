"""Versioned weights: ``models/<name>-<sha8>.safetensors`` + ``models/manifest.json``.

Loading reads the file once, checks its SHA-256 against the manifest *before* parsing it,
parses it with safetensors (no pickle), loads it with ``strict=True`` on the CPU and only
then moves the model to the chosen device.  Every failure is a :class:`ModelError` whose
message is one line naming the file.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from mammoview.cad.calibration import MalignancyCalibration
from mammoview.cad.device import Precision
from mammoview.cad.operating import OperatingCurve
from mammoview.cad.preprocess import PreprocessConfig
from mammoview.cad.registry import OUTPUTS, TISSUE_CLASSES, create_model
from mammoview.cad.types import ModelInfo
from mammoview.io.files import atomic_write_bytes

MANIFEST = "manifest.json"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: Environment variable overriding the models folder.
MODELS_ENV = "MAMMOVIEW_MODELS"


class ModelError(Exception):
    """A model could not be found or loaded; ``str(err)`` is one line naming the file."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def default_models_dir() -> Path:
    """``$MAMMOVIEW_MODELS``, else the repository's ``models/`` next to the package."""
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class ModelEntry:
    """One model of ``manifest.json`` (docs/cad-design.md, "Weights").

    ``file``, ``sha256``, ``torch_version`` and ``created`` are filled in by
    :func:`save_model`.  Keys this version does not know are kept in ``extra`` and
    written back unchanged.
    """

    name: str
    arch: str
    version: str = "0.0.0"
    #: what the network does: "detection" (the CAD: patch classifier run over the whole image) or
    #: "density" (whole-breast BI-RADS composition, :mod:`mammoview.cad.density`)
    task: str = "detection"
    file: str = ""
    sha256: str = ""
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    in_chans: int = 1
    outputs: tuple[str, ...] = OUTPUTS
    classes: tuple[str, ...] = TISSUE_CLASSES
    pixel_size_mm: float = 0.3
    patch_size: int = 96
    preprocessing: dict[str, Any] = field(default_factory=dict)
    normalization: str = "robust z-score inside the breast mask, clipped to +-4"
    finding_threshold: float = 0.5
    test_time_flip: bool = False  # average the CAM of the image and of its mirror image
    #: patch-equivalent windows (model px) whose logit maps are averaged; () = ``patch_size`` alone
    map_windows_px: tuple[int, ...] = ()
    #: the validation FROC the viewer reads findings' false marks per image from
    #: (:class:`mammoview.cad.operating.OperatingCurve` as a dict; {} = none)
    operating_curve: dict[str, Any] = field(default_factory=dict)
    #: Platt scaling of the malignancy output (:class:`MalignancyCalibration` as a dict; {} = raw)
    malignancy_calibration: dict[str, Any] = field(default_factory=dict)
    training_data: list[Any] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    torch_version: str = ""
    licence: str = "research use only; not for clinical use"
    created: str = ""
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sha8(self) -> str:
        return self.sha256[:8]

    @property
    def preprocess_config(self) -> PreprocessConfig:
        """The :class:`PreprocessConfig` the model was trained with (pixel size from the entry)."""
        d = dict(self.preprocessing)
        d.setdefault("pixel_size_mm", self.pixel_size_mm)
        return PreprocessConfig.from_dict(d)

    @property
    def calibration(self) -> MalignancyCalibration | None:
        """The parsed :attr:`malignancy_calibration` (None without one; ValueError if malformed)."""
        return MalignancyCalibration.from_dict(self.malignancy_calibration) if self.malignancy_calibration else None

    @property
    def curve(self) -> OperatingCurve | None:
        """The parsed :attr:`operating_curve` (None without one; ValueError if malformed)."""
        return OperatingCurve.from_dict(self.operating_curve) if self.operating_curve else None

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name,
            version=self.version,
            sha256=self.sha256,
            arch=self.arch,
            classes=tuple(self.classes),
            pixel_size_mm=self.pixel_size_mm,
            patch_size=self.patch_size,
            finding_threshold=self.finding_threshold,
            operating_curve=self.curve,
            malignancy_calibration=self.calibration,
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        d["outputs"], d["classes"] = list(self.outputs), list(self.classes)
        d["map_windows_px"] = list(self.map_windows_px)
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelEntry:
        known = {f.name for f in fields(cls)} - {"extra"}
        kw = {k: v for k, v in d.items() if k in known}
        for k in ("outputs", "classes", "map_windows_px"):
            if k in kw:
                kw[k] = tuple(kw[k])
        return cls(**kw, extra={k: v for k, v in d.items() if k not in known})


@dataclass(frozen=True)
class Manifest:
    """``models/manifest.json``: the default model's name and the entries."""

    default: str | None
    models: tuple[ModelEntry, ...]

    def get(self, name: str) -> ModelEntry | None:
        return next((m for m in self.models if m.name == name), None)


def read_manifest(models_dir: Path | str | None = None) -> Manifest:
    """Parse ``manifest.json`` in ``models_dir``; an absent file is an empty manifest.

    Raises
    ------
    ModelError
        If the file is not valid JSON or an entry lacks ``name``/``arch``.
    """
    path = Path(models_dir or default_models_dir()) / MANIFEST
    if not path.exists():
        return Manifest(None, ())
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        models = tuple(ModelEntry.from_dict(m) for m in raw.get("models", []))
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ModelError(path, f"unreadable manifest ({exc})") from exc
    return Manifest(raw.get("default"), models)


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

    def to(self, device: str | torch.device | None) -> LoadedModel:
        """This model on ``device``: itself if already there, else a moved copy (this one is untouched)."""
        from mammoview.cad.device import select_device

        dev = select_device(device)
        if dev == self.device:
            return self
        model = copy.deepcopy(self.model).to(dev)
        fused = copy.deepcopy(self.fused).to(dev) if self.fused is not None else None
        return replace(self, model=model, fused=fused, device=dev)

    @property
    def inference_net(self) -> nn.Module:
        """The network whole-image inference runs (``fused`` if present)."""
        return self.fused if self.fused is not None else self.model

    @property
    def info(self) -> ModelInfo:
        return self.entry.info

    @property
    def preprocess(self) -> PreprocessConfig:
        return self.entry.preprocess_config


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and ``os.replace``."""
    atomic_write_bytes(path, text.encode("utf-8"))


def build_model(entry: ModelEntry, path: Path | str = "manifest.json") -> nn.Module:
    """A freshly initialised network of the entry's architecture (``ModelError`` if unknown or inconsistent)."""
    try:
        model = create_model(entry.arch, in_chans=entry.in_chans, num_outputs=len(entry.outputs), **entry.arch_kwargs)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(path, f"cannot build arch {entry.arch!r} with {entry.arch_kwargs}: {exc}") from exc
    if entry.map_windows_px:
        from mammoview.cad.inference import map_windows

        try:
            map_windows(entry.patch_size, int(getattr(model, "feature_stride", 1)), entry.map_windows_px)
        except (TypeError, ValueError) as exc:
            raise ModelError(path, f"map_windows_px: {exc}") from exc
    try:
        entry.curve  # noqa: B018  (parsed here so a malformed curve fails at load, naming the file)
    except ValueError as exc:
        raise ModelError(path, str(exc)) from exc
    return model


def load_weights(model: nn.Module, path: Path, sha256: str) -> None:
    """Verify ``path`` against ``sha256``, parse it and load it into ``model`` (strict, on CPU)."""
    try:
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
        names = ", ".join(m.name for m in manifest.models)
        raise ModelError(manifest_path, f"no model named {chosen!r} (installed: {names})")
    if entry.task != task:
        raise ModelError(manifest_path, f"{chosen} is a {entry.task} model, not a {task} model")
    path = root / entry.file
    model = build_model(entry, path)
    load_weights(model, path, entry.sha256)
    dev = select_device(device)
    return prepare_for_inference(model, entry, dev, path=path, precision=precision)


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
    the default when ``make_default`` or when the manifest has none yet.
    """
    if not _SAFE_NAME.fullmatch(entry.name):
        raise ValueError(f"model name {entry.name!r} must be letters, digits, '.', '_' or '-' (it names a file)")
    root = Path(models_dir or default_models_dir())
    root.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    # One metadata key: safetensors writes a multi-key metadata map in a random order, so the
    # same weights would get a different sha256 (and file name) at every save.
    blob = st_save(state, metadata={"mammoview": json.dumps({"arch": entry.arch, "name": entry.name}, sort_keys=True)})
    sha = hashlib.sha256(blob).hexdigest()
    fname = f"{entry.name}-{sha[:8]}.safetensors"
    atomic_write_bytes(root / fname, blob)
    done = replace(
        entry,
        file=fname,
        sha256=sha,
        torch_version=torch.__version__.split("+")[0],
        created=entry.created or _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )
    old = read_manifest(root)
    others = [m for m in old.models if m.name != entry.name]
    replaced = old.get(entry.name)
    default = entry.name if make_default or not old.default else old.default
    doc = {"default": default, "models": [m.to_dict() for m in [*others, done]]}
    atomic_write_text(root / MANIFEST, json.dumps(doc, indent=2) + "\n")
    if replaced and replaced.file != fname and all(m.file != replaced.file for m in others):
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
    return [
        InstalledModel(entry=m, path=root / m.file, exists=(root / m.file).is_file(), is_default=m.name == default)
        for m in manifest.models
    ]
