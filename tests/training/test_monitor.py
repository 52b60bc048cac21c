"""The froc early-stopping monitor: whole-image detection on prepared validation images."""

from __future__ import annotations

import numpy as np
import torch

from mammoview.cad.preprocess import PreprocessConfig, prepare_image
from mammoview.training.monitor import DetectionMonitor
from mammoview.training.sources import Lesion, SourceImage
from tests.cad.conftest import BLOB, bright_net, make_image
from tests.synthetic import synthetic_breast


def _source(image_id: str, box: tuple[float, float, float, float]) -> SourceImage:
    return SourceImage(source="cbis", image_id=image_id, path=None, patient="cbis:P_1", laterality="L",  # type: ignore[arg-type]
                       projection="CC", spacing=(0.25, 0.25), label="mass", malignant=True,
                       lesions=(Lesion(kind="mass", malignant=True, bbox=box),))  # fmt: skip


def test_monitor_scores_the_viewers_findings_against_the_boxes():
    breast_with_blob = synthetic_breast(rows=600, cols=400, blobs=(BLOB,), seed=3)
    pcfg = PreprocessConfig(pixel_size_mm=0.5)  # the hand-set network's grid (patch 48 px at 0.5 mm)
    prep = prepare_image(make_image(breast_with_blob), pcfg)
    r = BLOB.radius
    on_blob = _source("hit", (BLOB.x - r, BLOB.y - r, BLOB.x + r, BLOB.y + r))
    elsewhere = _source("miss", (250.0, 80.0, 300.0, 130.0))  # breast tissue without the blob
    net = bright_net()
    net.train()
    monitor = DetectionMonitor([on_blob, elsewhere], pcfg, 48, prepared=[prep, prep])
    out = monitor(net)
    assert out["val_froc_lesions"] == 2
    # the blob is found on the first image (its finding is a false positive on the second, which has a box elsewhere)
    assert 0.0 < out["val_froc"] <= 0.5 and out["val_froc_sens_at_1"] == 0.5
    assert net.training  # left as it was found
    only_hit = DetectionMonitor([on_blob], pcfg, 48, prepared=[prep])(net)
    assert only_hit["val_froc"] == 1.0


def test_monitor_follows_the_network():
    """A network that marks nothing scores 0: the monitor measures the weights, not the data."""
    img = synthetic_breast(rows=600, cols=400, seed=5)
    pcfg = PreprocessConfig(pixel_size_mm=0.5)
    prep = prepare_image(make_image(img), pcfg)
    net = bright_net()
    with torch.no_grad():
        net.head.bias[0] = 50.0  # normal wins everywhere
    out = DetectionMonitor([_source("a", (100.0, 250.0, 200.0, 350.0))], pcfg, 48, prepared=[prep])(net)
    assert out["val_froc"] == 0.0 and np.isfinite(out["val_froc"])
