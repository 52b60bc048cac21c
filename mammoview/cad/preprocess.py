"""From a presentation image to the network's input grid, identically for training and inference.

One function, :func:`prepare`, is the only road from pixels to the network, so the
patches the model learned from and the whole images it later reads are made the same
way.  Steps, in order:

1. resample the presentation image (float, tissue bright, [0, 1]) from its own pixel
   spacing to the model's isotropic ``pixel_size_mm`` (area-averaging when shrinking;
   this also undoes anisotropic pixels such as the stretched CBIS-DDSM JPEGs;
   :mod:`mammoview.cad.resample`);
2. breast mask: Otsu threshold + largest connected component + holes filled, after
   cutting a thin border band so film edges, labels and scanner marks that touch the
   border do not join the breast (:mod:`mammoview.cad.breast_mask`; optionally minus the
   pectoral muscle on MLO views);
3. optional filters the paper names (each a switch): morphological opening/closing,
   Gaussian smoothing, CLAHE;
4. intensity normalisation inside the breast (robust z-score: median / MAD), clipped;
5. optional Sobel edge magnitude as a second input channel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
from scipy import ndimage as ndi
from skimage import exposure, filters, morphology

from mammoview.cad.breast_mask import BoolArray, breast_mask
from mammoview.cad.cad_input import check_extent, estimate_spacing
from mammoview.cad.landmarks import chest_wall_side, pectoral_mask
from mammoview.cad.resample import FloatArray, brighter_half, resample
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MammoImage


@dataclass(frozen=True)
class PreprocessConfig:
    """The preprocessing switches; saved with the weights in ``models/manifest.json``."""

    pixel_size_mm: float = 0.3
    normalization: Literal["zscore", "percentile"] = "zscore"
    clip: float = 4.0
    remove_pectoral: bool = False
    clahe: bool = False
    clahe_clip_limit: float = 0.01
    clahe_kernel_mm: float = 30.0
    gaussian_sigma_mm: float = 0.0
    morphology: Literal["none", "open", "close", "open-close"] = "none"
    morphology_radius_mm: float = 0.6
    sobel_channel: bool = False

    @property
    def in_channels(self) -> int:
        return 2 if self.sobel_channel else 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PreprocessConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown preprocessing option(s): {', '.join(sorted(unknown))}")
        return cls(**d)


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """Network input for one image on the model grid, and how it maps back.

    Model pixel (i, j) covers stored rows ``[i * scale_y, (i + 1) * scale_y)`` and
    stored columns ``[j * scale_x, (j + 1) * scale_x)``.
    """

    data: FloatArray  # (C, H, W) float32
    mask: BoolArray  # (H, W) breast mask
    scale_y: float  # stored rows per model pixel
    scale_x: float  # stored columns per model pixel
    stored_shape: tuple[int, int]
    spacing: PixelSpacing
    pixel_size_mm: float

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.mask.shape[0]), int(self.mask.shape[1]))


def normalize(image: FloatArray, mask: BoolArray, method: str, clip: float) -> FloatArray:
    """Robust intensity normalisation from the breast pixels only."""
    vals = image[mask] if mask.any() else image.ravel()
    if method == "zscore":
        med = float(np.median(vals))
        mad = float(np.median(np.abs(vals - med))) * 1.4826
        scale = mad if mad > 1e-6 else float(vals.std()) + 1e-6
        out = (image - med) / scale
    elif method == "percentile":
        lo, hi = np.percentile(vals, [1.0, 99.0])
        out = (image - lo) / max(float(hi - lo), 1e-6) * 2.0 - 1.0
    else:
        raise ValueError(f"unknown normalization {method!r}")
    result: FloatArray = np.clip(out, -clip, clip).astype(np.float32)
    return result


def _filters(image: FloatArray, cfg: PreprocessConfig) -> FloatArray:
    out = image
    px = cfg.pixel_size_mm
    if cfg.morphology != "none":
        fp = morphology.disk(max(1, round(cfg.morphology_radius_mm / px)))  # type: ignore[no-untyped-call]
        if "open" in cfg.morphology:
            out = ndi.grey_opening(out, footprint=fp)
        if "close" in cfg.morphology:
            out = ndi.grey_closing(out, footprint=fp)
    if cfg.gaussian_sigma_mm > 0:
        out = ndi.gaussian_filter(out, cfg.gaussian_sigma_mm / px)
    if cfg.clahe:
        kernel = max(8, round(cfg.clahe_kernel_mm / px))
        out = exposure.equalize_adapthist(np.clip(out, 0, 1), kernel_size=kernel, clip_limit=cfg.clahe_clip_limit)
    return np.asarray(out, dtype=np.float32)


def resampled_breast(
    presentation: FloatArray,
    spacing: PixelSpacing,
    pixel_size_mm: float,
    chest_wall: Literal["left", "right"] | None = None,
) -> tuple[FloatArray, BoolArray]:
    """``presentation`` resampled to ``pixel_size_mm`` (its block means anchored at the chest wall: ``chest_wall``,
    else the brighter half) and its :func:`breast_mask`: the first steps of :func:`prepare`.

    Raises
    ------
    ImageRefused
        When the image, at ``spacing``, is larger than :data:`MAX_EXTENT_MM` on a side.
    """
    check_extent(presentation.shape, spacing)
    right = chest_wall == "right" if chest_wall is not None else brighter_half(presentation) == "right"
    img = resample(presentation, (spacing.row_mm, spacing.col_mm), pixel_size_mm, chest_wall_right=right)
    return img, breast_mask(img, pixel_size_mm)


def prepare(
    presentation: FloatArray,
    spacing: PixelSpacing,
    cfg: PreprocessConfig,
    *,
    is_mlo: bool = False,
    chest_wall: Literal["left", "right"] | None = None,
) -> PreparedImage:
    """Resample, segment, filter and normalise one presentation image (see module docstring).

    Raises
    ------
    ImageRefused
        When the image, at ``spacing``, is larger than :data:`MAX_EXTENT_MM` on a side.
    """
    rows, cols = presentation.shape
    img, mask = resampled_breast(presentation, spacing, cfg.pixel_size_mm, chest_wall)
    if cfg.remove_pectoral and is_mlo and mask.any():
        side = chest_wall or chest_wall_side(mask)
        mask = mask & ~pectoral_mask(img, mask, side, cfg.pixel_size_mm)
    img = _filters(img, cfg)
    norm = normalize(img, mask, cfg.normalization, cfg.clip)
    channels = [norm]
    if cfg.sobel_channel:
        edges = filters.sobel(norm)  # type: ignore[no-untyped-call]
        channels.append(normalize(edges, mask, "zscore", cfg.clip))
    data = np.stack(channels).astype(np.float32)
    return PreparedImage(
        data=data,
        mask=mask,
        scale_y=rows / img.shape[0],
        scale_x=cols / img.shape[1],
        stored_shape=(rows, cols),
        spacing=spacing,
        pixel_size_mm=cfg.pixel_size_mm,
    )


def presentation_of(image: MammoImage) -> FloatArray:
    """The image's presentation values (float32, tissue bright), what every network's :func:`prepare` starts from.

    The full range of the values present is mapped to [0, 1] (modality LUT, MONOCHROME1 inversion and padding
    as the viewer applies them), whatever display window the header holds: every network learned from files
    without one (CBIS-DDSM, mini-MIAS, MAGIC-5), the robust z-score of :func:`normalize` makes an unclipped
    linear window no different, and a window that clips the breast (one that whited it out left the detector a
    flat image) must not reach them.
    """
    from mammoview.io.pixels import to_presentation  # io layer; imported late to keep start-up light

    return np.asarray(to_presentation(image.stored, image.info.chain, None), dtype=np.float32)


def prepare_image(
    image: MammoImage,
    cfg: PreprocessConfig,
    spacing: PixelSpacing | None = None,
    presentation: FloatArray | None = None,
) -> PreparedImage:
    """:func:`prepare` for a loaded image: presentation values (``presentation``: already computed by
    :func:`presentation_of`, when several networks prepare the same image), its spacing (or an estimate)."""
    pres = presentation_of(image) if presentation is None else presentation
    sp = spacing or image.info.spacing or estimate_spacing(*image.shape)
    proj = image.info.projection.value
    is_mlo = proj is not None and proj.slot is not None and proj.slot.value == "MLO"
    return prepare(pres, sp, cfg, is_mlo=is_mlo)
