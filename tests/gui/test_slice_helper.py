"""A broken JPEG 2000 slice decoded in the helper process comes back as its LoadError (the helper lives)."""

from __future__ import annotations

import logging
import pickle

import pytest

from mammoview.io.model import LoadError, NotAnImage


@pytest.mark.parametrize("cls", [LoadError, NotAnImage])
def test_a_load_error_crosses_a_process_boundary(cls, tmp_path):
    err = cls(tmp_path / "a.dcm", "cannot decode pixel data")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == str(err) and back.path == err.path and back.reason == err.reason


def test_a_broken_jpeg2000_slice_is_reported_by_the_helper_without_breaking_it(tmp_path, caplog):
    import pydicom
    from pydicom.encaps import encapsulate, generate_fragmented_frames

    from mammoview.gui import frames
    from mammoview.io.reader import read_image
    from tests.gui.test_dbt_slices import write_j2k_volume

    path = write_j2k_volume(tmp_path / "LCC_j2k.dcm", frames=3, rows=400, cols=300)
    ds = pydicom.dcmread(path)
    parts = [b"".join(f) for f in generate_fragmented_frames(ds.PixelData, number_of_frames=3)]
    parts[2] = parts[2][:40] + b"\x00" * (len(parts[2]) - 40)
    ds.PixelData = encapsulate(parts)
    ds.save_as(path)
    volume = read_image(path)
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(LoadError, match=r"LCC_j2k\.dcm"):
            frames.helper.decode_frame(volume, 2)
        assert "viewer's process" not in caplog.text  # the helper reported it: not decoded a second time here
        pool = frames.helper._pool
        assert pool is not None
        assert int(frames.helper.decode_frame(volume, 1).stored[0, 0]) == 101  # ...and the same helper goes on
        assert frames.helper._pool is pool
    finally:
        frames.helper.shutdown()


def test_a_held_key_on_a_jpeg2000_volume_leaves_the_last_slice_asked_for(main_window, load, tmp_path, qtbot):
    from mammoview.gui import frames
    from mammoview.io.model import View
    from tests.gui.conftest import write_view
    from tests.gui.test_dbt_slices import write_j2k_volume

    folder = tmp_path / "study"
    folder.mkdir()
    write_j2k_volume(folder / "LCC_j2k.dcm", frames=6, rows=800, cols=600)
    for v in ("RCC", "RMLO", "LMLO"):
        write_view(folder, f"{v}.dcm", v)
    w = main_window
    load(w, [folder])
    w._activate(w.panels[View.LCC])
    try:
        for _ in range(4):  # held: key repeats faster than slices decode
            w.commands["next_slice"].trigger()
            qtbot.wait(5)
        w.commands["previous_slice"].trigger()
        w.commands["next_slice"].trigger()
        w.commands["next_slice"].trigger()
        qtbot.waitUntil(lambda: not w.frames.busy, timeout=60_000)
        qtbot.wait(100)
        st = w.frames._steps[View.LCC]
        shown = w.panels[View.LCC].image
        assert shown.frame == st.target == 5 and int(shown.stored[0, 0]) == 105
    finally:
        frames.helper.shutdown()
