"""Helpers for the tests of the exports written off the GUI thread (:mod:`mammoview.gui.export_job`)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest


class HeldWriter:
    """``owner.name`` (a function the export's job calls) held until :meth:`release`, each call's thread recorded:
    the export caught mid-write."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
        self.started, self.gate = threading.Event(), threading.Event()
        self.threads: list[threading.Thread] = []
        self._real = getattr(owner, name)
        monkeypatch.setattr(owner, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.append(threading.current_thread())
        self.started.set()
        self.gate.wait(5)  # (a bound: called on the GUI thread, the export would wait here forever)
        return self._real(*args, **kwargs)

    def release(self) -> None:
        self.gate.set()

    @property
    def off_the_gui_thread(self) -> bool:
        return bool(self.threads) and threading.main_thread() not in self.threads


def status(window) -> str:  # type: ignore[no-untyped-def]
    return str(window.statusBar().currentMessage())


def written_read_log(window, qtbot, path: Path | None) -> Path | None:  # type: ignore[no-untyped-def]
    """File ▸ Export worklist read log, waited for (it reads and writes in a worker thread): the path written, or
    None (refused at once, or its problem reported)."""
    from mammoview.gui.read_log import export_read_log

    if not export_read_log(window, path):
        return None
    blocker = qtbot.waitSignal(window.read_log_export.done, timeout=30_000)  # (its outcome comes in a later event)
    blocker.wait()
    return path if blocker.args[0] is not None else None
