"""Where a view panel puts a stored pixel: the stored grid -> scene transform of :mod:`mammoview.gui.view_panel`.

Scene x runs away from the chest wall; on a right-chest-wall panel that is leftwards on screen (the ViewBox is
x-inverted), so a display flip and the side cancel out.  One scene unit is one stored *row*: a column is
:func:`pixel_aspect` of it, so an image with non-square pixels is shown in its true proportions.
"""

from __future__ import annotations

from PySide6 import QtGui

from mammoview.io.model import MammoImage


def pixel_aspect(image: MammoImage | None) -> float:
    """Width of a stored column in stored rows: column / row spacing of the file (or the reader's
    ``--pixel-spacing``), 1 when there is none, it was guessed, or it is absurd (outside 1:5 - 5:1)."""
    sp = image.info.spacing if image is not None else None
    if sp is None or sp.estimated or not sp.row_mm > 0 or not sp.col_mm > 0:
        return 1.0
    ratio = sp.col_mm / sp.row_mm
    return ratio if 0.2 <= ratio <= 5.0 else 1.0


def scene_transform(img: MammoImage, aspect: float, chest_wall_right: bool) -> QtGui.QTransform:
    """Stored grid -> scene of ``img`` in a panel whose chest wall is on the right or not: the display flips, then
    x measured from the chest wall."""
    rows, cols = img.shape
    mirror_x = img.display.flip_horizontal != chest_wall_right
    mirror_y = img.display.flip_vertical
    return QtGui.QTransform(
        -aspect if mirror_x else aspect, 0.0, 0.0, -1.0 if mirror_y else 1.0,
        cols * aspect if mirror_x else 0.0, float(rows) if mirror_y else 0.0,
    )  # fmt: skip
