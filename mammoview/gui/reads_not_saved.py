"""The reads whose save failed (a disk full, a read-only folder, a read another viewer saved that the reader's would
change), kept in memory: saved again at the next save that works (:meth:`NotSavedReads._save_others`) and when the
viewer quits (:meth:`NotSavedReads.retry_unsaved`); or, where the open study's read is in conflict with one another
viewer saved, left for that one (:meth:`NotSavedReads.show_saved_read`), the reader's kept as its conflict copy.

A mixin of :class:`~mammoview.gui.reader_marks.ReaderMarks` (one idea: what waits for its save, and saving it again),
kept apart from the open study's marks, measurements, decisions and undo.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from mammoview.gui.read_conflict import Conflict
    from mammoview.gui.read_state import ReadState
    from mammoview.gui.read_store import ReadStore
    from mammoview.gui.reading_clock import ReadingClock
    from mammoview.io.study import ReadKey

log = logging.getLogger(__name__)


class NotSavedReads:
    """The reads whose last save failed (mixed into :class:`~mammoview.gui.reader_marks.ReaderMarks`)."""

    if TYPE_CHECKING:  # provided by ReaderMarks
        store: ReadStore
        read_key: ReadKey | None
        title: str
        state: ReadState
        _clock: ReadingClock
        _not_saved: dict[ReadKey, ReadState]
        _undo: list[Any]  # (its edits)
        _redo: list[Any]

        def open_study(self, study: str | ReadKey, title: str = "") -> None: ...
        def _reading_seconds(self) -> float: ...
        def _stored(self, key: ReadKey, state: ReadState, left: bool = False) -> ReadState: ...

    @property
    def unsaved(self) -> dict[str, ReadState]:
        """The reads (by the key they are saved under) whose last save failed: only in memory."""
        return {key.key: state for key, state in self._not_saved.items()}

    @property
    def conflict(self) -> Conflict | None:
        """Why the open study's read is not saved, when that is a conflict with the read another viewer saved
        (:class:`~mammoview.gui.read_conflict.ReadConflict`); None when it is saved, or not for that."""
        key = self.read_key
        return self.store.conflicts.get(key.key) if key is not None and key in self._not_saved else None

    def show_saved_read(self) -> Path:
        """The read another viewer saved of the open study on screen in place of the reader's, in conflict with it
        (:attr:`conflict`), and saving going on from it, as when it is opened; the reader's kept first as its
        conflict copy (where that is, returned), with the reading time counted so far.  Its undo history goes: its
        steps were the reader's on their own read.  OSError, and nothing changed, when no copy can be kept (another
        viewer holds the reads folder now, a disk full): the reader's would be lost."""
        key = self.read_key
        if key is None or self.conflict is None:
            raise ValueError("the read on screen is in no conflict")
        if self._clock.running:  # (counted into the reader's read, as a save does: kept with it)
            self.state = self._not_saved[key] = replace(self.state, reading_seconds=self._reading_seconds())
        copy = self.store.keep_conflict_copy(key, self.state)
        self._clock.stop()
        del self._not_saved[key]
        self.store.forget_conflict(key)
        self._undo.clear()
        self._redo.clear()
        self.open_study(key, self.title)  # (no read waiting for its save now: loaded, under this window's hold)
        return copy

    def retry_unsaved(self) -> list[tuple[str, str]]:
        """Save again every read whose save failed (the viewer is quitting); those still not saved, each as the key
        it is saved under and why it is not."""
        errors = []
        for key, state in list(self._not_saved.items()):
            if key == self.read_key and self._clock.running:
                state = replace(state, reading_seconds=self._reading_seconds())
            try:
                saved = self._stored(key, state)
            except OSError as exc:
                errors.append((key.key, str(exc)))
                # kept with the time counted until now (the reader may answer No and read on)
                self._not_saved[key] = state
                if key == self.read_key:
                    self.state = state
                continue
            del self._not_saved[key]
            if key == self.read_key:
                self.state = saved
        return errors

    def _save_others(self) -> None:
        """Save the other studies' reads whose save failed, now that saving works again (space freed): kept in
        memory until the study was reopened or the viewer quit, a crash meanwhile lost them all."""
        for key, state in list(self._not_saved.items()):
            if key == self.read_key:
                continue
            try:
                self.store.save(key, state)
            except OSError as exc:
                log.warning("the read of another study is still not saved: %s", exc)
                continue
            del self._not_saved[key]
