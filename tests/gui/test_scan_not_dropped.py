"""A folder being read (its headers scanned) is not dropped by a step through the worklist on screen: PgDown while
a large folder is read showed the next study of the old worklist and the folder asked for never opened, unsaid."""

from __future__ import annotations

import time

from mammoview.gui import loader
from mammoview.io.model import View
from tests.gui.test_worklist import batch


def test_pgdown_while_another_folder_is_read_does_not_drop_that_folder(main_window, load, qtbot, tmp_path,
                                                                        monkeypatch):  # fmt: skip
    w = main_window
    load(w, [batch(tmp_path / "old")])
    qtbot.waitUntil(lambda: w._prefetched is not None, timeout=20_000)  # the next study decoded: PgDown is instant
    new = tmp_path / "new"
    from tests.gui.conftest import write_view

    for n, pid in enumerate(("NEW-1", "NEW-2")):
        for view in ("RCC", "LCC"):
            write_view(new / pid, f"{view}.dcm", view, study_uid=f"9.9.{n + 1}", patient_id=pid)
    scan = loader.open_paths

    def slow_scan(*args, **kwargs):  # type: ignore[no-untyped-def]  # a network share, hundreds of studies
        time.sleep(1.0)
        return scan(*args, **kwargs)

    monkeypatch.setattr(loader, "open_paths", slow_scan)
    w.open_paths([str(new)])
    w.commands["next_study"].trigger()  # the reader reads on while the folder is read
    qtbot.waitUntil(lambda: w.panels[View.LCC].image.info.meta.patient_id == "NEW-1", timeout=20_000)
    assert [e.study.key for e in w.worklist.entries] == ["9.9.1", "9.9.2"]
