"""The network contract: registry, shapes, CAM == patch logits, geometry (docs/cad-design.md)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mammoview.cad.networks import CadNet, chain_geometry, count_parameters
from mammoview.cad.registry import OUTPUTS, create_model, is_model, list_models, register_model


def test_builtin_models_registered():
    assert {"paper_cnn", "vgg", "resnet"} <= set(list_models())
    assert is_model("paper_cnn") and not is_model("alexnet")


def test_duplicate_name_raises():
    with pytest.raises(ValueError, match="already registered"):

        @register_model(name="paper_cnn")
        def _again(in_chans: int = 1, num_outputs: int = 4) -> nn.Module:
            return nn.Identity()


def test_unknown_model_names_the_registered_ones():
    with pytest.raises(KeyError, match="paper_cnn"):
        create_model("no-such-net")


def test_paper_cnn_is_table_1():
    m = create_model("paper_cnn")
    convs = [x for x in m.modules() if isinstance(x, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128, 128]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(x, nn.MaxPool2d) for x in m.modules()) == 4
    assert isinstance(m.head, nn.Linear) and m.head.out_features == len(OUTPUTS)


@pytest.mark.parametrize("name", list_models())
def test_cpu_trainable_size(name):
    n = count_parameters(create_model(name))
    assert 1e5 <= n <= 3e6, n


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("in_chans", [1, 2])
def test_shapes_cam_and_logits(name, in_chans):
    torch.manual_seed(0)
    m = create_model(name, in_chans=in_chans).eval()
    assert isinstance(m, CadNet)
    s = m.feature_stride
    assert s in (16, 32)
    x = torch.randn(2, in_chans, 4 * s, 3 * s)
    with torch.no_grad():
        f = m.forward_features(x)
        logits = m(x)
        cam = m.cam(f)
    assert f.shape == (2, m.num_features, 4, 3)
    assert logits.shape == (2, len(OUTPUTS))
    assert cam.shape == (2, len(OUTPUTS), 4, 3)
    assert torch.isfinite(logits).all() and torch.isfinite(cam).all()
    # CAM is logits per cell, so its spatial mean is the patch logit (linearity of GAP + Linear).
    torch.testing.assert_close(cam.mean(dim=(2, 3)), logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(m.forward_head(f), logits)


@pytest.mark.parametrize("name", list_models())
def test_receptive_field_and_alignment(name):
    """A feature cell depends on input only within its stated receptive field, centred on its block."""
    torch.manual_seed(0)
    m = create_model(name).eval()
    s, rf = m.feature_stride, m.receptive_field
    size = (rf // s + 4) * s
    x = torch.randn(1, 1, size, size, requires_grad=True)
    f = m.forward_features(x)
    i = f.shape[2] // 2
    f[0, :, i, i].sum().backward()
    assert x.grad is not None
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    lo, hi = int(rows.min()), int(rows.max()) + 1
    assert hi - lo <= rf
    centre = (i + 0.5) * s
    assert lo >= centre - rf / 2 and hi <= centre + rf / 2


def test_chain_geometry():
    g = chain_geometry([(3, 1, 1), (2, 2, 0)] * 4)
    assert (g.receptive_field, g.stride, g.center0) == (46, 16, 8.0)
    with pytest.raises(ValueError, match="centred"):
        CadNet(nn.Identity(), chain_geometry([(3, 2, 1)]), 4, 1, 4)


@pytest.mark.parametrize("name", list_models())
def test_fused_copy_equals_the_network(name):
    from mammoview.cad.networks.fuse import fuse_for_inference

    torch.manual_seed(0)
    m = create_model(name).eval()
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):  # non-trivial statistics, else folding is the identity
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)
    fused = fuse_for_inference(m)
    assert not any(isinstance(x, nn.BatchNorm2d) for x in fused.modules())
    assert any(isinstance(x, nn.BatchNorm2d) for x in m.modules())  # the original is untouched
    x = torch.randn(1, 1, 96, 80)
    with torch.no_grad():
        ref, out = m.cam(m.forward_features(x)), fused.cam(fused.forward_features(x))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))
    assert fused.feature_stride == m.feature_stride and fused.receptive_field == m.receptive_field


def test_forward_context_is_the_whole_image_cam_of_the_centre():
    """A patch trained with context sees exactly the feature cells a whole-image pass computes there.

    Exact for the paper CNN: its receptive field (46 px) is within twice the 32 px context.
    """
    torch.manual_seed(0)
    net = create_model("paper_cnn").eval()
    stride, context, patch = net.feature_stride, 32, 96
    big = torch.randn(1, 1, 320, 320)
    at = 96  # stride-aligned origin of the centre patch, away from the image border
    crop = big[:, :, at - context : at + patch + context, at - context : at + patch + context]
    with torch.no_grad():
        c0, c1 = at // stride, (at + patch) // stride
        cells = net.forward_features(big)[:, :, c0:c1, c0:c1]
        whole = net.forward_head(cells)
        patched = net.forward_context(crop, context)
        bare = net(crop[:, :, context:-context, context:-context])
    assert torch.allclose(patched, whole, atol=1e-5), (patched - whole).abs().max()
    assert not torch.allclose(bare, whole, atol=1e-3), "a bare patch should differ (zero padding at its edges)"
    with pytest.raises(ValueError, match="multiple of the stride"):
        net.forward_context(crop, context + 1)


def test_ensemble_is_the_mean_of_its_members():
    """Logits and CAMs of the ensemble equal the mean of its members' (not a retrained head)."""
    from mammoview.cad.networks.ensemble import EnsembleNet

    torch.manual_seed(0)
    members = [create_model("vgg", widths=(8, 8, 16, 16)).eval() for _ in range(3)]
    for m in members:  # different, non-trivial heads
        m.head.bias.data.uniform_(-1.0, 1.0)
    ens = create_model("ensemble", arch="vgg", n=3, member_kwargs={"widths": (8, 8, 16, 16)})
    assert isinstance(ens, EnsembleNet)
    ens.set_members(members).eval()
    assert ens.feature_stride == members[0].feature_stride and ens.receptive_field == members[0].receptive_field
    x = torch.randn(2, 1, 128, 96)
    with torch.no_grad():
        want_logits = torch.stack([m(x) for m in members]).mean(0)
        want_cam = torch.stack([m.cam(m.forward_features(x)) for m in members]).mean(0)
        got_cam = ens.cam(ens.forward_features(x))
        torch.testing.assert_close(ens(x), want_logits, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(got_cam, want_cam, rtol=1e-5, atol=1e-5)
        # and it is not the same as any one member
        assert not torch.allclose(ens(x), members[0](x), atol=1e-3)
    with pytest.raises(ValueError, match="given 2"):
        ens.set_members(members[:2])
    with pytest.raises(ValueError, match="non-ensemble"):
        create_model("ensemble", arch="ensemble")
