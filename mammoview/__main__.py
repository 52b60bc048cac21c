import multiprocessing

from mammoview.cli import main

# Guarded: the helper process that decodes JPEG 2000 / JPEG-LS slices (spawned) imports this module again, and must
# not start another mammoview; freeze_support lets a PyInstaller build run that helper.
if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
