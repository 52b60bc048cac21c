"""The pixel chain as typed values: Modality LUT or rescale, VOI windows and LUTs, and the chain that holds them.

Frozen dataclasses and an enum, no Qt, no torch: :mod:`mammoview.io.chain` parses them from a DICOM header and
:mod:`mammoview.io.pixels` applies them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


class VoiFunction(enum.Enum):
    """VOI LUT Function (0028,1056), PS3.3 C.11.2.1.3."""

    LINEAR = "LINEAR"
    LINEAR_EXACT = "LINEAR_EXACT"
    SIGMOID = "SIGMOID"


@dataclass(frozen=True)
class VoiWindow:
    """One Window Center/Width pair (PS3.3 C.11.2.1.2)."""

    center: float
    width: float
    function: VoiFunction = VoiFunction.LINEAR
    explanation: str = ""

    def __post_init__(self) -> None:
        # LINEAR: width >= 1 (PS3.3 C.11.2.1.2.1); LINEAR_EXACT and SIGMOID: width > 0 (C.11.2.1.3.2, C.11.2.1.3.1),
        # so a SIGMOID window 0.5 wide is valid (a near step at the centre)
        if self.function is VoiFunction.LINEAR and not self.width >= 1:
            raise ValueError("(0028,1051) Window Width must be >= 1 for LINEAR")
        if not self.width > 0:
            raise ValueError(f"(0028,1051) Window Width must be > 0 for {self.function.value}")


@dataclass(frozen=True, eq=False)
class VoiLut:
    """One item of the VOI LUT Sequence (0028,3010)."""

    first_mapped: int
    data: npt.NDArray[np.integer]  # output values, bits given by the descriptor
    output_bits: int
    explanation: str = ""


@dataclass(frozen=True, eq=False)
class ModalityTransform:
    """Modality LUT (PS3.3 C.11.1): either rescale slope/intercept or a LUT table."""

    slope: float = 1.0
    intercept: float = 0.0
    lut_first_mapped: int | None = None
    lut_data: npt.NDArray[np.integer] | None = None
    source: str = "identity"

    @property
    def is_identity(self) -> bool:
        return self.lut_data is None and self.slope == 1.0 and self.intercept == 0.0


@dataclass(frozen=True, eq=False)
class PixelChain:
    """Everything needed to turn stored values into display values, parsed once.

    The order applied by :mod:`mammoview.io.pixels` is fixed:
    modality LUT -> VOI (window or VOI LUT) -> MONOCHROME1 inversion -> padding mask.
    """

    bits_stored: int
    signed: bool
    photometric: str  # "MONOCHROME1" | "MONOCHROME2"
    modality: ModalityTransform = field(default_factory=ModalityTransform)
    windows: tuple[VoiWindow, ...] = ()
    voi_luts: tuple[VoiLut, ...] = ()
    padding_value: int | None = None
    padding_range_limit: int | None = None
    #: Presentation LUT Shape (2050,0020) INVERSE on a MONOCHROME2 image: the Presentation LUT inverts it
    presentation_inverse: bool = False

    @property
    def inverted(self) -> bool:
        return self.photometric == "MONOCHROME1" or self.presentation_inverse
