"""A density entry whose ``canvas_px`` is missing or malformed (a hand edit, a model saved by other means) loaded,
then failed every CAD run ("a density model needs canvas_px [rows, cols]": the viewer said "CAD failed" for the
whole study, the detector's results lost too) instead of being skipped at load with its reason, as an optional
stage with a malformed entry is (``_crop_geometry_problem``)."""

from __future__ import annotations

import json

import pytest
import torch

from mammoview.cad.registry import create_model
from mammoview.cad.weights import MANIFEST, ModelEntry, ModelError, load_optional, save_model

TINY = {"widths": [4, 4, 8, 8]}
CATS = ("a", "b", "c", "d")


@pytest.mark.parametrize("canvas", [None, [64], "64x48", [0, 48]])
def test_a_density_entry_without_a_usable_canvas_is_refused_at_load(tmp_path, canvas):
    torch.manual_seed(0)
    save_model(create_model("paper_cnn", **TINY), ModelEntry(name="test-cad", arch="paper_cnn", arch_kwargs=dict(TINY),
               patch_size=64, pixel_size_mm=0.5), tmp_path, make_default=True)  # fmt: skip
    entry = ModelEntry(name="test-density", arch="paper_cnn", arch_kwargs=dict(TINY), task="density", outputs=CATS,
                       classes=CATS, pixel_size_mm=2.0, patch_size=64, extra={"canvas_px": [64, 48]})  # fmt: skip
    save_model(create_model("paper_cnn", num_outputs=4, **TINY), entry, tmp_path)
    doc = json.loads((tmp_path / MANIFEST).read_text())
    m = next(m for m in doc["models"] if m["task"] == "density")
    if canvas is None:
        del m["canvas_px"]
    else:
        m["canvas_px"] = canvas
    (tmp_path / MANIFEST).write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="canvas_px"):
        load_optional("density", tmp_path, "cpu")


@pytest.mark.parametrize("cats", [tuple("dcba"), tuple("abcde"), ("normal", "mass", "calcification", "malignant")])
def test_a_density_entry_whose_outputs_are_not_a_to_d_is_refused_at_load(tmp_path, cats):
    """The density code reads output k as category a-d[k] whatever the entry says: an entry of classes d-a showed
    the network's "a" as "density D", one of five outputs dropped the fifth (probabilities summing to 0.8)."""
    torch.manual_seed(0)
    entry = ModelEntry(name="test-density", arch="paper_cnn", arch_kwargs=dict(TINY), task="density", outputs=CATS,
                       classes=CATS, pixel_size_mm=2.0, patch_size=64, extra={"canvas_px": [64, 48]})  # fmt: skip
    save_model(create_model("paper_cnn", num_outputs=4, **TINY), entry, tmp_path)
    doc = json.loads((tmp_path / MANIFEST).read_text())  # edited by hand: save_model refuses such an entry
    doc["models"][0].update(outputs=list(cats), classes=list(cats))
    (tmp_path / MANIFEST).write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=r"outputs and classes must be \['a', 'b', 'c', 'd'\]"):
        load_optional("density", tmp_path, "cpu")
