"""A spot compression view (named by its View Modifier) that carries the contact factor every DX image has
(Estimated Radiographic Magnification Factor ~1.1) was titled 'spot compression · magnification ×1.08': the new
'known by its factor alone' label fires on any close-up, not only on a factor that makes one (>= 1.4)."""

from __future__ import annotations

from mammoview.io.model import View
from tests.gui.conftest import write_view
from tests.synthetic import code_item, mammo_dataset, synthetic_breast, write_dataset


def test_a_spot_compression_view_at_contact_factor_is_not_called_a_magnification(main_window, load, tmp_path):
    folder = tmp_path / "study"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view)
    ds = mammo_dataset(synthetic_breast(500, 320, seed=9), "L", "CC", pixel_spacing=None, imager_spacing=(0.1, 0.1),
                       study_uid="1.2.826.0.1.3680043.8.498.1001")  # fmt: skip
    ds.ViewModifierCodeSequence = [code_item("SCT", "399055006", "Spot Compression")]
    ds.EstimatedRadiographicMagnificationFactor = "1.08"  # a contact exposure's
    write_dataset(ds, folder / "LCC_spot.dcm")
    load(main_window, [folder])
    main_window.show_choice(View.LCC, 1)
    title = main_window.panels[View.LCC].labels.title.text()
    assert "spot compression" in title
    assert "magnification" not in title, title
