"""The reading clock: how long a study is read before its first read is done, counted while the viewer is active.

:class:`~mammoview.gui.reader_marks.ReaderMarks` runs one for the study on screen: started when a study
whose first read is not done opens, stopped when that read is done or the study closes, paused while
another application is active (a reader who switched away is not reading).  What it counted is taken
into the read's ``reading_seconds`` with every save, so a crash loses at most the seconds since the last one.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ReadingClock:
    """The seconds counted while running and active, and not yet taken."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._running = False  # the open study's first read is not done: its reading time counts
        self._active = True  # the viewer is the active application (the clock pauses otherwise)
        self._since: float | None = None  # the clock runs since then (None: paused or not running)
        self._unsaved = 0.0  # seconds counted and not yet taken

    @property
    def running(self) -> bool:
        """The open study's reading time counts (its first read is not done)."""
        return self._running

    def start(self, running: bool) -> None:
        """A study opened: count afresh from now when ``running`` (its first read is not done), else not at all."""
        self._running, self._unsaved = running, 0.0
        self._since = self._clock() if self._running and self._active else None

    def stop(self) -> None:
        """Stop counting (the first read is done, or the study closes)."""
        self._running, self._since = False, None

    def set_active(self, active: bool) -> None:
        """The viewer became the active application (the clock runs) or not (it pauses)."""
        self._tick()
        self._active = active
        self._since = self._clock() if active and self._running else None

    def take(self) -> float:
        """The seconds counted since the last take (which are then no longer unsaved)."""
        self._tick()
        seconds, self._unsaved = self._unsaved, 0.0
        return seconds

    def _tick(self) -> None:
        if self._since is not None:
            now = self._clock()
            self._unsaved += max(0.0, now - self._since)
            self._since = now
