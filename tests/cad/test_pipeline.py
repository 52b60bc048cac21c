"""analyse_image / analyse_study end to end on synthetic breasts with planted (test-only) models."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mammoview.cad.inference import Cancelled
from mammoview.cad.pipeline import analyse_image, analyse_study, drain
from mammoview.io.model import Laterality, View
from tests.cad.conftest import BLOB, make_image
from tests.synthetic import synthetic_breast

HEATMAPS = {"abnormal", "mass", "calcification", "malignant"}


def _inside_breast(x: float, y: float, rows: int = 600, cols: int = 400) -> bool:
    """The synthetic phantom's half-ellipse (chest wall left), as drawn by tests/synthetic.py."""
    return (x / (cols * 0.8)) ** 2 + ((y - rows / 2) / (rows * 0.42)) ** 2 <= 1.0


def test_finding_at_the_blob_and_none_outside_the_breast(bright_model, breast_with_blob):
    res = drain(analyse_image(bright_model, make_image(breast_with_blob), tile=64))
    assert res.findings, "the bright blob must be found"
    top = res.findings[0]
    cell = 16 * 2  # one feature cell in stored pixels (0.5 mm model px / 0.25 mm stored px)
    assert np.hypot(top.center[0] - BLOB.x, top.center[1] - BLOB.y) <= BLOB.radius + cell
    assert top.bbox[0] <= BLOB.x <= top.bbox[2] and top.bbox[1] <= BLOB.y <= top.bbox[3]
    for f in res.findings:
        assert _inside_breast(*f.center), f.center
        assert not (320 <= f.center[0] <= 400 and f.center[1] <= 80), "finding on the label"
    assert res.abnormal == pytest.approx(top.score) and 0 < res.malignant <= res.abnormal
    assert (res.width, res.height, res.view) == (400, 600, View.LCC)
    assert res.pixel_spacing == (0.25, 0.25) and 0.3 < res.breast_mask_fraction < 0.8


def test_heatmaps_placed_on_the_stored_grid(bright_model, breast_with_blob):
    res = drain(analyse_image(bright_model, make_image(breast_with_blob), tile=64))
    assert set(res.heatmaps) == HEATMAPS
    hm = res.heatmaps["abnormal"]
    assert hm.data.dtype == np.uint8
    x, y, w, h = hm.rect
    assert x <= 0 and y <= 0 and x + w >= 400 and y + h >= 600 and w < 400 + 2 * hm.scale_x
    # the hottest cell is at the blob; the label corner is cold
    i, j = np.unravel_index(int(np.argmax(hm.data)), hm.data.shape)
    cx, cy = hm.x0 + (j + 0.5) * hm.scale_x, hm.y0 + (i + 0.5) * hm.scale_y
    assert np.hypot(cx - BLOB.x, cy - BLOB.y) <= BLOB.radius + hm.scale_x
    li, lj = int((45 - hm.y0) // hm.scale_y), int((357 - hm.x0) // hm.scale_x)
    assert all(res.heatmaps[k].data[li, lj] == 0 for k in HEATMAPS)


def test_gradcam_heatmaps_point_at_the_blob(bright_model, breast_with_blob):
    img = make_image(breast_with_blob)
    cam = drain(analyse_image(bright_model, img, tile=64))
    grad = drain(analyse_image(bright_model, img, tile=64, cam="gradcam"))
    assert set(grad.heatmaps) == HEATMAPS
    hm = grad.heatmaps["abnormal"]
    assert hm.scale_x < cam.heatmaps["abnormal"].scale_x  # one stage earlier: finer grid
    i, j = np.unravel_index(int(np.argmax(hm.data)), hm.data.shape)
    cx, cy = hm.x0 + (j + 0.5) * hm.scale_x, hm.y0 + (i + 0.5) * hm.scale_y
    assert np.hypot(cx - BLOB.x, cy - BLOB.y) <= BLOB.radius + 2 * hm.scale_x
    # findings and scores do not depend on the heatmap method
    assert [f.center for f in grad.findings] == [f.center for f in cam.findings]
    with pytest.raises(ValueError, match="cam must be"):
        drain(analyse_image(bright_model, img, tile=64, cam="saliency"))  # type: ignore[arg-type]


def test_deterministic(tiny_model, breast_with_blob):
    img = make_image(breast_with_blob)
    a = drain(analyse_image(tiny_model, img, tile=64, threshold=0.0))
    b = drain(analyse_image(tiny_model, img, tile=64, threshold=0.0))
    for k in HEATMAPS:
        assert np.array_equal(a.heatmaps[k].data, b.heatmaps[k].data)
    assert [f.to_json() for f in a.findings] == [f.to_json() for f in b.findings]
    assert (a.abnormal, a.malignant) == (b.abnormal, b.malignant)


def test_random_model_gives_valid_output(tiny_model, breast_with_blob):
    res = drain(analyse_image(tiny_model, make_image(breast_with_blob), tile=64, threshold=0.0, max_findings=3))
    assert 0.0 <= res.malignant <= res.abnormal <= 1.0
    assert len(res.findings) <= 3
    for f in res.findings:
        assert 0 <= f.score <= 1 and 0 <= f.malignancy <= 1 and np.isfinite(f.center).all()


def test_no_breast_no_findings(bright_model):
    res = drain(analyse_image(bright_model, make_image(np.zeros((300, 200), np.uint16)), tile=64, threshold=0.0))
    assert res.findings == () and res.abnormal == 0.0 and res.malignant == 0.0
    assert all(not h.data.any() for h in res.heatmaps.values())


def test_missing_spacing_is_estimated(bright_model, breast_with_blob):
    res = drain(analyse_image(bright_model, make_image(breast_with_blob, spacing=None), tile=256))
    assert res.spacing_source.startswith("estimated")
    assert res.pixel_spacing == pytest.approx((230 / 600, 230 / 600))


def test_cancel_between_tiles(bright_model, breast_with_blob):
    event = threading.Event()
    gen = analyse_image(bright_model, make_image(breast_with_blob), tile=64, cancel=event)
    steps = [next(gen) for _ in range(3)]
    assert steps[-1].done > steps[0].done
    event.set()
    with pytest.raises(Cancelled):
        next(gen)


def test_study_scores_are_max_over_views(bright_model, breast_with_blob):
    plain = synthetic_breast(rows=600, cols=400, seed=5)
    right = synthetic_breast(rows=600, cols=400, chest_wall="right", seed=6)
    images = [
        make_image(right, View.RCC, name="rcc.dcm"),
        make_image(breast_with_blob, View.LCC, name="lcc.dcm"),
        make_image(right, View.RMLO, name="rmlo.dcm"),
        make_image(plain, View.LMLO, name="lmlo.dcm"),
    ]
    progress = []
    res = drain(analyse_study(bright_model, images, tile=128), progress.append)
    assert [r.view for r in res.images] == [View.RCC, View.LCC, View.RMLO, View.LMLO]
    left, rightb = res.breasts[Laterality.LEFT], res.breasts[Laterality.RIGHT]
    assert left.n_views == 2 and rightb.n_views == 2
    assert left.abnormal == max(res.images[1].abnormal, res.images[3].abnormal)
    assert rightb.malignant == max(res.images[0].malignant, res.images[2].malignant)
    assert res.abnormal == max(left.abnormal, rightb.abnormal) and left.abnormal > rightb.abnormal
    assert res.model.name == "test-bright" and res.device == "cpu"
    assert {p.total for p in progress} == {4000}
    assert [p.done for p in progress] == sorted(p.done for p in progress) and progress[-1].done == 4000


def test_study_cancel_between_views(bright_model, breast_with_blob):
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 5

    images = [make_image(breast_with_blob, v) for v in View]
    with pytest.raises(Cancelled):
        drain(analyse_study(bright_model, images, tile=256, cancel=cancel))


def test_device_argument_and_bf16_precision(tiny_model, breast_with_blob):
    from dataclasses import replace

    img = make_image(breast_with_blob)
    ref = drain(analyse_image(tiny_model, img, tile=64))
    same = drain(analyse_image(tiny_model, img, tile=64, device="cpu"))
    assert np.array_equal(same.heatmaps["abnormal"].data, ref.heatmaps["abnormal"].data)
    assert tiny_model.to("cpu") is tiny_model
    bf16 = drain(analyse_image(replace(tiny_model, precision="bf16"), img, tile=64))
    diff = np.abs(bf16.heatmaps["abnormal"].as_float() - ref.heatmaps["abnormal"].as_float())
    assert diff.max() < 0.05  # reduced precision, same maps to within a few grey levels


def test_an_ensemble_runs_through_the_pipeline(bright_model, breast_with_blob):
    """An ensemble of two copies of a network is that network: same maps and findings; Grad-CAM works on it."""
    from dataclasses import replace

    from mammoview.cad.networks.ensemble import EnsembleNet
    from tests.cad.conftest import bright_net

    ens = EnsembleNet(arch="paper_cnn", n=2, member_kwargs={"widths": (1, 1, 1, 1)})
    ens.set_members([bright_net(), bright_net()]).eval().requires_grad_(False)
    kwargs = {"arch": "paper_cnn", "n": 2, "member_kwargs": {"widths": [1, 1, 1, 1]}}
    loaded = replace(bright_model, model=ens, entry=replace(bright_model.entry, arch="ensemble", arch_kwargs=kwargs))
    img = make_image(breast_with_blob)
    one, two = (drain(analyse_image(m, img, tile=64)) for m in (bright_model, loaded))
    np.testing.assert_array_equal(two.heatmaps["abnormal"].data, one.heatmaps["abnormal"].data)
    assert [f.center for f in two.findings] == [f.center for f in one.findings] and one.findings
    grad = drain(analyse_image(loaded, img, tile=64, cam="gradcam")).heatmaps["abnormal"]
    i, j = np.unravel_index(int(np.argmax(grad.data)), grad.data.shape)
    cx, cy = grad.x0 + (j + 0.5) * grad.scale_x, grad.y0 + (i + 0.5) * grad.scale_y
    assert np.hypot(cx - BLOB.x, cy - BLOB.y) <= BLOB.radius + grad.scale_x


def test_findings_carry_the_models_false_marks_per_image(bright_model, breast_with_blob):
    from dataclasses import replace

    from mammoview.cad.operating import OperatingCurve

    plain = drain(analyse_image(bright_model, make_image(breast_with_blob)))
    assert all(f.fp_per_image is None for f in plain.findings)
    curve = OperatingCurve(thresholds=(0.999, 0.5), fpi=(0.0, 2.0), sensitivity=(0.1, 0.9))
    with_curve = replace(bright_model, entry=replace(bright_model.entry, operating_curve=curve.to_dict()))
    res = drain(analyse_image(with_curve, make_image(breast_with_blob)))
    assert res.findings
    for f in res.findings:
        assert f.fp_per_image == pytest.approx(curve.fp_per_image(f.score))
        assert "fp_per_image" not in f.to_json()  # the detect JSON schema stays as specified


def test_findings_cut_again_at_another_threshold_equal_a_run_at_that_threshold(bright_model, breast_with_blob):
    img = make_image(breast_with_blob)
    res = drain(analyse_image(bright_model, img, tile=64))
    assert res.threshold == bright_model.entry.finding_threshold and res.at_threshold(res.threshold) is res
    for thr in (0.05, 0.3, 0.9):
        direct = drain(analyse_image(bright_model, img, tile=64, threshold=thr))
        again = res.at_threshold(thr)
        assert again.threshold == thr and (again.abnormal, again.malignant) == (res.abnormal, res.malignant)
        assert [f.to_json() for f in again.findings] == [f.to_json() for f in direct.findings]
        for a, b in zip(again.findings, direct.findings, strict=True):
            np.testing.assert_allclose(a.contour, b.contour)  # the region of this threshold, not a filtered one
    loose = res.at_threshold(0.05)
    assert len(loose.findings) > len(res.findings) and loose.findings[0].bbox != res.findings[0].bbox
    study = drain(analyse_study(bright_model, [img], tile=64))
    assert study.at_threshold(study.images[0].threshold) is study
    assert [f.to_json() for f in study.at_threshold(0.05).images[0].findings] == [f.to_json() for f in loose.findings]
    from dataclasses import replace

    with pytest.raises(ValueError, match="kept no maps"):
        replace(res, source=None).at_threshold(0.3)


def test_the_nipple_is_the_breast_tip_and_findings_get_their_distance_from_it(bright_model, breast_with_blob):
    # The phantom's half-ellipse reaches 0.8 of the width at mid-height: the tip at (320, 300) stored px.
    res = drain(analyse_image(bright_model, make_image(breast_with_blob), tile=64))
    assert res.nipple is not None
    assert res.nipple == pytest.approx((320, 300), abs=16)  # within 4 mm (the mask's skin border)
    assert res.nipple_distance_mm(BLOB.x, BLOB.y) == pytest.approx((320 - BLOB.x) * 0.25, abs=4)
    mirrored = drain(analyse_image(bright_model, make_image(np.ascontiguousarray(breast_with_blob[:, ::-1])), tile=64))
    assert mirrored.nipple == pytest.approx((399 - 320, 300), abs=16)  # chest wall on the right
    blank = drain(analyse_image(bright_model, make_image(np.zeros((200, 150), np.uint16)), tile=64))
    assert blank.nipple is None and blank.nipple_distance_mm(10, 10) is None


def test_an_image_far_larger_than_a_mammogram_is_refused_before_any_work(bright_model, breast_with_blob):
    """A 1 x 5000 px file gets an estimated 230 mm per pixel: 1.15 km wide; resampling it would need ~11 GiB."""
    line = np.zeros((1, 5000), dtype=np.uint16)
    with pytest.raises(ValueError, match=r"230 x 1150000 mm; a mammogram is at most about 300 mm"):
        drain(analyse_image(bright_model, make_image(line, spacing=None)))
    wrong_unit = make_image(breast_with_blob, View.LMLO, spacing=2.5, name="lmlo.dcm")  # cm read as mm
    good = make_image(breast_with_blob, View.LCC)
    progress: list = []
    study = drain(analyse_study(bright_model, [good, wrong_unit], tile=256), progress.append)
    assert [r.view for r in study.images] == [View.LCC] and study.images[0].findings  # 150 x 100 mm: fine
    (skip,) = study.skipped
    why = skip.reason
    assert skip.where == "L MLO (lmlo.dcm)" and skip.label == "L MLO" and skip.file == "lmlo.dcm"
    assert why.startswith("at 2.5 x 2.5 mm per pixel (test) the image would be")
    assert why.endswith("the file's pixel spacing looks wrong")
    assert study.breasts[Laterality.LEFT].n_views == 1 and study.abnormal == study.images[0].abnormal
    assert progress[-1].done <= progress[-1].total
    with pytest.raises(ValueError, match=r"^L MLO \(lmlo.dcm\): at 2.5 x 2.5 mm per pixel"):
        drain(analyse_study(bright_model, [wrong_unit], tile=256))  # nothing left to show: the study's error


def test_a_monochrome1_file_reads_as_its_monochrome2_twin(bright_model, breast_with_blob):
    """MONOCHROME1 stores dense tissue dark; the CAD must see the same breast as from the MONOCHROME2 file."""
    from dataclasses import replace

    plain = make_image(breast_with_blob)
    chain = replace(plain.info.chain, photometric="MONOCHROME1")
    mono1 = replace(plain, info=replace(plain.info, photometric="MONOCHROME1", chain=chain),
                    stored=(4095 - breast_with_blob.astype(np.int32)).astype(np.uint16))  # fmt: skip
    a, b = (drain(analyse_image(bright_model, img, tile=128)) for img in (plain, mono1))
    assert b.findings and [f.center for f in b.findings] == [f.center for f in a.findings]
    assert b.abnormal == pytest.approx(a.abnormal, abs=1e-4)
    np.testing.assert_allclose(b.heatmaps["abnormal"].as_float(), a.heatmaps["abnormal"].as_float(), atol=2 / 255)


def test_close_ups_are_refused_and_implants_flagged(bright_model, breast_with_blob):
    """Spot compression and magnification views are diagnostic close-ups, not what the CAD learned; an implant
    view is analysed, and the result says the file reported an implant."""
    from dataclasses import replace

    from mammoview.io.header_model import ImageMeta

    def with_meta(view: View, name: str, **meta: object):
        img = make_image(breast_with_blob, view, name=name)
        return replace(img, info=replace(img.info, meta=ImageMeta(**meta)))  # type: ignore[arg-type]

    spot = with_meta(View.LCC, "spot.dcm", view_modifiers=("spot compression",))
    with pytest.raises(ValueError, match=r"^a diagnostic close-up, spot compression view \(ViewModifierCodeSeq"):
        drain(analyse_image(bright_model, spot))
    magnified = with_meta(View.RCC, "mag.dcm", magnification_factor=1.8)
    implant = with_meta(View.LMLO, "implant.dcm", implant_present=True)
    contact = with_meta(View.RMLO, "contact.dcm", magnification_factor=1.1, view_modifiers=("implant displaced",))
    study = drain(analyse_study(bright_model, [spot, magnified, implant, contact], tile=256))
    assert [(s.label, s.file) for s in study.skipped] == [("L CC", "spot.dcm"), ("R CC", "mag.dcm")]
    assert "EstimatedRadiographicMagnificationFactor (0018,1114) 1.8" in study.skipped[1].reason
    assert [(r.view, r.implant) for r in study.images] == [(View.LMLO, True), (View.RMLO, False)]
    assert study.images[0].findings  # analysed like any other view


def test_a_synthesized_2d_view_is_analysed_and_flagged(bright_model, breast_with_blob):
    """A synthesized 2-D view (Image Type GENERATED_2D, computed from tomosynthesis) is analysed like an exposure,
    and the result says what it is: the networks learned digitised screen-film exposures only."""
    from dataclasses import replace

    from mammoview.io.header_model import ImageMeta

    def with_meta(view: View, name: str, **meta: object):
        img = make_image(breast_with_blob, view, name=name)
        return replace(img, info=replace(img.info, meta=ImageMeta(**meta)))  # type: ignore[arg-type]

    synthesized = with_meta(View.LCC, "cview.dcm", synthesized=True)
    exposure = with_meta(View.LMLO, "exposure.dcm")
    study = drain(analyse_study(bright_model, [synthesized, exposure], tile=256))
    assert not study.skipped
    assert [(r.view, r.synthesized, r.implant) for r in study.images] == [(View.LCC, True, False),
                                                                           (View.LMLO, False, False)]  # fmt: skip
    assert study.images[0].findings  # analysed like any other view


def test_a_multi_frame_image_is_refused(bright_model, breast_with_blob):
    from dataclasses import replace

    img = make_image(breast_with_blob, View.LCC, name="tomo.dcm")
    volume = replace(img, info=replace(img.info, frames=60))
    with pytest.raises(ValueError, match=r"^a multi-frame image \(60 frames, e.g. a tomosynthesis volume\)"):
        drain(analyse_image(bright_model, volume))
    study = drain(analyse_study(bright_model, [volume, make_image(breast_with_blob, View.RCC)], tile=256))
    assert [s.file for s in study.skipped] == ["tomo.dcm"] and [r.view for r in study.images] == [View.RCC]


def test_a_refusal_points_at_where_the_spacing_came_from():
    from mammoview.cad.cad_input import check_extent
    from mammoview.io.header_model import PixelSpacing

    hints = {}
    for source, estimated in (("--pixel-spacing option", False), ("PixelSpacing (0028,0030)", False), ("guess", True)):
        with pytest.raises(ValueError) as exc:
            check_extent((400, 300), PixelSpacing(2.5, 2.5, source, estimated=estimated))
        hints[source] = str(exc.value).split("so the CAD does not run: ")[1]
    assert hints == {
        "--pixel-spacing option": "check the pixel spacing given (--pixel-spacing, or Image ▸ Pixel "
        "spacing in the viewer)",
        "PixelSpacing (0028,0030)": "the file's pixel spacing looks wrong",
        "guess": "give its pixel spacing (--pixel-spacing, or Image ▸ Pixel spacing in the viewer)",
    }


def test_an_image_too_small_for_a_mammogram_is_refused():
    from mammoview.cad.cad_input import check_extent
    from mammoview.io.header_model import PixelSpacing

    check_extent((400, 300), PixelSpacing(0.3, 0.3, "PixelSpacing (0028,0030)"))  # 120 x 90 mm: a breast
    with pytest.raises(ValueError, match=r"^3 x 3 pixels is no mammogram \(at least 32 pixels a side\)"):
        check_extent((3, 3), PixelSpacing(76.7, 76.7, "guess", estimated=True))  # 230 mm tall, but 9 pixels
    with pytest.raises(ValueError, match=r"the image is 0.0004 x 0.0003 mm; a whole-breast mammogram is at least"):
        check_extent((400, 300), PixelSpacing(1e-6, 1e-6, "PixelSpacing (0028,0030)"))


@pytest.mark.parametrize("ky, kx", [(1, 3), (3, 1), (3, 3), (6, 4)])
def test_block_mean_is_the_mean_of_each_block(ky, kx):
    from mammoview.cad.resample import block_mean

    img = np.random.default_rng(3).random((47, 31)).astype(np.float32)
    r, c = (47 // ky) * ky, (31 // kx) * kx
    want = img[:r, :c].astype(np.float64).reshape(r // ky, ky, c // kx, kx).mean(axis=(1, 3))
    got = block_mean(img, ky, kx)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("wall", ["left", "right"])
@pytest.mark.parametrize("shape", [(3011, 1805), (3000, 1800), (1203, 899)])
def test_resampled_pixels_sit_where_the_stored_to_model_scale_says(wall, shape):
    """Model pixel (i, j) covers stored rows [i * scale_y, (i + 1) * scale_y) and columns [j * scale_x, ...)
    (PreparedImage). The block mean drops the rows and columns that fill no block, and the image was resized from
    what was left, so a spot far from where the blocks start came out up to k - 1 stored pixels off that mapping
    (5 at 0.05 -> 0.3 mm): CAD findings were drawn and reported that far from their tissue."""
    from mammoview.cad.resample import resample

    rows, cols = shape
    spacing, pixel = (0.05, 0.05), 0.3
    for x, y in [(cols - 40, rows - 40), (40, 40), (cols // 2, rows // 2)]:
        img = np.zeros(shape, np.float32)
        img[y - 6 : y + 6, x - 6 : x + 6] = 1.0  # a 12 x 12 spot centred on the pixel corner (x, y)
        out = resample(img, spacing, pixel, chest_wall_right=wall == "right")
        sy, sx = rows / out.shape[0], cols / out.shape[1]
        r, c = np.indices(out.shape)
        w = out / out.sum()
        cy, cx = ((r + 0.5) * w).sum() * sy, ((c + 0.5) * w).sum() * sx  # its centre, in stored pixels
        assert abs(cx - x) < 0.5 and abs(cy - y) < 0.5, (x, y, cx, cy)
