"""Enhanced (multi-frame functional-group) images keep their VOI in the Frame VOI LUT Sequence (0028,9132) of the
Shared (5200,9229) or Per-Frame (5200,9230) Functional Groups Sequence (PS3.3 C.7.6.16.2.10, and C.7.6.16.2.10b
whose items may hold a VOI LUT Sequence (0028,3010)), not at the top level: the reader takes them from there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mammoview.io import read_image
from mammoview.io.chain_model import VoiFunction, VoiWindow
from mammoview.io.pixels import resolve_voi, to_presentation
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

GROUPS = ["SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"]


def enhanced(stored: np.ndarray, group: str, frame_voi: Dataset) -> Dataset:
    """A mammogram whose only VOI is ``frame_voi``, the Frame VOI LUT item of ``group`` (one frame)."""
    ds = mammo_dataset(stored)
    for keyword in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation", "VOILUTFunction"):
        if keyword in ds:
            del ds[keyword]
    ds.NumberOfFrames = 1
    functional_group = Dataset()
    functional_group.FrameVOILUTSequence = Sequence([frame_voi])
    setattr(ds, group, Sequence([functional_group]))
    return ds


@pytest.mark.parametrize("group", GROUPS)
def test_windows_of_the_frame_voi_lut_sequence(tmp_path: Path, group: str) -> None:
    stored = synthetic_breast(200, 140, seed=5)
    frame_voi = Dataset()
    frame_voi.WindowCenter = [1800, 1000]
    frame_voi.WindowWidth = [1500, 0.5]
    frame_voi.WindowCenterWidthExplanation = ["SOFT", "EDGE"]
    frame_voi.VOILUTFunction = "SIGMOID"
    image = read_image(write_dataset(enhanced(stored, group, frame_voi), tmp_path / "enhanced.dcm"))
    assert image.info.chain.windows == (
        VoiWindow(1800, 1500, VoiFunction.SIGMOID, "SOFT"),
        VoiWindow(1000, 0.5, VoiFunction.SIGMOID, "EDGE"),
    )
    assert resolve_voi(image.info.chain, "default") == image.info.chain.windows[0]  # shown with the file's window
    expected = 1 / (1 + np.exp(-4 * (stored.astype(np.float64) - 1800) / 1500))
    assert np.allclose(to_presentation(image.stored, image.info.chain), expected, atol=1e-6)


@pytest.mark.parametrize("group", GROUPS)
def test_a_voi_lut_sequence_in_the_frame_voi_lut_sequence(tmp_path: Path, group: str) -> None:
    stored = synthetic_breast(200, 140, seed=5)  # unsigned 12-bit
    lut = (4095 - np.arange(4096)).astype(np.uint16)  # a reversed ramp: unmistakable
    lut_item = Dataset()
    lut_item.add_new(0x00283002, "US", [4096, 0, 12])  # LUT Descriptor
    lut_item.add_new(0x00283006, "OW", lut.astype("<u2").tobytes())  # LUT Data
    lut_item.LUTExplanation = "REVERSED"
    frame_voi = Dataset()
    frame_voi.VOILUTSequence = Sequence([lut_item])
    image = read_image(write_dataset(enhanced(stored, group, frame_voi), tmp_path / "enhanced_lut.dcm"))
    (voi_lut,) = image.info.chain.voi_luts
    assert voi_lut.explanation == "REVERSED" and voi_lut.first_mapped == 0 and voi_lut.output_bits == 12
    assert image.info.chain.windows == ()
    expected = (4095 - stored.astype(np.float64)) / 4095
    assert np.allclose(to_presentation(image.stored, image.info.chain), expected, atol=1e-6)


def test_the_top_level_window_comes_first(tmp_path: Path) -> None:
    stored = synthetic_breast(200, 140, seed=5)
    frame_voi = Dataset()
    frame_voi.WindowCenter, frame_voi.WindowWidth = 1000, 800
    ds = enhanced(stored, GROUPS[0], frame_voi)
    ds.WindowCenter, ds.WindowWidth = 2000, 1000
    image = read_image(write_dataset(ds, tmp_path / "both.dcm"))
    assert image.info.chain.windows == (VoiWindow(2000, 1000),)
