"""The prior's panels name what its image is besides its slot (a spot magnification, an XCCL, an ML, a raw image,
an implant-displaced view), as the current study's panels do: a prior that is a close-up or another projection must
not read as the woman's plain prior L CC."""

from __future__ import annotations

import pydicom

from mammoview.io.model import View
from tests.gui.conftest import write_view
from tests.gui.test_priors import compare, date_of
from tests.synthetic import code_item


def test_the_priors_panels_name_a_close_up_or_another_projection(main_window, load, tmp_path, qtbot):
    w, root = main_window, tmp_path / "exams"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(root / "2024", f"{view}.dcm", view, study_uid="1.2.3.24", study_date="20240601",
                   patient_id="PAT-1")  # fmt: skip
    # the prior: a diagnostic exam whose L CC is a spot magnification, R CC an XCCL, L MLO an ML
    prior = {"RCC": {"projection": "XCCL"}, "LCC": {}, "RMLO": {}, "LMLO": {"projection": "ML"}}
    for view, extra in prior.items():
        path = write_view(root / "2022", f"{view}.dcm", view, study_uid="1.2.3.22", study_date="20220601",
                          patient_id="PAT-1", **extra)  # fmt: skip
        if view == "LCC":
            ds = pydicom.dcmread(path)
            item = code_item("SCT", "399162004", "cranio-caudal")
            item.ViewModifierCodeSequence = [code_item("SCT", "399055006", "spot compression"),
                                             code_item("SCT", "399163009", "magnification")]  # fmt: skip
            ds.ViewCodeSequence = [item]
            ds.save_as(path)
    load(w, [root])
    assert date_of(w.panels[View.RCC]) == "20240601"
    compare(w, qtbot)
    titles = {v: w.hanging.prior_panels[v].labels.title.text() for v in (View.RCC, View.LCC)}
    assert "prior" in titles[View.LCC] and "spot compression" in titles[View.LCC]
    assert "magnification" in titles[View.LCC]
    assert "XCCL" in titles[View.RCC]
    from mammoview.gui.hanging_layout import Layout

    compare(w, qtbot, Layout.PRIOR_MLO)
    assert " ML" in w.hanging.prior_panels[View.LMLO].labels.title.text()
