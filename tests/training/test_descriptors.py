"""Auxiliary targets from the CBIS-DDSM case descriptions: the join, and a training step with them."""

from __future__ import annotations

import csv

import numpy as np
import torch
from torch import nn

from mammoview.training.augment import AugmentConfig
from mammoview.training.descriptors import AUX_TARGETS, image_targets, patch_aux_targets, target_counts
from mammoview.training.losses import aux_loss, cad_loss
from mammoview.training.steps import make_optimizer, train_step
from mammoview.training.train_config import TrainConfig

COLUMNS = ["patient_id", "left or right breast", "image view", "mass shape", "mass margins", "assessment"]


def _csv(path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*COLUMNS, "pathology"])
        for r in rows:
            w.writerow([*r, "BENIGN"])
    return path


def test_targets_join_patches_to_their_image_and_unknown_where_masses_disagree(tmp_path):
    table = image_targets(
        _csv(
            tmp_path / "desc.csv",
            [
                ("P_00001", "LEFT", "CC", "IRREGULAR-ARCHITECTURAL_DISTORTION", "SPICULATED", "4"),
                ("P_00002", "RIGHT", "MLO", "OVAL", "CIRCUMSCRIBED", "3"),
                # two masses: same margin class (both suspicious), different shape and BI-RADS
                ("P_00003", "LEFT", "MLO", "ROUND", "OBSCURED-ILL_DEFINED", "2"),
                ("P_00003", "LEFT", "MLO", "IRREGULAR", "MICROLOBULATED", "5"),
                # "NA" shape, BI-RADS 0 (incomplete): unknown
                ("P_00004", "RIGHT", "CC", "NA", "CIRCUMSCRIBED", "0"),
            ],
        )
    )
    nan = np.nan
    np.testing.assert_array_equal(table["00001_LEFT_CC"], [1, 1, 1])
    np.testing.assert_array_equal(table["00002_RIGHT_MLO"], [0, 0, 0])
    np.testing.assert_array_equal(table["00003_LEFT_MLO"], [1, nan, nan])
    np.testing.assert_array_equal(table["00004_RIGHT_CC"], [0, nan, nan])

    ids = ["00001_LEFT_CC", "00001_LEFT_CC", "00003_LEFT_MLO", "00002_RIGHT_MLO", "mdb001", "00009_LEFT_CC"]
    sources = ["cbis", "cbis", "cbis", "cbis", "mias", "cbis"]
    labels = ["mass", "normal", "mass", "mass", "mass", "mass"]
    t = patch_aux_targets(ids, sources, labels, table)
    assert t.shape == (6, len(AUX_TARGETS)) and t.dtype == np.float32
    np.testing.assert_array_equal(t[0], [1, 1, 1])
    assert np.isnan(t[1]).all()  # a normal patch of a described image
    np.testing.assert_array_equal(t[2], [1, nan, nan])
    np.testing.assert_array_equal(t[3], [0, 0, 0])
    assert np.isnan(t[4]).all() and np.isnan(t[5]).all()  # another source; an image the CSV lacks
    counts = target_counts(t)
    assert counts["suspicious_margin"] == {"positive": 2, "negative": 1, "unknown": 3}
    assert counts["birads_4plus"] == {"positive": 1, "negative": 1, "unknown": 4}


class PooledNet(nn.Module):
    """The CadNet interface train_step uses: features, pooled head input, a 4-output head."""

    num_features = 8

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, features: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        pooled = features.mean((2, 3))
        return pooled if pre_logits else self.head(pooled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def test_training_step_with_aux_targets_lowers_the_loss_and_keeps_the_model_format():
    torch.manual_seed(0)
    n = 16
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    x = torch.randn(n, 1, 12, 12, generator=g) * 0.3 + y.view(-1, 1, 1, 1).float()
    mal = torch.where(y > 0, (torch.arange(n) % 2).float(), torch.tensor(float("nan")))
    aux = torch.full((n, 3), float("nan"))
    aux[y == 1] = torch.tensor([1.0, 0.0, float("nan")])
    model, head = PooledNet(), nn.Linear(8, 3)
    keys = set(model.state_dict())
    cfg = TrainConfig(
        lr=0.05,
        weight_decay=0.0,
        precision="fp32",
        aux_descriptors=True,
        augment=AugmentConfig(dihedral=False, affine_p=0.0, contrast=0.0, brightness=0.0, noise=0.0),
    )
    opt = make_optimizer(nn.ModuleList([model, head]), cfg)

    def loss_now() -> float:
        model.eval()
        with torch.no_grad():
            pooled = model.forward_head(model.forward_features(x), pre_logits=True)
            main = cad_loss(model.head(pooled), y, mal, reduction="sum")[0]
            return float(main + cfg.aux_weight * aux_loss(head(pooled), aux)[0])

    before, head_before = loss_now(), head.weight.detach().clone()
    for _ in range(3):
        loss_sum, _, count = train_step(
            model, opt, [(x, y, mal)], cfg, torch.Generator().manual_seed(0), 4.0, None, None, head, [aux]
        )
        assert np.isfinite(loss_sum) and count == n
    assert loss_now() < before
    assert not torch.equal(head.weight, head_before)  # the auxiliary layer learns
    assert set(model.state_dict()) == keys and model.head.out_features == 4  # saved weights: same 4 outputs
    # unknown entries give no gradient; none known gives zero loss
    logits = torch.zeros(2, 3, requires_grad=True)
    loss, n_known = aux_loss(logits, torch.tensor([[1.0, float("nan"), 0.0], [float("nan")] * 3]))
    loss.backward()
    assert n_known == 2 and torch.all(logits.grad[1] == 0) and logits.grad[0, 1] == 0
    assert aux_loss(logits, torch.full((2, 3), float("nan")))[1] == 0


def test_aux_options_reach_the_config_and_old_configs_load(tmp_path):
    from mammoview.cli import build_parser
    from mammoview.cli.train import config_from_args

    base = ["train", "--patches", str(tmp_path), "--out", str(tmp_path / "run")]
    cfg = config_from_args(build_parser().parse_args([*base, "--aux-descriptors", "--aux-weight", "0.3"]))
    assert cfg.aux_descriptors and cfg.aux_weight == 0.3
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert not config_from_args(build_parser().parse_args(base)).aux_descriptors
    old = {k: v for k, v in TrainConfig().to_dict().items() if not k.startswith("aux_")}
    assert not TrainConfig.from_dict(old).aux_descriptors
