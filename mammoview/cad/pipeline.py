"""The CAD pipeline as progress generators: one image, or a study of views.

``analyse_image`` / ``analyse_study`` yield :class:`~mammoview.cad.types.Progress` between
steps (preprocessing, each tile, findings) and return their result, so the same code
runs in tests (:func:`drain`), the CLI (tqdm) and the GUI worker.  Progress is reported
in thousandths (``total`` = 1000 per image) so a progress bar never has to rescale.
Cancellation: set the ``cancel`` flag (checked between tiles and views, which take well
under 200 ms each at the default tile size), or stop pulling and ``close()`` the generator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

import numpy as np
import torch

from mammoview.cad.cad_input import ImageRefused, check_cad_input
from mammoview.cad.density import assess as assess_density
from mammoview.cad.density import per_breast, read_canvas
from mammoview.cad.device import deterministic
from mammoview.cad.findings import DEFAULT_MAX_FINDINGS, MapGeometry, findings_from_maps, image_scores
from mammoview.cad.heatmaps import gradcam_heatmaps, to_heatmap
from mammoview.cad.inference import (
    CancelFlag,
    check_cancel,
    whole_image_maps,
)
from mammoview.cad.landmarks import nipple_point
from mammoview.cad.malignancy import CANDIDATE_THRESHOLD
from mammoview.cad.maps_findings import MapsFindings
from mammoview.cad.networks.layers import CadNet
from mammoview.cad.preprocess import prepare_image
from mammoview.cad.probability_maps import FloatArray, patch_window
from mammoview.cad.stages import STEPS, PreparedAt, rescale, second_stage, verify_candidates
from mammoview.cad.types import (
    BreastScore,
    DensityResult,
    ImageCadResult,
    Progress,
    ProgressGenerator,
    SkippedImage,
    StudyCadResult,
)
from mammoview.cad.view_read import ViewRead, read_view
from mammoview.cad.weights import LoadedModel
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import Laterality, MammoImage, Study
from mammoview.io.study import image_order

__all__ = ["STEPS", "MapGeometry", "analyse_image", "analyse_study", "drain", "findings_from_maps"]

R = TypeVar("R")
CamMethod = Literal["cam", "gradcam"]


def drain(gen: ProgressGenerator[R], on_progress: Callable[[Progress], None] | None = None) -> R:
    """Run a progress generator to the end and return its result (calling ``on_progress`` on each step)."""
    while True:
        try:
            p = next(gen)
        except StopIteration as stop:
            result: R = stop.value
            return result
        if on_progress is not None:
            on_progress(p)


def analyse_image(
    model: LoadedModel,
    image: MammoImage,
    *,
    device: str | torch.device | None = None,
    cam: CamMethod = "cam",
    cancel: CancelFlag = None,
    spacing: PixelSpacing | None = None,
    max_findings: int = DEFAULT_MAX_FINDINGS,
    threshold: float | None = None,
    tile: int | None = None,
    flip: bool | None = None,
    calibrated: bool = True,
    malignancy: LoadedModel | None = None,
    presentation: FloatArray | None = None,
) -> ProgressGenerator[ImageCadResult]:
    """CAD on one image: probability maps, findings, scores and heatmaps.

    Parameters
    ----------
    model
        From :func:`mammoview.cad.weights.load_model`.
    image
        A decoded image; its stored grid is the result's coordinate system.
    device
        Run on this device instead of the model's (on a moved copy; see ``LoadedModel.to``).
    cam
        ``"cam"`` (exact, default) or ``"gradcam"``: the heatmaps only; findings and scores
        always come from the calibrated CAM probabilities.
    cancel
        Flag checked between tiles; raises :class:`~mammoview.cad.inference.Cancelled`.
    spacing
        Overrides the file's pixel spacing (else the file's, else an estimate).
    max_findings, threshold
        Findings kept per image; region threshold (default: the manifest's).
    tile
        Core tile size in model pixels (bounds memory; default
        :func:`~mammoview.cad.inference.default_tile`).
    flip
        Average with the mirrored image's CAM (default: the manifest's ``test_time_flip``).
    calibrated
        Apply the manifest's malignancy calibration to the findings' and the image's malignancy
        (False: the network's raw output, what a calibration is fitted on).
    malignancy
        A second-stage malignancy network (manifest task "malignancy", :mod:`mammoview.cad.malignancy`):
        the findings' and the image's malignancy come from it (a crop at every centre the viewer's
        operating points show; its whole-image map for other thresholds), with its calibration.
    presentation
        The image's :func:`~mammoview.cad.preprocess.presentation_of`, when the caller has it (computed here
        otherwise, once for every network).

    With ``model.verifier`` (:mod:`mammoview.cad.verification`) the findings are the detector's
    candidates re-scored by the verifier, cut at ``threshold`` on the combined score, and the
    image's abnormal score is its best candidate's.

    A view stored upside down from its hanging (Patient Orientation; the viewer shows it flipped) is read
    turned the right way up, as the networks learned views, and its results are turned back onto its stored
    grid (:mod:`mammoview.cad.upright`).  A black border beyond the edge that cuts the breast (a framed export, a
    film centred on a square canvas) is trimmed first and the results put back on the stored grid
    (:mod:`mammoview.cad.border`).

    Yields
    ------
    Progress
        ``done`` of 1000.
    """

    def analyse(upright: MammoImage, sp: PixelSpacing, pres: FloatArray) -> ProgressGenerator[ImageCadResult]:
        return _analyse_image(model, upright, sp, pres, device, cam, cancel, max_findings, threshold, tile, flip,
                              calibrated, malignancy)  # fmt: skip

    result, _ = yield from _read_view(image, spacing, presentation, cancel, analyse)
    return result


#: the detector's analysis of a view as read (:func:`_analyse_image`, its options bound): image, spacing, presentation
Analysis = Callable[[MammoImage, PixelSpacing, FloatArray], ProgressGenerator[ImageCadResult]]


def _read_view(
    image: MammoImage,
    spacing: PixelSpacing | None,
    presentation: FloatArray | None,
    cancel: CancelFlag,
    analyse: Analysis,
) -> ProgressGenerator[tuple[ImageCadResult, ViewRead]]:
    """``analyse`` of ``image`` as the networks read it (upright, without its black border), its result put back on
    the stored grid, and the view read (for the density network: the border is looked for once)."""
    check_cancel(cancel)
    check_cad_input(image.info)
    read = read_view(image, presentation, spacing)
    result = yield from analyse(read.image, read.spacing, read.presentation)
    return read.on_stored_grid(result), read


def _analyse_image(
    model: LoadedModel,
    image: MammoImage,
    spacing: PixelSpacing,
    presentation: FloatArray,
    device: str | torch.device | None,
    cam: CamMethod,
    cancel: CancelFlag,
    max_findings: int,
    threshold: float | None,
    tile: int | None,
    flip: bool | None,
    calibrated: bool,
    malignancy: LoadedModel | None,
) -> ProgressGenerator[ImageCadResult]:
    """:func:`analyse_image` on a view stored upright, without a black border, at its spacing."""
    t0 = time.perf_counter()
    if device is not None:
        model = model.to(device)
    net, fast, dev = model.model, model.inference_net, model.device
    if not isinstance(net, CadNet) or not isinstance(fast, CadNet):
        raise TypeError(f"{type(net).__name__} is not a CadNet")
    name = image.path.name
    check_cancel(cancel)
    yield Progress(0, STEPS, f"{name}: preprocessing")
    sp = spacing
    prepared = prepare_image(image, model.preprocess, sp, presentation=presentation)
    window = patch_window(model.entry.patch_size, net.feature_stride)
    n_stages = 2 if cam == "gradcam" else 1
    # the detector's passes end where the verifier's and the malignancy model's steps begin (stages.py)
    end = 850 if model.verifier is not None or malignancy is not None else 900
    maps_gen = whole_image_maps(
        fast,
        prepared,
        model.entry.patch_size,
        device=dev,
        tile=tile,
        cancel=cancel,
        precision=model.precision,
        flip=model.entry.test_time_flip if flip is None else flip,
        windows_px=model.entry.map_windows_px or None,
    )
    with deterministic():
        maps = yield from rescale(maps_gen, 100, 100 + (end - 100) // n_stages, name)
        if cam == "gradcam":
            heatmaps = yield from rescale(
                gradcam_heatmaps(net, prepared, maps, dev, tile, window, cancel, model.precision),
                100 + (end - 100) // n_stages,
                end,
                name,
            )
        elif cam == "cam":
            heatmaps = {
                k: to_heatmap(k, v, maps.stride, maps.offset, prepared, maps.origin_x) for k, v in maps.named().items()
            }
        else:
            raise ValueError(f"cam must be 'cam' or 'gradcam', got {cam!r}")
    thr = model.entry.finding_threshold if threshold is None else threshold
    geometry = MapGeometry.of(prepared)
    prepared_at = PreparedAt(presentation, {model.preprocess: prepared})  # each second network's input, once
    del presentation  # (held by prepared_at until the second networks are done)
    verified = None
    if model.verifier is not None:
        verified = yield from verify_candidates(model.verifier, image, sp, maps, geometry, prepared_at, cancel, tile)
    second = None
    if malignancy is not None:
        if verified is not None:  # every finding is one of the verified candidates
            centres = [f.center for f in verified.candidates]
        else:  # every centre the viewer can show (its operating points) and the image's candidates
            curve = model.entry.curve
            cuts = {thr, model.entry.finding_threshold, CANDIDATE_THRESHOLD}
            cuts |= {t for _, t, _ in curve.points()} if curve is not None else set()
            cut = [findings_from_maps(maps, geometry, t, max_findings=max_findings) for t in sorted(cuts)]
            centres = list(dict.fromkeys(f.center for found in cut for f in found))
        second = yield from second_stage(malignancy, image, sp, dev, tile, cancel, centres, prepared_at)
    check_cancel(cancel)
    yield Progress(900, STEPS, f"{name}: findings")
    calibration = (malignancy.entry if malignancy is not None else model.entry).calibration if calibrated else None
    source = MapsFindings(maps, geometry, max_findings, model.entry.curve, calibration, second, verified)
    findings = source.findings(thr)
    abnormal, malignant = image_scores(maps)
    if verified is not None and verified.image_abnormal is not None:
        abnormal = verified.image_abnormal
    if second is not None and malignancy is not None:
        candidates = (list(verified.candidates) if verified is not None
                      else findings_from_maps(maps, geometry, CANDIDATE_THRESHOLD))  # fmt: skip
        # p(abnormal) x p(malignant | lesion), as the detector's own maps give it: an image whose candidates are
        # weak never reads malignant.  Calibrated as the viewer shows it even for --raw-malignancy, which is for the
        # findings' malignancy (what a calibration is fitted on), so that evaluate's image AUC is the viewer's.
        lesion = second.image_malignancy(candidates)
        image_cal = malignancy.entry.calibration
        malignant = abnormal * (image_cal.apply(lesion) if image_cal is not None and lesion > 0 else lesion)
    elif calibration is not None and malignant > 0:  # the breast's malignancy reads as its findings' do
        malignant = calibration.apply(malignant)
    yield Progress(STEPS, STEPS, f"{name}: done")
    return ImageCadResult(
        path=str(image.path),
        width=image.shape[1],
        height=image.shape[0],
        view=image.view,
        pixel_spacing=(sp.row_mm, sp.col_mm),
        spacing_source=sp.source,
        spacing_estimated=sp.estimated,
        implant=image.info.meta.implant_present,
        synthesized=image.info.meta.synthesized,
        abnormal=abnormal,
        malignant=malignant,
        findings=findings,
        heatmaps=heatmaps,
        breast_mask_fraction=float(prepared.mask.mean()),
        seconds=time.perf_counter() - t0,
        threshold=thr,
        source=source,
        nipple=None  # the chest wall along the top or bottom: the farthest point from a side edge is no nipple
        if image.display.quarter_turn
        else nipple_point(prepared, mlo=image.view is not None and image.view.projection.value == "MLO"),
    )


def _laterality(image: MammoImage) -> Laterality | None:
    return image.view.laterality if image.view is not None else image.info.laterality.value


def analyse_study(
    model: LoadedModel,
    images: Sequence[MammoImage] | Study,
    *,
    device: str | torch.device | None = None,
    cam: CamMethod = "cam",
    cancel: CancelFlag = None,
    max_findings: int = DEFAULT_MAX_FINDINGS,
    tile: int | None = None,
    density: LoadedModel | None = None,
    malignancy: LoadedModel | None = None,
) -> ProgressGenerator[StudyCadResult]:
    """CAD on every image of a study, then breast and exam scores (and density, with a ``density`` model;
    the malignancy of a second-stage ``malignancy`` model, :func:`analyse_image`).

    A breast's scores are the maximum over its views: a lesion is often clearly seen in
    only one of CC/MLO, so averaging would halve exactly the signal that matters, while
    the views are too correlated for a noisy-OR to be calibrated.  The exam's scores are
    the maximum over both breasts (and images of unknown laterality).

    A view the CAD refuses (:class:`~mammoview.cad.cad_input.ImageRefused`, e.g. an image larger
    than a mammogram at its spacing) is left out and named in ``skipped``; the others are analysed.
    When every view is refused, an ``ImageRefused`` names them all.

    Yields
    ------
    Progress
        ``done`` of ``1000 * len(images)``.
    """
    t0 = time.perf_counter()
    imgs = tuple(images.images if isinstance(images, Study) else images)
    if device is not None:
        model = model.to(device)  # once for the study, not per view
    dev = model.device
    total = STEPS * len(imgs)
    results = []
    analysed = []  # the images behind ``results``
    skipped: list[SkippedImage] = []
    canvases: dict[str, FloatArray] = {}  # each view's density input, made from its presentation as it is analysed
    for i, img in enumerate(imgs):
        check_cancel(cancel)
        label = img.view.label if img.view is not None else img.path.name
        # the view as the detector read it (upright, without a black border: found once), and its presentation
        # values, computed once for every network of this view (~40 ms each for a full-field one)
        gen = _read_view(img, None, None, cancel, lambda im, sp, pres: _analyse_image(
            model, im, sp, pres, None, cam, cancel, max_findings, None, tile, None, True, malignancy))  # fmt: skip
        while True:
            try:
                p = next(gen)
            except StopIteration as stop:
                result, read = stop.value
                results.append(result)
                analysed.append(img)
                if density is not None:  # a view the detector found no breast in gets no density (an empty canvas)
                    canvas = read_canvas(density, read)
                    canvases[str(img.path)] = canvas if result.breast_found is not False else np.zeros_like(canvas)
                break
            except ImageRefused as exc:  # the CAD refuses this view (e.g. an absurd pixel spacing); the others run
                skipped.append(SkippedImage(label, img.path.name, str(exc)))
                break
            yield Progress(i * STEPS + p.done, total, f"{label} ({i + 1}/{len(imgs)}): {p.message}")
    if skipped and not results:
        raise ImageRefused("; ".join(f"{s.where}: {s.reason}" for s in skipped))
    imgs = tuple(analysed)
    views_density: dict[str, DensityResult] = {}
    if density is not None:
        check_cancel(cancel)
        views_density = assess_density(density.to(dev), imgs, canvases)
    breasts: dict[Laterality, BreastScore] = {}
    for lat in Laterality:
        mine = [r for r, img in zip(results, imgs, strict=True) if _laterality(img) is lat]
        if mine:
            # density: one image per view (the first; a retake of a view must not weigh twice in the mean)
            # (the first graded: a view without breast has no density, :func:`assess_density`), first in the
            # study's order (``image_order``, as `mammoview density`), not in the order given: the viewer gives
            # the hung images first, and the density must not depend on which of a view's images is up
            order = {r.path: image_order(img.info) for r, img in zip(results, imgs, strict=True)}
            graded = sorted((r for r in mine if r.path in views_density), key=lambda r: order[r.path])
            per_view = {r.view if r.view is not None else r.path: r for r in reversed(graded)}
            dens = per_breast([views_density[r.path] for r in graded
                               if per_view[r.view if r.view is not None else r.path] is r])  # fmt: skip
            breasts[lat] = BreastScore(lat, max(r.abnormal for r in mine), max(r.malignant for r in mine), len(mine),
                                       density=dens)  # fmt: skip
    return StudyCadResult(
        model=model.info,
        images=tuple(results),
        breasts=breasts,
        abnormal=max((r.abnormal for r in results), default=0.0),
        malignant=max((r.malignant for r in results), default=0.0),
        device=str(dev),
        seconds=time.perf_counter() - t0,
        density_model=density.info if density is not None else None,
        malignancy_model=malignancy.info if malignancy is not None else None,
        skipped=tuple(skipped),
    )
