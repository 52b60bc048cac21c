"""What a training run's folder may start from: a fresh run never mixes with another run's files, and a resumed
run continues only on the patch set (split and pixels) it was trained on."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mammoview.training.patch_identity import match_recorded_id, note_index_only

#: the manifest fields that make a patch set's pixels: a resumed run on other pixels is refused by their
#: :func:`~mammoview.training.patch_identity.patch_set_id`, but these name which setting differs
PIXEL_KEYS = ("pixel_size_mm", "patch_size", "context_px", "channels", "preprocessing", "quantization")


def pixel_settings(manifest: dict[str, Any]) -> dict[str, Any]:
    """The :data:`PIXEL_KEYS` of a patch-set manifest, as a resumed run compares them."""
    return {k: manifest.get(k) for k in PIXEL_KEYS}


def pixel_differences(theirs: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """``"key ours (the run's: theirs)"`` for each setting that differs, a dict's (preprocessing) by its own keys."""
    out = []
    for k in PIXEL_KEYS:
        a, b = theirs.get(k), ours.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{k}.{s} {b.get(s)!r} (the run's: {a.get(s)!r})" for s in sorted({*a, *b}) if a.get(s) != b.get(s)]
        elif a != b:
            out.append(f"{k} {b!r} (the run's: {a!r})")
    return out


#: what a run writes in its folder (``overwrite`` removes them first)
RUN_FILES = ("summary.json", "config.json", "learning_curves.png")


def check_run_folder(out_dir: Path, resume: bool, overwrite: bool) -> None:
    """A fresh run never mixes with another run's files: refused unless ``overwrite`` (:func:`clear_run_folder`)."""
    if resume:
        return
    held = [p for p in (out_dir / "summary.json", out_dir / "checkpoints" / "last.json") if p.exists()]
    if held and not overwrite:
        raise FileExistsError(
            f"{out_dir} already holds a training run ({held[0].relative_to(out_dir)}): --resume continues it, "
            "--overwrite replaces it, or choose another --out"
        )


def clear_run_folder(out_dir: Path, resume: bool, overwrite: bool) -> None:
    """``overwrite``: remove the other run's files, once the new run has checked its inputs (a patch set it cannot
    train on used to cost the old run and start nothing)."""
    if overwrite and not resume:
        for name in RUN_FILES:
            (out_dir / name).unlink(missing_ok=True)
        shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)


def check_resumed_patch_set(trained_on: dict[str, Any], patches_dir: Path, current: str, out_dir: Path) -> None:
    """Refuse to resume on another patch set than the run's, or on its own cut again (other split or pixels)."""
    if not trained_on:
        return
    recorded, own = str(trained_on.get("id")), Path(str(trained_on.get("dir")))
    match = match_recorded_id(recorded, patches_dir, current)
    if match == "index only":
        note_index_only(out_dir, patches_dir)
    elif match == "other" and own.resolve() == Path(patches_dir).resolve():
        raise ValueError(
            f"{patches_dir} has been cut again since {out_dir} was trained on it (patch set {recorded}, now "
            f"{current}: its index.csv or patches.npy differs); resume on the patch set it was trained on, or start "
            "a new run"
        )
    elif match == "other":
        raise ValueError(
            f"{patches_dir} (patch set {current}) is not the patch set {out_dir} was trained on ({own}, patch set "
            f"{recorded}: another index.csv or other pixels); resume with --patches {own}"
        )
