"""A ViewPosition that carries the side ("RCC", "L MLO"): the side is read from it, as the projection is."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset

from mammoview.io.model import Laterality, Projection, View
from mammoview.io.views import conflicts, decide

NOWHERE = Path("/nowhere/img.dcm")


def test_view_position_rcc_gives_the_side_too() -> None:
    ds = Dataset()
    ds.ViewPosition = "RCC"
    lat, proj = decide(ds, NOWHERE)
    assert proj.value is Projection.CC
    assert lat.value is Laterality.RIGHT and lat.source == "ViewPosition (0018,5101)"
    assert View.from_parts(lat.value, proj.value) is View.RCC


def test_view_position_side_disagreeing_with_image_laterality_is_named() -> None:
    ds = Dataset()
    ds.ImageLaterality, ds.ViewPosition = "R", "L MLO"
    lat, _ = decide(ds, NOWHERE)
    assert lat.value is Laterality.RIGHT  # ImageLaterality still decides
    assert any("ViewPosition (0018,5101) L" in c for c in conflicts(ds))


def test_view_position_lat_is_not_taken_for_the_left_axillary_tail() -> None:
    """ViewPosition "LAT" is how systems write a lateral view; read as L + AT it made the image a left breast (and a
    right one tagged ImageLaterality R was said to disagree with its ViewPosition).  Lateral or left axillary tail:
    said."""
    ds = Dataset()
    ds.ViewPosition = "LAT"
    lat, proj = decide(ds, NOWHERE)
    assert lat.value is None and proj.value is None
    assert "'LAT'" in proj.detail and "lateral" in proj.detail
    ds.ImageLaterality = "R"
    assert decide(ds, NOWHERE)[0].value is Laterality.RIGHT
    assert not any("ViewPosition (0018,5101) L" in c for c in conflicts(ds)), conflicts(ds)
    ds.ViewPosition = "L AT"  # the ACR label written apart is no lateral
    assert decide(ds, NOWHERE)[1].value is Projection.AT
