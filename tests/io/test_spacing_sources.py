"""Which DICOM attribute gives the mm a reader measures in (PS3.3 10.7.1)."""

from __future__ import annotations

import pydicom

from mammoview.gui.measure_tool import length_of
from mammoview.io import read_info
from tests.io.conftest import MakeFile


def test_pixel_spacing_equal_to_imager_spacing_is_at_the_detector_and_corrected_like_it(write_dcm: MakeFile) -> None:
    """PS3.3 10.7.1.1: Pixel Spacing with the values of Imager Pixel Spacing means *not* corrected for magnification.
    The same exposure must measure the same whether or not the modality copied Imager Pixel Spacing into Pixel
    Spacing: a 1000-row line on a 1.8x magnification view is 55.6 mm in the breast, not 100 mm."""

    def mag(ds: pydicom.Dataset) -> None:
        ds.EstimatedRadiographicMagnificationFactor = "1.8"

    only_imager = read_info(write_dcm("ips.dcm", pixel_spacing=None, imager_spacing=(0.1, 0.1), edit=mag)).spacing
    both = read_info(write_dcm("both.dcm", pixel_spacing=(0.1, 0.1), imager_spacing=(0.1, 0.1), edit=mag)).spacing
    assert only_imager is not None and both is not None
    assert length_of((0, 0), (0, 1000), only_imager).text == "55.6 mm"
    assert length_of((0, 0), (0, 1000), both).text == "55.6 mm"  # was "100.0 mm": detector-plane mm, unlabelled
    assert "breast plane" in both.source


def test_pixel_spacing_equal_to_imager_spacing_without_a_factor_says_it_is_at_the_detector(write_dcm: MakeFile) -> None:
    sp = read_info(write_dcm("det.dcm", pixel_spacing=(0.1, 0.1), imager_spacing=(0.1, 0.1))).spacing
    assert sp is not None and (sp.row_mm, sp.col_mm) == (0.1, 0.1)
    assert "at the detector" in sp.source


def test_calibrated_pixel_spacing_is_used_as_it_is(write_dcm: MakeFile) -> None:
    """Pixel Spacing that differs from Imager Pixel Spacing (or says it was calibrated) is already in the patient."""

    def calibrated(ds: pydicom.Dataset) -> None:
        ds.EstimatedRadiographicMagnificationFactor = "1.1"
        ds.PixelSpacingCalibrationType = "GEOMETRY"

    sp = read_info(write_dcm("cal.dcm", pixel_spacing=(0.1, 0.1), imager_spacing=(0.1, 0.1), edit=calibrated)).spacing
    assert sp is not None and (sp.row_mm, sp.col_mm) == (0.1, 0.1)
    sp = read_info(
        write_dcm(
            "diff.dcm",
            pixel_spacing=(0.09, 0.09),
            imager_spacing=(0.1, 0.1),
            edit=lambda ds: setattr(ds, "EstimatedRadiographicMagnificationFactor", "1.1"),
        )
    ).spacing
    assert sp is not None and (sp.row_mm, sp.col_mm) == (0.09, 0.09)


def test_a_digitised_films_nominal_scanned_pixel_spacing_is_its_spacing(write_dcm: MakeFile) -> None:
    """Secondary Capture of a scanned film: the spacing is Nominal Scanned Pixel Spacing (0018,2010), row first
    (PS3.3 C.8.6.1, 10.7.1.3); the file has a spacing, so lengths are in mm and the CAD does not guess."""

    def scanned(ds: pydicom.Dataset) -> None:
        ds.NominalScannedPixelSpacing = ["0.1", "0.05"]

    info = read_info(write_dcm("film.dcm", pixel_spacing=None, modality="MG", edit=scanned))
    assert info.spacing is not None, info.spacing_text  # was "spacing unknown"
    assert (info.spacing.row_mm, info.spacing.col_mm) == (0.1, 0.05)
    assert "NominalScannedPixelSpacing (0018,2010)" in info.spacing.source
    assert length_of((0, 0), (0, 1000), info.spacing).text == "100.0 mm at detector"  # the film was the detector
    assert length_of((0, 0), (1000, 0), info.spacing).text == "50.0 mm at detector"
