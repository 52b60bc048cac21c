"""Export edge cases: both files or neither, folders refused, the view on screen, modes, paths, legend, JSON layers."""

from __future__ import annotations

import errno
import json
import os

import pytest

from mammoview.gui import export_dialog
from mammoview.gui.export import export_study
from mammoview.gui.export_picture import legend_info
from mammoview.io.model import View
from tests.gui import cad_support

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
marked_study = cad_support.marked_study  # the fixture `study`


def _disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_json_that_cannot_be_written_loses_nothing(study, tmp_path, monkeypatch):
    """Disk full while the JSON is written: the confirmed overwrite must not leave a new picture beside the old
    findings (a mismatched pair), and a fresh export must not leave a picture without its findings."""
    old = export_study(study, tmp_path / "read.png")
    old_png, old_json = old.png.read_bytes(), old.json.read_bytes()
    study.commands["cad_first_read_done"].trigger()  # the new picture differs (CAD shown)
    monkeypatch.setattr(os, "fsync", _disk_full)  # the disk fills up as the JSON is flushed
    with pytest.raises(OSError, match="No space"):
        export_study(study, tmp_path / "read.png", overwrite=True)
    assert old.json.read_bytes() == old_json
    assert old.png.read_bytes() == old_png, "the picture was replaced although its findings JSON was not"
    with pytest.raises(OSError, match="No space"):
        export_study(study, tmp_path / "fresh.png")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("fresh", ".fresh"))) == []


def test_a_folder_named_like_the_json_is_refused_before_anything_is_replaced(study, tmp_path, monkeypatch, qtbot):
    """x.json is a folder: the dialog must not offer to "replace" it, nor replace x.png and then fail."""
    target = tmp_path / "x.png"
    target.write_bytes(b"old picture")
    (tmp_path / "x.json").mkdir()
    asked: list[list] = []
    monkeypatch.setattr(export_dialog, "confirm_overwrite", lambda parent, paths: asked.append(paths) or True)
    dlg = export_dialog.ExportDialog(study)
    qtbot.addWidget(dlg)
    dlg.path.setText(str(target))
    dlg.accept()
    assert dlg.written is None
    assert target.read_bytes() == b"old picture", "x.png replaced, then the export failed on the folder x.json"
    assert asked == [], "asked whether to replace a folder"
    assert study.last_message is not None and "folder" in study.last_message[1]


def test_the_exported_picture_and_json_are_readable_like_the_sr_and_the_read_log(study, tmp_path):
    """An export is made to be shared (hence anonymised); written 0600 like the app's private data, a colleague
    cannot open it in a shared folder. The DICOM SR and the read log get the user's umask."""
    old = os.umask(0o022)
    try:
        out = export_study(study, tmp_path / "share.png")
    finally:
        os.umask(old)
    for p in (out.png, out.json):
        assert p.stat().st_mode & 0o044 == 0o044, f"{p.name} is {oct(p.stat().st_mode & 0o777)}"


def test_a_home_relative_path_is_written_under_home(study, tmp_path, monkeypatch, qtbot):
    """A radiologist types ``~/exports/read.png``: the file goes to the home folder, not to a folder named "~"
    under whatever the viewer's working directory is."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    dlg = export_dialog.ExportDialog(study)
    qtbot.addWidget(dlg)
    dlg.path.setText("~/exports/read.png")
    dlg.accept()
    qtbot.waitUntil(lambda: dlg.written is not None, timeout=30_000)  # (written in a worker thread)
    assert not (cwd / "~").exists(), "a folder named '~' was created in the working directory"
    assert (home / "exports" / "read.png").exists()


def test_the_legend_does_not_say_cad_has_not_run_while_it_runs(study, tmp_path):
    """Ctrl+D starts the CAD; an export made before it finishes must not claim it has not run."""
    w = study
    w.cad.runner.cache.clear()
    w.cad._use_result(None)
    w.cad.rebuild()
    w.commands["cad_first_read_done"].trigger()  # starts the run (the tiny test model)
    assert w.cad.job is not None and w.cad.result is None
    info = legend_info(w, anonymize=True)
    assert info.state != "CAD has not run for this study"
    assert "running" in info.state.lower()


def test_the_json_says_which_cad_layers_the_picture_hides(study, tmp_path):
    """Calcifications hidden (or every CAD layer, C): the JSON must say so, since its ``images`` still list every
    finding while the picture shows none of them (its matching rows are already cut to the shown kinds)."""
    w = study
    w.commands["cad_first_read_done"].trigger()
    w.cad.set_flag("calcification", False)
    doc = json.loads(export_study(w, tmp_path / "nocalc.png").json.read_text())
    rcc = next(e for e in doc["images"] if e["laterality"] == "R" and e["view"] == "CC")
    assert [f["kind"] for f in rcc["findings"]] == ["calcification"]  # listed ...
    assert all(r["finding"] is None or r["finding"]["kind"] != "calcification" for r in doc["matching"]["rows"])
    layers = doc["display"].get("layers")  # ... so the JSON must say the picture does not show them
    assert layers is not None and layers["calcification"] is False and layers["mass"] is True


def test_a_left_panel_title_wider_than_the_panel_keeps_its_laterality(study, qtbot):
    """The outer corner of a left-breast panel is its right edge; a title wider than the panel (a narrow window, a
    comparison layout, a long tomosynthesis / close-up note) was pushed out on the left: the picture reads "CC"."""
    w = study
    w.resize(1024, 700)
    qtbot.wait(50)
    panel = w.panels[View.LCC]
    panel.labels.set_title_extra("(2 of 2) · spot compression · tomosynthesis frame 12 of 60")
    title = panel.labels.title
    assert title.width() > 0
    assert title.x() >= 0, f"title starts at x={title.x()}: 'L' is cut off"
    assert title.x() + title.width() <= panel.width()
    panel.labels.place()  # placed again (a resize, a text change): still inside
    assert title.x() >= 0 and title.x() + title.width() <= panel.width()
    w.resize(1600, 1000)
    qtbot.wait(50)
    panel.labels.set_title_extra("")  # short again: one line, its natural size
    assert title.height() < 40 and title.x() + title.width() == panel.width() - 6


def test_export_active_view_exports_a_view_on_screen(study, tmp_path, qtbot):
    """R MLO active, then View ▸ Layout ▸ CC pair (Alt+2): Ctrl+Shift+E exported the hidden R MLO panel (grabbed off
    screen at its old size), a picture of a view the reader does not see."""
    from mammoview.gui.export_picture import grab_shown

    w = study
    w._activate(w.panels[View.RMLO])
    w.commands["layout_cc"].trigger()
    qtbot.wait(50)
    image = grab_shown(w, active_only=True, anonymize=True)
    rcc = w.panels[View.RCC]  # the shown view of the active view's side
    assert rcc.isVisible() and image.size() == rcc.size(), "exported a panel that is not on screen"


def test_an_export_asked_on_one_study_does_not_write_the_next_one_that_went_up_meanwhile(main_window, load, tmp_path,
                                                                                         qtbot):  # fmt: skip
    """PgDown, then Ctrl+E while the next study decodes: the dialog named the file after the study on screen (its
    pseudonym), and the study that went up while it was open was written under that name."""
    from tests.gui.test_worklist import batch

    w = main_window
    load(w, [batch(tmp_path / "batch")])
    dlg = export_dialog.ExportDialog(w)
    qtbot.addWidget(dlg)
    asked_for = dlg.path.text()  # mammoview-<the shown study's pseudonym>-<date>.png
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        w.step_study(+1)  # lands while the dialog is open
    dlg.path.setText(str(tmp_path / "out" / asked_for.rsplit("/", 1)[-1]))
    dlg.accept()
    assert dlg.written is None
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert "another study" in w.statusBar().currentMessage()
