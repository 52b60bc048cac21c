"""A 32-bit integer image whose values span more than 16 bits is shown, never a crash: its pyramid holds 16 bits above
its minimum (the rest clipped), and its lookup table covers those, not one entry per stored value (4 billion for a
full 32-bit range: a MemoryError in the event loop, the study never shown, or the viewer killed for memory)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mammoview.io.model import View
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def test_a_32_bit_image_of_a_wide_range_is_shown_through_a_16_bit_table(main_window, load, tmp_path: Path) -> None:
    px = synthetic_breast(600, 400, chest_wall="left", seed=3).astype(np.uint32) * 1024  # 0..~4.2e6: 22 bits
    ds = mammo_dataset(px, laterality="L", view="CC")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, 32, 31
    path = write_dataset(ds, tmp_path / "wide.dcm")
    load(main_window, [path])
    panel = main_window.panels[View.LCC]
    assert panel.image is not None and panel.image.stored.dtype == np.uint32
    offset, lut = panel.image_item.display_lookup()
    assert offset == int(px.min()) and len(lut) <= 65536
