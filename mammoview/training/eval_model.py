"""The model an evaluation scores, and what ``metrics.json`` records about it (:func:`model_summary`).

An installed model, a models folder (``manifest.json``) or a ``mammoview train`` run folder; a run is installed
beside ``OUT/model`` (:func:`stage_model`) and put in its place only once the evaluation's inputs are checked
(:meth:`StagedModel.install`), so detect runs exactly these weights, hash-checked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class StagedModel:
    """The model to evaluate, loaded; a run folder's installed in ``staging`` beside ``OUT/model``.

    :meth:`install` puts a staged run in place of ``OUT/model`` once the evaluation's inputs are checked, and
    :meth:`discard` removes it (and the folders staging created): a refused evaluation leaves OUT as it was.
    """

    loaded: Any
    #: the models folder detect must use (None = detect's default folder); ``OUT/model`` once installed
    models_dir: Path | None
    staging: Path | None = None
    target: Path | None = None
    #: folders that staging created (OUT and above), deepest first
    created: tuple[Path, ...] = ()

    def install(self, loaded: Any) -> Any:
        """Put the staged run in place of ``OUT/model`` (an earlier evaluation's model there is replaced); returns
        ``loaded`` (this model, as the caller adapted it) with its weights path there."""
        import shutil
        from dataclasses import replace

        if self.staging is None or self.target is None:
            return loaded
        target, staging = self.target, self.staging
        if os.path.lexists(target):
            old = staging.with_name(f"{staging.name}-old")
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old)
        else:
            staging.rename(target)
        self.staging, self.models_dir, self.created = None, target, ()
        return replace(loaded, path=target / loaded.path.name) if loaded.path is not None else loaded

    def discard(self) -> None:
        """Remove the staged run and the folders made for it."""
        import shutil

        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:  # something else was written there meanwhile: not ours to remove
                break
        self.created = ()


#: the file an evaluation writes into the models folder it installs a run into (``OUT/model``): it is that
#: evaluation's, which the next one into OUT replaces or removes; a folder without it is the user's, never touched
STAGED_MARK = "INSTALLED_BY_EVALUATE"
#: the metrics.json key saying whether its evaluation installed the model it evaluated into ``OUT/model`` (marked
#: :data:`STAGED_MARK`); a metrics.json without it is from before the mark (:func:`earlier_model_folder`)
INSTALLED_KEY = "model_installed_in_out"


def earlier_model_folder(out_dir: Path) -> Path | None:
    """``out_dir/model`` when it is the models folder an earlier evaluation installed a run into (not a link, and
    marked :data:`STAGED_MARK`, or, before the mark, named as the evaluated weights' folder by the metrics.json
    beside it): an evaluation's own file, which the next one replaces or removes. Any other folder there (a
    ``train --install-to OUT/model`` of the user's) is not an evaluation's: never replaced nor removed."""
    target = Path(out_dir) / "model"
    if not target.is_dir() or target.is_symlink() or not (target / "manifest.json").is_file():
        return None
    if (target / STAGED_MARK).is_file():
        return target
    try:  # an evaluation before the mark: its metrics.json names weights in the folder it installed
        metrics = json.loads((Path(out_dir) / "metrics.json").read_text())
        weights = metrics.get("model", {}).get("weights")
    except (OSError, ValueError, AttributeError):
        return None
    # (one since the mark says whether it installed them: the user's own evaluated in place, `--models-dir OUT/model`,
    # is named by its metrics.json just as well, and was removed by the next evaluation into OUT)
    if INSTALLED_KEY in metrics or not isinstance(weights, str):
        return None
    return target if Path(weights).resolve().parent == target.resolve() else None


def installed_here(out_dir: Path, weights: Path | None) -> bool:
    """Whether ``weights`` are in the models folder an evaluation installed into ``out_dir/model`` (marked)."""
    target = Path(out_dir) / "model"
    marked = (target / STAGED_MARK).is_file() and not target.is_symlink()
    return marked and weights is not None and Path(weights).resolve().parent == target.resolve()


def holds(models_dir: Path, sha256: str | None) -> bool:
    """Whether ``models_dir``'s manifest lists weights of this ``sha256`` (an unreadable manifest lists none)."""
    from mammoview.cad.manifest import ModelError, read_manifest

    try:
        return sha256 is not None and any(m.sha256 == sha256 for m in read_manifest(models_dir).models)
    except ModelError:
        return False


def stage_model(
    name: str | None = None,
    weights: Path | None = None,
    models_dir: Path | None = None,
    out_dir: Path | None = None,
    device: str | None = None,
) -> StagedModel:
    """Load the model to evaluate; a run folder's is staged beside ``out_dir/model``, not yet installed there.

    ``weights`` is a ``mammoview train`` run folder (``summary.json`` +
    ``checkpoints/best.safetensors``) or a folder with a ``manifest.json``.  A run is
    installed with the training code's own installer into a folder beside ``out_dir/model``,
    which :meth:`StagedModel.install` puts in its place, so detect (which only reads
    installed models) runs exactly these weights, hash-checked; that folder then holds
    this run alone (an earlier evaluation's model there is replaced).
    """
    from mammoview.cad.weights import load_model

    if weights is None:
        return StagedModel(load_model(name, models_dir, device), models_dir)
    weights = Path(weights)
    if (weights / "manifest.json").is_file():
        return StagedModel(load_model(name, weights, device), weights)
    summary_path = weights / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{weights}: neither a run folder (summary.json) nor a models folder (manifest.json)")
    if out_dir is None:
        raise ValueError("installing a run for evaluation needs an output folder")
    import secrets

    from mammoview.training.install import install_run
    from mammoview.training.jsonfile import read_json

    run_name = name or f"run-{weights.resolve().name}"
    out_dir = Path(out_dir)
    target = out_dir / "model"
    summary = read_json(summary_path)
    if os.path.lexists(target) and earlier_model_folder(out_dir) is None:  # the user's own, not ours to replace
        raise ValueError(f"{target} is not the models folder of an earlier evaluation: move it or give another --out")
    # installed beside OUT/model, then put in its place: OUT holds one evaluation, so one model (an install into
    # OUT/model itself added each run evaluated there to the earlier ones), and a failed install keeps the earlier
    created = tuple(p for p in (out_dir, *out_dir.parents) if not os.path.lexists(p))
    staging = out_dir / f".model-{secrets.token_hex(4)}"
    staging.mkdir(parents=True)  # (the user's umask, as OUT/model had: not mkdtemp's 0700)
    staged = StagedModel(None, staging, staging, target, created)
    try:
        install_run(weights, summary, run_name, staging)
        (staging / STAGED_MARK).write_text(
            "This models folder was installed by `mammoview evaluate` for the evaluation beside it; the next\n"
            "evaluation into this folder replaces or removes it. Install models of your own elsewhere.\n"
        )
        staged.loaded = load_model(run_name, staging, device)
    except BaseException:
        staged.discard()
        raise
    return staged


def resolve_model(
    name: str | None = None,
    weights: Path | None = None,
    models_dir: Path | None = None,
    out_dir: Path | None = None,
    device: str | None = None,
) -> tuple[Any, Path | None]:
    """:func:`stage_model`, with a run installed into ``out_dir/model`` at once.

    Returns
    -------
    (LoadedModel, Path or None)
        The model and the models folder (None = detect's default folder).
    """
    staged = stage_model(name, weights, models_dir, out_dir, device)
    try:
        loaded = staged.install(staged.loaded)
    finally:
        staged.discard()  # (nothing left to remove once installed)
    return loaded, staged.models_dir


def model_summary(loaded: Any) -> dict[str, Any]:
    """What ``metrics.json`` records about the model (manifest entry + parameter count)."""
    e = loaded.entry
    return {
        "name": e.name,
        "version": e.version,
        "sha256": e.sha256,
        "arch": e.arch,
        "arch_kwargs": dict(e.arch_kwargs),
        # all parameters: the loaded model is frozen (requires_grad False) but they still count
        "params": int(sum(p.numel() for p in loaded.model.parameters())),
        "pixel_size_mm": e.pixel_size_mm,
        "patch_size": e.patch_size,
        "in_chans": e.in_chans,
        "preprocessing": loaded.preprocess.to_dict(),
        "finding_threshold": e.finding_threshold,
        "test_time_flip": e.test_time_flip,
        "map_windows_px": list(e.map_windows_px) or [e.patch_size],
        "weights": str(loaded.path) if loaded.path else None,
        # the second network that re-scored the findings (the FROC is then the two stages')
        "verifier": (
            {k: getattr(loaded.verifier.entry, k) for k in ("name", "version", "sha256")}
            if getattr(loaded, "verifier", None) is not None
            else None
        ),
    }
