"""Entry script of the windowed ``mammoview-viewer`` executable (PyInstaller): ``mammoview view ARGS``."""

import sys

from mammoview.cli import main

raise SystemExit(main(["view", *sys.argv[1:]]))
