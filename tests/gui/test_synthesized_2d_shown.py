"""A combo exam's view: the acquired 2-D exposure is on screen, the synthesized 2-D (Image Type GENERATED_2D) behind
it, its panel title saying what it is when the reader picks it."""

from __future__ import annotations

import pydicom

from mammoview.io.model import View
from tests.gui.conftest import write_view


def test_the_exposure_is_shown_and_the_synthesized_2d_says_what_it_is(main_window, load, synthetic_study):
    for name, number, time, image_type in (
        ("LCC.dcm", 1, "103001", ["ORIGINAL", "PRIMARY", ""]),
        ("LCC-cview.dcm", 2, "103045", ["DERIVED", "PRIMARY", "TOMOSYNTHESIS", "GENERATED_2D"]),
    ):
        ds = pydicom.dcmread(write_view(synthetic_study, name, "LCC"))
        ds.InstanceNumber, ds.AcquisitionDate, ds.AcquisitionTime = number, "20240102", time
        ds.ImageType = image_type
        ds.save_as(synthetic_study / name)
    load(main_window, [synthetic_study])
    lcc = main_window.panels[View.LCC]
    assert lcc.image.path.name == "LCC.dcm"
    assert "synthesized" not in lcc.labels.title.text() and "(1 of 2)" in lcc.labels.title.text()
    assert "also LCC-cview.dcm (synthesized 2-D, acquired 2024-01-02 10:30:45)" in main_window.last_message[1]
    main_window.show_choice(View.LCC, 1)
    assert lcc.image.path.name == "LCC-cview.dcm" and "synthesized 2-D" in lcc.labels.title.text()
