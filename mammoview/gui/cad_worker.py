"""CAD off the GUI thread: a lazily loaded model, and one QObject worker per run on its own QThread.

Everything that touches torch -- importing it, loading and hashing the weights, the
inference itself -- happens in the worker thread; this module imports only Qt and
the torch-free :mod:`mammoview.cad.types` at module level, so the GUI thread never
waits on torch's import lock either.  The worker wraps the engine's progress
generator (:func:`mammoview.cad.pipeline.analyse_study`): ``started``, ``modelReady``,
``progress``..., then exactly one of ``finished(result)``, ``cancelled()`` or
``errored(exc)``.  Cancelling sets a ``threading.Event`` the engine checks between
tiles and views.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6 import QtCore

from mammoview.io.model import MammoImage

if TYPE_CHECKING:
    from mammoview.cad.weights import LoadedModel

log = logging.getLogger(__name__)

#: Progress signals are throttled to this interval: the engine reports every tile, and a
#: flood of queued signals would cost the GUI thread more than it tells the reader.
PROGRESS_INTERVAL_S = 0.05


class CadUnavailable(Exception):
    """No usable model: none installed, or its files are missing/corrupt (one-line reason naming the file)."""


@dataclass(frozen=True)
class CadOptions:
    """Start-up choices (``mammoview view --model/--device/--auto-cad``); None: the saved setting."""

    model: str | None = None
    models_dir: Path | None = None
    device: str | None = None
    auto_run: bool | None = None
    tile: int | None = None  # engine tile size (tests use small tiles for a fine-grained cancel)
    cam: str = "cam"


@dataclass(frozen=True)
class ModelChoice:
    """Which model to load: manifest name (None: the default), folder (None: the default) and device."""

    name: str | None = None
    models_dir: Path | None = None
    device: str | None = None  # "auto", "cpu", "cuda", ...


_shared: dict[tuple[Any, ...], LoadedModel] = {}
_shared_lock = threading.Lock()


def load_chosen(choice: ModelChoice) -> LoadedModel:
    """Load the chosen model (call from a worker thread).  Shared by windows of one process.

    The cache key includes the manifest's and weights file's modification times, so a model
    installed or replaced while the viewer runs is picked up by "Reload model".

    Raises
    ------
    CadUnavailable
        The engine's :class:`~mammoview.cad.weights.ModelError` (message kept as is).
    ValueError
        The chosen device is not available.
    """
    from mammoview.cad.verification import verified_or_alone
    from mammoview.cad.weights import MANIFEST, ModelError, default_models_dir, load_model, read_manifest

    root = Path(choice.models_dir or default_models_dir()).resolve()
    try:
        manifest = read_manifest(root)
        stamp = [(root / MANIFEST).stat().st_mtime_ns]
        stamp += [(root / m.file).stat().st_mtime_ns for m in manifest.models
                  if isinstance(m.file, str) and (root / m.file).is_file()]  # fmt: skip
    except (ModelError, OSError):
        stamp = [0]  # load_model below reports the problem with its own message
    key = (str(root), choice.name, choice.device or "auto", tuple(stamp))
    with _shared_lock:
        if key in _shared:
            return _shared[key]
        try:
            model = load_model(choice.name, root, choice.device)
        except ModelError as exc:
            raise CadUnavailable(str(exc)) from exc
        model, why = verified_or_alone(model, root)
        if why is not None:
            log.warning("verification model not used: %s", why)
            model = replace(model, not_used=(f"verification model not used: {why}",))  # said in the CAD panel
        _shared[key] = model
        return model


def load_task(choice: ModelChoice, task: str) -> LoadedModel | None:
    """The ``task`` model ("density", "malignancy") of the chosen folder (call from a worker thread).

    None when none is installed; a broken one is logged and skipped: the CAD runs without it.
    """
    return load_task_or_why(choice, task)[0]


def load_task_or_why(choice: ModelChoice, task: str) -> tuple[LoadedModel | None, str | None]:
    """:func:`load_task`, and why an installed one is not used (None: it is, or none is installed)."""
    from mammoview.cad.weights import ModelError, default_models_dir, load_optional

    try:
        return load_optional(task, Path(choice.models_dir or default_models_dir()).resolve(), choice.device), None
    except (ModelError, ValueError) as exc:
        log.warning("%s model not used: %s", task, exc)
        return None, f"{task} model not used: {exc}"


def load_density(choice: ModelChoice) -> LoadedModel | None:
    """The density model of the chosen folder (:func:`load_task`)."""
    return load_task(choice, "density")


class ModelProvider:
    """The models of one window: loaded on first use in whichever worker asks, then kept.

    A missing or broken CAD model is remembered as :class:`CadUnavailable` until :meth:`reset`
    (the reader's "Reload model"), so every later run fails fast with the same reason.  The
    density and the second-stage malignancy models are optional: without one (or with a broken
    one) results carry no density / the detector's own malignancy.
    """

    def __init__(self, choice: ModelChoice | None = None, loader: Callable[[], LoadedModel] | None = None) -> None:
        self.choice = choice or ModelChoice()
        self._loader = loader or (lambda: load_chosen(self.choice))
        self._lock = threading.Lock()  # one load at a time
        # guards the fields below, held only for a moment and never while loading: reset (the GUI thread) does not
        # wait for a load under way; a load begun before a reset is returned to its caller but not kept
        self._state = threading.Lock()
        self._generation = 0  # resets so far
        self._model: LoadedModel | None = None
        self._error: CadUnavailable | None = None
        self._density: tuple[LoadedModel | None] | None = None  # (model or None) once looked for
        self._malignancy: tuple[LoadedModel | None] | None = None
        #: why an installed optional model (density, malignancy) is not used, by task: said in the CAD panel
        self.not_used: dict[str, str] = {}

    def density(self) -> LoadedModel | None:
        """The density model, looked for once (blocking; never call from the GUI thread)."""
        return self._optional_once("_density", "density")

    def malignancy(self) -> LoadedModel | None:
        """The second-stage malignancy model, looked for once (blocking; never call from the GUI thread)."""
        return self._optional_once("_malignancy", "malignancy")

    def _optional_once(self, field: str, task: str) -> LoadedModel | None:
        with self._lock:
            with self._state:
                generation, found, choice = self._generation, getattr(self, field), self.choice
            if found is not None:
                return cast("LoadedModel | None", found[0])
            model, why = load_task_or_why(choice, task)
            with self._state:
                if generation == self._generation:
                    setattr(self, field, (model,))
                    if why is None:
                        self.not_used.pop(task, None)
                    else:
                        self.not_used[task] = why
            return model

    def get(self) -> LoadedModel:
        """The loaded model (blocking; never call from the GUI thread)."""
        with self._lock:
            with self._state:
                generation, model, error, loader = self._generation, self._model, self._error, self._loader
            if error is not None:
                raise error
            if model is not None:
                return model
            try:
                model = loader()
            except CadUnavailable as exc:
                with self._state:
                    if generation == self._generation:
                        self._error = exc
                raise
            with self._state:
                if generation == self._generation:
                    self._model = model
            return model

    def reset(self, choice: ModelChoice | None = None, loader: Callable[[], LoadedModel] | None = None) -> None:
        """Forget the model (next :meth:`get` loads again), optionally with another choice or loader."""
        with self._state:
            self._generation += 1
            if choice is not None:
                self.choice = choice
            if loader is not None:
                self._loader = loader
            # (not_used is kept: it explains the result on screen, made before; the next look replaces it)
            self._model, self._error, self._density, self._malignancy = None, None, None, None


class CadWorker(QtCore.QObject):
    """Runs one CAD job in its thread: load the model if needed, then the study generator."""

    started = QtCore.Signal()
    modelReady = QtCore.Signal(object)  # ModelInfo
    progress = QtCore.Signal(int, int, str)  # done, total, message
    finished = QtCore.Signal(object)  # StudyCadResult, or None for a load-only job
    cancelled = QtCore.Signal()
    errored = QtCore.Signal(object)  # Exception

    def __init__(self, provider: ModelProvider, images: Sequence[MammoImage], cancel: threading.Event,
                 tile: int | None = None, cam: str = "cam") -> None:  # fmt: skip
        super().__init__()
        self._provider, self._images, self._cancel = provider, tuple(images), cancel
        self._tile, self._cam = tile, cam
        self._last_progress = 0.0

    @QtCore.Slot()
    def run(self) -> None:
        images, self._images = self._images, ()  # the study's pixels die with the run, not with this object
        self.started.emit()
        try:
            from mammoview.cad.inference import Cancelled  # torch: imported here, in this thread
        except Exception as exc:  # torch missing or broken: CAD is unavailable, viewing is not
            self.errored.emit(CadUnavailable(f"the CAD engine cannot start: {exc}"))
            return
        try:
            result = self._compute(images)
        except Cancelled:
            self.cancelled.emit()
        except CadUnavailable as exc:
            self.errored.emit(exc)  # an expected state, reported (and logged) by the GUI side
        except Exception as exc:  # reported to the reader, never lost in the thread
            log.error("CAD failed: %s", exc, exc_info=True)
            self.errored.emit(exc)
        else:
            self.finished.emit(result)

    def _compute(self, images: tuple[MammoImage, ...]) -> Any:
        from mammoview.cad.inference import check_cancel
        from mammoview.cad.pipeline import analyse_study, drain

        model = self._provider.get()
        self.modelReady.emit(model.info)
        if not images:
            return None
        check_cancel(self._cancel)
        density, malignancy = self._provider.density(), self._provider.malignancy()
        gen = analyse_study(model, images, cancel=self._cancel, tile=self._tile, cam=self._cam,  # type: ignore[arg-type]
                            density=density, malignancy=malignancy)  # fmt: skip
        return drain(gen, lambda p: self._emit_progress(p.done, p.total, p.message))

    def _emit_progress(self, done: int, total: int, message: str) -> None:
        now = time.perf_counter()
        if done >= total or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.progress.emit(done, total, message)


class CadJob(QtCore.QObject):
    """One run: owns the thread and the worker, re-emits the worker's signals in the GUI thread.

    ``cancel()`` returns at once; the worker stops at the engine's next check (between
    tiles) and ``cancelled`` follows.  The thread is joined when the job ends.
    """

    started = QtCore.Signal()
    modelReady = QtCore.Signal(object)
    progress = QtCore.Signal(int, int, str)
    finished = QtCore.Signal(object)
    cancelled = QtCore.Signal()
    errored = QtCore.Signal(object)
    ended = QtCore.Signal()  # after any of finished / cancelled / errored

    def __init__(self, provider: ModelProvider, images: Sequence[MammoImage], study_key: str = "",
                 tile: int | None = None, cam: str = "cam", parent: QtCore.QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.study_key = study_key
        self.images = tuple(images)  # emptied when the job ends: the runner keeps its last job, not the study
        self.cancel_event = threading.Event()
        self.done = False
        self._thread = QtCore.QThread()
        self._thread.setObjectName("mammoview-cad")
        self._worker = CadWorker(provider, images, self.cancel_event, tile=tile, cam=cam)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        w = self._worker
        w.started.connect(self.started)
        w.modelReady.connect(self.modelReady)
        w.progress.connect(self.progress)
        # Bound slots of this GUI-thread object (not lambdas): Qt then queues the calls into
        # the GUI thread; a lambda would run in the worker thread and join itself.
        w.finished.connect(self._on_finished)
        w.cancelled.connect(self._on_cancelled)
        w.errored.connect(self._on_errored)
        self._thread.finished.connect(self._worker.deleteLater)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Ask the worker to stop at its next check (non-blocking)."""
        self.cancel_event.set()

    @property
    def running(self) -> bool:
        return not self.done

    def stop(self, timeout_ms: int = 30_000) -> None:
        """Cancel and wait for the thread (window closing)."""
        self.cancel()
        self._thread.quit()
        self._thread.wait(timeout_ms)

    @QtCore.Slot(object)
    def _on_finished(self, result: object) -> None:
        self._end(self.finished, result)

    @QtCore.Slot()
    def _on_cancelled(self) -> None:
        self._end(self.cancelled)

    @QtCore.Slot(object)
    def _on_errored(self, exc: object) -> None:
        self._end(self.errored, exc)

    def _end(self, signal: QtCore.SignalInstance, *args: object) -> None:
        if self.done:
            return
        self.done = True
        self._thread.quit()
        self._thread.wait()
        signal.emit(*args)
        self.ended.emit()
        self.images = ()
