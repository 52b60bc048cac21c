"""A magnification view known by its Estimated Radiographic Magnification Factor alone is named on its
panel, as README promises for close-ups (``L CC · spot compression``): its mm are not a contact view's."""

from __future__ import annotations

from mammoview.io.model import View
from tests.gui.conftest import write_view


def test_a_magnification_view_by_its_factor_alone_is_named_in_its_panel_title(main_window, load, tmp_path):
    folder = tmp_path / "study"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view)
    from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

    ds = mammo_dataset(synthetic_breast(500, 320, seed=9), "L", "CC", pixel_spacing=None, imager_spacing=(0.1, 0.1),
                       study_uid="1.2.826.0.1.3680043.8.498.1001")  # fmt: skip
    ds.EstimatedRadiographicMagnificationFactor = "1.8"  # no View Modifier Code Sequence: many modalities send none
    write_dataset(ds, folder / "LCC_mag.dcm")
    load(main_window, [folder])
    main_window.show_choice(View.LCC, 1)  # the close-up hangs behind the whole-breast L CC
    panel = main_window.panels[View.LCC]
    assert panel.image.info.meta.close_up.startswith("magnification view")
    assert "magnification" in panel.labels.title.text(), panel.labels.title.text()  # was "L CC (2 of 2)"
