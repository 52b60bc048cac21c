"""A broken density model fixed while the viewer runs, then "Reload model": the reason in the CAD panel goes, so the
result it explained must not stay on screen (nor come back from the session's cache) without its density."""

from __future__ import annotations

from tests.gui import cad_support
from tests.gui.cad_support import TINY

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def _density_entry():
    from mammoview.cad.weights import ModelEntry

    return ModelEntry(name="test-density", arch="paper_cnn", task="density", arch_kwargs=dict(TINY),
                      version="0.0.1", patch_size=64, pixel_size_mm=2.0, licence="TEST ONLY",
                      classes=("a", "b", "c", "d"), outputs=("a", "b", "c", "d"),
                      extra={"canvas_px": [64, 48]})  # fmt: skip


def test_after_reload_with_the_density_model_fixed_the_cad_runs_with_it(cad_models, cad_window, load,
                                                                          synthetic_study, qtbot):  # fmt: skip
    import torch

    from mammoview.cad.registry import create_model
    from mammoview.cad.weights import save_model

    torch.manual_seed(0)
    saved = save_model(create_model("paper_cnn", num_outputs=4, **TINY), _density_entry(), cad_models)
    weights = cad_models / saved.file
    good = weights.read_bytes()
    weights.write_bytes(good[:300])  # an interrupted copy
    window = cad_window
    load(window, [synthetic_study])
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    window.commands["cad_first_read_done"].trigger()
    assert "Density model not used:" in window.cad.dock.state_label.text()
    assert window.cad.result.exam_density is None
    weights.write_bytes(good)  # the reader copies the file again
    window.cad.reload_model()
    qtbot.waitUntil(lambda: window.cad.model_info is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not window.cad.runner._jobs, timeout=30_000)
    state = window.cad.dock.state_label.text()
    shown_without_density = window.cad.result is not None and window.cad.result.exam_density is None
    # the reason went: the result shown must not be the one it explained, with nothing saying why density is missing
    assert not ("Density model not used:" not in state and shown_without_density), state
    window.cad.run()  # Run CAD again: the density model is used now (not the cached result from before)
    qtbot.waitUntil(lambda: not window.cad.runner._jobs, timeout=30_000)
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    assert window.cad.result.exam_density is not None
