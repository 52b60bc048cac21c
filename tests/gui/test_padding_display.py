"""Pixel Padding Value (0028,0120) outside the data range: the viewer's windows ignore the padding, as the CAD does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mammoview.gui.display_image import prepare_display
from mammoview.gui.window_level import Preset, lut_for, preset_window
from mammoview.io import read_image
from mammoview.io.pixels import to_presentation
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def _padded_file(tmp_path: Path, photometric: str, pad: int, signed: bool) -> tuple[Path, np.ndarray]:
    px = synthetic_breast(1400, 900, seed=5).astype(np.int32)  # 0..4095, background ~0
    background = px < 100
    if photometric == "MONOCHROME1":
        px = 4095 - px
    # outside the collimation (top, bottom and the side away from the chest wall): padding; the air next to the
    # breast stays as exposed
    frame = np.zeros(px.shape, dtype=bool)
    frame[:100], frame[-100:], frame[:, -120:] = True, True, True
    px = np.where(frame & background, pad, px).astype(np.int16 if signed else np.uint16)
    ds = mammo_dataset(px, photometric=photometric)
    ds.BitsStored, ds.HighBit = 16, 15
    ds.add_new(0x00280120, "SS" if signed else "US", pad)  # Pixel Padding Value, outside the data's range
    return write_dataset(ds, tmp_path / f"{photometric}_{pad}.dcm"), ~background


@pytest.mark.parametrize(
    ("photometric", "pad", "signed"),
    [("MONOCHROME1", 65535, False), ("MONOCHROME2", -32768, True), ("MONOCHROME1", 0, False)],
)
def test_windows_ignore_pixel_padding(tmp_path: Path, photometric: str, pad: int, signed: bool) -> None:
    path, breast = _padded_file(tmp_path, photometric, pad, signed)
    image = read_image(path)
    assert image.info.chain.padding_value == pad
    display = prepare_display(image)
    chain, p = image.info.chain, display.pyramid
    # what the CAD reads: the breast spread over the grey scale (padding excluded from its range)
    cad = to_presentation(image.stored, chain)[breast]
    assert cad.std() > 0.1
    for preset in (Preset.DEFAULT, Preset.FULL, Preset.DENSE, Preset.SOFT):
        state = preset_window(preset, chain, display.stats)
        offset, lut = lut_for(chain, state, p.stored_min, p.stored_max)
        shown = lut[image.stored[breast].astype(np.int64) - offset].astype(np.float64)
        # no preset may turn the breast into a flat field (all black, all white, or a narrow band of grey)
        # (without padding every preset gives std 26-61 and means 38-217 on this image)
        flat = shown.std() < 15 or not 15 < shown.mean() < 240
        what = f"mean {shown.mean():.0f}, std {shown.std():.0f}"
        assert not flat, f"{preset.value}: {state.describe()} shows the breast flat ({what})"
    full = preset_window(Preset.FULL, chain, display.stats).voi
    assert full.width <= 4096 + 1  # the data's range, not the padding's
