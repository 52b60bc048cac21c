"""JSON files of patch sets and run folders, read with errors that name the file and written whole."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mammoview.io.files import atomic_write_text


def read_json(path: str | Path) -> dict[str, Any]:
    """``json.loads`` of ``path``, a JSON object (every file of a patch set or run folder is one); ``ValueError``
    naming the file when it is not JSON (truncated, overwritten) or holds another value (a list: ``.get`` on it said
    "'list' object has no attribute 'get'", naming nothing)."""
    path = Path(path)
    text = path.read_text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not readable JSON ({exc}); was it cut short?") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not the file it should be (a JSON {type(doc).__name__}, not an object)")
    return doc


def write_json(path: Path, doc: dict[str, Any], default: Callable[[Any], Any] | None = None) -> None:
    """``doc`` as indented JSON, written aside and renamed into place: a kill mid-write leaves the earlier file or
    none, never one cut short (which --resume, --install-only, ensemble and evaluate refuse as unreadable)."""
    atomic_write_text(path, json.dumps(doc, indent=1, default=default) + "\n")  # (the user's umask: may be shared)
