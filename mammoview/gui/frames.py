"""Stepping through the frames of a multi-frame image: the slices of a breast tomosynthesis volume.

A tomosynthesis (DBT) volume hangs behind the 2-D (or synthesized 2-D) view of its slot (``D`` shows it) and
opens at its first frame, a slice at the breast's edge.  Image ▸ Next slice (``Down``) and Previous slice (``Up``)
step the active panel through the volume; ``Shift`` steps ten slices.  Each slice is decoded on its own
(:func:`mammoview.io.reader.decode_frame`: pydicom decodes one frame of native or compressed data) and made
ready for display in a background job, so the viewer never waits on it; keys pressed faster than slices decode
add up, and only the last slice asked for is shown (:class:`~mammoview.gui.loader.BackgroundJobs` drops the
stale ones).  The slice keeps the panel's zoom, pan and window/level; its title says ``frame 12 of 60``.

The CAD does not run on multi-frame images (it learned 2-D mammograms), and the reader's marks and
measurements belong to the image, not to one of its slices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore

from mammoview.gui.display_image import DisplayImage, prepare_display
from mammoview.gui.loader import BackgroundJobs, Cancelled, JobCancelled, Progress
from mammoview.io.model import View
from mammoview.io.reader import decode_frame

if TYPE_CHECKING:
    from collections.abc import Callable

    from mammoview.gui.main_window import MainWindow


def frame_job(display: DisplayImage, frame: int) -> Callable[[Progress, Cancelled], DisplayImage]:
    """Decode ``frame`` of ``display``'s image and prepare it for display (in a worker thread)."""

    def run(progress: Progress, cancelled: Cancelled) -> DisplayImage:
        image = decode_frame(display.image, frame)
        if cancelled():
            raise JobCancelled
        return prepare_display(image)

    return run


class FrameStepper(QtCore.QObject):
    """Image ▸ Next / Previous slice on the active panel."""

    #: a slice is on screen: (view, its DisplayImage)
    frameShown = QtCore.Signal(object, object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.jobs = BackgroundJobs(self)
        self._pending: tuple[View, DisplayImage, int] | None = None  # (view, shown display, frame asked for)
        self.jobs.finished.connect(self._on_decoded)
        self.jobs.errored.connect(self._on_error)

    def step(self, delta: int) -> None:
        """Show the active panel's slice ``delta`` frames on (clamped to the volume)."""
        w = self.window
        panel = w.active_panel()
        display = panel.display
        if display is None or display.image.info.frames < 2:
            what = "no image" if display is None else "a single image"
            w.show_status(f"{panel.view.label} shows {what}: Next / Previous slice step through a tomosynthesis "
                          "volume (D shows a view's other images).", 5000)  # fmt: skip
            return
        frames = display.image.info.frames
        pending = self._pending
        start = pending[2] if pending is not None and pending[0] is panel.view and pending[1] is display else None
        current = display.image.frame if start is None else start
        target = min(max(current + delta, 0), frames - 1)
        if target == current:
            w.show_status(f"{panel.view.label}: {'first' if delta < 0 else 'last'} slice ({target + 1} of {frames}).",
                          3000)  # fmt: skip
            return
        self._pending = (panel.view, display, target)
        w.show_status(f"{panel.view.label}: slice {target + 1} of {frames}…")
        self.jobs.submit(frame_job(display, target))

    def shutdown(self) -> None:
        self.jobs.shutdown()

    def _on_decoded(self, result: object) -> None:
        pending, self._pending = self._pending, None
        if pending is None or not isinstance(result, DisplayImage):
            return
        view, shown, frame = pending
        w = self.window
        if w.panels[view].display is not shown:
            return  # the panel moved on (another study, another image): the slice is not wanted
        w.replace_display(view, shown, result)
        w.show_status(f"{view.label}: slice {frame + 1} of {result.image.info.frames}.", 3000)
        self.frameShown.emit(view, result)

    def _on_error(self, exc: object) -> None:
        self._pending = None
        self.window.report_problems("Could not show the slice", [str(exc)])
