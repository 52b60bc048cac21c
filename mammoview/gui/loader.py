"""Loading off the GUI thread: scan paths into studies, then decode, hang and prepare one study.

One QObject worker per job, moved to its own QThread (STYLE.md); results come back
through queued signals, so widgets are only touched in main-thread slots.  Opening
a new study makes the running job stale: it is told to stop at its next check and
its result, if any, is dropped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6 import QtCore

from mammoview.gui.display_image import DisplayImage, prepare_display
from mammoview.gui.helper_process import GIL_BOUND_SYNTAXES, HelperGroup, HelperProcess, decoder_for, holds_gil
from mammoview.io import hang, load_study, open_paths
from mammoview.io.dicom import NOT_ERRORS
from mammoview.io.model import Hanging, LoadError, MammoImage, Study, StudyInfo
from mammoview.io.reader import SpacingOption

Progress = Callable[[str], None]
Cancelled = Callable[[], bool]


class JobCancelled(Exception):
    """Raised inside a job when a newer job replaced it."""


@dataclass(frozen=True)
class ScanOutcome:
    """Studies found under the opened paths, and the files that could not be read."""

    paths: tuple[str, ...]
    studies: tuple[StudyInfo, ...]
    errors: tuple[LoadError, ...]


@dataclass(frozen=True)
class LoadedStudy:
    """A decoded, hung study with the display data of every image (keyed by identity)."""

    study: Study
    hanging: Hanging
    displays: dict[MammoImage, DisplayImage]
    timings: dict[str, float] = field(default_factory=dict)


def scan_job(paths: Sequence[str | Path], pixel_spacing: SpacingOption) -> Callable[[Progress, Cancelled], ScanOutcome]:
    def run(progress: Progress, cancelled: Cancelled) -> ScanOutcome:
        progress(f"Reading headers of {len(paths)} path(s)…")
        studies, errors = open_paths([Path(p) for p in paths], pixel_spacing=pixel_spacing)
        return ScanOutcome(tuple(str(p) for p in paths), tuple(studies), tuple(errors))

    return run


def load_job(
    info: StudyInfo,
    max_workers: int | None = None,
    helper: HelperProcess | HelperGroup | None = None,
    syntaxes: tuple[str, ...] = GIL_BOUND_SYNTAXES,
    background: Callable[[], bool] | None = None,
) -> Callable[[Progress, Cancelled], LoadedStudy]:
    """Decode (io's thread pool), hang, then build pyramids in parallel (numpy releases the GIL).

    With ``helper`` the files of ``syntaxes`` (transfer syntaxes whose decoders hold the GIL) are decoded in that
    helper process, so the viewer does not stall on them (while ``background()``: :func:`decoder_for`).
    """
    workers = max_workers or min(4, max(2, os.cpu_count() or 2))
    slow = helper is not None and any(holds_gil(i, syntaxes) for i in info.images)

    def run(progress: Progress, cancelled: Cancelled) -> LoadedStudy:
        # a file waiting for a busy helper gives up when the job goes stale (not decoded after the reader stepped on)
        decoder = decoder_for(helper, syntaxes, background, cancelled) if slow and helper is not None else None
        t0 = time.perf_counter()
        progress(f"Decoding {len(info.images)} image(s)…")
        study = load_study(info, max_workers=workers, cancelled=cancelled, decoder=decoder)
        t1 = time.perf_counter()
        if cancelled():
            raise JobCancelled
        hanging = hang(study)
        images = _all_images(hanging)
        progress("Preparing display…")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            prepared = list(pool.map(_prepared_or_error, images))
        failed = [img for img, out in zip(images, prepared, strict=True) if isinstance(out, LoadError)]
        if failed:  # one image that cannot be shown must not lose the others: it is named like a decode failure
            errors = tuple(out for out in prepared if isinstance(out, LoadError))
            kept = tuple(i for i in study.images if all(i is not f for f in failed))
            study = replace(study, images=kept, errors=(*study.errors, *errors))
            hanging = hang(study)
        displays = {img: out for img, out in zip(images, prepared, strict=True) if isinstance(out, DisplayImage)}
        t2 = time.perf_counter()
        trim_heap()  # the study this one replaces (freed when it left the screen) is given back meanwhile
        return LoadedStudy(study, hanging, displays, {"decode_s": t1 - t0, "prepare_s": t2 - t1})

    return run


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


def trim_heap() -> None:
    """Give the free pages of the C heaps back to the system (glibc; elsewhere nothing).

    glibc raises its mmap threshold to the largest block freed (up to 32 MiB), so after the first study the
    12-Mpx arrays of the next ones come from the decode threads' heaps, where they stay resident once freed:
    stepping through 20 full-resolution studies grew the viewer from ~700 to 900-1030 MiB with the same two
    studies alive.  Trimmed after each load it stays at ~710-740 MiB; a trim takes a few ms (off the GUI thread).
    """
    trim = _malloc_trim() if sys.platform.startswith("linux") else None
    if trim is not None:
        trim(0)


def _prepared(image: MammoImage) -> DisplayImage:
    """:func:`prepare_display`; a failure names the file (the reader must know which image it was)."""
    try:
        return prepare_display(image)
    except Exception as exc:
        raise LoadError(image.info.path, f"cannot be prepared for display ({type(exc).__name__}: {exc})") from None


def _prepared_or_error(image: MammoImage) -> DisplayImage | LoadError:
    try:
        return _prepared(image)
    except LoadError as err:
        return err


def _all_images(hanging: Hanging) -> list[MammoImage]:
    out: list[MammoImage] = [img for img in hanging.panels.values() if img is not None]
    for alts in hanging.alternatives.values():
        out.extend(a for a in alts if all(a is not o for o in out))
    out.extend(u for u in hanging.unplaced if all(u is not o for o in out))
    return out


class _Worker(QtCore.QObject):
    finished = QtCore.Signal(int, object)
    errored = QtCore.Signal(int, object)
    progress = QtCore.Signal(int, str)

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

    @QtCore.Slot(int, str)
    def _on_progress(self, job_id: int, message: str) -> None:
        if job_id == self._current:
            self.progress.emit(message)

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
