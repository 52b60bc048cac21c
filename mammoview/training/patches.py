"""Cut labelled patches from the three sources, on the model grid made by ``cad.preprocess.prepare``.

Every whole image goes through :func:`mammoview.cad.preprocess.prepare` (resampling to
the model pixel size from the stored-grid spacing in :mod:`.sources`, which also undoes
the CBIS-DDSM stretch; breast mask; the paper's filters; normalisation), so patches are
exactly what whole-image inference later sees.  Per image:

- **lesion patches**: ``n`` per located mass/calcification, the first centred on the
  box/circle, the others jittered (:func:`.geometry.lesion_centres`), and shifted
  inwards where they would cross the image border;
- **normal patches**: from the breast mask (>= ``min_coverage`` breast in the window),
  clear of every lesion box/circle by half a patch plus ``normal_margin * patch``; none
  from an image with findings of unknown position (``SourceImage.unlocated_findings``).

Decisions (recorded in the manifest):

- **MIAS architectural distortion / asymmetry** (20 rows): ``mias_other="exclude"`` by
  default: no lesion patches (the tissue head has no class for them, asymmetry is a
  comparison between breasts rather than a local pattern), but their circles are still
  kept clear of normal patches; the image-level evaluation counts them as abnormal.
  ``"mass"`` maps them to mass instead.
- **MAGIC-5**: the 60 px patches (~0.085 mm, assumed) are resampled to the model pixel
  size (~17 px at 0.3 mm) and kept at that size as a *small-patch group* (``size_px``
  < ``patch_size``, stored centred in the P x P array), which the GAP network takes at
  native size.  Label-0 patches are darker and flatter than label-1 ones, so each patch
  is normalised on its own statistics (median, MAD) and rescaled to the typical local
  contrast of a window of that size inside a whole-breast-normalised image
  (``magic5_contrast``, measured 0.19 on CBIS/MIAS): neither brightness nor overall
  contrast can separate the classes, only the calcifications themselves.
- **Context** (``context`` px, default 32 from the CLI): each whole-image patch is stored
  with that much of its surroundings (``P + 2 * context`` px, filled with 0 only where
  the ring passes the image border), and training pools only the centre
  (:meth:`mammoview.cad.networks.layers.CadNet.forward_context`).  The network then
  learns the very feature cells whole-image inference computes, instead of the zero
  padding at a bare patch's edges (with bare patches the whole-image maps saturated
  on dense tissue).  Small MAGIC-5 patches have no surroundings and keep context 0.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from skimage import filters

from mammoview.cad.preprocess import PreparedImage, PreprocessConfig, normalize, prepare
from mammoview.cad.resample import resample
from mammoview.io.header_model import PixelSpacing
from mammoview.training import geometry
from mammoview.training.sources import Lesion, SourceImage

#: tissue classes of the network's softmax, in output order (docs/cad-design.md)
CLASSES = ("normal", "mass", "calcification")
#: Hard-negative candidates of one image (``.mining``): ``(x, y, score)`` in model px of ``prep``, best first.
Miner = Callable[[SourceImage, PreparedImage], list[tuple[float, float, float]]]


@dataclass(frozen=True)
class ExtractConfig:
    """How many patches, where, and the decisions above; saved in the patch-set manifest."""

    patch_size: int = 96
    context: int = 0  # px of surroundings stored around each whole-image patch (CadNet.forward_context)
    jitter: float = 0.25
    normal_margin: float = 0.25
    min_coverage: float = 0.7
    cbis_lesion_patches: int = 4
    cbis_normal_patches: int = 6
    mias_lesion_patches: int = 8
    mias_normal_patches: int = 12
    mias_other: Literal["exclude", "mass"] = "exclude"
    magic5: Literal["native", "exclude"] = "native"
    magic5_contrast: float = 0.19
    hard_negatives: int = 0  # extra normal patches per image where a miner's model is most wrong (.mining)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Patch:
    """One patch and its index.csv row (``x``: float32 C x s x s, ``s = size_px`` (+ 2 context for whole-image))."""

    x: npt.NDArray[np.float32]
    source: str
    patient: str
    image_id: str
    label: str
    malignant: bool | None
    cx: float  # stored-grid centre
    cy: float
    size_px: int
    jitter: float  # offset of the centre from the lesion centre, model px (0 for normal)
    lesion_box: tuple[float, float, float, float] | None = None  # in patch px, for contact sheets
    extra: dict[str, Any] = field(default_factory=dict)


def load_presentation(path: Path) -> npt.NDArray[np.float32]:
    """Presentation values in [0, 1] (tissue bright) through the io layer, as inference reads files
    (:func:`mammoview.cad.preprocess.presentation_of`: the header's window is not applied)."""
    from mammoview.cad.preprocess import presentation_of
    from mammoview.io import read_image

    return presentation_of(read_image(path))


def image_rng(seed: int, image_id: str) -> np.random.Generator:
    """A generator per image, so extraction does not depend on order or worker count."""
    return np.random.default_rng([seed, zlib.crc32(image_id.encode())])


def _patch_label(lesion: Lesion, cfg: ExtractConfig) -> str | None:
    if lesion.kind in ("mass", "calcification"):
        return lesion.kind
    return "mass" if cfg.mias_other == "mass" else None


def prepare_source(src: SourceImage, pcfg: PreprocessConfig) -> PreparedImage:
    """Load and prepare one whole image of a source record."""
    pres = load_presentation(src.path)
    spacing = PixelSpacing(src.spacing[0], src.spacing[1], f"{src.source} stored grid (training.sources)")
    return prepare(pres, spacing, pcfg, is_mlo=src.projection == "MLO")


def lesion_in_breast(mask: npt.NDArray[np.bool_], box: geometry.Box, min_fraction: float = 0.2) -> bool:
    """At least ``min_fraction`` of the lesion box (model grid) lies in the breast mask.

    A few mini-MIAS coordinates point at the film background (mdb212, mdb214): such a
    lesion gives no patches and its image no normal patches (its true place is unknown).
    """
    rows, cols = mask.shape
    x0, y0 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x1, y1 = min(cols, int(np.ceil(box[2])) + 1), min(rows, int(np.ceil(box[3])) + 1)
    if x1 <= x0 or y1 <= y0:
        return False
    return float(mask[y0:y1, x0:x1].mean()) >= min_fraction


def image_patches(
    src: SourceImage,
    prep: PreparedImage,
    cfg: ExtractConfig,
    notes: list[str] | None = None,
    miner: Miner | None = None,
) -> Iterator[Patch]:
    """Lesion and normal patches of one prepared whole image (see the module docstring).

    A lesion patch that would cross the image border is shifted inwards
    (:func:`.geometry.clamp_centre`; ``jitter`` records the resulting offset), so no
    patch contains anything beyond the image (a fill there would only ever appear in
    lesion patches: a shortcut).  Lesions whose box misses the breast
    (:func:`lesion_in_breast`) are skipped and noted in ``notes``.
    """
    rng = image_rng(cfg.seed, src.image_id)
    p = cfg.patch_size
    fill = 0.0
    sx, sy = prep.scale_x, prep.scale_y
    misplaced = False
    n_les = cfg.cbis_lesion_patches if src.source == "cbis" else cfg.mias_lesion_patches
    boxes: list[geometry.Box] = []
    for lesion in src.lesions:
        if lesion.bbox is None:
            continue
        box = geometry.stored_box_to_model(lesion.bbox, sx, sy)
        boxes.append(box)
        # before the label: a misplaced finding that gives no patches (mias_other="exclude") still leaves its true
        # place unknown, so no normal tissue either
        if not lesion_in_breast(prep.mask, box):
            misplaced = True
            if notes is not None:
                notes.append(f"{src.image_id}: {lesion.kind} at {lesion.center} is outside the breast mask, skipped")
            continue
        label = _patch_label(lesion, cfg)
        if label is None:
            continue
        lcx, lcy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        for xj, yj in geometry.lesion_centres(box, p, n_les, cfg.jitter, rng):
            x, y = geometry.clamp_centre(xj, yj, p, prep.shape)
            x0, y0 = geometry.patch_origin(x, y, p)
            yield Patch(
                x=geometry.crop(prep.data, x, y, p + 2 * cfg.context, fill),
                source=src.source,
                patient=src.patient,
                image_id=src.image_id,
                label=label,
                malignant=lesion.malignant,
                cx=float((x0 + p / 2) * sx),
                cy=float((y0 + p / 2) * sy),
                size_px=p,
                jitter=float(np.hypot(x - lcx, y - lcy)),
                lesion_box=(box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0),
            )
    if src.unlocated_findings or misplaced:
        return
    if src.source == "cbis":
        n_norm = cfg.cbis_normal_patches
    else:
        n_norm = cfg.mias_normal_patches if src.label == "normal" else cfg.mias_normal_patches // 2
    centres = geometry.normal_centres(
        prep.mask, boxes, p, n_norm, rng, margin=cfg.normal_margin * p, min_coverage=cfg.min_coverage
    )
    for x, y in centres:
        yield normal_patch(src, prep, x, y, cfg)
    if miner is None or cfg.hard_negatives <= 0:
        return
    chosen: list[tuple[float, float]] = []
    margin = cfg.normal_margin * p
    for mx, my, score in miner(src, prep):
        if len(chosen) >= cfg.hard_negatives:
            break
        x, y = geometry.clamp_centre(mx, my, p, prep.shape)
        if not geometry.clear_of_boxes(x, y, boxes, p, margin):
            continue
        if any(abs(x - cx) < p / 2 and abs(y - cy) < p / 2 for cx, cy in chosen):
            continue  # overlapping more than half a patch with one already taken
        chosen.append((x, y))
        yield normal_patch(src, prep, x, y, cfg, extra={"origin": "hard", "miner_score": score})


def normal_patch(
    src: SourceImage, prep: PreparedImage, x: float, y: float, cfg: ExtractConfig, extra: dict[str, Any] | None = None
) -> Patch:
    """The normal-tissue patch centred at model pixel ``(x, y)``, with ``cfg.context`` px of surroundings."""
    p = cfg.patch_size
    x0, y0 = geometry.patch_origin(x, y, p)
    return Patch(
        x=geometry.crop(prep.data, x, y, p + 2 * cfg.context, 0.0),
        source=src.source,
        patient=src.patient,
        image_id=src.image_id,
        label="normal",
        malignant=None,
        cx=float((x0 + p / 2) * prep.scale_x),
        cy=float((y0 + p / 2) * prep.scale_y),
        size_px=p,
        jitter=0.0,
        extra=dict(extra or {}),
    )


def normalize_small_patch(img: npt.NDArray[np.float32], contrast: float, clip: float) -> npt.NDArray[np.float32]:
    """Per-patch robust normalisation of a MAGIC-5 patch, rescaled to a typical local contrast.

    ``(img - median) / MAD * contrast``: the patch's own brightness and overall contrast
    are removed (the label-0 / label-1 shortcut), the calcifications stay as outliers.
    """
    med = float(np.median(img))
    mad = max(float(np.median(np.abs(img - med))) * 1.4826, 2e-3)
    out: npt.NDArray[np.float32] = np.clip((img - med) / mad * contrast, -clip, clip).astype(np.float32)
    return out


def small_patch(src: SourceImage, pcfg: PreprocessConfig, cfg: ExtractConfig) -> Patch:
    """One MAGIC-5 patch on the model grid at its own (small) size, see the module docstring."""
    pres = load_presentation(src.path)
    img = resample(pres, src.spacing, pcfg.pixel_size_mm)
    s = min(img.shape)
    img = img[:s, :s]
    chans = [normalize_small_patch(img, cfg.magic5_contrast, pcfg.clip)]
    if pcfg.sobel_channel:
        edges = filters.sobel(chans[0])  # type: ignore[no-untyped-call]
        chans.append(normalize(edges, np.ones_like(img, dtype=bool), "zscore", pcfg.clip))
    h, w = pres.shape
    return Patch(
        x=np.stack(chans).astype(np.float32),
        source=src.source,
        patient=src.patient,
        image_id=src.image_id,
        label=src.label,
        malignant=src.malignant,
        cx=w / 2.0,
        cy=h / 2.0,
        size_px=s,
        jitter=0.0,
    )


def source_patches(
    src: SourceImage,
    pcfg: PreprocessConfig,
    cfg: ExtractConfig,
    miner: Miner | None = None,
) -> tuple[list[Patch], list[str]]:
    """All patches of one source record (a whole image or a MAGIC-5 patch), and notes on skipped lesions."""
    if src.is_patch:
        return ([small_patch(src, pcfg, cfg)] if cfg.magic5 == "native" else []), []
    notes: list[str] = []
    return list(image_patches(src, prepare_source(src, pcfg), cfg, notes, miner)), notes


def quantize(x: npt.NDArray[np.float32], clip: float) -> npt.NDArray[np.uint8]:
    """``q = (x + clip) / (2 clip) * 255``, rounded to uint8 (docs/cad-design.md)."""
    q = np.rint((np.clip(x, -clip, clip) + clip) / (2.0 * clip) * 255.0)
    out: npt.NDArray[np.uint8] = q.astype(np.uint8)
    return out


def dequantize(q: npt.NDArray[np.uint8], clip: float) -> npt.NDArray[np.float32]:
    """Inverse of :func:`quantize` (up to ``clip / 255``)."""
    return (q.astype(np.float32) * np.float32(2.0 * clip / 255.0) - np.float32(clip)).astype(np.float32)


def embed(x: npt.NDArray[np.float32], patch: int) -> npt.NDArray[np.float32]:
    """Place a small ``C x s x s`` patch at the centre of a ``C x patch x patch`` zero canvas."""
    c, s, _ = x.shape
    out = np.zeros((c, patch, patch), dtype=np.float32)
    o = (patch - s) // 2
    out[:, o : o + s, o : o + s] = x
    return out


def centre_slice(size_px: int, patch: int) -> slice:
    """Where :func:`embed` put a ``size_px`` patch inside the ``patch`` canvas."""
    o = (patch - size_px) // 2
    return slice(o, o + size_px)
