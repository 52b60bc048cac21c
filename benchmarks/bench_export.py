"""How long the viewer stops while it exports: the longest event-loop stall of the real main window.

Opens the bundled demo study (or ``--study FOLDER``, DICOM images), runs CAD, marks the first read as done, then
exports, each export timed between 5 ms timer ticks of the GUI thread:

* DICOM SR (File ▸ Export CAD as DICOM SR): built and written in a worker thread; the first of a session also
  imports highdicom and reads its table of DICOM attributes (22 MB of JSON);
* annotated picture + findings JSON (File ▸ Export…): painted on the GUI thread, written in a worker.

Each is run ``--repeat`` times (the first SR separately: what a reader meets once a session). Prints, per export,
the wall time until its ``done`` signal and the longest gap between ticks; the goal is a stall <= 50 ms.

Usage: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_export.py [--repeat 3]`` (or under
``xvfb-run -a`` for a real window).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from viewer_support import open_with_models, settle, shown_window, wait

ROOT = Path(__file__).resolve().parents[1]


def timed_stall(app: Any, start: Callable[[], object], done: Any, timeout_s: float = 120.0) -> tuple[float, float]:
    """(wall s until ``done`` is emitted, longest gap s between 5 ms ticks) for the export ``start`` begins."""
    from PySide6 import QtCore

    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    settle(app, 0.1)  # (ticks before it starts: a stall in the call itself counts)
    t0 = time.perf_counter()
    QtCore.QTimer.singleShot(0, start)
    wait(done, timeout_s)
    t1 = time.perf_counter()
    settle(app, 0.1)  # (and the slots that follow ``done``)
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    return t1 - t0, max(gaps) if gaps else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--study", type=Path, default=ROOT / "resources" / "demo", help="study folder (DICOM images)")
    ap.add_argument("--repeat", type=int, default=3, help="exports of each kind after the first SR (default 3)")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t_import = time.perf_counter()
    from PySide6 import QtCore, QtWidgets

    from mammoview.gui.app import configure_pyqtgraph
    from mammoview.gui.export import paint_export

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    configure_pyqtgraph()
    print(f"Qt + mammoview.gui imported in {time.perf_counter() - t_import:.2f} s; highdicom imported: "
          f"{'highdicom' in sys.modules}")  # fmt: skip
    with tempfile.TemporaryDirectory() as appdata, tempfile.TemporaryDirectory() as out:
        os.environ["MAMMOVIEW_APP_DATA"] = appdata  # (the reads of this run, not the user's)
        window = shown_window()
        open_with_models(app, window, args.study)
        window.cad.first_read_done()
        QtCore.QTimer.singleShot(0, window.cad.run)
        wait(window.cad.runner.resultReady, 120.0)
        settle(app, 0.5)
        if window.cad.result is None:
            sys.exit("CAD gave no result")
        rows: list[tuple[str, float, float]] = []
        n = itertools.count(1)

        def sr() -> None:
            window.cad.sr_export.write(window.cad.result, Path(out) / f"sr-{next(n)}.dcm", confirmed=False)

        def picture() -> None:
            painted = paint_export(window, Path(out) / f"shot-{next(n)}.png")
            window.picture_export.start(lambda _progress, _cancelled: painted.write())

        rows.append(("DICOM SR, first of the session", *timed_stall(app, sr, window.cad.sr_export.done)))
        for _ in range(args.repeat):
            rows.append(("DICOM SR, again", *timed_stall(app, sr, window.cad.sr_export.done)))
        for _ in range(args.repeat):
            rows.append(("picture + JSON (2x2)", *timed_stall(app, picture, window.picture_export.done)))
        written = sorted(p.name for p in Path(out).iterdir())
        window.cad.shutdown()
        window.jobs.shutdown()
        window.close()
    print(f"study {args.study}: {len(written)} files written ({', '.join(written)})")
    print(f"{'export':34s} {'done in':>9s} {'longest stall':>14s}")
    for name, wall, stall in rows:
        print(f"{name:34s} {wall:8.2f}s {stall * 1000:11.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
