"""An installed density or malignancy model that cannot be loaded (its weights truncated by an interrupted copy) is
said in the CAD panel: the viewer only logged it, and the CAD's malignancy was then the detector's own and the
density missing with nothing on screen saying why."""

from __future__ import annotations

import json

import pytest

from tests.gui import cad_support
from tests.gui.cad_support import TINY

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


@pytest.mark.parametrize("task", ["density", "malignancy"])
def test_a_broken_optional_model_is_said_in_the_cad_panel(cad_models, cad_window, load, synthetic_study, qtbot, task):
    import torch

    from mammoview.cad.registry import create_model
    from mammoview.cad.weights import ModelEntry, save_model

    entry = ModelEntry(name=f"test-{task}", arch="paper_cnn", task=task, arch_kwargs=dict(TINY), version="0.0.1",
                       patch_size=64, pixel_size_mm=0.5, licence="TEST ONLY")  # fmt: skip
    torch.manual_seed(0)
    saved = save_model(create_model("paper_cnn", **TINY), entry, cad_models)
    weights = cad_models / saved.file
    weights.write_bytes(weights.read_bytes()[:300])  # an interrupted copy
    assert any(m["task"] == task for m in json.loads((cad_models / "manifest.json").read_text())["models"])
    window = cad_window
    load(window, [synthetic_study])
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    window.commands["cad_first_read_done"].trigger()
    state = window.cad.dock.state_label.text()
    assert f"{task.capitalize()} model not used:" in state and saved.file in state, state
