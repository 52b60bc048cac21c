"""A close-up's panel title names what it is (README: ``L CC · spot compression``): a magnification view known by
its Estimated Radiographic Magnification Factor alone is named (its mm are not a contact view's), and a spot
compression view at the contact factor every DX image has (~1.1) is not called a magnification."""

from __future__ import annotations

from pathlib import Path

import pytest

from mammoview.io.model import View
from tests.gui.conftest import write_view
from tests.synthetic import code_item, mammo_dataset, synthetic_breast, write_dataset


def close_up_study(folder: Path, factor: str, spot: bool) -> Path:
    """The four synthetic views and an L CC close-up (Imager Pixel Spacing only) with that factor."""
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view)
    ds = mammo_dataset(synthetic_breast(500, 320, seed=9), "L", "CC", pixel_spacing=None, imager_spacing=(0.1, 0.1),
                       study_uid="1.2.826.0.1.3680043.8.498.1001")  # fmt: skip
    if spot:
        ds.ViewModifierCodeSequence = [code_item("SCT", "399055006", "Spot Compression")]
    ds.EstimatedRadiographicMagnificationFactor = factor  # (no View Modifier: many modalities send none)
    write_dataset(ds, folder / "LCC_close.dcm")
    return folder


@pytest.mark.parametrize(
    ("factor", "spot", "named", "not_named"),
    [
        ("1.8", False, "magnification", None),  # was "L CC (2 of 2)"
        ("1.08", True, "spot compression", "magnification"),  # was "spot compression · magnification ×1.08"
    ],
)
def test_a_close_up_is_named_in_its_panel_title(main_window, load, tmp_path, factor, spot, named, not_named):
    load(main_window, [close_up_study(tmp_path / "study", factor, spot)])
    main_window.show_choice(View.LCC, 1)  # the close-up hangs behind the whole-breast L CC
    panel = main_window.panels[View.LCC]
    assert panel.image.info.meta.close_up
    title = panel.labels.title.text()
    assert named in title, title
    assert not_named is None or not_named not in title, title
