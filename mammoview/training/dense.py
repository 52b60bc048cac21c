"""Dense training on whole-image crops: every window position of a crop is a labelled patch.

Patch training (:mod:`.train`) labels one window per sample: a patch with its context, of
which ``CadNet.forward_context`` pools the centre.  Whole-image inference computes the same
number at *every* cell of a mammogram (the patch-equivalent maps of
:mod:`mammoview.cad.inference`: the CAM averaged over 96 and 64 px windows).  Dense training
labels all of them at once: a crop of ``crop_px`` of a prepared whole training image is run
through the network, the CAM of its interior cells (``context_px`` of surroundings dropped on
every side, as ``forward_context`` does) is averaged over the model's map windows at stride 1,
exactly as inference averages it, and every window position gets a target:

- **lesion** (mass / calcification, with its malignancy when known) where the window centre
  lies inside the lesion's box (CBIS-DDSM) or circle (mini-MIAS), or within
  ``positive_radius_px`` of its centre (so a lesion smaller than a cell still has one);
- **ignore** where the window still overlaps a lesion (centre closer to the box than half the
  largest window), where the centre is outside the breast mask or the image (inference never
  scores those cells), everywhere in an image with findings of unknown position (a CBIS view
  also in the calcification set, a MIAS row without coordinates, a lesion placed outside the
  breast) except its located lesions, and around MIAS distortions / asymmetries;
- **normal** everywhere else in the breast.

So one crop of 320 px carries ~120 labelled windows instead of one, every normal window of
the breast is a candidate negative (the hard negatives that patch training had to mine with a
first model come for free), and the loss is on the very maps the viewer thresholds.  The loss
is the mean of a normal term (half the mean cross-entropy of the normal windows, half the mean
of their hardest ``hard_fraction``: online hard-negative mining) and a lesion term (mean over
lesion windows), plus the masked malignancy BCE over lesion windows of known pathology.

Half of each batch's crops (``lesion_fraction``) are placed so that a training lesion (drawn
with square-root class balancing) falls at a random window position; the rest are centred on a
random breast pixel of an image whose normal tissue may be labelled.  The 8 flips / 90 degree
rotations transform a crop and its target grid together (the grid is symmetric about the crop
centre, :func:`.augment.dihedral_pair`); intensity augmentation is :func:`.augment.augment` without its
geometric parts.  The window logits are :func:`.validate.dense_logits`, the loss
:func:`.losses.dense_loss`, the step :func:`.steps.dense_train_step`.
The patient split, validation patches and MAGIC-5 small patches come from the patch set, so a
dense run is validated and early-stopped exactly like a patch run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import torch

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.training import geometry
from mammoview.training.patches import lesion_in_breast, prepare_source
from mammoview.training.sources import SourceImage, SourceName, all_sources

if TYPE_CHECKING:
    from mammoview.training.datasets import PatchSet

#: target value of a window that enters no loss
IGNORE = -1


@dataclass(frozen=True)
class DenseConfig:
    """Dense-training settings (``TrainConfig.dense``); saved with the run."""

    crop_px: int = 320
    batch: int = 16  # crops per step (16 x 320^2 px = the pixels of 64 patches of 96 + 2 x 32 px)
    lesion_fraction: float = 0.5
    hard_fraction: float = 0.1  # the hardest normal windows of a batch, weighted as much as all of them
    positive_radius_px: float = 8.0
    windows_px: tuple[int, ...] = (96, 64)  # the maps' windows (the model entry's map_windows_px)
    small_weight: float = 0.2  # weight of the MAGIC-5 small-patch loss (a fifth, as in patch training's batches)
    #: whole-image patches of the patch set per step besides the crops (0 = crops only), their loss x patch_weight
    patch_batch: int = 0
    patch_weight: float = 1.0
    #: lesion term = mean over the lesions of a batch of the mean over each lesion's windows (a small mass
    #: weighs as much as a large one); False: the mean over all lesion windows (large masses dominate)
    per_lesion: bool = False
    sources: tuple[SourceName, ...] = ("cbis", "mias")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["windows_px"] = list(self.windows_px)
        d["sources"] = list(self.sources)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DenseConfig:
        d = dict(d)
        for k in ("windows_px", "sources"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


@dataclass(frozen=True)
class DenseLesion:
    """A lesion on the model grid: box ``(x0, y0, x1, y1)``, optional circle ``(cx, cy, r)``."""

    box: geometry.Box
    label: int  # 1 mass, 2 calcification, IGNORE = a finding that is neither (kept clear, never a target)
    malignant: float  # 1 / 0 / NaN
    circle: tuple[float, float, float] | None = None

    @property
    def centre(self) -> tuple[float, float]:
        if self.circle is not None:
            return self.circle[0], self.circle[1]
        return (self.box[0] + self.box[2]) / 2.0, (self.box[1] + self.box[3]) / 2.0


@dataclass(eq=False)
class DenseImage:
    """One prepared training image: float16 data ``(H, W)``, breast mask, lesions, whether normal may be labelled."""

    image_id: str
    patient: str
    source: str
    data: npt.NDArray[np.float16]
    mask: npt.NDArray[np.bool_]
    lesions: list[DenseLesion] = field(default_factory=list)
    normals: bool = True

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.data.shape[0]), int(self.data.shape[1])


def dense_image(src: SourceImage, pcfg: PreprocessConfig) -> DenseImage:
    """Prepare one whole image (the inference road, :func:`.patches.prepare_source`) with its lesions."""
    prep = prepare_source(src, pcfg)
    if prep.data.shape[0] != 1:
        raise ValueError(f"dense training takes one input channel, {src.image_id} has {prep.data.shape[0]}")
    lesions: list[DenseLesion] = []
    normals = not src.unlocated_findings
    for les in src.lesions:
        if les.bbox is None:
            normals = False
            continue
        box = geometry.stored_box_to_model(les.bbox, prep.scale_x, prep.scale_y)
        label = {"mass": 1, "calcification": 2}.get(les.kind, IGNORE)
        if label != IGNORE and not lesion_in_breast(prep.mask, box):
            normals = False  # its true place is unknown (see lesion_in_breast)
            continue
        circle = None
        if les.radius is not None and les.center is not None:
            circle = (les.center[0] / prep.scale_x, les.center[1] / prep.scale_y, les.radius / prep.scale_x)
        mal = math.nan if les.malignant is None else float(les.malignant)
        lesions.append(DenseLesion(box, label, mal, circle))
    return DenseImage(
        image_id=src.image_id,
        patient=src.patient,
        source=src.source,
        data=prep.data[0].astype(np.float16),
        mask=prep.mask.copy(),
        lesions=lesions,
        normals=normals,
    )


def load_dense_images(
    data_dir: Path,
    patients: Sequence[str],
    pcfg: PreprocessConfig,
    sources: Sequence[SourceName] = ("cbis", "mias"),
    workers: int = 1,
    progress: bool = False,
) -> list[DenseImage]:
    """Every whole image of ``patients`` from ``sources``, prepared (``workers`` processes; order kept)."""
    from functools import partial

    from tqdm import tqdm

    allowed = set(patients)
    srcs = [s for s in all_sources(data_dir, [s for s in sources if s != "magic5"]) if s.patient in allowed]
    srcs = [s for s in srcs if not s.is_patch]
    work = partial(dense_image, pcfg=pcfg)
    if workers <= 1:
        return [work(s) for s in tqdm(srcs, desc="prepare", disable=not progress)]
    with ProcessPoolExecutor(workers) as pool:
        return list(tqdm(pool.map(work, srcs, chunksize=8), total=len(srcs), desc="prepare", disable=not progress))


@dataclass(frozen=True)
class WindowGrid:
    """Where the labelled windows of a crop are (see :func:`window_grid`)."""

    crop_px: int
    stride: int
    margin: int  # cells of context dropped on each side
    windows: tuple[int, ...]  # in cells, all even or all odd
    starts: tuple[int, ...]  # per window: first pooled index on the common centre grid
    centres: npt.NDArray[np.float64]  # (K,) window centres, px in the crop (the same for x and y)

    @property
    def size(self) -> int:
        return int(self.centres.shape[0])


def window_grid(crop_px: int, stride: int, context_px: int, windows_px: Sequence[int]) -> WindowGrid:
    """The common centres of every map window inside a crop's interior.

    The interior is the crop without ``context_px`` on each side (``n`` cells).  A window of
    ``w`` cells pooled at stride 1 has ``n - w + 1`` positions; an even window is centred on a
    cell corner, an odd one on a cell centre (as :func:`mammoview.cad.probability_maps.patch_equivalent`).
    All windows are averaged at the centres they share: ``n - max(w) + 1`` per side.

    Raises
    ------
    ValueError
        If the sizes are not multiples of the stride, the windows mix even and odd cell
        counts, or the interior is smaller than the largest window.
    """
    from mammoview.cad.probability_maps import map_windows

    if crop_px % stride or context_px % stride:
        raise ValueError(f"crop {crop_px} px and context {context_px} px must be multiples of the stride {stride}")
    cells = map_windows(max(windows_px), stride, windows_px)
    m = context_px // stride
    n = crop_px // stride - 2 * m
    wmax = max(cells)
    k = n - wmax + 1
    if k < 1:
        raise ValueError(f"a {crop_px} px crop with {context_px} px of context has no room for a {wmax}-cell window")
    first = m + wmax / 2.0  # even: corner index; odd: (wmax - 1) / 2 + 0.5 cells, the same expression
    centres = (first + np.arange(k)) * stride
    starts = tuple((wmax - w) // 2 for w in cells)
    return WindowGrid(crop_px, stride, m, cells, starts, centres.astype(np.float64))


def crop_targets(
    img: DenseImage, x0: int, y0: int, grid: WindowGrid, positive_radius_px: float = 8.0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Targets ``(K, K)`` of a crop at ``(x0, y0)``: class (IGNORE / 0 / 1 / 2), malignancy (1 / 0 / NaN), weight.

    The weight of a lesion window is 1 / (the number of windows of its lesion in the crop), 1 elsewhere.
    """
    xs = x0 + grid.centres
    ys = y0 + grid.centres
    xx, yy = np.meshgrid(xs, ys)
    h, w = img.shape
    inside = (xx > 0) & (xx < w) & (yy > 0) & (yy < h)
    rows = np.clip(np.floor(yy).astype(int), 0, h - 1)
    cols = np.clip(np.floor(xx).astype(int), 0, w - 1)
    inside &= img.mask[rows, cols]
    target = np.full(xx.shape, IGNORE, dtype=np.int64)
    mal = np.full(xx.shape, np.nan, dtype=np.float32)
    weight = np.ones(xx.shape, dtype=np.float32)
    half = max(grid.windows) * grid.stride / 2.0
    near = np.zeros(xx.shape, dtype=bool)
    for les in img.lesions:
        bx0, by0, bx1, by1 = les.box
        dx = np.maximum(np.maximum(bx0 - xx, xx - bx1), 0.0)
        dy = np.maximum(np.maximum(by0 - yy, yy - by1), 0.0)
        near |= (dx < half) & (dy < half)
        if les.label == IGNORE:
            continue
        cx, cy = les.centre
        if les.circle is not None:
            pos = (xx - cx) ** 2 + (yy - cy) ** 2 <= les.circle[2] ** 2
        else:
            pos = (dx == 0.0) & (dy == 0.0)
        pos |= np.hypot(xx - cx, yy - cy) <= positive_radius_px
        pos &= inside
        target[pos] = les.label
        mal[pos] = les.malignant
        weight[pos] = 1.0 / max(1, int(pos.sum()))
    if img.normals:
        target[(target == IGNORE) & inside & ~near] = 0
    return target, mal, weight


def crop_data(img: DenseImage, x0: int, y0: int, size: int) -> npt.NDArray[np.float32]:
    """The ``size`` x ``size`` float32 window at origin ``(x0, y0)``, 0 beyond the image."""
    out = np.zeros((size, size), dtype=np.float32)
    h, w = img.shape
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + size), min(h, y0 + size)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = img.data[sy0:sy1, sx0:sx1]
    return out


class DenseSampler:
    """Draws batches of crops with their target grids (see the module docstring)."""

    def __init__(self, images: Sequence[DenseImage], cfg: DenseConfig, grid: WindowGrid, balance: float = 0.5) -> None:
        self.images = list(images)
        self.cfg = cfg
        self.grid = grid
        self.lesions = [(i, j) for i, im in enumerate(self.images) for j, les in enumerate(im.lesions) if les.label > 0]
        labels = np.array([self.images[i].lesions[j].label for i, j in self.lesions], dtype=np.int64)
        if labels.size:
            from mammoview.training.losses import class_sampling_weights

            self.lesion_p = class_sampling_weights(labels, balance)
        else:
            self.lesion_p = np.zeros(0)
        self.normal_images = [i for i, im in enumerate(self.images) if im.normals and im.mask.any()]
        if not self.lesions and not self.normal_images:
            raise ValueError("dense training: no image with a located lesion or labelled normal tissue")
        # every 7th breast pixel: enough to place crop centres, a fraction of the memory
        self._breast = {i: np.flatnonzero(self.images[i].mask.ravel())[::7] for i in self.normal_images}

    def counts(self) -> dict[str, int]:
        labels = [self.images[i].lesions[j].label for i, j in self.lesions]
        return {
            "images": len(self.images),
            "normal_images": len(self.normal_images),
            "masses": int(sum(v == 1 for v in labels)),
            "calcifications": int(sum(v == 2 for v in labels)),
        }

    def _origin(self, x: float, y: float, rng: np.random.Generator) -> tuple[int, int]:
        """A crop origin that puts ``(x, y)`` at a random window centre of the grid."""
        lo, hi = float(self.grid.centres[0]), float(self.grid.centres[-1])
        return round(x - rng.uniform(lo, hi)), round(y - rng.uniform(lo, hi))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` (n, 1, S, S) float32, ``y`` (n, K, K) int64, ``malignant`` and ``weight`` (n, K, K) float32."""
        s = self.cfg.crop_px
        k = self.grid.size
        xb = np.zeros((n, 1, s, s), dtype=np.float32)
        yb = np.full((n, k, k), IGNORE, dtype=np.int64)
        mb = np.full((n, k, k), np.nan, dtype=np.float32)
        wb = np.ones((n, k, k), dtype=np.float32)
        for b in range(n):
            if self.lesions and (not self.normal_images or rng.random() < self.cfg.lesion_fraction):
                i, j = self.lesions[int(rng.choice(len(self.lesions), p=self.lesion_p))]
                img = self.images[i]
                cx, cy = img.lesions[j].centre
            else:
                i = self.normal_images[int(rng.integers(len(self.normal_images)))]
                img = self.images[i]
                flat = int(rng.choice(self._breast[i]))
                cy, cx = divmod(flat, img.shape[1])
            x0, y0 = self._origin(float(cx), float(cy), rng)
            xb[b, 0] = crop_data(img, x0, y0, s)
            yb[b], mb[b], wb[b] = crop_targets(img, x0, y0, self.grid, self.cfg.positive_radius_px)
        return torch.from_numpy(xb), torch.from_numpy(yb), torch.from_numpy(mb), torch.from_numpy(wb)


def dense_sampler(
    ps: PatchSet, dcfg: DenseConfig, stride: int, workers: int, balance: float, progress: bool
) -> DenseSampler:
    """The training patients' whole images of the patch set's data, prepared as the patches were."""
    grid = window_grid(dcfg.crop_px, stride, ps.context, dcfg.windows_px)
    images = load_dense_images(
        ps.data_dir(),
        ps.split_patients().get("train", []),
        PreprocessConfig.from_dict(ps.manifest["preprocessing"]),
        dcfg.sources,
        workers=workers,
        progress=progress,
    )
    return DenseSampler(images, dcfg, grid, balance)
