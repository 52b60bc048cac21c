"""Write packaging/mammoview.svg and mammoview.png (256 px) from the icon drawn in mammoview.gui.icon.

Run from the repository root after changing the drawing::

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icon.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    from PySide6 import QtGui

    from mammoview.gui.icon import ICON_SVG, render_icon

    _app = QtGui.QGuiApplication(sys.argv[:1])  # QImage text/painting needs an application
    (HERE / "mammoview.svg").write_text(ICON_SVG, encoding="utf-8")
    for size, name in ((256, "mammoview.png"), (48, "mammoview-48.png")):
        if not render_icon(size).save(str(HERE / name)):
            raise SystemExit(f"could not write {HERE / name}")
    print(f"wrote {HERE / 'mammoview.svg'}, mammoview.png, mammoview-48.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
