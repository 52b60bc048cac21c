"""A settings file edited by hand, or written by another version, starts the viewer with the defaults for what it
cannot read, and keeps what it can."""

from __future__ import annotations

import os
from pathlib import Path

from mammoview.gui.settings import ViewerSettings
from tests.gui.conftest import shown_main_window


def write_ini(text: str) -> Path:
    ini = Path(os.environ["MAMMOVIEW_APP_DATA"]) / "mammoview.ini"
    ini.write_text(text, encoding="utf-8")
    return ini


def test_a_switch_saved_as_a_word_the_viewer_does_not_know_is_its_default(qtbot):
    """overlay_text=maybe, an empty scale_bar=, a list: each read as off (the patient text, the scale bar and the CAD
    heatmap gone at start), where the default is on; auto_run=1, 2 ran the CAD at every opening."""
    write_ini("[view]\noverlay_text=maybe\nscale_bar=\nfit_breast=true, false\n"
              "[image]\nsync_window=false\n"
              "[cad]\nauto_run=1, 2\nstyle\\heatmap=2\nstyle\\marks=off\nstyle\\scores=No\n")  # fmt: skip
    with shown_main_window(qtbot) as w:
        assert (w.overlay_visible, w.scale_bar, w.fit_breast_default) == (True, True, True)
        assert not w.image_controls.sync  # a word it knows is kept
        assert not w.cad.auto_run
        assert w.cad.style.heatmap and not w.cad.style.marks and not w.cad.style.scores
        assert w.commands["overlay"].isChecked() and w.commands["scale_bar"].isChecked()


def test_a_cine_speed_in_digits_int_cannot_read_does_not_stop_the_viewer_starting(qtbot):
    """cine_rate=² (str.isdigit() accepts superscripts, int() does not): ValueError in MainWindow(), no viewer."""
    from mammoview.gui.frames import DEFAULT_CINE_RATE

    write_ini("[image]\ncine_rate=\u00b2\n")
    with shown_main_window(qtbot) as w:
        assert w.frames.cine_rate == DEFAULT_CINE_RATE


def test_a_cad_device_name_the_viewer_does_not_know_is_automatic(qtbot):
    """device=tpu (or "gpu"): every CAD run failed ("unknown device 'tpu'") and no item of CAD ▸ CAD device was
    checked; a device the menu does not offer but the engine runs on (cuda:1) is kept."""
    write_ini("[cad]\ndevice=tpu\n")
    with shown_main_window(qtbot) as w:
        assert w.cad.device_pref == "auto" and w.commands["cad_device_auto"].isChecked()
    write_ini("[cad]\ndevice=cuda:1\n")
    with shown_main_window(qtbot) as w:
        assert w.cad.device_pref == "cuda:1"


def test_a_last_worklist_that_is_no_list_of_paths_is_none():
    """A JSON string saved as the last worklist was read letter by letter, "/" among them (it exists): Reopen last
    worklist (Ctrl+Alt+W) would scan the whole disk as a worklist."""
    settings = ViewerSettings()
    for damaged in ('"/data/screening"', '{"/data/screening": 1}', '["/data/a", 3]', "null"):
        settings.set_value("worklist/last", damaged)
        assert settings.last_worklist() == (), damaged
    settings.set_last_worklist(("/data/a", "/data/b"))
    assert settings.last_worklist() == ("/data/a", "/data/b")
