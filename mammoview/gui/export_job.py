"""A window's exports of one kind, each written in a worker thread, one at a time.

Encoding and writing files on the GUI thread froze the viewer: a picture's PNG (a 2x2 layout at 200 % a quarter of
a second), the DICOM SRs (highdicom, every image's header), a read log reading every saved read (a network share's
latency, once per study).  What only the GUI thread may do (painting the picture, copying what the window holds) is
done before the job starts, so the job works on what the reader asked for and a study stepped to meanwhile changes
nothing of it.  A second export of the kind is refused while one is written (two would race for the same names, and
the status bar would say one outcome for both); the window closing waits for it, or stops it where the job looks at
its ``cancelled`` (a read log between studies: JobCancelled, said in the log); the outcome comes later, the problems
as a dialog, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6 import QtCore

from mammoview.gui.background_jobs import BackgroundJobs, Cancelled, JobCancelled, Progress

if TYPE_CHECKING:
    from mammoview.gui.main_window import MainWindow

log = logging.getLogger(__name__)

T = TypeVar("T")


class NotWritten(Exception):
    """The reasons an export wrote nothing (or not all), one line each, for the reader's dialog."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0])
        self.lines = lines


def problem_lines(exc: object) -> list[str]:
    """What the reader's dialog says of ``exc``: an OSError's own text names the file; anything else a library
    raised is said with its type, rather than lost in the thread."""
    if isinstance(exc, NotWritten):
        return exc.lines
    if isinstance(exc, OSError):
        return [str(exc)]
    return [f"{type(exc).__name__}: {exc}"]


def _nothing(_result: object) -> None:
    pass


class ExportJob(QtCore.QObject):
    """One kind of export of ``window`` (``name`` begins its status lines), written by :class:`BackgroundJobs`.

    Signals
    -------
    done(object)
        The export ended: what its job returned, or None when its problem was reported (titled ``not_written``).
    """

    done = QtCore.Signal(object)

    def __init__(self, window: MainWindow, name: str, not_written: str, parent: QtCore.QObject,
                 critical: bool = False) -> None:  # fmt: skip
        super().__init__(parent)
        self.window, self.name, self.not_written, self.critical = window, name, not_written, critical
        self.jobs = BackgroundJobs(self)
        self.jobs.progress.connect(self.window.show_status)
        self.jobs.finished.connect(self._on_written)
        self.jobs.errored.connect(self._on_failed)
        self._ended: Callable[[Any], None] = _nothing

    def refused(self) -> bool:
        """An export is being written: the reader is told so, and this one is not started."""
        if not self.jobs.busy:
            return False
        self.window.show_status(f"{self.name}: the last export is still being written; export again once it is done.",
                                5000)  # fmt: skip
        return True

    def start(self, job: Callable[[Progress, Cancelled], T], ended: Callable[[T | None], None] = _nothing) -> bool:
        """Run ``job(progress, cancelled)`` in a worker thread; whether it started.  ``ended`` gets its result in the
        GUI thread once it is written, or None after its problem was reported."""
        if self.refused():
            return False
        self.window.show_status(f"{self.name}: writing…")
        self._ended = ended
        not_written = self.not_written

        def logged(progress: Progress, cancelled: Cancelled) -> T:
            try:
                return job(progress, cancelled)
            except JobCancelled:  # stopped as the window closed, before it wrote anything
                log.warning("%s: the window closed before it was written", not_written)
                raise
            except Exception as exc:
                if cancelled():  # the window closed meanwhile: nobody is left to show it, the log keeps it
                    log.warning("%s: %s", not_written, "; ".join(problem_lines(exc)))
                raise

        self.jobs.submit(logged)
        return True

    def shutdown(self) -> None:
        """The window closes: an export being written is stopped at its job's next look at ``cancelled``, or else
        waited for, never left half done; its outcome is dropped."""
        self.jobs.shutdown()
        self._ended = _nothing

    @QtCore.Slot(object)
    def _on_written(self, result: object) -> None:
        ended, self._ended = self._ended, _nothing
        ended(result)
        self.done.emit(result)

    @QtCore.Slot(object)
    def _on_failed(self, exc: object) -> None:
        ended, self._ended = self._ended, _nothing
        self.window.report_problems(self.not_written, problem_lines(exc), critical=self.critical)
        ended(None)
        self.done.emit(None)
