"""`mammoview retune --threshold-from METRICS` takes the 1-FP/image threshold of any metrics.json: one measured on
other weights, or on the two stages for the detector alone (0.8221 for 0.9713: about twice the marks), is written
without a word, where the same file's --operating-curve would be refused."""

from __future__ import annotations

from mammoview.cli import main
from tests.cad.conftest import bright_model, bright_net  # noqa: F401  (fixture)
from tests.training.test_retune import _metrics, installed  # noqa: F401  (fixture)


def test_threshold_from_an_evaluation_of_something_else_is_refused(installed, tmp_path):  # noqa: F811
    d, sha = installed
    manifest = (d / "manifest.json").read_text()
    two_stage = _metrics(
        tmp_path / "verified.json",
        {
            "name": "test-bright",
            "sha256": sha,
            "test_time_flip": True,
            "map_windows_px": [96, 64],
            "verifier": {"name": "v"},
        },
    )
    alone = _metrics(
        tmp_path / "alone.json",
        {"name": "test-bright", "sha256": sha, "test_time_flip": True, "map_windows_px": [96, 64]},
    )
    other = _metrics(
        tmp_path / "other.json", {"name": "x", "sha256": "ab" * 32, "test_time_flip": True, "map_windows_px": [96, 64]}
    )
    detector = ["retune", "test-bright", "--models-dir", str(d), "--model-version", "2"]
    verifier = ["retune", "test-verifier", "--models-dir", str(d), "--model-version", "2"]
    assert main([*detector, "--threshold-from", str(other)]) == 1  # another network's threshold
    assert main([*detector, "--threshold-from", str(two_stage)]) == 1  # the verifier's threshold, on detector scores
    assert main([*detector, "--operating-curve", str(two_stage)]) == 1  # the two stages' curve for the detector
    assert main([*verifier, "--threshold-from", str(alone)]) == 1  # the detector's threshold, on verifier scores
    assert (d / "manifest.json").read_text() == manifest  # nothing rewritten
