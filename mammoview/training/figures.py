"""A matplotlib figure written to a PNG file whole or not at all.

``Figure.savefig(path)`` opens the file and writes as it encodes: a run killed (or out of disk) meanwhile left a
truncated PNG where the last run's good one was.  The PNG is made in memory and written as the project writes its
other output files (:func:`~mammoview.io.files.atomic_write_bytes`: a temporary file, fsync, renamed into place).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mammoview.io.files import atomic_write_bytes

if TYPE_CHECKING:  # matplotlib is imported by the plotting modules, when they plot
    from matplotlib.figure import Figure


def save_png(fig: Figure, path: Path, **savefig: Any) -> Path:
    """Write ``fig`` (on an Agg canvas) to ``path`` as a PNG, atomically; ``savefig``: ``Figure.savefig``'s options
    (``dpi``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **savefig)
    atomic_write_bytes(path, buffer.getvalue(), private=False)
    return path
