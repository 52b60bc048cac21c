"""Training checkpoints without pickle: safetensors for tensors, JSON for everything else.

A checkpoint ``<dir>/<tag>`` is three files:

- ``<tag>.safetensors``: the model's ``state_dict``;
- ``<tag>_state.safetensors``: the optimizer's tensors flattened as
  ``optim.<param index>.<name>`` plus RNG states (``rng.torch``, ``rng.augment``);
- ``<tag>.json``: epoch, optimizer ``param_groups`` and non-tensor per-parameter state,
  the numpy ``Generator`` state, the history and whatever else the trainer passes;
- ``<tag>_ema.safetensors`` (only with a weight average): the ``AveragedModel``'s state
  dict, its ``n_averaged`` counter included;
- ``<tag>_aux.safetensors`` (only with ``--aux-descriptors``): the training-only auxiliary layer.

Every file of a save is first written whole under a temporary name, then all are renamed into place
together, the JSON last, so an interrupted save never leaves a truncated file and one killed while
writing leaves the previous checkpoint as it was.  Each file carries the save's ``generation`` (a
random stamp in the safetensors metadata and the JSON); a save killed in the instant between two
renames leaves files of two saves, which :func:`load_checkpoint` refuses, naming them, instead of
resuming new weights with the previous optimizer state.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn


def atomic_file(path: Path, write: Any) -> None:
    """``write(temporary path)`` beside ``path``, then renamed onto it: ``path`` is whole or untouched; its mode the
    user's umask (a run folder may be shared), not the temporary file's 0600."""
    atomic_files([(path, write)])


def atomic_files(files: list[tuple[Path, Callable[[str], Any]]]) -> None:
    """Each ``write(temporary path)`` beside its path; once all are written, renamed onto their paths in order.

    A failure while writing leaves every path untouched; the renames take microseconds.  Modes follow the user's
    umask (a run folder may be shared), not the temporary files' 0600.
    """
    from mammoview.io.files import user_umask

    staged: list[tuple[str, Path]] = []
    try:
        for path, write in files:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            os.close(fd)
            staged.append((tmp, path))
            write(tmp)
            os.chmod(tmp, 0o666 & ~user_umask())
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors; ``ValueError`` naming the file when it is not one (never unpickled)."""
    try:
        return load_file(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # safetensors' SafetensorError: a truncated file, a pickle, anything else
        raise ValueError(f"{path}: not a readable safetensors checkpoint ({exc})") from exc


def load_state(model: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """``model.load_state_dict(state, strict=True)``, its many-line mismatch report cut to one line naming ``path``."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise ValueError(
            f"{path}: these weights do not fit {type(model).__name__} with this run's options (another "
            f"architecture or --arch-kwargs?): {detail[:200]}..."
        ) from exc


def state_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state dict as contiguous CPU tensors (what safetensors needs)."""
    return {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}


def flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``opt.state_dict()`` into tensors (for safetensors) and a JSON-able rest."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for name, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"optim.{pid}.{name}"] = v.detach().to("cpu").contiguous()
            else:
                scalars.setdefault(str(pid), {})[name] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`flatten_optimizer`: a state dict for ``Optimizer.load_state_dict``."""
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if not key.startswith("optim."):
            continue
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = v
    for pid, d in rest.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(d)
    return {"state": state, "param_groups": rest["param_groups"]}


def save_checkpoint(
    folder: Path,
    tag: str,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    *,
    np_rng: np.random.Generator | None = None,
    torch_gen: torch.Generator | None = None,
    ema: nn.Module | None = None,
    aux: nn.Module | None = None,
    extra: dict[str, Any] | None = None,
    also: Sequence[tuple[Path, Callable[[str], Any]]] = (),
) -> Path:
    """Write checkpoint ``tag`` in ``folder`` (see the module docstring); returns the JSON path.

    ``also``: other files ``(path, write(temporary path))`` renamed into place with this save, before its JSON (the
    run's best epoch, which the JSON names: a save killed meanwhile keeps both as they were).
    """
    folder.mkdir(parents=True, exist_ok=True)
    generation = secrets.token_hex(8)
    stamp = {"generation": generation}
    weights = state_tensors(model)
    meta = dict(stamp)
    if extra and "config" in extra:
        meta["config"] = json.dumps(extra["config"], default=_json_default)
    files: list[tuple[Path, Callable[[str], Any]]] = [
        (folder / f"{tag}.safetensors", lambda p: save_file(weights, p, metadata=meta))
    ]
    tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
    doc: dict[str, Any] = {**(extra or {}), "generation": generation}
    if optimizer is not None:
        opt_t, opt_rest = flatten_optimizer(optimizer)
        tensors.update(opt_t)
        doc["optimizer"] = opt_rest
    if torch_gen is not None:
        tensors["rng.augment"] = torch_gen.get_state()
    if np_rng is not None:
        doc["numpy_rng"] = np_rng.bit_generator.state
    files.append((folder / f"{tag}_state.safetensors", lambda p: save_file(tensors, p, metadata=stamp)))
    if ema is not None:
        ema_t = state_tensors(ema)
        files.append((folder / f"{tag}_ema.safetensors", lambda p: save_file(ema_t, p, metadata=stamp)))
    if aux is not None:  # its optimizer moments are in the state file: the two must come from one save
        aux_t = state_tensors(aux)
        files.append((folder / f"{tag}_aux.safetensors", lambda p: save_file(aux_t, p, metadata=stamp)))
    text = json.dumps(doc, indent=1, default=_json_default) + "\n"
    files += also
    files.append((folder / f"{tag}.json", lambda p: Path(p).write_text(text)))
    atomic_files(files)  # the JSON last: it says which save the others belong to
    return folder / f"{tag}.json"


def _check_generation(path: Path, generation: object, json_path: Path) -> None:
    """``path`` was written by the save whose JSON says ``generation`` (None: a checkpoint from before the stamp)."""
    if generation is None:
        return
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            theirs = (f.metadata() or {}).get("generation")
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ValueError(f"{path}: not a readable safetensors checkpoint ({exc})") from exc
    if theirs != generation:
        raise ValueError(
            f"{path} belongs to another save than {json_path} (a save interrupted between its files): this "
            "checkpoint cannot be resumed; train again with --overwrite, or install the run's best epoch"
        )


def load_checkpoint(
    folder: Path,
    tag: str,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    np_rng: np.random.Generator | None = None,
    torch_gen: torch.Generator | None = None,
    ema: nn.Module | None = None,
    aux: nn.Module | None = None,
) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote into the given objects; returns the JSON document."""
    json_path = folder / f"{tag}.json"
    if not json_path.exists():
        raise FileNotFoundError(f"{json_path} not found: no checkpoint {tag!r} to resume from")
    from mammoview.training.jsonfile import read_json

    doc: dict[str, Any] = read_json(json_path)
    generation = doc.get("generation")
    for name in (f"{tag}.safetensors", f"{tag}_state.safetensors"):
        _check_generation(folder / name, generation, json_path)
    load_state(model, read_tensors(folder / f"{tag}.safetensors"), folder / f"{tag}.safetensors")
    tensors = read_tensors(folder / f"{tag}_state.safetensors")
    if ema is not None:
        ema_path = folder / f"{tag}_ema.safetensors"
        if not ema_path.exists():
            raise FileNotFoundError(f"{ema_path} not found: the checkpoint was saved without a weight average")
        _check_generation(ema_path, generation, json_path)
        load_state(ema, read_tensors(ema_path), ema_path)
    if aux is not None:
        aux_path = folder / f"{tag}_aux.safetensors"
        _check_generation(aux_path, generation, json_path)
        load_state(aux, read_tensors(aux_path), aux_path)
    if optimizer is not None and "optimizer" in doc:
        optimizer.load_state_dict(unflatten_optimizer(tensors, doc["optimizer"]))
    torch.set_rng_state(tensors["rng.torch"])
    if torch_gen is not None and "rng.augment" in tensors:
        torch_gen.set_state(tensors["rng.augment"])
    if np_rng is not None and "numpy_rng" in doc:
        np_rng.bit_generator.state = doc["numpy_rng"]
    return doc


def load_weights(path: Path, model: nn.Module) -> nn.Module:
    """Load a ``<tag>.safetensors`` state dict into ``model`` (strict; ``ValueError`` naming ``path``)."""
    load_state(model, read_tensors(path), path)
    return model


def _json_default(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def init_weights_path(init_from: str) -> Path:
    """The weights file ``init_from`` names: a run folder's best epoch or a ``.safetensors`` file."""
    path = Path(init_from)
    if path.is_dir():
        path = path / "checkpoints" / "best.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: init_from needs a finished run folder or a .safetensors file")
    return path
