"""Whole-image inference: tiles equal one pass, patch-equivalent maps, probabilities, cancel."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

from mammoview.cad import inference
from mammoview.cad.inference import (
    Cancelled,
    cam_tiled,
    cells_needed,
    pad_to_stride,
    plan_tiles,
)
from mammoview.cad.pipeline import drain
from mammoview.cad.probability_maps import mask_on_cells, patch_equivalent, probability_maps
from mammoview.cad.registry import create_model, list_models


def _net(name: str, **kw) -> nn.Module:
    """A network with non-trivial BatchNorm statistics (so eval-mode BN is not the identity)."""
    torch.manual_seed(0)
    net = create_model(name, **kw).eval()
    gen = torch.Generator().manual_seed(1)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
    return net


def _one_pass(net, data):
    with torch.inference_mode():
        return net.cam(net.forward_features(torch.from_numpy(data)[None]))[0].numpy()


# Narrow widths keep the test fast; the geometry (kernels, strides, padding) is the real one.
NARROW = {
    "paper_cnn": {"widths": (8, 8, 16, 16)},
    "vgg": {"widths": (8, 8, 16, 16), "stem_width": 8},
    "resnet": {"widths": (8, 8, 16, 16), "stem_width": 8},
}


@pytest.mark.parametrize("fused", [False, True], ids=["plain", "fused"])
@pytest.mark.parametrize("name", list_models())
def test_tiles_equal_one_pass(name, fused):
    from mammoview.cad.networks.fuse import fuse_for_inference

    net = _net(name, **NARROW.get(name, {}))
    if fused:  # what the pipeline runs
        net = fuse_for_inference(net)
    data = pad_to_stride(np.random.default_rng(0).normal(size=(1, 300, 250)).astype(np.float32), net.feature_stride)
    cam = drain(cam_tiled(net, data, tile=64))  # 64 px tiles: 5 x 4 tiles over 304 x 256
    ref = _one_pass(net, data)
    assert cam.shape == ref.shape
    np.testing.assert_allclose(cam, ref, rtol=0, atol=1e-5 * np.abs(ref).max())


def test_a_smaller_margin_would_break_the_equality(monkeypatch):
    """The margin is what makes tiles exact (guards the test above against passing trivially)."""
    net = _net("paper_cnn")
    data = pad_to_stride(np.random.default_rng(0).normal(size=(1, 160, 160)).astype(np.float32), 16)
    monkeypatch.setattr(inference, "tile_margin", lambda m: 0)
    cam = drain(cam_tiled(net, data, tile=64))
    assert np.abs(cam - _one_pass(net, data)).max() > 1e-3


def test_pad_to_stride_and_plan():
    d = pad_to_stride(np.arange(2 * 20 * 33, dtype=np.float32).reshape(2, 20, 33), 16)
    assert d.shape == (2, 32, 48) and d[0, 31, 47] == 0.0
    tiles = plan_tiles((64, 96), 16, 32, 16)
    assert len(tiles) == 6
    t = tiles[-1]
    assert (t.y0, t.y1, t.x0, t.x1, t.wy0, t.wy1, t.wx0, t.wx1) == (32, 64, 64, 96, 16, 64, 48, 96)


def test_tiles_without_breast_are_skipped_but_breast_cells_exact():
    net = _net("paper_cnn", widths=(8, 8, 8, 8))
    rng = np.random.default_rng(2)
    data = rng.normal(size=(1, 256, 256)).astype(np.float32)
    mask = np.zeros((256, 256), bool)
    mask[20:90, 10:90] = True  # cells 1-5 x 0-5; + reach 2 -> inside the first 2 x 2 tiles
    needed = cells_needed(mask, 16, (16, 16), 2)
    progress = []
    cam = drain(cam_tiled(net, data, tile=64, needed=needed), progress.append)
    assert progress[-1].total == 4  # 16 tiles, only the 2 x 2 near the breast run
    ref = _one_pass(net, data)
    np.testing.assert_allclose(cam[:, needed], ref[:, needed], atol=1e-5)
    assert not cam[:, ~needed].any()


@pytest.mark.parametrize("window", [1, 3, 4])
def test_patch_equivalent_is_a_centred_window_mean(window):
    cam = np.random.default_rng(0).normal(size=(4, 9, 7)).astype(np.float32)
    pooled, offset = patch_equivalent(cam, window)
    lo = window // 2
    for i in range(pooled.shape[1]):
        for j in range(pooled.shape[2]):
            r0, c0 = max(0, i - lo), max(0, j - lo)
            r1, c1 = min(9, i - lo + window), min(7, j - lo + window)
            np.testing.assert_allclose(pooled[:, i, j], cam[:, r0:r1, c0:c1].mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    # The window of output cell i is centred on cell i (odd) or on the corner before it (even).
    assert offset == (0.0 if window % 2 else -0.5)


def test_probability_maps_follow_the_contract():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, size=(4, 6, 5)).astype(np.float32)
    mask = np.zeros((96, 80), bool)
    mask[:48, :] = True
    p = probability_maps(logits, mask, 16, 0.0)
    assert p.mask[:3].all() and not p.mask[3:].any()
    e = np.exp(logits[:3])
    soft = e / e.sum(0)
    sig = 1 / (1 + np.exp(-logits[3]))
    np.testing.assert_allclose(p.abnormal[:3], 1 - soft[0, :3], rtol=1e-5)
    np.testing.assert_allclose(p.malignant[:3], (1 - soft[0, :3]) * sig[:3], rtol=1e-5)
    np.testing.assert_allclose(p.normal[:3] + p.mass[:3] + p.calcification[:3], 1.0, rtol=1e-5)
    for m in (p.abnormal, p.malignant, p.mass, p.calcification, p.malignant_given_lesion):
        assert m.dtype == np.float32 and m.min() >= 0 and m.max() <= 1
        assert not m[3:].any()
    assert p.cell_center(0, 0) == (8.0, 8.0)


@pytest.mark.parametrize("kind", ["event", "callable"])
def test_cancel_between_tiles(kind):
    net = _net("paper_cnn", widths=(4, 4, 4, 4))
    data = np.zeros((1, 128, 128), np.float32)
    event = threading.Event()
    flag = event if kind == "event" else event.is_set
    gen = cam_tiled(net, data, tile=32, cancel=flag)
    assert next(gen).done == 0
    assert next(gen).done == 1
    event.set()
    with pytest.raises(Cancelled):
        next(gen)


def test_default_tile_and_bbox_planning():
    from mammoview.cad.inference import default_tile, tile_margin

    paper, vgg = create_model("paper_cnn"), create_model("vgg")
    assert tile_margin(paper) == 16 and default_tile(paper) == 512
    assert tile_margin(vgg) == 96 and default_tile(vgg) == 768
    needed = np.zeros((8, 8), bool)
    needed[5, 6] = True
    (t,) = plan_tiles((128, 128), 16, 32, 16, needed)
    assert (t.y0, t.x0) == (80, 96) and (t.wy0, t.wx0, t.wy1, t.wx1) == (64, 80, 112, 128)
    assert plan_tiles((128, 128), 16, 32, 16, np.zeros((8, 8), bool)) == []


@pytest.mark.parametrize("patch_size", [48, 64])  # odd and even windows (3 and 4 cells)
def test_skipping_tiles_does_not_change_breast_maps(patch_size, monkeypatch):
    from mammoview.cad.inference import whole_image_maps
    from mammoview.cad.preprocess import PreparedImage
    from mammoview.io.header_model import PixelSpacing

    net = _net("paper_cnn", widths=(8, 8, 8, 8))
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:300, 0:260]
    mask = ((xx / 150.0) ** 2 + ((yy - 150) / 110.0) ** 2) <= 1.0  # a half-ellipse breast, chest wall left
    mask[20:60, 160:240] = True  # plus a box starting exactly on cell edges: the tightest case for the reach
    data = rng.normal(size=(1, 300, 260)).astype(np.float32)
    prep = PreparedImage(
        data=data,
        mask=mask,
        scale_y=1.0,
        scale_x=1.0,
        stored_shape=(300, 260),
        spacing=PixelSpacing(0.3, 0.3, "test"),
        pixel_size_mm=0.3,
    )
    steps = []
    skipped = drain(whole_image_maps(net, prep, patch_size, tile=16), steps.append)
    monkeypatch.setattr(inference, "cells_needed", lambda *a: None)  # no skipping
    full_steps = []
    full = drain(whole_image_maps(net, prep, patch_size, tile=16), full_steps.append)
    assert steps[-1].total < full_steps[-1].total  # tiles were skipped...
    for name, m in skipped.named().items():  # ...and no breast value changed
        np.testing.assert_allclose(m, full.named()[name], rtol=0, atol=1e-6, err_msg=name)
    assert skipped.mask.sum() > 20


def test_flip_tta_averages_the_mirror_images_cam():
    from mammoview.cad.inference import whole_image_maps
    from mammoview.cad.preprocess import PreparedImage
    from mammoview.io.header_model import PixelSpacing

    net = _net("paper_cnn", widths=(8, 8, 8, 8))
    s = net.feature_stride
    h, w = 12 * s, 10 * s
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:h, 0:w]
    mask = ((xx / (0.8 * w)) ** 2 + ((yy - 0.4 * h) / (0.45 * h)) ** 2) <= 1.0  # not mirror-symmetric
    data = rng.normal(size=(1, h, w)).astype(np.float32)

    def prepared(d, m):
        return PreparedImage(
            data=np.ascontiguousarray(d),
            mask=np.ascontiguousarray(m),
            scale_y=1.0,
            scale_x=1.0,
            stored_shape=(h, w),
            spacing=PixelSpacing(0.3, 0.3, "test"),
            pixel_size_mm=0.3,
        )

    steps = []
    tta = drain(whole_image_maps(net, prepared(data, mask), 48, tile=32, flip=True), steps.append)
    plain = drain(whole_image_maps(net, prepared(data, mask), 48, tile=32))
    # the definition: mean of the CAM logits of the image and of its mirror image, mirrored back
    mirrored = _one_pass(net, np.ascontiguousarray(data[:, :, ::-1]))[:, :, ::-1]
    cam = 0.5 * (_one_pass(net, data) + mirrored)
    maps, offset = patch_equivalent(cam.astype(np.float32), 3)
    expect = probability_maps(maps, mask, s, offset)
    for name, m in tta.named().items():
        np.testing.assert_allclose(m, expect.named()[name], rtol=0, atol=1e-5, err_msg=name)
    assert np.abs(tta.abnormal - plain.abnormal).max() > 1e-4  # the mirror pass changed something (net ~flat)
    # the CAM's own cells (no window) ride along for the finding centres: abnormal log-odds, -inf off the breast
    cells = mask_on_cells(mask, cam.shape[1:], s, 0.0)
    want = np.where(cells, np.logaddexp(cam[1], cam[2]) - cam[0], -np.inf)
    np.testing.assert_allclose(tta.cell_logit, want, rtol=0, atol=1e-5)
    assert tta.window == 3 and np.isinf(tta.cell_logit[~cells]).all()
    # mirroring the input mirrors the result
    other = drain(whole_image_maps(net, prepared(data[:, :, ::-1], mask[:, ::-1]), 48, tile=32, flip=True))
    np.testing.assert_allclose(other.abnormal[:, ::-1], tta.abnormal, rtol=0, atol=1e-5)
    # one progress scale over both passes
    assert [p.done for p in steps] == sorted(p.done for p in steps)
    assert len({p.total for p in steps}) == 1 and steps[-1].done == steps[-1].total


def test_a_mammogram_stored_mirrored_reads_as_its_mirror_image():
    """Width not a multiple of the stride: the grid is anchored at the chest wall on either side.

    Padding always at the right put a left chest wall on a cell boundary and a right one in mid-cell, so
    the same breast stored mirrored was cut into other cells and read differently (the shipped detector's
    top finding moved; tests/cad/test_mirror_invariance.py).
    """
    from mammoview.cad.findings import MapGeometry, findings_from_maps, score_near
    from mammoview.cad.inference import grid_origin_x, whole_image_maps
    from mammoview.cad.malignancy import MalignancyMap
    from mammoview.cad.preprocess import PreparedImage
    from mammoview.io.header_model import PixelSpacing

    net = _net("paper_cnn", widths=(8, 8, 8, 8))
    s = net.feature_stride
    h, w = 12 * s, 10 * s - 5
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:h, 0:w]
    mask = ((xx / (0.8 * w)) ** 2 + ((yy - 0.4 * h) / (0.45 * h)) ** 2) <= 1.0  # chest wall on the left
    data = (rng.normal(size=(1, h, w)) * mask).astype(np.float32)

    def prepared(d, m):
        d, m = np.ascontiguousarray(d), np.ascontiguousarray(m)
        sp = PixelSpacing(0.3, 0.3, "test")
        return PreparedImage(
            data=d, mask=m, scale_y=1.0, scale_x=1.0, stored_shape=(h, w), spacing=sp, pixel_size_mm=0.3
        )

    assert grid_origin_x(mask, s) == 0 and grid_origin_x(mask[:, ::-1], s) == -5
    a = drain(whole_image_maps(net, prepared(data, mask), 48, tile=32, flip=True))
    b = drain(whole_image_maps(net, prepared(data[:, :, ::-1], mask[:, ::-1]), 48, tile=32, flip=True))
    assert a.origin_x == 0 and b.origin_x == -5
    for name, m in a.named().items():
        np.testing.assert_allclose(b.named()[name][:, ::-1], m, rtol=0, atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(b.mask[:, ::-1], a.mask)
    # every cell centre is the mirror image of its twin's (x -> w - x)
    rows, cols = a.abnormal.shape
    for i, j in [(0, 0), (3, 2), (rows - 1, cols - 1)]:
        xa, ya = a.cell_center(i, j)
        xb, yb = b.cell_center(i, cols - 1 - j)
        assert (xb, yb) == pytest.approx((w - xa, ya))
    geom = MapGeometry(1.0, 1.0, (h, w), 0.3)
    fa = findings_from_maps(a, geom, 0.0, max_findings=3)
    fb = findings_from_maps(b, geom, 0.0, max_findings=3)
    assert len(fa) == len(fb) == 3
    for p, q in zip(fa, fb, strict=True):
        assert q.score == pytest.approx(p.score, abs=1e-5)
        assert q.center == pytest.approx((w - p.center[0], p.center[1]), abs=1e-3)
        assert q.bbox == pytest.approx((w - p.bbox[2], p.bbox[1], w - p.bbox[0], p.bbox[3]), abs=1e-3)
        # the other readers of the grid find the same cells at the mirrored point
        assert score_near(b, *q.center, radius=0) == pytest.approx(score_near(a, *p.center, radius=0), abs=1e-5)
        ma, mb = MalignancyMap.of(a, prepared(data, mask)), MalignancyMap.of(b, prepared(data, mask))
        assert mb.at(*q.center) == pytest.approx(ma.at(*p.center), abs=1e-5)


def test_several_map_windows_average_their_logits():
    """map_windows_px (64 and 32 px = 4 and 2 cells): the mean of the two patch-equivalent logit maps."""
    from mammoview.cad.inference import whole_image_maps
    from mammoview.cad.preprocess import PreparedImage
    from mammoview.cad.probability_maps import map_windows
    from mammoview.io.header_model import PixelSpacing

    net = _net("paper_cnn", widths=(8, 8, 8, 8))
    s = net.feature_stride
    h, w = 12 * s, 10 * s
    rng = np.random.default_rng(7)
    data = rng.normal(size=(1, h, w)).astype(np.float32)
    mask = np.zeros((h, w), bool)
    mask[8:-8, : w - 20] = True
    prep = PreparedImage(
        data=data,
        mask=mask,
        scale_y=1.0,
        scale_x=1.0,
        stored_shape=(h, w),
        spacing=PixelSpacing(0.3, 0.3, "test"),
        pixel_size_mm=0.3,
    )
    got = drain(whole_image_maps(net, prep, 64, tile=32, windows_px=(64, 32)))
    cam = _one_pass(net, data)
    (big, off), (small, off2) = patch_equivalent(cam, 4), patch_equivalent(cam, 2)
    assert off == off2 == -0.5 and big.shape == small.shape
    expect = probability_maps(0.5 * (big + small), mask, s, off)
    for name, m in got.named().items():
        np.testing.assert_allclose(m, expect.named()[name], rtol=0, atol=1e-5, err_msg=name)
    only_patch = drain(whole_image_maps(net, prep, 64, tile=32))
    assert np.abs(only_patch.abnormal - got.abnormal).max() > 1e-4
    assert got.window == 4  # finding centres still search the patch window
    assert map_windows(96, 16) == (6,) and map_windows(96, 16, (96, 64)) == (6, 4)
    with pytest.raises(ValueError, match="all even or all odd"):
        map_windows(96, 16, (96, 48))


@pytest.mark.parametrize("offset", [0.0, -0.5])
def test_no_breast_cell_is_centred_on_the_image_border(offset):
    """An even window's first row/column is centred on the top/left border: not a breast cell.

    Before this rule those half-outside cells gave many false positives, on the top and left
    border only (left breasts' chest wall).
    """
    from mammoview.cad.probability_maps import mask_on_cells

    mask = np.ones((96, 80), bool)  # breast everywhere, touching all four borders
    grid = (7, 6) if offset else (6, 5)
    cells = mask_on_cells(mask, grid, 16, offset)
    centres_y = (np.arange(grid[0]) + 0.5 + offset) * 16
    centres_x = (np.arange(grid[1]) + 0.5 + offset) * 16
    inside = ((centres_y > 0) & (centres_y < 96))[:, None] & ((centres_x > 0) & (centres_x < 80))[None, :]
    np.testing.assert_array_equal(cells, inside)
    if offset:  # left/right and top/bottom treated alike: the kept cells are mirror-symmetric
        assert not cells[0].any() and not cells[:, 0].any() and not cells[-1].any() and not cells[:, -1].any()
        np.testing.assert_array_equal(cells, cells[::-1, ::-1])
    else:
        assert cells.all()


def test_map_scales_average_the_cam_of_the_zoomed_image_read_on_the_base_grid():
    """scales (1, 2): the mean of the image's CAM and of the twice-enlarged image's, read at the base cells' centres."""
    from mammoview.cad.inference import _onto_grid, whole_image_maps
    from mammoview.cad.preprocess import PreparedImage
    from mammoview.cad.resample import resample
    from mammoview.io.header_model import PixelSpacing

    # reading a zoomed grid: base cell j (centre (j + 0.5) s) is zoomed cell (j + 0.5) z - 0.5
    ramp = np.tile(np.arange(20, dtype=np.float32), (1, 6, 1))
    np.testing.assert_allclose(_onto_grid(ramp, 2.0, (3, 5))[0, 0], [0.5, 2.5, 4.5, 6.5, 8.5])
    np.testing.assert_array_equal(_onto_grid(ramp, 1.0, (6, 20)), ramp)
    # grids whose left edges lie left of their images (chest wall on the right), 4 px cells: base cell j is
    # centred at 4 j + 2 - 2 px, 8 j zoomed px, the zoomed grid starting at -6: zoomed cell (8 j + 6) / 4 - 0.5
    np.testing.assert_allclose(_onto_grid(ramp, 2.0, (3, 3), 4, -2, -6)[0, 0], [1.0, 3.0, 5.0])

    net = _net("paper_cnn", widths=(8, 8, 8, 8))
    s = net.feature_stride
    h, w = 8 * s, 6 * s
    data = np.random.default_rng(9).normal(size=(1, h, w)).astype(np.float32)
    mask = np.ones((h, w), bool)
    prep = PreparedImage(data=data, mask=mask, scale_y=1.0, scale_x=1.0, stored_shape=(h, w),
                         spacing=PixelSpacing(0.3, 0.3, "test"), pixel_size_mm=0.3)  # fmt: skip
    plain = drain(whole_image_maps(net, prep, 48, tile=32))
    same = drain(whole_image_maps(net, prep, 48, tile=32, scales=(1.0,)))
    np.testing.assert_array_equal(same.abnormal, plain.abnormal)
    steps = []
    got = drain(whole_image_maps(net, prep, 48, tile=32, scales=(1.0, 2.0)), steps.append)
    big = resample(data[0], (1.0, 1.0), 0.5)[None]
    cam = 0.5 * (_one_pass(net, data) + _onto_grid(_one_pass(net, big), 2.0, (h // s, w // s)))
    maps, offset = patch_equivalent(cam.astype(np.float32), 3)
    expect = probability_maps(maps, mask, s, offset)
    for name, m in got.named().items():
        np.testing.assert_allclose(m, expect.named()[name], rtol=0, atol=1e-5, err_msg=name)
    assert got.abnormal.shape == plain.abnormal.shape and np.abs(got.abnormal - plain.abnormal).max() > 1e-4
    assert [p.done for p in steps] == sorted(p.done for p in steps) and steps[-1].done == steps[-1].total
    with pytest.raises(ValueError, match="map scales"):
        drain(whole_image_maps(net, prep, 48, scales=(1.0, 8.0)))


def test_map_scales_anchor_the_zoomed_grid_at_a_right_chest_wall_when_the_width_is_a_multiple_of_the_stride():
    """The base grid needs no padding (origin 0) but the zoomed image's width is not a multiple of the stride.

    ``_zoomed`` was told the chest wall is on the right by ``origin != 0``, so with the base width a multiple of
    the stride a right chest wall's zoomed copy was padded on the left-chest-wall rule (at its right, beside the
    chest wall) and the mirrored copy read differently with ``scales``.
    """
    from mammoview.cad.inference import grid_origin_x, whole_image_maps
    from mammoview.cad.preprocess import PreparedImage
    from mammoview.io.header_model import PixelSpacing

    net = _net("paper_cnn", widths=(8, 8, 8, 8))
    s = net.feature_stride
    h, w = 12 * s, 10 * s  # 1.25 x 10 s = 12.5 s: the zoomed width needs padding
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:h, 0:w]
    mask = ((xx / (0.8 * w)) ** 2 + ((yy - 0.4 * h) / (0.45 * h)) ** 2) <= 1.0  # chest wall on the left
    data = (rng.normal(size=(1, h, w)) * mask).astype(np.float32)

    def prepared(d, m):
        sp = PixelSpacing(0.3, 0.3, "test")
        return PreparedImage(data=np.ascontiguousarray(d), mask=np.ascontiguousarray(m), scale_y=1.0, scale_x=1.0,
                             stored_shape=(h, w), spacing=sp, pixel_size_mm=0.3)  # fmt: skip

    assert grid_origin_x(mask, s) == grid_origin_x(mask[:, ::-1], s) == 0
    a = drain(whole_image_maps(net, prepared(data, mask), 48, tile=32, flip=True, scales=(1.0, 1.25)))
    b = drain(whole_image_maps(net, prepared(data[:, :, ::-1], mask[:, ::-1]), 48, tile=32, flip=True,
                               scales=(1.0, 1.25)))  # fmt: skip
    for name, m in a.named().items():
        np.testing.assert_allclose(b.named()[name][:, ::-1], m, rtol=0, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("offset", [0.0, -0.5])
def test_the_breast_cells_of_a_mirrored_copy_are_the_mirror_image_of_the_originals(offset):
    """With an even stride every cell centre lies on a pixel boundary: sampling the pixel right of (below) it
    made a skin-line cell a breast cell in one orientation and not in the other (the demo R CC's maps, from
    prepared images that are exact mirror images, differed by 0.42 in p(abnormal) at three such cells)."""
    from mammoview.cad.inference import grid_origin_x

    s, h, w = 16, 12 * 16, 10 * 16 - 5
    yy, xx = np.mgrid[0:h, 0:w]
    mask = ((xx / (0.8 * w)) ** 2 + ((yy - 0.4 * h) / (0.45 * h)) ** 2) <= 1.0  # chest wall on the left
    mask &= np.random.default_rng(3).random((h, w)) > 0.02  # a ragged skin line
    mask[:, :40] = True
    extra = 1 if offset else 0  # an even window's map has one more row and column
    grid = (h // s + extra, -(-w // s) + extra)
    a = mask_on_cells(mask, grid, s, offset, grid_origin_x(mask, s))
    b = mask_on_cells(mask[:, ::-1], grid, s, offset, grid_origin_x(mask[:, ::-1], s))
    assert grid_origin_x(mask[:, ::-1], s) == -5 and a.any()
    np.testing.assert_array_equal(b[:, ::-1], a)
