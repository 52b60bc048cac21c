"""Read a patch set written by ``mammoview extract-patches`` (docs/cad-design.md, "Patch sets").

>>> ps = PatchSet("runs/patches/default")
>>> val = ps.split("val")                       # indices of validation patches
>>> for size, idx in ps.groups(val).items():    # 96 (whole-image patches), 17 (MAGIC-5)
...     x, y, mal = ps.tensors(idx)             # float32 N,C,s,s; int64 class; float32 0/1/NaN

The whole array stays in memory as uint8 (``images``); :func:`dequantize` turns it
back into normalised values (``x = q / 255 * 2 clip - clip``).  Small patches
(``size_px < patch_size``) sit centred in their slot; :meth:`PatchSet.crop` and
:meth:`PatchSet.tensors` cut them out, so a network never sees the empty border.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mammoview.training.jsonfile import read_json
from mammoview.training.patches import CLASSES, centre_slice
from mammoview.training.patches import dequantize as _dequantize
from mammoview.training.split import read_split_patients

if TYPE_CHECKING:
    import torch

IntArray = npt.NDArray[np.int64]


def dequantize(q: npt.NDArray[np.uint8], clip: float = 4.0) -> npt.NDArray[np.float32]:
    """uint8 patches -> normalised float32 values (inverse of the extraction quantisation)."""
    return _dequantize(q, clip)


class PatchSet:
    """A patch set folder, loaded into memory.

    Attributes
    ----------
    root : Path
    manifest : dict
        ``manifest.json`` (config, preprocessing, counts).
    images : ndarray, uint8, shape (N, C, P, P)
    index : list of dict
        ``index.csv`` rows, typed: ``id``/``size_px`` int, ``cx``/``cy``/``jitter`` float,
        ``malignant`` True/False/None, the rest str.
    labels : ndarray of str; y : int64 class index into :data:`CLASSES` (-1 for another label)
    malignant : float32, 1 / 0 / NaN (unknown or normal)
    sources, patients, splits : ndarray of str; sizes : int64 (content size in px)
    clip : float; patch_size : int; pixel_size_mm : float; preprocessing : dict
    context : int
        Px of surroundings stored around each whole-image patch (``slot = patch_size + 2 context``).
    """

    def __init__(self, root: str | Path, *, mmap: bool = False) -> None:
        self.root = Path(root)
        for name in ("manifest.json", "index.csv", "patches.npy"):
            if not (self.root / name).exists():
                raise FileNotFoundError(f"{self.root / name} not found (make it with `mammoview extract-patches`)")
        self.manifest: dict[str, Any] = read_json(self.root / "manifest.json")
        missing = [
            k for k in ("quantization", "patch_size", "pixel_size_mm", "preprocessing") if k not in self.manifest
        ]
        if missing:
            raise ValueError(
                f"{self.root / 'manifest.json'} has no {', '.join(missing)}: not a patch set this version reads "
                f"(format {self.manifest.get('format', 'unknown')}); cut it again with `mammoview extract-patches`"
            )
        try:
            self.images: npt.NDArray[np.uint8] = np.load(self.root / "patches.npy", mmap_mode="r" if mmap else None)
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{self.root / 'patches.npy'}: not a readable patch array ({exc})") from exc
        with open(self.root / "index.csv", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in INDEX_READ if c not in (reader.fieldnames or ())]
            if missing:
                raise ValueError(f"{self.root / 'index.csv'}: no column {', '.join(missing)}; cut the patch set again")
            try:
                self.index: list[dict[str, Any]] = [_typed(r) for r in reader]
            except (TypeError, ValueError) as exc:  # a row cut short (None) or edited
                raise ValueError(
                    f"{self.root / 'index.csv'} line {reader.line_num}: not a patch row ({exc}); cut the patch set "
                    "again"
                ) from None
        if len(self.index) != self.images.shape[0]:
            raise ValueError(f"{self.root}: {len(self.index)} index rows but {self.images.shape[0]} patches")
        self.clip = float(self.manifest["quantization"]["clip"])
        self.patch_size = int(self.manifest["patch_size"])
        self.context = int(self.manifest.get("context_px", 0))  # surroundings of whole-image patches
        self.slot = int(self.images.shape[-1]) if self.images.ndim == 4 else self.patch_size + 2 * self.context
        self.pixel_size_mm = float(self.manifest["pixel_size_mm"])
        self.preprocessing: dict[str, Any] = dict(self.manifest["preprocessing"])
        self.labels = np.array([r["label"] for r in self.index], dtype=object)
        self.y: IntArray = np.array([CLASSES.index(v) if v in CLASSES else -1 for v in self.labels], dtype=np.int64)
        self.malignant = np.array(
            [np.nan if r["malignant"] is None else float(r["malignant"]) for r in self.index], dtype=np.float32
        )
        self.sources = np.array([r["source"] for r in self.index], dtype=object)
        self.patients = np.array([r["patient"] for r in self.index], dtype=object)
        self.splits = np.array([r["split"] for r in self.index], dtype=object)
        self.sizes: IntArray = np.array([r["size_px"] for r in self.index], dtype=np.int64)
        #: "lesion", "random" (normal) or "hard" (mined normal); "" in patch sets made before mining existed
        self.origins = np.array([r.get("origin", "") for r in self.index], dtype=object)
        if (self.root / "split.json").is_file():  # the split every command reads must be the one index.csv holds
            split = {k: set(v) for k, v in self.split_patients().items()}
            for side in sorted(set(self.splits.tolist())):
                stray = set(self.patients[self.splits == side].tolist()) - split.get(side, set())
                if stray:
                    raise ValueError(
                        f"{self.root}: index.csv puts patient {sorted(stray)[0]} in {side!r} but split.json does not "
                        "(an interrupted extract-patches?); cut the patch set again"
                    )

    def __len__(self) -> int:
        return len(self.index)

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    def split(self, name: str) -> IntArray:
        """Indices of the patches in split ``name`` (``"train"`` or ``"val"``)."""
        return np.flatnonzero(self.splits == name).astype(np.int64)

    def data_dir(self) -> Path:
        """The data folder the patches (and their split) were cut from, while it is there.

        Once it has moved, :func:`~mammoview.training.sources.default_data_dir` (``$MAMMOVIEW_DATA``, as ``evaluate``
        looks for it): the images are matched to the split by patient ID only, so another folder must not stand in
        for the patch set's own.
        """
        from mammoview.training.sources import default_data_dir

        made_from = Path(self.manifest.get("data_dir") or "")
        return made_from if self.manifest.get("data_dir") and made_from.is_dir() else default_data_dir()

    def split_patients(self) -> dict[str, list[str]]:
        """``split.json``'s patients per split."""
        return read_split_patients(self.root / "split.json")

    def groups(self, indices: npt.ArrayLike | None = None) -> dict[int, IntArray]:
        """``indices`` (default all) grouped by content size ``size_px``, largest first."""
        idx = np.arange(len(self), dtype=np.int64) if indices is None else np.asarray(indices, dtype=np.int64)
        return {int(s): idx[self.sizes[idx] == s] for s in sorted(set(self.sizes[idx].tolist()), reverse=True)}

    def context_of(self, size: int) -> int:
        """Context px stored around a patch of content size ``size`` (whole-image patches only)."""
        return self.context if size == self.patch_size else 0

    def crop(self, indices: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """uint8 ``(n, C, s + 2 c, s + 2 c)`` of patches that all have the same ``size_px`` ``s``.

        ``c`` is :meth:`context_of` ``s``: whole-image patches come with their surroundings
        (feed them to ``CadNet.forward_context``), small patches as their bare content.
        """
        idx = np.asarray(indices, dtype=np.int64)
        sizes = set(self.sizes[idx].tolist())
        if len(sizes) > 1:
            raise ValueError(f"patches of several sizes {sorted(sizes)}; group them with PatchSet.groups()")
        s = sizes.pop() if sizes else self.patch_size
        sl = centre_slice(s + 2 * self.context_of(s), self.slot)
        return np.ascontiguousarray(self.images[idx][:, :, sl, sl])

    def arrays(self, indices: npt.ArrayLike) -> tuple[npt.NDArray[np.float32], IntArray, npt.NDArray[np.float32]]:
        """Numpy ``(x, y, malignant)`` for same-size patches: dequantised float32, class index, 1/0/NaN."""
        idx = np.asarray(indices, dtype=np.int64)
        return dequantize(self.crop(idx), self.clip), self.y[idx], self.malignant[idx]

    def tensors(self, indices: npt.ArrayLike) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Torch ``(x, y, malignant)`` for same-size patches (see :meth:`arrays`)."""
        import torch

        x, y, m = self.arrays(indices)
        return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(m)


#: the index.csv columns read here (extract.INDEX_COLUMNS has them all; origin is absent from older patch sets)
INDEX_READ = ("id", "source", "patient", "image_id", "split", "label", "malignant", "cx", "cy", "size_px", "jitter")


def _typed(r: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(r)
    out["id"] = int(r["id"])
    out["size_px"] = int(r["size_px"])
    for k in ("cx", "cy", "jitter"):
        out[k] = float(r[k])
    out["malignant"] = None if r["malignant"] == "" else r["malignant"] == "1"
    return out
