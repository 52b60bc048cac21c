"""A patch set's split.json and an evaluation's metrics.json are whole or as they were: they were written with
write_text (opened at their own name, emptied, then written), so a kill in between left an empty file that
extract-patches' split reuse, train and evaluate then refuse as unreadable JSON."""

from __future__ import annotations

import builtins
import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mammoview.training.report import write_metrics
from mammoview.training.split import write_split


def kill_after_opening(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    real_open = io.open

    def opened(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = real_open(file, mode, *args, **kwargs)
        if isinstance(file, (str, Path)) and Path(file) == target and set(mode) & set("wax+"):
            handle.close()
            raise KeyboardInterrupt  # the kill, between opening the file and writing it
        return handle

    monkeypatch.setattr(io, "open", opened)
    monkeypatch.setattr(builtins, "open", opened)


WRITERS: dict[str, Callable[[Path, dict[str, object]], None]] = {
    "split.json": lambda path, doc: write_split(path, doc),
    "metrics.json": lambda path, doc: write_metrics(doc, path),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_a_kill_while_an_output_file_is_written_leaves_the_old_one(tmp_path, monkeypatch, name):
    path = tmp_path / name
    WRITERS[name](path, {"version": 1})
    kill_after_opening(monkeypatch, path)
    with contextlib.suppress(KeyboardInterrupt):
        WRITERS[name](path, {"version": 2})
    monkeypatch.undo()
    assert json.loads(path.read_text()) in ({"version": 1}, {"version": 2})  # whole: the old one or the new one
    assert not [p for p in tmp_path.iterdir() if p.name != name]  # no temporary file left beside it
