"""File ▸ Export… off the GUI thread: the picture is painted on it (a grab of the widgets), then its PNG encoded and
the pair written in a worker thread; one export at a time, its outcome said as before, a file that appears meanwhile
kept, a window closed while it writes left with the whole pair."""

from __future__ import annotations

import errno
import threading

from mammoview.gui import export as export_module
from mammoview.gui import export_dialog
from tests.gui import cad_support
from tests.gui.export_support import HeldWriter, status

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
marked_study = cad_support.marked_study  # the fixture `study`


def saved(window, qtbot, target) -> export_dialog.ExportDialog:  # type: ignore[no-untyped-def]
    """The Export dialog's Save pressed with ``target`` typed in."""
    dlg = export_dialog.ExportDialog(window)
    qtbot.addWidget(dlg)
    dlg.path.setText(str(target))
    dlg.accept()
    return dlg


def test_the_picture_is_encoded_and_written_off_the_gui_thread(study, tmp_path, monkeypatch, qtbot):
    """QImage.save's PNG encoding (55 ms at 974x951, more for a 2x2 at 200 %) and two fsyncs stalled the viewer."""
    writer = HeldWriter(monkeypatch, export_module, "_write_pair")
    target = tmp_path / "out" / "read.png"
    dlg = saved(study, qtbot, target)
    assert "Export: writing" in status(study)  # said while it runs, the dialog waiting
    assert dlg.written is None and not target.exists()
    writer.release()
    qtbot.waitUntil(lambda: dlg.written is not None, timeout=30_000)
    assert writer.off_the_gui_thread
    assert target.read_bytes()[:4] == b"\x89PNG" and target.with_suffix(".json").exists()
    assert status(study) == f"Exported read.png and read.json to {target.parent}"


def test_a_second_export_while_one_is_written_is_refused(study, tmp_path, monkeypatch, qtbot):
    writer = HeldWriter(monkeypatch, export_module, "_write_pair")
    first = saved(study, qtbot, tmp_path / "a.png")
    dialogs = len(study.findChildren(export_dialog.ExportDialog))
    export_dialog.open_export_dialog(study)  # Ctrl+E again: said before the dialog
    assert "still being written" in status(study)
    assert len(study.findChildren(export_dialog.ExportDialog)) == dialogs
    second = saved(study, qtbot, tmp_path / "b.png")  # (a dialog opened before: its Save)
    assert "still being written" in status(study)
    writer.release()
    qtbot.waitUntil(lambda: first.written is not None, timeout=30_000)
    assert second.written is None and not (tmp_path / "b.png").exists()
    second.accept()  # taken once the first is written
    qtbot.waitUntil(lambda: second.written is not None, timeout=30_000)


def test_a_failed_write_is_said_and_the_dialog_comes_back(study, tmp_path, monkeypatch, qtbot):
    threads: list[threading.Thread] = []

    def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_module, "_write_pair", disk_full)
    dlg = saved(study, qtbot, tmp_path / "read.png")
    qtbot.waitUntil(lambda: study.last_message is not None, timeout=30_000)
    assert study.last_message == ("Export failed", "[Errno 28] No space left on device")
    assert threads and threads[0] is not threading.main_thread()
    assert dlg.isVisible() and dlg.written is None  # back, to choose another name


def test_a_file_that_appears_while_the_pair_waits_to_be_written_is_kept(study, tmp_path, monkeypatch, qtbot):
    """Another window's export of the same default name (same study, same day), written while the worker encodes."""
    writer = HeldWriter(monkeypatch, export_module, "_write_pair")
    target = tmp_path / "out" / "read.png"
    dlg = saved(study, qtbot, target)
    assert writer.started.wait(10)
    target.write_bytes(b"the other window's export")
    writer.release()
    qtbot.waitUntil(lambda: study.last_message is not None, timeout=30_000)
    assert study.last_message[0] == "Export failed" and "written meanwhile" in study.last_message[1]
    assert target.read_bytes() == b"the other window's export"
    assert [p.name for p in target.parent.iterdir()] == ["read.png"], "half a pair, or a temporary file, left"
    assert dlg.isVisible() and dlg.written is None


def test_closing_the_window_while_the_picture_is_written_leaves_the_pair_whole(study, tmp_path, monkeypatch, qtbot):
    writer = HeldWriter(monkeypatch, export_module, "_write_pair")
    target = tmp_path / "out" / "read.png"
    saved(study, qtbot, target)
    assert writer.started.wait(10)
    threading.Timer(0.2, writer.release).start()  # the write goes on while the window closes
    study.close()
    assert sorted(p.name for p in target.parent.iterdir()) == ["read.json", "read.png"]
    assert target.read_bytes()[:4] == b"\x89PNG"
    qtbot.wait(50)  # its outcome, arriving for a closed window, is dropped quietly


def test_an_export_started_while_the_dialog_hides_brings_the_dialog_back(study, tmp_path, monkeypatch, qtbot):
    """Save hides the dialog and lets the window repaint (processEvents) before painting; an export started in that
    moment (another window's shortcut, a queued Ctrl+E) took the one-at-a-time slot, and this one, refused, left its
    dialog hidden with nothing written."""
    writer = HeldWriter(monkeypatch, export_module, "_write_pair")
    other = tmp_path / "other.png"
    real = export_dialog.QtWidgets.QApplication.processEvents

    def meanwhile(*args):  # type: ignore[no-untyped-def]
        real(*args)
        if not other.with_suffix(".started").exists():
            other.with_suffix(".started").touch()
            saved(study, qtbot, other)

    monkeypatch.setattr(export_dialog.QtWidgets.QApplication, "processEvents", staticmethod(meanwhile))
    dlg = saved(study, qtbot, tmp_path / "read.png")
    assert "still being written" in status(study)
    assert dlg.isVisible() and dlg.written is None  # back, to save again once the other is written
    writer.release()
