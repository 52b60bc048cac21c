"""A view exposed twice: the retake (the later acquisition) is on screen, and the reader is told the first exposure
is there too (the panel's "(1 of 2)", the open's problems naming both files)."""

from __future__ import annotations

import pydicom

from mammoview.io.model import View
from tests.gui.conftest import write_view


def test_the_retake_is_shown_and_the_first_exposure_named(main_window, load, synthetic_study):
    for name, number, time in (("LCC.dcm", 1, "103001"), ("LCC-retake.dcm", 2, "103405")):
        ds = pydicom.dcmread(write_view(synthetic_study, name, "LCC"))
        ds.InstanceNumber, ds.AcquisitionDate, ds.AcquisitionTime = number, "20240102", time
        ds.save_as(synthetic_study / name)
    load(main_window, [synthetic_study])
    lcc = main_window.panels[View.LCC]
    assert lcc.image.path.name == "LCC-retake.dcm"
    assert "(1 of 2)" in lcc.labels.title.text()
    assert ("2 images claim L CC: showing LCC-retake.dcm (acquired 2024-01-02 10:34:05); also LCC.dcm (acquired "
            "2024-01-02 10:30:01)") in main_window.last_message[1]  # fmt: skip
    main_window.show_choice(View.LCC, 1)  # as the Duplicates menu and the panel's right-click menu do
    assert lcc.image.path.name == "LCC.dcm" and "(2 of 2)" in lcc.labels.title.text()
