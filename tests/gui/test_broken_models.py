"""The viewer with a broken models folder says why CAD is off, and Reload model after fixing it brings CAD back."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest

from tests.gui.cad_support import save_tiny_model


def _entry(folder: Path) -> tuple[dict, dict]:
    doc = json.loads((folder / "manifest.json").read_text())
    return doc, doc["models"][0]


def _write(folder: Path, doc: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(doc))


def _rewrite_weights(folder: Path, change) -> str:  # type: ignore[no-untyped-def]
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    doc, e = _entry(folder)
    path = folder / e["file"]
    state = dict(st_load(path.read_bytes()))
    blob = change(state)
    if blob is None:
        blob = st_save(state)
    path.write_bytes(blob)
    e["sha256"] = hashlib.sha256(blob).hexdigest()
    _write(folder, doc)
    return e["file"]


def syntax(folder: Path) -> str:
    text = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text(text[:-5])
    return "manifest.json"


def no_arch(folder: Path) -> str:
    doc, e = _entry(folder)
    del e["arch"]
    _write(folder, doc)
    return "manifest.json"


def unknown_arch(folder: Path) -> str:
    doc, e = _entry(folder)
    e["arch"] = "nonet"
    _write(folder, doc)
    return e["file"]


def missing_file(folder: Path) -> str:
    _, e = _entry(folder)
    (folder / e["file"]).unlink()
    return e["file"]


def truncated(folder: Path) -> str:
    _, e = _entry(folder)
    p = folder / e["file"]
    p.write_bytes(p.read_bytes()[:200])
    return e["file"]


def shape(folder: Path) -> str:
    import torch

    def change(state):  # type: ignore[no-untyped-def]
        k = next(k for k, v in state.items() if v.dim() == 4)
        state[k] = torch.zeros(*state[k].shape[:2], 5, 5)

    return _rewrite_weights(folder, change)


def pickled(folder: Path) -> str:
    import torch

    def change(state):  # type: ignore[no-untyped-def]
        buf = io.BytesIO()
        torch.save(state, buf)
        return buf.getvalue()

    return _rewrite_weights(folder, change)


def default_missing(folder: Path) -> str:
    doc, _ = _entry(folder)
    doc["default"] = "no-such-model"
    _write(folder, doc)
    return "manifest.json"


def unknown_preprocessing(folder: Path) -> str:
    doc, e = _entry(folder)
    e["preprocessing"] = {"pixel_size_mm": 0.5, "clahe_strength": 2}  # a typo'd option
    _write(folder, doc)
    return e["file"]


def text_pixel_size(folder: Path) -> str:
    doc, e = _entry(folder)
    e["pixel_size_mm"] = "0.5"
    _write(folder, doc)
    return e["file"]


BREAKS = [syntax, no_arch, unknown_arch, missing_file, truncated, shape, pickled, default_missing,
          unknown_preprocessing, text_pixel_size]  # fmt: skip


@pytest.mark.parametrize("brk", BREAKS, ids=lambda f: f.__name__)
def test_broken_model_is_named_viewing_goes_on_and_reload_after_fixing_brings_cad_back(
    brk, main_window, load, synthetic_study, qtbot, monkeypatch, tmp_path
):  # type: ignore[no-untyped-def]
    from mammoview.gui import dialogs

    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append((title, text)))
    good = save_tiny_model(tmp_path / "good")
    folder = tmp_path / "models"
    shutil.copytree(good, folder)
    named = brk(folder)
    window = main_window
    # the start-up probe (whatever folder it looked in) has ended before the folder is switched
    qtbot.waitUntil(lambda: window.cad.unavailable is not None or window.cad.model_info is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not window.cad.runner._jobs, timeout=30_000)
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(folder))
    window.cad.reload_model()
    qtbot.waitUntil(lambda: window.cad.unavailable is not None or window.cad.model_info is not None, timeout=30_000)
    # a broken model is said at once, naming the file, and CAD is off
    assert window.cad.unavailable is not None, f"CAD looks available with a broken model ({brk.__name__})"
    assert named in window.cad.unavailable
    assert named in window.commands["cad_run"].toolTip()
    assert not window.commands["cad_run"].isEnabled()
    load(window, [synthetic_study])  # viewing goes on
    assert all(p.display is not None for p in window.panels.values())
    # fix the folder, Reload model: CAD comes back and runs
    shutil.rmtree(folder)
    shutil.copytree(good, folder)
    window.cad.reload_model()
    qtbot.waitUntil(lambda: window.cad.unavailable is not None or window.cad.model_info is not None, timeout=30_000)
    assert window.cad.unavailable is None and window.cad.model_info is not None
    assert window.commands["cad_run"].isEnabled()
    with qtbot.waitSignal(window.cad.runner.resultReady, timeout=60_000):
        window.cad.run()
    assert window.cad.computed is not None and not boxes
    window.cad.shutdown()
