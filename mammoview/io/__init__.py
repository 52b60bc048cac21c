"""Studies from disk: DICOM and raster readers, the pixel chain, view/laterality (no Qt, no torch).

Public entry points (see each docstring): :func:`read_image`, :func:`read_info`,
:func:`scan_paths`, :func:`group_studies`, :func:`load_study`, :func:`open_paths`,
:func:`hang`, :func:`display_transform`, :func:`chest_wall_side_stored`; the pixel
chain lives in :mod:`mammoview.io.pixels`.
"""

from mammoview.io.chain_model import PixelChain, VoiFunction, VoiLut, VoiWindow
from mammoview.io.hanging import hang
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import (
    Decision,
    DisplayTransform,
    Hanging,
    ImageInfo,
    Laterality,
    LoadError,
    MammoImage,
    NotAnImage,
    Projection,
    ScanResult,
    Study,
    StudyInfo,
    View,
)
from mammoview.io.orientation import chest_wall_side_stored, display_transform
from mammoview.io.reader import decode, read_image, read_info
from mammoview.io.scan import scan_paths
from mammoview.io.study import group_studies, load_study, open_paths

__all__ = [
    "Decision",
    "DisplayTransform",
    "Hanging",
    "ImageInfo",
    "Laterality",
    "LoadError",
    "MammoImage",
    "NotAnImage",
    "PixelChain",
    "PixelSpacing",
    "Projection",
    "ScanResult",
    "Study",
    "StudyInfo",
    "View",
    "VoiFunction",
    "VoiLut",
    "VoiWindow",
    "chest_wall_side_stored",
    "decode",
    "display_transform",
    "group_studies",
    "hang",
    "load_study",
    "open_paths",
    "read_image",
    "read_info",
    "scan_paths",
]
