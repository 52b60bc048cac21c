"""A length measured with a spacing given in the viewer (Image > Pixel spacing) keeps its mm when the study is
opened again in a later session, where no spacing is given (the given spacing is not kept between sessions)."""

from __future__ import annotations

import json

from mammoview.io.model import View
from tests.gui.conftest import write_view


def test_a_length_measured_with_a_given_spacing_keeps_its_mm_after_reopening(main_window, load, tmp_path, qtbot):
    from mammoview.gui.export import export_study
    from mammoview.gui.main_window import MainWindow

    folder = tmp_path / "study"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view, pixel_spacing=None)  # a file without spacing (CBIS-DDSM, a PNG)
    w = main_window
    load(w, [folder])
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.set_pixel_spacing(0.1)  # the reader knows it: Image > Pixel spacing
    w.commands["measure"].trigger()
    m = w.cad.measure_tool.measure(w.panels[View.LCC], (50.0, 60.0), (150.0, 60.0))  # 100 px at 0.1 mm
    assert m is not None and w.cad.length(m).text == "10.0 mm"
    w.close()
    for helper in (w.jobs, w.prefetch, w.prefetch_helper, w.priors, w.frames):
        helper.shutdown()
    w2 = MainWindow()  # the next session: the spacing given yesterday is not given again
    qtbot.addWidget(w2)
    w2.resize(1000, 760)
    w2.show()
    try:
        load(w2, [folder])
        assert [x.id for x in w2.cad.reader.measurements] == [m.id]
        assert w2.cad.length(w2.cad.reader.measurements[0]).text == "10.0 mm"  # was "100 px"
        drawn = [i for i in w2.cad.measure_tool.items(View.LCC) if hasattr(i, "textItem")]
        assert [i.textItem.toPlainText() for i in drawn] == ["10.0 mm"]  # the label on the image too
        doc = json.loads(export_study(w2, tmp_path / "x.png").json.read_text())
        assert [(x["length"], x["unit"]) for x in doc["measurements"]] == [(10.0, "mm")]  # was (100.0, "px")
    finally:
        for helper in (w2.jobs, w2.prefetch, w2.prefetch_helper, w2.priors, w2.frames):
            helper.shutdown()
