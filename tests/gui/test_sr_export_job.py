"""File ▸ Export CAD as DICOM SR off the GUI thread: one export at a time, its outcome said as before, a study left
or a window closed while it writes loses nothing and leaves no half file."""

from __future__ import annotations

import errno
import threading
from dataclasses import replace

import highdicom as hd

from mammoview.cad import sr
from mammoview.cad.types import FindingKind
from mammoview.gui.sr_export import export_sr
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import finding, planted_result
from tests.gui.export_support import HeldWriter, status
from tests.gui.test_worklist import batch, shown_patient, step

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
marked_study = cad_support.marked_study  # the fixture `study`


def test_the_sr_is_built_and_written_off_the_gui_thread(study, tmp_path, monkeypatch, qtbot):
    """A CBIS-DDSM study's four SRs froze the viewer about a second (highdicom, the headers, the encoding)."""
    built: list[threading.Thread] = []
    real_build = sr.study_sr
    monkeypatch.setattr(sr, "study_sr", lambda *a, **k: built.append(threading.current_thread()) or real_build(*a, **k))
    writer = HeldWriter(monkeypatch, sr, "write_sr")
    study.commands["cad_first_read_done"].trigger()
    out = tmp_path / "out" / "cad-sr.dcm"
    assert export_sr(study.cad, out)
    assert "DICOM SR: writing" in status(study)  # said while it runs
    writer.release()
    qtbot.waitUntil(lambda: "DICOM SR written" in status(study), timeout=30_000)
    assert built and writer.threads
    assert threading.main_thread() not in {*built, *writer.threads}
    assert status(study) == f"DICOM SR written: {out}"
    assert hd.sr.srread(out).PatientID == "SYN-0001"


def test_a_failed_write_reaches_the_reader_as_the_same_dialog(study, tmp_path, monkeypatch, qtbot):
    threads: list[threading.Thread] = []

    def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sr, "write_sr", disk_full)
    study.commands["cad_first_read_done"].trigger()
    out = tmp_path / "out" / "cad-sr.dcm"
    assert export_sr(study.cad, out)
    qtbot.waitUntil(lambda: study.last_message is not None, timeout=30_000)
    assert study.last_message == ("DICOM SR not written", f"{out}: No space left on device")
    assert threads and threads[0] is not threading.main_thread()
    assert not out.exists()


def test_a_second_export_while_one_is_written_is_refused(study, tmp_path, monkeypatch, qtbot):
    """Ctrl+Alt+E twice: the second one raced the first (their numbered files, the status bar's outcome)."""
    writer = HeldWriter(monkeypatch, sr, "write_sr")
    study.commands["cad_first_read_done"].trigger()
    first, second = tmp_path / "out" / "a.dcm", tmp_path / "out" / "b.dcm"
    assert export_sr(study.cad, first)
    assert not export_sr(study.cad, second)
    assert "still being written" in status(study)
    writer.release()
    qtbot.waitUntil(lambda: "DICOM SR written" in status(study), timeout=30_000)
    assert first.exists() and not second.exists()
    assert export_sr(study.cad, second)  # taken again once the first is done
    qtbot.waitUntil(second.exists, timeout=30_000)


def test_the_sr_of_a_study_left_while_it_is_written_is_that_study_s(cad_window, load, tmp_path, monkeypatch, qtbot):
    """PgDown right after Ctrl+Alt+E: the SR asked for is written whole, of the study it was asked on."""
    w = cad_window
    load(w, [batch(tmp_path / "batch")])
    w.cad.set_result(replace(planted_result(w, {View.LCC: [finding(FindingKind.MASS, 120, 300)]}),
                             model=w.cad.model_info))  # fmt: skip
    w.commands["cad_first_read_done"].trigger()
    asked_on = shown_patient(w)
    writer = HeldWriter(monkeypatch, sr, "write_sr")
    out = tmp_path / "out" / "cad-sr.dcm"
    assert export_sr(w.cad, out)
    assert writer.started.wait(10)
    step(w, qtbot, "next_study")
    writer.release()
    qtbot.waitUntil(lambda: "DICOM SR written" in status(w), timeout=30_000)
    assert hd.sr.srread(out).PatientID == asked_on != shown_patient(w)


def test_closing_the_window_while_an_sr_is_written_leaves_it_whole(study, tmp_path, monkeypatch, qtbot):
    writer = HeldWriter(monkeypatch, sr, "write_sr")
    study.commands["cad_first_read_done"].trigger()
    out = tmp_path / "out" / "cad-sr.dcm"
    assert export_sr(study.cad, out)
    assert writer.started.wait(10)
    threading.Timer(0.2, writer.release).start()  # the write goes on while the window closes
    study.close()
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left beside it
    assert hd.sr.srread(out).PatientID == "SYN-0001"
    qtbot.wait(50)  # its outcome, arriving for a closed window, is dropped quietly
