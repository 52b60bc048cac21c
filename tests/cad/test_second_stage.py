"""The optional second-stage malignancy model (manifest task "malignancy"): its map, the engine, loading."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from mammoview.cad.calibration import MalignancyCalibration
from mammoview.cad.malignancy import CANDIDATE_THRESHOLD, CANDIDATES, MalignancyMap, SecondStage, crop_malignancy
from mammoview.cad.pipeline import analyse_image, drain, findings_from_maps
from mammoview.cad.preprocess import prepare_image
from mammoview.cad.registry import create_model
from mammoview.cad.types import Finding, FindingKind
from mammoview.cad.weights import LoadedModel, ModelEntry, ModelError, load_optional, save_model
from tests.cad.conftest import BLOB, bright_net, make_image


def _map(values: np.ndarray, mask: np.ndarray | None = None) -> MalignancyMap:
    from mammoview.cad.probability_maps import ProbabilityMaps

    v = values.astype(np.float32)
    m = np.ones_like(v, bool) if mask is None else mask
    z = np.zeros_like(v)
    maps = ProbabilityMaps(normal=z, mass=z, calcification=z, malignant_given_lesion=v, abnormal=z, malignant=z,
                           mask=m, stride=10, offset=0.0)  # fmt: skip

    class Grid:  # stored pixels per model pixel
        scale_x = scale_y = 1.0

    return MalignancyMap.of(maps, Grid())  # type: ignore[arg-type]


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def test_the_map_is_read_between_cells_in_log_odds_and_filled_outside_the_breast():
    values = np.array([[0.2, 0.8], [0.5, 0.5]])
    m = _map(values)
    assert m.at(5, 5) == pytest.approx(0.2) and m.at(15, 5) == pytest.approx(0.8)  # on the cell centres
    mid = m.at(10, 5)  # half way between 0.2 and 0.8 in log-odds: 0.5
    assert _logit(mid) == pytest.approx(0.5 * (_logit(0.2) + _logit(0.8)), abs=1e-6)
    assert m.at(-50, 999) == pytest.approx(0.5)  # clamped to the grid
    outside = _map(np.array([[0.9, 0.0, 0.0]]), mask=np.array([[True, False, False]]))
    assert outside.at(25, 5) == pytest.approx(0.9)  # the nearest breast cell, not 0


def test_image_malignancy_is_the_score_weighted_mean_of_the_top_candidates():
    m = _map(np.array([[0.2, 0.8, 0.5, 0.9]]))

    def f(x: float, score: float) -> Finding:
        return Finding(FindingKind.MASS, score, 0.0, (x, 5.0), (x, 5.0, x, 5.0))

    cands = [f(5, 0.9), f(15, 0.3), f(25, 0.6), f(35, 0.1)]  # the last is not among the top 3
    want = (0.9 * m.at(5, 5) + 0.6 * m.at(25, 5) + 0.3 * m.at(15, 5)) / 1.8
    assert CANDIDATES == 3 and m.image_malignancy(cands) == pytest.approx(want)
    assert m.image_malignancy([]) == 0.0


def _second_stage_model(pixel_size_mm: float = 1.0, calibration: dict | None = None) -> LoadedModel:
    entry = ModelEntry(name="test-malignancy", arch="paper_cnn", task="malignancy",
                       arch_kwargs={"widths": [1, 1, 1, 1]}, sha256="1" * 64, patch_size=32,
                       pixel_size_mm=pixel_size_mm, test_time_flip=True, malignancy_calibration=calibration or {},
                       licence="TEST ONLY: hand-set weights")  # fmt: skip
    return LoadedModel(model=bright_net(), entry=entry, device=torch.device("cpu"))


def test_findings_and_image_read_their_malignancy_from_the_second_stage(bright_model, breast_with_blob):
    image = make_image(breast_with_blob)
    first = drain(analyse_image(bright_model, image, tile=64))
    stage2 = _second_stage_model()
    steps = []
    got = drain(analyse_image(bright_model, image, tile=64, malignancy=stage2), steps.append)
    assert [p.done for p in steps] == sorted(p.done for p in steps), "progress never goes back"
    assert got.findings and [f.center for f in got.findings] == [f.center for f in first.findings]
    second = got.source.second
    assert isinstance(second, SecondStage)
    for f in got.findings:  # each shown finding was classified from a crop centred on it
        assert f.center in second.crops and f.malignancy == pytest.approx(second.crops[f.center])
    cands = findings_from_maps(got.source.maps, got.source.geometry, CANDIDATE_THRESHOLD)
    assert all(c.center in second.crops for c in cands)  # the image's candidates too
    crop = crop_malignancy(stage2.model, prepare_image(image, stage2.preprocess, image.info.spacing),
                           stage2.entry.patch_size, 0, [got.findings[0].center])  # fmt: skip
    assert got.findings[0].malignancy == pytest.approx(crop[0], abs=1e-6)
    assert second.at(1.5, 2.5) == pytest.approx(second.fallback.at(1.5, 2.5))  # elsewhere: the map
    assert got.findings[0].malignancy != pytest.approx(first.findings[0].malignancy)
    top = got.findings[0]
    assert np.hypot(top.center[0] - BLOB.x, top.center[1] - BLOB.y) < 60  # the bright blob reads malignant
    # p(abnormal) x p(malignant | lesion): an image no finding makes abnormal never reads malignant
    assert got.malignant == pytest.approx(got.abnormal * second.image_malignancy(cands))
    assert got.malignant <= got.abnormal
    assert got.abnormal == first.abnormal
    assert np.array_equal(got.heatmaps["abnormal"].data, first.heatmaps["abnormal"].data)
    # the second stage's own calibration applies, not the detector's
    cal = MalignancyCalibration(0.5, -1.0)
    other = {"slope": 2.0, "intercept": 3.0}
    detector = replace(bright_model, entry=replace(bright_model.entry, malignancy_calibration=other))
    calibrated = drain(
        analyse_image(detector, image, tile=64, malignancy=_second_stage_model(calibration=cal.to_dict()))
    )
    assert calibrated.findings[0].malignancy == pytest.approx(cal.apply(got.findings[0].malignancy))
    assert calibrated.malignant == pytest.approx(got.abnormal * cal.apply(second.image_malignancy(cands)))
    # the findings' raw output (what a calibration is fitted on); the image's score as the viewer shows it
    raw = drain(analyse_image(detector, image, tile=64, calibrated=False,
                              malignancy=_second_stage_model(calibration=cal.to_dict())))  # fmt: skip
    assert raw.findings[0].malignancy == pytest.approx(got.findings[0].malignancy)
    assert raw.malignant == pytest.approx(calibrated.malignant)
    with pytest.raises(ValueError, match="not a malignancy model"):
        drain(analyse_image(bright_model, image, tile=64, malignancy=bright_model))


def test_an_optional_model_is_none_when_absent_loaded_when_installed_and_an_error_when_broken(tmp_path):
    assert load_optional("malignancy", tmp_path) is None
    net = create_model("paper_cnn", widths=[4, 8, 8, 8])
    entry = ModelEntry(name="m2", arch="paper_cnn", task="malignancy", arch_kwargs={"widths": [4, 8, 8, 8]},
                       patch_size=32, pixel_size_mm=0.6, licence="TEST ONLY")  # fmt: skip
    saved = save_model(net, entry, tmp_path)
    loaded = load_optional("malignancy", tmp_path)
    assert loaded is not None and loaded.entry.task == "malignancy" and load_optional("density", tmp_path) is None
    (tmp_path / saved.file).write_bytes(b"not weights")
    with pytest.raises(ModelError, match=saved.file):
        load_optional("malignancy", tmp_path)
