"""Helper processes for the decoders that hold the interpreter lock (GIL) for a whole image.

pylibjpeg-openjpeg (JPEG 2000), pylibjpeg-libjpeg or pyjpegls (JPEG-LS) and pylibjpeg-rle (RLE) decode a frame
without releasing the GIL: in a worker thread they freeze the viewer's event loop for the whole decode (a
4736 x 2624 full-field view: RLE ~70 ms, JPEG-LS ~0.6 s, JPEG 2000 ~1 s; a 2457 x 1890 tomosynthesis slice in
JPEG 2000: 0.13-0.39 s).  Work the reader has not asked for yet, or that runs while the reader reads (the worklist's
next study, a volume's slices), is decoded in a spawned helper process instead, and its pixels come back through a
pipe (a few ms).  A study the reader opens and waits for is decoded in threads, except its JPEG 2000 / JPEG-LS
files: those go to two helper processes, which decode two at a time where threads took turns (the wheel's study
re-encoded in JPEG 2000 opened in 4.3-4.7 s with the viewer frozen ~1.1 s at a time:
``benchmarks/bench_load.py --recompress j2k``); RLE there stays in threads (~70 ms a view: less than starting a
helper).

A helper starts at its first use and lives until the viewer closes.  A decoder that crashes on a file (a
segmentation fault on corrupt data) kills only the helper: that file is reported as unreadable and the next
call starts a fresh helper.  Where no helper can start at all, the work is done in the viewer's process (logged).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, TypeVar

from mammoview.io.model import LoadError, MammoImage
from mammoview.io.preview import preview_image, preview_outcome
from mammoview.io.reader import decode, decode_outcome, frame_outcome

if TYPE_CHECKING:
    from collections.abc import Callable

    from mammoview.io.model import ImageInfo

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: transfer syntaxes (by the name pydicom gives their UID) whose decoders hold the GIL for a whole frame
GIL_BOUND_SYNTAXES = ("JPEG 2000", "JPEG-LS", "RLE")

#: those of them that hold it for long on a tomosynthesis slice (RLE: ~8 ms, decoded in the viewer's process)
SLOW_SYNTAXES = ("JPEG 2000", "JPEG-LS")


def holds_gil(info: ImageInfo, syntaxes: tuple[str, ...] = GIL_BOUND_SYNTAXES) -> bool:
    """Whether decoding this file's pixels would hold the interpreter (see the module's text)."""
    return info.file_format == "DICOM" and any(name in info.transfer_syntax for name in syntaxes)


#: seconds a fresh helper may take to start and answer (spawning imports numpy and pydicom: ~1 s)
START_TIMEOUT_S = 60.0

#: seconds a call may take (a 12-Mpx JPEG 2000 view decodes in ~1 s here) before the helper is taken as hung
CALL_TIMEOUT_S = 120.0

#: a file whose decoder killed the helper process
CRASHED = "its pixel data crashed the decoder (in a helper process: the viewer is unaffected)"


class HelperCrashed(Exception):
    """The helper process died while running a call."""


class CallCancelled(Exception):
    """The caller went stale while its call waited for the helper (the reader stepped on): nothing was run."""


#: seconds between two looks at a waiting call's ``cancelled``
_POLL_S = 0.02


def _lower_priority(nice: int) -> None:  # the helper's initializer: a module-level function (pickled by name)
    if nice > 0:
        with contextlib.suppress(OSError, AttributeError):  # not permitted, or not a POSIX system
            os.nice(nice)
    # The helper ends with the viewer, also when the viewer dies without closing it (kill -9, a crash, the OOM
    # killer): its worker waits on a queue whose both ends it holds, so it would wait for ever (an orphan).
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), name="mammoview-helper-parent", daemon=True).start()


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns when the viewer's process has ended
    os._exit(0)


class HelperProcess:
    """One spawned helper process; ``nice`` > 0 runs it at a lower CPU priority (background work)."""

    def __init__(self, nice: int = 0) -> None:
        self._nice = nice
        self._pool: ProcessPoolExecutor | None = None
        self._unavailable = False  # a helper could not start: this process decodes from then on
        self._lock = threading.Lock()
        self._call_lock = threading.Lock()  # held for a whole call (see call)

    @property
    def started(self) -> bool:
        return self._pool is not None

    @property
    def available(self) -> bool:
        """False once no helper could start: its calls run in this process (see :meth:`call`)."""
        return not self._unavailable

    def call(
        self,
        fn: Callable[..., _T],
        *args: Any,
        fallback: Callable[[], _T],
        timeout: float = CALL_TIMEOUT_S,
        cancelled: Callable[[], bool] | None = None,
    ) -> _T:
        """``fn(*args)`` in the helper (both picklable); ``fallback()`` here when no helper can be started.

        Raises
        ------
        HelperCrashed
            The helper died while running it (a decoder that crashed on the file: the viewer is unaffected), or did
            not finish within ``timeout`` seconds (a decoder caught in a loop on corrupt data: the helper is stopped).
        """
        # One call in the helper at a time (it has one worker anyway): a helper that dies takes down every call
        # queued in it, so only then is its death the fault of the call that was running (a good file queued behind
        # a crashing or hung one was named as crashing the decoder), and ``timeout`` counts that call's own run.
        # A call whose job went stale while it waited (``cancelled()``) raises CallCancelled without running: stale
        # prefetches queued behind a long JPEG 2000 decode were each decoded in turn, ahead of the one still wanted.
        while not self._call_lock.acquire(timeout=_POLL_S):
            if cancelled is not None and cancelled():
                raise CallCancelled
        try:
            if cancelled is not None and cancelled():
                raise CallCancelled
            pool = self._running_pool()
            if pool is None:
                return fallback()
            try:
                future = pool.submit(fn, *args)
            except RuntimeError:  # shut down meanwhile (the viewer is closing)
                return fallback()
            try:
                return future.result(timeout=timeout)
            except BrokenProcessPool:
                self._drop(pool)  # the next call starts a fresh helper
                raise HelperCrashed(CRASHED) from None
            except TimeoutError:
                log.warning("helper process stopped: no answer in %.0f s", timeout)
                self._drop(pool, kill=True)
                raise HelperCrashed(
                    f"its decoder did not finish in {timeout:.0f} s (stopped; the viewer is unaffected)"
                ) from None
        finally:
            self._call_lock.release()

    def _drop(self, pool: ProcessPoolExecutor, kill: bool = False) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        if kill:  # a hung worker never returns: end it (the executor has no public way to)
            results = getattr(pool, "_result_queue", None)  # (shutdown drops it)
            for proc in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.kill()
            # A worker killed while it wrote a result back (a full-resolution view, ~25 MB) left the executor's thread
            # reading the rest of that message, which never came while this process held the pipe's writing end too:
            # the call's future never ended (the closing window waited 30 s for the job waiting on it, then Qt
            # aborted the viewer), nor did that thread (the interpreter's exit joins it: the quit viewer hung).
            # Closed here, the read ends and the executor fails the call as it does when its helper crashes.
            with contextlib.suppress(Exception):
                results._writer.close()  # type: ignore[union-attr]
            pool.shutdown(wait=False, cancel_futures=True)

    def _running_pool(self) -> ProcessPoolExecutor | None:
        """The helper, started (and seen to answer) if need be; None when none can start."""
        with self._lock:
            if self._pool is not None or self._unavailable:
                return self._pool
            pool = None
            try:  # it answers before any file goes to it: a helper dying on a file is that file's fault
                pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lower_priority,
                    initargs=(self._nice,),
                )
                pool.submit(os.getpid).result(timeout=START_TIMEOUT_S)
            except Exception as exc:  # cannot start here (e.g. a script without a __main__ guard, no /dev/shm)
                log.warning("no helper process (%s: %s): decoding in the viewer's process", type(exc).__name__, exc)
                if pool is not None:
                    pool.shutdown(wait=False, cancel_futures=True)
                self._unavailable = True
                return None
            self._pool = pool
            return pool

    def decode(self, info: ImageInfo, cancelled: Callable[[], bool] | None = None) -> MammoImage:
        """:func:`mammoview.io.reader.decode` in the helper (CallCancelled: ``cancelled()`` while it waited)."""
        stored, back, display = self._outcome(decode_outcome, info, cancelled=cancelled)
        return MammoImage(back, stored, display)

    def preview(self, info: ImageInfo, cancelled: Callable[[], bool] | None = None) -> MammoImage:
        """:func:`mammoview.io.preview.decode_preview` with its reduced decode in the helper (Pillow's JPEG 2000
        decoder holds the GIL ~0.1 s a full-field view); CallCancelled as :meth:`decode`."""
        return preview_image(info, self._outcome(preview_outcome, info, cancelled=cancelled))

    def decode_frame(self, image: MammoImage, frame: int) -> MammoImage:
        """:func:`mammoview.io.reader.decode_frame` in the helper."""
        stored, info = self._outcome(frame_outcome, image.info, frame, crash=f"frame {frame + 1}: ")
        return MammoImage(info, stored, image.display, frame)

    def _outcome(self, fn: Callable[..., _T | LoadError], info: ImageInfo, *args: Any, crash: str = "",
                 cancelled: Callable[[], bool] | None = None) -> _T:  # fmt: skip
        """``fn(info, *args)`` in the helper (here when none can start): the LoadError it returns (one raised there
        would not pickle) is raised, and a helper that crashed or hung on the file is that file's LoadError."""
        try:
            outcome = self.call(fn, info, *args, fallback=lambda: fn(info, *args), cancelled=cancelled)
        except HelperCrashed as exc:
            raise LoadError(info.path, f"{crash}{exc}") from None
        if isinstance(outcome, LoadError):
            raise outcome
        return outcome

    def shutdown(self, kill: bool = False) -> None:
        """Stop the helper; ``kill``: at once, a decode in it too (the viewer is quitting: the threads waiting for
        that decode then end now, not when it finishes, ~1 s for a JPEG 2000 view, seconds on a busy machine)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and kill:
            self._drop(pool, kill=True)
        elif pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class HelperGroup:
    """Several helper processes, each decoding one file at a time (a crash or a hang is its own file's alone)."""

    def __init__(self, n: int, nice: int = 0) -> None:
        self.helpers = [HelperProcess(nice) for _ in range(n)]
        self._idle: queue.SimpleQueue[HelperProcess] = queue.SimpleQueue()
        for helper in self.helpers:
            self._idle.put(helper)

    @property
    def started(self) -> bool:
        return any(h.started for h in self.helpers)

    @property
    def available(self) -> bool:
        return any(h.available for h in self.helpers)

    def decode(self, info: ImageInfo, cancelled: Callable[[], bool] | None = None) -> MammoImage:
        """:func:`mammoview.io.reader.decode` in the first helper free (CallCancelled: ``cancelled()`` meanwhile)."""
        return self._in_idle(HelperProcess.decode, info, cancelled)

    def preview(self, info: ImageInfo, cancelled: Callable[[], bool] | None = None) -> MammoImage:
        """:meth:`HelperProcess.preview` in the first helper free."""
        return self._in_idle(HelperProcess.preview, info, cancelled)

    def _in_idle(
        self,
        method: Callable[[HelperProcess, ImageInfo, Callable[[], bool] | None], MammoImage],
        info: ImageInfo,
        cancelled: Callable[[], bool] | None,
    ) -> MammoImage:
        while True:
            try:
                helper = self._idle.get(timeout=_POLL_S)
                break
            except queue.Empty:
                if cancelled is not None and cancelled():
                    raise CallCancelled from None
        try:
            return method(helper, info, cancelled)
        finally:
            self._idle.put(helper)

    def shutdown(self, kill: bool = False) -> None:
        for helper in self.helpers:
            helper.shutdown(kill)


def decoder_for(
    helper: HelperProcess | HelperGroup,
    syntaxes: tuple[str, ...] = GIL_BOUND_SYNTAXES,
    background: Callable[[], bool] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Callable[[ImageInfo], MammoImage | None]:
    """A decode for :func:`mammoview.io.study.load_study`: files of ``syntaxes`` in ``helper``, the others here.

    ``background`` (asked at each file): False once the reader waits for the study (a prefetch adopted by
    ``PgDown``): its files left are decoded here, not in a helper at a lower CPU priority that anything else on the
    machine (the last study's CAD) would slow down.
    """

    def run(info: ImageInfo) -> MammoImage | None:
        if holds_gil(info, syntaxes) and (background is None or background()):
            try:
                return helper.decode(info, cancelled)
            except CallCancelled:  # stale while it waited for the helper: None, as load_study's own check gives
                return None
        return decode(info)

    return run


__all__ = [
    "GIL_BOUND_SYNTAXES",
    "SLOW_SYNTAXES",
    "CallCancelled",
    "HelperCrashed",
    "HelperGroup",
    "HelperProcess",
    "decoder_for",
    "holds_gil",
]
