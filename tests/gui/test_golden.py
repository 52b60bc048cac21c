"""The rendered four-view hanging of a deterministic synthetic study, compared with a golden PNG.

Only the graphics viewports are compared (no text: fonts differ between machines).
On failure ``tests/images/hanging_synthetic_actual.png`` and ``..._diff.png`` are
written next to the golden.  Regenerate the golden after an intended change with::

    MAMMOVIEW_UPDATE_GOLDEN=1 QT_QPA_PLATFORM=offscreen pytest tests/gui/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtGui

from mammoview.io.model import View
from tests.gui.conftest import grab_gray, image_array

IMAGES = Path(__file__).resolve().parents[1] / "images"
GOLDEN = IMAGES / "hanging_synthetic.png"
#: Mean absolute difference (grey levels) and share of pixels off by more than 24 that still pass:
#: room for interpolation differences between Qt builds, none for a flipped or misplaced view.
MEAN_TOLERANCE = 2.0
OUTLIER_SHARE = 0.01
PANEL_SIZE = (400, 300)


def compose(window, grab=grab_gray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The four viewports in hanging order as one image (2 px black seams); ``grab``: grey or RGB."""
    w, h = PANEL_SIZE
    out: np.ndarray | None = None
    for view, (r, c) in {View.RCC: (0, 0), View.LCC: (0, 1), View.RMLO: (1, 0), View.LMLO: (1, 1)}.items():
        pixels = grab(window.panels[view])
        assert pixels.shape[:2] == (h, w), f"{view.label} viewport is {pixels.shape[:2]}, expected {(h, w)}"
        if out is None:
            out = np.zeros((2 * h + 2, 2 * w + 2, *pixels.shape[2:]), np.uint8)
        out[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = pixels
    assert out is not None
    return out


def save_png(arr: np.ndarray, path: Path) -> None:
    """Write a grey (h, w) or RGB (h, w, 3) uint8 array."""
    arr = np.ascontiguousarray(arr)
    fmt = QtGui.QImage.Format.Format_RGB888 if arr.ndim == 3 else QtGui.QImage.Format.Format_Grayscale8
    img = QtGui.QImage(arr.data, arr.shape[1], arr.shape[0], arr.strides[0], fmt)
    assert img.copy().save(str(path)), f"could not write {path}"


def load_png(path: Path, rgb: bool = False) -> np.ndarray:
    """A PNG as grey (h, w) or, with ``rgb``, (h, w, 3) uint8."""
    return image_array(QtGui.QImage(str(path)), rgb=rgb)


def test_four_view_rendering_matches_golden(main_window, load, synthetic_study, qtbot):
    # Size the central area so every viewport is exactly PANEL_SIZE (1-px frame, 4-px seam).
    w, h = PANEL_SIZE
    central = main_window.hanging
    main_window.resize(main_window.width() + (2 * (w + 2) + 4 - central.width()),
                       main_window.height() + (2 * (h + 2) + 4 - central.height()))  # fmt: skip
    qtbot.waitUntil(lambda: central.width() == 2 * (w + 2) + 4 and central.height() == 2 * (h + 2) + 4, timeout=3000)
    load(main_window, [synthetic_study])
    actual = compose(main_window)
    if os.environ.get("MAMMOVIEW_UPDATE_GOLDEN") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        save_png(actual, GOLDEN)
        pytest.skip(f"golden written to {GOLDEN}")
    assert GOLDEN.is_file(), f"{GOLDEN} missing: run with MAMMOVIEW_UPDATE_GOLDEN=1"
    golden = load_png(GOLDEN)
    assert golden.shape == actual.shape
    diff = np.abs(actual.astype(np.int16) - golden.astype(np.int16)).astype(np.uint8)
    mean, outliers = float(diff.mean()), float((diff > 24).mean())
    if mean > MEAN_TOLERANCE or outliers > OUTLIER_SHARE:
        save_png(actual, IMAGES / "hanging_synthetic_actual.png")
        save_png(np.clip(diff.astype(np.int16) * 4, 0, 255).astype(np.uint8), IMAGES / "hanging_synthetic_diff.png")
        pytest.fail(f"rendering differs from {GOLDEN.name}: mean |diff| {mean:.2f}, {outliers:.2%} pixels off by > 24")
