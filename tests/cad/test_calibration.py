"""Malignancy calibration: the Platt fit, its manifest form, and the engine applying it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mammoview.cad.calibration import MalignancyCalibration, fit_platt, logit
from mammoview.cad.pipeline import analyse_image, drain
from mammoview.training.calibrate import fit_malignancy_calibration, malignancy_pairs
from mammoview.training.install import InstallOptions
from mammoview.training.sources import Lesion, SourceImage
from tests.cad.conftest import make_image


def test_fit_recovers_the_parameters_that_made_the_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.5, 6000)  # over-confident logits, as the network's
    y = rng.random(6000) < 1.0 / (1.0 + np.exp(-(0.25 * x - 0.7)))
    slope, intercept = fit_platt(1.0 / (1.0 + np.exp(-x)), y)
    assert slope == pytest.approx(0.25, abs=0.04) and intercept == pytest.approx(-0.7, abs=0.15)


def test_a_reversed_output_is_not_turned_around_but_flattened_to_the_base_rate():
    p = np.linspace(0.05, 0.95, 200)
    y = p < 0.3  # higher output, fewer malignant
    slope, intercept = fit_platt(p, y)
    assert slope == pytest.approx(1e-3)
    cal = MalignancyCalibration(slope, intercept)
    assert cal.apply(0.05) == pytest.approx(y.mean(), abs=0.01) and cal.apply(0.95) == pytest.approx(y.mean(), abs=0.01)
    with pytest.raises(ValueError, match="both classes"):
        fit_platt(p, np.zeros(200))


def test_calibration_is_monotone_and_round_trips_through_the_manifest():
    cal = MalignancyCalibration(0.19, -0.6, findings=201, malignant=108, data="test")
    ps = [0.5, 0.67, 0.9, 0.97, 0.99, 0.999999999999]
    out = [cal.apply(p) for p in ps]
    assert out == sorted(out) and all(0 < v < 1 for v in out)
    assert cal.apply(0.97) == pytest.approx(1 / (1 + np.exp(-(0.19 * logit(0.97) - 0.6))))
    assert MalignancyCalibration.from_dict(cal.to_dict()) == cal
    with pytest.raises(ValueError, match="slope must be > 0"):
        MalignancyCalibration(-0.2, 0.0)
    with pytest.raises(ValueError, match="unknown method"):
        MalignancyCalibration.from_dict({"method": "isotonic", "slope": 1, "intercept": 0})
    with pytest.raises(ValueError, match="missing"):
        MalignancyCalibration.from_dict({"slope": 1})


def test_the_engine_calibrates_findings_and_image_but_not_when_asked_for_the_raw_output(bright_model,
                                                                                         breast_with_blob):  # fmt: skip
    cal = MalignancyCalibration(0.2, -0.5)
    calibrated_model = replace(bright_model, entry=replace(bright_model.entry, malignancy_calibration=cal.to_dict()))
    image = make_image(breast_with_blob)
    raw = drain(analyse_image(bright_model, image, tile=64))
    got = drain(analyse_image(calibrated_model, image, tile=64))
    asked_raw = drain(analyse_image(calibrated_model, image, tile=64, calibrated=False))
    assert raw.findings and len(got.findings) == len(raw.findings)
    for a, b in zip(raw.findings, got.findings, strict=True):
        assert b.malignancy == pytest.approx(cal.apply(a.malignancy)) and b.score == a.score
    assert got.malignant == pytest.approx(cal.apply(raw.malignant)) and got.abnormal == raw.abnormal
    assert [f.malignancy for f in asked_raw.findings] == [f.malignancy for f in raw.findings]
    # cutting the findings again at another threshold (the viewer's Marks box) keeps the calibration
    assert got.source is not None
    again = got.source.findings(0.0)
    assert again and all(0 < f.malignancy < 1 for f in again)
    assert again[0].malignancy == pytest.approx(cal.apply(raw.source.findings(0.0)[0].malignancy))
    assert calibrated_model.entry.info.malignancy_calibration == cal


def _source(image_id: str, lesions: tuple[Lesion, ...]) -> SourceImage:
    return SourceImage(source="cbis", image_id=image_id, path=Path(f"/data/{image_id}.jpg"), patient=f"cbis:{image_id}",
                       laterality="L", projection="CC", spacing=(0.3, 0.3), label="mass", malignant=None,
                       lesions=lesions)  # fmt: skip


def test_fitting_data_are_the_findings_on_lesions_of_known_pathology():
    truth = [
        _source("A", (Lesion("mass", True, bbox=(0, 0, 10, 10), center=(5, 5)),)),
        _source("B", (Lesion("mass", None, bbox=(0, 0, 10, 10), center=(5, 5)),  # pathology unknown
                      Lesion("mass", False, bbox=(50, 50, 60, 60), center=(55, 55)))),
    ]  # fmt: skip

    def f(x: float, y: float, m: float) -> dict:
        return {"kind": "mass", "score": 0.9, "malignancy": m, "center": [x, y], "bbox": [x, y, x, y]}

    doc = {"images": [
        {"path": "/data/A.jpg", "findings": [f(5, 5, 0.9), f(30, 30, 0.8)]},  # a hit and a false positive
        {"path": "/data/B.jpg", "findings": [f(5, 5, 0.7), f(55, 55, 0.6)]},  # unknown lesion skipped, benign hit
    ]}  # fmt: skip
    p, y = malignancy_pairs(doc, truth)
    assert p.tolist() == [0.9, 0.6] and y.tolist() == [1, 0]
    assert malignancy_pairs(doc, truth, patients={"cbis:A"})[0].tolist() == [0.9]
    assert "not fitted" in fit_malignancy_calibration(doc, truth)["note"]


def test_install_refuses_a_calibration_fitted_on_other_maps():
    fitted = {**MalignancyCalibration(0.2, -0.5).to_dict(),
              "evaluated": {"test_time_flip": False, "map_windows_px": [96]}}  # fmt: skip
    with pytest.raises(ValueError, match="malignancy calibration was measured with test-time flip False"):
        InstallOptions(test_time_flip=True, map_windows_px=(96, 64), malignancy_calibration=fitted)
    InstallOptions(test_time_flip=False, map_windows_px=(96,), malignancy_calibration=fitted)
    # a second-stage malignancy model's calibration was measured with the detector's maps: not compared
    InstallOptions(task="malignancy", test_time_flip=True, malignancy_calibration=fitted)


def test_the_evaluation_report_states_the_fitted_calibration():
    from mammoview.training.report import metrics_report

    det = {"image_auc": {}, "froc": {}, "notes": [],
           "malignancy_calibration": {**MalignancyCalibration(0.188, -0.603, 201, 108).to_dict()}}  # fmt: skip
    text = metrics_report({"model": {}, "detection": det})
    assert "sigmoid(0.188 logit(p) -0.603)" in text and "201 validation findings" in text
    det["malignancy_calibration"] = {"note": "not fitted: 3 findings"}
    assert "Malignancy calibration not fitted: 3 findings." in metrics_report({"model": {}, "detection": det})


def test_a_fitted_calibration_reaches_the_manifest_through_the_evaluations_metrics(tmp_path):
    """evaluate fits on the hits of known pathology; train / ensemble read it back with what was evaluated."""
    import json

    from mammoview.training.calibrate import calibration_from_metrics

    rng = np.random.default_rng(3)
    truth, images = [], []
    for i in range(60):
        malignant = bool(i % 2)
        truth.append(_source(f"P{i}", (Lesion("mass", malignant, bbox=(0, 0, 10, 10), center=(5, 5)),)))
        m = float(np.clip(rng.normal(0.7 if malignant else 0.4, 0.15), 0.01, 0.99))
        images.append({"path": f"/data/P{i}.jpg", "findings": [
            {"kind": "mass", "score": 0.9, "malignancy": m, "center": [5, 5], "bbox": [0, 0, 10, 10]}]})  # fmt: skip
    cal = fit_malignancy_calibration({"images": images}, truth)
    assert (cal["findings"], cal["malignant"]) == (60, 30) and cal["slope"] > 0
    fitted = MalignancyCalibration.from_dict(cal)
    assert fitted.apply(0.8) > 0.5 > fitted.apply(0.3)  # the separating output keeps its order
    assert cal["raw_p10_p50_p90"][0] < cal["raw_p10_p50_p90"][2]
    model = {"name": "m", "version": "1", "sha256": "ab", "test_time_flip": True, "map_windows_px": [96, 64]}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"model": model, "detection": {"malignancy_calibration": cal}}))
    read = calibration_from_metrics(path)
    assert read["slope"] == cal["slope"] and read["evaluated"] == model
    with pytest.raises(ValueError, match="not found"):
        calibration_from_metrics(tmp_path / "none.json")
    path.write_text(json.dumps({"model": model, "detection": {"malignancy_calibration": {"note": "not fitted: 3"}}}))
    with pytest.raises(ValueError, match=r"fitted no malignancy calibration \(not fitted: 3\)"):
        calibration_from_metrics(path)
    path.write_text(json.dumps({"model": model}))
    with pytest.raises(ValueError, match=r"no detection\.malignancy_calibration"):
        calibration_from_metrics(path)
