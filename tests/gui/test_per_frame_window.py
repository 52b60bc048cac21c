"""A tomosynthesis volume windowed per frame (Frame VOI LUT (0028,9132) in each Per-Frame Functional Groups item, PS3.3
C.7.6.16.2.10): each slice shows its own frame's default window until the reader sets one, which then stays."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mammoview.io.chain_model import VoiWindow
from mammoview.io.model import View
from tests.gui.conftest import write_view
from tests.gui.test_frames import FRAMES, step, write_tomo

WIDTH = 1500


def frame_window(frame: int) -> VoiWindow:
    return VoiWindow(1000.0 * (frame + 1), WIDTH)


@pytest.fixture()
def windowed(main_window, load, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The synthetic study with L CC a volume whose frame k has the default window centre 1000 * (k + 1)."""
    folder = tmp_path / "dbt"
    for view in ("RCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view)
    path = write_tomo(folder / "LCC_tomo.dcm")
    ds = pydicom.dcmread(path)
    groups = []
    for k in range(FRAMES):
        voi, group = Dataset(), Dataset()
        voi.WindowCenter, voi.WindowWidth = frame_window(k).center, WIDTH
        group.FrameVOILUTSequence = Sequence([voi])
        groups.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    ds.save_as(path)
    load(main_window, [folder])
    main_window._activate(main_window.panels[View.LCC])
    return main_window


def test_each_slice_shows_its_own_default_window_until_the_reader_sets_one(windowed, qtbot):
    w = windowed
    panel = w.panels[View.LCC]
    assert panel.window_state is not None and panel.window_state.voi == frame_window(0)
    step(w, qtbot, "next_slice")
    assert panel.image.frame == 1 and panel.window_state.voi == frame_window(1)
    assert "W 1500 L 2000" in panel.labels.info.text()  # the corner says the window shown
    w.commands["invert"].trigger()  # inverting sets no window: the default still follows the slices, inverted
    step(w, qtbot, "next_slice")
    assert panel.window_state.voi == frame_window(2) and panel.window_state.inverted
    w.image_controls.drag(40, -20)  # the reader sets a window: it stays on every slice from now on
    dragged = panel.window_state
    step(w, qtbot, "next_slice")
    assert panel.image.frame == 3 and panel.window_state == dragged
    step(w, qtbot, "previous_slice_10")
    assert panel.image.frame == 0 and panel.window_state == dragged
    w.image_controls.reset()  # Reset window: the file's default again, and it follows the slices again
    step(w, qtbot, "next_slice")
    assert panel.window_state.voi == frame_window(1) and not panel.window_state.inverted


def test_a_selected_marks_slice_is_highlighted_again_when_slices_have_their_own_window(windowed, qtbot):
    """Each slice has a header of its own here (its frame's chain): going back to a marked slice is still the same
    image, whose selected mark is highlighted again (it was dropped as if another image had come into the panel)."""
    w = windowed
    lcc, overlay = w.panels[View.LCC], w.cad.overlays[View.LCC]
    step(w, qtbot, "next_slice")
    step(w, qtbot, "next_slice")
    mark = w.cad.marks_tool.place(lcc, 120.0, 220.0)
    assert mark is not None and mark.frame == 2
    step(w, qtbot, "next_slice")
    step(w, qtbot, "previous_slice_10")
    panel = w.cad.findings
    index = next(i for i, r in enumerate(panel.rows) if mark in r.marks)
    with qtbot.waitSignal(w.frames.frameShown, timeout=20_000):
        panel.select_row(index)  # the row takes the reader back to the slice the mark is on
    assert lcc.image.frame == 2 and overlay.layers["reader"] and overlay._highlight  # drawn and highlighted
