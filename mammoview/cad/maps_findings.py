"""Findings cut from an image's kept probability maps at any threshold, so the viewer can move its operating point.

Kept in the image result (its ``source``) so that a new threshold reads the cell grid again instead of running the
networks again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mammoview.cad.calibration import MalignancyCalibration
from mammoview.cad.findings import DEFAULT_MAX_FINDINGS, MapGeometry, findings_from_maps
from mammoview.cad.malignancy import MalignancyMap, SecondStage
from mammoview.cad.operating import OperatingCurve
from mammoview.cad.probability_maps import ProbabilityMaps
from mammoview.cad.types import Finding
from mammoview.cad.verification import Verified


@dataclass(frozen=True, eq=False)
class MapsFindings:
    """An image's probability maps kept in its result, so the viewer can move the operating point.

    :meth:`findings` is what :func:`~mammoview.cad.pipeline.analyse_image` does after the network: regions at the
    threshold, and each finding's false marks per image from the model's curve.  A few
    milliseconds on the cell grid (a 4.7k x 2.6k film at 0.3 mm: 49 x 28 cells, 39 kB with all maps).
    """

    maps: ProbabilityMaps
    geometry: MapGeometry
    max_findings: int = DEFAULT_MAX_FINDINGS
    curve: OperatingCurve | None = None
    #: the model's malignancy calibration, applied to each finding's malignancy (None: raw)
    calibration: MalignancyCalibration | None = None
    #: the second-stage malignancy network: each finding's malignancy is read there (None: the detector's)
    second: SecondStage | MalignancyMap | None = None
    #: the verifier's re-scored candidates: findings are those at the threshold (None: the map's regions)
    verified: Verified | None = None

    def findings(self, threshold: float) -> tuple[Finding, ...]:
        if self.verified is not None:
            found = self.verified.findings(threshold, self.max_findings)
        else:
            found = findings_from_maps(self.maps, self.geometry, threshold, max_findings=self.max_findings)
        if self.second is not None:
            second = self.second
            found = [replace(f, malignancy=second.at(*f.center)) for f in found]
        if self.curve is not None:
            curve = self.curve
            found = [replace(f, fp_per_image=curve.fp_per_image(f.score)) for f in found]
        if self.calibration is not None:
            cal = self.calibration
            found = [replace(f, malignancy=cal.apply(f.malignancy)) for f in found]
        return tuple(found)
