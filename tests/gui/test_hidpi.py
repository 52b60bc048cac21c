"""High-DPI screens (a laptop at 150-200 %, a HiDPI reading monitor beside a 100 % one).

The device pixel ratio is fixed when the QApplication starts (QT_SCALE_FACTOR, the platform's screens), so these
tests run the viewer in a subprocess with the screens they need; the pytest-qt application is not touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

#: Two screens side by side: a 100 % laptop panel and a 200 % monitor (logical DPI 192 -> device pixel ratio 2).
SCREENS = {"screens": [
    {"name": "laptop", "x": 0, "y": 0, "width": 1600, "height": 1000, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1},
    {"name": "hidpi", "x": 1600, "y": 0, "width": 1600, "height": 1000, "logicalDpi": 192, "logicalBaseDpi": 96,
     "dpr": 1},
]}  # fmt: skip

_PRELUDE = """
import json, sys
from PySide6 import QtCore
from PySide6.QtTest import QTest
from mammoview.gui.app import create_app
def wait(ms):  # not QTest.qWait: it holds the GIL while it waits, and the load and CAD threads starved (23 s, not 5)
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()
app = create_app()
from mammoview.gui.main_window import MainWindow
from mammoview.io.model import View
w = MainWindow(pixel_spacing=0.1)
w.resize(1000, 700)
w.move(40, 40)
w.show()
QTest.qWaitForWindowExposed(w)
shown = []
w.studyShown.connect(shown.append)
w.open_paths([sys.argv[1]])
for _ in range(600):
    if shown:
        break
    wait(50)
wait(100)
"""

_EPILOGUE = """
for part in (w.jobs, w.prefetch, w.priors, w.frames, w.cad):
    part.shutdown()
"""


def run_viewer(script: str, study: Path, env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    code = textwrap.dedent(_PRELUDE) + textwrap.dedent(script) + textwrap.dedent(_EPILOGUE)
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, str(study)], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_window_moved_to_a_hidpi_screen_draws_a_level_sharp_enough_for_it(demo_dir, tmp_path):
    """Dragged from the 100 % laptop panel onto the 200 % monitor, every device pixel must still get a pyramid pixel
    of its own (the level picked for the laptop is half the resolution: a blurred image, microcalcifications lost),
    and the panel's zoom line says the zoom on the new screen, until the next pan or zoom and after it."""
    config = tmp_path / "screens.json"
    config.write_text(json.dumps(SCREENS))
    script = """
    p = w.panels[View.LCC]
    def state():
        scale = p.device_scale() * max(1.0, p.aspect)
        return {"dpr": p.graphics.devicePixelRatioF(), "level": p.image_item.level_index,
                "wanted": p.display.pyramid.level_for_scale(scale), "zoom": f"{p.device_scale() * 100:.0f}%",
                "info": p.labels.info.text()}
    before = state()
    w.move(1640, 40)
    for _ in range(40):
        wait(50)
        if p.graphics.devicePixelRatioF() == 2.0:
            break
    wait(200)
    print(json.dumps({"before": before, "after": state()}))
    """
    got = run_viewer(script, demo_dir, {"QT_QPA_PLATFORM": f"offscreen:configfile={config}"})
    before, after = got["before"], got["after"]
    assert before["dpr"] == 1.0 and after["dpr"] == 2.0, got
    assert before["level"] == before["wanted"] and after["wanted"] < before["wanted"], got  # the test means something
    assert after["level"] == after["wanted"], got
    assert f" {after['zoom']} " in after["info"], got


def test_the_exported_picture_holds_the_whole_layout_at_200_percent(synthetic_study):
    """QT_SCALE_FACTOR=2: the picture is the layout in device pixels, filled to its bottom-right corner."""
    script = """
    from PySide6 import QtGui
    from mammoview.gui.export_picture import render_picture
    shot = w.hanging.grab().toImage()
    picture = render_picture(w, active_only=False, anonymize=True)
    # the layout's bottom-right corner: the L MLO panel's image area, never the legend's dark background
    x, y = shot.width() - 3, shot.height() - 3
    same = lambda px, py: QtGui.QColor(picture.pixel(px, py)).name() == QtGui.QColor(shot.pixel(px, py)).name()
    print(json.dumps({"dpr": shot.devicePixelRatio(), "shot": [shot.width(), shot.height()],
                      "picture": [picture.width(), picture.height()], "same": same(x, y), "mid": same(x, y // 2)}))
    """
    got = run_viewer(script, synthetic_study, {"QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"})
    assert got["dpr"] == 2.0 and got["picture"][0] == got["shot"][0], got
    assert got["same"] and got["mid"], got
