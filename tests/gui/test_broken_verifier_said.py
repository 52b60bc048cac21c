"""A broken verifier beside a good detector, in the viewer."""

from __future__ import annotations

import json

from tests.gui.cad_support import save_tiny_model, save_tiny_verifier


def test_a_broken_verifier_is_said_in_the_cad_panel_not_only_in_the_log(main_window, qtbot, monkeypatch, tmp_path):
    """The verifier's weights truncated (an interrupted copy): `detect` says "the verification model is not used:
    ...", the viewer only logged it; its CAD panel read "CAD model: test-tiny ..." as if nothing were missing, and the
    marks shown were the detector's alone at the detector's threshold, with nothing on screen saying so."""
    folder = save_tiny_model(tmp_path / "models")
    save_tiny_verifier(folder)
    doc = json.loads((folder / "manifest.json").read_text())
    ver = next(m for m in doc["models"] if m["task"] == "verification")
    weights = folder / ver["file"]
    weights.write_bytes(weights.read_bytes()[:300])
    qtbot.waitUntil(
        lambda: main_window.cad.unavailable is not None or main_window.cad.model_info is not None, timeout=30_000
    )
    qtbot.waitUntil(lambda: not main_window.cad.runner._jobs, timeout=30_000)
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(folder))
    main_window.cad.reload_model()
    qtbot.waitUntil(
        lambda: main_window.cad.unavailable is not None or main_window.cad.model_info is not None, timeout=30_000
    )
    assert main_window.cad.unavailable is None  # the detector runs alone: right
    text = main_window.cad.dock.model_label.text()
    assert "verification model not used" in text and ver["file"] in text, text
    main_window.cad.shutdown()
