"""Everything drawn over an image lands on the tissue it belongs to, measured in grabbed pixels, under each display
transform the viewer applies (the chest-wall mirror, PatientOrientation flips, a quarter-turned file shown as stored,
MONOCHROME1, non-square pixels, zoom and pan, 1:1, a maximised view, the prior comparison, a tomosynthesis slice, a view
the reader assigned) and in the exported picture.

Each view holds one bright blob; its centre is measured in the stored pixels (continuous coordinates: pixel (c, r) has
its centre at (c + 0.5, r + 0.5)) and on screen, and every overlay planted at that stored point, or placed by a click
on the blob, must be drawn within :data:`TOL` screen pixels of where the blob is drawn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pyqtgraph as pg
import pytest
from PySide6 import QtCore

from mammoview.cad.types import FindingKind, Heatmap
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import finding, grab_rgb, magenta, planted_result
from tests.gui.conftest import drag, grab_gray, image_array, mouse
from tests.synthetic import Blob, mammo_dataset, synthetic_breast, write_dataset

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

#: screen pixels: the agreement asked of every overlay (measured offsets are below 1.5)
TOL = 2.0
LEFT, NONE = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
UID = "1.2.826.0.1.3680043.8.498.4242"
#: view -> rows, columns, stored chest-wall side, blob (column, row) as stored
VIEWS = {
    "RCC": (400, 260, "left", (150, 140)),  # stored chest wall left: shown mirrored
    "LCC": (420, 270, "left", (120, 250)),
    "RMLO": (440, 280, "right", (150, 200)),
    "LMLO": (460, 290, "right", (170, 180)),  # stored chest wall right: shown mirrored
}
Pixels = Callable[[np.ndarray], np.ndarray]


def write_study(folder: Path, tags: dict[str, dict[str, object]] | None = None,
                pixels: dict[str, Pixels] | None = None) -> Path:  # fmt: skip
    """The four views, each with its blob; ``tags``: per-view keywords for ``mammo_dataset``; ``pixels``: per-view
    changes of the stored array (a mirror, a quarter turn...)."""
    for v, (rows, cols, side, (bx, by)) in VIEWS.items():
        px = synthetic_breast(rows, cols, chest_wall=side, blobs=(Blob(bx, by, 7, 0.6),), seed=3)
        px = (pixels or {}).get(v, lambda a: a)(px)
        kw: dict[str, object] = {"laterality": v[0], "view": v[1:], "study_uid": UID}
        kw.update((tags or {}).get(v, {}))
        write_dataset(mammo_dataset(np.ascontiguousarray(px), **kw), folder / f"{v}.dcm")  # type: ignore[arg-type]
    return folder


def on_screen(panel, x: float, y: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Viewport position (continuous device pixels) where stored point (x, y) is drawn."""
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(x, y))
    return np.array([p.x(), p.y()])


def blob_centre(values: np.ndarray, around: tuple[float, float], r: int = 14) -> np.ndarray:
    """Continuous (x, y) centre of the bright blob near ``around``: the centroid of its upper half (in pixels of a
    stored array or of a grab alike)."""
    x0, y0 = max(0, round(around[0]) - r), max(0, round(around[1]) - r)
    win = values[y0 : y0 + 2 * r + 1, x0 : x0 + 2 * r + 1].astype(float)
    weight = np.clip(win - (np.percentile(win, 10) + win.max()) / 2, 0, None)
    yy, xx = np.mgrid[0 : win.shape[0], 0 : win.shape[1]]
    return np.array([(weight * xx).sum() / weight.sum() + x0 + 0.5, (weight * yy).sum() / weight.sum() + y0 + 0.5])


def stored_blob(panel, near: tuple[float, float]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    values = panel.image.stored.astype(float)
    if panel.image.info.photometric == "MONOCHROME1":
        values = values.max() - values
    return tuple(blob_centre(values, near))  # type: ignore[return-value]


def box_centre(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    assert len(xs), "nothing drawn"
    return np.array([(xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2])


def drawn(panel, items, qtbot) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Mask of the viewport pixels that ``items`` alone change (every other overlay hidden)."""
    shown = {item: item.isVisible() for item in panel._overlays}
    try:
        grabs = []
        for keep in ((), items):
            for item in panel._overlays:
                item.setVisible(item in keep)
            qtbot.wait(5)
            grabs.append(grab_rgb(panel).astype(int))
    finally:
        for item, visible in shown.items():
            item.setVisible(visible)
    return np.abs(grabs[1] - grabs[0]).max(axis=-1) > 40


def plant(window, panel, b: tuple[float, float]) -> None:  # type: ignore[no-untyped-def]
    """A CAD mass at stored ``b`` (a round contour of 40 rows' radius) over a heatmap disc of 30, first read done."""
    result = planted_result(window, {panel.view: [finding(FindingKind.MASS, *b, half=40)]})
    images = []
    for r in result.images:
        if r.view is panel.view:
            yy, xx = np.mgrid[0 : r.height, 0 : r.width] + 0.5
            disc = np.where((xx - b[0]) ** 2 + (yy - b[1]) ** 2 <= 30**2, 255, 0).astype(np.uint8)
            r = dataclasses.replace(r, heatmaps={n: Heatmap(n, disc, 0.0, 0.0, 1.0, 1.0) for n in r.heatmaps})
        images.append(r)
    window.cad.set_result(dataclasses.replace(result, images=tuple(images)))
    window.commands["cad_first_read_done"].trigger()


def check_overlays(window, panel, b: tuple[float, float], qtbot) -> None:  # type: ignore[no-untyped-def]
    """The blob, the heatmap, the CAD contour, glyph and score label, a reader mark clicked on the blob, the selection
    highlight and a measurement from the blob: each drawn within TOL screen pixels of where stored ``b`` is."""
    at = on_screen(panel, *b)
    for item in panel._overlays:
        item.setVisible(False)  # the image alone
    qtbot.wait(5)
    blob = blob_centre(grab_gray(panel), at)
    overlay = window.cad.overlays[panel.view]
    overlay.apply(window.cad.style)
    assert np.abs(blob - at).max() <= TOL, f"the image's blob is drawn {blob - at} px from where its pixels map"

    overlay.heatmap.set_threshold(0.0)
    offsets = {"heatmap": box_centre(drawn(panel, overlay.layers["heatmap"], qtbot)) - at,
               "contour": box_centre(drawn(panel, overlay.layers["contours"], qtbot)) - at}  # fmt: skip
    glyphs = [i for i in overlay.layers["marks:mass"] if isinstance(i, pg.ScatterPlotItem)]
    star_middle = np.array([0.0, -0.04775 * 24])  # pyqtgraph's star path: its box centre lies above its point
    offsets["CAD glyph"] = box_centre(drawn(panel, glyphs, qtbot)) - at - star_middle
    (label,) = overlay.layers["scores:mass"]
    box = label.boundingRect()
    corners = [panel.graphics.mapFromScene(label.mapToScene(p)) for p in (box.topLeft(), box.bottomRight())]
    (x0, x1), (y0, y1) = sorted(c.x() for c in corners), sorted(c.y() for c in corners)
    anchor = label.anchor
    offsets["score label anchor"] = np.array([x0 + anchor.x() * (x1 - x0), y0 + anchor.y() * (y1 - y0)]) - at
    overlay.set_highlight(b)
    offsets["highlight"] = box_centre(drawn(panel, overlay._highlight, qtbot)) - at
    overlay.set_highlight(None)

    # the reader clicks the screen pixel the blob is seen on: the mark's stored point is drawn there, ring around it
    window.commands["cad_mark_mode"].trigger()
    pixel = tuple(np.floor(blob) + 0.5)
    mouse(panel.graphics.viewport(), "press", pixel, LEFT)
    mouse(panel.graphics.viewport(), "release", pixel, LEFT, NONE)
    window.commands["cad_mark_mode"].trigger()
    mark = window.cad.reader.marks[-1]
    offsets["reader mark (stored point)"] = on_screen(panel, mark.x, mark.y) - blob
    ring = [i for i in overlay.layers["reader"] if isinstance(i, pg.ScatterPlotItem)]
    offsets["reader ring"] = box_centre(drawn(panel, ring, qtbot)) - on_screen(panel, mark.x, mark.y)

    # a measurement dragged from the blob 60 screen pixels down: it starts on the blob, its end circle drawn there
    window.commands["measure"].trigger()
    drag(panel.graphics.viewport(), pixel, (pixel[0], pixel[1] + 60), LEFT)
    window.commands["measure"].trigger()
    m = window.cad.reader.measurements[-1]
    start = on_screen(panel, m.x0, m.y0)
    offsets["measurement start (stored point)"] = start - blob
    ends = drawn(panel, [i for i in window.cad.measure_tool.items(panel.view) if isinstance(i, pg.ScatterPlotItem)],
                 qtbot)  # fmt: skip
    ends[int(start[1]) + 20 :] = False  # the start's circle only
    offsets["measurement end circle"] = box_centre(ends) - start
    off = {k: np.round(v, 2).tolist() for k, v in offsets.items() if np.abs(v).max() > TOL}
    assert not off, f"drawn away from the blob (screen px): {off}"


def mirrored(px: np.ndarray) -> np.ndarray:
    return px[:, ::-1]


def turned(px: np.ndarray) -> np.ndarray:
    return px.T


def monochrome1(px: np.ndarray) -> np.ndarray:
    return 4095 - px


#: case -> view, tags, stored-pixel changes, where the blob is stored then (column, row)
CASES: dict[str, tuple[str, dict[str, dict[str, object]], dict[str, Pixels], tuple[int, int]]] = {
    "R CC mirrored to hang": ("RCC", {}, {}, (150, 140)),
    "L CC as stored": ("LCC", {}, {}, (120, 250)),
    "L MLO mirrored to hang": ("LMLO", {}, {}, (170, 180)),
    "PatientOrientation P\\R: L CC stored mirrored": ("LCC", {"LCC": {"patient_orientation": "P\\R"}},
                                                       {"LCC": mirrored}, (149, 250)),
    "PatientOrientation R\\A: R CC stored a quarter turn": ("RCC", {"RCC": {"patient_orientation": "R\\A"}},
                                                              {"RCC": turned}, (140, 150)),
    "MONOCHROME1": ("RCC", {"RCC": {"photometric": "MONOCHROME1"}}, {"RCC": monochrome1}, (150, 140)),
    "PixelSpacing 0.1\\0.15 on a mirrored view": ("RCC", {"RCC": {"pixel_spacing": (0.1, 0.15)}}, {}, (150, 140)),
    "PixelSpacing 0.15\\0.1": ("LCC", {"LCC": {"pixel_spacing": (0.15, 0.1)}}, {}, (120, 250)),
    "ImagerPixelSpacing 0.1\\0.15 only": ("LMLO", {"LMLO": {"pixel_spacing": None, "imager_spacing": (0.1, 0.15)}},
                                           {}, (170, 180)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_every_overlay_lands_on_its_blob(cad_window, load, tmp_path, qtbot, monkeypatch, case):
    from mammoview.gui import dialogs

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)  # (the quarter turn is said)
    view, tags, pixels, near = CASES[case]
    w = cad_window
    load(w, [write_study(tmp_path / "s", tags, pixels)])
    panel = w.panels[View(view)]
    if "0.15" in case:  # drawn in its true proportions
        sp = panel.image.info.spacing
        assert panel.aspect == pytest.approx(sp.col_mm / sp.row_mm) and panel.aspect != 1.0
    b = stored_blob(panel, near)
    plant(w, panel, b)
    qtbot.wait(20)
    check_overlays(w, panel, b, qtbot)


@pytest.mark.parametrize("how", ["zoomed and panned", "1:1", "maximised", "zoomed, non-square pixels"])
def test_overlays_follow_zoom_pan_one_to_one_and_maximise(cad_window, load, tmp_path, qtbot, how):
    w = cad_window
    tags = {"RCC": {"pixel_spacing": (0.1, 0.15)}} if "non-square" in how else {}
    load(w, [write_study(tmp_path / "s", tags)])
    panel = w.panels[View.RCC]
    b = stored_blob(panel, (150, 140))
    plant(w, panel, b)
    w._activate(panel)
    if how.startswith("zoomed"):
        panel.view_box.scaleBy((0.45, 0.45), center=panel.stored_to_scene(*b))
        panel.view_box.translateBy((3.3, -2.1))
    else:
        w.commands["one_to_one" if how == "1:1" else "maximize"].trigger()
    qtbot.wait(30)
    assert how != "1:1" or panel.device_scale() == pytest.approx(1.0)
    check_overlays(w, panel, b, qtbot)


def test_overlays_in_the_prior_comparison_a_tomosynthesis_slice_and_an_assigned_view(cad_window, load, tmp_path,
                                                                                    qtbot, monkeypatch):  # fmt: skip
    from mammoview.gui import dialogs
    from tests.gui.test_frames import TOMO_CLASS

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)
    w = cad_window
    root = tmp_path / "exams"
    exam = {"study_uid": "1.2.3.24", "study_date": "20240601", "patient_id": "P1"}
    write_study(root / "now", {"RCC": exam, "LCC": {**exam, "laterality": "R"}, "RMLO": exam, "LMLO": exam})
    prior = {"study_uid": "1.2.3.22", "study_date": "20220515", "patient_id": "P1", "pixel_spacing": (0.1, 0.15)}
    write_study(root / "before", dict.fromkeys(VIEWS, prior))
    path = root / "now" / "LMLO.dcm"  # L MLO: a volume of 3 slices
    ds = pydicom.dcmread(path)
    first = ds.pixel_array
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = TOMO_CLASS
    ds.NumberOfFrames = 3
    ds.PixelData = b"".join((first + 50 * k).astype(np.uint16).tobytes() for k in range(3))
    ds.save_as(path)
    load(w, [root])
    # the L CC labelled R: the reader hangs it as L CC
    w.assign_view(next(d for d in w.choices[View.RCC] if d.image.path.name == "LCC.dcm"), View.LCC)
    lcc = w.panels[View.LCC]
    assert lcc.image.path.name == "LCC.dcm" and not lcc.image.display.flip_horizontal
    b = stored_blob(lcc, (120, 250))
    plant(w, lcc, b)
    qtbot.wait(20)
    check_overlays(w, lcc, b, qtbot)
    # the second slice of the volume
    lmlo = w.panels[View.LMLO]
    w._activate(lmlo)
    with qtbot.waitSignal(w.frames.frameShown, timeout=20_000):
        w.commands["next_slice"].trigger()
    assert lmlo.image.frame == 1
    b = stored_blob(lmlo, (170, 180))
    plant(w, lmlo, b)
    qtbot.wait(20)
    check_overlays(w, lmlo, b, qtbot)
    # Alt+5: the current CC pair over the prior's (whose pixels are non-square); the current R CC's overlays, and a
    # measurement on the prior's
    with qtbot.waitSignal(w.priors.priorShown, timeout=20_000):
        w.commands["layout_prior_cc"].trigger()
    qtbot.wait(30)
    rcc = w.panels[View.RCC]
    b = stored_blob(rcc, (150, 140))
    plant(w, rcc, b)
    qtbot.wait(20)
    check_overlays(w, rcc, b, qtbot)
    before = w.hanging.prior_panels[View.RCC]
    assert before.image.info.meta.study_date == "20220515" and before.aspect == pytest.approx(1.5)
    b = stored_blob(before, (150, 140))
    at = on_screen(before, *b)
    assert np.abs(blob_centre(grab_gray(before), at) - at).max() <= TOL
    m = w.cad.prior_measure.measure(before, b, (b[0], b[1] + 60))
    assert m is not None
    ends = drawn(before, [i for i in w.cad.prior_measure.items(View.RCC) if isinstance(i, pg.ScatterPlotItem)], qtbot)
    ends[int(at[1]) + 20 :] = False
    assert np.abs(box_centre(ends) - at).max() <= TOL


@pytest.mark.parametrize("how", ["2x2", "active view", "zoomed", "non-square pixels"])
def test_the_exported_picture_draws_the_marks_on_the_blob(cad_window, load, tmp_path, qtbot, how):
    from mammoview.gui.export_picture import render_picture

    w = cad_window
    tags = {"LMLO": {"pixel_spacing": (0.1, 0.15)}} if how == "non-square pixels" else {}
    load(w, [write_study(tmp_path / "s", tags)])
    panel = w.panels[View.LMLO]  # shown mirrored
    b = stored_blob(panel, (170, 180))
    plant(w, panel, b)
    w.cad._restyle(heatmap=False, scores=False)  # the magenta contour and glyph alone
    w._activate(panel)
    if how == "zoomed":
        panel.view_box.scaleBy((0.6, 0.6), center=panel.stored_to_scene(*b))
        panel.view_box.translateBy((5.3, -3.1))
    qtbot.wait(20)
    picture = image_array(render_picture(w, active_only=how == "active view"))
    viewport = panel.graphics.viewport()
    origin = viewport.mapTo(panel if how == "active view" else w.hanging, QtCore.QPoint(0, 0))
    x0, y0, width, height = origin.x(), origin.y(), viewport.width(), viewport.height()
    marks = np.zeros(picture.shape[:2], bool)
    marks[y0 : y0 + height, x0 : x0 + width] = magenta(picture[y0 : y0 + height, x0 : x0 + width])
    shift = np.array([x0, y0])
    at = on_screen(panel, *b) + shift
    assert np.abs(box_centre(marks) - at).max() <= TOL
    on_panel = blob_centre(grab_gray(panel), at - shift) + shift
    assert np.abs(on_panel - at).max() <= TOL
