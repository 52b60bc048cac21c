"""JSON files of patch sets and run folders, read with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: str | Path) -> Any:
    """``json.loads`` of ``path``; ``ValueError`` naming the file when it is not JSON (truncated, overwritten)."""
    path = Path(path)
    text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not readable JSON ({exc}); was it cut short?") from None
