"""A length measured on the prior keeps its mm when the current exam is opened again without the prior."""

from __future__ import annotations

import json

from mammoview.io.model import View
from tests.gui.test_priors import compare, exams


def test_a_length_measured_on_the_prior_keeps_its_mm_when_the_prior_is_not_opened(main_window, load, tmp_path, qtbot):
    from mammoview.gui.export import export_study
    from mammoview.gui.main_window import MainWindow

    w = main_window
    folder = exams(tmp_path / "exams", names=("a-2024", "b-2022"))
    load(w, [folder])
    compare(w, qtbot)
    w.commands["measure"].trigger()
    m = w.cad.prior_measure.measure(w.hanging.prior_panels[View.LCC], (50.0, 60.0), (150.0, 60.0))  # 100 px, 0.1 mm
    assert m is not None and w.cad.length(m).text == "10.0 mm"
    w.close()  # the end of the session (the read is saved)
    for helper in (w.jobs, w.prefetch, w.prefetch_helper, w.priors, w.frames):
        helper.shutdown()
    w2 = MainWindow()  # the next day: only this exam's folder is opened (the prior is on the PACS, not here)
    qtbot.addWidget(w2)
    w2.resize(1000, 760)
    w2.show()
    try:
        load(w2, [folder / "a-2024"])
        assert [x.id for x in w2.cad.reader.measurements] == [m.id]  # the read came back with the prior's length
        texts = [w2.cad.findings.tree.topLevelItem(i) for i in range(w2.cad.findings.tree.topLevelItemCount())]
        group = next(t for t in texts if t.text(0).startswith("Your measurements"))
        assert group.child(0).text(2) == "M1 10.0 mm · prior"  # was "M1 100 px · prior"
        doc = json.loads(export_study(w2, tmp_path / "x.png").json.read_text())
        assert [(x["length"], x["unit"]) for x in doc["measurements"]] == [(10.0, "mm")]  # was (100.0, "px")
    finally:
        for helper in (w2.jobs, w2.prefetch, w2.prefetch_helper, w2.priors, w2.frames):
            helper.shutdown()
