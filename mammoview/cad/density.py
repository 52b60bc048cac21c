"""Breast density: BI-RADS composition category a-d of each view and breast, from a whole-breast CNN.

Density is a property of the whole breast, not of a patch, so this network sees the whole
breast at a coarse pixel size (``pixel_size_mm`` of its manifest entry, 1-2 mm): the image
goes through the same :func:`~mammoview.cad.preprocess.prepare` road as the CAD (resampling,
breast mask, robust z-score inside the breast), then :func:`breast_canvas` puts the breast
on a fixed canvas -- chest wall on the left, cropped to the breast's rows and columns,
centred vertically, zero outside the breast -- and the network's four outputs are a
softmax over the categories.  A view's probabilities are averaged with those of its mirror
image (up-down), and a breast's are the mean of its views'.

Trained on the CBIS-DDSM ``breast_density`` labels (ACR / BI-RADS 4th edition 1-4, mapped
to a-d); see ``models/MODEL_CARD.md`` ("Breast density").  Research use only, like the CAD.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import torch

from mammoview.cad.breast_mask import STRUCTURE_MAX_MM
from mammoview.cad.cad_input import estimate_spacing
from mammoview.cad.landmarks import chest_wall_side
from mammoview.cad.preprocess import PreparedImage, PreprocessConfig, prepare_image, presentation_of, resampled_breast
from mammoview.cad.types import DENSITY_CATEGORIES, DensityResult
from mammoview.cad.view_read import ViewRead, read_view
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MammoImage

FloatArray = npt.NDArray[np.float32]

CATEGORIES = DENSITY_CATEGORIES
DESCRIPTIONS = {
    "a": "almost entirely fatty",
    "b": "scattered fibroglandular",
    "c": "heterogeneously dense",
    "d": "extremely dense",
}
#: The manifest's ``task`` of a density model.
TASK = "density"
#: The shipped detector's grid (mm), at which a view is found to hold a breast or not
#: (``breast_mask.STRUCTURE_MAX_MM``).
DETECTOR_GRID_MM = 0.3


def breast_canvas(prepared: PreparedImage, shape: tuple[int, int]) -> FloatArray:
    """The breast of ``prepared`` on a ``shape`` (rows, cols) canvas, chest wall on the left, zero elsewhere.

    Rows are cropped to the breast and centred (the middle rows kept when it is taller
    than the canvas); columns run from the chest wall (the breast's first column) towards
    the nipple, cut at the canvas width.  An image without breast gives an all-zero canvas.
    """
    data, mask = prepared.data[0], prepared.mask
    out = np.zeros(shape, np.float32)
    if not mask.any():
        return out
    if chest_wall_side(mask) == "right":
        data, mask = data[:, ::-1], mask[:, ::-1]
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = np.where(mask, data, 0.0)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = min(shape[0], crop.shape[0]), min(shape[1], crop.shape[1])
    top = (crop.shape[0] - h) // 2
    oy = (shape[0] - h) // 2
    out[oy : oy + h, :w] = crop[top : top + h, :w]
    return out


def predict(net: torch.nn.Module, canvases: FloatArray, device: torch.device | str = "cpu") -> npt.NDArray[np.float64]:
    """Category probabilities (N, 4) of canvases (N, H, W), averaged with their up-down mirrors."""
    x = torch.from_numpy(np.ascontiguousarray(canvases[:, None], dtype=np.float32)).to(device)
    with torch.no_grad():
        p = (net(x).softmax(1) + net(x.flip(2)).softmax(1)) / 2
    out: npt.NDArray[np.float64] = p.double().cpu().numpy()
    return out


def density_canvas(model: object, image: MammoImage, presentation: FloatArray | None = None) -> FloatArray:
    """``image``'s input to the density ``model`` (:func:`view_canvas`), from its presentation values if given."""
    from mammoview.cad.weights import LoadedModel

    assert isinstance(model, LoadedModel)
    return view_canvas(image, model.preprocess, canvas_shape(model.entry.extra), presentation)


def view_canvas(
    image: MammoImage, preprocess: PreprocessConfig, shape: tuple[int, int], presentation: FloatArray | None = None
) -> FloatArray:
    """A view's density canvas (:func:`breast_canvas` of the ``prepare`` road), as training and inference make it.

    Read as the CAD reads it (:func:`~mammoview.cad.view_read.read_view`): upright, and without a black border
    beyond the chest wall: the canvas is cropped to the breast, but on its coarse grid the cell across the chest wall
    and the black beyond it joined the breast as a dark column (10 mm of black beyond the demo R CC's chest wall
    moved its category from c to d).
    """
    read = read_view(image, presentation)
    return _canvas_of(read.image, preprocess, shape, read.presentation, read.spacing)


def read_canvas(model: object, read: ViewRead) -> FloatArray:
    """The density ``model``'s canvas of a view as the CAD read it (:func:`~mammoview.cad.view_read.read_view`:
    :func:`~mammoview.cad.pipeline.analyse_study` hands it over, so the border is looked for once)."""
    from mammoview.cad.weights import LoadedModel

    assert isinstance(model, LoadedModel)
    return _canvas_of(read.image, model.preprocess, canvas_shape(model.entry.extra), read.presentation, read.spacing)


def _canvas_of(image: MammoImage, preprocess: PreprocessConfig, shape: tuple[int, int], presentation: FloatArray,
               spacing: PixelSpacing) -> FloatArray:  # fmt: skip
    return breast_canvas(prepare_image(image, preprocess, spacing, presentation=presentation), shape)


def breast_at_detector_grid(
    image: MammoImage, presentation: FloatArray | None = None, spacing: PixelSpacing | None = None
) -> bool:
    """Whether :func:`~mammoview.cad.breast_mask.breast_mask` finds a breast in ``image`` at the detector's grid
    (:data:`DETECTOR_GRID_MM`), where the blank-exposure rule runs (``breast_mask.STRUCTURE_MAX_MM``): the density
    model's coarse grid takes a blank exposure with the heel effect for a breast.  ``spacing``: what the image is
    read at (else the file's, else estimated)."""
    pres = presentation_of(image) if presentation is None else presentation
    sp = spacing or image.info.spacing or estimate_spacing(*image.shape)
    return bool(resampled_breast(pres, sp, DETECTOR_GRID_MM)[1].any())


def _canvas(model: object, image: MammoImage) -> FloatArray:
    """:func:`density_canvas`, all zero where the detector's grid finds no breast (what :func:`analyse_study`
    decides by the detector's word): without the detector, as `mammoview density` runs.  The view is read as
    :func:`~mammoview.cad.pipeline.analyse_study` reads it (:func:`~mammoview.cad.view_read.read_view`)."""
    from mammoview.cad.weights import LoadedModel

    assert isinstance(model, LoadedModel)
    read = read_view(image)
    canvas = read_canvas(model, read)
    if (canvas.any() and model.preprocess.pixel_size_mm > STRUCTURE_MAX_MM
            and not breast_at_detector_grid(read.image, read.presentation, read.spacing)):  # fmt: skip
        return np.zeros_like(canvas)
    return canvas


def assess(
    model: object, images: Sequence[MammoImage], canvases: Mapping[str, FloatArray] | None = None
) -> dict[str, DensityResult]:
    """Density of each image (key: its path as a string), with ``model`` a density :class:`LoadedModel`;
    ``canvases``: inputs already made (:func:`density_canvas`, by path), the others are made here.
    An image without breast (an all-zero canvas: a blank exposure, no mammogram) is left out: the network's output
    on nothing is its prior, no density of any breast.  Where the canvas is made here, the breast is also looked
    for at the detector's grid (:func:`breast_at_detector_grid`): at the density model's coarse grid a blank exposure
    with the heel effect is taken for a breast."""
    from mammoview.cad.weights import LoadedModel

    assert isinstance(model, LoadedModel)
    made = canvases or {}
    inputs = {str(im.path): made[str(im.path)] if str(im.path) in made else _canvas(model, im)
              for im in images}  # fmt: skip
    graded = [im for im in images if inputs[str(im.path)].any()]
    if not graded:
        return {}
    probs = predict(model.inference_net, np.stack([inputs[str(im.path)] for im in graded]), model.device)
    return {str(im.path): DensityResult((float(p[0]), float(p[1]), float(p[2]), float(p[3])))
            for im, p in zip(graded, probs, strict=True)}  # fmt: skip


def per_breast(views: Sequence[DensityResult]) -> DensityResult | None:
    """The mean of a breast's view probabilities (None without any view)."""
    if not views:
        return None
    mean = np.mean([r.probabilities for r in views], axis=0)
    return DensityResult((float(mean[0]), float(mean[1]), float(mean[2]), float(mean[3])), n_views=len(views))


def canvas_shape(extra: Mapping[str, object]) -> tuple[int, int]:
    """The canvas (rows, cols) a density model was trained on (``canvas_px`` in its manifest entry: two whole pixel
    counts > 0; checked when the model loads, :func:`mammoview.cad.weights.build_model`)."""
    value = extra.get("canvas_px")
    if not (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):  # fmt: skip
        raise ValueError(f"a density model needs canvas_px [rows, cols] (whole pixels) in its manifest entry, "
                         f"got {value!r}")  # fmt: skip
    return (value[0], value[1])
