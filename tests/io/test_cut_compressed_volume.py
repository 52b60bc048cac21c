"""README: 'A volume cut off after some frames (an interrupted copy) ... shows the frames it has and names the file
as truncated.'  That holds for native data only: a compressed volume (RLE here; JPEG 2000 the usual DBT) whose copy
was interrupted is refused whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import JPEG2000Lossless, RLELossless

from mammoview.io import read_image, read_info
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless])
def test_a_compressed_volume_cut_off_shows_its_complete_frames(tmp_path: Path, syntax) -> None:
    from mammoview.io.reader import decode_frame

    frames = [synthetic_breast(64, 48, seed=k) for k in range(5)]
    ds = mammo_dataset(frames[0])
    ds.NumberOfFrames = 5
    ds.compress(syntax, np.stack(frames), **({"encoding_plugin": "pydicom"} if syntax == RLELossless else {}))
    path = write_dataset(ds, tmp_path / "volume.dcm")
    data = path.read_bytes()
    # an interrupted copy: cut in the middle of the fourth frame's fragment
    from pydicom import dcmread
    from pydicom.encaps import generate_fragments

    whole = dcmread(path)
    sizes = [len(f) for f in generate_fragments(whole.PixelData)]
    cut = len(data) - 8 - (sizes[4] + 8) - (sizes[3] + 8) // 2  # delimiter, frame 5, half of frame 4
    path.write_bytes(data[:cut])
    info = read_info(path)  # was: LoadError "truncated: Pixel Data fragment 4 runs past the end of the file"
    assert info.frames == 3 and any("truncated" in w for w in info.warnings)
    image = read_image(path)
    for k in range(3):
        np.testing.assert_array_equal(decode_frame(image, k).stored if k else image.stored, frames[k])
