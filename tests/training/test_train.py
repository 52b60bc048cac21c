"""Training pieces: augmentation, loss, one step lowers the loss, checkpoint save + resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mammoview.training.augment import AugmentConfig, augment, dihedral
from mammoview.training.checkpoint import load_checkpoint, save_checkpoint
from mammoview.training.losses import cad_loss, class_sampling_weights
from mammoview.training.steps import lr_at, make_optimizer, train_precision, train_step
from mammoview.training.train_config import TrainConfig


class TinyNet(nn.Module):
    def __init__(self, in_chans: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(in_chans, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


def _batch(n: int = 16, size: int = 16) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    x = torch.randn(n, 1, size, size, generator=g) * 0.3 + y.view(-1, 1, 1, 1).float()
    mal = torch.full((n,), float("nan"))
    mal[y > 0] = (torch.arange(n)[y > 0] % 2).float()
    return x, y, mal


def test_augment_keeps_shapes_and_range():
    x, _y, _ = _batch()
    g = torch.Generator().manual_seed(1)
    out = augment(x, g, AugmentConfig(), clip=1.5)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert float(out.abs().max()) <= 1.5
    # the dihedral group keeps every pixel value of a patch
    d = dihedral(x, torch.Generator().manual_seed(2))
    assert torch.equal(torch.sort(d.flatten(1), 1)[0], torch.sort(x.flatten(1), 1)[0])


def test_aspect_augmentation_stretches_columns_against_rows():
    """A disc comes out as an ellipse whose width over height lies in [1 / (1 + a), 1 + a], its area kept."""
    from mammoview.training.augment import random_affine

    size = 64
    yy, xx = torch.meshgrid(torch.arange(size) - 31.5, torch.arange(size) - 31.5, indexing="ij")
    disc = ((xx**2 + yy**2) <= 12**2).float().expand(200, 1, size, size).clone()
    cfg = AugmentConfig(dihedral=False, affine_p=1.0, degrees=0.0, scale=0.0, translate=0.0, aspect=0.6)
    out = random_affine(disc, torch.Generator().manual_seed(0), cfg) > 0.5
    width = out.any(dim=2).sum(dim=-1).flatten().float()  # columns the ellipse covers
    height = out.any(dim=3).sum(dim=-1).flatten().float()
    ratio = width / height
    assert float(ratio.min()) >= 1 / 1.6 - 0.1 and float(ratio.max()) <= 1.6 + 0.1
    assert float(ratio.min()) < 0.75 and float(ratio.max()) > 1.35  # both directions are drawn
    area = out.flatten(1).sum(1).float()
    assert torch.allclose(area, torch.full_like(area, float(disc[0].sum())), rtol=0.1)
    plain = AugmentConfig(dihedral=False, affine_p=1.0, degrees=0.0, scale=0.0, translate=0.0)
    assert torch.equal(random_affine(disc, torch.Generator().manual_seed(0), plain), disc)  # aspect 0: identity


def test_augment_is_reproducible():
    x, _, _ = _batch()
    a = augment(x, torch.Generator().manual_seed(5), AugmentConfig())
    b = augment(x, torch.Generator().manual_seed(5), AugmentConfig())
    assert torch.equal(a, b)


def test_loss_masks_unknown_pathology():
    _x, y, mal = _batch()
    logits = torch.randn(len(y), 4, requires_grad=True)
    loss, parts = cad_loss(logits, y, mal)
    loss.backward()
    assert parts["n_malignant_known"] == int((y > 0).sum())
    assert torch.all(logits.grad[y == 0, 3] == 0)  # normal patches never train the malignancy logit
    mal[:] = float("nan")
    _, parts = cad_loss(logits, y, mal)
    assert parts["bce"] == 0.0


def test_class_sampling_weights_square_root():
    y = np.array([0] * 100 + [1] * 25 + [2] * 4)
    w = class_sampling_weights(y, 0.5)
    per_class = [w[y == c].sum() for c in range(3)]
    assert np.allclose(np.array(per_class) / per_class[0], [1.0, 0.5, 0.2])
    assert np.isclose(w.sum(), 1.0)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_one_training_step_lowers_the_loss(precision):
    """Both arithmetics learn; bf16 autocast leaves the weights (the optimiser's state) float32."""
    torch.manual_seed(0)
    model = TinyNet()
    cfg = TrainConfig(
        lr=0.05,
        weight_decay=0.0,
        precision=precision,
        augment=AugmentConfig(dihedral=False, affine_p=0.0, contrast=0.0, brightness=0.0, noise=0.0),
    )
    opt = make_optimizer(model, cfg)
    batch = _batch()

    def loss_now() -> float:
        model.eval()
        with torch.no_grad():
            return float(cad_loss(model(batch[0]), batch[1], batch[2])[0])

    before = loss_now()
    for _ in range(3):
        loss_sum, _, n = train_step(model, opt, [batch], cfg, torch.Generator().manual_seed(0), 4.0, None)
        assert np.isfinite(loss_sum) and n == len(batch[1])
    assert loss_now() < before
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_training_precision_resolution(monkeypatch):
    import mammoview.cad.device as device

    assert train_precision("fp32") == "fp32" and train_precision("bf16") == "bf16"
    monkeypatch.setattr(device, "native_bf16", lambda dev: True)
    assert train_precision("auto") == "bf16"
    monkeypatch.setattr(device, "native_bf16", lambda dev: False)
    assert train_precision("auto") == "fp32"
    with pytest.raises(ValueError, match="precision"):
        train_precision("fp8")
    # a config saved before the option existed was trained in float32, and says so when read back
    old = {k: v for k, v in TrainConfig().to_dict().items() if k != "precision"}
    assert TrainConfig.from_dict(old).precision == "fp32"
    assert TrainConfig().precision == "auto"


def test_lr_schedule():
    assert lr_at(0, 100, 10, 1.0) == pytest.approx(0.1)
    assert lr_at(10, 100, 10, 1.0) == pytest.approx(1.0)
    assert lr_at(100, 100, 10, 1.0) == pytest.approx(0.01)
    # a wall-clock budget that runs out first moves the cosine on: half the time -> half-way down
    assert lr_at(20, 100, 10, 1.0, time_frac=0.5) == pytest.approx(0.01 + 0.99 * 0.5)
    assert lr_at(20, 100, 10, 1.0, time_frac=1.0) == pytest.approx(0.01)
    assert lr_at(90, 100, 10, 1.0, time_frac=0.1) == lr_at(90, 100, 10, 1.0)  # steps ahead of time: steps rule


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_checkpoint_save_and_resume_restores_state(tmp_path, optimizer):
    cfg = TrainConfig(optimizer=optimizer, lr=0.01)
    torch.manual_seed(0)
    model = TinyNet()
    opt = make_optimizer(model, cfg)
    gen = torch.Generator().manual_seed(3)
    np_rng = np.random.default_rng(7)
    for _ in range(2):
        train_step(model, opt, [_batch()], cfg, gen, 4.0, None)
    save_checkpoint(tmp_path, "last", model, opt, np_rng=np_rng, torch_gen=gen, extra={"epoch": 4, "history": [1]})
    # what the uninterrupted run does next
    expect_np = np_rng.random()
    train_step(model, opt, [_batch()], cfg, gen, 4.0, None)
    expect = {k: v.clone() for k, v in model.state_dict().items()}

    model2 = TinyNet()
    opt2 = make_optimizer(model2, cfg)
    gen2, np_rng2 = torch.Generator(), np.random.default_rng(0)
    doc = load_checkpoint(tmp_path, "last", model2, opt2, np_rng=np_rng2, torch_gen=gen2)
    assert doc["epoch"] == 4 and doc["history"] == [1]
    assert np_rng2.random() == expect_np
    train_step(model2, opt2, [_batch()], cfg, gen2, 4.0, None)
    for k, v in model2.state_dict().items():
        assert torch.allclose(v, expect[k], atol=1e-6), k
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob("*.pt"))


def test_resume_without_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"last\.json"):
        load_checkpoint(tmp_path, "last", TinyNet())


def test_weight_average_decay_ramps_up_over_the_first_updates():
    from mammoview.training.steps import make_ema
    from mammoview.training.train_config import TrainConfig

    torch.manual_seed(0)
    model = TinyNet()
    ema = make_ema(model, 0.998)  # warmup by default
    ema.update_parameters(model)  # copies
    expected = model.head.weight.detach().clone()
    for n in range(1, 6):
        with torch.no_grad():
            model.head.weight.add_(1.0)
            model.features[1].num_batches_tracked += 1
        ema.update_parameters(model)
        d = min(0.998, (1 + n) / (10 + n))  # ~0.18, 0.25, ...: the first weights wash out quickly
        expected = d * expected + (1 - d) * model.head.weight.detach()
        torch.testing.assert_close(ema.module.head.weight, expected)
    assert int(ema.module.features[1].num_batches_tracked) == int(model.features[1].num_batches_tracked)
    assert TrainConfig().ema_warmup and not TrainConfig.from_dict({"ema": 0.998}).ema_warmup  # old runs: fixed


def test_weight_average_follows_the_model_and_resumes(tmp_path):
    from mammoview.training.steps import make_ema

    assert make_ema(TinyNet(), 0.0) is None
    with pytest.raises(ValueError, match="decay"):
        make_ema(TinyNet(), 1.0)
    cfg = TrainConfig(lr=0.05, weight_decay=0.0)
    torch.manual_seed(0)
    model = TinyNet()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    ema = make_ema(model, 0.5, warmup=False)
    opt = make_optimizer(model, cfg)
    gen = torch.Generator().manual_seed(0)
    ema.update_parameters(model)  # the first update copies
    train_step(model, opt, [_batch()], cfg, gen, 4.0, None)
    ema.update_parameters(model)
    w, w0, w_ema = model.head.weight, start["head.weight"], ema.module.head.weight
    torch.testing.assert_close(w_ema, 0.5 * w0 + 0.5 * w.detach())
    # BatchNorm statistics are averaged too (use_buffers)
    rm = ema.module.features[1].running_mean
    torch.testing.assert_close(rm, 0.5 * start["features.1.running_mean"] + 0.5 * model.features[1].running_mean)

    save_checkpoint(tmp_path, "last", model, opt, ema=ema, extra={"epoch": 0})
    model2 = TinyNet()
    ema2 = make_ema(model2, 0.5, warmup=False)
    load_checkpoint(tmp_path, "last", model2, make_optimizer(model2, cfg), ema=ema2)
    torch.testing.assert_close(ema2.module.head.weight, w_ema)
    assert int(ema2.n_averaged) == 2
    with pytest.raises(FileNotFoundError, match="without a weight average"):
        save_checkpoint(tmp_path / "plain", "last", model, opt, extra={"epoch": 0})
        load_checkpoint(tmp_path / "plain", "last", TinyNet(), ema=make_ema(TinyNet(), 0.5))


def test_init_from_names_a_missing_run(tmp_path):
    from mammoview.training.checkpoint import init_weights_path

    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"best\.safetensors"):
        init_weights_path(str(tmp_path / "run"))
    (tmp_path / "run" / "checkpoints" / "best.safetensors").write_bytes(b"x")
    assert init_weights_path(str(tmp_path / "run")).name == "best.safetensors"
    assert init_weights_path(str(tmp_path / "run" / "checkpoints" / "best.safetensors")).is_file()


def test_train_cli_options_reach_the_config(tmp_path):
    from mammoview.cli import build_parser
    from mammoview.cli.train import config_from_args

    base = ["train", "--patches", str(tmp_path), "--out", str(tmp_path / "run")]
    args = build_parser().parse_args(
        [*base, "--augment", '{"scale": 0.2, "noise": 0.05}', "--ema", "0.998", "--init-from", "runs/x"]
    )
    cfg = config_from_args(args)
    assert cfg.augment.scale == 0.2 and cfg.augment.noise == 0.05 and cfg.augment.contrast == AugmentConfig().contrast
    assert cfg.ema == 0.998 and cfg.init_from == "runs/x" and cfg.precision == "auto"
    assert config_from_args(build_parser().parse_args([*base, "--precision", "fp32"])).precision == "fp32"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg  # what config.json holds comes back the same
    with pytest.raises(ValueError, match="--augment"):
        config_from_args(build_parser().parse_args([*base, "--augment", '{"zoom": 2}']))


def _saved(folder, seed: int):  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    model = TinyNet()
    opt = make_optimizer(model, TrainConfig())
    train_step(model, opt, [_batch()], TrainConfig(), torch.Generator().manual_seed(seed), 4.0, None)
    save_checkpoint(folder, "last", model, opt, extra={"epoch": seed})
    return model


def test_a_save_killed_while_writing_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    """The weights were renamed into place before the optimizer state was written: a save killed (or out of disk)
    in between left new weights beside the previous optimizer state, and a resume took them together."""
    from mammoview.training import checkpoint

    first = _saved(tmp_path, 1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real = checkpoint.save_file

    def dies_on_the_state(tensors, path, metadata=None):  # type: ignore[no-untyped-def]
        if "rng.torch" in tensors:  # the optimizer state: the weights file is already written
            raise OSError(28, "No space left on device")
        real(tensors, path, metadata=metadata)

    monkeypatch.setattr(checkpoint, "save_file", dies_on_the_state)
    with pytest.raises(OSError):
        _saved(tmp_path, 2)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # untouched, no temporary file left
    model = TinyNet()
    assert load_checkpoint(tmp_path, "last", model, make_optimizer(model, TrainConfig()))["epoch"] == 1
    for k, v in model.state_dict().items():
        assert torch.equal(v, first.state_dict()[k]), k


def test_checkpoint_files_of_two_saves_are_refused_not_resumed_together(tmp_path):
    """A save killed between two renames: new weights beside the previous save's optimizer state and JSON."""
    _saved(tmp_path, 1)
    old = (tmp_path / "last_state.safetensors").read_bytes(), (tmp_path / "last.json").read_text()
    _saved(tmp_path, 2)
    (tmp_path / "last_state.safetensors").write_bytes(old[0])
    (tmp_path / "last.json").write_text(old[1])
    model = TinyNet()
    with pytest.raises(ValueError, match=r"last\.safetensors belongs to another save than .*last\.json"):
        load_checkpoint(tmp_path, "last", model, make_optimizer(model, TrainConfig()))
