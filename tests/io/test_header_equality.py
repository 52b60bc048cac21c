"""One file read twice gives equal headers, LUT tables included (they were compared by identity): a study opened
again (File ▸ Recent, the same folder dropped again) is the study on screen, not a new one decoded afresh."""

from __future__ import annotations

import numpy as np
import pydicom

from mammoview.io import open_paths, read_info
from mammoview.io.model import ModalityTransform, VoiLut
from tests.io.conftest import MakeFile


def with_luts(ds: pydicom.Dataset) -> None:
    voi, modality = pydicom.Dataset(), pydicom.Dataset()
    voi.LUTDescriptor, voi.LUTData = [4096, 0, 12], np.arange(4096, dtype="<u2").tobytes()
    modality.LUTDescriptor, modality.LUTData = [4096, 0, 16], (np.arange(4096, dtype="<u2") * 2).tobytes()
    modality.ModalityLUTType = "US"
    ds.VOILUTSequence, ds.ModalityLUTSequence = [voi], [modality]


def test_a_file_read_twice_gives_equal_headers_with_their_lut_tables(write_dcm: MakeFile) -> None:
    path = write_dcm("study/RCC.dcm", edit=with_luts)
    a, b = read_info(path), read_info(path)
    assert a.chain.voi_luts and a.chain.modality.lut_data is not None  # the tables were read
    assert a.chain.voi_luts[0].data is not b.chain.voi_luts[0].data
    assert a == b and hash(a) == hash(b)
    (first,), _ = open_paths([path.parent])
    (again,), _ = open_paths([path.parent])
    assert first == again


def test_tables_that_differ_make_headers_that_differ() -> None:
    table = np.arange(16, dtype=np.uint16)
    other = table.copy()
    other[3] = 9
    assert VoiLut(0, table, 16) == VoiLut(0, table.copy(), 16) != VoiLut(0, other, 16)
    assert VoiLut(0, table, 16) != VoiLut(1, table, 16)
    assert ModalityTransform(lut_first_mapped=0, lut_data=table) == ModalityTransform(
        lut_first_mapped=0, lut_data=table.copy()
    )
    assert ModalityTransform(lut_first_mapped=0, lut_data=table) != ModalityTransform(
        lut_first_mapped=0, lut_data=other
    )
    assert ModalityTransform(slope=2.0) != ModalityTransform() == ModalityTransform()
    assert VoiLut(0, table, 16) != VoiLut(0, table.astype(np.int16), 16)  # another type: another table
