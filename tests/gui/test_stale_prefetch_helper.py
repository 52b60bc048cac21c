"""A prefetch that went stale while its file waited for the busy helper (the reader stepped on during a long JPEG
2000 decode) must not have that file decoded afterwards: stale prefetches queued up (one thread and up to three
decoded views each) and were decoded one after another, ahead of the next study the reader still wants
(a 12-study worklist stepped with PgUp / double-clicks kept up to 4 stale prefetch threads)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from mammoview.gui.background_jobs import JobCancelled
from mammoview.gui.helper_process import HelperProcess
from mammoview.gui.loader import load_job
from mammoview.io import open_paths
from tests.gui.conftest import wait_for_file


def _busy(started: str, done: str) -> None:  # as a 12-Mpx JPEG 2000 view being decoded for another (stale) study
    Path(started).touch()
    deadline = time.monotonic() + 30
    while not Path(done).exists() and time.monotonic() < deadline:
        time.sleep(0.01)


class _WatchedLock:
    """The helper's call lock, telling when a thread other than ``holder`` asks for it (a call waits for the helper)."""

    def __init__(self, lock: threading.Lock, holder: threading.Thread) -> None:
        self._lock, self._holder, self.asked = lock, holder, threading.Event()

    def acquire(self, *args: object, **kwargs: object) -> bool:
        if threading.current_thread() is not self._holder:
            self.asked.set()
        return self._lock.acquire(*args, **kwargs)  # type: ignore[arg-type]

    def release(self) -> None:
        self._lock.release()


def test_a_stale_prefetch_waiting_for_the_helper_decodes_nothing_more(synthetic_study, tmp_path):
    (info,), _ = open_paths([synthetic_study])
    helper = HelperProcess()
    started, done = tmp_path / "started", tmp_path / "done"
    try:
        helper.call(os.getpid, fallback=os.getpid)  # started
        busy = threading.Thread(target=helper.call, args=(_busy, str(started), str(done)),
                                kwargs={"fallback": lambda: None})  # fmt: skip
        busy.start()
        wait_for_file(started)  # the helper decodes the last study's view (a fixed 0.3 s: the prefetch came first)
        lock = helper._call_lock = _WatchedLock(helper._call_lock, busy)  # type: ignore[assignment]
        stale = threading.Event()
        ran_after: list[float] = []
        real = helper._running_pool  # entered once a call has the helper, just before it runs there

        def watched():  # type: ignore[no-untyped-def]
            if stale.is_set():
                ran_after.append(time.perf_counter())
            return real()

        helper._running_pool = watched  # type: ignore[method-assign]
        # the next study's prefetch: every file to the helper (as J2K / JLS / RLE files are), one at a time
        job = load_job(info, max_workers=1, helper=helper, syntaxes=("Little Endian",))
        outcome: list[object] = []

        def run() -> None:
            try:
                outcome.append(job(lambda _m: None, stale.is_set))
            except JobCancelled as exc:
                outcome.append(exc)

        t = threading.Thread(target=run)
        t.start()
        assert lock.asked.wait(30)  # its first file waits for the helper
        stale.set()  # the reader stepped on (PgUp, a row double-clicked) while its first file waited for the helper
        done.touch()  # the last study's view decoded: the helper is free
        t.join(30)
        busy.join(30)
        assert outcome and isinstance(outcome[0], JobCancelled)
        assert not ran_after, "a file of a prefetch already stale was decoded in the helper"
    finally:
        helper.shutdown()
