"""Extraction geometry: lesion patches centred within the jitter, normal patches clear of lesions, stretch undone."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import resize

from mammoview.cad.preprocess import PreprocessConfig, prepare
from mammoview.io.header_model import PixelSpacing
from mammoview.training import geometry
from mammoview.training.patches import ExtractConfig, image_patches
from mammoview.training.sources import CBIS_COL_MM, CBIS_ROW_MM, Lesion, SourceImage
from tests.synthetic import Blob, synthetic_breast

P = 32


@pytest.mark.parametrize("box", [(50, 60, 58, 66), (40, 40, 100, 120), (10, 10, 40, 12)])
def test_lesion_centres_within_jitter(box, rng):
    centres = geometry.lesion_centres(box, P, 50, 0.25, rng)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    assert centres[0].tolist() == [cx, cy]
    jx, jy = geometry.jitter_limits(box, P, 0.25)
    assert jx <= 0.25 * P and jy <= 0.25 * P
    assert np.all(np.abs(centres[:, 0] - cx) <= jx + 1e-9)
    assert np.all(np.abs(centres[:, 1] - cy) <= jy + 1e-9)


def test_small_lesion_stays_inside_patch(rng):
    box = (100.0, 100.0, 120.0, 110.0)  # 20 x 10 px lesion in a 32 px patch
    for x, y in geometry.lesion_centres(box, P, 200, 0.25, rng):
        x0, y0 = geometry.patch_origin(x, y, P)
        # inside up to the half-pixel rounding of the integer patch origin
        assert x0 <= box[0] + 0.5 and x0 + P >= box[2] - 0.5
        assert y0 <= box[1] + 0.5 and y0 + P >= box[3] - 0.5


def test_normal_centres_clear_of_lesions_and_in_breast(rng):
    mask = np.zeros((200, 160), bool)
    mask[20:190, 0:130] = True
    boxes = [(40.0, 60.0, 60.0, 80.0), (90.0, 140.0, 100.0, 150.0)]
    margin = 0.25 * P
    centres = geometry.normal_centres(mask, boxes, P, 20, rng, margin=margin, min_coverage=0.7)
    assert len(centres) > 3
    cov = geometry.mask_coverage(mask, P)
    for x, y in centres:
        assert geometry.clear_of_boxes(x, y, boxes, P, margin)
        for x0, y0, x1, y1 in boxes:  # gap between the patch square and the box >= margin on some axis
            gap = max(x0 - (x + P / 2), (x - P / 2) - x1, y0 - (y + P / 2), (y - P / 2) - y1)
            assert gap >= margin - 1e-9
        assert mask[int(y), int(x)]
        assert cov[int(y) - 1 : int(y) + 1, int(x) - 1 : int(x) + 1].max() >= 0.7


def test_crop_fills_outside_the_image():
    data = np.arange(2 * 10 * 10, dtype=np.float32).reshape(2, 10, 10)
    out = geometry.crop(data, 1.0, 1.0, 6, fill=(-1.0, -2.0))
    assert out.shape == (2, 6, 6)
    assert out[0, 0, 0] == -1 and out[1, 0, 0] == -2
    assert out[0, 2, 2] == data[0, 0, 0]


def test_resampling_undoes_cbis_stretch():
    """A circle in a CBIS-like horizontally stretched image comes out round on the model grid."""
    rows, true_cols = 800, 488
    yy, xx = np.mgrid[0:rows, 0:true_cols]
    img = np.full((rows, true_cols), 0.4, np.float32)
    img[(yy - 400) ** 2 + (xx - 244) ** 2 <= 120**2] = 0.9
    stretched = resize(img, (rows, 800), order=1, preserve_range=True).astype(np.float32)
    prep = prepare(stretched, PixelSpacing(CBIS_ROW_MM, CBIS_COL_MM, "test"), PreprocessConfig())
    disc = prep.data[0] > prep.data[0].mean() + 0.5 * prep.data[0].std()
    ys, xs = np.nonzero(disc)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert abs(height / width - 1.0) < 0.03
    assert abs(height - 2 * 120 * CBIS_ROW_MM / 0.3) < 4


def test_image_patches_on_synthetic_breast():
    blob = Blob(x=150, y=300, radius=15)
    img = synthetic_breast(600, 400, blobs=(blob,), max_value=255, dtype=np.uint8).astype(np.float32) / 255
    les = Lesion("mass", True, bbox=(135, 285, 165, 315), center=(150, 300))
    src = SourceImage("cbis", "syn", None, "cbis:P_1", "L", "CC", (0.3, 0.3), "mass", True, (les,))  # type: ignore[arg-type]
    prep = prepare(img, PixelSpacing(0.3, 0.3, "t"), PreprocessConfig())
    cfg = ExtractConfig(patch_size=P, cbis_lesion_patches=5, cbis_normal_patches=6)
    patches = list(image_patches(src, prep, cfg))
    lesion = [p for p in patches if p.label == "mass"]
    normal = [p for p in patches if p.label == "normal"]
    assert len(lesion) == 5 and len(normal) >= 3
    for p in lesion:
        assert p.x.shape == (1, P, P) and p.malignant is True
        assert abs(p.cx - 150) <= 0.25 * P + 1 and abs(p.cy - 300) <= 0.25 * P + 1
    assert lesion[0].x[0, P // 2 - 2 : P // 2 + 2, P // 2 - 2 : P // 2 + 2].mean() > np.median(lesion[0].x)
    for p in normal:
        assert max(abs(p.cx - 150) - 15, abs(p.cy - 300) - 15) >= P / 2 + cfg.normal_margin * P - 1
        assert prep.mask[int(p.cy), int(p.cx)]


def test_lesion_patch_near_border_is_shifted_inside(rng):
    """A lesion at the image edge gives a patch inside the image that still contains the lesion."""
    shape = (200, 150)
    box = (140.0, 5.0, 150.0, 15.0)  # top-right corner
    for x, y in geometry.lesion_centres(box, P, 20, 0.25, rng):
        cx, cy = geometry.clamp_centre(x, y, P, shape)
        x0, y0 = geometry.patch_origin(cx, cy, P)
        assert x0 >= 0 and x0 + P <= shape[1] and y0 >= 0 and y0 + P <= shape[0]
        assert x0 <= box[0] and box[2] <= x0 + P and y0 <= box[1] and box[3] <= y0 + P


@pytest.mark.parametrize("kind", ["architectural_distortion", "asymmetry"])
def test_an_excluded_mias_finding_outside_the_breast_also_stops_normal_patches(kind):
    """A MIAS distortion or asymmetry whose circle misses the breast (a wrong coordinate, as mdb212/mdb214's
    calcifications) leaves its true place unknown: as for a mass or calcification there, the image gives no normal
    patches. With ``mias_other="exclude"`` it was skipped before the breast check and normal patches were cut."""
    img = synthetic_breast(600, 400, max_value=255, dtype=np.uint8).astype(np.float32) / 255
    les = Lesion(kind, True, bbox=(380, 30, 396, 46), center=(388, 38), radius=8)  # type: ignore[arg-type]
    src = SourceImage("mias", "mdbX", None, "mias:x", "L", "MLO", (0.3, 0.3), "abnormal", True, (les,))  # type: ignore[arg-type]
    prep = prepare(img, PixelSpacing(0.3, 0.3, "t"), PreprocessConfig())
    assert not prep.mask[38, 388]
    notes: list[str] = []
    assert list(image_patches(src, prep, ExtractConfig(patch_size=P), notes)) == []
    assert len(notes) == 1 and kind in notes[0] and "outside the breast" in notes[0]
