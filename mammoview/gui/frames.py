"""Stepping through the frames of a multi-frame image: the slices of a breast tomosynthesis volume.

A tomosynthesis (DBT) volume hangs behind the 2-D (or synthesized 2-D) view of its slot (``D`` shows it) and
opens at its first frame, a slice at the breast's edge.  The wheel over it steps its slices (``Ctrl`` + wheel
zooms there), and Image ▸ Next slice (``Down``) and Previous slice (``Up``) step the active panel through the
volume; ``Shift`` steps ten slices.  Each slice is decoded on its own
(:func:`mammoview.io.reader.decode_frame`: pydicom decodes one frame of native or compressed data) and made
ready for display in a background job, so the viewer never waits on it; keys pressed faster than slices decode
add up: one slice per view is decoded at a time, each is drawn, and the next decode starts at the slice asked for
by then, so a held key scrolls at the decoder's pace and ends on the last slice asked for.  The slice keeps the
panel's zoom, pan and window/level; its title says ``tomosynthesis frame 12 of 60``.

Image ▸ Play slices (cine, ``P``) sweeps the active view's volume back and forth, as DBT workstations do, at the
cine speed (Image ▸ Faster / Slower cine, ``>`` / ``<`` as in video players: 5 to 30 slices per second, saved); a
slice is asked for only once the previous one is drawn, so a rate the decoder cannot keep plays at the decoder's
pace and never queues work.  ``P`` again, a slice key, the wheel over that view or a findings row on it stops it;
so does another image in its panel.

The CAD does not run on multi-frame images (it learned 2-D mammograms).  A reader's mark or measurement placed
on a slice belongs to it (``frame``): drawn on that slice only, and its findings row goes back to it
(:meth:`FrameStepper.go_to`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6 import QtCore

from mammoview.gui.background_jobs import BackgroundJobs, Cancelled, JobCancelled, Progress
from mammoview.gui.display_image import DisplayImage, prepare_display
from mammoview.gui.helper_process import SLOW_SYNTAXES, HelperProcess, holds_gil
from mammoview.io.model import MammoImage, View
from mammoview.io.reader import decode_frame

if TYPE_CHECKING:
    from collections.abc import Callable

    from mammoview.gui.main_window import MainWindow

log = logging.getLogger(__name__)

#: Image ▸ Cine speed choices, slices per second
CINE_RATES = (5, 10, 15, 20, 30)
DEFAULT_CINE_RATE = 10


#: the slices' helper process (the reader steps slices while reading: none may stall the viewer)
helper = HelperProcess()


def decode_slice(image: MammoImage, frame: int) -> MammoImage:
    """Frame ``frame`` of ``image`` (:func:`decode_frame`), in the helper process for a GIL-bound syntax."""
    if holds_gil(image.info, SLOW_SYNTAXES):
        return helper.decode_frame(image, frame)
    return decode_frame(image, frame)


def frame_job(display: DisplayImage, frame: int) -> Callable[[Progress, Cancelled], DisplayImage]:
    """Decode ``frame`` of ``display``'s image and prepare it for display (in a worker thread)."""

    def run(progress: Progress, cancelled: Cancelled) -> DisplayImage:
        if cancelled():
            raise JobCancelled
        image = decode_slice(display.image, frame)
        if cancelled():
            raise JobCancelled
        return prepare_display(image)

    return run


@dataclass
class _Stepping:
    """One view's stepping: what its panel shows, the slice asked for last, the slice being decoded, and the slices
    that failed to decode (reported once, then stepped over)."""

    shown: DisplayImage
    target: int
    running: int | None = None
    failed: set[int] = field(default_factory=set)

    def after(self, start: int, step: int) -> int | None:
        """The first slice from ``start`` on, going by ``step`` (+1 or -1), that did not fail; None past the end."""
        frames = self.shown.image.info.frames
        k = start
        while 0 <= k < frames and k in self.failed:
            k += step
        return k if 0 <= k < frames else None


class FrameStepper(QtCore.QObject):
    """Image ▸ Next / Previous slice on the active panel.

    At most one slice per view is decoded at a time: while a key is held, each decoded slice is drawn and the
    next decode starts at the slice asked for by then, so the volume scrolls at the decoder's pace and the last
    slice asked for is the one left on screen (a new job per key would make every running one stale, and nothing
    would be drawn until the key is let go).  Each view steps on its own.
    """

    #: a slice is on screen: (view, its DisplayImage)
    frameShown = QtCore.Signal(object, object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._steps: dict[View, _Stepping] = {}
        self._jobs: dict[View, BackgroundJobs] = {}
        self.cine_view: View | None = None  # the view playing its slices (Image ▸ Play slices), if any
        self._cine_direction = +1
        self._cine_late = False  # a beat came while the slice before was still on its way
        self._cine = QtCore.QTimer(self)
        self._cine.timeout.connect(self._cine_tick)
        saved = window.settings.value("image/cine_rate", str(DEFAULT_CINE_RATE))
        self.cine_rate = int(saved) if saved.isdecimal() and int(saved) in CINE_RATES else DEFAULT_CINE_RATE

    @property
    def busy(self) -> bool:
        return any(j.busy for j in self._jobs.values())

    def _active_volume(self, what: str) -> tuple[View, DisplayImage] | None:
        """The active panel's view and volume; ``None`` (said in the status bar) when it shows no volume."""
        w = self.window
        panel = w.active_panel()
        display = panel.display
        if display is None or display.image.info.frames < 2:
            shows = "no image" if display is None else "a single image"
            w.show_status(f"{panel.view.label} shows {shows}: {what} a tomosynthesis volume (D shows a view's "
                          "other images).", 5000)  # fmt: skip
            return None
        return panel.view, display

    def step(self, delta: int) -> None:
        """Ask for the active panel's slice ``delta`` frames on from the last one asked for (clamped)."""
        found = self._active_volume("Next / Previous slice step through")
        if found is None:
            return
        w = self.window
        view, display = found
        panel = w.panels[view]
        if self.cine_view is view:  # the reader takes over from the cine
            self.stop_cine()
        st = self._stepping(panel.view, display)
        frames = display.image.info.frames
        target = min(max(st.target + delta, 0), frames - 1)
        way = 1 if delta > 0 else -1
        nxt = st.after(target, way)
        if nxt is None:  # only slices that failed on that side: as far as one that did not
            nxt = st.after(target, -way)
        target = st.target if nxt is None else nxt
        if target == st.target:
            w.show_status(f"{panel.view.label}: {'first' if delta < 0 else 'last'} slice ({target + 1} of {frames}).",
                          3000)  # fmt: skip
            return
        self._ask(panel.view, st, target)

    def go_to(self, view: View, frame: int) -> None:
        """Show slice ``frame`` of ``view``'s volume (a findings row of a mark placed on it)."""
        display = self.window.panels[view].display
        if display is None or not 0 <= frame < display.image.info.frames:
            return
        if self.cine_view is view:
            self.stop_cine()
        self._ask(view, self._stepping(view, display), frame)

    # -- cine ------------------------------------------------------------------------------------
    def toggle_cine(self) -> None:
        """Image ▸ Play slices: sweep the active view's volume back and forth, or stop the sweep."""
        playing, active = self.cine_view, self.window.active_panel()
        if playing is not None:
            self.stop_cine()
            if active.view is playing or active.display is None or active.display.image.info.frames < 2:
                self.window.show_status(f"{playing.label}: cine stopped.", 3000)
                return  # else P on another volume: the cine moves there
        found = self._active_volume("Play slices sweeps through")
        if found is None:
            return
        view, display = found
        st = self._stepping(view, display)
        self._cine_direction = -1 if st.target == display.image.info.frames - 1 else +1
        self._cine_late = False
        self.cine_view = view
        self._cine.start(round(1000 / self.cine_rate))
        self._cine_tick()
        self.window.show_status(f"{view.label}: cine, {self.cine_rate} slices per second (P stops).", 3000)

    def hold(self, view: View) -> None:
        """Keep ``view``'s slice on screen (a mark or a measurement starts on it): its cine stops, and a slice still
        decoding is not drawn."""
        if self.cine_view is view:
            self.stop_cine()
        if (st := self._steps.get(view)) is not None:
            st.target = st.shown.image.frame

    def stop_cine(self) -> None:
        self._cine.stop()
        self.cine_view = None

    def nudge_cine_rate(self, step: int) -> None:
        """Image ▸ Faster / Slower cine (``>`` / ``<``): the next cine speed up or down, said in the status bar."""
        i = min(max(CINE_RATES.index(self.cine_rate) + step, 0), len(CINE_RATES) - 1)
        self.set_cine_rate(CINE_RATES[i])
        self.window.show_status(f"Cine: {self.cine_rate} slices per second (P plays; {CINE_RATES[0]} to "
                                f"{CINE_RATES[-1]}).", 3000)  # fmt: skip

    def set_cine_rate(self, rate: int) -> None:
        """The cine speed: ``rate`` slices per second (saved); a playing cine takes it at once."""
        if rate not in CINE_RATES:
            raise ValueError(f"cine rate {rate} is not one of {CINE_RATES}")
        self.cine_rate = rate
        self.window.settings.set_value("image/cine_rate", rate)
        if self._cine.isActive():
            self._cine.setInterval(round(1000 / rate))

    def _cine_tick(self) -> None:
        """One beat of the cine: the next slice of the sweep, once the last one asked for is on screen."""
        view = self.cine_view
        if view is None:
            return
        st = self._steps.get(view)
        panel = self.window.panels[view]
        if st is None or panel.display is not st.shown:  # another image or study in the panel, or a decode failed
            self.stop_cine()
            return
        if not panel.isVisible():  # the layout hides it (another pair, a maximised view): nobody watches
            self.stop_cine()
            self.window.show_status(f"{view.label}: cine stopped (the view is not on screen).", 4000)
            return
        if st.running is not None or st.target != st.shown.image.frame:
            self._cine_late = True  # the decoder sets the pace: a beat never queues a slice, it is played late
            return
        self._cine_next(view, st)

    def _cine_next(self, view: View, st: _Stepping) -> None:
        self._cine_late = False
        nxt = st.after(st.target + self._cine_direction, self._cine_direction)
        if nxt is None:  # a sweep: back from either end (over the slices that failed)
            self._cine_direction = -self._cine_direction
            nxt = st.after(st.target + self._cine_direction, self._cine_direction)
        if nxt is not None:
            self._ask(view, st, nxt)

    def _stepping(self, view: View, display: DisplayImage) -> _Stepping:
        """``view``'s stepping state; a new image in its panel starts from the slice it shows."""
        st = self._steps.get(view)
        if st is None or st.shown is not display:
            st = self._steps[view] = _Stepping(display, display.image.frame)
        return st

    def _ask(self, view: View, st: _Stepping, frame: int) -> None:
        """``frame`` is the slice wanted now: decoded at once unless a decode runs (its end starts the next)."""
        st.target = frame
        if st.running is None and frame != st.shown.image.frame:
            self._start(view, st)

    def shutdown(self) -> None:
        self.stop_cine()
        for jobs in self._jobs.values():
            jobs.cancel()
        helper.shutdown(kill=True)  # a slice decode in flight ends now (its thread is waited for below)
        for jobs in self._jobs.values():
            jobs.shutdown()

    def _start(self, view: View, st: _Stepping) -> None:
        jobs = self._jobs.get(view)
        if jobs is None:
            jobs = self._jobs[view] = BackgroundJobs(self)
            jobs.finished.connect(lambda result, v=view: self._on_decoded(v, result))
            jobs.errored.connect(lambda exc, v=view: self._on_error(v, exc))
        st.running = st.target
        frames = st.shown.image.info.frames
        cine = f"cine, {self.cine_rate} slices per second (P stops), " if self.cine_view is view else ""
        self.window.show_status(f"{view.label}: {cine}slice {st.target + 1} of {frames}…")
        jobs.submit(frame_job(st.shown, st.target))

    def _on_decoded(self, view: View, result: object) -> None:
        st = self._steps.get(view)
        if st is None or not isinstance(result, DisplayImage):
            return
        st.running = None
        w = self.window
        if w.panels[view].display is not st.shown:  # the panel moved on (another study, another image)
            del self._steps[view]
            return
        if st.target == st.shown.image.frame:  # the reader came back to the slice on screen, or holds it
            return
        old, st.shown = st.shown, result
        frame, frames = result.image.frame, result.image.info.frames
        # the next decode starts before this slice is drawn, so the worker decodes while the viewer draws
        if st.target != frame:  # the reader asked for more meanwhile: on to the last slice asked for
            self._start(view, st)
        elif self.cine_view is view and self._cine_late:  # a beat waited for this slice: the next one's turn
            self._cine_next(view, st)
        w.replace_display(view, old, result)
        self.frameShown.emit(view, result)
        if st.running is None and w.panels[view].isVisible():  # a hidden view's slice must not hide why it stopped
            w.show_status(f"{view.label}: slice {frame + 1} of {frames}.", 3000)

    def _on_error(self, view: View, exc: object) -> None:
        st = self._steps.get(view)
        if st is None or self.window.panels[view].display is not st.shown:
            # the reader moved on (another study or image): no dialog about what is no longer on screen
            self._steps.pop(view, None)
            log.warning("slice of %s not shown: %s", view.label, exc)
            return
        if st.running is not None:
            st.failed.add(st.running)  # said once; stepping and the cine go past it from now on
        st.running, st.target = None, st.shown.image.frame
        if self.cine_view is view:
            self.stop_cine()
        self.window.report_problems("Could not show the slice", [str(exc)])
