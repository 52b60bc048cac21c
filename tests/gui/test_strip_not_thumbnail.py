"""An image long on one side and narrow on the other (a 200 x 30000 px PNG: a scanned ruler, a label strip, a
panorama of stitched thumbnails) was called 'only 200 x 30000 pixels: a thumbnail or icon'. 30000 px is no small
picture: it is said to be a strip, with its narrow side; a picture small on both sides is still a thumbnail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from mammoview.gui.study_display import too_small
from mammoview.io import read_info


def _png(path: Path, rows: int, cols: int) -> Path:
    Image.fromarray(np.full((rows, cols), 128, np.uint8)).save(path)
    return path


def test_a_long_narrow_image_is_called_a_strip_not_a_thumbnail(tmp_path: Path) -> None:
    reason = too_small(read_info(_png(tmp_path / "tall.png", 30000, 200)))
    assert reason == "200 x 30000 pixels: a strip only 200 px across, not a mammogram to read from"


def test_an_image_small_on_both_sides_is_still_a_thumbnail(tmp_path: Path) -> None:
    reason = too_small(read_info(_png(tmp_path / "icon.png", 40, 30)))
    assert reason == "only 30 x 40 pixels: a thumbnail or icon, not a mammogram to read from"
    assert too_small(read_info(_png(tmp_path / "view.png", 300, 256))) == ""
