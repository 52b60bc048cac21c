"""The helper process does not outlive a viewer that dies (kill -9, a segmentation fault, the OOM killer)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.gui.conftest import process_alive, sleep_in_helper, wait_for_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and kill -9")
def test_the_helper_ends_when_the_viewer_process_dies(tmp_path):
    script = tmp_path / "viewer.py"
    script.write_text(
        textwrap.dedent("""
        import os, sys, time
        from mammoview.gui.helper_process import HelperProcess

        if __name__ == "__main__":
            helper = HelperProcess(nice=10)
            print(helper.call(os.getpid, fallback=lambda: -1), flush=True)  # the helper's pid
            time.sleep(600)  # the viewer reads on ... until it is killed
    """)
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    helper_pid = -1
    try:
        helper_pid = int(proc.stdout.readline())
        assert helper_pid > 0 and helper_pid != proc.pid and process_alive(helper_pid)
        proc.send_signal(signal.SIGKILL)  # the viewer crashes
        proc.wait(10)
        deadline = time.monotonic() + 15
        while process_alive(helper_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not process_alive(helper_pid), "the helper process outlived the viewer (an orphan of ~100-150 MiB)"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        if helper_pid > 0 and process_alive(helper_pid):
            os.kill(helper_pid, signal.SIGKILL)


def test_quitting_kills_a_decode_in_flight_so_its_waiting_thread_ends_now(tmp_path: Path) -> None:
    """The viewer quits with a load waiting for a decode in a helper: ``shutdown(kill=True)`` ends the helper, the
    waiting call fails at once (its job was cancelled, nothing is shown) and the window closes without waiting for
    the decode (a 30 s stand-in here; ~1 s for a J2K view, seconds on a busy machine)."""
    import threading

    from mammoview.gui.helper_process import HelperCrashed, HelperProcess

    helper = HelperProcess()
    assert helper.call(os.getpid, fallback=lambda: -1) > 0  # started
    outcome: list[str] = []
    running = tmp_path / "running"

    def waiting_load() -> None:
        try:
            helper.call(sleep_in_helper, str(running), 30, fallback=lambda: None)
            outcome.append("finished")
        except HelperCrashed:
            outcome.append("ended")

    thread = threading.Thread(target=waiting_load)
    thread.start()
    wait_for_file(running)  # the sleep is running in the helper (after a fixed 0.5 s, a fresh helper could run it)
    helper.shutdown(kill=True)
    thread.join(10)
    assert not thread.is_alive() and outcome == ["ended"]
