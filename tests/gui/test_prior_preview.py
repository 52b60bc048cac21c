"""A prior exam stored in JPEG 2000 goes up in the comparison layouts first from its reduced-resolution levels (a
preview), as the current study does, then takes its full pixels in place: the reader's zoom, pan and window on the
prior's panels stay; export waits for the full pixels; a full decode that fails after its preview is said."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mammoview.gui import loader
from mammoview.gui.loader import LoadedStudy, load_job
from mammoview.gui.prior_compare import NOT_OPENED, UNREADABLE
from mammoview.io import preview
from mammoview.io.model import View
from mammoview.io.reader import read_image
from tests.gui.conftest import failing_for, in_jpeg2000
from tests.gui.test_preview_load import held_full_decode
from tests.gui.test_priors import compare, date_of, exams

__all__ = ["held_full_decode"]  # a fixture, shared with the current study's preview tests


@pytest.fixture(autouse=True)
def _small_previews(monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic views are ~0.15 Mpx: previewed here as full-field views would be."""
    monkeypatch.setattr(preview, "PREVIEW_MIN_PIXELS", 0)


def j2k_prior(folder: Path) -> Path:
    """One patient's 2024 exam (uncompressed) and 2022 exam (JPEG 2000, the prior)."""
    exams(folder, ("a-2024", "b-2022"))
    in_jpeg2000(*sorted((folder / "b-2022").glob("*.dcm")))
    return folder


def opened_without_prefetch(w, load, folder: Path) -> None:  # type: ignore[no-untyped-def]
    load(w, [folder])
    w.prefetch.cancel()  # the worklist's next study is the prior: its background decode must not stand in for it
    w._prefetched = None


def test_the_prior_goes_up_as_a_preview_then_takes_its_full_pixels_keeping_the_readers_view(
    main_window, load, qtbot, tmp_path, held_full_decode
):
    w = main_window
    opened_without_prefetch(w, load, j2k_prior(tmp_path / "exams"))
    shown = compare(w, qtbot)
    assert shown is not None and shown.preview and date_of(w.hanging.prior_panels[View.RCC]) == "20220515"
    prior = w.hanging.prior_panels[View.LCC]
    assert prior.display.preview and "preview: full resolution decoding" in prior.labels._title_extra
    assert w.priors.previewing
    w.export()
    assert "still decoding" in w.statusBar().currentMessage()  # a picture of the full pixels only
    # the reader zooms into the prior and sets its window meanwhile
    w.priors._on_window_drag(prior, 40, -20)
    prior.view_box.scaleBy((0.5, 0.5))
    zoomed, window = prior.view_box.viewRange(), prior.window_state
    image = prior.display.image
    with qtbot.waitSignal(w.priors.priorShown, timeout=30_000) as full:
        held_full_decode.set()
    assert full.args[0] is w.priors.loaded and not full.args[0].preview
    for view in (View.RCC, View.LCC):
        panel = w.hanging.prior_panels[view]
        assert not panel.display.preview, view
        np.testing.assert_array_equal(panel.image.stored, read_image(panel.image.path).stored)
        assert "preview" not in panel.labels._title_extra and "prior" in panel.labels._title_extra
    assert prior.display.image is image  # the same image, its full pixels now
    assert prior.view_box.viewRange() == zoomed and prior.window_state == window
    assert not w.priors.previewing
    assert date_of(w.panels[View.RCC]) == "20240601"  # the current study is untouched


def test_a_preset_window_of_the_prior_preview_is_computed_again_of_the_full_image(
    main_window, load, qtbot, tmp_path, held_full_decode
):
    w = main_window
    opened_without_prefetch(w, load, j2k_prior(tmp_path / "exams"))
    compare(w, qtbot)
    prior = w.hanging.prior_panels[View.RCC]
    before = prior.window_state.voi
    assert before == prior.display.stats.default_voi  # the preview's default window
    with qtbot.waitSignal(w.priors.priorShown, timeout=30_000):
        held_full_decode.set()
    assert prior.display.stats.default_voi != before  # (the full image's statistics differ from the preview's)
    assert prior.window_state.voi == prior.display.stats.default_voi  # the full image's


def test_a_full_decode_of_the_prior_that_fails_after_its_preview_is_said_and_the_others_stay(
    main_window, load, qtbot, tmp_path, held_full_decode, monkeypatch
):
    w = main_window
    opened_without_prefetch(w, load, j2k_prior(tmp_path / "exams"))
    # its reduced levels decode, the whole codestream does not
    monkeypatch.setattr(loader, "decode", failing_for("RCC.dcm", loader.decode, "cannot decode (truncated)"))
    monkeypatch.setattr(w.load_helper, "decode", failing_for("RCC.dcm", w.load_helper.decode, "cannot decode"))
    assert compare(w, qtbot).preview
    with qtbot.waitSignal(w.problemsReported, timeout=30_000) as said:
        held_full_decode.set()
    title, text = said.args
    assert title == "Prior study opened with problems" and "RCC.dcm" in text
    rcc, lcc = w.hanging.prior_panels[View.RCC], w.hanging.prior_panels[View.LCC]
    assert rcc.image is None and UNREADABLE in rcc.labels.empty_text()
    assert date_of(lcc) == "20220515" and not lcc.display.preview  # the other view, at full resolution
    assert not w.priors.previewing


def test_a_prior_job_that_fails_after_its_preview_while_a_view_is_maximised_is_said_on_restore(
    main_window, load, qtbot, tmp_path, held_full_decode, monkeypatch
):
    w = main_window
    opened_without_prefetch(w, load, j2k_prior(tmp_path / "exams"))
    assert compare(w, qtbot).preview
    w.toggle_maximize_active()  # the prior's row is hidden while one view fills the window

    def crashed(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("out of memory")  # not a file's LoadError: the job itself fails

    monkeypatch.setattr(loader, "decode", crashed)
    monkeypatch.setattr(w.load_helper, "decode", crashed)
    with qtbot.waitSignal(w.problemsReported, timeout=30_000) as said:
        held_full_decode.set()
    assert said.args[0] == "Could not open the prior study"
    w.toggle_maximize_active()
    rcc = w.hanging.prior_panels[View.RCC]
    assert rcc.image is None and NOT_OPENED in rcc.labels.empty_text()  # not the preview, decoding for good
    assert not w.priors.previewing
    w.export()
    assert "still decoding" not in w.statusBar().currentMessage()


def test_a_spacing_given_while_the_current_studys_full_pixels_decode_reaches_its_prior_at_once(
    main_window, load, qtbot, tmp_path, held_full_decode
):
    w = main_window
    folder = exams(tmp_path / "exams", ("a-2024", "b-2022"), prior_spacing=None)
    in_jpeg2000(*sorted((folder / "a-2024").glob("*.dcm")))  # the current exam in JPEG 2000: a preview first
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        w.open_paths([str(folder)])
    assert shown.args[0].preview
    compare(w, qtbot)
    assert w.hanging.prior_panels[View.LCC].image.info.spacing is None  # the prior's files give none
    with qtbot.waitSignal(w.priors.priorShown, timeout=20_000):
        w.set_pixel_spacing(0.1)  # while the current study's full pixels decode: the prior takes it now
    assert w.hanging.prior_panels[View.LCC].image.info.spacing.row_mm == 0.1
    with qtbot.waitSignal(w.fullResolution, timeout=30_000):
        held_full_decode.set()
    assert w.hanging.prior_panels[View.LCC].image.info.spacing.row_mm == 0.1


def test_a_prior_preview_takes_the_full_pixels_of_the_worklists_prefetch_of_it_when_that_lands_first(
    main_window, load, qtbot, tmp_path, held_full_decode
):
    """The prior is often the worklist's next study, prefetched in the background: when that decode lands while the
    prior is still a preview, its full pixels are taken (zoom and window kept) and the prior's own full decode, the
    same work beside it on two cores, is dropped."""
    w = main_window
    opened_without_prefetch(w, load, j2k_prior(tmp_path / "exams"))
    compare(w, qtbot)
    prior = w.hanging.prior_panels[View.LCC]
    assert prior.display.preview and w.priors.jobs.busy  # its own full decode held
    prior.view_box.scaleBy((0.5, 0.5))
    w.priors._on_window_drag(prior, 40, -20)
    zoomed, window = prior.view_box.viewRange(), prior.window_state
    full = load_job(w.priors.prior)(lambda _m: None, lambda: False)  # the prefetch's decode (no preview)
    assert isinstance(full, LoadedStudy) and not full.preview
    with qtbot.waitSignal(w.priors.priorShown, timeout=5_000) as shown:
        w._on_prefetched(full)  # it lands
    assert shown.args[0] is full and w.priors.loaded is full and not w.priors.previewing
    for view in (View.RCC, View.LCC):
        panel = w.hanging.prior_panels[view]
        assert panel.display in full.displays.values() and "preview" not in panel.labels._title_extra
    assert prior.view_box.viewRange() == zoomed and prior.window_state == window
    assert w.priors.jobs.current not in w.priors.jobs._threads  # its own full decode is stale
    held_full_decode.set()
    qtbot.waitUntil(lambda: not w.priors.jobs._threads, timeout=30_000)
    assert w.priors.loaded is full  # the stale decode's result is dropped


def test_a_prior_preview_stepped_away_from_and_back_to_with_shift_p_takes_its_full_pixels_not_a_new_preview(
    main_window, load, qtbot, tmp_path, held_full_decode
):
    """Shift+P to an older prior and back before that one went up: the preview still held, whose full decode the
    step stopped, is decoded in full into its own images (its reduced levels were decoded again, and a second
    preview went up)."""
    w = main_window
    folder = exams(tmp_path / "exams")
    in_jpeg2000(*sorted((folder / "b-2022").glob("*.dcm")))
    opened_without_prefetch(w, load, folder)
    first = compare(w, qtbot)
    assert first is not None and first.preview and date_of(w.hanging.prior_panels[View.RCC]) == "20220515"
    images = {v: w.hanging.prior_panels[v].display.image for v in (View.RCC, View.LCC)}
    shown: list[object] = []
    w.priors.priorShown.connect(shown.append)
    w.commands["older_prior"].trigger()  # the 2019 exam, decoding ...
    w.commands["older_prior"].trigger()  # ... and back to 2022 before it went up
    assert w.priors.prior is first.study.info and w.priors.jobs.busy
    with qtbot.waitSignal(w.priors.priorShown, timeout=30_000) as full:
        held_full_decode.set()
    assert not full.args[0].preview and full.args[0] is w.priors.loaded
    assert all(s is first or s is full.args[0] for s in shown if s is not None)  # no second preview went up
    for view, image in images.items():
        panel = w.hanging.prior_panels[view]
        assert panel.display.image is image and not panel.display.preview, view  # the preview's own, in full
        np.testing.assert_array_equal(panel.image.stored, read_image(panel.image.path).stored)
        assert date_of(panel) == "20220515"
