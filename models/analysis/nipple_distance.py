"""How far apart is one mass's distance from the nipple in its CC and its MLO view?  The width of the viewer's band.

    .venv/bin/python models/analysis/nipple_distance.py

The viewer's two-view aid (``mammoview.gui.nipple_band``) draws, on a breast's other view, the
arcs ``BAND_MM`` either side of a finding's distance from the nipple.  This measures that rule on
CBIS-DDSM Mass-Training (ground truth, no model): every breast whose CC and MLO image each carry
exactly one mass box (so the two boxes are the same mass), the nipple of each view found as the
CAD finds it (``cad.landmarks.nipple_point`` on the CAD's 0.3 mm preparation; on MLO views the
breast point farthest from the pectoral muscle edge when that edge is found), the distance
from it to the box centre in mm (the CBIS stretch undone by the source's spacing).  Prints the
distribution of |FN(CC) - FN(MLO)| and the share inside +-5 / 10 / 15 / 20 mm.  Needs
../shared/data (or MAMMOVIEW_DATA).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from mammoview.cad.landmarks import chest_wall_side, nipple_point, pectoral_line
from mammoview.cad.preprocess import PreprocessConfig
from mammoview.training.patches import prepare_source
from mammoview.training.sources import cbis_images, default_data_dir


def main() -> int:
    cfg = PreprocessConfig.from_dict({"pixel_size_mm": 0.3})
    breasts: dict[tuple[str, str | None], dict[str | None, float]] = defaultdict(dict)
    edge_found: dict[tuple[str, str | None], bool] = {}
    images = [s for s in cbis_images(default_data_dir()) if len(s.lesions) == 1]
    for s in images:
        prep = prepare_source(s, cfg)
        nipple = nipple_point(prep, mlo=s.projection == "MLO")
        if nipple is None:
            continue
        if s.projection == "MLO":
            line = pectoral_line(prep.data[0], prep.mask, chest_wall_side(prep.mask), prep.pixel_size_mm)
            edge_found[(s.patient, s.laterality)] = line is not None
        (cx, cy), (row_mm, col_mm) = s.lesions[0].center, s.spacing
        assert cx is not None and cy is not None
        breasts[(s.patient, s.laterality)][s.projection] = float(np.hypot((cx - nipple[0]) * col_mm,
                                                                         (cy - nipple[1]) * row_mm))  # fmt: skip
    keys = [k for k, v in breasts.items() if "CC" in v and "MLO" in v]
    pairs = np.array([(breasts[k]["CC"], breasts[k]["MLO"]) for k in keys])
    diff = np.abs(pairs[:, 0] - pairs[:, 1])
    print(f"CBIS-DDSM Mass-Training breasts with one mass box in each of CC and MLO: {len(pairs)}")
    print(
        f"distance from the nipple, mm: CC median {np.median(pairs[:, 0]):.0f}, MLO median {np.median(pairs[:, 1]):.0f}"
    )
    q = np.percentile(diff, [50, 75, 90, 95])
    print(f"|CC - MLO| mm: median {q[0]:.1f}, 75th {q[1]:.1f}, 90th {q[2]:.1f}, 95th {q[3]:.1f}")
    for band in (5, 10, 15, 20):
        print(f"  within +-{band:>2} mm: {np.mean(diff <= band):.0%}")
    found = np.array([edge_found.get(k, False) for k in keys])
    for flag, what in ((True, "MLO muscle edge found"), (False, "MLO edge not found (its typical direction)")):
        d = diff[found == flag]
        if d.size:
            print(f"{what}: {d.size} breasts, within 10 / 20 mm {np.mean(d <= 10):.0%} / {np.mean(d <= 20):.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
