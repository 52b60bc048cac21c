"""An Estimated Radiographic Magnification Factor that is no magnification (outside 0.9-4) is ignored for the mm, as
the reader says; the same value must not make the view a magnification close-up (hung behind, refused by the CAD)."""

from __future__ import annotations

import pydicom
import pytest

from mammoview.cad.cad_input import ImageRefused, check_cad_input
from mammoview.io import read_info
from tests.io.conftest import MakeFile
from tests.synthetic import synthetic_breast


@pytest.mark.parametrize("factor", ["110", "1000"])  # e.g. a distance in cm or mm written in the factor's place
def test_a_factor_ignored_as_no_magnification_does_not_make_a_close_up(write_dcm: MakeFile, factor: str) -> None:
    def edit(ds: pydicom.Dataset) -> None:
        ds.EstimatedRadiographicMagnificationFactor = factor

    path = write_dcm("cc.dcm", synthetic_breast(400, 300), pixel_spacing=None, imager_spacing=(0.1, 0.1), edit=edit)
    info = read_info(path)
    assert any("is not a magnification" in w and "ignored" in w for w in info.warnings), info.warnings
    assert (info.spacing.row_mm, info.spacing.col_mm) == (0.1, 0.1)  # ignored for the mm ...
    assert not info.meta.close_up, info.meta.close_up  # ... and was a "magnification view (... 110)"
    check_cad_input(info)  # the CAD reads this screening view (it refused it as a close-up)


def test_a_real_magnification_factor_still_makes_a_close_up(write_dcm: MakeFile) -> None:
    def edit(ds: pydicom.Dataset) -> None:
        ds.EstimatedRadiographicMagnificationFactor = "1.8"

    path = write_dcm("mag.dcm", synthetic_breast(400, 300), pixel_spacing=None, imager_spacing=(0.1, 0.1), edit=edit)
    info = read_info(path)
    assert info.meta.close_up and info.meta.magnification_factor == 1.8
    with pytest.raises(ImageRefused):
        check_cad_input(info)
