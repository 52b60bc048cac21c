"""Quitting while a prior or a tomosynthesis slice is being decoded in a helper process does not wait for that decode
(the load and prefetch helpers were killed before waiting for their threads, but the prior comparison's loads, which
decode in the same load helpers, and the slice decodes were waited for first: the window froze for a J2K decode)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from mammoview.gui import frames as frames_module
from mammoview.gui.helper_process import HelperCrashed
from mammoview.gui.loader import BackgroundJobs
from mammoview.io.model import View


@pytest.mark.parametrize("what", ["prior load", "slice decode"])
def test_quitting_during_a_decode_in_a_helper_does_not_wait_for_it(main_window, qtbot, what):
    w = main_window
    if what == "prior load":
        helper, jobs = w.load_helper.helpers[0], w.priors.jobs
    else:
        helper, jobs = frames_module.helper, w.frames._jobs.setdefault(View.RCC, BackgroundJobs(w.frames))
    assert helper.call(os.getpid, fallback=lambda: -1) > 0  # started
    started = threading.Event()

    def decode(progress, cancelled):  # type: ignore[no-untyped-def]
        started.set()
        try:  # as a J2K view (of the prior, or a slice) being decoded: a 20 s stand-in
            return helper.call(time.sleep, 20, fallback=lambda: None)
        except HelperCrashed:
            return None

    jobs.submit(decode)
    assert started.wait(5)
    time.sleep(0.3)
    t0 = time.perf_counter()
    w.close()
    took = time.perf_counter() - t0
    assert took < 5, f"the window took {took:.1f} s to close: it waited for the {what}"
