"""The worklist's prefetch decodes the files whose decoders hold the GIL (RLE, JPEG 2000, JPEG-LS) in a helper
process at a lower CPU priority, so the study being read never stalls on them; what comes back is the same image."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.uid import RLELossless

from mammoview.gui.helper_process import HelperCrashed, HelperProcess, decoder_for, holds_gil
from mammoview.io import load_study, open_paths
from mammoview.io.model import LoadError, View
from mammoview.io.reader import read_image, read_info
from tests.gui.conftest import in_jpeg2000, process_alive, write_view


def rle_compressed(path: Path) -> Path:
    ds = pydicom.dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    return path


def rle_batch(folder: Path) -> Path:
    """Two two-view studies; the second one's files RLE-compressed."""
    for n, pid in enumerate(("PAT-A", "PAT-B")):
        for view in ("RCC", "LCC"):
            path = write_view(folder / pid, f"{view}.dcm", view, study_uid=f"1.2.3.{n + 1}", patient_id=pid)
            if n == 1:
                rle_compressed(path)
    return folder


def test_holds_gil_names_the_decoders_that_stall_the_viewer(tmp_path):
    native = write_view(tmp_path, "RCC.dcm", "RCC")
    assert not holds_gil(read_info(native))
    assert holds_gil(read_info(rle_compressed(write_view(tmp_path, "LCC.dcm", "LCC"))))


def test_the_prefetch_decodes_rle_files_in_its_helper_and_they_are_the_same_image(main_window, load, tmp_path, qtbot):
    w = main_window
    load(w, [rle_batch(tmp_path / "batch")])
    assert w.worklist.current == 0
    qtbot.waitUntil(lambda: w._prefetched is not None, timeout=60_000)
    assert w.prefetch_helper.started  # the next study's RLE files went to the helper
    prefetched = {img.view: img for img in w._prefetched.study.images}
    for image in prefetched.values():
        direct = read_image(image.info.path)
        np.testing.assert_array_equal(image.stored, direct.stored)
        assert not image.stored.flags.writeable and image.display == direct.display
        assert repr(image.info) == repr(direct.info)
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        w.commands["next_study"].trigger()
    assert w.panels[View.LCC].image.info.meta.patient_id == "PAT-B"


def test_the_helper_runs_at_a_lower_priority_and_a_crash_there_is_the_files_error(tmp_path):
    helper = HelperProcess(nice=10)
    path = rle_compressed(write_view(tmp_path, "LCC.dcm", "LCC"))
    try:
        here = os.nice(0)
        assert helper.call(os.nice, 0, fallback=lambda: -1) == min(here + 10, 19)
        with pytest.raises(HelperCrashed):  # as a decoder's segmentation fault kills it
            helper.call(os._exit, 1, fallback=lambda: "decoded here")
        assert not helper.started
        image = helper.decode(read_info(path))  # a fresh helper decodes the next file
        assert helper.started and image.stored.shape == read_image(path).stored.shape
    finally:
        helper.shutdown()


def _exit_in_helper(info):  # type: ignore[no-untyped-def]
    os._exit(3)  # as a decoder's segmentation fault on the file


def test_a_file_that_kills_the_helper_is_named_and_the_viewer_goes_on(tmp_path, monkeypatch):
    from mammoview.gui import helper_process

    path = rle_compressed(write_view(tmp_path, "LCC.dcm", "LCC"))
    helper = HelperProcess()
    try:
        monkeypatch.setattr(helper_process, "decode_outcome", _exit_in_helper)
        with pytest.raises(LoadError, match=r"LCC\.dcm.*crashed the decoder"):
            helper.decode(read_info(path))
    finally:
        helper.shutdown()


def test_where_no_helper_can_start_this_process_decodes(tmp_path, monkeypatch, caplog):
    from mammoview.gui import helper_process

    def cannot_start(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("no /dev/shm")

    monkeypatch.setattr(helper_process, "ProcessPoolExecutor", cannot_start)
    path = rle_compressed(write_view(tmp_path, "LCC.dcm", "LCC"))
    helper = HelperProcess()
    with caplog.at_level(logging.WARNING):
        assert helper.decode(read_info(path)).stored.shape == read_image(path).stored.shape
        helper.decode(read_info(path))
    assert caplog.text.count("no helper process") == 1  # tried once, not at every file


def test_a_broken_rle_file_decoded_in_the_helper_is_the_study_error_naming_it(tmp_path):
    folder = tmp_path / "study"
    good = rle_compressed(write_view(folder, "RCC.dcm", "RCC"))
    bad = rle_compressed(write_view(folder, "LCC.dcm", "LCC"))
    ds = pydicom.dcmread(bad)
    (frame,) = (b"".join(f) for f in generate_fragmented_frames(ds.PixelData, number_of_frames=1))
    header = np.frombuffer(frame[:64], "<u4").copy()
    header[2] = len(frame) - 8  # the second segment said to start 8 bytes before the end: its bytes are too few
    ds.PixelData = encapsulate([header.tobytes() + frame[64:]])
    ds.save_as(bad)
    (info,), errors = open_paths([folder])
    assert not errors
    helper = HelperProcess()
    try:
        study = load_study(info, decoder=decoder_for(helper))
    finally:
        helper.shutdown()
    assert [i.path for i in study.images] == [good]
    assert len(study.errors) == 1 and study.errors[0].path == bad and isinstance(study.errors[0], LoadError)


def test_a_hung_decoder_is_stopped_and_named_and_the_next_call_gets_a_fresh_helper(tmp_path):
    import time

    helper = HelperProcess()
    try:
        first = helper.call(os.getpid, fallback=os.getpid)
        with pytest.raises(HelperCrashed, match=r"did not finish in 1 s"):  # as a decoder looping on corrupt data
            helper.call(time.sleep, 60, fallback=lambda: None, timeout=1.0)
        assert not helper.started
        deadline = time.monotonic() + 10
        while process_alive(first) and time.monotonic() < deadline:  # the hung helper was ended, not left running
            time.sleep(0.05)
        assert not process_alive(first)
        assert helper.call(os.getpid, fallback=os.getpid) not in (first, os.getpid())
    finally:
        helper.shutdown()


def test_a_jpeg2000_study_opened_is_decoded_in_the_load_helpers_and_rle_in_threads(main_window, load, tmp_path):
    """JPEG 2000 / JPEG-LS files of a study the reader opens go to two helper processes (their decoders hold the
    GIL ~1 s a full-field view: in threads they took turns and froze the viewer); RLE stays in threads."""

    w = main_window
    rle = tmp_path / "rle"
    for view in ("RCC", "LCC"):
        rle_compressed(write_view(rle, f"{view}.dcm", view, study_uid="1.2.3.7"))
    load(w, [rle])
    assert not w.load_helper.started
    j2k = tmp_path / "j2k"
    for view in ("RCC", "LCC"):
        in_jpeg2000(write_view(j2k, f"{view}.dcm", view, study_uid="1.2.3.8"))
    load(w, [j2k])
    assert w.load_helper.started
    for view in (View.RCC, View.LCC):
        shown = w.panels[view].image
        direct = read_image(shown.info.path)
        np.testing.assert_array_equal(shown.stored, direct.stored)
        assert "JPEG 2000" in shown.info.transfer_syntax and not shown.stored.flags.writeable


def test_a_prefetch_the_reader_waits_for_decodes_its_files_left_here(tmp_path):
    """The prefetch's helper runs at a lower CPU priority: once the reader waits for that study (PgDown adopted it)
    its files left are decoded in the viewer's process, which anything else on the machine does not slow down."""
    path = rle_compressed(write_view(tmp_path, "LCC.dcm", "LCC"))
    helper = HelperProcess(nice=10)
    waiting = [True]
    try:
        decode = decoder_for(helper, background=lambda: not waiting[0])
        assert decode(read_info(path)).stored.shape == read_image(path).stored.shape and not helper.started
        waiting[0] = False
        decode(read_info(path))
        assert helper.started
    finally:
        helper.shutdown()
