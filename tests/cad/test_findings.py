"""Regions -> findings on hand-made probability maps (no network involved)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mammoview.cad.findings import abnormal_logit, find_regions, image_scores, regions_to_findings
from mammoview.cad.probability_maps import ProbabilityMaps
from mammoview.cad.types import FindingKind


def _bump(shape, r, c, sigma, amp=1.0):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return amp * np.exp(-((yy - r) ** 2 + (xx - c) ** 2) / (2 * sigma**2))


def _maps(abnormal, mass=None, calc=None, mask=None, offset=0.0):
    z = np.zeros_like(abnormal, dtype=np.float32)
    mask = np.ones(abnormal.shape, bool) if mask is None else mask
    ab = np.where(mask, abnormal, 0).astype(np.float32)
    mass = ab * 0.8 if mass is None else mass.astype(np.float32)
    calc = ab * 0.2 if calc is None else calc.astype(np.float32)
    return ProbabilityMaps(
        normal=1 - ab,
        mass=mass,
        calcification=calc,
        malignant_given_lesion=z + 0.25,
        abnormal=ab,
        malignant=ab * 0.25,
        mask=mask,
        stride=16,
        offset=offset,
    )


def test_two_separate_lesions():
    score = _bump((30, 30), 8, 8, 2) + _bump((30, 30), 22, 20, 2, 0.8)
    regs = find_regions(score.astype(np.float32), 0.5, min_distance=2)
    assert [r.peak for r in regs] == [(8, 8), (22, 20)]
    assert regs[0].score > regs[1].score


def test_one_region_with_two_peaks_is_split():
    # Two bumps whose halves merge above the threshold: one connected region, two lesions.
    score = (_bump((20, 40), 10, 10, 4) + _bump((20, 40), 10, 26, 4)).astype(np.float32)
    thr = 0.2  # the saddle between the bumps is 0.27
    from skimage.measure import label

    assert label(score >= thr).max() == 1
    regs = find_regions(score, thr, min_distance=3)
    assert sorted(r.peak for r in regs) == [(10, 10), (10, 26)]
    assert not (regs[0].cells & regs[1].cells).any()


def test_close_peaks_are_one_finding():
    score = (_bump((20, 20), 10, 9, 3) + _bump((20, 20), 10, 11, 3)).astype(np.float32)
    assert len(find_regions(score, 0.5, min_distance=3)) == 1


def test_below_threshold_and_outside_mask_give_nothing():
    score = _bump((20, 20), 10, 10, 2).astype(np.float32)
    assert find_regions(score * 0.4, 0.5) == []
    mask = np.zeros((20, 20), bool)
    mask[:, :5] = True  # the bump is outside the breast
    maps = _maps(score, mask=mask)
    assert find_regions(maps.abnormal, 0.5) == []
    assert image_scores(maps) == pytest.approx((float(maps.abnormal[mask].max()), float(maps.malignant[mask].max())))
    empty = _maps(score, mask=np.zeros((20, 20), bool))
    assert image_scores(empty) == (0.0, 0.0)


def test_findings_in_stored_coordinates():
    score = _bump((20, 30), 5, 12, 1.5).astype(np.float32)
    calc = score * 0.9
    maps = _maps(score, mass=score * 0.1, calc=calc)
    regs = find_regions(maps.abnormal, 0.5)
    # stride 16 model px per cell, 2 stored px per model px in x, 3 in y
    (f,) = regions_to_findings(regs, maps, scale_x=2.0, scale_y=3.0, stored_shape=(960, 960), pixel_size_mm=0.3)
    assert f.kind is FindingKind.CALCIFICATION
    assert f.center == ((12 + 0.5) * 16 * 2.0, (5 + 0.5) * 16 * 3.0)
    x0, y0, x1, y1 = f.bbox
    assert x0 < f.center[0] < x1 and y0 < f.center[1] < y1
    assert abs(f.score - float(score.max())) < 1e-6 and f.malignancy == 0.25
    assert f.contour.shape[1] == 2
    assert (f.contour[:, 0] >= x0 - 1e-6).all() and (f.contour[:, 0] <= x1 + 1e-6).all()
    assert f.area_mm2 is not None and f.area_mm2 > 0


def test_even_window_offset_shifts_by_half_a_cell():
    score = _bump((20, 30), 5, 12, 1.5).astype(np.float32)
    maps = _maps(score, offset=-0.5)
    (f,) = regions_to_findings(
        find_regions(maps.abnormal, 0.5), maps, scale_x=1.0, scale_y=1.0, stored_shape=(960, 960), pixel_size_mm=0.3
    )
    assert f.center == (12 * 16.0, 5 * 16.0)


def test_top_n_sorted():
    score = sum(_bump((40, 40), r, c, 1.5, a) for r, c, a in [(5, 5, 0.7), (20, 20, 0.95), (35, 30, 0.8)])
    maps = _maps(np.asarray(score, np.float32))
    fs = regions_to_findings(
        find_regions(maps.abnormal, 0.5),
        maps,
        scale_x=1,
        scale_y=1,
        stored_shape=(640, 640),
        pixel_size_mm=0.3,
        max_findings=2,
    )
    assert [round(f.score, 2) for f in fs] == [0.95, 0.8]


def test_saturated_maps_are_ranked_by_the_logit():
    """p_abnormal is 1.0 in float32 over both bumps; the logit still finds the stronger one first."""
    logit = 30.0 * _bump((30, 30), 8, 8, 3) + 40.0 * _bump((30, 30), 22, 20, 3) - 5.0  # weaker bump first
    p_normal = (1.0 / (1.0 + np.exp(logit))).astype(np.float32)
    maps = _maps((1.0 - p_normal).astype(np.float32))
    maps = dataclasses.replace(maps, normal=p_normal)
    assert maps.abnormal[8, 8] == maps.abnormal[22, 20] == 1.0  # saturated: no order by probability
    rank = abnormal_logit(maps)
    assert rank[22, 20] == pytest.approx(35.0, rel=1e-3) and rank[8, 8] == pytest.approx(25.0, rel=1e-3)
    regs = find_regions(maps.abnormal, 0.5, min_distance=2, rank=rank)
    assert [r.peak for r in regs] == [(22, 20), (8, 8)]
    # image scores in float64 keep two saturated images apart (a ROC would tie them in float32)
    weaker = dataclasses.replace(maps, normal=(1.0 / (1.0 + np.exp(logit * 0.8))).astype(np.float32))
    assert image_scores(maps)[0] > image_scores(weaker)[0]


def test_finding_centre_is_the_strongest_cam_cell_in_the_peak_window():
    """The patch-equivalent peak says which window; the CAM cells say where in it (docs/cad-design.md)."""
    from mammoview.cad.findings import refined_center

    # Even window of 6 cells: patch-equivalent cell p is centred on the corner p * 16 and its
    # window is CAM cells p-3 .. p+2.
    ab = _bump((40, 40), 20, 20, 4).astype(np.float32)  # peak at cell (20, 20), ~ (320, 320) px
    cam = np.full((39, 39), -2.0, np.float32)
    cam[21, 18] = 3.0  # inside the window: the centre moves here
    cam[20, 26] = 9.0  # stronger but outside the window: ignored
    maps = dataclasses.replace(_maps(ab, offset=-0.5), cell_logit=cam, window=6)
    (reg,) = find_regions(maps.abnormal, 0.5, min_distance=3)
    assert reg.peak == (20, 20) and maps.cell_center(*reg.peak) == (320.0, 320.0)
    assert refined_center(maps, reg) == ((18 + 0.5) * 16, (21 + 0.5) * 16)
    (f,) = regions_to_findings([reg], maps, scale_x=2.0, scale_y=2.0, stored_shape=(1300, 1300), pixel_size_mm=0.3)
    assert f.center == (18.5 * 16 * 2, 21.5 * 16 * 2)
    x0, y0, x1, y1 = f.bbox
    assert x0 <= f.center[0] <= x1 and y0 <= f.center[1] <= y1
    # a CAM maximum outside the region's box is not taken, whatever the window says
    small = dataclasses.replace(reg, box=(19, 19, 22, 22))
    cx, cy = refined_center(maps, small)
    assert (19 - 0.5) * 16 <= cx <= (22 - 0.5) * 16 and (19 - 0.5) * 16 <= cy <= (22 - 0.5) * 16
    # outside the breast (-inf) or without CAM cells: the peak itself
    assert refined_center(dataclasses.replace(maps, cell_logit=np.full_like(cam, -np.inf)), reg) == (320.0, 320.0)
    assert refined_center(_maps(ab, offset=-0.5), reg) == (320.0, 320.0)


def test_confident_findings_keep_their_order_in_the_scores_and_the_json():
    """p(abnormal) of 1 - 1e-10 and 1 - 1e-8 are both 1.0 in float32 (and at 4 decimals): they must not tie."""
    from mammoview.cad.types import ImageCadResult

    ab = (_bump((30, 30), 8, 8, 2) + _bump((30, 30), 22, 20, 2)).astype(np.float32)
    normal = np.where(ab > 0.5, 1e-3, 1.0 - ab).astype(np.float32)
    normal[8, 8], normal[22, 20] = 1e-10, 1e-8  # two confident peaks, the first stronger
    maps = dataclasses.replace(_maps(ab), normal=normal, abnormal=(1.0 - normal).astype(np.float32))
    assert maps.abnormal[8, 8] == maps.abnormal[22, 20] == 1.0  # saturated in float32
    regs = find_regions(maps.abnormal, 0.5, min_distance=2, rank=abnormal_logit(maps))
    fs = regions_to_findings(regs, maps, scale_x=1.0, scale_y=1.0, stored_shape=(480, 480), pixel_size_mm=0.3)
    assert [f.score for f in fs] == [pytest.approx(1 - 1e-10, abs=1e-16), pytest.approx(1 - 1e-8, abs=1e-14)]
    scores = [f.to_json()["score"] for f in fs]
    assert scores[0] > scores[1] > 0.9999  # the JSON keeps the digits that order them
    assert dataclasses.replace(fs[0], score=0.123456).to_json()["score"] == 0.1235  # below 0.9999: 4 decimals
    img = ImageCadResult(path="x", width=1, height=1, view=None, pixel_spacing=None, spacing_source="",
                         abnormal=1 - 1e-9, malignant=1 - 1e-8, findings=())  # fmt: skip
    assert img.to_json()["scores"] == {"abnormal": 1 - 1e-9, "malignant": 1 - 1e-8}


def test_a_finding_at_the_chest_wall_is_centred_alike_on_a_mirrored_copy():
    """Even window: CAM cells centred on a region box's edge count on both sides (the box is closed).

    With the box half-open a CAM cell centred on its left edge was eligible and its mirror twin, centred on
    the right edge, was not: a finding at a right chest wall could never be centred on the chest-wall column,
    and the demo L CC's mirrored copy got another centre (so another verifier crop and score) for the finding
    at the chest wall, and another top finding with the shipped verifier.
    """
    from mammoview.cad.findings import refined_center

    rows, cols = 40, 30  # CAM cells; the patch-equivalent grid (even window) has one more of each
    w_px = cols * 16 - 7  # the image's width: the mirrored copy's grid starts 7 px left of it
    ab = _bump((rows + 1, cols + 1), 20, 1, 2.5).astype(np.float32)  # a lesion at the chest wall (left)
    cam = np.full((rows, cols), -2.0, np.float32)
    cam[21, 0] = 3.0  # the strongest CAM cell: the chest-wall column
    cam[19, 1] = 2.0
    mask = np.ones(ab.shape, bool)
    mask[:, 0] = False  # centred on the chest-wall border (mask_on_cells)
    a = dataclasses.replace(_maps(ab, mask=mask, offset=-0.5), cell_logit=cam, window=6)
    b = dataclasses.replace(
        _maps(np.ascontiguousarray(ab[:, ::-1]), mask=np.ascontiguousarray(mask[:, ::-1]), offset=-0.5),
        cell_logit=np.ascontiguousarray(cam[:, ::-1]),
        window=6,
        origin_x=-7.0,
    )
    (ra,) = find_regions(a.abnormal, 0.5, min_distance=3)
    (rb,) = find_regions(b.abnormal, 0.5, min_distance=3)
    assert ra.box[1] == 1 and rb.box[3] == cols  # the boxes end at the chest-wall column
    xa, ya = refined_center(a, ra)
    xb, yb = refined_center(b, rb)
    assert (xa, ya) == (0.5 * 16, 21.5 * 16)
    assert (xb, yb) == pytest.approx((w_px - xa, ya))


def test_the_centroid_centre_rule_of_the_analysis_scripts_honours_the_grid_origin():
    """models/analysis/centre_rule.py's centroid rule put every centre of a right-chest-wall image origin_x px off."""
    import sys
    from pathlib import Path

    from mammoview.cad.findings import refined_center

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models" / "analysis"))
    try:
        import centre_rule
    finally:
        sys.path.pop(0)
    ab = _bump((40, 40), 20, 20, 4).astype(np.float32)
    cam = np.full((39, 39), -50.0, np.float32)
    cam[21, 18] = 3.0  # one cell holds all the weight: the centroid is that cell's centre
    maps = dataclasses.replace(_maps(ab, offset=-0.5), cell_logit=cam, window=6, origin_x=-7.0)
    (reg,) = find_regions(maps.abnormal, 0.5, min_distance=3)
    assert refined_center(maps, reg) == ((18 + 0.5) * 16 - 7, (21 + 0.5) * 16)
    assert centre_rule.centroid_center(1.0)(maps, reg) == pytest.approx(refined_center(maps, reg))


def test_a_finding_at_the_image_border_keeps_its_outline_on_the_image():
    """A breast cell centred inside the image can reach past its border (the grid is padded to the stride).

    The box was clipped to the image and the outline was not: a finding at the bottom-right corner of a
    90 x 90 px image had outline points at x, y = 96, off the image and outside its own box.
    """
    score = np.zeros((6, 6), np.float32)
    score[4:6, 4:6] = 0.9
    score[5, 5] = 0.95  # cell 5 is centred at 88 px, its far edge at 96 px
    maps = _maps(score)
    (f,) = regions_to_findings(
        find_regions(maps.abnormal, 0.5), maps, scale_x=1.0, scale_y=1.0, stored_shape=(90, 90), pixel_size_mm=0.3
    )
    x0, y0, x1, y1 = f.bbox
    assert (x1, y1) == (90.0, 90.0)
    assert len(f.contour) >= 3
    assert (f.contour[:, 0] >= x0).all() and (f.contour[:, 0] <= x1).all()
    assert (f.contour[:, 1] >= y0).all() and (f.contour[:, 1] <= y1).all()


def test_findings_one_float32_step_apart_in_p_normal_keep_their_order():
    """The ranking logit kept in float32 tied p(normal) 1e-9 and the next float32 up (both 20.723267).

    The tie fell to the peaks' order in the image: the weaker finding came first, its score below the
    second's and below the image's abnormal score.
    """
    ab = (_bump((30, 30), 8, 8, 2) + _bump((30, 30), 22, 20, 2)).astype(np.float32)
    normal = np.where(ab > 0.5, 1e-3, 1.0 - ab).astype(np.float32)
    weak = np.float32(1e-9)
    normal[8, 8], normal[22, 20] = np.nextafter(weak, np.float32(1)), weak  # the second peak is the stronger
    maps = dataclasses.replace(_maps(ab), normal=normal, abnormal=(1.0 - normal).astype(np.float32))
    regs = find_regions(maps.abnormal, 0.5, min_distance=2, rank=abnormal_logit(maps))
    fs = regions_to_findings(regs, maps, scale_x=1.0, scale_y=1.0, stored_shape=(480, 480), pixel_size_mm=0.3)
    assert [r.peak for r in regs] == [(22, 20), (8, 8)]
    assert fs[0].score > fs[1].score
    assert fs[0].score == image_scores(maps)[0]


def test_cells_joined_to_a_region_only_at_a_corner_stay_in_its_finding():
    """Regions are labelled 8-connected; the watershed that splits them flooded 4-connected.

    Cells touching the rest of their region only at a corner, with no peak of their own (closer than
    ``min_distance`` to the region's), were reached by no marker and dropped from every finding.
    """
    score = np.zeros((12, 12), np.float32)
    score[3:6, 3:6] = 0.9
    score[4, 4] = 0.95
    score[6, 6], score[7, 7] = 0.8, 0.85  # a corner away from (5, 5), within 3 cells of the peak
    (reg,) = find_regions(score, 0.5, min_distance=3)
    assert reg.peak == (4, 4)
    assert reg.cells.sum() == 11 and reg.box == (3, 3, 8, 8)
