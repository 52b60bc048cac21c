"""The installed density model measured again on the CAD's validation patients and on mini-MIAS, as it was trained.

    .venv/bin/python models/analysis/density_eval.py [--split runs/patches/ctx/split.json] [--models-dir models]

`mammoview train-density` reports its figures once, at training (the model card's "Breast density" table).  This
script prepares every labelled CBIS-DDSM image and every mini-MIAS image again with today's preprocessing
(`training.density.load_data`, the road training took), scores them with the installed weights
(`cad.density.predict`: each canvas and its up-down mirror) and prints the same figures
(`training.density.report`), so a change of the preprocessing can be measured against the table.  About 3-5
minutes on this 2-core CPU (reading and preparing 1423 images).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mammoview.cad.density import TASK, predict
from mammoview.cad.weights import load_model
from mammoview.training.density import DensityConfig, density_metrics, load_data, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", type=Path, default=Path("runs/patches/ctx/split.json"))
    ap.add_argument("--models-dir", type=Path, default=None)
    args = ap.parse_args()
    loaded = load_model(None, args.models_dir, "cpu", task=TASK)
    e = loaded.entry
    rows, cols = e.extra["canvas_px"]
    cfg = DensityConfig(pixel_size_mm=e.pixel_size_mm, canvas_mm=(rows * e.pixel_size_mm, cols * e.pixel_size_mm))
    assert cfg.canvas_px == (rows, cols), (cfg.canvas_px, (rows, cols))
    data = load_data(cfg, args.split)
    print(f"{e.name} {e.version} ({e.sha256[:8]})")
    print(report(density_metrics(data, predict(loaded.inference_net, data.x))))


if __name__ == "__main__":
    main()
