"""JSON files of patch sets and run folders, read with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


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
