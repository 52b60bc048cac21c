"""Typed results of the CAD engine (no Qt, no torch).

Coordinates are in the **stored pixel grid** of the input image (x = column, y = row,
origin top-left, before any display flip), in pixels of that grid.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from mammoview.cad.calibration import MalignancyCalibration, logit
from mammoview.cad.operating import OperatingCurve
from mammoview.io.model import Laterality, View

R = TypeVar("R")
K = TypeVar("K")


@dataclass(frozen=True)
class Progress:
    """One progress step of a long computation (``done`` of ``total`` units)."""

    done: int
    total: int
    message: str = ""


#: A long computation: yields :class:`Progress`, returns its result (``StopIteration.value``).
#: The same generator runs in tests, the CLI (tqdm) and the GUI worker; cancelling means
#: no longer pulling from it (``.close()``), checked between tiles/views.
ProgressGenerator = Generator[Progress, None, R]


def json_probability(p: float) -> float:
    """A probability for the JSON: 4 decimals, or every digit it needs from 0.9999 up.

    Scores are rankings first (FROC, ROC): at 4 decimals every confident finding and dense
    breast reads 1.0 and ties (measured: 85 of 246 validation images' abnormal scores).
    """
    p = float(p)
    return round(p, 4) if p < 0.9999 else p


class FindingKind(enum.Enum):
    MASS = "mass"
    CALCIFICATION = "calcification"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    sha256: str
    arch: str = ""
    classes: tuple[str, ...] = ()
    pixel_size_mm: float = 0.0
    patch_size: int = 0
    #: the manifest's operating point and validation FROC (what a finding's rate is read from)
    finding_threshold: float = 0.5
    operating_curve: OperatingCurve | None = None
    #: how the malignancy shown was calibrated (None: the network's raw output)
    malignancy_calibration: MalignancyCalibration | None = None
    #: the second-stage network that re-scored the findings (None: the detector's scores);
    #: ``finding_threshold`` and ``operating_curve`` are then the two stages' together
    verifier: ModelInfo | None = None
    #: with a verifier: the detector's own validation FROC, of the map the heatmap shows
    detector_curve: OperatingCurve | None = None
    #: why an installed second stage (a verifier) is not used beside this detector (broken, or made for another)
    not_used: tuple[str, ...] = ()

    @property
    def heatmap_curve(self) -> OperatingCurve | None:
        """The FROC of the abnormal map the heatmap draws: the detector's marks cut at a map value."""
        return self.detector_curve if self.verifier is not None else self.operating_curve

    @property
    def tag(self) -> str:
        """``mammoview-vgg 1.3.3 (26e82974)``: name, version and short hash."""
        return f"{self.name} {self.version} ({self.sha256[:8]})"

    @property
    def label(self) -> str:
        """:attr:`tag`, ``+ mammoview-verifier 1.0.0 (eb94ab91)`` with a verifier."""
        return f"{self.tag} + {self.verifier.tag}" if self.verifier is not None else self.tag


@dataclass(frozen=True, eq=False)
class Finding:
    """One suspicious region.

    ``score``: probability that the region is a lesion of ``kind`` (0-1);
    ``malignancy``: probability that it is malignant (0-1).
    ``contour``: (N, 2) float array of (x, y) points in the stored grid.
    ``fp_per_image``: false-positive marks per image the model made on its validation images
    with the threshold at ``score`` (:mod:`mammoview.cad.operating`; None: the model has no
    operating curve).  Not part of the detect JSON, whose schema is fixed.
    """

    kind: FindingKind
    score: float
    malignancy: float
    center: tuple[float, float]
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1 (x1/y1 exclusive)
    contour: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 2)))
    area_mm2: float | None = None
    fp_per_image: float | None = None

    def to_json(self, rates: bool = False) -> dict[str, object]:
        """The detect JSON's finding (exactly its keys); ``rates`` adds ``fp_per_image`` when known."""
        d: dict[str, object] = {
            "kind": self.kind.value,
            "score": json_probability(self.score),
            "malignancy": round(float(self.malignancy), 4),
            "center": [round(float(self.center[0]), 1), round(float(self.center[1]), 1)],
            "bbox": [round(float(v), 1) for v in self.bbox],
        }
        if rates and self.fp_per_image is not None:
            d["fp_per_image"] = round(float(self.fp_per_image), 3)
        return d


#: Heatmap levels 1-255 are linear in the log-odds of the probability over this range
#: (p 0.018 to 0.99995, 18 levels per unit); level 0 is "no value" (p = 0: outside the
#: breast).  A linear probability scale would spend its top 8 levels on everything above
#: p 0.97, where this CAD's scores live (its validation curve runs from 2 false marks per
#: image at p 0.78-0.86 (1.3.3-1.3.7) to 0.2 at p 0.9998-0.9999, which reaches the red end): dense tissue and the
#: strongest lesion would share one colour.
HEAT_LOGIT_RANGE = (-4.0, 10.0)


def heat_levels(probability: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """uint8 heatmap levels of probabilities (see :data:`HEAT_LOGIT_RANGE`; 0 only for p <= 0)."""
    p = np.asarray(probability, dtype=np.float64)
    lo, hi = HEAT_LOGIT_RANGE
    level = 1.0 + np.clip((logit(p) - lo) / (hi - lo), 0.0, 1.0) * 254.0
    return np.where(p > 0.0, np.rint(level), 0.0).astype(np.uint8)


def heat_probability(levels: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Probabilities of uint8 heatmap levels (the centre of each level; 0 for level 0)."""
    level = np.asarray(levels, dtype=np.float64)
    lo, hi = HEAT_LOGIT_RANGE
    p = 1.0 / (1.0 + np.exp(-(lo + (level - 1.0) / 254.0 * (hi - lo))))
    out: npt.NDArray[np.float32] = np.where(level > 0, p, 0.0).astype(np.float32)
    return out


@dataclass(frozen=True, eq=False)
class Heatmap:
    """A class map on a coarse grid placed over the stored image.

    ``data`` is uint8 on the log-odds scale of :func:`heat_levels` (0 = no value, 1 = p <= 0.018,
    255 = p >= 0.99995); pixel (i, j) of ``data`` covers the stored-grid rectangle starting at
    ``(x0 + j * scale_x, y0 + i * scale_y)``.
    """

    name: str  # "abnormal", "mass", "calcification", "malignant"
    data: npt.NDArray[np.uint8]
    x0: float
    y0: float
    scale_x: float
    scale_y: float

    @property
    def rect(self) -> tuple[float, float, float, float]:
        """(x, y, width, height) in stored pixels."""
        h, w = self.data.shape
        return (self.x0, self.y0, w * self.scale_x, h * self.scale_y)

    def as_float(self) -> npt.NDArray[np.float32]:
        """The map as probabilities (float32, 0 outside the breast)."""
        return heat_probability(self.data)


class FindingSource(Protocol):
    """What an image's findings were cut from, kept so they can be cut again at another threshold."""

    def findings(self, threshold: float) -> tuple[Finding, ...]:
        """The image's findings with the region threshold at ``threshold``, best first."""
        ...


@dataclass(frozen=True, eq=False)
class ImageCadResult:
    path: str
    width: int
    height: int
    view: View | None
    pixel_spacing: tuple[float, float] | None  # (row_mm, col_mm) used by the CAD
    spacing_source: str
    abnormal: float
    malignant: float  # p(abnormal) x p(malignant | lesion): never above ``abnormal`` with a malignancy model
    findings: tuple[Finding, ...]
    heatmaps: dict[str, Heatmap] = field(default_factory=dict)
    #: share of the image the breast mask covers; 0: no breast found, the CAD read nothing (None: not measured)
    breast_mask_fraction: float | None = None
    seconds: float = 0.0
    #: the region threshold ``findings`` were cut at, and how to cut them again (None: cannot)
    threshold: float | None = None
    source: FindingSource | None = field(default=None, repr=False)
    #: (x, y) stored pixels of the nipple (:func:`mammoview.cad.landmarks.nipple_point`); None: unknown
    nipple: tuple[float, float] | None = None
    #: the spacing was guessed (:func:`mammoview.cad.cad_input.estimate_spacing`): the file had none
    spacing_estimated: bool = False
    #: the file says a breast implant is present (Breast Implant Present (0028,1300)): the CAD was not validated on them
    implant: bool = False
    #: a synthesized 2-D view (Image Type GENERATED_2D, from tomosynthesis): the CAD learned screen-film exposures
    synthesized: bool = False

    @property
    def breast_found(self) -> bool | None:
        """False: no breast in the image, the CAD read nothing (its scores of 0 are no normal reading); None: not
        measured."""
        return None if self.breast_mask_fraction is None else self.breast_mask_fraction > 0.0

    def nipple_distance_mm(self, x: float, y: float) -> float | None:
        """mm from the nipple to stored pixel (x, y), with the spacing the CAD used; None without a nipple."""
        if self.nipple is None or self.pixel_spacing is None:
            return None
        row_mm, col_mm = self.pixel_spacing
        return float(np.hypot((x - self.nipple[0]) * col_mm, (y - self.nipple[1]) * row_mm))

    def at_threshold(self, threshold: float) -> ImageCadResult:
        """This result with its findings cut again at ``threshold`` (scores and heatmaps unchanged).

        Each finding's region and contour are those of the new threshold (cutting at a loose
        threshold and filtering would keep the loose threshold's larger, merged regions).
        """
        if threshold == self.threshold:
            return self
        if self.source is None:
            raise ValueError(f"{self.path}: this result kept no maps to cut findings at another threshold")
        return replace(self, findings=self.source.findings(threshold), threshold=threshold)

    def to_json(self, rates: bool = False) -> dict[str, object]:
        """The detect JSON's image entry (``rates``: see :meth:`Finding.to_json`)."""
        view = self.view
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "laterality": view.laterality.value if view else None,
            "view": view.projection.value if view else None,
            "pixel_spacing": list(self.pixel_spacing) if self.pixel_spacing else None,
            "scores": {"abnormal": json_probability(self.abnormal), "malignant": json_probability(self.malignant)},
            "findings": [f.to_json(rates) for f in self.findings],
        }


#: BI-RADS (5th edition) breast composition categories, in the density network's output order.
DENSITY_CATEGORIES = ("a", "b", "c", "d")


@dataclass(frozen=True)
class DensityResult:
    """Probabilities of the four density categories (sum 1) for a view or a breast."""

    probabilities: tuple[float, float, float, float]
    n_views: int = 1

    @property
    def category(self) -> str:
        return DENSITY_CATEGORIES[int(np.argmax(self.probabilities))]

    @property
    def dense(self) -> float:
        """P(heterogeneously or extremely dense): c + d, the "dense breast" of notification rules."""
        return float(self.probabilities[2] + self.probabilities[3])

    @property
    def expected(self) -> float:
        """The expected category, 0 (a) ... 3 (d): orders two results of the same category."""
        return float(sum(k * p for k, p in enumerate(self.probabilities)))

    @property
    def text(self) -> str:
        """``"density C (0.62)"``: the most probable category and its probability."""
        return f"density {self.category.upper()} ({max(self.probabilities):.2f})"

    def to_json(self) -> dict[str, object]:
        return {"category": self.category, "probabilities": [round(float(p), 4) for p in self.probabilities],
                "dense": round(self.dense, 4), "views": self.n_views}  # fmt: skip


def denser_breast(breasts: Mapping[K, DensityResult]) -> tuple[K, DensityResult] | None:
    """The exam's density: BI-RADS (5th ed.) grades an exam with unequal breasts by the denser one.

    The breast with the higher category wins, then the higher expected category; None without any.
    """
    if not breasts:
        return None
    return max(breasts.items(), key=lambda kv: (kv[1].category, kv[1].expected))


@dataclass(frozen=True)
class BreastScore:
    laterality: Laterality
    abnormal: float
    malignant: float
    n_views: int
    density: DensityResult | None = None


@dataclass(frozen=True)
class SkippedImage:
    """An image of a study the CAD refused, and why."""

    label: str  # its view ("L MLO"), else its file name
    file: str  # its file name
    reason: str

    @property
    def where(self) -> str:
        """``"L MLO (1-281.dcm)"``."""
        return f"{self.label} ({self.file})"


@dataclass(frozen=True, eq=False)
class StudyCadResult:
    model: ModelInfo
    images: tuple[ImageCadResult, ...]
    breasts: dict[Laterality, BreastScore]
    abnormal: float  # exam level
    malignant: float
    device: str = "cpu"
    seconds: float = 0.0
    density_model: ModelInfo | None = None  # the density network behind ``breasts[...].density``
    malignancy_model: ModelInfo | None = None  # the second-stage network behind the malignancy (None: the detector)
    #: views the CAD refused (e.g. an image larger than a mammogram at its spacing)
    skipped: tuple[SkippedImage, ...] = ()

    @property
    def graded_breasts(self) -> dict[Laterality, DensityResult]:
        """The breasts a density model graded."""
        return {lat: b.density for lat, b in self.breasts.items() if b.density is not None}

    @property
    def exam_density(self) -> tuple[Laterality, DensityResult] | None:
        """(denser breast, its density) when a density model ran (:func:`denser_breast`)."""
        return denser_breast(self.graded_breasts)

    def at_threshold(self, threshold: float) -> StudyCadResult:
        """Every image's findings cut again at ``threshold`` (:meth:`ImageCadResult.at_threshold`)."""
        images = tuple(r.at_threshold(threshold) for r in self.images)
        if all(a is b for a, b in zip(images, self.images, strict=True)):
            return self
        return replace(self, images=images)
