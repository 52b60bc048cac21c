"""CAD test fixtures: images built from arrays, a tiny saved model, and a planted 'brightness' model.

Everything here is TEST-ONLY: the models are random or hand-set and are written to
``tmp_path``, never to ``models/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from mammoview.cad.networks import PaperCNN
from mammoview.cad.registry import create_model
from mammoview.cad.weights import LoadedModel, ModelEntry, default_models_dir, list_installed, load_model, save_model
from mammoview.io.chain_model import PixelChain
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import Decision, ImageInfo, MammoImage, View
from tests.synthetic import Blob, synthetic_breast

TINY_PAPER = {"widths": [4, 8, 8, 8]}


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread():
    """Tiny tensors gain nothing from threads, and on a loaded machine OpenMP threads
    waiting on each other made this suite 5x slower; one thread keeps it fast and stable."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_image(
    pixels: np.ndarray, view: View | None = View.LCC, spacing: float | None = 0.25, name: str = "img.dcm"
) -> MammoImage:
    """A MammoImage from a uint16 array (12-bit MONOCHROME2, isotropic spacing)."""
    rows, cols = pixels.shape
    info = ImageInfo(
        path=Path("/synthetic") / name,
        file_format="DICOM",
        rows=rows,
        columns=cols,
        laterality=Decision(view.laterality if view else None, "test"),
        projection=Decision(view.projection if view else None, "test"),
        spacing=PixelSpacing(spacing, spacing, "test") if spacing else None,
        photometric="MONOCHROME2",
        transfer_syntax="Explicit VR Little Endian",
        chain=PixelChain(bits_stored=12, signed=False, photometric="MONOCHROME2"),
    )
    return MammoImage(info=info, stored=np.ascontiguousarray(pixels))


BLOB = Blob(x=150, y=300, radius=40, amplitude=0.4)


@pytest.fixture(scope="session")
def breast_with_blob() -> np.ndarray:
    """600x400 synthetic breast (chest wall left) with one bright blob at (150, 300) and a label.

    The bright rectangle in the top-right corner stands for a film label: background, so
    it must never produce a finding.
    """
    img = synthetic_breast(rows=600, cols=400, blobs=(BLOB,), seed=3)
    img[20:70, 330:385] = 4095
    return img


@pytest.fixture()
def tiny_model(tmp_path) -> LoadedModel:
    """A randomly initialised, seeded, tiny paper_cnn saved with save_model to tmp_path (not shipped)."""
    torch.manual_seed(0)
    net = create_model("paper_cnn", **TINY_PAPER)
    entry = ModelEntry(
        name="test-tiny",
        arch="paper_cnn",
        arch_kwargs=dict(TINY_PAPER),
        version="0.0.0-test",
        patch_size=64,
        pixel_size_mm=0.5,
        finding_threshold=0.5,
        licence="TEST ONLY: random weights",
    )
    save_model(net, entry, tmp_path / "models")
    return load_model(models_dir=tmp_path / "models", device="cpu")


def bright_net() -> PaperCNN:
    """A hand-set paper_cnn (1 channel per layer) whose 'mass' logit rises with local brightness.

    Each conv is a 3x3 mean filter; the last BN subtracts a tissue-level offset so only
    clearly brighter-than-tissue spots survive the ReLU.  Not a trained model.
    """
    net = PaperCNN(widths=(1, 1, 1, 1)).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0 / 9.0)
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.zero_()
                m.running_var.fill_(1.0 - m.eps)
                m.weight.fill_(1.0)
                m.bias.zero_()
        last_bn = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)][-1]
        last_bn.bias.fill_(-1.5)
        net.head.weight.copy_(torch.tensor([[-4.0], [4.0], [0.0], [2.0]]))
        net.head.bias.copy_(torch.tensor([1.0, -1.0, -1.0, -1.0]))
    net.requires_grad_(False)
    return net


@pytest.fixture()
def bright_model() -> LoadedModel:
    entry = ModelEntry(
        name="test-bright",
        arch="paper_cnn",
        arch_kwargs={"widths": [1, 1, 1, 1]},
        sha256="0" * 64,
        patch_size=48,
        pixel_size_mm=0.5,
        finding_threshold=0.5,
        licence="TEST ONLY: hand-set weights",
    )
    return LoadedModel(model=bright_net(), entry=entry, device=torch.device("cpu"))


@pytest.fixture()
def shipped_detector() -> LoadedModel:
    """The installed default detector (models/, on CPU); the test is skipped where none is installed."""
    root = default_models_dir()
    if not any(r.entry.task == "detection" for r in list_installed(root)):
        pytest.skip(f"no detection model installed in {root}")
    return load_model(models_dir=root, device="cpu")
