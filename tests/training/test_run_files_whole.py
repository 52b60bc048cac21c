"""A run folder's config.json and summary.json are whole or not there: a kill while they are written (Ctrl-C, a job
scheduler's SIGTERM, a full disk) must not leave them cut short, which `--resume`, `--install-only`, `ensemble` and
`evaluate` then refuse as unreadable JSON."""

from __future__ import annotations

import builtins
import io
import json
from pathlib import Path

import pytest

from tests.training.test_run_integrity import _train, two_sets  # noqa: F401  (fixture)


@pytest.mark.parametrize("name", ["config.json", "summary.json"])
def test_a_kill_while_a_run_file_is_written_leaves_it_whole(two_sets, tmp_path, monkeypatch, name):  # noqa: F811
    """train wrote config.json and summary.json with write_text: opened at their own name (emptied), then written.
    Here a kill comes right after such an open; a file written aside and renamed into place is never opened so."""
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    before = (run / name).read_text()
    real_open = io.open

    def killed_after_opening(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = real_open(file, mode, *args, **kwargs)
        if isinstance(file, (str, Path)) and Path(file) == run / name and set(mode) & set("wax+"):
            handle.close()
            raise KeyboardInterrupt  # the kill, between opening the file and writing it
        return handle

    monkeypatch.setattr(io, "open", killed_after_opening)
    monkeypatch.setattr(builtins, "open", killed_after_opening)
    _train(a, run, "--epochs", "2", "--resume")  # (interrupted or not: what is left must be whole)
    monkeypatch.undo()
    after = (run / name).read_text() if (run / name).exists() else before
    json.loads(after)  # a file cut short does not parse
