"""VOI LUT Descriptor (0028,3002): its first mapped value is signed (SS) when the rescaled values may be negative
(PS3.3 C.11.2.1.1), also for an unsigned image; an Implicit VR file cannot say so, pydicom reads it as US."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian

from mammoview.io import read_image
from mammoview.io.pixels import to_presentation
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def test_voi_lut_first_mapped_below_zero_after_rescale(tmp_path: Path) -> None:
    stored = synthetic_breast(200, 140, seed=4)  # unsigned 12-bit, 0..4095
    ds = mammo_dataset(stored)
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.RescaleSlope, ds.RescaleIntercept = "1", "-2048"  # modality values -2048..2047
    lut = np.linspace(0, 4095, 3072).astype(np.uint16)  # maps -1024..2047 onto 0..4095
    item = Dataset()
    item.add_new(0x00283002, "US", [3072, 65536 - 1024, 12])  # -1024 as the 16-bit word an Implicit VR file holds
    item.add_new(0x00283006, "OW", lut.astype("<u2").tobytes())
    ds.VOILUTSequence = Sequence([item])
    image = read_image(write_dataset(ds, tmp_path / "voi_lut_signed_first.dcm"))
    assert image.info.chain.voi_luts[0].first_mapped == -1024
    expected = lut[np.clip(stored.astype(np.int64) - 2048 + 1024, 0, len(lut) - 1)] / 4095.0
    assert np.allclose(to_presentation(image.stored, image.info.chain), expected, atol=1e-6)


def test_a_voi_lut_whose_data_are_far_narrower_than_its_descriptor_uses_the_bits_its_data_need(tmp_path: Path) -> None:
    """A VOI LUT declared 16 bits per entry whose data run 0..4095 (some CR writers; dicom-rs#825: Cornerstone and
    Horos take the output range from the data): read as 16 bits, the whole image was shown at most 16 of 255 grey
    levels bright, a black screen, without a word."""
    stored = synthetic_breast(200, 140, seed=4)  # unsigned 12-bit, 0..4095
    ds = mammo_dataset(stored)
    for tag in ("WindowCenter", "WindowWidth"):  # the LUT is the file's only VOI, so the default one
        if tag in ds:
            delattr(ds, tag)
    item = Dataset()
    item.add_new(0x00283002, "US", [4096, 0, 16])
    item.add_new(0x00283006, "OW", np.arange(4096, dtype="<u2").tobytes())
    ds.VOILUTSequence = Sequence([item])
    image = read_image(write_dataset(ds, tmp_path / "voi_lut_narrow_data.dcm"))
    shown = to_presentation(image.stored, image.info.chain)
    assert np.allclose(shown, stored / 4095.0, atol=1e-6)  # the table's 0..4095 over the whole grey range
    assert any("12 bits" in w and "LUT Data" in w for w in image.info.warnings), image.info.warnings
