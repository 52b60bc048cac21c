"""The shipped CAD reads a 16-bit DICOM film as it reads the 8-bit 800 x 800 JPEG it learned from.

The detector was trained on CBIS-DDSM films stored as square-stretched 8-bit JPEGs; users open
the same films as 16-bit DICOMs.  Both roads (DICOM decode -> presentation values; JPEG decode
-> presentation values, the stretch undone by the pixel spacing) must give the network the same
picture.  ``models/analysis/domain_gap.py`` measures this on all eight wheel views.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from skimage.transform import resize

from mammoview.cad.cad_input import estimate_spacing
from mammoview.cad.calibration import logit
from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.types import Heatmap
from mammoview.io import read_image
from mammoview.io.pixels import to_presentation


def _at(hm: Heatmap, xs: np.ndarray, ys: np.ndarray, sx: float = 1.0, sy: float = 1.0) -> np.ndarray:
    """``hm``'s probability at stored-grid points of the original; ``sx, sy`` scale its grid to it."""
    p = hm.as_float()
    j = np.floor((xs - hm.x0 * sx) / (hm.scale_x * sx)).astype(int)
    i = np.floor((ys - hm.y0 * sy) / (hm.scale_y * sy)).astype(int)
    ok = (i >= 0) & (i < p.shape[0]) & (j >= 0) & (j < p.shape[1])
    out = np.zeros(xs.shape, np.float32)
    out[ok] = p[i[ok], j[ok]]
    return out


def test_the_shipped_detector_reads_a_dicom_and_its_8_bit_800px_jpeg_copy_alike(demo_dir, tmp_path, shipped_detector):
    model = shipped_detector
    dicom = read_image(demo_dir / "1-280.dcm")  # L CC of P_00820, the malignant mass
    rows, cols = dicom.stored.shape
    pres = to_presentation(dicom.stored, dicom.info.chain)
    small = resize(pres, (800, 800), order=1, anti_aliasing=True, preserve_range=True)
    jpg = tmp_path / "P_00820_LEFT_CC.jpg"
    Image.fromarray(np.rint(small * 255).astype(np.uint8)).save(jpg, quality=75)
    sp = estimate_spacing(rows, cols)  # the demo files carry no spacing: the CAD's estimate for both
    copy = read_image(jpg, pixel_spacing=(sp.row_mm * rows / 800, sp.col_mm * cols / 800))

    a = drain(analyse_image(model, dicom))
    b = drain(analyse_image(model, copy))

    sx, sy = cols / 800, rows / 800
    ys, xs = np.mgrid[0:rows:24, 0:cols:24].astype(np.float64)
    pa, pb = _at(a.heatmaps["abnormal"], xs, ys), _at(b.heatmaps["abnormal"], xs, ys, sx, sy)
    both = (pa > 0) & (pb > 0)
    assert both.sum() > 200, "the breast masks should overlap"
    r = np.corrcoef(logit(pa[both].astype(np.float64)), logit(pb[both].astype(np.float64)))[0, 1]
    assert r > 0.98, f"heatmaps of the two roads differ (log-odds r {r:.3f})"
    assert a.findings and b.findings
    ca, cb = a.findings[0].center, b.findings[0].center
    assert np.hypot(cb[0] * sx - ca[0], cb[1] * sy - ca[1]) * sp.col_mm < 5.0, "the top finding moved"
    assert abs(a.abnormal - b.abnormal) < 0.01
