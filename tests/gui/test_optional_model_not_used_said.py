"""An installed density or malignancy model that cannot be loaded (its weights truncated by an interrupted copy) is
said in the CAD panel: the viewer only logged it, and the CAD's malignancy was then the detector's own and the
density missing with nothing on screen saying why.  Fixed and reloaded, the reason goes, and so does the result it
explained (it came back from the session's cache without its density)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui import cad_support
from tests.gui.cad_support import TINY

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

CATEGORIES = ("a", "b", "c", "d")


def broken_optional(folder: Path, task: str) -> tuple[Path, bytes]:
    """A valid tiny ``task`` model installed in ``folder``, its weights then cut short: (weights file, good bytes)."""
    import torch

    from mammoview.cad.registry import create_model
    from mammoview.cad.weights import ModelEntry, save_model

    if task == "density":
        entry = ModelEntry(name="test-density", arch="paper_cnn", task="density", arch_kwargs=dict(TINY),
                           version="0.0.1", patch_size=64, pixel_size_mm=2.0, licence="TEST ONLY",
                           classes=CATEGORIES, outputs=CATEGORIES, extra={"canvas_px": [64, 48]})  # fmt: skip
        net = create_model("paper_cnn", num_outputs=4, **TINY)
    else:
        entry = ModelEntry(name=f"test-{task}", arch="paper_cnn", task=task, arch_kwargs=dict(TINY), version="0.0.1",
                           patch_size=64, pixel_size_mm=0.5, licence="TEST ONLY")  # fmt: skip
        net = create_model("paper_cnn", **TINY)
    torch.manual_seed(0)
    weights = folder / save_model(net, entry, folder).file
    good = weights.read_bytes()
    weights.write_bytes(good[:300])  # an interrupted copy
    return weights, good


def _read_with_cad(window, load, study, qtbot) -> str:  # type: ignore[no-untyped-def]
    load(window, [study])
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    window.commands["cad_first_read_done"].trigger()
    return str(window.cad.dock.state_label.text())


@pytest.mark.parametrize("task", ["density", "malignancy"])
def test_a_broken_optional_model_is_said_in_the_cad_panel(cad_models, cad_window, load, synthetic_study, qtbot, task):
    weights, _ = broken_optional(cad_models, task)
    state = _read_with_cad(cad_window, load, synthetic_study, qtbot)
    assert f"{task.capitalize()} model not used:" in state and weights.name in state, state


def test_after_reload_with_the_density_model_fixed_the_cad_runs_with_it(cad_models, cad_window, load,
                                                                          synthetic_study, qtbot):  # fmt: skip
    weights, good = broken_optional(cad_models, "density")
    window = cad_window
    assert "Density model not used:" in _read_with_cad(window, load, synthetic_study, qtbot)
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
