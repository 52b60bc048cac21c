"""The pixel chain, checked against the standard's formulas and pydicom's own functions."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut, apply_voi_lut, apply_windowing
from pydicom.pixels.utils import pixel_array

from mammoview.io import read_image, read_info
from mammoview.io.chain import pixel_chain
from mammoview.io.chain_model import ModalityTransform, PixelChain, VoiFunction, VoiLut, VoiWindow
from mammoview.io.pixels import (
    apply_inversion,
    apply_modality,
    apply_voi,
    apply_window,
    default_window,
    display_lut,
    modality_range,
    padding_mask,
    tissue_window,
    to_presentation,
    window_from_range,
    window_presets,
)
from tests.synthetic import mammo_dataset, synthetic_breast

CHAIN12 = PixelChain(bits_stored=12, signed=False, photometric="MONOCHROME2")


def pydicom_output_range(ds: pydicom.Dataset) -> tuple[float, float]:
    """y_min, y_max that pydicom's apply_windowing maps onto (written out from PS3.3 C.11.1.1.1)."""
    if "ModalityLUTSequence" in ds:
        return 0.0, 2.0 ** ds.ModalityLUTSequence[0].LUTDescriptor[2] - 1
    bits = int(ds.BitsStored)
    lo, hi = (0, 2**bits - 1) if ds.PixelRepresentation == 0 else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        lo, hi = (
            lo * float(ds.RescaleSlope) + float(ds.RescaleIntercept),
            hi * float(ds.RescaleSlope) + float(ds.RescaleIntercept),
        )
    return float(lo), float(hi)


# --- the formulas -------------------------------------------------------------------


def test_linear_window_follows_c_11_2_1_2_1() -> None:
    w = VoiWindow(center=2048, width=4096)
    x = np.array([-10, 0, 1, 2047.5, 4095, 5000])
    # y = ((x - (c - 0.5)) / (w - 1) + 0.5), clipped
    expected = np.clip((x - 2047.5) / 4095 + 0.5, 0, 1)
    assert np.allclose(apply_window(x, w), expected)


def test_linear_exact_and_sigmoid_formulas() -> None:
    x = np.linspace(-100, 300, 41)
    exact = apply_window(x, VoiWindow(100, 200, VoiFunction.LINEAR_EXACT))
    assert np.allclose(exact, np.clip((x - 100) / 200 + 0.5, 0, 1))
    sig = apply_window(x, VoiWindow(100, 200, VoiFunction.SIGMOID))
    assert np.allclose(sig, 1 / (1 + np.exp(-4 * (x - 100) / 200)))


def test_width_one_is_a_step() -> None:
    y = apply_window(np.array([9, 10, 11]), VoiWindow(center=10.5, width=1))
    assert y.tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("function", "width", "message"),
    [
        (VoiFunction.LINEAR, 0.5, "(0028,1051) Window Width must be >= 1"),
        (VoiFunction.LINEAR_EXACT, 0.0, "(0028,1051) Window Width must be > 0"),
    ],
)
def test_invalid_width_names_the_tag(function: VoiFunction, width: float, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        VoiWindow(10, width, function)


@pytest.mark.parametrize("function", list(VoiFunction))
def test_windows_match_pydicom_apply_windowing(function: VoiFunction) -> None:
    px = synthetic_breast(60, 40, max_value=4095)
    ds = mammo_dataset(px, window=(1800, 1500))
    ds.VOILUTFunction = function.value
    chain = pixel_chain(ds, [])
    assert chain.windows[0].function is function
    ours = apply_voi(apply_modality(px, chain), chain)
    y_min, y_max = pydicom_output_range(ds)
    theirs = (apply_windowing(px.astype(np.float64), ds) - y_min) / (y_max - y_min)
    assert np.allclose(ours, theirs, atol=1e-9)


def test_rescale_then_window_matches_pydicom() -> None:
    px = synthetic_breast(50, 40, max_value=4095)
    ds = mammo_dataset(px, window=(-200, 900))
    ds.RescaleSlope, ds.RescaleIntercept = "0.5", "-1024"
    chain = pixel_chain(ds, [])
    mod = apply_modality(px, chain)
    assert np.allclose(mod, apply_modality_lut(px, ds))
    assert modality_range(chain) == pydicom_output_range(ds)
    y_min, y_max = pydicom_output_range(ds)
    theirs = (apply_voi_lut(apply_modality_lut(px, ds), ds) - y_min) / (y_max - y_min)
    assert np.allclose(apply_voi(mod, chain), theirs)


def test_invalid_window_in_file_is_dropped_with_a_warning_naming_the_tag() -> None:
    ds = mammo_dataset(synthetic_breast(20, 20), window=(100, 0))
    warnings: list[str] = []
    chain = pixel_chain(ds, warnings)
    assert chain.windows == ()
    assert any("(0028,1051)" in w for w in warnings)


def test_window_explanations_name_their_own_window_as_written() -> None:
    ds = mammo_dataset(synthetic_breast(20, 20))
    ds.WindowCenter, ds.WindowWidth = [2000, 1500, 2500], [4000, 2000, 2000]
    ds.WindowCenterWidthExplanation = ["", "Soft tissue", "Dense"]  # the first (default) window has no name
    chain = pixel_chain(ds, [])
    assert [w.explanation for w in chain.windows] == ["", "Soft tissue", "Dense"]


def test_inversion_and_padding() -> None:
    chain = PixelChain(12, False, "MONOCHROME1", padding_value=4095)
    y = np.array([0.0, 0.25, 1.0])
    assert np.allclose(apply_inversion(y, chain), [1.0, 0.75, 0.0])
    assert apply_inversion(y, CHAIN12) is y
    stored = np.array([[0, 100, 4095]], dtype=np.uint16)
    assert padding_mask(stored, chain).tolist() == [[False, False, True]]
    pres = to_presentation(stored, chain)  # full range 0..100 (padding excluded), inverted, padding -> 0
    assert np.allclose(pres, [[1.0, 0.0, 0.0]])


def test_padding_range_limit_is_inclusive_either_order() -> None:
    stored = np.arange(10, dtype=np.uint16)
    a = padding_mask(stored, PixelChain(12, False, "MONOCHROME2", padding_value=2, padding_range_limit=4))
    b = padding_mask(stored, PixelChain(12, False, "MONOCHROME2", padding_value=4, padding_range_limit=2))
    assert a.tolist() == b.tolist() == [i in (2, 3, 4) for i in range(10)]


def test_modality_lut_clips_outside_its_range() -> None:
    lut = np.array([10, 20, 30, 40], dtype=np.uint16)
    chain = PixelChain(12, True, "MONOCHROME2", modality=ModalityTransform(lut_first_mapped=-1, lut_data=lut))
    assert apply_modality(np.array([-5, -1, 0, 2, 9]), chain).tolist() == [10, 10, 20, 40, 40]


def test_to_presentation_default_is_first_window_else_lut_else_full_range() -> None:
    px = np.array([[100, 200], [300, 400]], dtype=np.uint16)
    assert np.allclose(to_presentation(px, CHAIN12), [[0, 1 / 3], [2 / 3, 1]], atol=1e-6)
    win = PixelChain(12, False, "MONOCHROME2", windows=(VoiWindow(200.5, 201),))
    assert np.allclose(to_presentation(px, win), [[0, 0.5], [1, 1]], atol=1e-6)
    lut = VoiLut(first_mapped=100, data=np.linspace(0, 255, 301).astype(np.uint16), output_bits=8)
    with_lut = PixelChain(12, False, "MONOCHROME2", voi_luts=(lut,))
    assert np.allclose(to_presentation(px, with_lut), np.array([[0, 85], [170, 255]]) / 255, atol=1e-6)
    assert to_presentation(px, win, voi=None).max() == 1.0  # explicit None = full range


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_display_lut_equals_to_presentation(dtype: type) -> None:
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    px = rng.integers(max(info.min, -3000), min(info.max, 3000) + 1, (40, 30)).astype(dtype)
    chain = PixelChain(8 * np.dtype(dtype).itemsize, np.dtype(dtype).kind == "i", "MONOCHROME1")
    for voi in ("default", VoiWindow(float(px.mean()), 500.0), None):
        pres = to_presentation(px, chain, voi)
        offset, lut = display_lut(chain, voi, int(px.min()), int(px.max()))
        assert lut.dtype == np.uint8
        assert np.array_equal(lut[px.astype(np.int64) - offset], np.rint(pres * 255).astype(np.uint8))


def test_display_lut_is_fast_for_16_bit() -> None:
    chain = PixelChain(16, False, "MONOCHROME2", modality=ModalityTransform(slope=2.0, intercept=-5.0))
    best = min(_timed(lambda: display_lut(chain, VoiWindow(30000, 20000), 0, 65535)) for _ in range(5))
    assert best < 0.02  # ~1 ms in practice; generous for a loaded 2-core machine


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_to_presentation_keeps_float32_and_range() -> None:
    px = synthetic_breast(300, 200)
    out = to_presentation(px, CHAIN12)
    assert out.dtype == np.float32 and out.shape == px.shape
    assert float(out.min()) == 0.0 and float(out.max()) == 1.0


def test_default_window_prefers_the_file_then_the_tissue() -> None:
    px = synthetic_breast(300, 200, chest_wall="left")
    file_window = VoiWindow(1000, 800)
    assert default_window(PixelChain(12, False, "MONOCHROME2", windows=(file_window,)), px) is file_window
    w = default_window(CHAIN12, px)
    lo, hi = w.center - 0.5 - (w.width - 1) / 2, w.center - 0.5 + (w.width - 1) / 2
    tissue = px[px > 500]
    assert np.percentile(tissue, 0.1) <= lo <= np.percentile(tissue, 5)  # background (~0) is excluded
    assert np.percentile(tissue, 99) <= hi <= px.max()
    # MONOCHROME1: tissue is dark in stored values; the window still spans it, not the bright background
    inv = (4095 - px).astype(np.uint16)
    w1 = tissue_window(inv, PixelChain(12, False, "MONOCHROME1"))
    assert w1.center + w1.width / 2 < 4095 - 500


def test_window_presets_and_from_range() -> None:
    w = window_from_range(100, 300, "x")
    assert apply_window(np.array([100, 300]), w).tolist() == [0.0, 1.0]
    px = synthetic_breast(100, 80)
    names = [p.explanation for p in window_presets(CHAIN12, px)]
    assert names == ["auto: tissue", "full data range"]


# --- pydicom-data files ------------------------------------------------------------

PYDICOM_FILES = [
    "RG1_UNCI.dcm",  # MONOCHROME1, window
    "RG3_J2KR.dcm",  # MONOCHROME1, JPEG 2000 lossless
    "MR2_J2KI.dcm",  # JPEG 2000 lossy, rescale + window
    "693_UNCI.dcm",  # signed, rescale, window, Pixel Padding Value
    "mlut_18.dcm",  # Modality LUT Sequence, signed
    "vlut_04.dcm",  # VOI LUT Sequence
    "JPEG-LL.dcm",  # JPEG lossless, signed
    "emri_small_jpeg_ls_lossless.dcm",  # JPEG-LS, multi-frame
    "emri_small_RLE.dcm",  # RLE, multi-frame
    "JPGLosslessP14SV1_1s_1f_8b.dcm",  # JPEG lossless 8-bit
]


@pytest.mark.parametrize("name", PYDICOM_FILES)
def test_chain_matches_pydicom_on_real_files(pydicom_data: Path, name: str) -> None:
    path = pydicom_data / name
    image = read_image(path)
    ds = pydicom.dcmread(path)
    theirs_stored = pixel_array(ds, index=0) if int(ds.get("NumberOfFrames", 1) or 1) > 1 else ds.pixel_array
    assert np.array_equal(image.stored, theirs_stored)
    chain = image.info.chain
    mod = apply_modality(image.stored, chain)
    theirs_mod = apply_modality_lut(theirs_stored, ds)
    assert np.allclose(mod, theirs_mod)
    voi = apply_voi(mod, chain)
    if chain.voi_luts and not chain.windows:
        theirs = apply_voi_lut(theirs_mod, ds) / (2.0 ** chain.voi_luts[0].output_bits - 1)
    elif chain.windows:
        y_min, y_max = pydicom_output_range(ds)
        theirs = (apply_windowing(np.asarray(theirs_mod, dtype=np.float64), ds) - y_min) / (y_max - y_min)
    else:
        theirs = (theirs_mod - theirs_mod.min()) / (theirs_mod.max() - theirs_mod.min())
    assert np.allclose(voi, theirs, atol=1e-9)
    pres = to_presentation(image.stored, chain)
    expected = 1.0 - theirs if ds.PhotometricInterpretation == "MONOCHROME1" else theirs
    expected = np.where(padding_mask(image.stored, chain), 0.0, expected)
    # (without a window the default range skips padding values, pydicom's min..max does not)
    if chain.windows or chain.voi_luts or chain.padding_value is None:
        assert np.allclose(pres, expected, atol=1e-6)


def test_monochrome1_presentation_is_inverted(pydicom_data: Path) -> None:
    image = read_image(pydicom_data / "RG3_J2KR.dcm")
    assert image.info.chain.inverted and image.info.transfer_syntax == "JPEG 2000 Image Compression (Lossless Only)"
    pres = to_presentation(image.stored, image.info.chain)
    lo, hi = np.unravel_index(image.stored.argmin(), image.stored.shape), image.stored.argmax()
    assert pres[lo] >= pres.flat[hi]  # the lowest stored value is the brightest


def test_padding_value_is_read_and_applied(pydicom_data: Path) -> None:
    info = read_info(pydicom_data / "693_UNCI.dcm")
    assert info.chain.padding_value == -2000 and info.chain.signed
    image = read_image(pydicom_data / "693_UNCI.dcm")
    pad = padding_mask(image.stored, info.chain)
    assert pad.any()
    assert float(to_presentation(image.stored, info.chain)[pad].max()) == 0.0


@pytest.mark.parametrize(("vr", "written", "pixels"), [("US", 65536 - 2000, np.int16), ("SS", -1, np.uint16)])
def test_padding_value_written_with_the_other_vr_is_the_same_bits(
    tmp_path: Path, vr: str, written: int, pixels: type
) -> None:
    """A Pixel Padding Value whose VR disagrees with Pixel Representation (US 63536 in a signed image, SS -1 in an
    unsigned one) names the stored bit pattern: -2000, 65535."""
    from pydicom.dataelem import DataElement

    px = synthetic_breast(60, 40).astype(pixels)
    pad = written - 65536 if written >= 2**15 else written + 65536 if written < 0 else written
    px[:, :10] = pad
    ds = mammo_dataset(px)
    ds.add(DataElement(0x00280120, vr, written))
    path = tmp_path / "pad.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    image = read_image(path)
    assert image.info.chain.padding_value == pad
    mask = padding_mask(image.stored, image.info.chain)
    assert mask[:, :10].all() and not mask[:, 10:].any()
    assert float(to_presentation(image.stored, image.info.chain)[:, :10].max()) == 0.0


def test_big_endian_input_is_handled() -> None:
    px = np.array([[1, 2], [3, 4000]], dtype=np.uint16)
    assert np.array_equal(to_presentation(px.astype(">u2"), CHAIN12), to_presentation(px, CHAIN12))
