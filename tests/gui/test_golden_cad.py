"""The CAD overlays of a planted result on the synthetic study, compared with a golden PNG.

What the reader sees of the CAD, pinned as pixels: the heatmap's colour scale (a graded
map from p 0.73 at its rim to 0.9999 at its centre, over the default threshold), the mass
outline and star, the calcification triangle, on flipped and unflipped views.  Text is
left out (score labels off: fonts differ between machines).  On failure
``tests/images/cad_synthetic_actual.png`` and ``..._diff.png`` are written next to the
golden.  Regenerate it after an intended change with::

    MAMMOVIEW_UPDATE_GOLDEN=1 QT_QPA_PLATFORM=offscreen pytest tests/gui/test_golden_cad.py
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mammoview.cad.types import FindingKind, Heatmap, heat_levels
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import colourful, finding, grab_rgb, planted_result
from tests.gui.conftest import SYNTHETIC_VIEWS
from tests.gui.test_golden import PANEL_SIZE, compose, load_png, save_png

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

IMAGES = Path(__file__).resolve().parents[1] / "images"
GOLDEN = IMAGES / "cad_synthetic.png"
#: Shares of pixels off by more than 24 (in any channel) that still pass, over the whole picture
#: and over the coloured part (heatmap and marks, 4 % of it): room for interpolation and
#: antialiasing differences between Qt builds, none for a changed colour scale (the log-odds
#: range's top moved from 10 to 12 changes 63 % of the coloured pixels), a lost mark or an
#: overlay on the wrong side of a flipped view.
OUTLIER_SHARE = 0.005
COLOURED_OUTLIER_SHARE = 0.05


def graded_heatmap(rows: int, cols: int, cx: float, cy: float, radius: float, cell: int = 8) -> Heatmap:
    """A map whose log-odds fall linearly from 9 (p 0.9999) at (cx, cy) to 1 (p 0.73) at ``radius``."""
    h, w = -(-rows // cell), -(-cols // cell)
    yy, xx = (np.mgrid[0:h, 0:w] + 0.5) * cell
    d = np.hypot(xx - cx, yy - cy) / radius
    p = np.where(d <= 1.2, 1.0 / (1.0 + np.exp(-(9.0 - 8.0 * d))), 0.0)
    return Heatmap("abnormal", heat_levels(p), 0.0, 0.0, float(cell), float(cell))


def test_cad_overlays_match_golden(cad_window, load, synthetic_study, qtbot):
    w, h = PANEL_SIZE
    window, central = cad_window, cad_window.hanging
    window.resize(window.width() + (2 * (w + 2) + 4 - central.width()),
                  window.height() + (2 * (h + 2) + 4 - central.height()))  # fmt: skip
    qtbot.waitUntil(lambda: central.width() == 2 * (w + 2) + 4 and central.height() == 2 * (h + 2) + 4, timeout=3000)
    load(window, [synthetic_study])
    rcc, rmlo = SYNTHETIC_VIEWS["RCC"][6][0], SYNTHETIC_VIEWS["RMLO"][6][0]
    lcc = SYNTHETIC_VIEWS["LCC"][6][0]
    result = planted_result(window, {
        View.RCC: [finding(FindingKind.CALCIFICATION, rcc.x, rcc.y, 0.99, 0.4)],
        View.LCC: [finding(FindingKind.MASS, lcc.x, lcc.y, 0.999, 0.7, half=25)],
        View.RMLO: [finding(FindingKind.MASS, rmlo.x, rmlo.y, 0.9999, 0.8, half=30)],
    })  # fmt: skip
    graded = []
    for r in result.images:
        if r.findings:
            cx, cy = r.findings[0].center
            r = replace(r, heatmaps={"abnormal": graded_heatmap(r.height, r.width, cx, cy, 60.0)})
        graded.append(r)
    window.cad.set_result(replace(result, images=tuple(graded)))
    window.cad.set_flag("scores", False)  # no text in the picture
    window.commands["cad_first_read_done"].trigger()
    qtbot.wait(30)
    assert window.cad.style.threshold == pytest.approx(0.80)  # the default the golden shows
    actual = compose(window, grab_rgb)
    if os.environ.get("MAMMOVIEW_UPDATE_GOLDEN") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        save_png(actual, GOLDEN)
        pytest.skip(f"golden written to {GOLDEN}")
    assert GOLDEN.is_file(), f"{GOLDEN} missing: run with MAMMOVIEW_UPDATE_GOLDEN=1"
    golden = load_png(GOLDEN, rgb=True)
    assert golden.shape == actual.shape
    diff = np.abs(actual.astype(np.int16) - golden.astype(np.int16)).astype(np.uint8)
    off = diff.max(axis=-1) > 24
    coloured = colourful(golden, 60) | colourful(actual, 60)
    outliers, coloured_outliers = float(off.mean()), float(off[coloured].mean()) if coloured.any() else 1.0
    if outliers > OUTLIER_SHARE or coloured_outliers > COLOURED_OUTLIER_SHARE:
        save_png(actual, IMAGES / "cad_synthetic_actual.png")
        save_png(np.clip(diff.astype(np.int16) * 4, 0, 255).astype(np.uint8), IMAGES / "cad_synthetic_diff.png")
        pytest.fail(
            f"CAD rendering differs from {GOLDEN.name}: {outliers:.2%} of the pixels and "
            f"{coloured_outliers:.2%} of the coloured ones off by > 24"
        )
