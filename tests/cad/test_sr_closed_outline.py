"""A mass outline from the CAD is already closed (skimage's find_contours repeats its first point at the end): the SR
closed it again, so every POLYLINE ended with the same point twice, a zero-length last segment."""

from __future__ import annotations

import highdicom as hd
import numpy as np

from mammoview.cad.sr import study_sr, write_sr
from mammoview.cad.types import Finding, FindingKind, ImageCadResult
from mammoview.io.model import View
from tests.cad.test_sr_interop import MODEL, PIXELS
from tests.synthetic import mammo_dataset, write_dataset


def test_an_outline_already_closed_is_not_closed_twice(tmp_path):
    path = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "lcc.dcm")
    ring = np.array([[5.0, 15.0], [15.0, 15.0], [15.0, 25.0], [5.0, 25.0], [5.0, 15.0]])  # closed, as found
    mass = Finding(FindingKind.MASS, 0.9, 0.5, (10.0, 20.0), (5.0, 15.0, 15.0, 25.0), contour=ring)
    r = ImageCadResult(path=str(path), width=40, height=60, view=View.LCC, pixel_spacing=(0.1, 0.1),
                       spacing_source="test", abnormal=0.9, malignant=0.5, findings=(mass,))  # fmt: skip
    sr = hd.sr.srread(write_sr(study_sr([r], MODEL), tmp_path / "sr.dcm"))
    (group,) = sr.content.get_planar_roi_measurement_groups()
    data = np.array(group.roi.GraphicData).reshape(-1, 2)
    np.testing.assert_array_equal(data, ring)
