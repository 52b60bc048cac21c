"""A study whose views are JPEG 2000 goes up first from their reduced-resolution levels (a preview), then takes
its full pixels in place: the reader's zoom, pan, window/level and view assignments stay; the CAD and export wait
for the full pixels; a full decode that fails after its preview is said, and the others stay."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from mammoview.gui import loader
from mammoview.gui.loader import FullResolution, LoadedStudy, load_job
from mammoview.gui.read_state import MarkKind, image_key
from mammoview.io import open_paths, preview
from mammoview.io.model import View
from mammoview.io.reader import read_image
from tests.gui import cad_support
from tests.gui.conftest import SYNTHETIC_VIEWS, failing_for, in_jpeg2000, write_view

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


@pytest.fixture(autouse=True)
def _small_previews(monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic views are ~0.15 Mpx: previewed here as full-field views would be."""
    monkeypatch.setattr(preview, "PREVIEW_MIN_PIXELS", 0)


def j2k_study(folder: Path, unplaced: bool = False) -> Path:
    for view in SYNTHETIC_VIEWS:
        hidden = unplaced and view == "LMLO"  # no view in its tags or name
        extra = {"laterality": None, "projection": None} if hidden else {}
        in_jpeg2000(write_view(folder, "mystery.dcm" if hidden else f"{view}.dcm", view, **extra))
    return folder


def run_job(folder: Path) -> tuple[list[object], object]:
    (study,), errors = open_paths([folder])
    assert not errors
    sent: list[object] = []
    return sent, load_job(study, preview=True)(sent.append, lambda: False)


def test_the_job_sends_the_preview_then_the_full_pixels_for_the_same_images(tmp_path):
    sent, result = run_job(j2k_study(tmp_path / "s"))
    first = next(m for m in sent if isinstance(m, LoadedStudy))
    assert first.preview and all(d.preview for d in first.displays.values())
    assert isinstance(result, FullResolution) and result.preview is first
    images = list(first.study.images)
    loaded = result.adopt()
    assert not loaded.preview and list(loaded.study.images) == images  # the same objects, full pixels now
    for image in images:
        assert not loaded.displays[image].preview and loaded.displays[image].image is image
        np.testing.assert_array_equal(image.stored, read_image(image.path).stored)
        assert not image.stored.flags.writeable


def test_a_full_decode_that_fails_after_its_preview_is_the_studys_error_and_the_others_stay(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "decode", failing_for("LCC.dcm", loader.decode, "cannot decode pixel data (truncated)"))
    _, result = run_job(j2k_study(tmp_path / "s"))
    assert isinstance(result, LoadedStudy) and not result.preview  # shown afresh, without the preview of L CC
    assert {i.path.name for i in result.study.images} == {"RCC.dcm", "RMLO.dcm", "LMLO.dcm"}
    assert [e.path.name for e in result.study.errors] == ["LCC.dcm"]
    assert not any(d.preview for d in result.displays.values())


@pytest.fixture()
def held_full_decode(monkeypatch: pytest.MonkeyPatch, main_window) -> threading.Event:  # type: ignore[no-untyped-def]
    """Hold the full decode after the preview is sent until the returned event is set: by the test, else when the
    window closes (pytest-qt closes it before any fixture's teardown; a decode left waiting then held the close
    until the thread was destroyed running, and the process aborted on a failed test)."""
    release = threading.Event()
    original = loader._decoded_or_error

    def held(*args):  # type: ignore[no-untyped-def]
        assert release.wait(60)
        return original(*args)

    class ReleaseOnClose(QtCore.QObject):
        def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
            if event.type() == QtCore.QEvent.Type.Close:
                release.set()
            return False

    monkeypatch.setattr(loader, "_decoded_or_error", held)
    on_close = ReleaseOnClose()
    main_window.installEventFilter(on_close)
    yield release
    release.set()
    main_window.removeEventFilter(on_close)


def test_the_viewer_shows_the_preview_then_swaps_in_the_full_pixels_keeping_the_readers_view(
    cad_window, qtbot, tmp_path, held_full_decode
):
    w = cad_window
    folder = j2k_study(tmp_path / "s", unplaced=True)
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        w.open_paths([str(folder)])
    assert shown.args[0].preview
    assert w.load_helper.started  # its reduced decode too (Pillow's decoder holds the GIL): not in this process
    panel = w.panels[View.RCC]
    assert panel.display.preview and "preview" in panel.labels._title_extra
    # the reader hangs the unplaced image, zooms and sets a window while the full pixels decode
    w.assign_view(w.unplaced[0], View.LMLO)
    qtbot.wait(30)
    w._activate(panel)
    panel.view_box.scaleBy((0.5, 0.5))
    w.image_controls.drag(40, -20)
    zoomed, window = panel.view_box.viewRange(), panel.window_state
    w.cad.reader.add(View.RCC, image_key(panel.image), 90, 200, MarkKind.MASS)  # a mark on the preview
    assert w.cad.overlays[View.RCC].layers["reader"]
    w.cad.run()
    assert w.cad.job is None  # the CAD waits for the full pixels
    w.export()
    assert "still decoding" in w.statusBar().currentMessage()
    with qtbot.waitSignal(w.fullResolution, timeout=30_000):
        held_full_decode.set()
    for view, p in w.panels.items():
        assert not p.display.preview, view
        np.testing.assert_array_equal(p.image.stored, read_image(p.image.path).stored)
    assert "preview" not in panel.labels._title_extra
    assert w.cad.overlays[View.RCC].layers["reader"] and len(w.cad.reader.marks) == 1  # drawn on the full pixels
    assert panel.view_box.viewRange() == zoomed and panel.window_state == window
    assert w.panels[View.LMLO].image.path.name == "mystery.dcm"  # the assigned image, with its full pixels
    qtbot.waitUntil(lambda: w.cad.result is not None or w.cad.job is not None, timeout=10_000)  # asked: runs now


def two_j2k_studies(folder: Path) -> Path:
    """Two patients' JPEG 2000 studies in one folder (a worklist of two)."""
    for n, pid in enumerate(("PAT-A", "PAT-B")):
        for view in SYNTHETIC_VIEWS:
            in_jpeg2000(write_view(folder / pid, f"{view}.dcm", view, study_uid=f"1.2.3.{n + 1}", patient_id=pid))
    return folder


def test_stepping_back_to_the_preview_before_the_next_study_went_up_shows_it_at_full_resolution(
    main_window, qtbot, tmp_path, held_full_decode
):
    """The preview's full decode, stopped by the next study's load, is decoded when the reader steps back: into the
    preview on screen, keeping the zoom and window the reader set on it (a fresh preview went up before, reset)."""
    w = main_window
    folder = two_j2k_studies(tmp_path / "batch")
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        w.open_paths([str(folder)])
    assert shown.args[0].preview and shown.args[0].study.info.meta.patient_id == "PAT-A"
    panel = w.panels[View.RCC]
    w._activate(panel)
    panel.view_box.scaleBy((0.5, 0.5))
    w._on_window_drag(panel, 40, -20)
    zoomed, window, image = panel.view_box.viewRange(), panel.window_state, panel.display.image
    previews = [p.display for p in w.panels.values()]
    # PgDown then PgUp before the next study's preview is up: its load made the preview's full decode stale
    w.step_study(+1)
    w.step_study(-1)
    assert w.worklist.current == 0
    assert [p.display for p in w.panels.values()] == previews and panel.view_box.viewRange() == zoomed
    running = len(w.jobs._threads)
    w.open_worklist_study(0)  # asked for again while it decodes: not decoded once more
    assert len(w.jobs._threads) == running
    with qtbot.waitSignal(w.fullResolution, timeout=30_000) as full:
        held_full_decode.set()
    assert full.args[0].study.info.meta.patient_id == "PAT-A"
    assert w.loaded.study.info.meta.patient_id == "PAT-A" and not w.loaded.preview and w.worklist.current == 0
    for view, p in w.panels.items():
        assert not p.display.preview, view
        np.testing.assert_array_equal(p.image.stored, read_image(p.image.path).stored)
    assert panel.display.image is image  # the preview's own image, its full pixels now
    assert panel.view_box.viewRange() == zoomed and panel.window_state == window


def test_cad_asked_for_on_a_preview_runs_when_a_failed_full_decode_shows_the_study_afresh(
    cad_window, qtbot, tmp_path, held_full_decode, monkeypatch
):
    w = cad_window
    # its reduced levels decode, the whole codestream does not
    broken = failing_for("LCC.dcm", w.load_helper.decode, "cannot decode pixel data (truncated)")
    monkeypatch.setattr(w.load_helper, "decode", broken)
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        w.open_paths([str(j2k_study(tmp_path / "s"))])
    assert shown.args[0].preview
    w.cad.run()
    assert w.cad.job is None and "CAD starts once" in w.statusBar().currentMessage()
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as afresh:
        held_full_decode.set()
    assert not afresh.args[0].preview and [e.path.name for e in afresh.args[0].study.errors] == ["LCC.dcm"]
    qtbot.waitUntil(lambda: w.cad.result is not None or w.cad.job is not None, timeout=10_000)  # as it said


def test_cad_asked_for_on_a_preview_runs_when_a_spacing_given_meanwhile_decodes_the_study_again(
    cad_window, qtbot, tmp_path, held_full_decode
):
    w = cad_window
    folder = tmp_path / "s"
    for view in SYNTHETIC_VIEWS:  # files without a pixel spacing
        in_jpeg2000(write_view(folder, f"{view}.dcm", view, pixel_spacing=None))
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        w.open_paths([str(folder)])
    assert shown.args[0].preview
    w.cad.run()
    w.set_pixel_spacing(0.2)  # taken when the full decode lands: the study is decoded again with it
    held_full_decode.set()
    qtbot.waitUntil(lambda: not w.loaded.preview, timeout=30_000)
    assert {i.spacing.row_mm for i in w.loaded.study.info.images if i.spacing is not None} == {0.2}
    qtbot.waitUntil(lambda: w.cad.result is not None or w.cad.job is not None, timeout=10_000)  # as it said


def test_a_preview_left_for_a_study_that_fails_to_load_still_takes_its_full_pixels(
    main_window, qtbot, tmp_path, held_full_decode, monkeypatch
):
    from mammoview.gui import study_opening

    w = main_window
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        w.open_paths([str(two_j2k_studies(tmp_path / "batch"))])
    assert shown.args[0].preview and shown.args[0].study.info.meta.patient_id == "PAT-A"

    def boom_for_b(info, *args, **kw):  # type: ignore[no-untyped-def]
        def fail(progress, cancelled):  # type: ignore[no-untyped-def]
            raise OSError("disk on fire")

        return fail if info.meta.patient_id == "PAT-B" else load_job(info, *args, **kw)

    monkeypatch.setattr(study_opening, "load_job", boom_for_b)
    with qtbot.waitSignal(w.problemsReported, timeout=10_000):
        w.step_study(+1)  # its load replaced the preview's full decode, then failed
    assert w.loaded.preview and w.worklist.current == 0  # the preview stays on screen
    with qtbot.waitSignal(w.fullResolution, timeout=30_000):
        held_full_decode.set()
    assert w.loaded.study.info.meta.patient_id == "PAT-A" and not w.loaded.preview
    assert not any(p.display.preview for p in w.panels.values() if p.display is not None)


def test_where_no_helper_can_start_the_preview_is_painted_before_the_full_decode_holds_the_viewer(
    main_window, qtbot, tmp_path, monkeypatch
):
    """Without a helper the full decode runs in this process, its decoder holding the interpreter lock ~1 s a
    full-field view, which the viewer needs to put the preview up: a real study's preview went up 0.5 s before its
    full pixels, 6.6 s after the open (later than with no preview), the viewer frozen 5.3 s.  It waits for it now."""
    from mammoview.gui import helper_process

    def cannot_start(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("no /dev/shm")

    monkeypatch.setattr(helper_process, "ProcessPoolExecutor", cannot_start)
    w = main_window
    shown: list[bool] = []
    painted: set[View] = set()
    w.studyShown.connect(lambda loaded: shown.append(loaded.preview))
    for view, panel in w.panels.items():
        panel.image_item.sigPainted.connect(lambda v=view: painted.add(v) if shown else None)
    seen: list[tuple[list[bool], int]] = []
    original = loader._decoded_or_error

    def full_decode(*args):  # type: ignore[no-untyped-def]
        seen.append((list(shown), len(painted)))  # what the reader had on screen when it began
        return original(*args)

    monkeypatch.setattr(loader, "_decoded_or_error", full_decode)
    with qtbot.waitSignal(w.fullResolution, timeout=30_000):
        w.open_paths([str(j2k_study(tmp_path / "s"))])
    assert not w.load_helper.started  # previewed and decoded in this process
    assert len(seen) == 4 and all(s == ([True], 4) for s in seen), seen


def test_a_preset_window_set_on_the_preview_is_computed_again_of_the_full_images_statistics(
    main_window, qtbot, tmp_path, held_full_decode
):
    """A window the reader dragged on the preview stays (above); a preset's, the default one included, came of the
    preview's statistics and was kept too: on sfm-malign-0 in JPEG 2000 the R CC stayed at W 37231 L 40792 where the
    full image's default (Reset window, the same file opened at full resolution) is W 38295 L 41335, and a picture
    exported of the full pixels used it."""
    from mammoview.gui.display_image import prepare_display
    from mammoview.gui.window_level import Preset, WindowState, preset_window

    w = main_window
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        w.open_paths([str(j2k_study(tmp_path / "s"))])
    assert shown.args[0].preview
    w.image_controls.sync = False
    w._activate(w.panels[View.RCC])
    w.image_controls.apply_preset(Preset.DENSE)  # on the R CC; the others keep their default window
    w.image_controls.toggle_invert()
    before = {view: p.window_state for view, p in w.panels.items()}
    with qtbot.waitSignal(w.fullResolution, timeout=30_000):
        held_full_decode.set()
    for view, p in w.panels.items():
        stats = prepare_display(read_image(p.image.path)).stats  # the full image's, as opened at full resolution
        want = preset_window(Preset.DENSE if view is View.RCC else Preset.DEFAULT, p.image.info.chain, stats)
        assert before[view].voi != want.voi, view  # the preview's statistics give another window
        assert p.window_state == WindowState(want.voi, view is View.RCC, want.name), view


def test_the_cursor_read_out_on_a_preview_gives_no_stored_value_until_the_full_pixels_come(
    main_window, qtbot, tmp_path, held_full_decode
):
    """The status bar's read-out said ``stored N`` of the preview's pixel, which is no value of the file: on
    sfm-malign-0 in JPEG 2000 a preview's pixels differ from the full ones by 220-274 on average, by over 1000 for
    6-9 % of them and by up to 53639 (of 65535) at an edge; for the seconds the full decode takes."""
    import re

    from tests.gui.conftest import mouse

    w = main_window
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        w.open_paths([str(j2k_study(tmp_path / "s"))])
    assert shown.args[0].preview
    panel = w.panels[View.RCC]
    full = read_image(panel.image.path).stored
    vp = panel.graphics.viewport()
    for fraction in (0.8, 0.7, 0.6, 0.5, 0.4):  # on tissue, where the preview's value is not the file's
        mouse(vp, "move", (vp.width() * (fraction if panel.chest_wall_right else 1 - fraction), vp.height() / 2))
        text = w._cursor_label.text()
        col, row = (int(v) for v in re.search(r"\(px (\d+), (\d+)\)", text).groups())  # type: ignore[union-attr]
        if panel.image.stored[row, col] != full[row, col]:
            break
    assert panel.image.stored[row, col] != full[row, col]
    assert f"stored {panel.image.stored[row, col]} " not in text and "preview" in text, text
    with qtbot.waitSignal(w.fullResolution, timeout=30_000):
        held_full_decode.set()
    assert f"stored {full[row, col]} " in w._cursor_label.text()  # read again where the mouse rests


def test_the_loupe_over_a_preview_says_so_and_not_once_the_full_pixels_are_in(
    main_window, qtbot, tmp_path, held_full_decode
):
    w = main_window
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.open_paths([str(j2k_study(tmp_path / "s"))])
    panel = w.panels[View.LCC]
    w.commands["magnifier"].trigger()
    here = panel.view_box.mapViewToScene(panel.stored_to_scene(40.5, 60.5))
    panel._on_mouse_moved(here)
    assert panel.loupe.isVisible() and panel.loupe.note == "preview: decoding"  # its pixels are 4 x 4 blocks
    said = panel.loupe.grab().toImage()
    panel.loupe.note = ""
    plain = panel.loupe.grab().toImage()  # the same pixels without the note
    foot = [
        (x, y)
        for x in range(plain.width() // 3, 2 * plain.width() // 3)
        for y in range(plain.height() - 36, plain.height() - 22)
    ]
    assert sum(said.pixelColor(x, y) != plain.pixelColor(x, y) for x, y in foot) > len(foot) // 4  # the note is drawn
    with qtbot.waitSignal(w.fullResolution, timeout=30_000):
        held_full_decode.set()
    panel._on_mouse_moved(here)
    assert panel.loupe.isVisible() and panel.loupe.note == ""


def test_the_same_folder_opened_again_during_its_preview_is_the_study_on_screen_not_decoded_afresh(
    main_window, qtbot, tmp_path, held_full_decode
):
    w = main_window
    folder = j2k_study(tmp_path / "s")
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.open_paths([str(folder)])
    panel = w.panels[View.RCC]
    panel.view_box.scaleBy((0.5, 0.5))
    zoomed, preview_job = panel.view_box.viewRange(), w.jobs.current
    with qtbot.waitSignal(w.scans.finished, timeout=30_000):
        w.open_paths([str(folder)])  # File ▸ Recent, or the folder dropped again: scanned again
    assert w.jobs.current == preview_job  # its full decode is on the way: no second one
    with qtbot.waitSignal(w.fullResolution, timeout=30_000):
        held_full_decode.set()
    assert not panel.display.preview and panel.view_box.viewRange() == zoomed
