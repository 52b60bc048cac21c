"""A prefetch that went stale while its file waited for the busy helper (the reader stepped on during a long JPEG
2000 decode) must not have that file decoded afterwards: stale prefetches queued up (one thread and up to three
decoded views each) and were decoded one after another, ahead of the next study the reader still wants
(a 12-study worklist stepped with PgUp / double-clicks kept up to 4 stale prefetch threads)."""

from __future__ import annotations

import os
import threading
import time

from mammoview.gui.background_jobs import JobCancelled
from mammoview.gui.helper_process import HelperProcess
from mammoview.gui.loader import load_job
from mammoview.io import open_paths


def _busy(seconds: float) -> None:  # as a 12-Mpx JPEG 2000 view being decoded for another (stale) study
    time.sleep(seconds)


def test_a_stale_prefetch_waiting_for_the_helper_decodes_nothing_more(synthetic_study):
    (info,), _ = open_paths([synthetic_study])
    helper = HelperProcess()
    try:
        helper.call(os.getpid, fallback=os.getpid)  # started
        busy = threading.Thread(target=helper.call, args=(_busy, 1.5), kwargs={"fallback": lambda: None})
        busy.start()
        time.sleep(0.3)  # the helper decodes the last study's view
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
        time.sleep(0.2)
        stale.set()  # the reader stepped on (PgUp, a row double-clicked) while its first file waited for the helper
        t.join(30)
        busy.join(30)
        assert outcome and isinstance(outcome[0], JobCancelled)
        assert not ran_after, "a file of a prefetch already stale was decoded in the helper"
    finally:
        helper.shutdown()
