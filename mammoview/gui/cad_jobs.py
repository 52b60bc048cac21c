"""CAD runs for one window: the model, the per-study result cache, the running job and its progress.

:class:`CadRunner` knows nothing about the first-read lock or overlays; it reports
``resultReady(study_key, result)`` and lets the controller decide what to show.  A job
for a study that is no longer on screen is cancelled (stale) and its result, if it
still arrives, only goes to the cache.  Errors reach the reader as a dialog and a log
line; a missing or broken model makes CAD unavailable (``modelChanged``) and the
viewer carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from mammoview.cad.types import ModelInfo, StudyCadResult
from mammoview.gui import dialogs, long_lived
from mammoview.gui.cad_progress import CadProgress
from mammoview.gui.cad_worker import CadJob, CadUnavailable, ModelChoice, ModelProvider
from mammoview.io.model import MammoImage

if TYPE_CHECKING:
    from mammoview.cad.weights import LoadedModel
    from mammoview.gui.main_window import MainWindow

log = logging.getLogger(__name__)


class CadRunner(QtCore.QObject):
    """Model + cache + jobs.  Signals are emitted in the GUI thread.

    Signals
    -------
    modelChanged()
        ``model_info`` or ``unavailable`` changed.
    resultReady(str, object)
        A :class:`StudyCadResult` for the study key that is current (cached already).
    runningChanged()
        A job for the reader's study started or ended (:attr:`running`).
    """

    modelChanged = QtCore.Signal()
    resultReady = QtCore.Signal(str, object)
    runningChanged = QtCore.Signal()

    def __init__(self, window: MainWindow, choice: ModelChoice, tile: int | None = None, cam: str = "cam") -> None:
        super().__init__(window)
        self.window = window
        self.provider = ModelProvider(choice)
        self.tile, self.cam = tile, cam
        self.model_info: ModelInfo | None = None
        self.unavailable: str | None = None
        self.cache: dict[tuple[str, str], StudyCadResult] = {}
        #: each cached result's files as it read them (size and modification time: ``ImageInfo.stamp``)
        self._stamps: dict[tuple[str, str], dict[str, tuple[int, int] | None]] = {}
        self._stale: set[CadJob] = set()  # jobs whose results describe images that changed since (forget)
        self.study_key: str | None = None
        self.job: CadJob | None = None
        self._jobs: set[CadJob] = set()  # every job whose thread may still run (kept alive until it ends)
        self._reloads = 0  # model reloads so far; a job started before the last one reports on old models
        self._models_seen: dict[CadJob, int] = {}  # each running job: the reloads when it started
        self._closed = False
        self.progress = CadProgress()
        self.progress.cancel_button.clicked.connect(self.cancel)
        window.statusBar().insertPermanentWidget(0, self.progress)

    # -- model ----------------------------------------------------------------------------------
    def probe(self) -> None:
        """Load the model in the background so a missing/broken one is reported at once."""
        if not self._closed:  # the start-up timer may fire after a quick close
            self._start((), "")

    def reload(self, loader: Callable[[], LoadedModel] | None = None) -> None:
        """Forget the model (and use ``loader`` if given), then look for it again."""
        self.provider.reset(loader=loader)
        self._reloads += 1
        # the results of this session were made with the models as they were (a density, malignancy or verifier
        # model fixed or replaced since has the detector's sha256): Run CAD computes them again; so were those of the
        # jobs running now
        self.forget()
        self.unavailable, self.model_info = None, None
        self.modelChanged.emit()
        self.probe()

    def set_device(self, device: str) -> None:
        self.provider.reset(replace(self.provider.choice, device=device))

    # -- results -------------------------------------------------------------------------------------
    def cached(self, study_key: str | None) -> StudyCadResult | None:
        """The cached result of ``study_key`` with the current model; None when there is none or when a file it read
        has been rewritten since, as the study on screen was scanned (its marks would be drawn over new pixels)."""
        if self.model_info is None or study_key is None:
            return None
        key = (study_key, self.model_info.sha256)
        loaded = self.window.loaded
        if loaded is not None and (read := self._stamps.get(key)):
            now = {str(i.path): i.stamp for i in loaded.study.info.images}
            if any(path in now and now[path] != stamp for path, stamp in read.items()):
                self.cache.pop(key, None)
                self._stamps.pop(key, None)
        return self.cache.get(key)

    def open_study(self, study_key: str, files: set[str] | None = None) -> None:
        """A study is on screen (of ``files``): a job for another one, or for other files of it (the same study opened
        from another folder: its result's marks, matched by path, would be missing from it), is stale."""
        job = self.job
        if (
            job is not None
            and job.running
            and (job.study_key != study_key or (files is not None and not {str(i.path) for i in job.images} <= files))
        ):
            job.cancel()
            self.progress.stop()
        self.study_key = study_key

    @property
    def running(self) -> bool:
        """A job of the current study runs and was not cancelled (a cancelled one winding down does not count: Run
        CAD right after Cancel starts a new job)."""
        job = self.job
        return job is not None and job.running and not job.cancel_event.is_set() and job.study_key == self.study_key

    def run(self, images: Sequence[MammoImage]) -> bool:
        """Start CAD on ``images`` of the current study, unless a cached result covers them (then emit it)."""
        if self.unavailable or self.study_key is None or self._closed:
            return False
        if self.running:
            self.window.show_status("CAD is already running.", 3000)
            return False
        cached = self.cached(self.study_key)
        # covered only with the views they have now: a view the reader assigned since changes the breast scores
        if cached is not None and {(str(i.path), i.view) for i in images} <= {(r.path, r.view) for r in cached.images}:
            self.resultReady.emit(self.study_key, cached)
            self.window.show_status("CAD result reused from this session.", 4000)
            return True
        self.job = self._start(tuple(images), self.study_key)
        self.runningChanged.emit()
        return True

    def cancel(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.progress.cancel_button.setEnabled(False)
            self.window.show_status("CAD: cancelling…")
            self.runningChanged.emit()

    def forget(self) -> None:
        """Drop every cached result and the results of the jobs running now (the images changed, e.g. their pixel
        spacing): what is computed from here on is of the new images."""
        self.cancel()
        self._stale.update(self._jobs)
        self.cache.clear()
        self._stamps.clear()

    def drop_running(self) -> None:
        """Cancel the current study's running job and drop its result (its images changed, e.g. a view was
        assigned): the cache keeps the other studies' results."""
        if self.job is not None and self.job.running:
            self.cancel()
            self._stale.add(self.job)

    def shutdown(self) -> None:
        """Stop every job and join its thread (window closing); no job starts afterwards."""
        self._closed = True
        for job in list(self._jobs):
            job.stop()
        self._jobs.clear()

    # -- job plumbing -----------------------------------------------------------------------------------
    def _start(self, images: tuple[MammoImage, ...], study_key: str) -> CadJob:
        job = CadJob(self.provider, images, study_key, tile=self.tile, cam=self.cam, parent=self)
        job.modelReady.connect(lambda info, j=job: self._on_model(j, info))
        job.finished.connect(lambda result, j=job: self._on_finished(j, result))
        job.errored.connect(lambda exc, j=job: self._on_error(j, exc))
        job.cancelled.connect(lambda j=job: self._on_cancelled(j))
        job.ended.connect(lambda j=job: self._retire(j))
        if images:
            job.progress.connect(lambda d, t, msg, j=job: self._on_progress(j, d, t, msg))
            self.progress.start("CAD")
            self.window.show_status(f"CAD: starting on {len(images)} view(s)…")
        self._jobs.add(job)
        self._models_seen[job] = self._reloads
        job.start()
        return job

    def _current(self, job: CadJob) -> bool:
        return job is self.job and job.study_key == self.study_key

    def _retire(self, job: CadJob) -> None:
        self._jobs.discard(job)
        self._stale.discard(job)
        self._models_seen.pop(job, None)
        if job is self.job:
            self.progress.stop()
            self.runningChanged.emit()
        job.deleteLater()

    def _outdated(self, job: CadJob) -> bool:
        """``job`` looked at the models as they were before a reload: what it says of them (ready, unavailable) is
        not news of the models now, and the new look answers (a late "ready" had made CAD available again)."""
        return self._models_seen.get(job, self._reloads) != self._reloads

    def _on_model(self, job: CadJob, info: ModelInfo) -> None:
        if self._outdated(job):
            return
        if info != self.model_info or self.unavailable:
            self.model_info, self.unavailable = info, None
            self.modelChanged.emit()
            long_lived.freeze_once("the CAD's models are loaded")  # (torch and the networks, for good)

    def _on_progress(self, job: CadJob, done: int, total: int, message: str) -> None:
        if self._current(job):
            self.progress.update_progress(done, total)
            self.window.show_status(f"CAD: {message}")

    def _on_finished(self, job: CadJob, result: object) -> None:
        if not isinstance(result, StudyCadResult) or job in self._stale:
            return  # the start-up probe (the model is ready), or a result of images that changed since
        self.cache[(job.study_key, result.model.sha256)] = result
        self._stamps[(job.study_key, result.model.sha256)] = {str(i.path): i.info.stamp for i in job.images}
        if self._current(job):
            self.window.show_status(f"CAD done ({result.seconds:.1f} s on {result.device}).", 8000)
            self.resultReady.emit(job.study_key, result)
            if result.skipped:
                views = "\n".join(f"{s.where}: {s.reason}" for s in result.skipped)
                log.warning("CAD skipped %s", views.replace("\n", "; "))
                dialogs.message_box(self.window, QtWidgets.QMessageBox.Icon.Warning, "CAD skipped a view",
                                    f"The CAD analysed the other views; it could not analyse:\n\n{views}")  # fmt: skip

    def _on_cancelled(self, job: CadJob) -> None:
        if self._current(job):
            self.window.show_status("CAD cancelled.", 5000)

    def _on_error(self, job: CadJob, exc: object) -> None:
        if isinstance(exc, CadUnavailable):
            if self._outdated(job):
                return
            self.unavailable, self.model_info = str(exc), None
            log.warning("CAD unavailable: %s", exc)
            self.window.show_status(f"CAD unavailable: {exc}", 0)
            self.modelChanged.emit()
            if job.images:  # the reader asked for it: say so in a dialog too
                dialogs.message_box(self.window, QtWidgets.QMessageBox.Icon.Warning, "CAD unavailable", str(exc))
            return
        log.error("CAD failed: %s: %s", type(exc).__name__, exc)
        if not job.images:
            self.window.show_status(f"CAD model could not be prepared: {exc}", 10000)
        elif self._current(job):
            text = f"The CAD could not analyse this study; viewing is not affected.\n\n{type(exc).__name__}: {exc}"
            self.window.show_status(f"CAD failed: {exc}", 10000)
            dialogs.message_box(self.window, QtWidgets.QMessageBox.Icon.Critical, "CAD failed", text)
