"""Quitting while a prior or a tomosynthesis slice is being decoded in a helper process does not wait for that decode
(the load and prefetch helpers were killed before waiting for their threads, but the prior comparison's loads, which
decode in the same load helpers, and the slice decodes were waited for first: the window froze for a J2K decode)."""

from __future__ import annotations

import os
import struct
import time

import pytest

from mammoview.gui import frames as frames_module
from mammoview.gui.background_jobs import BackgroundJobs
from mammoview.gui.helper_process import HelperCrashed
from mammoview.io.model import View
from tests.gui.conftest import sleep_in_helper, wait_for_file


@pytest.mark.parametrize("what", ["prior load", "slice decode"])
def test_quitting_during_a_decode_in_a_helper_does_not_wait_for_it(main_window, qtbot, tmp_path, what):
    w = main_window
    if what == "prior load":
        helper, jobs = w.load_helper.helpers[0], w.priors.jobs
    else:
        helper, jobs = frames_module.helper, w.frames._jobs.setdefault(View.RCC, BackgroundJobs(w.frames))
    assert helper.call(os.getpid, fallback=lambda: -1) > 0  # started
    running = tmp_path / "running"

    def decode(progress, cancelled):  # type: ignore[no-untyped-def]
        try:  # as a J2K view (of the prior, or a slice) being decoded: a 20 s stand-in
            return helper.call(sleep_in_helper, str(running), 20, fallback=lambda: None)
        except HelperCrashed:
            return None

    jobs.submit(decode)
    wait_for_file(running)  # (a fixed 0.3 s: the close could come first, and a fresh helper then ran the 20 s)
    t0 = time.perf_counter()
    w.close()
    took = time.perf_counter() - t0
    assert took < 5, f"the window took {took:.1f} s to close: it waited for the {what}"


def test_quitting_while_a_helper_sends_back_a_decode_ends_the_wait_for_it(main_window, tmp_path):
    """A helper killed while it writes a full-resolution view back (~25 MB through its pipe) left the executor's
    thread reading the rest of that message for ever: the call's future never ended, the closing window waited 30 s
    for the load job waiting on it, then Qt aborted the viewer ("QThread: Destroyed while thread is still running":
    5 in 31 closes right after a JPEG 2000 study's preview went up); and the interpreter's exit, which joins that
    thread, hung the quit viewer."""
    w = main_window
    helper = w.load_helper.helpers[0]
    assert helper.call(os.getpid, fallback=lambda: -1) > 0  # started
    pool = helper._pool
    manager, writer = pool._executor_manager_thread, pool._result_queue._writer
    running = tmp_path / "running"

    def decode(progress, cancelled):  # type: ignore[no-untyped-def]
        try:  # the full decode of a preview's view (8 s: the test's own limit, where the viewer waited 120 s)
            return helper.call(sleep_in_helper, str(running), 20, fallback=lambda: None, timeout=8)
        except HelperCrashed:
            return None

    w.jobs.submit(decode)
    wait_for_file(running)  # (its helper, not a fresh one started after the close, is the one killed)
    os.write(writer.fileno(), struct.pack("!i", 1000))  # a result's length, its bytes not sent yet when killed
    time.sleep(0.3)
    try:
        t0 = time.perf_counter()
        w.close()
        took = time.perf_counter() - t0
        manager.join(5)
        assert took < 5, f"the window took {took:.1f} s to close: it waited for a killed helper's result"
        assert not manager.is_alive()  # the interpreter's exit joins it
    finally:
        if not writer.closed:  # (unfixed) the message's rest, so that pytest's own exit does not hang
            os.write(writer.fileno(), bytes(1000))


def test_quitting_while_the_cad_model_loads_takes_the_window_away_at_once(main_window):
    """The CAD's model is loaded in the background from start-up (a second or two here; longer where CUDA starts, or
    on a cold disk), and a quit has to wait for that thread: it waited with the window on screen and frozen, the
    reader's Ctrl+Q seemingly ignored. The window goes at once; the process ends when the load has."""
    from mammoview.gui.cad_worker import CadUnavailable

    w = main_window
    seen: list[bool] = []

    def loader():  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 5  # (the window's close waits for this thread)
        while w.isVisible() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(w.isVisible())
        raise CadUnavailable("no model in this test")

    w.cad.use_model_loader(loader)  # a probe job loads it now
    w.close()
    assert seen == [False], "the window stayed on screen while its close waited for the model's load"
