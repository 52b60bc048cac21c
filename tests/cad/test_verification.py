"""Second-stage verification (manifest task "verification"): scores, the engine, loading and installing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from mammoview.cad.findings import score_near
from mammoview.cad.malignancy import crop_logits
from mammoview.cad.pipeline import analyse_image, drain, findings_from_maps
from mammoview.cad.preprocess import prepare_image
from mammoview.cad.probability_maps import ProbabilityMaps
from mammoview.cad.registry import create_model
from mammoview.cad.types import Finding, FindingKind
from mammoview.cad.verification import (
    CANDIDATE_THRESHOLD,
    MAX_CANDIDATES,
    VerificationSettings,
    Verified,
    abnormal_log_odds,
    combined_score,
    load_verifier,
    merge_candidates,
    verified_or_alone,
    verifier_entry,
    with_verifier,
)
from mammoview.cad.weights import LoadedModel, ModelEntry, ModelError, load_model, save_model
from tests.cad.conftest import BLOB, make_image

WIDTHS = [4, 8, 8, 8]


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def test_the_combined_score_is_the_weighted_mean_of_the_two_log_odds():
    assert combined_score(0.8, 5.0, weight=0.0) == pytest.approx(0.8)
    assert combined_score(0.8, 1.5, weight=1.0) == pytest.approx(1 / (1 + np.exp(-1.5)))
    assert _logit(combined_score(0.9, -1.0, 0.5)) == pytest.approx(0.5 * _logit(0.9) - 0.5)
    assert combined_score(1.0, 0.0) < 1.0 and combined_score(0.0, 0.0) > 0.0  # saturated scores stay finite
    logits = np.array([[0.0, 1.0, -1.0, 9.0], [2.0, -3.0, -3.0, 0.0]])
    p = np.exp(logits[:, :3]) / np.exp(logits[:, :3]).sum(1, keepdims=True)
    assert abnormal_log_odds(logits) == pytest.approx(np.log((p[:, 1] + p[:, 2]) / p[:, 0]))
    assert abnormal_log_odds(np.zeros((0, 4))).shape == (0,)


def test_verified_findings_are_the_candidates_at_the_threshold():
    def f(score: float) -> Finding:
        return Finding(FindingKind.MASS, score, 0.5, (score, 0.0), (0, 0, 1, 1))

    v = Verified((f(0.9), f(0.7), f(0.4)))
    assert [x.score for x in v.findings(0.5, 10)] == [0.9, 0.7]
    assert [x.score for x in v.findings(0.0, 2)] == [0.9, 0.7]
    assert v.image_abnormal == 0.9 and Verified(()).image_abnormal is None


def _verifier(detector_sha: str, seed: int = 0, threshold: float = 0.3) -> LoadedModel:
    torch.manual_seed(seed)
    net = create_model("paper_cnn", widths=WIDTHS).eval()
    settings = VerificationSettings(detector={"name": "test-bright", "version": "0", "sha256": detector_sha})
    entry = ModelEntry(name="test-verifier", arch="paper_cnn", task="verification", arch_kwargs={"widths": WIDTHS},
                       sha256="2" * 64, patch_size=32, pixel_size_mm=1.0, finding_threshold=threshold,
                       licence="TEST ONLY: random weights", extra={"verification": settings.to_dict(),
                                                                    "context_px": 16})  # fmt: skip
    return LoadedModel(model=net, entry=entry, device=torch.device("cpu"))


def test_the_engine_rescores_every_candidate_and_cuts_findings_on_the_combined_score(bright_model, breast_with_blob):
    image = make_image(breast_with_blob)
    alone = drain(analyse_image(bright_model, image, tile=64))
    verifier = _verifier(bright_model.entry.sha256, threshold=0.3)
    model = with_verifier(bright_model, verifier)
    assert model.entry.finding_threshold == 0.3 and model.info.verifier == verifier.info
    assert model.info.label == "test-bright 0.0.0 (00000000) + test-verifier 0.0.0 (22222222)"
    steps = []
    got = drain(analyse_image(model, image, tile=64), steps.append)
    assert [p.done for p in steps] == sorted(p.done for p in steps), "progress never goes back"
    # by hand: the detector's candidates, the verifier's crops, the mean of the log-odds
    cands = findings_from_maps(got.source.maps, got.source.geometry, CANDIDATE_THRESHOLD, max_findings=MAX_CANDIDATES)
    assert cands, "the bright blob gives candidates"
    prep = prepare_image(image, verifier.preprocess, image.info.spacing)
    z2 = abnormal_log_odds(crop_logits(verifier.model, prep, 32, 16, [c.center for c in cands]))
    want = sorted(((combined_score(c.score, z), c.center) for c, z in zip(cands, z2, strict=True)), reverse=True)
    verified = got.source.verified
    assert [f.center for f in verified.candidates] == [c for _, c in want]
    assert [f.score for f in verified.candidates] == pytest.approx([s for s, _ in want])
    assert [f.score for f in got.findings] == pytest.approx([s for s, _ in want if s >= 0.3][:10])
    assert got.threshold == 0.3 and got.abnormal == pytest.approx(want[0][0])
    assert np.array_equal(got.heatmaps["abnormal"].data, alone.heatmaps["abnormal"].data)  # the map is the detector's
    # another operating point: the same candidates, cut again (no new network run)
    loose = got.at_threshold(0.01)
    assert [f.center for f in loose.findings] == [c for s, c in want if s >= 0.01][:10]
    top = verified.candidates[0] if verified.candidates[0].score >= 0.3 else None
    if top is not None:
        assert np.hypot(top.center[0] - BLOB.x, top.center[1] - BLOB.y) < 200
    # outlines stay within the peak's patch window, although the candidates were cut at 0.1
    window_px = got.source.maps.window * got.source.maps.stride * got.source.geometry.scale_x
    for f in verified.candidates:
        assert f.bbox[2] - f.bbox[0] <= window_px + 1e-6 + got.source.maps.stride * got.source.geometry.scale_x


def test_the_verifiers_own_candidates_are_added_where_the_detector_proposed_none():
    def f(x: float, y: float, score: float, half: float = 10.0) -> Finding:
        return Finding(FindingKind.MASS, score, 0.5, (x, y), (x - half, y - half, x + half, y + half))

    detector = [f(100, 100, 0.9, half=50), f(400, 100, 0.3)]
    own = [
        f(140, 140, 0.99),  # inside the first candidate's box
        f(400, 125, 0.99),  # 12.5 mm from the second's centre (0.5 mm per pixel)
        f(400, 150, 0.8),  # 25 mm away: new
        f(700, 700, 0.6),  # far from both: new
    ]
    got = merge_candidates(detector, own, lambda x, y: x / 1000, min_distance_mm=19.2, mm_per_px=(0.5, 0.5))
    assert got[:2] == detector
    assert [(c.center, c.score) for c in got[2:]] == [((400, 150), 0.4), ((700, 700), 0.7)]  # the detector's score
    assert got[2].bbox == own[2].bbox and got[3].kind == own[3].kind
    # anisotropic pixels: distances are in mm
    assert len(merge_candidates(detector[1:], own[1:2], lambda x, y: 0.0, 19.2, (0.5, 2.0))) == 2


def test_score_near_is_the_detectors_best_breast_cell_around_a_point():
    normal = np.full((4, 5), 0.9, dtype=np.float32)
    normal[1, 2], normal[3, 4] = 0.2, 0.01
    mask = np.ones((4, 5), dtype=bool)
    mask[3, 4] = False  # outside the breast: never read
    zeros = np.zeros_like(normal)
    maps = ProbabilityMaps(normal, zeros, zeros, zeros, 1 - normal, zeros, mask, stride=16, offset=0.0)
    assert score_near(maps, 2.5 * 16, 1.5 * 16) == pytest.approx(0.8)  # cell (1, 2) itself
    assert score_near(maps, 3.5 * 16, 2.5 * 16) == pytest.approx(0.8)  # a neighbour
    assert score_near(maps, 4.5 * 16, 3.5 * 16) == pytest.approx(0.1)  # its own cell is outside the breast
    assert score_near(maps, 0.5 * 16, 3.5 * 16, radius=0) == pytest.approx(0.1)
    assert score_near(maps, 1e6, -5) == pytest.approx(0.1)  # clipped to the grid's corner cell (0, 4)
    assert score_near(replace(maps, mask=np.zeros_like(mask)), 40, 24) == 0.0


def test_own_map_settings_round_trip_and_old_manifests_read_as_before():
    old = VerificationSettings(detector={"name": "d", "sha256": "0" * 64})
    assert set(old.to_dict()) == {"weight", "candidate_threshold", "max_candidates", "detector"}
    assert not old.uses_own_map
    own = {**old.to_dict(), "own_map_threshold": 0.5, "own_map_candidates": 4}
    entry = ModelEntry(name="v", arch="paper_cnn", sha256="2" * 64, task="verification", licence="x",
                       extra={"verification": own})  # fmt: skip
    got = VerificationSettings.of(entry)
    assert got.uses_own_map and got.own_map_candidates == 4 and VerificationSettings.of(
        replace(entry, extra={"verification": got.to_dict()})) == got  # fmt: skip
    for bad in ({"own_map_threshold": 1.5, "own_map_candidates": 4}, {"own_map_threshold": 0.5},
                {"own_map_threshold": "x"}):  # fmt: skip
        with pytest.raises(ValueError, match="verification settings"):
            VerificationSettings.of(replace(entry, extra={"verification": {**old.to_dict(), **bad}}))


@pytest.mark.parametrize("value", ["x", [1], 5])
def test_verification_settings_that_are_no_object_are_malformed_not_an_attribute_error(value):
    """A hand edit leaving ``"verification": "x"`` raised AttributeError ('str' object has no attribute 'get'), which
    verified_or_alone let through: `detect` and the viewer's CAD failed instead of running the detector alone."""
    entry = ModelEntry(name="v", arch="paper_cnn", sha256="2" * 64, task="verification", licence="x",
                       extra={"verification": value})  # fmt: skip
    with pytest.raises(ValueError, match="malformed verification settings"):
        VerificationSettings.of(entry)


def test_the_engine_adds_the_verifiers_own_candidates_scored_by_the_detector(bright_model, breast_with_blob):
    image = make_image(breast_with_blob)
    plain = _verifier(bright_model.entry.sha256, threshold=0.3)
    settings = {**plain.entry.extra["verification"], "own_map_threshold": 0.05, "own_map_candidates": 6}
    own = replace(plain, entry=replace(plain.entry, extra={**plain.entry.extra, "verification": settings}))
    base = drain(analyse_image(with_verifier(bright_model, plain), image, tile=64)).source
    steps = []
    got = drain(analyse_image(with_verifier(bright_model, own), image, tile=64), steps.append).source
    assert [p.done for p in steps] == sorted(p.done for p in steps)
    old = {f.center for f in base.verified.candidates}
    new = [f for f in got.verified.candidates if f.center not in old]
    assert old <= {f.center for f in got.verified.candidates}
    assert new, "a random verifier's map cut at 0.05 proposes somewhere the detector did not"
    prep = prepare_image(image, own.preprocess, image.info.spacing)
    z2 = abnormal_log_odds(crop_logits(own.model, prep, 32, 16, [f.center for f in new]))
    g = got.geometry
    for f, z in zip(new, z2, strict=True):
        det = score_near(got.maps, f.center[0] / g.scale_x, f.center[1] / g.scale_y)
        assert f.score == pytest.approx(combined_score(det, z))
        mm = g.pixel_size_mm / g.scale_x
        assert all(np.hypot(f.center[0] - c[0], f.center[1] - c[1]) * mm >= 19.2 for c in old)


def test_a_verifier_is_only_attached_to_the_detector_it_was_made_for(tmp_path):
    torch.manual_seed(0)
    det = save_model(create_model("paper_cnn", widths=WIDTHS),
                     ModelEntry(name="det", arch="paper_cnn", arch_kwargs={"widths": WIDTHS}, patch_size=32,
                                pixel_size_mm=0.5, licence="TEST ONLY"), tmp_path)  # fmt: skip
    detector = load_model("det", tmp_path)
    assert verifier_entry(detector.entry, tmp_path) is None and load_verifier(detector, tmp_path) is detector
    settings = VerificationSettings(detector={"name": "det", "version": "0", "sha256": "f" * 64})
    v_entry = ModelEntry(name="ver", arch="paper_cnn", task="verification", arch_kwargs={"widths": WIDTHS},
                         patch_size=32, pixel_size_mm=1.0, finding_threshold=0.4, licence="TEST ONLY",
                         extra={"verification": settings.to_dict()})  # fmt: skip
    saved = save_model(create_model("paper_cnn", widths=WIDTHS), v_entry, tmp_path)
    with pytest.raises(ModelError, match="ver 0.0.0 verifies det ffffffff, not det " + det.sha256[:8]):
        load_verifier(detector, tmp_path)
    alone, why = verified_or_alone(detector, tmp_path)  # what detect, evaluate and the viewer call
    assert alone is detector and why is not None and "verifies det ffffffff" in why
    mine = VerificationSettings(detector={"name": "det", "version": "0", "sha256": det.sha256})
    saved = save_model(create_model("paper_cnn", widths=WIDTHS),
                       replace(v_entry, extra={"verification": mine.to_dict()}), tmp_path)  # fmt: skip
    both, why = verified_or_alone(detector, tmp_path)
    assert why is None and both.verifier is not None and both.verifier.entry.sha256 == saved.sha256
    assert both.entry.finding_threshold == 0.4 and load_model("det", tmp_path).entry.finding_threshold == 0.5
    (tmp_path / saved.file).write_bytes(b"broken")
    with pytest.raises(ModelError, match=saved.file):
        load_verifier(detector, tmp_path)
    with pytest.raises(ValueError, match="not a verification model"):
        with_verifier(detector, detector)
    bad = replace(v_entry, extra={"verification": {"weight": 2.0}})
    with pytest.raises(ValueError, match="out of range"):
        VerificationSettings.of(bad)


def test_install_of_a_verifier_names_its_detector_and_refuses_a_curve_of_another():
    from mammoview.training.install import InstallOptions, verification_settings

    det = {"name": "det", "version": "1.0", "sha256": "a" * 64}
    with pytest.raises(ValueError, match="needs the detector it verifies"):
        InstallOptions(task="verification")
    curve = {"evaluated": {"name": "det", "sha256": "a" * 64, "verifier": None}}
    with pytest.raises(ValueError, match="without a verifier"):
        InstallOptions(task="verification", detector=det, operating_curve=curve)
    other = {"evaluated": {"name": "x", "sha256": "b" * 64, "verifier": {"name": "v"}}}
    with pytest.raises(ValueError, match="measured on x bbbbbbbb"):
        InstallOptions(task="verification", detector=det, operating_curve=other)
    ok = {"evaluated": {"name": "det", "sha256": "a" * 64, "verifier": {"name": "v"}}}
    InstallOptions(task="verification", detector=det, operating_curve=ok, test_time_flip=False)
    settings = VerificationSettings.of(
        ModelEntry(name="v", arch="vgg", extra={"verification": verification_settings(det)})
    )
    assert settings.detector == det and settings.weight == 0.5 and settings.max_candidates == MAX_CANDIDATES


def test_the_heatmap_keeps_the_detectors_curve_and_the_marks_take_the_verifiers(bright_model):
    from mammoview.cad.operating import OperatingCurve

    own = OperatingCurve(thresholds=(0.99, 0.5), fpi=(0.2, 2.0), sensitivity=(0.3, 0.7))
    two = OperatingCurve(thresholds=(0.9, 0.4), fpi=(0.3, 1.5), sensitivity=(0.5, 0.8))
    detector = replace(bright_model, entry=replace(bright_model.entry, operating_curve=own.to_dict()))
    plain = _verifier(detector.entry.sha256)
    verifier = replace(plain, entry=replace(plain.entry, operating_curve=two.to_dict()))
    info = with_verifier(detector, verifier).info
    assert info.operating_curve == two and info.heatmap_curve == own and info.detector_curve == own
    assert detector.info.heatmap_curve == own and detector.info.detector_curve is None  # alone: one curve
    assert with_verifier(detector, verifier).to("cpu").info.heatmap_curve == own


def test_a_detector_whose_sha256_is_written_in_capitals_keeps_its_verifier(tmp_path):
    """The weights' check reads the manifest's sha256 in any case (PowerShell's Get-FileHash writes capitals), but the
    verifier was matched to its detector letter for letter: a detector re-hashed so ran without its verifier, at
    another operating point, "verifies mammoview-vgg 26e82974, not mammoview-vgg 26E82974"."""
    import json

    torch.manual_seed(0)
    det = save_model(create_model("paper_cnn", widths=WIDTHS),
                     ModelEntry(name="det", arch="paper_cnn", arch_kwargs={"widths": WIDTHS}, patch_size=32,
                                pixel_size_mm=0.5, licence="TEST ONLY"), tmp_path)  # fmt: skip
    mine = VerificationSettings(detector={"name": "det", "version": "0", "sha256": det.sha256})
    save_model(create_model("paper_cnn", widths=WIDTHS),
               ModelEntry(name="ver", arch="paper_cnn", task="verification", arch_kwargs={"widths": WIDTHS},
                          patch_size=32, pixel_size_mm=1.0, finding_threshold=0.4, licence="TEST ONLY",
                          extra={"verification": mine.to_dict()}), tmp_path)  # fmt: skip
    doc = json.loads((tmp_path / "manifest.json").read_text())
    next(m for m in doc["models"] if m["name"] == "det")["sha256"] = det.sha256.upper()
    (tmp_path / "manifest.json").write_text(json.dumps(doc))
    both, why = verified_or_alone(load_model("det", tmp_path), tmp_path)
    assert why is None and both.verifier is not None
