"""`mammoview view --model/--device/--auto-cad`, and what the options do in the window."""

from __future__ import annotations

from pathlib import Path

from mammoview.gui import app as gui_app
from mammoview.gui.cad_worker import CadOptions
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import colourful, grab_rgb

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def test_view_command_passes_the_cad_options(monkeypatch):
    from mammoview.cli import main

    calls: list[tuple[list[str], dict[str, object]]] = []
    monkeypatch.setattr(gui_app, "run_viewer", lambda paths, **kw: calls.append((paths, kw)) or 0)
    assert main(["view", "study", "--model", "mammoview-paper_cnn", "--device", "cpu", "--auto-cad",
                 "--models-dir", "m"]) == 0  # fmt: skip
    paths, kw = calls[-1]
    assert paths == ["study"]
    assert kw["cad_options"] == CadOptions(model="mammoview-paper_cnn", models_dir=Path("m"), device="cpu",
                                           auto_run=True)  # fmt: skip
    assert main(["view"]) == 0 and "cad_options" not in calls[-1][1]  # no flag: the saved settings


def test_auto_cad_computes_after_opening_but_shows_nothing(cad_models, qtbot, load, synthetic_study):
    from mammoview.gui.main_window import MainWindow

    window = MainWindow(cad_options=CadOptions(auto_run=True, device="cpu"))
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.commands["cad_auto"].isChecked() and window.cad.device_pref == "cpu"
        assert not window.settings.flag("cad/auto_run", False)  # a command-line option is not saved
        with qtbot.waitSignal(window.cad.runner.resultReady, timeout=60_000):
            load(window, [synthetic_study])
        assert window.cad.result is not None and not window.cad.unlocked
        assert "first read" in window.statusBar().currentMessage()
        assert all(colourful(grab_rgb(p)).sum() == 0 for p in window.panels.values())
        window.commands["cad_first_read_done"].trigger()
        assert window.cad.overlays[View.RCC].visible_layers() & {"heatmap", "marks:mass", "marks:calcification"}
    finally:
        window.cad.shutdown()


def test_every_shortcut_is_unique_and_every_cad_action_is_in_a_menu(main_window):
    from PySide6 import QtGui

    actions = main_window.commands.all_actions()
    keys = [a.shortcut().toString(QtGui.QKeySequence.SequenceFormat.PortableText) for a in actions]
    keys = [k for k in keys if k]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    cad = [a for a in actions if a in main_window.cad.actions.values()]
    assert len(cad) == len(main_window.cad.actions)
    assert all(a.statusTip() and not a.shortcut().isEmpty() for a in cad)
    assert main_window.menus["CAD"].actions()
    file_menu = [a.text() for a in main_window.menus["File"].actions() if not a.isSeparator()]
    assert file_menu[-1] == "&Quit"  # the CAD layer's exports sit with Export…, not below Quit
    i = file_menu.index("&Export…")
    assert file_menu[i : i + 3] == ["&Export…", "Export active &view…", "Export CAD as DICOM &SR…"]


def test_device_choice_reaches_the_engine(cad_window, load, synthetic_study, qtbot, monkeypatch):
    import torch

    from mammoview.gui import dialogs

    window = cad_window
    boxes: list[str] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append(text))
    load(window, [synthetic_study])
    window.commands["cad_device_cpu"].trigger()
    assert window.cad.runner.provider.choice.device == "cpu" and window.settings.value("cad/device") == "cpu"
    if not torch.cuda.is_available():
        window.commands["cad_device_cuda"].trigger()
        window.cad.run()
        qtbot.waitUntil(lambda: bool(boxes), timeout=30_000)
        assert "CUDA is not available" in boxes[0]  # said, not silently run on the CPU
        window.commands["cad_device_auto"].trigger()
    if not torch.backends.mps.is_available():  # the menu offers Apple's GPU as --device does
        window.commands["cad_device_mps"].trigger()
        assert window.settings.value("cad/device") == "mps"
        window.cad.run()
        qtbot.waitUntil(lambda: any("MPS is not available" in b for b in boxes), timeout=30_000)
        window.commands["cad_device_auto"].trigger()
    with qtbot.waitSignal(window.cad.runner.resultReady, timeout=60_000):
        window.cad.run()
    assert window.cad.result.device == "cpu"
