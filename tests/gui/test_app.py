"""Start-up pieces: exception hooks, settings, menus/shortcuts, help dialogs, and the `mammoview view` command."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6 import QtWidgets

from mammoview.gui import app as gui_app
from mammoview.gui.linking import LinkMode
from mammoview.gui.settings import RecentStudy, ViewerSettings, open_settings


def test_excepthooks_log_and_show_a_dialog(qtbot, monkeypatch, caplog):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    gui_app.install_excepthooks()
    relay = gui_app._relay
    assert relay is not None
    try:
        raise ValueError("boom in a slot")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    worker = threading.Thread(target=lambda: 1 / 0, name="decoder")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(relay.dialogs) == 2, timeout=3000)
    texts = [box.text() for box in relay.dialogs]
    assert any("boom in a slot" in t for t in texts)
    assert any("ZeroDivisionError" in t and "thread decoder" in t for t in texts)
    assert "uncaught exception in GUI thread" in caplog.text
    for box in list(relay.dialogs):
        box.close()


def test_an_uncaught_exception_is_logged_with_its_traceback_on_lines_of_its_own(monkeypatch):
    """`mammoview view` logs through TerminalFormatter, which writes a message's newlines as \\x0a: the traceback,
    formatted into the message, reached the terminal as one line of escapes."""
    import io
    import logging

    from mammoview.terminal import TerminalFormatter

    monkeypatch.setattr(gui_app, "_relay", None)  # the log line alone
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TerminalFormatter("%(levelname)s %(name)s: %(message)s"))  # as the command line's
    gui_app.log.addHandler(handler)
    try:
        try:
            raise ValueError("boom in a slot")
        except ValueError as exc:
            gui_app.report_exception(type(exc), exc, exc.__traceback__)
    finally:
        gui_app.log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "ERROR mammoview.gui.app: uncaught exception in GUI thread", lines
    assert lines[1] == "Traceback (most recent call last):" and lines[-1] == "ValueError: boom in a slot", lines


def test_settings_live_in_the_app_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(tmp_path / "appdata"))
    s = ViewerSettings()
    s.add_recent(RecentStudy(("/a/1.dcm", "/a/2.dcm"), "Study A"))
    s.add_recent(RecentStudy(("/b/1.dcm",), "Study B"))
    s.add_recent(RecentStudy(("/a/1.dcm", "/a/2.dcm"), "Study A"))  # moves to the top, no duplicate
    s.sync()
    assert Path(open_settings().fileName()) == tmp_path / "appdata" / "mammoview.ini"
    again = ViewerSettings()
    assert [r.title for r in again.recent_studies()] == ["Study A", "Study B"]
    s.qsettings.setValue("recent/studies", ["not json", RecentStudy(("/c",), "C").to_json()])
    assert [r.title for r in ViewerSettings(s.qsettings).recent_studies()] == ["C"]


def test_recent_study_geometry_and_preferences_are_remembered(main_window, load, synthetic_study, qtbot):
    from mammoview.gui.main_window import MainWindow

    load(main_window, [synthetic_study])
    main_window.commands["link_all"].trigger()
    main_window.commands["overlay"].trigger()  # off
    main_window.resize(900, 700)
    main_window.close()
    recent = main_window.settings.recent_studies()
    assert recent and sorted(Path(p).name for p in recent[0].paths) == ["LCC.dcm", "LMLO.dcm", "RCC.dcm", "RMLO.dcm"]
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.link_mode is LinkMode.ALL and not second.overlay_visible
    assert second.settings.geometry() is not None
    assert second.height() == 700  # (the offscreen platform clamps the width to its 800-px screen)
    assert second.commands["link_all"].isChecked()
    with qtbot.waitSignal(second.studyShown, timeout=20_000):
        second.commands["reopen_last"].trigger()
    second.jobs.shutdown()


def test_every_action_has_a_unique_shortcut_and_a_tip(main_window):
    actions = main_window.commands.all_actions()
    keys = [a.shortcut().toString() for a in actions]
    assert all(keys), [a.text() for a in actions if not a.shortcut().toString()]
    assert len(set(keys)) == len(keys), sorted(keys)
    assert all(a.statusTip() for a in actions)
    titles = [m.title().replace("&", "") for m in main_window.menuBar().findChildren(QtWidgets.QMenu)]
    assert {"File", "View", "Image", "Help", "Recent studies"} <= set(titles)


#: Keys the Linux desktops take before an application sees them (GNOME, KDE, Xfce, the X server).
DESKTOP_KEYS = {"Ctrl+Alt+T", "Ctrl+Alt+L", "Ctrl+Alt+D", "Ctrl+Alt+Del", "Ctrl+Alt+Backspace", "Ctrl+Alt+Esc",
                "Ctrl+Alt+Tab", "Alt+Tab", "Alt+F4", "Alt+F2", "Ctrl+Alt+Left", "Ctrl+Alt+Right", "Ctrl+Alt+Up",
                "Ctrl+Alt+Down", *(f"Ctrl+Alt+F{k}" for k in range(1, 13))}  # fmt: skip


def test_no_shortcut_is_one_the_desktop_takes(main_window):
    """Ctrl+Alt+T (reopen the worklist) opened a terminal on Ubuntu, Ctrl+Alt+L (export the read log) locked the
    screen on KDE/Xfce, and Ctrl+Alt+F1..F4 (CAD device) switched to a text console."""
    taken = [(a.text(), k.toString()) for a in main_window.commands.all_actions() for k in a.shortcuts()
             if k.toString() in DESKTOP_KEYS]  # fmt: skip
    assert taken == []


def test_help_dialogs_and_extension_points(main_window):
    main_window.commands["about"].trigger()
    about = [b for b in main_window.findChildren(QtWidgets.QMessageBox) if b.isVisible()]
    assert any("Research use only" in b.text() for b in about)
    # the MIT licence is the code's: the models' is research use only (their training data's), said apart
    assert any("MIT" in b.text() and "models" in b.text() and "research use only" in b.text() for b in about)
    main_window.commands["shortcuts"].trigger()
    table = main_window.findChildren(QtWidgets.QTableWidget)[0]
    assert table.rowCount() > 30
    cad = main_window.add_menu("&CAD")
    assert main_window.menuBar().actions()[-2].menu() is cad  # before Help
    dock = main_window.add_dock(QtWidgets.QLabel("findings"), "Findings", "findings")
    assert main_window.dockWidgetArea(dock) == gui_app.QtCore.Qt.DockWidgetArea.RightDockWidgetArea


def test_view_command_parses_and_starts_the_viewer(monkeypatch):
    from mammoview.cli import build_parser, main

    calls: list[tuple[list[str], object]] = []
    monkeypatch.setattr(
        gui_app, "run_viewer", lambda paths, pixel_spacing=None: calls.append((paths, pixel_spacing)) or 0
    )
    assert main(["view", "a.dcm", "folder", "--pixel-spacing", "0.07"]) == 0
    assert main([]) == 0  # plain `mammoview` opens the viewer
    assert main(["view", "cbis", "--pixel-spacing", "0.29,0.177"]) == 0  # ROW,COL: the stretched CBIS JPEGs
    assert calls == [(["a.dcm", "folder"], 0.07), ([], None), (["cbis"], (0.29, 0.177))]
    args = build_parser().parse_args(["view"])
    assert args.paths == [] and args.pixel_spacing is None
    for bad in ("wide", "-1", "0.2,0.3,0.4"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["view", "--pixel-spacing", bad])


def test_open_folder_and_files_dialogs(main_window, qtbot, monkeypatch, synthetic_study):
    files = [str(p) for p in sorted(synthetic_study.glob("*.dcm"))]
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a: str(synthetic_study))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileNames", lambda *a: (files[:2], ""))
    with qtbot.waitSignal(main_window.studyShown, timeout=20_000):
        main_window.commands["open_folder"].trigger()
    assert sum(p.image is not None for p in main_window.panels.values()) == 4
    assert main_window.settings.value("file/last_dir") == str(synthetic_study)
    with qtbot.waitSignal(main_window.studyShown, timeout=20_000):
        main_window.commands["open_files"].trigger()
    assert sum(p.image is not None for p in main_window.panels.values()) == 2


def test_the_dark_reading_room_theme_is_the_default_and_can_be_switched_off(main_window, qtbot):
    """Bright docks beside mammograms dazzle a reader in a dimmed room: dark by default, saved when changed."""
    from PySide6 import QtGui

    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.theme import accent

    app = QtWidgets.QApplication.instance()
    window_colour = QtGui.QPalette.ColorRole.Window
    assert main_window.theme == "dark" and main_window.commands["dark_theme"].isChecked()
    assert app.palette().color(window_colour).lightness() < 60 and app.style().name().lower() == "fusion"
    assert accent("matched").lightness() > 128  # the findings panel's green reads on the dark background
    main_window.commands["dark_theme"].trigger()
    try:
        assert main_window.theme == "light" and main_window.settings.value("view/theme") == "light"
        assert app.palette().color(window_colour).lightness() > 128  # the desktop's own (Qt's default here)
        assert accent("matched").lightness() < 128
        again = MainWindow(settings=main_window.settings)  # the choice is remembered
        qtbot.addWidget(again)
        assert again.theme == "light" and not again.commands["dark_theme"].isChecked()
        again.jobs.shutdown()
        again.prefetch.shutdown()
    finally:
        main_window.commands["dark_theme"].trigger()
    assert main_window.theme == "dark" and app.palette().color(window_colour).lightness() < 60


def test_the_scrolling_cad_panel_keeps_its_whole_width(main_window, load, synthetic_study, qtbot):
    """At 1024 x 700 the CAD panel scrolls; its scroll bar took its width from the contents, so the model line and the
    Marks choice were cut off at the right edge when the docks were as narrow as they go."""
    from PySide6 import QtCore

    load(main_window, [synthetic_study])
    main_window.resize(1024, 700)
    dock = main_window.findChild(QtWidgets.QDockWidget, "cad_dock")
    main_window.resizeDocks([dock], [1], QtCore.Qt.Orientation.Horizontal)  # as narrow as the docks go
    qtbot.wait(100)
    area = main_window.findChild(QtWidgets.QScrollArea, "cad_dock_scroll")
    assert area.verticalScrollBar().isVisible()
    assert area.widget().width() <= area.viewport().width(), (area.widget().width(), area.viewport().width())


def test_the_window_and_its_dialogs_fit_a_small_screen(qtbot, monkeypatch, synthetic_study, load):
    """A 1366 x 768 laptop, or a 1600 x 1000 screen at 200 % (800 x 500 logical pixels): the main window opened at
    1400 x 900, the shortcuts at 560 x 620 and File header at 820 x 640, their status bar and Close buttons below
    the screen's edge (screenshots of a helper review, QT_SCALE_FACTOR=2 on 1600 x 1000)."""
    from PySide6 import QtCore, QtGui

    from mammoview.gui.header_dialog import HeaderDialog
    from tests.gui.conftest import shown_main_window

    room = QtCore.QRect(0, 0, 800, 500)
    monkeypatch.setattr(QtGui.QScreen, "availableGeometry", lambda self: room)
    from mammoview.gui.main_window import MainWindow

    fresh = MainWindow()  # no saved geometry: its default size
    qtbot.addWidget(fresh)
    try:
        assert fresh.width() <= room.width() and fresh.height() <= room.height()
    finally:
        for part in (fresh.jobs, fresh.prefetch, fresh.prefetch_helper, fresh.load_helper, fresh.priors, fresh.frames):
            part.shutdown()
    with shown_main_window(qtbot) as window:
        load(window, [synthetic_study])
        window.commands["shortcuts"].trigger()
        window.commands["header"].trigger()
        dialogs = [d for d in window.findChildren(QtWidgets.QDialog) if d.isVisible()]
        assert len(dialogs) == 2 and any(isinstance(d, HeaderDialog) for d in dialogs)
        for dialog in dialogs:
            assert dialog.width() <= room.width() and dialog.height() <= room.height(), dialog.windowTitle()
            dialog.close()


def test_the_shortcuts_table_shows_both_columns_without_scrolling_sideways(main_window, qtbot):
    """The mouse rows' long gestures ("Mouse wheel (Ctrl + wheel over a tomosynthesis volume)") made the Shortcut
    column wider than the 560 px dialog: it was cut off behind a horizontal scroll bar on a 1600 x 1000 screen."""
    main_window.commands["shortcuts"].trigger()
    (dialog,) = [d for d in main_window.findChildren(QtWidgets.QDialog) if d.isVisible()]
    table = dialog.findChild(QtWidgets.QTableWidget)
    qtbot.waitUntil(lambda: table.viewport().width() > 0)
    assert table.horizontalScrollBar().maximum() == 0
    dialog.close()


def test_first_start_opens_maximised_and_later_starts_as_left(main_window, qtbot):
    """A reading screen is the viewer's own: the first start (no saved window) opened a 1400 x 900 window in the middle
    of the screen; it opens maximised, and a start after the reader sized the window restores that."""
    from mammoview.gui.app import show_first

    window = main_window
    window.hide()
    assert window.settings.geometry() is None and not window.isMaximized()
    show_first(window)
    qtbot.waitUntil(window.isMaximized, timeout=5_000)
    # the whole screen even where no window manager maximises it (a kiosk X session, xvfb: it stayed 1400 x 900)
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()  # (the offscreen platform draws a 2 px frame round it)
    assert abs(frame.width() - screen.width()) <= 4 and abs(frame.height() - screen.height()) <= 4, (frame, screen)
    window.showNormal()
    window.resize(900, 700)
    window.settings.save_window(window.saveGeometry(), window.saveState())
    window.hide()
    show_first(window)
    qtbot.waitExposed(window)
    assert not window.isMaximized()
