"""A mammogram stored mirrored (chest wall on the other side: a vendor or PACS that stores it so) reads the same.

With test-time flip the CAD averages an image's CAM with its mirror image's, so both stored orientations should
give the same maps.  The padding to the feature stride used to go to the right always, which anchored the cell
grid at the top-left: a chest wall stored on the left lay on the grid's cell boundaries in both passes, one stored
on the right (the same image mirrored) off them in both, and this network read the two very differently (top score
0.9958 vs 0.99945, another top finding).  The padding now goes to the side away from the chest wall.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mammoview.cad.calibration import logit
from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.weights import default_models_dir, list_installed, load_model
from mammoview.io import read_image


def test_the_shipped_detector_reads_a_mirrored_copy_alike(demo_dir, shipped_detector):
    model = shipped_detector
    image = read_image(demo_dir / "1-280.dcm")  # L CC, the malignant mass at about (370, 1408)
    cols = image.shape[1]
    mirrored = replace(image, stored=np.ascontiguousarray(image.stored[:, ::-1]))
    a = drain(analyse_image(model, image))
    b = drain(analyse_image(model, mirrored))
    assert abs(logit(a.abnormal) - logit(b.abnormal)) < 0.5, (a.abnormal, b.abnormal)
    (xa, ya), (xb, yb) = a.findings[0].center, b.findings[0].center
    mm = a.pixel_spacing[1]
    assert np.hypot(xa - (cols - xb), ya - yb) * mm < 10.0, "another finding comes first on the mirrored copy"


def test_the_shipped_two_stage_cad_reads_a_mirrored_copy_alike(demo_dir):
    """With the verifier and the malignancy model, as detect and the viewer run it.

    The finding at the chest wall was centred one 4.8 mm cell apart on the two copies (window_block took the
    CAM column on a box's left edge, not the one on its right edge), so the verifier's crop and score differed
    and the mirrored copy's top finding was that one instead of the mass.
    """
    from mammoview.cad.verification import load_verifier
    from mammoview.cad.weights import load_optional

    root = default_models_dir()
    tasks = {r.entry.task for r in list_installed(root) if r.exists}
    if not {"detection", "verification", "malignancy"} <= tasks:
        pytest.skip(f"no two-stage CAD installed in {root}")
    model = load_verifier(load_model(models_dir=root, device="cpu"), root)
    malignancy = load_optional("malignancy", root, "cpu")
    image = read_image(demo_dir / "1-280.dcm")
    cols = image.shape[1]
    mirrored = replace(image, stored=np.ascontiguousarray(image.stored[:, ::-1]))
    a = drain(analyse_image(model, image, malignancy=malignancy))
    b = drain(analyse_image(model, mirrored, malignancy=malignancy))
    mm = a.pixel_spacing[1]
    assert len(a.findings) == len(b.findings)
    for fa, fb in zip(a.findings, b.findings, strict=True):
        (xa, ya), (xb, yb) = fa.center, fb.center
        assert np.hypot(xa - (cols - xb), ya - yb) * mm < 1.0, (fa.center, fb.center)
        assert abs(logit(fa.score) - logit(fb.score)) < 0.3  # the prepared copies differ a little (resample)
    assert abs(logit(a.malignant) - logit(b.malignant)) < 0.3


@pytest.mark.parametrize("chest_wall", ["left", "right"])
def test_preparing_a_mirrored_copy_gives_the_mirrored_picture(chest_wall):
    """Resampling's block mean drops the columns that fill no block: always at the right, it cut the skin side of a
    left breast and the chest wall of a right one, so a mirrored copy reached the network a little differently
    (0.03-0.09 in log-odds on the demo views).  The columns dropped are now those away from the chest wall."""
    from mammoview.cad.preprocess import PreprocessConfig, prepare
    from mammoview.io.header_model import PixelSpacing
    from tests.synthetic import Blob, synthetic_breast

    img = synthetic_breast(700, 437, chest_wall=chest_wall, blobs=(Blob(150, 300, 30),), seed=3)
    img = img.astype(np.float32) / 4095
    sp = PixelSpacing(0.05, 0.05, "test")
    cfg = PreprocessConfig()  # 0.3 mm: 437 columns -> 73, blocks of 5, 2 columns fill none
    a = prepare(img, sp, cfg)
    b = prepare(np.ascontiguousarray(img[:, ::-1]), sp, cfg)
    assert a.data.shape == b.data.shape
    np.testing.assert_array_equal(a.mask, b.mask[:, ::-1])
    np.testing.assert_allclose(a.data, b.data[:, :, ::-1], atol=1e-5)
