"""One Study Instance UID written into two women's exams (a bad anonymiser, a modality's configuration): each
woman's saved read is hers whatever else is opened with her exam.  The read was saved under the study key, which
for these exams is the bare UID when one is opened alone and ``<uid> · Patient ID <id>`` when both are opened
together: woman B opened alone showed woman A's read (first read done, CAD shown at once, A's decision) and B's
marks were saved over A's read; A read in the folder of both showed as not read when opened alone."""

from __future__ import annotations

import json
from pathlib import Path

from mammoview.gui import read_files
from mammoview.gui.pseudonym import patient_pseudonym
from mammoview.gui.read_state import Assessment, MarkKind, ReadState
from mammoview.gui.read_store import ReadStore, study_hash
from mammoview.io import open_paths
from mammoview.io.model import View
from mammoview.io.study import read_key
from tests.gui.conftest import write_view

UID = "1.2.3.9"


def two_women(root: Path) -> tuple[Path, Path]:
    """Woman A's and woman B's exams, one Study Instance UID, each in its own folder under ``root``."""
    for pid in ("A", "B"):
        for view in ("RCC", "LCC", "RMLO", "LMLO"):
            write_view(root / pid, f"{view}.dcm", view, study_uid=UID, patient_id=f"PAT-{pid}")
    return root / "A", root / "B"


def store() -> ReadStore:
    return ReadStore()  # the app data folder of the test (tests/conftest.py)


def read_a(window) -> None:  # type: ignore[no-untyped-def]
    """The reader marks a mass on A's R CC, decides recall and closes the first read."""
    window.cad.reader.add(View.RCC, window.panels[View.RCC].image.info.meta.sop_uid, 90.0, 200.0, MarkKind.MASS)
    window.cad.reader.set_assessment(Assessment.RECALL)
    window.cad.reader.set_first_read_done()


def shown_patient(window) -> str:  # type: ignore[no-untyped-def]
    return window.loaded.study.info.meta.patient_id


def test_the_second_woman_of_one_study_uid_does_not_get_the_first_womans_read(main_window, load, tmp_path):
    a, b = two_women(tmp_path)
    w = main_window
    load(w, [a])
    read_a(w)
    path_a = next(p for p in store().folder.glob("*.json"))
    before = path_a.read_text()
    load(w, [b])
    assert shown_patient(w) == "PAT-B"
    assert not w.cad.reader.first_read_done and not w.cad.unlocked  # B is not read: CAD stays hidden
    assert w.cad.reader.marks == () and w.cad.reader.decision.assessment is None
    w.cad.reader.add(View.LCC, w.panels[View.LCC].image.info.meta.sop_uid, 120.0, 300.0, MarkKind.CALCIFICATION)
    assert path_a.read_text() == before  # A's read is not written over by B's mark
    load(w, [a])  # and A's read is still hers
    assert w.cad.reader.first_read_done and [m.kind for m in w.cad.reader.marks] == [MarkKind.MASS]
    load(w, [b])
    assert not w.cad.reader.first_read_done and [m.kind for m in w.cad.reader.marks] == [MarkKind.CALCIFICATION]


def test_a_read_in_the_folder_of_both_is_found_when_her_exam_is_opened_alone(main_window, load, tmp_path, qtbot):
    a, _b = two_women(tmp_path)
    w = main_window
    load(w, [tmp_path])  # both: two studies, split by Patient ID
    assert len(w.worklist) == 2
    index = next(i for i, e in enumerate(w.worklist.entries) if e.study.meta.patient_id == "PAT-A")
    if shown_patient(w) != "PAT-A":
        with qtbot.waitSignal(w.studyShown, timeout=20_000):
            w.open_worklist_study(index)
    assert shown_patient(w) == "PAT-A" and w.loaded.study.key == f"{UID} · Patient ID PAT-A"
    read_a(w)
    load(w, [a])  # A alone: her study key is the bare UID now
    assert shown_patient(w) == "PAT-A" and w.loaded.study.key == UID
    assert w.cad.reader.first_read_done and w.cad.unlocked
    assert [m.kind for m in w.cad.reader.marks] == [MarkKind.MASS]


def test_the_read_keys_of_one_uid_do_not_depend_on_what_is_opened_with_it(tmp_path):
    a, b = two_women(tmp_path)
    (alone_a,), _ = open_paths([a])
    (alone_b,), _ = open_paths([b])
    both, _ = open_paths([tmp_path])
    assert alone_a.key == alone_b.key == UID  # the study keys differ with what is opened (and stay as they are)...
    by_patient = {s.meta.patient_id: s for s in both}
    assert read_key(alone_a).key == read_key(by_patient["PAT-A"]).key == f"{UID} · Patient ID PAT-A"  # ...these not
    assert read_key(alone_b).key == read_key(by_patient["PAT-B"]).key == f"{UID} · Patient ID PAT-B"


def legacy_read(state: ReadState) -> Path:
    """A read as mammoview wrote it before reads were keyed by woman: at the hash of the bare UID, no patient."""
    path = store().path_for(UID)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": 1, "study_sha256": study_hash(UID), "state": state.to_json()}))
    return path


def test_a_read_saved_before_is_found_and_moved_to_her_own_file_on_the_next_save(main_window, load, tmp_path):
    a, _b = two_women(tmp_path)
    old = legacy_read(ReadState(first_read_done=True, done_at="2024-06-01T10:00:00+00:00"))
    w = main_window
    load(w, [a])
    assert w.cad.reader.first_read_done  # found under the key it was saved with
    assert old.exists()  # nothing saved yet: left where it is
    w.cad.reader.add(View.RCC, w.panels[View.RCC].image.info.meta.sop_uid, 90.0, 200.0, MarkKind.MASS)
    own = store().path_for(f"{UID} · Patient ID PAT-A")
    doc = json.loads(own.read_text())
    assert doc["state"]["first_read_done"] and len(doc["state"]["marks"]) == 1
    assert not old.exists()  # superseded by her own file, written first
    load(w, [a])
    assert w.cad.reader.first_read_done and len(w.cad.reader.marks) == 1


def test_a_read_saved_before_stays_when_her_own_file_cannot_be_written(main_window, load, tmp_path, monkeypatch):
    a, _b = two_women(tmp_path)
    old = legacy_read(ReadState(first_read_done=True))
    w = main_window
    load(w, [a])
    monkeypatch.setattr(w, "report_problems", lambda *a, **k: None)

    def full(path, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    real = read_files.atomic_write_bytes
    monkeypatch.setattr(read_files, "atomic_write_bytes", full)
    w.cad.reader.add(View.RCC, w.panels[View.RCC].image.info.meta.sop_uid, 90.0, 200.0, MarkKind.MASS)
    own = store().path_for(f"{UID} · Patient ID PAT-A")
    assert old.exists() and not own.exists()  # the read she had is never lost to a write that failed
    # space freed: the read waiting for its save goes to her own file, and only then is the old one removed
    monkeypatch.setattr(read_files, "atomic_write_bytes", real)
    assert w.cad.reader.retry_unsaved() == []
    assert not old.exists() and json.loads(own.read_text())["state"]["first_read_done"]


def test_the_read_names_the_woman_by_a_keyed_hash_only(main_window, load, tmp_path):
    a, _b = two_women(tmp_path)
    w = main_window
    load(w, [a])
    read_a(w)
    (path,) = store().folder.glob("*.json")
    text = path.read_text()
    assert "PAT-A" not in text and UID not in text
    assert json.loads(text)["patient"] == patient_pseudonym("PAT-A") != patient_pseudonym("PAT-B")


def test_a_read_recorded_for_another_woman_under_her_key_is_neither_shown_nor_written_over(tmp_path):
    a, b = two_women(tmp_path)
    (study_a,), _ = open_paths([a])
    (study_b,), _ = open_paths([b])
    reads = ReadStore(tmp_path / "reads")
    reads.save(read_key(study_a), ReadState(first_read_done=True))
    path = reads.path_for(UID)  # A's read where B's bare UID would find it (e.g. copied there by hand)
    doc = json.loads(reads.path_for(read_key(study_a).key).read_text())
    path.write_text(json.dumps({**doc, "study_sha256": study_hash(UID)}))
    assert reads.peek(read_key(study_b)) is None and reads.load(read_key(study_b)) == ReadState()
    assert reads.problem is None
    reads.save(read_key(study_b), ReadState(marks=()))
    assert path.exists() and json.loads(path.read_text())["state"]["first_read_done"]  # left as it was


def test_a_read_in_her_own_file_recorded_for_another_patient_hash_is_still_hers(tmp_path):
    """Her own file's name is the hash of her UID and Patient ID: a patient hash there that is not hers is the
    installation's pseudonym secret lost or replaced (app data copied without it), which must not hide every read."""
    a, _b = two_women(tmp_path)
    (study_a,), _ = open_paths([a])
    key = read_key(study_a)
    reads = ReadStore(tmp_path / "reads")
    reads.save(key, ReadState(first_read_done=True))
    path = reads.path_for(key.key)
    path.write_text(json.dumps({**json.loads(path.read_text()), "patient": "0" * 64}))
    assert reads.peek(key) is not None and not reads.unreadable(key)
    assert reads.load(key).first_read_done and reads.problem is None
