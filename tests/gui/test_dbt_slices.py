"""Tomosynthesis slices: stepping keeps only the slice on screen; JPEG 2000 slices decode in a helper process."""

from __future__ import annotations

import gc
import weakref

from mammoview.gui.background_jobs import BackgroundJobs
from mammoview.gui.display_image import DisplayImage
from mammoview.io.model import View
from tests.gui.test_frames import FRAMES, opened, step, tomo_study  # noqa: F401  (fixtures)


class Payload:
    """Stands for what a job's closure holds (a slice job holds the DisplayImage on screen: ~10-40 MB)."""


def test_a_finished_job_does_not_keep_what_its_closure_held(qtbot):
    jobs = BackgroundJobs()
    payload = Payload()
    ref = weakref.ref(payload)

    def job(held: Payload):  # type: ignore[no-untyped-def]
        return lambda progress, cancelled: id(held)

    with qtbot.waitSignal(jobs.finished, timeout=10_000):
        jobs.submit(job(payload))
    del payload
    qtbot.wait(50)  # deferred deletes run
    gc.collect()
    assert ref() is None, "the finished job's worker (and its closure) is still alive"
    jobs.shutdown()


def test_stepping_through_a_volume_keeps_only_the_slice_on_screen(opened, qtbot):  # noqa: F811
    w = opened
    panel = w.panels[View.LCC]
    for _ in range(FRAMES - 1):
        step(w, qtbot, "next_slice")
    for _ in range(FRAMES - 1):
        step(w, qtbot, "previous_slice")
    qtbot.wait(50)
    gc.collect()
    alive = [o.image.frame for o in gc.get_objects()
             if type(o) is DisplayImage and o.image.path == panel.image.path]  # fmt: skip
    # the slice on screen, and frame 0 as hung (the LoadedStudy's displays); never every slice stepped through
    assert len(alive) <= 2, sorted(alive)


def write_j2k_volume(path, frames: int = 3, rows: int = 2400, cols: int = 1800):  # type: ignore[no-untyped-def]
    """A JPEG 2000 lossless Breast Tomosynthesis volume at a DBT slice's size (2457 x 1890 on real systems), each
    slice a smooth breast-like picture (a constant would decode in no time), frame k's corner holding 100 + k."""
    import numpy as np
    import pydicom
    from pydicom.uid import JPEG2000Lossless

    from tests.gui.conftest import write_view
    from tests.gui.test_frames import TOMO_CLASS

    ds = pydicom.dcmread(write_view(path.parent, path.name, "LCC"))
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    base = 2000 + 1500 * np.sin(xx / 97.0) * np.cos(yy / 131.0) + 300 * np.sin((xx + yy) / 7.0)
    rng = np.random.default_rng(0)
    slices = []
    for k in range(frames):
        s = np.clip(base + rng.normal(0, 40, base.shape), 0, 4095).astype(np.uint16)
        s[:8, :8] = 100 + k
        slices.append(s)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = TOMO_CLASS
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.compress(JPEG2000Lossless, np.stack(slices), encoding_plugin="pylibjpeg")
    ds.save_as(path)
    return path


def test_a_jpeg2000_slice_is_decoded_in_the_helper_process(tmp_path, qtbot):
    """openjpeg holds the GIL for the whole frame (0.1-0.4 s for a DBT slice): decoded in a worker thread it froze
    the viewer's event loop that long at every slice stepped to (benchmarks/bench_slices.py measures the stalls).
    Its slices are decoded in a helper process, and come back as the slices asked for."""
    from mammoview.gui import frames
    from mammoview.gui.display_image import prepare_display
    from mammoview.io.reader import read_image

    volume = read_image(write_j2k_volume(tmp_path / "LCC_j2k.dcm"))
    display = prepare_display(volume)
    jobs = BackgroundJobs()
    try:
        done: list[object] = []
        jobs.finished.connect(done.append)
        for n, k in enumerate((1, 2, 0), 1):
            jobs.submit(frames.frame_job(display, k))
            qtbot.waitUntil(lambda n=n: len(done) == n, timeout=60_000)
        assert [int(d.image.stored[0, 0]) - 100 for d in done] == [1, 2, 0]  # the slices asked for
        assert frames.helper._pool is not None  # ... from the helper process
    finally:
        jobs.shutdown()
        frames.helper.shutdown()
