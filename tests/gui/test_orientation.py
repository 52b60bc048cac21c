"""Every PatientOrientation hangs right (chest wall at the seam, lateral / superior up); marks stay on their tissue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from scipy import ndimage as ndi

from mammoview.cad.types import FindingKind
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import finding, grab_rgb, magenta, planted_result
from tests.gui.conftest import SYNTHETIC_VIEWS, grab_gray, write_view
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

OPP = {"A": "P", "P": "A", "R": "L", "L": "R", "H": "F", "F": "H"}
#: the IHE orientation of each view as hung (display = stored)
CANON = {"LCC": ("A", "R"), "RCC": ("P", "L"), "LMLO": ("A", "FR"), "RMLO": ("P", "FL")}
UID = "1.2.826.0.1.3680043.8.498.77"


def _opp(s: str) -> str:
    return "".join(OPP[c] for c in s)


def cases() -> list[tuple[str, str, str]]:
    out = []
    for view, (row, col) in CANON.items():
        cols = [col, _opp(col)] + (["F", "H", col[0] + _opp(col[1])] if "MLO" in view else [])
        out += [(view, r, c) for r in (row, _opp(row)) for c in cols]
    return out


def stored_pixels(view: str, row: str, col: str) -> np.ndarray:
    """The view as hung, with a bright marker near the top (lateral on CC, superior on MLO) on the nipple side,
    then stored as ``row\\col`` says."""
    left = view.startswith("L")
    px = synthetic_breast(300, 200, chest_wall="left" if left else "right", seed=5)
    x = 110 if left else 90
    px[50:62, x - 6 : x + 6] = 4095
    canon_row, canon_col = CANON[view]
    if row != canon_row:
        px = px[:, ::-1]
    upside_down = ("H" in col) if "MLO" in view else col != canon_col
    if upside_down:
        px = px[::-1]
    return np.ascontiguousarray(px)


@pytest.mark.parametrize(("view", "row", "col"), cases())
def test_every_orientation_hangs_right(main_window, load, tmp_path: Path, view: str, row: str, col: str) -> None:
    folder = tmp_path / "s"
    ds = mammo_dataset(
        stored_pixels(view, row, col),
        laterality=view[0],
        view=view[1:],
        patient_orientation=f"{row}\\{col}",
        study_uid=UID,
    )
    write_dataset(ds, folder / f"{view}.dcm")
    load(main_window, [folder])
    panel = main_window.panels[View(view)]
    assert not getattr(panel.image.display, "warning", ""), "tag and pixels agree: nothing to report"
    gray = grab_gray(panel)
    ys, _ = np.nonzero(gray >= 250)
    assert ys.size, "marker not drawn"
    my = ys.mean()
    tissue = gray > 40
    rows_with = tissue.any(axis=1)
    top, bottom = np.flatnonzero(rows_with)[[0, -1]]
    assert my < (top + bottom) / 2, f"{view} {row}\\{col}: the marker (lateral/superior) is not in the upper half"
    left_edge, right_edge = tissue[:, :3].any(axis=1).mean(), tissue[:, -3:].any(axis=1).mean()
    if view.startswith("R"):
        assert right_edge > 0.3 and left_edge == 0, f"{view} {row}\\{col}: chest wall not at the seam (right)"
    else:
        assert left_edge > 0.3 and right_edge == 0, f"{view} {row}\\{col}: chest wall not at the seam (left)"


def test_patient_orientation_the_pixels_contradict_is_reported(main_window, load, tmp_path: Path, monkeypatch) -> None:
    """The tag says the chest wall is on the stored right, the breast is plainly cut off on the left (a PACS that
    mirrored the pixels and kept the tag): the tag decides, and the reader is told to check it, since the panel
    then shows the chest wall away from the seam and nothing in the viewer can flip it back."""
    from mammoview.gui import dialogs

    boxes: list[str] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append(text))
    folder = tmp_path / "s"
    px = stored_pixels("LCC", "A", "R")  # chest wall on the stored left, as an L CC is hung
    ds = mammo_dataset(px, laterality="L", view="CC", patient_orientation="P\\R", study_uid=UID)
    write_dataset(ds, folder / "LCC.dcm")
    load(main_window, [folder])
    image = main_window.panels[View.LCC].image
    assert image.display.flip_horizontal  # the tag decides
    assert any("LCC.dcm" in t and "PatientOrientation" in t and "pixel" in t for t in boxes), boxes


@pytest.mark.parametrize(("view", "orientation"), [("LMLO", "A\\HL"), ("RCC", "A\\R"), ("LCC", "P\\L")])
def test_mark_lands_on_its_blob_whatever_the_flips(cad_window, load, tmp_path, qtbot, monkeypatch, view, orientation):
    from mammoview.gui import dialogs

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)
    folder = tmp_path / "s"
    for v in SYNTHETIC_VIEWS:
        write_view(folder, f"{v}.dcm", v)
    path = folder / f"{view}.dcm"
    ds = pydicom.dcmread(path)
    px = ds.pixel_array.copy()
    blob = SYNTHETIC_VIEWS[view][6][0]
    rows, cols = px.shape
    # store the view the way the tag says (the synthetic file is chest wall left for L CC, right for L MLO...)
    side = SYNTHETIC_VIEWS[view][2]
    row_dir = orientation.split("\\")[0]
    want_side = "left" if row_dir == "A" else "right"
    bx, by = blob.x, blob.y
    if side != want_side:
        px, bx = px[:, ::-1], cols - 1 - bx
    px, by = px[::-1], rows - 1 - by  # every case here is upside down
    ds.PixelData = np.ascontiguousarray(px).tobytes()
    ds.PatientOrientation = orientation.split("\\")
    ds.save_as(path)
    window = cad_window
    load(window, [folder])
    panel = window.panels[View(view)]
    assert panel.image.display.flip_vertical
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(bx, by))
    gray = ndi.gaussian_filter(grab_gray(panel).astype(float), 3)
    gy, gx = np.unravel_index(np.argmax(gray), gray.shape)
    assert abs(gx - p.x()) < 8 and abs(gy - p.y()) < 8, "the blob is not where stored_to_scene puts it"
    window.cad.set_result(planted_result(window, {View(view): [finding(FindingKind.MASS, bx, by, 0.8, 0.5)]}))
    window.commands["cad_first_read_done"].trigger()
    window.commands["cad_layer_heatmap"].trigger()
    qtbot.wait(20)
    ys, xs = np.nonzero(magenta(grab_rgb(panel)))
    assert len(xs) > 20
    assert abs(xs.mean() - p.x()) < 8 and abs(ys.mean() - p.y()) < 8
