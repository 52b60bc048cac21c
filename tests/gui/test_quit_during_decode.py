"""quitting while a prior or a tomosynthesis slice is being decoded in a helper process must not wait for
that decode (a66551a kills the load and prefetch helpers before waiting for their threads, but the prior
comparison's loads, which decode in the same load helpers, and the slice decodes are waited for before: the
window still freezes for a J2K decode)."""

from __future__ import annotations

import os
import threading
import time

from mammoview.gui import frames as frames_module
from mammoview.gui.helper_process import HelperCrashed


def test_quitting_during_a_prior_load_does_not_wait_for_its_decode(main_window, qtbot):
    w = main_window
    helper = w.load_helper.helpers[0]
    assert helper.call(os.getpid, fallback=lambda: -1) > 0  # started
    started = threading.Event()

    def prior_load(progress, cancelled):  # type: ignore[no-untyped-def]
        started.set()
        try:  # as a J2K view of the prior being decoded (a 20 s stand-in)
            return helper.call(time.sleep, 20, fallback=lambda: None)
        except HelperCrashed:
            return None

    w.priors.jobs.submit(prior_load)
    assert started.wait(5)
    time.sleep(0.3)
    t0 = time.perf_counter()
    w.close()
    took = time.perf_counter() - t0
    assert took < 5, f"the window took {took:.1f} s to close: it waited for the prior's decode"


def test_quitting_during_a_slice_decode_does_not_wait_for_it(main_window, qtbot):
    w = main_window
    helper = frames_module.helper
    assert helper.call(os.getpid, fallback=lambda: -1) > 0
    from mammoview.gui.loader import BackgroundJobs
    from mammoview.io.model import View

    jobs = w.frames._jobs.setdefault(View.RCC if hasattr(View, "RCC") else next(iter(View)), BackgroundJobs(w.frames))
    started = threading.Event()

    def slice_decode(progress, cancelled):  # type: ignore[no-untyped-def]
        started.set()
        try:
            return helper.call(time.sleep, 20, fallback=lambda: None)
        except HelperCrashed:
            return None

    jobs.submit(slice_decode)
    assert started.wait(5)
    time.sleep(0.3)
    t0 = time.perf_counter()
    w.close()
    took = time.perf_counter() - t0
    assert took < 5, f"the window took {took:.1f} s to close: it waited for the slice decode"
