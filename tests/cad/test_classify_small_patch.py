"""`mammoview classify` on a patch too small for the network: a clear message, not a raw PyTorch error."""

from __future__ import annotations

import json

import numpy as np
from matplotlib.image import imsave


def test_a_patch_smaller_than_the_network_reads_is_said_so_not_as_a_torch_error(tmp_path):
    """A 4 mm calcification crop at 0.1 mm/px (40 px, 13 model px) came back as
    'RuntimeError: Given input size: (64x1x1). Calculated output size: (64x0x0). Output size is too small'."""
    from mammoview.cli import main

    patch = tmp_path / "calc.png"
    imsave(patch, np.random.default_rng(0).random((40, 40)), cmap="gray")
    out = tmp_path / "c.json"
    assert main(["classify", str(patch), "--json", str(out), "--pixel-spacing", "0.1", "--quiet"]) == 1
    (entry,) = json.loads(out.read_text())["patches"]
    assert "RuntimeError" not in entry["error"] and "mm" in entry["error"], entry["error"]
