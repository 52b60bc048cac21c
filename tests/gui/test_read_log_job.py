"""File ▸ Export worklist read log off the GUI thread: every saved read is read, and the log written, in a worker
thread (27 ms for 500 studies on a local disk, a network share's latency once per study, froze the window); one log
at a time, its outcome said as before."""

from __future__ import annotations

import csv
import threading
import time

from mammoview.gui import read_log
from mammoview.gui.read_log import export_read_log
from mammoview.gui.read_store import ReadStore
from tests.gui.export_support import HeldWriter, status, written_read_log
from tests.gui.test_worklist import batch


def test_the_saved_reads_are_read_and_the_log_written_off_the_gui_thread(main_window, load, qtbot, tmp_path,
                                                                         monkeypatch):  # fmt: skip
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    w.commands["assess_1"].trigger()
    peeked: list[threading.Thread] = []
    real_peek = ReadStore.peek
    monkeypatch.setattr(ReadStore, "peek", lambda *a: peeked.append(threading.current_thread()) or real_peek(*a))
    writer = HeldWriter(monkeypatch, read_log, "write_read_log")
    out = tmp_path / "log.csv"
    assert export_read_log(w, out)
    assert "Read log: writing" in status(w) and not out.exists()  # said while it runs
    with qtbot.waitSignal(w.read_log_export.done, timeout=30_000):
        writer.release()
    assert writer.off_the_gui_thread
    assert len(peeked) == 3 and threading.main_thread() not in peeked
    assert status(w) == f"Read log of 3 studies (0 read) written to {out}"
    with out.open(newline="") as fh:
        assert [r["assessment"] for r in csv.DictReader(fh)] == ["1", "", ""]


def test_a_second_log_while_one_is_written_is_refused(main_window, load, qtbot, tmp_path, monkeypatch):
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    writer = HeldWriter(monkeypatch, read_log, "write_read_log")
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert export_read_log(w, first)
    assert not export_read_log(w, second)
    assert "still being written" in status(w)
    with qtbot.waitSignal(w.read_log_export.done, timeout=30_000):
        writer.release()
    assert first.exists() and not second.exists()
    with qtbot.waitSignal(w.read_log_export.done, timeout=30_000):
        assert export_read_log(w, second)  # taken again once the first is written
    assert second.exists()


def test_a_log_that_appears_while_the_reads_are_read_is_not_replaced(main_window, load, qtbot, tmp_path, monkeypatch):
    """The name was checked, then the log moved over whatever was there by then (os.replace): another window's log of
    the same name, written meanwhile, was silently lost though a read log is never overwritten."""
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    out = tmp_path / "log.csv"
    real = read_log.atomic_write_bytes

    def meanwhile(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        out.write_bytes(b"the other window's log")  # (after the check that no file is there)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(read_log, "atomic_write_bytes", meanwhile)
    assert written_read_log(w, qtbot, out) is None
    assert out.read_bytes() == b"the other window's log"
    assert [p.name for p in tmp_path.iterdir() if p.name != "batch"] == ["log.csv"], "a temporary file left"
    title, text = w.last_message or ("", "")
    assert title == "Read log not written" and f"{out} was written meanwhile" in text, (title, text)


def test_closing_the_window_stops_a_log_being_read_and_writes_nothing(main_window, load, tmp_path, monkeypatch, caplog):
    """The job read every saved read before it looked up: on a slow share the window closing waited for all of them
    (up to 30 s), then wrote the log for nobody.  It stops at the next study, leaves no file (nor half of one), and
    the log says so."""
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    jobs, asked = w.read_log_export.jobs, threading.Event()
    real_peek = ReadStore.peek

    def slow(*args):  # type: ignore[no-untyped-def]
        if not asked.is_set():  # the first study: held until the window closes
            asked.set()
            ran = jobs.current
            for _ in range(500):
                if jobs.current != ran:
                    break
                time.sleep(0.01)
        else:
            time.sleep(5)  # a slow share's latency, each study after it
        return real_peek(*args)

    monkeypatch.setattr(ReadStore, "peek", slow)
    out = tmp_path / "log.csv"
    assert export_read_log(w, out)
    assert asked.wait(10)
    started = time.monotonic()
    w.close()
    assert time.monotonic() - started < 3  # (it waited 10 s: both other studies read)
    assert [p.name for p in tmp_path.iterdir() if p.name != "batch"] == [], "a log, or a temporary file, left"
    assert any("Read log" in r.getMessage() and "window closed" in r.getMessage() for r in caplog.records)


def test_a_name_taken_is_refused_before_any_saved_read_is_read(main_window, load, tmp_path, monkeypatch):
    """The job read every saved read (a share's latency per study) before write_read_log found the name taken."""
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    out = tmp_path / "log.csv"
    out.write_bytes(b"yesterday's log")
    peeked: list[object] = []
    monkeypatch.setattr(ReadStore, "peek", lambda *a: peeked.append(a))
    assert not export_read_log(w, out)
    assert peeked == [] and out.read_bytes() == b"yesterday's log"
    title, text = w.last_message or ("", "")
    assert title == "Read log not written" and f"{out} exists" in text, (title, text)
