"""Early stopping on what the product does: whole-image detection on validation mammograms.

Patch-level AUCs move with the random normal patches and say little about the whole-image maps
(two runs with the same patch AUC can differ by ten points of FROC sensitivity).  A
:class:`DetectionMonitor` prepares a fixed set of validation whole images once, then after each
epoch runs the network fully convolutionally over them (the viewer's own maps and findings,
:func:`mammoview.cad.inference.whole_image_maps` and
:func:`mammoview.cad.pipeline.findings_from_maps`) and scores the marks with the evaluation's
FROC (:func:`mammoview.training.froc.froc`).  Its score is the mean sensitivity at 0.25, 0.5, 1
and 2 false positives per image: steadier than one operating point.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from mammoview.cad.preprocess import PreparedImage, PreprocessConfig
from mammoview.training.froc import FrocCase, Mark, froc
from mammoview.training.sources import SourceImage, cbis_images

if TYPE_CHECKING:
    from mammoview.training.datasets import PatchSet

#: Region threshold for the candidates: low, so the FROC reaches 2 false positives per image.
CANDIDATE_THRESHOLD = 0.1
MAX_FINDINGS = 10


def monitor_images(data_dir: Path, val_patients: Sequence[str], n: int) -> list[SourceImage]:
    """The first ``n`` validation CBIS-DDSM images (sorted by id) whose masses all have a position."""
    allowed = set(val_patients)
    images = [
        im for im in cbis_images(data_dir)
        if im.patient in allowed and not im.unlocated_findings and all(les.bbox is not None for les in im.lesions)
    ]  # fmt: skip
    return sorted(images, key=lambda im: im.image_id)[: max(0, n)]


class DetectionMonitor:
    """FROC of whole-image detection on fixed validation images, for early stopping.

    Parameters
    ----------
    images
        Validation whole images with located lesions (:func:`monitor_images`).
    pcfg
        The patch set's preprocessing (the network's input).
    patch_size
        The training patch size (model px): the patch-equivalent window of the maps.
    prepared
        Already prepared images in the order of ``images`` (tests); default: prepared here.
    """

    def __init__(
        self,
        images: Sequence[SourceImage],
        pcfg: PreprocessConfig,
        patch_size: int,
        prepared: Sequence[PreparedImage] | None = None,
    ) -> None:
        from mammoview.training.patches import prepare_source

        self.images = list(images)
        self.patch_size = int(patch_size)
        self.prepared = list(prepared) if prepared is not None else [prepare_source(s, pcfg) for s in self.images]
        if len(self.prepared) != len(self.images):
            raise ValueError("one prepared image per source image")

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def __call__(self, net: torch.nn.Module) -> dict[str, Any]:
        """``{"val_froc": mean sensitivity, "val_froc_sens_at_1": ..., "val_froc_lesions": n}`` for ``net``."""
        from mammoview.cad.inference import whole_image_maps
        from mammoview.cad.pipeline import drain, findings_from_maps

        was_training = net.training
        net.eval()
        try:
            cases = []
            for src, prep in zip(self.images, self.prepared, strict=True):
                maps = drain(whole_image_maps(net, prep, self.patch_size))  # type: ignore[arg-type]
                found = findings_from_maps(maps, prep, CANDIDATE_THRESHOLD, max_findings=MAX_FINDINGS)
                marks = tuple(Mark(f.center[0], f.center[1], f.score) for f in found)
                cases.append(FrocCase(src.image_id, src.lesions, marks))
        finally:
            net.train(was_training)
        result = froc(cases)
        return {
            "val_froc": result.mean_sensitivity,
            "val_froc_sens_at_1": result.sensitivity_at(1.0),
            "val_froc_lesions": result.n_lesions,
        }


def detection_monitor(ps: PatchSet, n_images: int) -> DetectionMonitor:
    """The ``froc`` monitor: ``n_images`` validation CBIS images of the patch set's data.

    The data folder is ``$MAMMOVIEW_DATA`` when set, else the one the patch set was cut from
    (its manifest's ``data_dir``) when it still exists, else :func:`default_data_dir`.

    Raises
    ------
    ValueError
        If the patch set's data folder holds no such image (the monitor would score nothing).
    """
    data = ps.data_dir()
    images = monitor_images(data, ps.split_patients().get("val", []), n_images)
    if not images:
        raise ValueError(f"--monitor froc: no validation CBIS-DDSM image with located masses under {data}")
    return DetectionMonitor(images, PreprocessConfig.from_dict(ps.manifest["preprocessing"]), ps.patch_size)
