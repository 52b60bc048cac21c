"""Hard-negative mining: where a trained model is wrong on normal tissue, cut more normal patches.

Random normal patches are mostly easy (fat, uniform parenchyma).  A first model trained on them
calls much of the dense fibroglandular tissue "lesion" when it runs over a whole mammogram, so
its maps light up every dense breast.  :class:`MapMiner` runs such a model fully convolutionally
over each prepared image (:func:`mammoview.cad.inference.whole_image_maps`, the same maps the
viewer shows) and returns the most "abnormal" breast cells; :func:`.patches.image_patches` keeps
those clear of every lesion box/circle (the same clearance as random normal patches) as extra
normal patches, marked ``origin = hard`` in ``index.csv``.  Labels are only used for that
clearance, so mining the validation images too leaks nothing: the validation normal patches then
include the hard cases the model will meet in whole images.

:class:`DetectionMiner` takes the candidates from ``mammoview detect`` JSON files instead (each
image's findings, in its stored grid): the false positives of a whole detector, at any pixel
size, for a second-stage network that re-scores the detector's findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mammoview.cad.preprocess import PreparedImage
from mammoview.training.froc import read_detections
from mammoview.training.sources import SourceImage


class MapMiner:
    """Candidate hard negatives of a prepared image: ``(x, y, p_abnormal)`` in model px, best first.

    Parameters
    ----------
    weights : Path
        A ``mammoview train`` run folder or a models folder (its default model).
    min_score : float
        Cells below this p(abnormal) are not candidates.
    max_candidates : int
        At most this many cells, best first (clearance filtering happens later).

    The model is loaded on first use in each process, so a miner can be sent to worker processes.
    """

    def __init__(self, weights: Path, min_score: float = 0.5, max_candidates: int = 200) -> None:
        self.weights = Path(weights)
        self.min_score = min_score
        self.max_candidates = max_candidates
        self._loaded: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_loaded": None}

    def describe(self) -> dict[str, Any]:
        return {"weights": str(self.weights), "min_score": self.min_score, "max_candidates": self.max_candidates}

    def _load(self) -> Any:
        if self._loaded is None:
            import tempfile

            import torch

            from mammoview.training.eval_model import resolve_model

            torch.set_num_threads(1)
            tmp = Path(tempfile.mkdtemp(prefix="mammoview-miner-"))
            self._loaded, _ = resolve_model(weights=self.weights, out_dir=tmp, device="cpu")
        return self._loaded

    def check(self, preprocessing: dict[str, Any]) -> None:
        """Refuse to mine images prepared differently from what the miner's model was trained on."""
        entry = self._load().entry
        mine = entry.preprocess_config.to_dict()  # what inference with that model uses (defaults filled)
        diff = sorted(k for k in set(mine) | set(preprocessing) if mine.get(k) != preprocessing.get(k))
        if diff:
            raise ValueError(
                f"{self.weights}: the mining model was trained with other preprocessing "
                f"({', '.join(f'{k}={mine.get(k)!r} vs {preprocessing.get(k)!r}' for k in diff)}); "
                "mine with a model of the same preprocessing"
            )

    def __call__(self, src: SourceImage, prep: PreparedImage) -> list[tuple[float, float, float]]:
        from mammoview.cad.inference import whole_image_maps
        from mammoview.cad.pipeline import drain

        loaded = self._load()
        net = loaded.fused or loaded.model
        maps = drain(whole_image_maps(net, prep, loaded.entry.patch_size, device=loaded.device))
        a = np.where(maps.mask, maps.abnormal, 0.0)
        order = np.argsort(a, axis=None)[::-1][: self.max_candidates]
        out = []
        for flat in order:
            score = float(a.flat[flat])
            if score < self.min_score:
                break
            row, col = np.unravel_index(flat, a.shape)
            x, y = maps.cell_center(float(row), float(col))
            out.append((x, y, score))
        return out


class DetectionMiner:
    """Candidate hard negatives from ``mammoview detect`` JSON: each image's findings, best first.

    Parameters
    ----------
    detections : sequence of Path
        Detect JSON files (``--threshold`` low and ``--max-findings`` high give many candidates);
        images are matched by absolute path.
    min_score : float
        Findings below this score are not candidates.
    max_candidates : int
        At most this many per image, best first (clearance filtering happens later).

    The findings' centres are in each file's stored grid, so the patch set may use any pixel
    size or preprocessing (:meth:`check` accepts all): the false positives of the detector as
    it runs in the viewer, cut at the second stage's own scale.
    """

    def __init__(self, detections: Sequence[Path], min_score: float = 0.0, max_candidates: int = 200) -> None:
        self.detections = [Path(p) for p in detections]
        self.min_score = min_score
        self.max_candidates = max_candidates
        self.candidates: dict[str, list[tuple[float, float, float]]] = {}
        for path in self.detections:
            doc = read_detections(path, scored=False)
            for img in doc["images"]:
                found = [(float(f["center"][0]), float(f["center"][1]), float(f["score"]))
                         for f in img.get("findings", [])]  # fmt: skip
                found.sort(key=lambda c: -c[2])
                self.candidates[str(Path(img["path"]).resolve())] = found

    def describe(self) -> dict[str, Any]:
        return {
            "detections": [str(p) for p in self.detections],
            "min_score": self.min_score,
            "max_candidates": self.max_candidates,
            "images": len(self.candidates),
        }

    def check(self, preprocessing: dict[str, Any]) -> None:
        """Stored-grid candidates suit any preprocessing."""

    def check_sources(self, records: Sequence[SourceImage]) -> None:
        """Refuse detections that cover none of the whole images to cut (images are matched by absolute path):
        detect JSON of another data folder would otherwise give a patch set without one mined patch, silently."""
        whole = [s for s in records if not s.is_patch]
        if whole and not any(str(Path(s.path).resolve()) in self.candidates for s in whole):
            theirs = next(iter(self.candidates), None)
            raise ValueError(
                f"{', '.join(map(str, self.detections))}: none of {len(self.candidates)} detected images is one of "
                f"the {len(whole)} images to cut (matched by absolute path: e.g. {theirs} vs "
                f"{Path(whole[0].path).resolve()}); run `mammoview detect` on this data folder"
            )

    def __call__(self, src: SourceImage, prep: PreparedImage) -> list[tuple[float, float, float]]:
        found = self.candidates.get(str(Path(src.path).resolve()), [])
        return [(x / prep.scale_x, y / prep.scale_y, s) for x, y, s in found if s >= self.min_score][
            : self.max_candidates
        ]
