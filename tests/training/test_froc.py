"""FROC on toy cases whose operating points are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mammoview.training.froc import FrocCase, Mark, froc, marks_from_json
from mammoview.training.sources import Lesion


def _box(x0: float, y0: float, x1: float, y1: float) -> Lesion:
    return Lesion("mass", True, bbox=(x0, y0, x1, y1), center=((x0 + x1) / 2, (y0 + y1) / 2))


def _circle(x: float, y: float, r: float) -> Lesion:
    return Lesion("mass", False, bbox=(x - r, y - r, x + r, y + r), center=(x, y), radius=r)


@pytest.fixture()
def toy() -> list[FrocCase]:
    a = FrocCase(
        "A",
        (_box(10, 10, 30, 30), _box(100, 100, 120, 120)),
        (
            Mark(20, 20, 0.9),  # hits lesion 1
            Mark(25, 25, 0.8),  # hits lesion 1 again: neither TP nor FP
            Mark(200, 200, 0.7),  # FP
            Mark(110, 110, 0.4),  # hits lesion 2
        ),
    )
    b = FrocCase(
        "B",
        (_circle(50, 50, 10),),
        (
            Mark(55, 55, 0.6),  # 7.1 px from the centre: inside the radius
            Mark(58, 58, 0.5),  # inside the circle's box but 11.3 px away: FP
        ),
    )
    return [a, b]


def test_froc_operating_points_by_hand(toy):
    r = froc(toy)
    assert (r.n_images, r.n_lesions) == (2, 3)
    assert r.thresholds[0] == np.inf
    assert r.thresholds[1:].tolist() == [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    assert r.fpi.tolist() == [0, 0, 0, 0.5, 0.5, 1.0, 1.0]
    assert r.sensitivity.tolist() == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 1])
    assert r.sens_at == pytest.approx({0.25: 1 / 3, 0.5: 2 / 3, 1.0: 1.0, 2.0: 1.0})
    assert r.max_fpi == 1.0
    assert r.mean_sensitivity == pytest.approx((1 / 3 + 2 / 3 + 1 + 1) / 4)
    # operating points for a finding threshold: the lowest threshold within each FP budget
    assert r.threshold_at(0.25) == 0.8 and r.threshold_at(0.5) == 0.6 and r.threshold_at(1.0) == 0.4
    assert np.isnan(froc([FrocCase("C", (), (Mark(1, 1, 0.9),))]).threshold_at(0.25))


def test_each_lesion_counted_once():
    # three marks on one lesion and nothing else: sensitivity 1 (not 3), no FP
    case = FrocCase("A", (_box(0, 0, 10, 10),), (Mark(5, 5, 0.9), Mark(6, 6, 0.8), Mark(4, 4, 0.7)))
    r = froc([case])
    assert r.sensitivity.max() == 1.0
    assert r.fpi.max() == 0.0


def test_mias_radius_hit_uses_the_circle_not_its_box():
    lesion = _circle(100, 100, 20)
    inside = froc([FrocCase("m", (lesion,), (Mark(114, 114, 0.8),))])  # 19.8 px away
    corner = froc([FrocCase("m", (lesion,), (Mark(117, 117, 0.8),))])  # 24.0 px away, in the box
    assert inside.sens_at[0.25] == 1.0 and inside.max_fpi == 0.0
    assert corner.sens_at[2.0] == 0.0 and corner.max_fpi == 1.0


def test_normal_images_add_false_positives_only():
    lesion_case = FrocCase("A", (_box(0, 0, 10, 10),), (Mark(5, 5, 0.9),))
    normal = FrocCase("N", (), (Mark(50, 50, 0.95), Mark(60, 60, 0.3)))
    r = froc([lesion_case, normal])
    # 0.95: 1 FP / 2 images, sens 0; 0.9: sens 1 at 0.5 FPI
    assert r.sens_at[0.25] == 0.0
    assert r.sens_at[0.5] == 1.0
    assert r.max_fpi == 1.0


def test_no_lesions_gives_nan_with_note():
    r = froc([FrocCase("N", (), (Mark(1, 1, 0.5),))])
    assert math.isnan(r.sens_at[1.0])
    assert any("no lesions" in n for n in r.notes)
    d = r.to_dict()
    assert d["curve"]["threshold"][0] is None  # +inf is not JSON


def test_lesion_without_coordinates_is_rejected():
    with pytest.raises(ValueError, match="without coordinates"):
        froc([FrocCase("x", (Lesion("asymmetry", True),), ())])


def test_marks_from_detect_json():
    marks = marks_from_json([{"kind": "mass", "score": 0.7, "malignancy": 0.1, "center": [3.5, 4.0], "bbox": []}])
    assert marks == (Mark(3.5, 4.0, 0.7),)


def _img(source, image_id, patient, label, malignant, lesions=(), unlocated=False):
    from pathlib import Path

    from mammoview.training.sources import SourceImage

    sp = (0.29, 0.1769) if source == "cbis" else (0.2, 0.2)
    return SourceImage(
        source,
        image_id,
        Path(f"/data/{source}/{image_id}.png"),
        patient,
        "L",
        "MLO",
        sp,
        label,
        malignant,
        tuple(lesions),
        unlocated_findings=unlocated,
    )


def _entry(image_id, abnormal, malignant, findings=()):
    return {
        "path": f"/elsewhere/{image_id}.png",  # matched by stem when the folder differs
        "scores": {"abnormal": abnormal, "malignant": malignant},
        "findings": [{"kind": "mass", "score": s, "malignancy": 0.5, "center": [x, y]} for x, y, s in findings],
    }


def test_score_detections_image_auc_froc_and_exclusions():
    from mammoview.training.froc import score_detections

    truth = [
        _img("mias", "mdb001", "mias:1", "normal", None),
        _img("mias", "mdb002", "mias:1", "mass", True, [_circle(50, 50, 10)]),
        _img("mias", "mdb003", "mias:2", "abnormal", False, [Lesion("asymmetry", False)]),  # no coordinates
        _img("mias", "mdb004", "mias:2", "normal", None),
        _img("cbis", "00001_LEFT_CC", "cbis:P_00001", "mass", True, [_box(0, 0, 10, 10)]),
        _img("cbis", "00002_LEFT_CC", "cbis:P_00002", "mass", False, [_box(0, 0, 10, 10)]),
        _img("cbis", "00003_LEFT_CC", "cbis:P_TRAIN", "mass", False, [_box(0, 0, 10, 10)]),
        # calcifications of unknown position: its FP mark must not count, its image score must
        _img("cbis", "00004_LEFT_CC", "cbis:P_00004", "mass", False, [_box(0, 0, 10, 10)], unlocated=True),
    ]
    doc_mias = {
        "images": [
            _entry("mdb001", 0.2, 0.1, [(300, 300, 0.6)]),
            _entry("mdb002", 0.9, 0.8, [(52, 52, 0.9)]),
            _entry("mdb003", 0.5, 0.3),
            _entry("mdb004", 0.5, 0.1),
            {"path": "/x/mdb099.png", "error": "unreadable"},
        ]
    }
    doc_cbis = {
        "images": [
            _entry("00001_LEFT_CC", 0.9, 0.7, [(5, 5, 0.8)]),
            _entry("00002_LEFT_CC", 0.9, 0.4, [(50, 50, 0.7)]),
            _entry("00003_LEFT_CC", 0.9, 0.9, [(5, 5, 0.99)]),  # a training patient: must not count
            _entry("00004_LEFT_CC", 0.9, 0.1, [(90, 90, 0.95)]),
            _entry("unknown_image", 0.9, 0.9),
        ]
    }
    val = {"mias:1", "mias:2", "cbis:P_00001", "cbis:P_00002", "cbis:P_00004"}
    r = score_detections([doc_mias, doc_cbis], truth, val)
    assert r.counts == {"errors": 1, "unmatched": 1, "duplicates": 0, "not_validation": 1, "scored": 7}
    # MIAS abnormal: abnormal 0.9, 0.5 vs normal 0.2, 0.5 -> (1 + 1 + 1 + 0.5) / 4
    assert r.image_auc["abnormal_mias"].auc == pytest.approx(3.5 / 4)
    # CBIS malignant: 0.7 vs 0.4, 0.1; MIAS malignant: 0.8 (M) vs 0.3 (B); all: 0.7, 0.8 vs 0.4, 0.3, 0.1
    assert r.image_auc["malignant_cbis"].auc == 1.0
    assert r.image_auc["malignant_cbis"].n_neg == 2
    assert r.image_auc["malignant_all"].auc == 1.0
    assert r.froc["cbis_mass"].n_images == 2 and r.froc["cbis_mass"].n_lesions == 2
    # CBIS: 0.8 hit (sens 0.5, 0 FP); 0.7 FP (0.5 FPI). The training image's 0.99 hit is gone.
    assert r.froc["cbis_mass"].sens_at[0.25] == 0.5
    # MIAS FROC: mdb003 left out (no coordinates); 3 images, 1 lesion hit at 0.9 before the FP at 0.6
    assert (r.froc["mias"].n_images, r.froc["mias"].n_lesions) == (3, 1)
    assert r.froc["mias"].sens_at[0.25] == 1.0
    assert any("FROC mias: 1 image(s)" in n for n in r.notes)
    assert any("FROC cbis_mass: 1 image(s)" in n for n in r.notes)
    d = r.to_dict()
    assert d["froc"]["mias"]["sens_at"]["1"] == 1.0
    # every interval says how it was made (the patch AUCs did; the image AUCs, patient bootstraps too, did not)
    assert {a["ci95_method"] for a in d["image_auc"].values()} == {"patient bootstrap"}


def test_image_without_marks_has_its_lesions_missed():
    hit = FrocCase("A", (_box(0, 0, 10, 10),), (Mark(5, 5, 0.9),))
    silent = FrocCase("B", (_box(0, 0, 10, 10), _circle(50, 50, 5)), ())
    r = froc([hit, silent])
    assert r.n_lesions == 3
    assert r.sensitivity.max() == pytest.approx(1 / 3)
    assert any("2 of 3 lesion(s) never hit" in n for n in r.notes)


def test_operating_curve_from_an_evaluations_metrics(toy, tmp_path):
    """install --operating-curve: the manifest's curve is the evaluation's FROC, read back at the same scores."""
    import json

    from mammoview.cad.operating import OperatingCurve
    from mammoview.training.install import operating_curve_from_metrics

    r = froc(toy)
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"detection": {"froc": {"cbis_mass": r.to_dict()}}}))
    curve = OperatingCurve.from_dict(operating_curve_from_metrics(path))
    assert (curve.images, curve.lesions) == (r.n_images, r.n_lesions) and "CBIS" in curve.data
    for t, f in zip(r.thresholds, r.fpi, strict=True):
        if math.isfinite(t):
            assert curve.fp_per_image(float(t)) == pytest.approx(float(f))
    # a curve from an evaluation with other maps than the install's is refused
    from mammoview.training.install import InstallOptions

    model = {"name": "m", "sha256": "ab" * 32, "test_time_flip": True, "map_windows_px": [96, 64]}
    path.write_text(json.dumps({"model": model, "detection": {"froc": {"cbis_mass": r.to_dict()}}}))
    stored = operating_curve_from_metrics(path)
    assert stored["evaluated"]["sha256"] == "ab" * 32
    assert InstallOptions(test_time_flip=True, map_windows_px=(96, 64), operating_curve=stored)
    with pytest.raises(ValueError, match="test-time flip True, map windows \\[96, 64\\]"):
        InstallOptions(test_time_flip=False, map_windows_px=(96, 64), operating_curve=stored)
    with pytest.raises(ValueError, match="map windows"):
        InstallOptions(test_time_flip=True, operating_curve=stored)
    path.write_text(json.dumps({"patch": {}}))
    with pytest.raises(ValueError, match=r"no detection\.froc\.cbis_mass\.curve"):
        operating_curve_from_metrics(path)
    with pytest.raises(ValueError, match="not found"):
        operating_curve_from_metrics(tmp_path / "nope.json")
