"""A header warning every study of a vendor's worklist repeats (a tag each of its files gets wrong) opened the
study's dialog at every PgDown, blocking the keyboard until clicked away.  A kind of warning a dialog has shown
is said in the status bar from then on; a new kind, a file not read or views hung otherwise still open it."""

from __future__ import annotations

from tests.gui.conftest import write_view

SEEN = "(0028,1051) Window Width must be >= 1 for LINEAR; window 1 (2000/0) ignored"


def test_a_warning_shown_once_is_said_in_the_status_bar_after(main_window, load, qtbot, tmp_path, monkeypatch):
    from mammoview.gui import dialogs

    boxes: list[str] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append(details))
    batch = tmp_path / "batch"
    for patient, window in (("A", (2000, 0)), ("B", (2000, 0)), ("C", (2000, 0)), ("D", (2000, -5)), ("E", (2000, 0))):
        uid = f"1.2.3.{ord(patient)}"
        write_view(batch / patient, "1-282.dcm", "RMLO", study_uid=uid, patient_id=patient, window=window)
        write_view(batch / patient, "1-283.dcm", "LMLO", study_uid=uid, patient_id=patient)
    write_view(batch / "C", "1-284.dcm", "LMLO", study_uid="1.2.3.67", patient_id="C")  # two images claim L MLO
    (batch / "E" / "1-285.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\1" * 40)  # a file not read

    load(main_window, [batch])
    assert len(main_window.worklist) == 5
    assert len(boxes) == 1 and SEEN in boxes[0], boxes  # A: the first time this kind is met

    def step() -> str:
        with qtbot.waitSignal(main_window.studyShown, timeout=30_000):
            main_window.step_study(+1)
        return main_window.statusBar().currentMessage()

    said = step()  # B: the same warning, another file name's study: no dialog
    assert len(boxes) == 1, boxes
    assert f"1 warning(s) as before: 1-282.dcm: {SEEN}; Image ▸ Study's problems… (Ctrl+Shift+P)" in said, said
    main_window.commands["study_problems"].trigger()  # the study's problems, not said in a dialog, are there again
    assert len(boxes) == 2 and f"1-282.dcm: {SEEN}" in boxes[1], boxes
    boxes.pop()
    step()  # C: two images for one view
    assert len(boxes) == 2 and "claim L MLO" in boxes[1], boxes
    step()  # D: a new kind of warning
    assert len(boxes) == 3 and "(2000/-5)" in boxes[2], boxes
    step()  # E: a file that could not be read
    assert len(boxes) == 4 and "1-285.dcm" in boxes[3] and SEEN in boxes[3], boxes


def test_a_study_without_problems_says_so_when_asked(main_window, load, synthetic_study, monkeypatch):
    from mammoview.gui import dialogs

    boxes: list[str] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append(details))
    main_window.commands["study_problems"].trigger()
    assert not boxes and main_window.statusBar().currentMessage().startswith("No study open")
    load(main_window, [synthetic_study])
    main_window.commands["study_problems"].trigger()
    assert not boxes and "opened without problems" in main_window.statusBar().currentMessage()
