"""A view as the networks read it: turned upright (:mod:`~mammoview.cad.upright`), then without its black border
(:mod:`~mammoview.cad.border`), with its presentation values and the spacing to read it at.

One road for every reader of a view: the CAD (:func:`~mammoview.cad.pipeline.analyse_study`), the density network
beside it and `mammoview density` without it, so a file gets the same density in the viewer and from the command.
"""

from __future__ import annotations

from dataclasses import dataclass

from mammoview.cad.border import Border, without_border
from mammoview.cad.preprocess import presentation_of
from mammoview.cad.resample import FloatArray
from mammoview.cad.types import ImageCadResult
from mammoview.cad.upright import is_upside_down, on_stored_grid, turned_upright
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MammoImage


@dataclass(frozen=True)
class ViewRead:
    """A view as read: ``image`` upright and without ``border``, its ``presentation`` values, read at ``spacing``."""

    image: MammoImage
    presentation: FloatArray
    spacing: PixelSpacing
    turned: bool  # stored upside down: read turned upright
    border: Border
    stored_shape: tuple[int, int]  # (rows, cols) of the view as stored

    def on_stored_grid(self, result: ImageCadResult) -> ImageCadResult:
        """A result read on :attr:`image` put back on the grid of the view as stored."""
        if self.border:
            result = self.border.on_stored_grid(result, self.stored_shape)
        return on_stored_grid(result) if self.turned else result


def read_view(
    image: MammoImage, presentation: FloatArray | None = None, spacing: PixelSpacing | None = None
) -> ViewRead:
    """``image`` as the networks read it (module docstring).  ``presentation``: its
    :func:`~mammoview.cad.preprocess.presentation_of`, when the caller has it; ``spacing`` overrides the file's
    (:func:`~mammoview.cad.border.without_border`)."""
    turned = is_upside_down(image)
    upright, presentation = turned_upright(image, presentation) if turned else (image, presentation)
    if presentation is None:
        presentation = presentation_of(upright)
    border, inner, inner_presentation, sp = without_border(upright, presentation, spacing)
    return ViewRead(inner, inner_presentation, sp, turned, border, image.shape)
