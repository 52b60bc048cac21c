"""The networks that run after the detector on one image: the verifier and the second-stage malignancy.

Each prepares the image at its own pixel size (once per preprocessing, shared through
:func:`prepared_once`) and classifies crops centred on the detector's candidates
(:mod:`mammoview.cad.verification`, :mod:`mammoview.cad.malignancy`).  Progress generators, as
:mod:`mammoview.cad.pipeline`, whose :func:`rescale` maps a sub-step's progress onto its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import torch

from mammoview.cad.device import deterministic
from mammoview.cad.findings import MapGeometry, findings_from_maps, score_near
from mammoview.cad.inference import CancelFlag, check_cancel, whole_image_maps
from mammoview.cad.malignancy import MalignancyMap, SecondStage, crop_malignancy
from mammoview.cad.networks.layers import CadNet
from mammoview.cad.preprocess import PreparedImage, PreprocessConfig, prepare_image
from mammoview.cad.probability_maps import ProbabilityMaps
from mammoview.cad.resample import FloatArray
from mammoview.cad.types import Progress, ProgressGenerator
from mammoview.cad.verification import VerificationSettings, Verified, merge_candidates, verify
from mammoview.cad.weights import LoadedModel
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MammoImage

R = TypeVar("R")
#: progress units per image (:data:`mammoview.cad.pipeline.STEPS`)
STEPS = 1000


class PreparedAt(dict[PreprocessConfig, PreparedImage]):
    """One image prepared for each network's preprocessing, and its presentation values (computed once: ~40 ms for
    a full-field view) that a preparation not made yet starts from."""

    def __init__(
        self, presentation: FloatArray | None = None, prepared: dict[PreprocessConfig, PreparedImage] | None = None
    ) -> None:
        super().__init__(prepared or {})
        self.presentation = presentation


def prepared_once(image: MammoImage, cfg: PreprocessConfig, spacing: PixelSpacing,
                  cache: dict[PreprocessConfig, PreparedImage]) -> PreparedImage:  # fmt: skip
    """``image`` prepared with ``cfg``, from ``cache`` when another network of this image needed the same."""
    if cfg not in cache:
        cache[cfg] = prepare_image(image, cfg, spacing, presentation=getattr(cache, "presentation", None))
    return cache[cfg]


def verify_candidates(
    verifier: LoadedModel,
    image: MammoImage,
    spacing: PixelSpacing,
    maps: ProbabilityMaps,
    geometry: MapGeometry,
    prepared_at: dict[PreprocessConfig, PreparedImage],
    cancel: CancelFlag,
    tile: int | None = None,
) -> ProgressGenerator[Verified]:
    """The detector's candidates re-scored by ``verifier`` (:mod:`mammoview.cad.verification`).

    With ``own_map_threshold`` in its settings, the verifier's own whole-image map adds the
    candidates the detector's map did not propose (:func:`~mammoview.cad.verification.merge_candidates`).
    """
    settings = VerificationSettings.of(verifier.entry)
    candidates = findings_from_maps(maps, geometry, settings.candidate_threshold,
                                    max_findings=settings.max_candidates, clip_to_window=True)  # fmt: skip
    check_cancel(cancel)
    yield Progress(860, STEPS, f"{image.path.name}: verification")
    net = verifier.model
    if not isinstance(net, CadNet):
        raise TypeError(f"{type(net).__name__} is not a CadNet")
    prepared = prepared_once(image, verifier.preprocess, spacing, prepared_at)
    context = int(verifier.entry.extra.get("context_px", 0))
    if settings.own_map_threshold is not None:
        fast = verifier.inference_net
        if not isinstance(fast, CadNet):
            raise TypeError(f"{type(fast).__name__} is not a CadNet")
        gen = whole_image_maps(fast, prepared, verifier.entry.patch_size, device=verifier.device, tile=tile,
                               cancel=cancel, precision=verifier.precision, flip=verifier.entry.test_time_flip,
                               windows_px=verifier.entry.map_windows_px or None)  # fmt: skip
        with deterministic():
            own_maps = yield from rescale(gen, 860, 880, f"{image.path.name}: verifier map")
        own = findings_from_maps(own_maps, MapGeometry.of(prepared), settings.own_map_threshold,
                                 max_findings=settings.own_map_candidates, clip_to_window=True)  # fmt: skip
        mm = (geometry.pixel_size_mm / geometry.scale_x, geometry.pixel_size_mm / geometry.scale_y)
        candidates = merge_candidates(
            candidates, own, lambda x, y: score_near(maps, x / geometry.scale_x, y / geometry.scale_y),
            settings.own_min_distance_mm, mm,
        )  # fmt: skip
    with deterministic():
        return verify(net, prepared, verifier.entry.patch_size, context, candidates, settings.weight)


def second_stage(
    model: LoadedModel,
    image: MammoImage,
    spacing: PixelSpacing,
    device: torch.device,
    tile: int | None,
    cancel: CancelFlag,
    centres: Sequence[tuple[float, float]],
    prepared_at: dict[PreprocessConfig, PreparedImage] | None = None,
) -> ProgressGenerator[SecondStage]:
    """The second-stage network on ``image`` (its own pixel size, flip, windows): crops at ``centres``, and its map."""
    if model.entry.task != "malignancy":
        raise ValueError(f"{model.entry.name} is a {model.entry.task} model, not a malignancy model")
    model = model.to(device)
    prepared = prepared_once(image, model.preprocess, spacing, {} if prepared_at is None else prepared_at)
    net = model.inference_net
    if not isinstance(net, CadNet):
        raise TypeError(f"{type(net).__name__} is not a CadNet")
    gen = whole_image_maps(net, prepared, model.entry.patch_size, device=model.device, tile=tile, cancel=cancel,
                           precision=model.precision, flip=model.entry.test_time_flip,
                           windows_px=model.entry.map_windows_px or None)  # fmt: skip
    with deterministic():
        maps = yield from rescale(gen, 880, 900, f"{image.path.name}: malignancy")
        context = int(model.entry.extra.get("context_px", 0))
        full = model.model
        if not isinstance(full, CadNet):
            raise TypeError(f"{type(full).__name__} is not a CadNet")
        values = crop_malignancy(full, prepared, model.entry.patch_size, context, centres)
    return SecondStage(dict(zip(centres, values, strict=True)), MalignancyMap.of(maps, prepared))


def rescale(gen: ProgressGenerator[R], lo: int, hi: int, name: str) -> ProgressGenerator[R]:
    """Map a sub-step's ``done/total`` onto ``[lo, hi]`` of :data:`STEPS`."""
    while True:
        try:
            p = next(gen)
        except StopIteration as stop:
            result: R = stop.value
            return result
        frac = p.done / p.total if p.total else 1.0
        yield Progress(lo + round((hi - lo) * frac), STEPS, f"{name}: {p.message}")
