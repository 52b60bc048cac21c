"""An exam the modality sent as two studies (CC views, MLO views; one Patient ID, Accession Number and Study Date):
one worklist row, four views hung, and the status bar says it was joined.  A read saved on one part opened alone
(before the other part's files came) is found when the joined exam is opened; reads saved on both parts are neither
shown nor touched, and the reader is told."""

from __future__ import annotations

from pathlib import Path

import pydicom

from mammoview.gui.read_log import read_log_rows
from mammoview.gui.read_state import MarkKind, ReaderMark, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.io import open_paths
from mammoview.io.model import StudyInfo, View
from mammoview.io.study import ReadKey, read_key
from tests.gui.conftest import write_view

CC_UID, MLO_UID = "1.2.840.5.1", "1.2.840.5.2"


def split_exam(root: Path, uids: dict[str, str] | None = None) -> tuple[Path, Path]:
    """The CC views under one Study Instance UID and the MLO views under another (or each view under its UID in
    ``uids``), each in its folder under ``root``."""
    uids = uids or {"RCC": CC_UID, "LCC": CC_UID, "RMLO": MLO_UID, "LMLO": MLO_UID}
    for view, uid in uids.items():
        path = write_view(root / uid, f"{view}.dcm", view, study_uid=uid, patient_id="0012345")
        ds = pydicom.dcmread(path)
        ds.AccessionNumber, ds.PatientBirthDate = "ACC77", "19650412"
        ds.save_as(path)
    return root / CC_UID, root / MLO_UID


def one(paths: list[Path]) -> StudyInfo:
    (study,), _ = open_paths(paths)
    return study


def test_an_exam_sent_as_two_studies_is_one_worklist_row(main_window, load, tmp_path: Path) -> None:
    split_exam(tmp_path)
    load(main_window, [tmp_path])
    assert len(main_window.worklist) == 1 and main_window.worklist_panel.tree.topLevelItemCount() == 1
    assert all(main_window.panels[v].image is not None for v in View)
    assert "One exam sent as 2 studies" in main_window.statusBar().currentMessage()


def test_a_read_saved_on_one_part_opened_alone_is_found_when_the_exam_is_joined(tmp_path: Path) -> None:
    cc, _mlo = split_exam(tmp_path / "exam")
    reads = ReadStore(tmp_path / "reads")
    part = read_key(one([cc]))  # the CC views came first: read alone
    mark = ReaderMark(id=1, view=View.RCC, image="RCC.dcm", x=10.0, y=20.0, kind=MarkKind.MASS)
    saved = reads.save(part, ReadState(marks=(mark,), reading_seconds=42.0))
    part_file = reads.path_for(part.key)
    before = part_file.read_bytes()
    joined = read_key(one([tmp_path / "exam"]))
    assert joined.key != part.key
    assert reads.peek(joined) == saved and reads.load(joined) == saved and reads.problem is None
    later = reads.save(joined, ReadState(first_read_done=True, reading_seconds=50.0))
    assert reads.load(joined) == later
    # the part's read is kept as it was: its files opened alone again still show it
    assert part_file.read_bytes() == before and reads.load(part) == saved


def test_reads_saved_on_two_parts_are_neither_shown_nor_touched(tmp_path: Path) -> None:
    """Each was made on its part's views only: taking either as the exam's read would hide the other's marks and
    decision, so neither is shown (the exam is read afresh), both files stay, and the read log does not call the
    exam not read."""
    cc, mlo = split_exam(tmp_path / "exam")
    reads = ReadStore(tmp_path / "reads")
    parts = [read_key(one([cc])), read_key(one([mlo]))]
    for seconds, part in enumerate(parts, 1):
        reads.save(part, ReadState(first_read_done=True, reading_seconds=float(seconds)))
    files = {reads.path_for(p.key): reads.path_for(p.key).read_bytes() for p in parts}
    exam = one([tmp_path / "exam"])
    joined = read_key(exam)
    assert reads.load(joined) == ReadState() and "a read was saved for 2 of its parts" in (reads.problem or "")
    assert reads.peek(joined) is None and reads.unreadable(joined)
    assert read_log_rows([exam], reads)[0]["first_read_done"] == "unreadable"
    own = reads.save(joined, ReadState(reading_seconds=7.0))  # read afresh: its own file from now on
    assert reads.load(joined) == own and reads.problem is None and not reads.unreadable(joined)
    assert {path: path.read_bytes() for path in files} == files
    assert [reads.load(p).reading_seconds for p in parts] == [1.0, 2.0]


def test_the_reader_is_told_when_two_parts_were_read(main_window, load, tmp_path: Path) -> None:
    cc, mlo = split_exam(tmp_path / "exam")
    reads = ReadStore()  # the viewer's (the test's app data folder)
    for part in (cc, mlo):
        reads.save(read_key(one([part])), ReadState(first_read_done=True))
    load(main_window, [tmp_path / "exam"])
    assert not main_window.cad.reader.first_read_done and not main_window.cad.unlocked
    title, text = main_window.last_message or ("", "")
    assert "could not be restored" in title and "2 of its parts" in text, (title, text)


def test_a_part_whose_first_read_was_done_does_not_unlock_the_cad_of_the_joined_exam(
    main_window, load, tmp_path: Path
) -> None:
    """The CC part, opened alone, was read and marked done; joined with the MLO part later, the exam showed its
    first read done and the CAD unlocked over the MLO views, which nobody had read without it. The part's marks
    come along; the first read of the whole exam is not done, and the reader is told why."""
    cc, _mlo = split_exam(tmp_path / "exam")
    reads = ReadStore()  # the viewer's (the test's app data folder)
    part = read_key(one([cc]))
    mark = ReaderMark(id=1, view=View.RCC, image="RCC.dcm", x=10.0, y=20.0, kind=MarkKind.MASS)
    done = ReadState(first_read_done=True, done_at="2026-12-01T10:00:00", marks=(mark,), reading_seconds=30.0)
    reads.save(part, done)
    before = reads.path_for(part.key).read_bytes()
    load(main_window, [tmp_path / "exam"])
    reader = main_window.cad.reader
    assert not reader.first_read_done and not main_window.cad.unlocked
    assert [m.kind for m in reader.state.marks] == [MarkKind.MASS] and reader.state.reading_seconds == 30.0
    title, text = main_window.last_message or ("", "")
    assert "covered that part's views only" in text and "CAD stays hidden" in text, (title, text)
    assert reads.peek(read_key(one([tmp_path / "exam"]))).first_read_done is False  # the worklist: not read
    assert reads.path_for(part.key).read_bytes() == before  # the part's own read, as it was


def test_another_womans_read_under_a_parts_bare_uid_is_not_one_of_the_exams(tmp_path: Path) -> None:
    """A read saved under the MLO part's bare Study Instance UID (as before reads were keyed by woman) recorded as
    another woman's is not this exam's: it made the CC part's read one of "several", and neither was shown."""
    cc, _mlo = split_exam(tmp_path / "exam")
    reads = ReadStore(tmp_path / "reads")
    mark = ReaderMark(id=1, view=View.RCC, image="RCC.dcm", x=1.0, y=2.0, kind=MarkKind.MASS)
    saved = reads.save(read_key(one([cc])), ReadState(marks=(mark,)))
    reads.save(ReadKey(MLO_UID, "another woman"), ReadState(first_read_done=True))  # her read, at the bare UID
    theirs = reads.path_for(MLO_UID).read_bytes()
    joined = read_key(one([tmp_path / "exam"]))
    assert reads.load(joined) == saved and reads.problem is None
    assert reads.peek(joined) == saved and not reads.unreadable(joined)
    reads.save(joined, saved)
    assert reads.path_for(MLO_UID).read_bytes() == theirs  # hers, left as it is
