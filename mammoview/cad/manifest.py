"""``models/manifest.json``: the entries that describe each installed model, and reading them.

A :class:`ModelEntry` is everything the engine needs besides the tensors: architecture,
classes, pixel size, preprocessing, operating point and curve, malignancy calibration,
training data, licence, sha256.  Loading and saving the weights is
:mod:`mammoview.cad.weights`.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from mammoview.cad.calibration import MalignancyCalibration
from mammoview.cad.operating import OperatingCurve
from mammoview.cad.preprocess import PreprocessConfig
from mammoview.cad.registry import OUTPUTS, TISSUE_CLASSES
from mammoview.cad.types import ModelInfo

MANIFEST = "manifest.json"
#: A model name names its weights file.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: Environment variable overriding the models folder.
MODELS_ENV = "MAMMOVIEW_MODELS"


class ModelError(Exception):
    """A model could not be found or loaded; ``str(err)`` is one line naming the file."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def default_models_dir() -> Path:
    """``$MAMMOVIEW_MODELS``, else the repository's ``models/`` next to the package (a checkout, an editable
    install), else ``<prefix>/share/mammoview/models`` where a wheel installs them (``pyproject.toml``; in a
    PyInstaller bundle the prefix is its ``_internal`` folder, ``packaging/mammoview.spec``)."""
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file():  # a checkout (an editable install runs from it)
        return root / "models"
    # pip puts a wheel's data files under its install scheme's base: the venv's prefix, but the user base for
    # `pip install --user`, the --prefix given, /usr/local for a distro's pip; that base is the one holding the
    # site-packages the package was installed into, at a depth that depends on the scheme (sysconfig): two
    # levels above it in <base>/lib/python3.X/site-packages, one in <base>\Lib\site-packages, <base>/lib/python
    # (--home) and Windows' <user base>\Python3X\site-packages, none for pip install --target <base>
    site_dir = root
    candidates = [Path(getattr(sys, "_MEIPASS", sys.prefix)), site_dir, *site_dir.parents[:3]]
    folders = [c / "share" / "mammoview" / "models" for c in candidates]
    return next((f for f in folders if (f / "manifest.json").is_file()), folders[0])


#: What a model is for (``task`` of a manifest entry): the detector, and the networks beside it.
TASKS = ("detection", "malignancy", "verification", "density")
#: Upper bounds of the preprocessing options (a hand-edited manifest): far above any setting a model was trained
#: with (the shipped ones: 0.3-1.5 mm pixels, no smoothing, no morphology), below where the work grows without end (a
#: Gaussian of sigma 1e6 mm ran for hours, uncancellable; a morphology radius of 1e4 mm, or 1e-4 mm pixels, exhausted
#: memory on every image; a helper's fuzzing of the manifest).  The lower bound of the pixel size is a detector's.
PREPROCESS_RANGES: dict[str, tuple[float, float]] = {
    "pixel_size_mm": (0.02, 10.0),
    "gaussian_sigma_mm": (0.0, 10.0),
    "morphology_radius_mm": (0.0, 5.0),
    "clahe_kernel_mm": (0.0, 600.0),
    "clahe_clip_limit": (0.0, 1.0),
}


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

    def check(self) -> None:
        """Raise ValueError naming the first malformed field (a hand-edited manifest): the fields the engine computes
        with have the types it needs, the preprocessing options are known and give the network's input channels,
        and the operating curve and malignancy calibration parse."""

        def number(name: str, value: Any, *, integer: bool = False, lo: float | None = None,
                   hi: float | None = None) -> None:  # fmt: skip
            kind = numbers.Integral if integer else numbers.Real
            if not isinstance(value, kind) or isinstance(value, bool) or not math.isfinite(float(value)):
                raise ValueError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}")
            x = float(value)
            if (lo is not None and x < lo) or (hi is not None and x > hi):
                raise ValueError(f"{name} {value!r} out of range")

        for name in ("name", "arch", "version", "task", "file", "sha256"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be text, got {getattr(self, name)!r}")
        if self.task not in TASKS:
            raise ValueError(f"task {self.task!r} unknown (one of {', '.join(TASKS)})")
        for name in ("arch_kwargs", "preprocessing", "operating_curve", "malignancy_calibration"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name} must be an object, got {getattr(self, name)!r}")
        number("in_chans", self.in_chans, integer=True, lo=1)
        number("pixel_size_mm", self.pixel_size_mm, lo=1e-6)
        number("patch_size", self.patch_size, integer=True, lo=1)
        number("finding_threshold", self.finding_threshold, lo=0.0, hi=1.0)
        if not isinstance(self.test_time_flip, bool):
            raise ValueError(f"test_time_flip must be true or false, got {self.test_time_flip!r}")
        for w in self.map_windows_px:
            number("map_windows_px", w, integer=True, lo=1)
        cfg = self.preprocess_config  # ValueError: an unknown option
        defaults, hints = PreprocessConfig(), get_type_hints(PreprocessConfig)
        for f in fields(PreprocessConfig):
            value, default = getattr(cfg, f.name), getattr(defaults, f.name)
            if get_origin(hints[f.name]) is Literal:  # e.g. normalization: one of the names the code knows
                if value not in get_args(hints[f.name]):
                    raise ValueError(f"preprocessing {f.name} {value!r} unknown")
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"preprocessing {f.name} must be true or false, got {value!r}")
            elif isinstance(default, float):
                lo, hi = PREPROCESS_RANGES.get(f.name, (0.0, None))
                number(f"preprocessing {f.name}", value, lo=lo, hi=hi)
        if cfg.in_channels != self.in_chans:
            raise ValueError(f"in_chans is {self.in_chans} but the preprocessing gives {cfg.in_channels} channel(s)")
        self.curve  # noqa: B018  (ValueError if malformed)
        self.calibration  # noqa: B018

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
        If the file is not valid JSON, an entry lacks ``name``/``arch``, or it is not a models folder's manifest
        (a patch set's ``manifest.json``).
    """
    path = Path(models_dir or default_models_dir()) / MANIFEST
    if not path.exists() and not path.is_symlink():  # (a link to nowhere: read below, says why)
        return Manifest(None, ())
    if path.exists() and not path.is_file() and not path.is_dir():  # a pipe or device: reading could wait forever
        raise ModelError(path, "unreadable manifest (not a regular file: a pipe, socket or device)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        models = tuple(ModelEntry.from_dict(m) for m in raw.get("models", []))
    except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:  # (JSON nested too deep)
        raise ModelError(path, f"unreadable manifest ({exc})") from exc
    if raw and "models" not in raw:  # another command's manifest.json (a patch set's): read as an empty one, an
        # install wrote its models manifest over it, and the patch set was lost
        raise ModelError(path, "not a models folder's manifest (no 'models' list: a patch set's?); give a models "
                               "folder")  # fmt: skip
    names = [m.name for m in models]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:  # which one would --model / the default mean?
        raise ModelError(path, f"two models named {twice!r}: remove or rename one of the entries")
    return Manifest(raw.get("default"), models)


def check_install_target(models_dir: Path, name: str) -> Manifest:
    """The manifest of ``models_dir``, where a model ``name`` is to be installed; raises what the install would find
    at its end (a training's), before any work: a name that cannot name a file (ValueError), a manifest that is
    unreadable or another command's (ModelError)."""
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        raise ValueError(f"model name {name!r} must be letters, digits, '.', '_' or '-' (it names a file)")
    return read_manifest(models_dir)
