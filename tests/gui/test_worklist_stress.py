"""PgDown / PgUp in quick succession over a 10-study worklist: the study shown is the worklist's row,
every job reports."""

from __future__ import annotations

import random

import pytest

from mammoview.io.model import View
from tests.gui.conftest import write_view


def batch10(folder):  # type: ignore[no-untyped-def]
    for n in range(10):
        pid = f"P{n:02d}"
        for view in ("RCC", "LCC"):
            write_view(folder / pid, f"{view}.dcm", view, study_uid=f"1.2.3.{n + 1}", patient_id=pid,
                       patient_name=f"Batch^{pid}")  # fmt: skip
    return folder


@pytest.mark.parametrize("seed", range(6))
def test_quick_stepping_shows_the_worklists_row(main_window, load, tmp_path, qtbot, monkeypatch, seed):
    w = main_window
    load(w, [batch10(tmp_path / "batch")])
    rng = random.Random(seed)
    for _ in range(40):
        w.step_study(rng.choice((+1, +1, -1)))
        qtbot.wait(rng.choice((0, 0, 5, 20, 60, 150)))
    qtbot.waitUntil(lambda: not w.jobs.busy and not w.prefetch.busy and w._adopted is None, timeout=30_000)
    qtbot.wait(200)
    cur = w.worklist.current
    assert w.loaded is not None and cur is not None
    assert w.loaded.study.key == w.worklist.entries[cur].study.key, (cur, w.windowTitle())
    assert w.panels[View.LCC].image.info.meta.patient_id == f"P{cur:02d}"
    assert w.cad.study_key == w.loaded.study.key
    qtbot.waitUntil(lambda: not w.jobs._threads and not w.prefetch._threads, timeout=30_000)  # every job reported
