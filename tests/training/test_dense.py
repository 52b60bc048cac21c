"""Dense training (training.dense, its loss, window logits and paired flips): grid, targets, one step learns."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mammoview.cad.probability_maps import patch_equivalent
from mammoview.cad.registry import create_model
from mammoview.training.augment import AugmentConfig, dihedral_pair
from mammoview.training.dense import (
    IGNORE,
    DenseConfig,
    DenseImage,
    DenseLesion,
    DenseSampler,
    crop_data,
    crop_targets,
    window_grid,
)
from mammoview.training.losses import dense_loss
from mammoview.training.validate import dense_logits


def test_window_grid_centres_are_the_common_centres_of_both_windows():
    g = window_grid(320, 16, 32, (96, 64))
    assert g.windows == (6, 4) and g.margin == 2 and g.starts == (0, 1)
    assert g.size == 11 and list(g.centres) == [80.0 + 16 * k for k in range(11)]
    assert g.centres[0] + g.centres[-1] == 320  # symmetric: flips and rotations map the grid onto itself
    odd = window_grid(256, 16, 0, (80, 48))  # 5 and 3 cells, centred on cells
    assert odd.size == 12 and odd.starts == (0, 1) and odd.centres[0] == 40.0 and odd.centres[-1] == 216.0
    with pytest.raises(ValueError, match="all even or all odd"):
        window_grid(320, 16, 32, (96, 48))
    with pytest.raises(ValueError, match="no room"):
        window_grid(128, 16, 32, (96,))
    with pytest.raises(ValueError, match="multiples of the stride"):
        window_grid(300, 16, 32, (96,))


def test_dense_logits_are_the_viewers_patch_equivalent_maps():
    """Window logits of a crop = inference's CAM window averages at the same centres (no off-by-one)."""
    torch.manual_seed(0)
    model = create_model("vgg", in_chans=1).eval()
    grid = window_grid(320, model.feature_stride, 32, (96, 64))
    x = torch.randn(1, 1, 320, 320)
    with torch.no_grad():
        dense = dense_logits(model, x, grid)[0].numpy()
        cam = model.cam(model.forward_features(x)[:, :, 2:-2, 2:-2])[0].numpy()
    maps = [patch_equivalent(cam, w)[0] for w in (6, 4)]  # output cell c is centred on interior corner c
    corners = np.arange(3, 3 + grid.size)  # interior corners of the grid's centres: 80 px = (2 + 3) x 16
    want = 0.5 * (maps[0] + maps[1])[:, corners][:, :, corners]
    np.testing.assert_allclose(dense, want, rtol=1e-4, atol=1e-4)


def _image(normals: bool = True) -> DenseImage:
    mask = np.zeros((600, 500), dtype=bool)
    mask[20:580, 0:450] = True
    lesions = [
        DenseLesion((200.0, 200.0, 260.0, 240.0), 1, 1.0),  # a mass box
        DenseLesion((80.0, 430.0, 120.0, 470.0), 2, math.nan, circle=(100.0, 450.0, 20.0)),  # a MIAS circle
        DenseLesion((398.0, 98.0, 402.0, 102.0), 1, 0.0),  # a mass smaller than a cell
        DenseLesion((40.0, 500.0, 80.0, 540.0), IGNORE, math.nan),  # a distortion: kept clear, never a target
    ]
    data = np.zeros((600, 500), dtype=np.float16)
    return DenseImage("img", "p", "cbis", data, mask, lesions, normals)


def _target_at(img: DenseImage, x: float, y: float, grid) -> tuple[int, float]:
    """Target of the window centred at image pixel (x, y) (a crop placed so it is a grid centre)."""
    c = int(grid.centres[grid.size // 2])
    t, m, _ = crop_targets(img, round(x) - c, round(y) - c, grid)
    return int(t[grid.size // 2, grid.size // 2]), float(m[grid.size // 2, grid.size // 2])


def test_crop_targets_label_lesions_ignore_their_surroundings_and_the_background():
    img = _image()
    grid = window_grid(320, 16, 32, (96, 64))
    assert _target_at(img, 230, 220, grid) == (1, 1.0)  # inside the mass box, malignant
    assert _target_at(img, 200, 220, grid)[0] == 1  # on the box edge
    assert _target_at(img, 170, 220, grid)[0] == IGNORE  # 30 px off: a 96 px window still overlaps it
    assert _target_at(img, 140, 220, grid)[0] == 0  # 60 px off: normal tissue
    t, m = _target_at(img, 110, 455, grid)  # inside the circle (radius 20), its corner box ignored
    assert t == 2 and math.isnan(m)
    assert _target_at(img, 118, 468, grid)[0] == IGNORE  # in the circle's box, outside the circle
    assert _target_at(img, 405, 105, grid) == (1, 0.0)  # tiny box: positive within 8 px of its centre
    assert _target_at(img, 60, 520, grid)[0] == IGNORE  # the distortion
    assert _target_at(img, 470, 300, grid)[0] == IGNORE  # outside the breast mask
    assert _target_at(img, 230, 10, grid)[0] == IGNORE  # outside the mask at the top
    full, _, _ = crop_targets(img, -300, -300, grid)  # a crop mostly beyond the image: all ignored
    assert (full == IGNORE).all()
    unlocated = _image(normals=False)
    assert _target_at(unlocated, 230, 220, grid)[0] == 1  # located lesions still count...
    assert _target_at(unlocated, 140, 300, grid)[0] == IGNORE  # ...but no normal tissue


def test_crop_data_fills_beyond_the_image_with_zero():
    img = _image()
    img.data[:] = 1.0
    c = crop_data(img, -10, 590, 32)
    assert c.shape == (32, 32) and (c[:10, 10:] == 1).all()  # image rows 590-599, columns 0-21
    assert c[10:].sum() == 0.0 and c[:, :10].sum() == 0.0  # below the last row, left of column 0


def test_dihedral_pair_moves_targets_with_the_image():
    grid = window_grid(320, 16, 32, (96, 64))
    g = torch.Generator().manual_seed(3)
    n, k = 16, grid.size
    y = torch.randint(0, 3, (n, k, k), generator=g)
    mal = torch.rand(n, k, k, generator=g)
    x = torch.zeros(n, 1, 320, 320)
    for i, c in enumerate(grid.centres.astype(int)):  # each target painted on the 2 x 2 px around its centre
        for j, r in enumerate(grid.centres.astype(int)):
            x[:, 0, r - 1 : r + 1, c - 1 : c + 1] = y[:, j, i].float().view(n, 1, 1)
    xo, (yo, mo) = dihedral_pair(x, [y, mal], torch.Generator().manual_seed(0))
    idx = torch.as_tensor(grid.centres.astype(int))
    seen = 0.25 * (xo[:, 0][:, idx - 1][:, :, idx - 1] + xo[:, 0][:, idx][:, :, idx]
                   + xo[:, 0][:, idx - 1][:, :, idx] + xo[:, 0][:, idx][:, :, idx - 1])  # fmt: skip
    torch.testing.assert_close(seen, yo.float())
    assert not torch.equal(yo, y)  # some symmetry other than the identity was drawn
    # malignancy follows the same transform as the class (a sample's multiset of values is kept)
    for b in range(n):
        assert torch.equal(torch.sort(mo[b].flatten()).values, torch.sort(mal[b].flatten()).values)


def test_dense_loss_ignores_unlabelled_windows_and_mines_hard_normals():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 5, 5, generator=g, requires_grad=True)
    y = torch.full((2, 5, 5), IGNORE, dtype=torch.int64)
    mal = torch.full((2, 5, 5), float("nan"))
    empty, parts = dense_loss(logits, y, mal)
    assert float(empty.detach()) == 0.0 and parts["n_normal"] == 0
    empty.backward()  # the graph is kept
    y[0, :2] = 0
    y[1, 2, 2] = 1
    mal[1, 2, 2] = 1.0
    loss, parts = dense_loss(logits, y, mal, hard_fraction=0.0, malignant_weight=0.0)
    flat = logits.detach().permute(0, 2, 3, 1)
    ce = torch.nn.functional.cross_entropy
    normal = ce(flat[0, :2].reshape(-1, 4)[:, :3], torch.zeros(10, dtype=torch.int64))
    lesion = ce(flat[1, 2, 2][None, :3], torch.ones(1, dtype=torch.int64))
    assert float(loss.detach()) == pytest.approx(0.5 * (float(normal) + float(lesion)), rel=1e-5)
    assert parts["n_normal"] == 10 and parts["n_lesion"] == 1
    hard, _ = dense_loss(logits, y, mal, hard_fraction=0.1, malignant_weight=0.0)
    assert float(hard.detach()) > float(loss.detach())  # the hardest normal window weighs as much as all ten
    weight = torch.ones(2, 5, 5)
    y[1, 3, 3] = 1
    weight[1, 2, 2], weight[1, 3, 3] = 0.8, 0.2  # as if (1, 3, 3) belonged to a lesion of 5 windows
    weighted, _ = dense_loss(logits, y, mal, hard_fraction=0.0, malignant_weight=0.0, weight=weight)
    lesions = ce(torch.stack([flat[1, 2, 2], flat[1, 3, 3]])[:, :3], torch.ones(2, dtype=torch.int64), reduction="none")
    assert float(weighted.detach()) == pytest.approx(0.5 * (float(normal) + float(0.8 * lesions[0] + 0.2 * lesions[1])))
    y[1, 3, 3] = IGNORE
    y[1, 0, 0] = 1  # a lesion window of unknown pathology: no malignancy term for it
    with_mal, parts = dense_loss(logits, y, mal, hard_fraction=0.0, malignant_weight=1.0)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(flat[1, 2, 2, 3], torch.tensor(1.0))
    lesion2 = ce(torch.stack([flat[1, 0, 0], flat[1, 2, 2]])[:, :3], torch.ones(2, dtype=torch.int64))
    assert float(with_mal.detach()) == pytest.approx(0.5 * (float(normal) + float(lesion2)) + float(bce), rel=1e-5)


def _synthetic_images(n: int = 4) -> list[DenseImage]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        data = rng.normal(0, 0.3, (400, 400)).astype(np.float32)
        cx, cy = 120 + 40 * i, 200
        yy, xx = np.mgrid[0:400, 0:400]
        data += 2.5 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 12.0**2))
        mask = np.ones((400, 400), dtype=bool)
        les = DenseLesion((cx - 15.0, cy - 15.0, cx + 15.0, cy + 15.0), 1, float(i % 2))
        out.append(DenseImage(f"i{i}", f"p{i}", "cbis", data.astype(np.float16), mask, [les]))
    return out


def test_sampler_places_lesions_on_the_grid_and_is_seeded():
    grid = window_grid(192, 16, 32, (64,))
    sampler = DenseSampler(_synthetic_images(), DenseConfig(crop_px=192, lesion_fraction=1.0), grid)
    assert sampler.counts() == {"images": 4, "normal_images": 4, "masses": 4, "calcifications": 0}
    x, y, mal, w = sampler.sample(8, np.random.default_rng(1))
    assert x.shape == (8, 1, 192, 192) and y.shape == (8, grid.size, grid.size)
    assert all(int((y[b] == 1).sum()) >= 1 for b in range(8))  # every lesion crop holds its lesion
    assert set(mal[y == 1].tolist()) <= {0.0, 1.0}
    for b in range(8):  # one lesion per crop: its windows' weights sum to 1, the others weigh 1
        assert float(w[b][y[b] == 1].sum()) == pytest.approx(1.0) and (w[b][y[b] != 1] == 1.0).all()
    x2, y2, _, _ = sampler.sample(8, np.random.default_rng(1))
    assert torch.equal(x, x2) and torch.equal(y, y2)
    normal_only = DenseSampler(_synthetic_images(), DenseConfig(crop_px=192, lesion_fraction=0.0), grid)
    _, yn, _, _ = normal_only.sample(8, np.random.default_rng(1))
    assert int((yn == 0).sum()) > 0


def test_a_dense_step_lowers_the_loss():
    from mammoview.training.steps import dense_train_step, make_optimizer
    from mammoview.training.train_config import TrainConfig

    torch.manual_seed(0)
    model = create_model("paper_cnn", in_chans=1, widths=[4, 4, 8, 8])
    grid = window_grid(192, model.feature_stride, 32, (64,))
    dcfg = DenseConfig(crop_px=192, batch=8, windows_px=(64,))
    still = AugmentConfig(dihedral=False, affine_p=0.0, contrast=0.0, brightness=0.0, noise=0.0)
    cfg = TrainConfig(lr=0.01, weight_decay=0.0, precision="fp32", dense=dcfg, label_smoothing=0.0, augment=still)
    sampler = DenseSampler(_synthetic_images(), dcfg, grid)
    crops = sampler.sample(8, np.random.default_rng(0))
    opt = make_optimizer(model, cfg)

    def loss_now() -> float:
        model.eval()
        with torch.no_grad():
            return float(dense_loss(dense_logits(model, crops[0], grid), crops[1], crops[2])[0])

    before = loss_now()
    for _ in range(5):
        gen = torch.Generator().manual_seed(0)
        loss, correct, n = dense_train_step(model, opt, crops, [], cfg, grid, gen, 4.0, None)
        assert np.isfinite(loss) and 0 <= correct <= n and n == int((crops[1] >= 0).sum())
    assert loss_now() < before


def test_dense_options_reach_the_config(tmp_path):
    from mammoview.cli import build_parser
    from mammoview.cli.train import config_from_args
    from mammoview.training.train_config import TrainConfig

    base = ["train", "--patches", str(tmp_path), "--out", str(tmp_path / "run")]
    assert config_from_args(build_parser().parse_args(base)).dense is None
    cfg = config_from_args(build_parser().parse_args([*base, "--dense", "--dense-options", '{"crop_px": 256}']))
    assert cfg.dense == DenseConfig(crop_px=256)
    import json

    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg  # config.json round trip
    with pytest.raises(ValueError, match="--dense-options"):
        config_from_args(build_parser().parse_args([*base, "--dense", "--dense-options", '{"crop": 1}']))
