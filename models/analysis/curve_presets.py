"""What a manifest's stored operating curve promises at the viewer's preset rates, against the full FROC it came from.

    .venv/bin/python models/analysis/curve_presets.py MANIFEST NAME METRICS_JSON [--key cbis_mass]

The manifest keeps a thinned copy of an evaluation's FROC curve (`mammoview retune --operating-curve`,
:meth:`mammoview.cad.operating.OperatingCurve.from_froc`); the viewer's Marks menu (0.25 / 0.5 / 1 / 2 FP/img)
reads its thresholds off that copy.  For each preset rate this prints the threshold the stored curve gives, the
false marks per image and sensitivity measured at that threshold on the full curve of METRICS_JSON (every finding
scoring at or above it), and the sensitivity the stored curve states there.  E.g. 1.3.6's stored curve against
today's evaluation of the same maps:

    git show 1e6cb76:models/manifest.json > /tmp/manifest-136.json
    .venv/bin/python models/analysis/curve_presets.py /tmp/manifest-136.json mammoview-vgg \\
        runs/eval/detector-137/metrics.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mammoview.cad.operating import PRESET_RATES, OperatingCurve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("name", help="the model entry whose operating_curve is read")
    ap.add_argument("metrics", type=Path, help="the evaluation's metrics.json (its full FROC curve)")
    ap.add_argument("--key", default="cbis_mass", help="which FROC of the evaluation")
    args = ap.parse_args()
    entries = [e for e in json.loads(args.manifest.read_text())["models"] if e["name"] == args.name]
    if not entries or not entries[0].get("operating_curve"):
        raise SystemExit(f"{args.manifest}: no model {args.name} with an operating curve")
    stored = OperatingCurve.from_dict(entries[0]["operating_curve"])
    full = json.loads(args.metrics.read_text())["detection"]["froc"][args.key]["curve"]
    thresholds = np.array([np.inf if t is None else float(t) for t in full["threshold"]])
    fpi, sens = np.array(full["fpi"], float), np.array(full["sensitivity"], float)
    print(f"{args.name} {entries[0].get('version')}: stored curve of {len(stored.fpi)} points; full FROC of "
          f"{len(fpi)} ({args.metrics})")  # fmt: skip
    for rate in PRESET_RATES:
        t = stored.threshold_for(rate)
        k = int(np.flatnonzero(thresholds >= t)[-1])  # the marks at t: every finding scoring >= t
        print(f"  {rate:g} FP/img: threshold {t:.5f}, measured {fpi[k]:.3f} FP/img, sensitivity {sens[k]:.3f} "
              f"(the stored curve says {stored.sensitivity_at(t):.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
