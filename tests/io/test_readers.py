"""Readers: DICOM transfer syntaxes, raster formats, spacing sources, warnings."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, RLELossless

from mammoview.io import LoadError, PixelSpacing, Projection, View, read_image, read_info
from mammoview.io.reader import decode_frame
from tests.io.conftest import MakeFile
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

# --- DICOM encodings ------------------------------------------------------------------


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless])
def test_compressed_dicom_round_trips(tmp_path: Path, syntax: pydicom.uid.UID) -> None:
    px = synthetic_breast(64, 48)
    ds = mammo_dataset(px)
    ds.compress(syntax, px)
    image = read_image(write_dataset(ds, tmp_path / "c.dcm"))
    assert image.info.transfer_syntax == syntax.name
    assert image.stored.dtype == np.uint16 and np.array_equal(image.stored, px)


def test_jpeg_baseline_grey(tmp_path: Path) -> None:
    px = synthetic_breast(64, 48, max_value=255, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(px).save(buf, format="JPEG", quality=98)
    ds = mammo_dataset(px)
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    image = read_image(write_dataset(ds, tmp_path / "j.dcm"))
    assert image.info.transfer_syntax == JPEGBaseline8Bit.name
    assert np.abs(image.stored.astype(int) - px).mean() < 3  # lossy


@pytest.mark.parametrize(
    ("name", "syntax"),
    [
        ("emri_small_jpeg_ls_lossless.dcm", "JPEG-LS Lossless Image Compression"),
        ("JPEG-LL.dcm", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])"),
        ("MR2_J2KR.dcm", "JPEG 2000 Image Compression (Lossless Only)"),
        ("emri_small_big_endian.dcm", "Explicit VR Big Endian"),
    ],
)
def test_pydicom_data_encodings_decode_like_pydicom(pydicom_data: Path, name: str, syntax: str) -> None:
    image = read_image(pydicom_data / name)
    assert image.info.transfer_syntax == syntax
    ds = pydicom.dcmread(pydicom_data / name)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    expected = ds.pixel_array[0] if frames > 1 else ds.pixel_array
    assert np.array_equal(image.stored, expected)


def test_multiframe_opens_at_its_first_frame_and_decodes_any_other(pydicom_data: Path) -> None:
    image = read_image(pydicom_data / "emri_small_RLE.dcm")  # RLE: one frame of compressed data decoded alone
    assert image.info.frames == 10 and image.shape == (64, 64) and image.frame == 0
    ds = pydicom.dcmread(pydicom_data / "emri_small_RLE.dcm")
    assert np.array_equal(decode_frame(image, 7).stored, ds.pixel_array[7])
    assert not any("frame" in w for w in image.info.warnings)  # a volume is no problem of its file


def test_colour_dicom_becomes_grey_with_a_warning(pydicom_data: Path) -> None:
    image = read_image(pydicom_data / "SC_rgb.dcm")
    assert image.stored.ndim == 2 and image.info.chain.photometric == "MONOCHROME2"
    assert any("converted to grey" in w for w in image.info.warnings)


def test_32_bit_colour_white_stays_white(pydicom_data: Path) -> None:
    image = read_image(pydicom_data / "SC_rgb_32bit.dcm")
    rgb = pydicom.dcmread(pydicom_data / "SC_rgb_32bit.dcm").pixel_array
    white = (rgb == 2**32 - 1).all(axis=-1)
    assert white.any() and (image.stored[white] == image.stored.max()).all()  # not wrapped round to black
    assert not [w for w in image.info.warnings if "RuntimeWarning" in w]


def test_non_mammography_modality_loads_with_a_warning(pydicom_data: Path) -> None:
    image = read_image(pydicom_data / "MR2_UNCR.dcm")
    assert any("(0008,0060) Modality is MR, not MG" in w for w in image.info.warnings)


def test_mammography_dicom_has_no_modality_warning(write_dcm: MakeFile) -> None:
    assert read_info(write_dcm("a.dcm", pixel_spacing=(0.25, 0.25))).warnings == ()  # 30 x 20 mm: a size that can be


def test_pydicom_warnings_are_kept_not_raised(tmp_path: Path) -> None:
    ds = mammo_dataset(synthetic_breast(20, 20))
    with pytest.warns(UserWarning, match="Invalid value for VR UI"):
        ds.SOPInstanceUID = "1.2.abc"
        path = write_dataset(ds, tmp_path / "odd.dcm")
    info = read_info(path)  # pytest turns escaping warnings into errors
    assert any("Invalid value for VR UI" in w for w in info.warnings)


# --- spacing --------------------------------------------------------------------------


def test_spacing_sources(write_dcm: MakeFile) -> None:
    sp = read_info(write_dcm("a.dcm", pixel_spacing=(0.07, 0.08))).spacing
    assert sp == PixelSpacing(0.07, 0.08, "PixelSpacing (0028,0030)")
    sp = read_info(write_dcm("b.dcm", pixel_spacing=None, imager_spacing=(0.1, 0.1))).spacing
    assert sp is not None and sp.row_mm == 0.1
    assert sp.source == "ImagerPixelSpacing (0018,1164) (at the detector, not corrected for magnification)"
    assert sp.at_detector and not read_info(write_dcm("c.dcm", pixel_spacing=(0.07, 0.08))).spacing.at_detector  # type: ignore[union-attr]


def test_imager_spacing_with_magnification_factor(write_dcm: MakeFile) -> None:
    def mag(ds: pydicom.Dataset) -> None:
        ds.EstimatedRadiographicMagnificationFactor = "1.25"

    sp = read_info(write_dcm("m.dcm", pixel_spacing=None, imager_spacing=(0.1, 0.1), edit=mag)).spacing
    assert sp is not None and sp.row_mm == pytest.approx(0.08) and sp.col_mm == pytest.approx(0.08)
    assert "EstimatedRadiographicMagnificationFactor (0018,1114) 1.25" in sp.source and not sp.at_detector


def test_invalid_pixel_spacing_falls_back_with_a_warning(write_dcm: MakeFile) -> None:
    def zero(ds: pydicom.Dataset) -> None:
        ds.PixelSpacing = ["0", "0"]

    info = read_info(write_dcm("z.dcm", imager_spacing=(0.1, 0.1), edit=zero))
    assert info.spacing is not None and info.spacing.source.startswith("ImagerPixelSpacing")
    assert any("PixelSpacing (0028,0030)" in w and "ignored" in w for w in info.warnings)


def test_spacing_option_fills_only_missing_spacing(write_dcm: MakeFile, write_raster: MakeFile) -> None:
    assert read_info(write_dcm("s.dcm"), pixel_spacing=0.5).spacing.source == "PixelSpacing (0028,0030)"  # type: ignore[union-attr]
    no_spacing = read_info(write_dcm("n.dcm", pixel_spacing=None), pixel_spacing=0.5).spacing
    assert no_spacing == PixelSpacing(0.5, 0.5, "--pixel-spacing option")
    png = write_raster("x.png", synthetic_breast(30, 20, max_value=255, dtype=np.uint8))
    assert read_info(png).spacing is None and read_info(png).spacing_text == "spacing unknown"
    assert read_info(png, pixel_spacing=(0.29, 0.18)).spacing == PixelSpacing(0.29, 0.18, "--pixel-spacing option")
    with pytest.raises(ValueError, match="must be > 0"):
        read_info(png, pixel_spacing=0)


# --- rasters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dtype", "fmt", "bits"),
    [
        ("a.png", np.uint8, "PNG", 8),
        ("a16.png", np.uint16, "PNG", 16),
        ("a.tif", np.uint16, "TIFF", 16),
        ("a.pgm", np.uint8, "PGM", 8),
        ("a16.pgm", np.uint16, "PGM", 12),  # maxval 4095 -> 12 bits, values kept as stored
    ],
)
def test_lossless_rasters(write_raster: MakeFile, name: str, dtype: type, fmt: str, bits: int) -> None:
    px = synthetic_breast(50, 40, max_value=255 if dtype is np.uint8 else 4095, dtype=dtype)
    px[0, 0] = 255 if dtype is np.uint8 else 4095
    image = read_image(write_raster(name, px))
    assert image.info.file_format == fmt and image.info.chain.bits_stored == bits
    assert image.stored.dtype == np.dtype(dtype) and np.array_equal(image.stored, px)
    assert image.info.photometric == "MONOCHROME2" and image.info.warnings == ()


def test_jpeg_raster_and_ascii_pgm(write_raster: MakeFile, tmp_path: Path) -> None:
    px = synthetic_breast(50, 40, max_value=255, dtype=np.uint8)
    image = read_image(write_raster("b.jpg", px))
    assert image.info.file_format == "JPEG" and image.stored.dtype == np.uint8
    p2 = tmp_path / "p2.pgm"
    p2.write_text("P2\n3 2\n# comment\n1000\n0 1 2\n3 4 1000\n")
    image = read_image(p2)
    assert image.stored.tolist() == [[0, 1, 2], [3, 4, 1000]] and image.info.chain.bits_stored == 10


def test_rgb_raster_becomes_grey_with_a_warning(write_raster: MakeFile) -> None:
    rgb = np.zeros((20, 30, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 100, 200, 50
    image = read_image(write_raster("rgb.png", rgb))
    assert image.stored.shape == (20, 30) and image.stored.dtype == np.uint8
    assert int(image.stored[0, 0]) == round(0.299 * 100 + 0.587 * 200 + 0.114 * 50)
    assert image.info.photometric == "RGB" and any("converted to grey" in w for w in image.info.warnings)


def test_raster_view_from_names(write_raster: MakeFile) -> None:
    px = synthetic_breast(30, 20, max_value=255, dtype=np.uint8)
    assert read_info(write_raster("00001_LEFT_CC.jpg", px)).view is View.LCC
    info = read_info(write_raster("mdb005.png", px))
    assert info.view is View.RMLO and info.projection.value is Projection.MLO
    assert read_info(write_raster("scan.png", px)).view is None


def test_real_shared_data_rasters(data_dir: Path) -> None:
    cbis = sorted((data_dir / "cbis-ddsm-mass" / "images").glob("*_LEFT_MLO.jpg"))[0]
    image = read_image(cbis, pixel_spacing=(0.29, 0.29 * 488 / 800))
    assert image.view is View.LMLO and image.shape == (800, 800) and image.info.spacing is not None
    mias = sorted((data_dir / "mini-mias" / "images").glob("mdb*.png"))[0]
    assert read_image(mias, pixel_spacing=0.2).info.projection.value is Projection.MLO
    pgm = sorted((data_dir / "magic5-microcalc" / "images" / "1").glob("*.pgm"))[0]
    patch = read_image(pgm)
    assert patch.shape == (60, 60) and patch.stored.dtype == np.uint8


def test_load_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as exc:
        read_info(tmp_path / "missing.dcm")
    assert str(exc.value) == f"{tmp_path / 'missing.dcm'}: no such file"
    assert exc.value.path == tmp_path / "missing.dcm"


def test_simpleitk_fallback_reads_tiff(tmp_path: Path) -> None:
    """Pillow lacks some TIFF codecs; SimpleITK is the fallback (checked directly)."""
    import SimpleITK as sitk

    from mammoview.io.raster import _sitk_header, _sitk_pixels

    px = synthetic_breast(30, 20)
    path = tmp_path / "s.tif"
    sitk.WriteImage(sitk.GetImageFromArray(px), str(path))
    assert _sitk_header(path, ValueError("pillow failed")) == (30, 20, 16, False, False)
    assert np.array_equal(_sitk_pixels(path), px)


def test_a_float_image_with_nan_or_infinity_is_refused_by_name(tmp_path: Path) -> None:
    import SimpleITK as sitk

    px = synthetic_breast(30, 20).astype(np.float32)
    px[3, 4], px[5, 6] = np.nan, np.inf
    path = tmp_path / "f.tif"
    sitk.WriteImage(sitk.GetImageFromArray(px), str(path))
    with pytest.raises(LoadError, match="2 pixel value\\(s\\) are NaN or infinite"):
        read_image(path)


def test_a_given_pixel_spacing_must_be_finite() -> None:
    from mammoview.io.reader import parse_spacing

    assert parse_spacing("0.29,0.177") == (0.29, 0.177)
    for text in ("inf", "nan", "0.1,inf"):
        with pytest.raises(ValueError, match="finite values > 0"):
            parse_spacing(text)


def test_legacy_dicom_without_file_meta(tmp_path: Path) -> None:
    """ACR-NEMA-style files (no preamble, no File Meta) are read with the encoding pydicom infers."""
    px = synthetic_breast(30, 20)
    bare = pydicom.Dataset()
    bare.update(mammo_dataset(px, laterality="R", view="CC"))
    path = tmp_path / "legacy.dcm"
    pydicom.dcmwrite(path, bare, implicit_vr=True, little_endian=True)
    assert path.read_bytes()[128:132] != b"DICM"
    image = read_image(path)
    assert image.view is View.RCC and image.info.transfer_syntax == "Implicit VR Little Endian"
    assert np.array_equal(image.stored, px)


def _voi_lut_item(entries: int, n_data: int, with_data: bool = True, bits: int = 16, scale: int = 1) -> pydicom.Dataset:
    item = pydicom.Dataset()
    item.LUTDescriptor = [entries, 0, bits]
    if with_data:
        item.LUTData = (np.arange(n_data, dtype="<u2") * scale).tobytes()
    return item


def _lut_item_data(vr: str, value: object) -> pydicom.Dataset:
    """A LUT item of 4096 entries whose LUT Data (0028,3006) is ``value`` as written with ``vr``: one US value is read
    back as a number, not a list; an empty element as nothing."""
    item = pydicom.Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.add_new(0x00283006, vr, value)
    return item


def test_a_lut_entry_a_step_above_its_bits_is_the_brightest_not_a_halved_display(write_dcm: MakeFile) -> None:
    from mammoview.io.pixels import chain_table

    def lut(ds):  # type: ignore[no-untyped-def]
        item = _voi_lut_item(4096, 4096, bits=12)
        data = np.arange(4096, dtype="<u2")
        data[-1] = 4096  # one entry a step too high, as some writers round
        item.LUTData = data.tobytes()
        ds.VOILUTSequence = [item]

    info = read_info(write_dcm("lut.dcm", edit=lut))
    assert any("LUT Data reach 4096, above the 12 bits of its descriptor; shown as the brightest" in w
               for w in info.warnings)  # fmt: skip
    table = chain_table(info.chain, np.array([0, 2048, 4095]), info.chain.voi_luts[0])
    np.testing.assert_allclose(table, [0.0, 2048 / 4095, 1.0], atol=1e-6)


def _ds(ds, **values: str) -> None:  # type: ignore[no-untyped-def]
    """Set decimal-string attributes to text as a damaged file has it (pydicom warns on 'NaN' and 'inf')."""
    import warnings

    from pydicom.datadict import tag_for_keyword
    from pydicom.dataelem import DataElement

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for keyword, text in values.items():
            ds[keyword] = DataElement(tag_for_keyword(keyword), "DS", text)


@pytest.mark.parametrize(
    ("edit", "warning"),
    [
        (lambda ds: setattr(ds, "BitsStored", 20), "Bits Stored 20 is invalid; using Bits Allocated 16"),
        (lambda ds: setattr(ds, "BitsStored", 0), "Bits Stored 0 is invalid; using Bits Allocated 16"),  # (not unsaid)
        (lambda ds: setattr(ds, "PhotometricInterpretation", "MONOCHROME3"), "MONOCHROME3: read as MONOCHROME2"),
        (lambda ds: (setattr(ds, "RescaleSlope", 0), setattr(ds, "RescaleIntercept", 5)), "Rescale Slope is 0"),
        (lambda ds: (setattr(ds, "WindowCenter", [2000, 1000]), setattr(ds, "WindowWidth", [4000])),
         "have 2 centers but 1 widths"),
        (lambda ds: (setattr(ds, "WindowCenter", 2000), setattr(ds, "WindowWidth", 4000),
                     setattr(ds, "VOILUTFunction", "CUBIC")), "VOI LUT Function 'CUBIC' is not"),
        (lambda ds: setattr(ds, "VOILUTSequence", [_voi_lut_item(4096, 0, with_data=False)]), "LUT Data missing"),
        (lambda ds: setattr(ds, "VOILUTSequence", [_voi_lut_item(4096, 100)]), "LUT Data has 100 of 4096 entries"),
        (lambda ds: setattr(ds, "VOILUTSequence", [_lut_item_data("OW", b"")]), "LUT Data missing"),
        (lambda ds: setattr(ds, "VOILUTSequence", [_lut_item_data("US", 2000)]), "LUT Data has 1 of 4096 entries"),
        (lambda ds: setattr(ds, "ModalityLUTSequence", [_lut_item_data("US", 2000)]), "LUT Data has 1 of 4096"),
        (lambda ds: setattr(ds, "VOILUTSequence", [_voi_lut_item(4096, 4096, bits=12, scale=16)]),
         "LUT Data reach 65520, above the 12 bits of its descriptor; read as 16 bits"),
        (lambda ds: setattr(ds, "VOILUTSequence", [_voi_lut_item(4096, 4096, bits=0)]),
         "LUT Descriptor gives 0 bits per entry; read as 16"),
        (lambda ds: setattr(ds, "PixelSpacing", [0.1, 0.1, 0.1]), "must be two finite values > 0; ignored"),
        (lambda ds: _ds(ds, PixelSpacing="inf\\inf"), "must be two finite values > 0; ignored"),
        (lambda ds: _ds(ds, RescaleIntercept="NaN"), "Rescale Intercept 'NaN' is not a finite number"),
        (lambda ds: _ds(ds, RescaleSlope="inf", RescaleIntercept="0"), "Rescale Slope 'inf' is not a finite number"),
        (lambda ds: _ds(ds, WindowCenter="inf", WindowWidth="4000"),
         "Window Center 'inf' / Width '4000' are not finite numbers"),
        (lambda ds: (delattr(ds, "PixelSpacing"), _ds(ds, ImagerPixelSpacing="0.1\\0.1",
                                                      EstimatedRadiographicMagnificationFactor="NaN")),
         "Magnification Factor 'NaN' is not a magnification (0.9 to 4); ignored"),
        (lambda ds: (delattr(ds, "PixelSpacing"), _ds(ds, ImagerPixelSpacing="0.1\\0.1",
                                                      EstimatedRadiographicMagnificationFactor="1e-300")),
         "Magnification Factor '1e-300' is not a magnification"),
    ],
    ids=["bits-stored", "bits-stored-0", "photometric", "rescale-slope-0", "window-counts", "voi-function",
         "lut-no-data", "lut-short", "lut-data-empty", "lut-data-one-value", "modality-lut-one-value",
         "lut-data-above-its-bits", "lut-zero-bits", "spacing-three-values", "spacing-inf",
         "intercept-nan", "slope-inf", "window-inf", "magnification-nan", "magnification-tiny"],
)  # fmt: skip
def test_a_malformed_pixel_header_is_read_with_a_warning_and_decodes(write_dcm: MakeFile, edit, warning) -> None:  # type: ignore[no-untyped-def]
    """What a damaged or non-conformant header says is named and worked around; the image still shows."""
    path = write_dcm("odd.dcm", edit=edit)
    info = read_info(path)
    assert any(warning in w for w in info.warnings), info.warnings
    from mammoview.io.pixels import to_presentation

    image = read_image(path)
    shown = np.asarray(to_presentation(image.stored, image.info.chain), dtype=np.float64)
    assert np.isfinite(shown).all() and shown.max() > shown.min()
    if image.info.chain.voi_luts:  # a LUT's output never passes the top the display maps to white
        from mammoview.io.pixels import display_lut

        _offset, table = display_lut(image.info.chain, image.info.chain.voi_luts[0], 0, 4095)
        assert (np.diff(table.astype(np.int64)) >= 0).all()  # monotone: no wrap round to black
    sp = info.spacing
    assert sp is None or (np.isfinite([sp.row_mm, sp.col_mm]).all() and 0.01 < sp.row_mm < 10)


@pytest.mark.parametrize("intercepts", [(0, 0, 0), (0, 0, -100)])
def test_per_frame_rescales_that_differ_are_named(write_dcm: MakeFile, intercepts: tuple[int, ...]) -> None:
    """A multi-frame file may rescale each frame on its own (PS3.3 C.7.6.16): each frame is read with its own, and
    a difference is said."""
    from pydicom.dataset import Dataset

    def frames(ds: Dataset) -> None:
        ds.NumberOfFrames = len(intercepts)
        ds.PixelData = ds.PixelData * len(intercepts)
        groups = []
        for b in intercepts:
            item, rescale = Dataset(), Dataset()
            rescale.RescaleSlope, rescale.RescaleIntercept = "1", str(b)
            item.PixelValueTransformationSequence = [rescale]
            groups.append(item)
        ds.PerFrameFunctionalGroupsSequence = groups

    image = read_image(write_dcm("volume.dcm", edit=frames))
    said = [w for w in image.info.warnings if w.startswith("per-frame")]
    if len(set(intercepts)) > 1:
        assert said == ["per-frame RescaleIntercept differ between frames: each frame is read with its own"]
    else:
        assert said == []
    assert decode_frame(image, 2).frame == 2
