"""The worklist tells two women of one name and day apart: the Patient ID has its own column."""

from __future__ import annotations

from pathlib import Path

from mammoview.gui.worklist import COLUMNS
from tests.gui.conftest import write_view

NAME = "GARCIA LOPEZ^MARIA DEL CARMEN"  # a common name: a batch of hundreds of women holds it twice
IDS = ("0012345678", "0012345679", "0012345680")


def test_two_women_of_one_name_and_day_stay_apart_in_the_worklist(main_window, load, tmp_path: Path) -> None:
    """The Study column elides its text to fit the dock: the Patient ID, which is all that tells these rows apart,
    must stay readable (it was what got cut: three rows read ``GARCIA LOPEZ M…9 | 2024-06-01`` in a 1600 px
    window, the bold row of the study on screen ``GARCIA LOPEZ…| 2024-06-01``; the tooltip named only the Study
    Instance UID)."""
    for n, pid in enumerate(IDS):
        for view in ("RCC", "LCC"):
            write_view(tmp_path / "batch" / pid, f"{view}.dcm", view, study_uid=f"1.2.3.{n + 1}", patient_id=pid,
                       patient_name=NAME)  # fmt: skip
    window = main_window
    window.resize(1600, 1000)
    load(window, [tmp_path / "batch"])
    tree = window.worklist_panel.tree
    texts = [[tree.topLevelItem(i).text(c) for c in range(tree.columnCount())] for i in range(3)]
    for pid, row in zip(IDS, texts, strict=True):  # a cell of its own, not elided (sized to its contents)
        col = next((c for c, t in enumerate(row) if pid in t and NAME.split("^")[0] not in t), None)
        assert col is not None, texts
        assert tree.header().sectionSize(col) >= tree.sizeHintForColumn(col), (col, tree.header().sectionSize(col))


def test_a_study_without_one_patient_id_shows_what_grouped_it(main_window, load, tmp_path: Path) -> None:
    """CBIS-DDSM writes one Patient ID per view: the ID column shows the ``P_xxxxx`` patient the study was grouped
    by (the Study column, its date), never an empty cell."""
    for view in ("RCC", "LCC"):
        side = "RIGHT" if view[0] == "R" else "LEFT"
        write_view(tmp_path / "cbis", f"{view}.dcm", view, study_uid=f"1.2.{int(view == 'LCC')}",
                   patient_id=f"Mass-Test_P_00820_{side}_CC")  # fmt: skip
    write_view(tmp_path / "cbis" / "other", "RCC.dcm", "RCC", study_uid="1.3", patient_id="0012345")
    load(main_window, [tmp_path / "cbis"])
    tree = main_window.worklist_panel.tree
    ids = sorted(tree.topLevelItem(i).text(COLUMNS.index("ID")) for i in range(tree.topLevelItemCount()))
    assert ids == ["0012345", "P_00820"]


def test_a_study_without_a_patient_id_shows_none_in_the_id_column(main_window, load, tmp_path: Path) -> None:
    """A file with no Patient ID (0010,0020): the ID column showed the Study Instance UID, which reads as an ID. It
    shows a dash, its tooltip says why; the other rows keep their IDs."""
    for view in ("RCC", "LCC"):
        write_view(tmp_path / "batch" / "a", f"{view}.dcm", view, study_uid="1.2.840.99.1", patient_id="")
        write_view(tmp_path / "batch" / "b", f"{view}.dcm", view, study_uid="1.2.840.99.2", patient_id="0012345")
    load(main_window, [tmp_path / "batch"])
    tree, col = main_window.worklist_panel.tree, COLUMNS.index("ID")
    rows = {tree.topLevelItem(i).text(col): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}
    assert sorted(rows) == ["0012345", "—"]
    tip = rows["—"].toolTip(col)
    assert "no Patient ID (0010,0020)" in tip and "1.2.840.99.1" in tip
    assert rows["0012345"].toolTip(col) == ""
    assert [tree.topLevelItem(i).text(col) for i in range(2)] == [
        "—" if w.study.key == "1.2.840.99.1" else "0012345" for w in main_window.worklist.entries
    ]  # each row its own study's cell, in the worklist's order


def test_an_image_without_a_patient_id_does_not_hide_its_studys(main_window, load, tmp_path: Path) -> None:
    """One of a study's files lacks the Patient ID the others give: the ID column shows that ID (not the Study
    Instance UID), its tooltip says that a file names none."""
    write_view(tmp_path / "s", "RCC.dcm", "RCC", study_uid="1.2.840.99.3", patient_id="0012345")
    write_view(tmp_path / "s", "LCC.dcm", "LCC", study_uid="1.2.840.99.3", patient_id="")
    load(main_window, [tmp_path / "s"])
    item, col = main_window.worklist_panel.tree.topLevelItem(0), COLUMNS.index("ID")
    assert item.text(col) == "0012345"
    assert "LCC.dcm" in item.toolTip(col) and "no Patient ID" in item.toolTip(col)
