"""Fixtures for the viewer tests: a deterministic synthetic four-view study and a shown main window.

The synthetic study stores R CC and L MLO with the chest wall on the "wrong" side
(so the display flips are exercised) and every image has a different size, so a
panel showing the wrong image or facing the wrong way is caught by pixel checks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.synthetic import Blob, mammo_dataset, synthetic_breast, write_dataset

#: view -> (laterality, projection, stored chest-wall side, rows, cols, seed, blobs)
SYNTHETIC_VIEWS: dict[str, tuple[str, str, str, int, int, int, tuple[Blob, ...]]] = {
    "RCC": ("R", "CC", "left", 480, 300, 1, (Blob(90, 200, 14),)),
    "LCC": ("L", "CC", "left", 500, 320, 2, (Blob(120, 300, 10, 0.5),)),
    "RMLO": ("R", "MLO", "right", 520, 310, 3, (Blob(200, 320, 18),)),
    "LMLO": ("L", "MLO", "right", 540, 330, 4, (Blob(220, 150, 12, 0.5),)),
}
STUDY_UID = "1.2.826.0.1.3680043.8.498.1001"


def in_jpeg2000(*paths: Path) -> Path:
    """Re-encode DICOM files in place as JPEG 2000 (lossless), as PACS exports often are; the last path."""
    import pydicom
    from pydicom.uid import JPEG2000Lossless

    for path in paths:
        ds = pydicom.dcmread(path)
        ds.compress(JPEG2000Lossless)
        ds.save_as(path)
    return paths[-1]


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (Linux): a zombie (killed, not yet reaped) does not, nor one that ends while
    this looks (its /proc entry gone between the signal check and the read: ESRCH, a flaky failure in CI)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def sleep_in_helper(started: str, seconds: float) -> None:
    """``time.sleep(seconds)``, to be run in a helper process: file ``started`` is made first, so that a test waits
    for the call to run there (:func:`wait_for_file`), not a fixed time (on a loaded machine the call reached the
    helper after the test had shut it down: a fresh helper ran it, and the wait the test was about followed)."""
    import time

    Path(started).touch()
    time.sleep(seconds)


def wait_for_file(path: Path, timeout: float = 20.0) -> None:
    """Wait until ``path`` exists (made by :func:`sleep_in_helper`); fail the test after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{path.name} was not made in {timeout:.0f} s: the call never ran in the helper")
        time.sleep(0.01)


def failing_for(name: str, decode: Callable[..., object], reason: str) -> Callable[..., object]:
    """``decode`` (of an ImageInfo, and any other arguments), but a LoadError giving ``reason`` for file ``name``."""

    def run(info, *args, **kwargs):  # type: ignore[no-untyped-def]
        from mammoview.io.model import LoadError

        if info.path.name == name:
            raise LoadError(info.path, reason)
        return decode(info, *args, **kwargs)

    return run


def write_view(folder: Path, name: str, view: str, **overrides: object) -> Path:
    """Write one synthetic view as ``folder/name`` (keyword overrides go to ``mammo_dataset``)."""
    lat, proj, side, rows, cols, seed, blobs = SYNTHETIC_VIEWS[view]
    pixels = synthetic_breast(rows, cols, chest_wall=side, blobs=blobs, seed=seed)
    kwargs: dict[str, object] = {"laterality": lat, "view": proj, "study_uid": STUDY_UID}
    if "projection" in overrides:  # mammo_dataset calls the projection "view"
        overrides["view"] = overrides.pop("projection")
    kwargs.update(overrides)
    ds = mammo_dataset(pixels, **kwargs)  # type: ignore[arg-type]
    ds.InstanceNumber = 1
    return write_dataset(ds, folder / name)


@pytest.fixture(autouse=True)
def _no_unexpected_modal_question(monkeypatch):  # type: ignore[no-untyped-def]
    """A modal question (``dialogs.ask_yes_no``) would hang a headless test: one that a test does not expect (and
    stub itself) is answered Yes and fails that test."""
    from mammoview.gui import dialogs

    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append((title, text)) or True)
    yield
    assert not asked, f"unexpected modal question: {asked}"


@pytest.fixture()
def synthetic_study(tmp_path: Path) -> Path:
    """A folder with the four synthetic views (uncompressed DICOM, 0.1 mm spacing)."""
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    return folder


@contextlib.contextmanager
def shown_main_window(qtbot) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A shown MainWindow of a fixed size, its background jobs and helper processes ended afterwards."""
    from mammoview.gui.app import configure_pyqtgraph
    from mammoview.gui.main_window import MainWindow

    configure_pyqtgraph()
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1000, 760)
    window.show()
    qtbot.waitExposed(window)
    try:
        yield window
    finally:
        window.jobs.shutdown()
        window.prefetch.shutdown()
        window.prefetch_helper.shutdown()
        window.load_helper.shutdown()
        window.priors.shutdown()
        window.frames.shutdown()


@pytest.fixture()
def main_window(qtbot) -> Iterator[object]:
    """A shown MainWindow of a fixed size, with settings in the test's app-data folder."""
    with shown_main_window(qtbot) as window:
        yield window


@pytest.fixture()
def load(qtbot) -> Callable[..., object]:
    """``load(window, paths)``: open paths and wait until the study is on screen."""

    def run(window, paths: list[Path | str], timeout: int = 30_000):  # type: ignore[no-untyped-def]
        with qtbot.waitSignal(window.studyShown, timeout=timeout) as blocker:
            window.open_paths([str(p) for p in paths])
        settle(qtbot, window)
        return blocker.args[0]

    return run


def settle(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """Let pending layout/paint events run (offscreen paints are synchronous on grab anyway)."""
    qtbot.wait(30)


def image_array(image, rgb: bool = True) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A QImage as (h, w, 3) uint8 RGB, or with ``rgb`` False (h, w) grey: a copy, since the converted QImage's
    buffer dies with it (an array still viewing it segfaulted a CI run)."""
    from PySide6 import QtGui

    fmt = QtGui.QImage.Format.Format_RGB888 if rgb else QtGui.QImage.Format.Format_Grayscale8
    img = image.convertToFormat(fmt)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    rows = np.frombuffer(img.constBits(), dtype=np.uint8, count=bpl * h).reshape(h, bpl)
    return rows[:, : 3 * w].reshape(h, w, 3).copy() if rgb else rows[:, :w].copy()


def grab_gray(panel) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The panel's graphics viewport as rendered (no text labels), as a uint8 grey array."""
    return image_array(panel.graphics.viewport().grab().toImage(), rgb=False)


def mouse(widget, kind: str, pos, button=None, buttons=None) -> None:  # type: ignore[no-untyped-def]
    """Send one mouse event (press/move/release/double) to ``widget`` at ``pos`` (widget coordinates).

    QTest's mouseMove carries no buttons, which pyqtgraph needs to see a drag, so the
    events are built by hand.
    """
    from PySide6 import QtCore, QtGui, QtWidgets

    types = {
        "press": QtCore.QEvent.Type.MouseButtonPress,
        "move": QtCore.QEvent.Type.MouseMove,
        "release": QtCore.QEvent.Type.MouseButtonRelease,
        "double": QtCore.QEvent.Type.MouseButtonDblClick,
    }
    none = QtCore.Qt.MouseButton.NoButton
    local = QtCore.QPointF(*pos)
    glob = QtCore.QPointF(widget.mapToGlobal(local.toPoint()))
    event = QtGui.QMouseEvent(
        types[kind], local, glob, button or none, buttons if buttons is not None else (button or none),
        QtCore.Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QtWidgets.QApplication.sendEvent(widget, event)


def drag(widget, start, end, button, steps: int = 6) -> None:  # type: ignore[no-untyped-def]
    """Press at ``start``, move to ``end`` in ``steps``, release (widget coordinates).

    Moves are spaced like a real mouse: pyqtgraph drops move events closer together
    than its ``mouseRateLimit`` (100 Hz), and a drag whose first move is dropped
    never starts.
    """
    import time

    from PySide6 import QtCore

    mouse(widget, "press", start, button)
    for i in range(1, steps + 1):
        time.sleep(0.012)
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        mouse(widget, "move", (x, y), QtCore.Qt.MouseButton.NoButton, button)
    mouse(widget, "release", end, button, QtCore.Qt.MouseButton.NoButton)
