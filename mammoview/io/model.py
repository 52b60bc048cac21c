"""Typed values that cross layer boundaries: views, decisions, images and studies.

Everything here is a frozen dataclass or an enum; no Qt, no torch.  An image's
*stored pixel grid* (rows x columns as decoded from the file, before any display
flip) is the one coordinate system shared by io, cad, the CLI JSON and the GUI:
x = column, y = row, origin top-left.

The pixel chain's values are in :mod:`mammoview.io.chain_model`, the header's in
:mod:`mammoview.io.header_model`.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from mammoview.io.chain_model import PixelChain
from mammoview.io.header_model import ImageMeta, Orientation, PixelSpacing

T = TypeVar("T")


class LoadError(Exception):
    """A file could not be read as a mammogram.

    ``str(err)`` is one line naming the file and the reason; the CLI prints exactly
    that and the GUI shows it in a message.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[LoadError], tuple[Path, str]]:
        """Pickled with its path and reason (the slice helper process returns one; by ``args`` alone unpickling it
        failed, which broke the helper's pool and decoded the slice a second time in the viewer's process)."""
        return (type(self), (self.path, self.reason))


class NotAnImage(LoadError):
    """A DICOM object that is not an image (a structured report such as a CAD SR, a presentation state, a key
    object selection, an encapsulated PDF...): found inside a folder it is skipped, named explicitly it is an error.
    """


class Laterality(enum.Enum):
    RIGHT = "R"
    LEFT = "L"

    @property
    def word(self) -> str:
        return "right" if self is Laterality.RIGHT else "left"


class Projection(enum.Enum):
    """Mammographic projections (DICOM CID 4014 view codes we recognise)."""

    CC = "CC"
    MLO = "MLO"
    ML = "ML"
    LM = "LM"
    XCCL = "XCCL"
    XCCM = "XCCM"
    FB = "FB"
    SIO = "SIO"
    LMO = "LMO"
    AT = "AT"
    CV = "CV"
    ISO = "ISO"  # inferomedial to superolateral oblique (SRT R-40AAA / SCT 441555000)

    @property
    def slot(self) -> Projection | None:
        """The hanging-protocol row this projection is shown in (CC or MLO), if any."""
        if self in (Projection.CC, Projection.XCCL, Projection.XCCM, Projection.FB, Projection.CV):
            return Projection.CC
        if self in (Projection.MLO, Projection.ML, Projection.LM, Projection.SIO, Projection.LMO, Projection.ISO):
            return Projection.MLO
        return None


class View(enum.Enum):
    """The four screening views, in hanging-protocol reading order."""

    RCC = "RCC"
    LCC = "LCC"
    RMLO = "RMLO"
    LMLO = "LMLO"

    @property
    def laterality(self) -> Laterality:
        return Laterality.RIGHT if self.value.startswith("R") else Laterality.LEFT

    @property
    def projection(self) -> Projection:
        return Projection.CC if self.value.endswith("CC") else Projection.MLO

    @property
    def label(self) -> str:
        """Short label as radiologists write it, e.g. ``"R CC"``."""
        return f"{self.laterality.value} {self.projection.value}"

    @classmethod
    def from_parts(cls, laterality: Laterality | None, projection: Projection | None) -> View | None:
        if laterality is None or projection is None or projection.slot is None:
            return None
        return cls(f"{laterality.value}{projection.slot.value}")


@dataclass(frozen=True)
class Decision(Generic[T]):
    """A value with the reason it was chosen (shown by ``mammoview info``).

    ``value`` is None when unknown; ``source`` names the rule, e.g.
    ``"Laterality (0020,0060)"`` or ``"file name pattern _LEFT_CC"``; ``detail`` holds
    the raw text that decided it.
    """

    value: T | None
    source: str
    detail: str = ""

    @property
    def known(self) -> bool:
        return self.value is not None

    def describe(self) -> str:
        shown = getattr(self.value, "value", self.value)
        text = f"{shown} from {self.source}" if shown is not None else f"unknown ({self.source})"
        return f"{text} ({self.detail})" if self.detail else text


#: The smaller side of a whole-breast mammogram is at least about this many mm, and no side is over the second (films
#: and detectors are at most ~30 cm): outside, the pixel spacing (or the image) is wrong.
MIN_EXTENT_MM = 20.0
MAX_EXTENT_MM = 600.0


@dataclass(frozen=True)
class DisplayTransform:
    """How to show the stored grid in the hanging protocol: flips, and why."""

    flip_horizontal: bool = False
    flip_vertical: bool = False
    chest_wall_side: str = "unknown"  # side of the *display* the chest wall ends up on: "left" | "right"
    source: str = "none"
    #: the tags decided, but the pixels plainly say otherwise (for the reader to check); "" when they agree
    warning: str = ""
    #: Patient Orientation says the image is stored a quarter turn from the hanging position (the chest wall along
    #: the top or bottom): shown as stored (no rotation here), and the CAD gives no nipple
    quarter_turn: bool = False


@dataclass(frozen=True)
class ImageInfo:
    """What is known about an image file without decoding its pixels."""

    path: Path
    file_format: str  # "DICOM", "PNG", "JPEG", "PGM", "TIFF"
    rows: int
    columns: int
    laterality: Decision[Laterality]
    projection: Decision[Projection]
    spacing: PixelSpacing | None
    photometric: str
    transfer_syntax: str  # DICOM transfer syntax name, or the raster format
    chain: PixelChain
    orientation: Orientation = Orientation()  # noqa: RUF009 (a frozen dataclass: one shared default is safe)
    meta: ImageMeta = ImageMeta()  # noqa: RUF009 (frozen too)
    warnings: tuple[str, ...] = ()
    frames: int = 1  # Number of Frames (0028,0008); decoded one at a time (the first on opening)
    #: each frame's chain where the frames rescale or window differently (Per-Frame Functional Groups, PS3.3
    #: C.7.6.16.2.9-10; chain.frame_chains), ``()`` where every frame has ``chain``: ``chain`` is the chain of the
    #: frame decoded (reader.decode_frame sets it), this the volume's
    frame_chains: tuple[PixelChain, ...] = ()
    #: the file's (size, modification time in ns) when its header was read (None: not known, nothing checked)
    stamp: tuple[int, int] | None = None

    @property
    def view(self) -> View | None:
        return View.from_parts(self.laterality.value, self.projection.value)

    @property
    def tomosynthesis(self) -> bool:
        """A multi-frame image (a tomosynthesis volume), or any object of a tomosynthesis SOP Class (a 1-frame
        slice too): it hangs behind the 2-D views and the CAD does not read it."""
        return self.frames > 1 or self.meta.tomosynthesis

    def same_image(self, other: ImageInfo | None) -> bool:
        """Whether ``other`` is this image's header, maybe of another of its frames: a slice read with its own
        frame's chain (``frame_chains``), or decoded in another process (a copy, the decoder's warnings added), has a
        header object of its own."""
        if other is None or other is self:
            return other is self
        same = replace(other, chain=self.chain, frame_chains=self.frame_chains, warnings=self.warnings)
        return self.frames > 1 and same == self

    def changed_on_disk(self) -> str | None:
        """Why the file is no longer the one whose header this is, or None (unchanged, gone, or not known).

        A worklist's studies are decoded as the reader reaches them, maybe hours after the scan: a file rewritten
        meanwhile (an export run again, another image written under its name) read with this header would hang its
        pixels as the view, side and woman the old header named."""
        if self.stamp is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:  # gone or unreadable: the decode says so
            return None
        if (st.st_size, st.st_mtime_ns) == self.stamp:
            return None
        return (
            "the file changed on disk after its header was read (size or modification time): open it again to "
            "read it as it is now"
        )

    def extent_problem(self, smallest: float = MIN_EXTENT_MM) -> str | None:
        """What is wrong with the image's size in mm at its (measured or given) spacing, or None: a spacing that makes
        it smaller than ``smallest`` (a patch has no least size: 0) or larger than :data:`MAX_EXTENT_MM` is no
        mammogram's."""
        sp = self.spacing
        if sp is None or sp.estimated or self.rows <= 0 or self.columns <= 0:
            return None
        height, width = self.rows * sp.row_mm, self.columns * sp.col_mm
        if max(height, width) <= MAX_EXTENT_MM and min(height, width) >= smallest:
            return None
        return (f"pixel spacing {sp.row_mm:.4g} x {sp.col_mm:.4g} mm ({sp.source}) makes the image {height:.4g} x "
                f"{width:.4g} mm, no mammogram's size: lengths and positions in mm use it; check it")  # fmt: skip

    @property
    def spacing_text(self) -> str:
        if self.spacing is None:
            return "spacing unknown"
        return f"{self.spacing.row_mm:.4g} x {self.spacing.col_mm:.4g} mm ({self.spacing.source})"

    def with_view(self, view: View, source: str = "assigned by reader") -> ImageInfo:
        """Return a copy whose laterality and projection are set by the reader."""
        projection = self.projection.value
        if projection is None or projection.slot is not view.projection:
            projection = view.projection
        return replace(
            self,
            laterality=Decision(view.laterality, source),
            projection=Decision(projection, source),
        )


@dataclass(frozen=True, eq=False)
class MammoImage:
    """A decoded image: header info plus the stored pixel values (read-only, not rescaled).

    ``stored`` keeps the file's integer type (uint8/uint16/int16...); display and CAD
    apply :class:`PixelChain` themselves, so 16-bit data stay 16-bit until display.
    """

    info: ImageInfo
    stored: npt.NDArray[np.generic]
    display: DisplayTransform = DisplayTransform()
    frame: int = 0  # which frame of a multi-frame image (a tomosynthesis slice) ``stored`` is, 0-based

    def __post_init__(self) -> None:
        if self.stored.ndim != 2:
            raise ValueError(f"{self.info.path}: expected a 2-D image, got shape {self.stored.shape}")
        if self.stored.flags.writeable:
            self.stored.flags.writeable = False

    @property
    def path(self) -> Path:
        return self.info.path

    @property
    def view(self) -> View | None:
        return self.info.view

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.stored.shape[0]), int(self.stored.shape[1]))

    def with_info(self, info: ImageInfo) -> MammoImage:
        return replace(self, info=info)

    def adopt_pixels(self, stored: npt.NDArray[np.generic]) -> None:
        """Take the full decode's pixels in place of a preview's (:mod:`mammoview.io.preview`), in place.

        The one change an image ever sees: whatever holds the preview (the viewer's panels, hanging, CAD inputs
        asked for later) then holds the full image, and coordinates need no mapping (a preview has the stored
        grid).  Same shape and type only; call it where nothing reads the pixels meanwhile (the viewer's thread).
        """
        if stored.shape != self.stored.shape or stored.dtype != self.stored.dtype:
            raise ValueError(f"{self.info.path}: full decode {stored.dtype} {stored.shape} does not match the "
                             f"preview's {self.stored.dtype} {self.stored.shape}")  # fmt: skip
        if stored.flags.writeable:
            stored.flags.writeable = False
        object.__setattr__(self, "stored", stored)  # frozen for everything else


@dataclass(frozen=True)
class ScanResult:
    """What :func:`mammoview.io.scan_paths` found: readable image headers and per-file errors."""

    images: tuple[ImageInfo, ...] = ()
    errors: tuple[LoadError, ...] = ()


@dataclass(frozen=True)
class StudyInfo:
    """Images grouped into one study (headers only)."""

    key: str  # StudyInstanceUID, CBIS-DDSM patient id (P_xxxxx), or folder
    key_source: str  # which rule grouped them
    images: tuple[ImageInfo, ...]

    @property
    def meta(self) -> ImageMeta:
        return self.images[0].meta if self.images else ImageMeta()

    @property
    def title(self) -> str:
        m = self.meta
        parts = [p for p in (m.patient_name or m.patient_id, m.study_date, self.key) if p]
        return " | ".join(parts)


@dataclass(frozen=True)
class Hanging:
    """Assignment of a study's images to the four panels of the 2x2 protocol.

    ``panels[view]`` is the image shown; ``alternatives[view]`` holds other images
    claiming the same view (kept, selectable, and warned about); ``unplaced`` holds
    images whose view is unknown (the reader can assign them from a menu).  ``missing`` names the views with no
    image (e.g. "no image for R CC, L CC"): said, but no problem to click away, since whole collections lack
    views (mini-MIAS has MLO views only) and nothing failed.
    """

    panels: Mapping[View, MammoImage | None]
    alternatives: Mapping[View, tuple[MammoImage, ...]] = field(default_factory=dict)
    unplaced: tuple[MammoImage, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # worth saying, not a problem (e.g. a tomosynthesis volume behind a view)
    missing: str = ""


@dataclass(frozen=True)
class Study:
    """A decoded study ready for viewing or CAD."""

    info: StudyInfo
    images: tuple[MammoImage, ...]
    errors: tuple[LoadError, ...] = ()

    @property
    def key(self) -> str:
        return self.info.key

    def by_view(self) -> dict[View, list[MammoImage]]:
        out: dict[View, list[MammoImage]] = {v: [] for v in View}
        for img in self.images:
            if img.view is not None:
                out[img.view].append(img)
        return out
