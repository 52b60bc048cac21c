"""Write a patch set (``mammoview extract-patches``): patches, index, split, manifest, contact sheets.

Layout of ``DIR`` (docs/cad-design.md, "Patch sets"):

- ``patches.npy``: uint8 ``N x C x S x S``, :func:`.patches.quantize` of the normalised values,
  ``S = P + 2 * context_px`` (a whole-image patch with its surroundings); a small-patch row
  (MAGIC-5, ``size_px < P``) sits centred in its slot;
- ``index.csv``: one row per patch, columns :data:`INDEX_COLUMNS`;
- ``split.json``: patients per split (:mod:`.split`);
- ``manifest.json``: configuration, preprocessing, decisions and counts, the SHA-256 of ``patches.npy``;
- ``contact_<label>.png``: random patches of each class for a visual check;
- ``.extract-*/``: the next cut while it is written, renamed into place once whole (left behind only by a killed
  extraction: the next one into ``DIR`` removes it, :mod:`.staging`).
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.io.files import atomic_write_text, sync_folder
from mammoview.io.model import LoadError
from mammoview.training import patches as pt
from mammoview.training.contact import contact_sheet, pick_for_sheet
from mammoview.training.patch_identity import pixels_record
from mammoview.training.sources import SOURCE_FOLDERS, SourceImage, SourceName, all_sources, default_data_dir
from mammoview.training.split import split_document, split_patients, write_split
from mammoview.training.staging import remove_leftovers, staging_folder

FORMAT = "mammoview-patches/1"
INDEX_COLUMNS = (
    "id",
    "source",
    "patient",
    "image_id",
    "split",
    "label",
    "malignant",
    "cx",
    "cy",
    "size_px",
    "jitter",
    "lesion_box",
    "origin",
)

DECISIONS = {
    "mias_other": "MIAS architectural distortion / asymmetry: no lesion patches (config mias_other), their "
    "circles are kept clear of normal patches; image-level evaluation counts them as abnormal.",
    "magic5": "MAGIC-5 60 px patches at ~0.085 mm (assumed) resampled to the model pixel size and kept at that "
    "small size (size_px), centred in the P x P slot; normalised per patch (median/MAD) and rescaled to "
    "magic5_contrast so brightness/contrast cannot give the label away.",
    "normal_sampling": "Normal patches: window >= min_coverage breast mask, clear of every lesion box/circle by "
    "half a patch + normal_margin * patch; none from images with findings of unknown position (MIAS rows "
    "without coordinates; CBIS mass images whose view is also in the CBIS calcification set).",
    "image_border": "A lesion patch that would cross the image border is shifted inwards (never filled): normal "
    "patches never cross it, so a filled strip would be a lesion-only shortcut.",
    "context": "Whole-image patches are stored with `context_px` of surroundings (slot_size = patch_size + 2 "
    "context_px; 0 beyond the image border, as whole-image inference pads); training pools only the centre "
    "patch_size (CadNet.forward_context), so it learns what whole-image inference computes.",
    "hard_negatives": "With --hard-negatives-from, up to hard_negatives extra normal patches per image at the "
    "cells a first model scores most abnormal, clear of every lesion (the random-normal clearance); "
    "index.csv origin = hard. Both splits are mined (labels only decide the clearance).",
    "cbis_stretch": "CBIS-DDSM 800x800 JPEGs resampled with the stored-grid spacing (0.29 x 0.177 mm), which "
    "undoes the square stretch.",
}


def _work(
    src: SourceImage, pcfg: PreprocessConfig, ecfg: pt.ExtractConfig, miner: Any = None
) -> tuple[list[pt.Patch], list[str], str | None]:
    """Patches and notes of one record, or why its file could not be read (one bad file of many is skipped)."""
    try:
        return (*pt.source_patches(src, pcfg, ecfg, miner), None)
    except LoadError as exc:  # missing, truncated, not an image: str() names the file
        return [], [], str(exc)


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def extract_patch_set(
    out_dir: Path,
    *,
    data_dir: Path | None = None,
    pcfg: PreprocessConfig | None = None,
    ecfg: pt.ExtractConfig | None = None,
    val_fraction: float = 0.2,
    which: Sequence[SourceName] = ("cbis", "mias", "magic5"),
    workers: int = 1,
    progress: bool = True,
    command: str = "",
    miner: Any = None,
) -> dict[str, Any]:
    """Extract every patch of the chosen sources into ``out_dir`` and return the manifest.

    Parameters
    ----------
    out_dir : Path
        Created when the patches are cut (not before: a failed extraction leaves none); an existing patch set is
        replaced once the new one is written whole (until then both are on disk).
    data_dir : Path, optional
        Data root (default :func:`~mammoview.training.sources.default_data_dir`).
    pcfg, ecfg : PreprocessConfig, ExtractConfig
        Preprocessing switches (baked into the patches) and extraction settings.
    val_fraction : float
        Fraction of patients (per stratum) in the validation split.
    workers : int
        Processes; results do not depend on it (one generator per image).
    """
    from tqdm import tqdm

    t0 = time.perf_counter()
    pcfg = pcfg or PreprocessConfig()
    ecfg = ecfg or pt.ExtractConfig()
    data_dir = data_dir or default_data_dir()
    check_out_dir(out_dir)
    remove_leftovers(out_dir)  # a killed extraction's new set, before this one needs the room
    if miner is not None:
        miner.check(pcfg.to_dict())
    records = all_sources(data_dir, which)
    if not records:  # labels with their header only: an empty patch set was written, exit 0
        raise ValueError(f"{data_dir}: the labels of {', '.join(which)} list no image to cut patches from")
    if miner is not None and hasattr(miner, "check_sources"):
        miner.check_sources(records)
    # the split is drawn over every source of the data folder, whichever are cut here: split_patients draws one
    # random sequence over all strata, so leaving a source out would move patients of the others across the split
    every: list[SourceName] = [s for s, f in SOURCE_FOLDERS.items() if s in which or (data_dir / f).is_dir()]
    split_records = records if list(which) == every else all_sources(data_dir, every)
    assignment = split_patients(split_records, val_fraction, ecfg.seed)

    p, c = ecfg.patch_size, pcfg.in_channels
    slot = p + 2 * ecfg.context
    arrays: list[np.ndarray] = []
    rows: list[dict[str, Any]] = []
    boxes: list[tuple[float, float, float, float] | None] = []
    notes: list[str] = []
    skipped: list[str] = []  # why each unreadable file was left out
    fn = partial(_work, pcfg=pcfg, ecfg=ecfg, miner=miner)
    bar = tqdm(total=len(records), desc="extract", unit="img", disable=not progress)
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        results = pool.map(fn, records, chunksize=8) if pool else map(fn, records)
        for src, (plist, why, unreadable) in zip(records, results, strict=True):
            bar.update(1)
            notes.extend(why)
            if unreadable is not None:
                skipped.append(unreadable)
            for patch in plist:
                x = patch.x if patch.size_px == p else pt.embed(patch.x, slot)
                arrays.append(pt.quantize(x, pcfg.clip))
                boxes.append(patch.lesion_box)
                rows.append(
                    {
                        "id": len(rows),
                        "source": patch.source,
                        "patient": patch.patient,
                        "image_id": patch.image_id,
                        "split": assignment[src.patient],
                        "label": patch.label,
                        "malignant": "" if patch.malignant is None else int(patch.malignant),
                        "cx": _fmt(patch.cx),
                        "cy": _fmt(patch.cy),
                        "size_px": patch.size_px,
                        "jitter": _fmt(patch.jitter),
                        "lesion_box": "" if patch.lesion_box is None else " ".join(map(_fmt, patch.lesion_box)),
                        "origin": patch.extra.get("origin", "lesion" if patch.label != "normal" else "random"),
                    }
                )
    finally:
        bar.close()
        if pool:
            pool.shutdown()
    if records and len(skipped) == len(records):
        more = f" (and the {len(skipped) - 1} other images)" if len(skipped) > 1 else ""
        raise ValueError(f"no image could be read: {skipped[0]}{more}")
    if not rows:
        raise ValueError(f"no patch was cut from the {len(records)} images (every patch count 0?): nothing written")
    images = np.stack(arrays)
    out_dir.mkdir(parents=True, exist_ok=True)  # only now: an extraction that failed leaves no empty folder
    # the new set is written whole beside the old one (a hidden folder of out_dir: the same file system) and renamed
    # into place at the end: stopped or out of disk while writing, the old set is kept as it was. The cost: both sets
    # on disk until then, as keeping the old one needs
    with staging_folder(out_dir) as staging:
        try:
            written = _write_set(staging, images, rows, boxes, ecfg.seed,
                                 split_document(assignment, split_records, val_fraction, ecfg.seed))  # fmt: skip
        except OSError as exc:
            raise OSError(exc.errno, f"{out_dir}: the new patch set could not be written ({exc.strerror or exc}); "
                          "the old one is kept (free some space, or choose another --out)") from exc  # fmt: skip
        elapsed = time.perf_counter() - t0
        manifest = {
            "format": FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "data_dir": str(data_dir),
            "sources": list(which),
            "pixel_size_mm": pcfg.pixel_size_mm,
            "patch_size": p,
            "context_px": ecfg.context,
            "slot_size": slot,
            "channels": c,
            "classes": list(pt.CLASSES),
            "preprocessing": pcfg.to_dict(),
            "normalization": f"robust z-score inside the breast mask, clipped to +-{pcfg.clip:g}",
            "quantization": {"clip": pcfg.clip, "formula": "q = round((x + clip) / (2 clip) * 255)"},
            "patches_npy": written["patches_npy"],
            "extract": ecfg.to_dict(),
            "hard_negative_miner": miner.describe() if miner is not None else None,
            "val_fraction": val_fraction,
            "decisions": DECISIONS,
            "counts": count_patches(rows),
            "n_patches": len(rows),
            "n_images": len(records),
            "skipped_images": skipped,
            "notes": notes,
            "contact_sheets": written["contact_sheets"],
            "seconds": round(elapsed, 1),
        }
        atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=1) + "\n")
        _place_set(staging, out_dir, ["patches.npy", "index.csv", "split.json", *written["contact_sheets"]])
    return manifest


def _write_set(
    folder: Path,
    images: np.ndarray,
    rows: list[dict[str, Any]],
    boxes: list[tuple[float, float, float, float] | None],
    seed: int,
    split: dict[str, Any],
) -> dict[str, Any]:
    """The patch set's files in ``folder`` (flushed to disk: renamed into place next); returns the manifest's
    entries written here (the caller's are added before it is written)."""
    with open(folder / "patches.npy", "wb") as fh:
        np.save(fh, images)
        fh.flush()
        os.fsync(fh.fileno())
    pixels = pixels_record(folder / "patches.npy")  # hashed once here: the patch set's id needs it (patch_identity)
    with open(folder / "index.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=INDEX_COLUMNS)
        w.writeheader()
        w.writerows(rows)
        fh.flush()
        os.fsync(fh.fileno())
    write_split(folder / "split.json", split)
    sheets = write_contact_sheets(folder, images, rows, boxes, seed)
    return {"patches_npy": pixels, "contact_sheets": [s.name for s in sheets]}


def _place_set(staging: Path, out_dir: Path, names: Sequence[str]) -> None:
    """Rename the new set's files from ``staging`` over the old set's, its manifest removed first and put last:
    stopped in between (renames only), the new patches never stand under the old set's manifest (its preprocessing,
    read as theirs); without one, the folder is refused until it is cut again."""
    (out_dir / "manifest.json").unlink(missing_ok=True)
    sync_folder(out_dir)
    for name in names:
        os.replace(staging / name, out_dir / name)
    os.replace(staging / "manifest.json", out_dir / "manifest.json")
    sync_folder(out_dir)


def check_out_dir(out_dir: Path) -> None:
    """Refuse an ``out_dir`` holding a ``manifest.json`` that is not a patch set's (a models folder's): the patch
    set's would replace it (``extract-patches --out models`` lost every installed model). A patch set's own is
    replaced by the new cut, as documented; so is none (an extraction stopped while writing removed it)."""
    from mammoview.training.jsonfile import read_json

    path = out_dir / "manifest.json"
    if not path.exists():
        return
    try:
        doc = read_json(path)
    except ValueError as exc:
        why = str(exc)
    else:
        if str(doc.get("format", "")).startswith(FORMAT.split("/")[0]) or "patch_size" in doc:
            return
        why = "a models folder's" if "models" in doc else f"no patch set's format {FORMAT!r}"
    raise ValueError(f"{path} is not a patch set's manifest ({why}): cutting a patch set into {out_dir} would "
                     "replace it; give another folder")  # fmt: skip


def count_patches(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Patch counts per split / source / label, pathology of lesion patches, patients per split."""
    by: dict[str, Any] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    path: dict[str, Any] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    patients: dict[str, Any] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        by[r["split"]][r["source"]][r["label"]] += 1
        patients[r["split"]][r["source"]].add(r["patient"])
        if r["label"] != "normal":
            m = {"": "unknown", 1: "malignant", 0: "benign"}[r["malignant"]]
            path[r["split"]][r["label"]][m] += 1
    return {
        "patches": json.loads(json.dumps(by)),
        "lesion_pathology": json.loads(json.dumps(path)),
        "patients": {s: {k: len(v) for k, v in d.items()} for s, d in patients.items()},
    }


def write_contact_sheets(
    out_dir: Path,
    images: np.ndarray,
    rows: Sequence[dict[str, Any]],
    boxes: Sequence[tuple[float, float, float, float] | None],
    seed: int,
    n: int = 64,
) -> list[Path]:
    """``contact_<label>.png`` per class: random patches with source, image, split, pathology."""
    rng = np.random.default_rng(seed)
    labels = sorted({r["label"] for r in rows})
    p = images.shape[-1] if images.size else 0
    out = []
    for lab in labels:
        idx = [i for i, r in enumerate(rows) if r["label"] == lab]
        pick = [idx[k] for k in pick_for_sheet([rows[i]["source"] for i in idx], n, rng)]
        tiles, titles, bx = [], [], []
        for i in pick:
            r = rows[i]
            s = pt.centre_slice(int(r["size_px"]), p)
            tiles.append(images[i, 0, s, s])
            mal = {"": "", 1: " M", 0: " B"}[r["malignant"]]
            titles.append(f"{r['source']} {r['image_id'][:14]}\n{r['split']}{mal} j={float(r['jitter']):.0f}")
            bx.append(boxes[i])
        out.append(
            contact_sheet(
                tiles,
                titles,
                out_dir / f"contact_{lab}.png",
                boxes=bx,
                heading=f"{lab}: {len(pick)} of {len(idx)} patches (yellow = lesion box/circle bounds)",
            )
        )
    return out
