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


def test_a_patch_is_not_warned_to_be_smaller_than_a_mammogram(tmp_path, capsys):
    """A 12.8 mm patch at 0.1 mm/px drew 'no mammogram's size: ... check it' at every patch: the whole-image check of
    the viewer and detect.  A patch is no whole mammogram by definition; a spacing that makes it larger than any
    mammogram is still said."""
    from mammoview.cli import main

    patch = tmp_path / "patch.png"
    imsave(patch, np.random.default_rng(0).random((128, 128)), cmap="gray")
    assert main(["classify", str(patch), "--json", str(tmp_path / "a.json"), "--pixel-spacing", "0.1", "--quiet"]) == 0
    assert "mammogram's size" not in capsys.readouterr().err
    assert main(["classify", str(patch), "--json", str(tmp_path / "b.json"), "--pixel-spacing", "5", "--quiet"]) == 0
    assert "640 x 640 mm, no mammogram's size" in capsys.readouterr().err
