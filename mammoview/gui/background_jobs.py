"""Jobs off the GUI thread: each one run by its own worker, and only the newest one's outcome reported.

One QObject worker per job, moved to its own QThread (STYLE.md); results come back
through queued signals, so widgets are only touched in main-thread slots.  Submitting
a new job makes the running one stale: it is told to stop at its next check and
its result, if any, is dropped.  A job is a function ``job(progress, cancelled)``:
:mod:`mammoview.gui.loader`'s scans and loads, :mod:`mammoview.gui.frames`' slices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore

from mammoview.io.dicom import NOT_ERRORS

if TYPE_CHECKING:
    from mammoview.gui.loader import LoadedStudy

#: a job's progress: a line for the status bar, or (a load) the study's preview to show while it decodes in full
Progress = Callable[["str | LoadedStudy"], None]
Cancelled = Callable[[], bool]


class JobCancelled(Exception):
    """Raised inside a job when a newer job replaced it."""


class _Worker(QtCore.QObject):
    finished = QtCore.Signal(int, object)
    errored = QtCore.Signal(int, object)
    progress = QtCore.Signal(int, object)  # a str, or a load's preview

    def __init__(self, job_id: int, fn: Callable[[Progress, Cancelled], Any], cancelled: Cancelled) -> None:
        super().__init__()
        self._id, self._cancelled = job_id, cancelled
        self._fn: Callable[[Progress, Cancelled], Any] | None = fn

    @QtCore.Slot()
    def run(self) -> None:
        fn, self._fn = self._fn, None  # the job's closure (a slice job holds the image on screen) dies with the job
        if fn is None:  # run once only
            return
        try:
            result = fn(lambda msg: self.progress.emit(self._id, msg), self._cancelled)
        except BaseException as exc:  # reported to the GUI, never lost in the thread (a native library's panic too:
            if isinstance(exc, NOT_ERRORS):  # the job must end, or the viewer waits on it)
                raise
            self.errored.emit(
                self._id, exc if isinstance(exc, Exception) else RuntimeError(f"{type(exc).__name__}: {exc}")
            )
        else:
            self.finished.emit(self._id, result)


class BackgroundJobs(QtCore.QObject):
    """Runs jobs in worker threads; only the newest job's outcome is reported.

    Signals ``progress(str)``, ``finished(object)`` and ``errored(object)`` are emitted
    in the main thread, for the current job only.
    """

    progress = QtCore.Signal(str)
    partial = QtCore.Signal(object)  # what a job sends on the way that is no text (a load's preview)
    finished = QtCore.Signal(object)
    errored = QtCore.Signal(object)

    def __init__(self, parent: QtCore.QObject | None = None,
                 priority: QtCore.QThread.Priority = QtCore.QThread.Priority.InheritPriority) -> None:  # fmt: skip
        super().__init__(parent)
        self._priority = priority  # LowPriority for work the reader has not asked for yet (prefetch)
        self._current = 0
        self._threads: dict[int, tuple[QtCore.QThread, _Worker]] = {}

    @property
    def busy(self) -> bool:
        return self._current in self._threads

    @property
    def current(self) -> int:
        """The newest job's id (what :meth:`submit` returned for it; a later submit or :meth:`cancel` changes it)."""
        return self._current

    def submit(self, fn: Callable[[Progress, Cancelled], Any]) -> int:
        """Start ``fn(progress, cancelled)`` in a new thread; any older job becomes stale."""
        self._current += 1
        job_id = self._current
        thread = QtCore.QThread()
        worker = _Worker(job_id, fn, lambda: job_id != self._current)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(self._on_finished)
        worker.errored.connect(self._on_errored)
        worker.progress.connect(self._on_progress)
        self._threads[job_id] = (thread, worker)
        thread.start(self._priority)
        return job_id

    def cancel(self) -> None:
        """Make the running job stale (it stops at its next check; its result is dropped)."""
        self._current += 1

    def hurry(self) -> None:
        """Run the current job at normal priority (the reader now waits for what was background work)."""
        entry = self._threads.get(self._current)
        if entry is not None:
            entry[0].setPriority(QtCore.QThread.Priority.NormalPriority)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Drop all jobs and wait for their threads (before the application quits)."""
        self.cancel()
        for thread, _ in list(self._threads.values()):
            thread.quit()
            thread.wait(timeout_ms)
        self._threads.clear()

    @QtCore.Slot(int, object)
    def _on_finished(self, job_id: int, result: object) -> None:
        self._retire(job_id)
        if job_id == self._current:
            self.finished.emit(result)

    @QtCore.Slot(int, object)
    def _on_errored(self, job_id: int, exc: object) -> None:
        self._retire(job_id)
        if job_id == self._current and not isinstance(exc, JobCancelled):
            self.errored.emit(exc)

    @QtCore.Slot(int, object)
    def _on_progress(self, job_id: int, message: object) -> None:
        if job_id == self._current:
            (self.progress if isinstance(message, str) else self.partial).emit(message)

    def _retire(self, job_id: int) -> None:
        entry = self._threads.pop(job_id, None)
        if entry is not None:
            thread, worker = entry
            # deleted while its thread still runs: a thread that has finished never runs a deferred delete posted
            # to it later (QThread's end runs the ones posted by then), and every worker (and its job) stayed alive
            worker.deleteLater()
            thread.quit()
            thread.wait()
            thread.deleteLater()
