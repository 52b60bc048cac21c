"""A plot is written whole or not at all: ``evaluate``, ``train`` and ``train-density`` wrote their PNGs straight
into place, so a run killed (or out of disk) while matplotlib wrote one left a truncated PNG over the good one of
the run before.  Each is now made in memory and written through :func:`mammoview.io.files.atomic_write_bytes`."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def _confusion(path: Path) -> object:
    from mammoview.training.plots import plot_confusion

    return plot_confusion([[5, 1, 0], [2, 7, 1], [0, 1, 9]], ["A", "B", "C"], path, "Patches, 3-way")


def _roc(path: Path) -> object:
    from mammoview.training.plots import plot_roc

    return plot_roc({"lesion": ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])}, path, "Patch ROC")


def _learning_curves(path: Path) -> object:
    from mammoview.training.curves import plot_learning_curves

    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_acc": 0.5, "val_acc": 0.4,
                "val_auc_lesion": 0.7, "best": e == 2} for e in (1, 2)]  # fmt: skip
    return plot_learning_curves(history, path, title="tiny")


def _contact_sheet(path: Path) -> object:
    from mammoview.training.contact import contact_sheet

    patches = [np.full((8, 8), 40 * k, np.uint8) for k in range(4)]
    return contact_sheet(patches, [f"p{k}" for k in range(4)], path)


@pytest.mark.parametrize("write", [_confusion, _roc, _learning_curves, _contact_sheet], ids=lambda f: f.__name__)
def test_a_failure_while_a_plot_is_written_leaves_the_earlier_one_whole(
    write: Callable[[Path], object], tmp_path, monkeypatch
) -> None:
    from PIL import Image

    path = tmp_path / "plot.png"
    write(path)
    before = path.read_bytes()
    assert before.startswith(b"\x89PNG")
    Image.init()
    real = Image.SAVE["PNG"]

    def out_of_disk(im, fp, filename, *args, **kwargs):  # type: ignore[no-untyped-def]
        real(im, fp, filename, *args, **kwargs)
        fp.seek(0)
        fp.truncate(100)  # half written when the disk filled up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setitem(Image.SAVE, "PNG", out_of_disk)
    with pytest.raises(OSError, match="No space"):
        write(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]  # no temporary file left either
