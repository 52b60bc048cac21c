"""A big worklist: every CBIS-DDSM Mass-Training study of ../shared/data as one batch.

Not a test: prints figures.  Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_worklist.py [FOLDER]

FOLDER defaults to ``$MAMMOVIEW_DATA/cbis-ddsm-mass/images`` (1231 images, 691 studies).
Figures: open the folder -> first study on screen (scan of every header in the background,
then the load); redrawing the whole worklist panel; a reader action on the open study
(a mark, which updates its worklist row); Next study (PgDown) with and without the prefetch.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MAMMOVIEW_APP_DATA", tempfile.mkdtemp(prefix="mammoview-bench-"))  # no saved reads
    from mammoview.gui.app import create_app
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.read_state import MarkKind, image_key
    from mammoview.training.sources import default_data_dir

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else default_data_dir() / "cbis-ddsm-mass" / "images"
    if not folder.is_dir():
        print(f"no folder {folder}: pass one, or set MAMMOVIEW_DATA")
        return 1
    app = create_app(["bench"])
    w = MainWindow()
    w.resize(1600, 1000)
    w.show()
    shown: list[object] = []
    w.studyShown.connect(shown.append)

    def wait(cond, timeout: float = 300.0) -> None:  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        while not cond() and time.perf_counter() - t < timeout:
            app.processEvents()
            time.sleep(0.001)

    t0 = time.perf_counter()
    w.open_paths([str(folder)])
    wait(lambda: bool(shown))
    t_open = time.perf_counter() - t0
    rebuild = []
    for _ in range(5):
        t = time.perf_counter()
        w.worklist_panel.rebuild()
        app.processEvents()
        rebuild.append(time.perf_counter() - t)
    panel = next(p for p in w.panels.values() if p.image is not None)
    marks = []
    for k in range(5):
        t = time.perf_counter()
        w.cad.reader.add(panel.view, image_key(panel.image), 10.0 + k, 20.0, MarkKind.MASS)
        app.processEvents()
        marks.append(time.perf_counter() - t)
    steps: dict[str, list[float]] = {"prefetched": [], "not prefetched": []}
    for mode in ("prefetched", "not prefetched") * 3:
        wait(lambda: w._prefetched is not None or not w.prefetch.busy, 60)
        if mode == "not prefetched":
            w.prefetch.cancel()
            w._prefetched = None
        elif w._prefetched is None:
            continue
        shown.clear()
        t = time.perf_counter()
        w.commands["next_study"].trigger()
        wait(lambda: bool(shown), 60)
        app.processEvents()
        steps[mode].append(time.perf_counter() - t)
    print(f"\nworklist benchmark — {folder}")
    print(f"{len(w.worklist)} studies; {os.cpu_count()} CPU(s)")
    print(f"open folder -> first study on screen: {t_open:.2f} s")
    print(f"redraw the whole worklist panel: median {statistics.median(rebuild) * 1000:.0f} ms")
    print(
        f"a mark on the open study (saved, its worklist row updated): median {statistics.median(marks) * 1000:.0f} ms"
    )
    for mode, times in steps.items():
        if times:
            print(f"Next study, {mode}: median {statistics.median(times) * 1000:.0f} ms ({len(times)} steps)")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
