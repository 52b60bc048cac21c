"""Entry script of the windowed ``mammoview-viewer`` executable (PyInstaller): ``mammoview view ARGS``."""

import multiprocessing
import sys

from mammoview.cli import main

if __name__ == "__main__":  # the helper process that decodes JPEG 2000 / JPEG-LS slices imports this script again
    multiprocessing.freeze_support()  # ... and, frozen, runs this executable
    raise SystemExit(main(["view", *sys.argv[1:]]))
