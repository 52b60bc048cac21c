"""The reader's marks, measurements and decisions of the open study, with undo/redo, saved after every action.

:class:`ReaderMarks` is the single owner of the :class:`~mammoview.gui.read_state.ReadState`
of the study on screen: the mark tool, the findings panel and the CAD lock all go
through it, and each change is written to disk (atomically) before ``changed`` is
emitted, so what the reader sees is always what would be restored after a crash.

It also runs the reading clock (:mod:`mammoview.gui.reading_clock`): the seconds a study is
open before its first read is done, while the viewer is the active application
(:meth:`set_active`), are added to ``ReadState.reading_seconds`` when the first read is
closed, when another study opens and at :meth:`close_study` (the viewer quitting).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6 import QtCore

from mammoview.gui.read_state import (
    Assessment,
    CadSeen,
    MarkKind,
    Measurement,
    ReaderDecision,
    ReaderMark,
    ReadState,
    new_uid,
    now_iso,
)
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reading_clock import ReadingClock
from mammoview.gui.reads_not_saved import NotSavedReads
from mammoview.gui.texts import read_added
from mammoview.io.model import View
from mammoview.io.study import ReadKey

log = logging.getLogger(__name__)


#: What one action changes: the marks and the measurements.
_Annotations = tuple[tuple[ReaderMark, ...], tuple[Measurement, ...]]


@dataclass(frozen=True)
class _Edit:
    """One undoable action: the marks and measurements before and after it."""

    before: _Annotations
    after: _Annotations
    text: str


class ReaderMarks(NotSavedReads, QtCore.QObject):
    """Marks, measurements and first-read flag of the current study.

    Signals
    -------
    changed()
        After any change (marks, first-read flag, study), once it is saved.
    saveFailed(str)
        The state could not be written (disk full, read-only folder): the reader must know.
    loadFailed(str)
        The saved read of the study opened could not be read (set aside, or left as it is for an I/O error), or when
        so left, was found damaged at a save and set aside.
    restored(str)
        That read, left as it was for an I/O error, read again at a save and what the reader did since added to it.
    """

    changed = QtCore.Signal()
    saveFailed = QtCore.Signal(str)
    loadFailed = QtCore.Signal(str)
    restored = QtCore.Signal(str)

    def __init__(self, store: ReadStore | None = None, parent: QtCore.QObject | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        super().__init__(parent)
        self.store = store or ReadStore()
        self.read_key: ReadKey | None = None  # the open study's (:func:`mammoview.io.study.read_key`)
        self.title = ""  # the open study's name as the reader knows it (:func:`mammoview.gui.texts.study_title`)
        self.state = ReadState()
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self._redo_dropped: list[_Edit] = []  # what the last action took off the redo stack
        self._clock = ReadingClock(clock)  # the open study's reading time, until its first read is done
        self._not_saved: dict[ReadKey, ReadState] = {}  # reads whose last save failed: kept until a save succeeds
        self.opened_at = 0.0  # time.perf_counter() when the open study was opened (a click pressed before is not its)

    # -- study ------------------------------------------------------------------------------
    @property
    def study_key(self) -> str | None:
        """The key the open study's read is saved under (None: no study open)."""
        return self.read_key.key if self.read_key is not None else None

    def open_study(self, study: str | ReadKey, title: str = "") -> None:
        """Restore the saved read of ``study`` (its :func:`~mammoview.io.study.read_key`; a bare key: a study whose
        patient is not known), named ``title`` in what is said of it once another study is shown; undo history starts
        empty, but for the study already open shown again (a pixel spacing given, Ctrl+Alt+S), whose marks and
        measurements are the ones the history was built on."""
        key = study if isinstance(study, ReadKey) else ReadKey(study)
        shown = (self.state.marks, self.state.measurements) if key == self.read_key else None
        self.close_study(shown_again=key == self.read_key)
        pending = self._not_saved.get(key)  # what the reader did that never reached the disk
        state = pending if pending is not None else self.store.load(key)
        problem = self.store.problem if pending is None else None
        if key.key != self.study_key:  # (the same study shown again, e.g. for a pixel spacing, is no switch)
            self.opened_at = time.perf_counter()
        self.read_key, self.state, self.title = key, state, title
        if shown != (state.marks, state.measurements):  # another study, or its read changed on disk meanwhile
            self._undo.clear()
            self._redo.clear()
        self._clock.start(not self.state.first_read_done)
        if pending is not None:
            self._save(pending)  # tried again (emits changed)
        else:
            self.changed.emit()
        if problem:
            self.loadFailed.emit(problem)

    def close_study(self, shown_again: bool = False) -> None:
        """Bank the open study's reading time (another study opens, or the viewer quits; or it is ``shown_again``)."""
        if self.read_key is not None and self._clock.running:
            seconds = self._reading_seconds()
            if seconds != self.state.reading_seconds:
                # Saved without ``changed``: nothing on screen shows it, and the screen may
                # already show the next study.
                try:
                    state = replace(self.state, reading_seconds=seconds)
                    self.state = self._stored(self.read_key, state, left=not shown_again)
                    self._not_saved.pop(self.read_key, None)
                except OSError as exc:
                    log.error("could not save the reading time: %s", exc)
                    self.state = self._not_saved[self.read_key] = replace(self.state, reading_seconds=seconds)
        self._clock.stop()

    def set_active(self, active: bool) -> None:
        """The viewer became the active application (the clock runs) or not (it pauses)."""
        self._clock.set_active(active)

    def _reading_seconds(self) -> float:
        """The saved reading time plus what the clock counted since (which is then no longer unsaved)."""
        return self.state.reading_seconds + self._clock.take()

    @property
    def marks(self) -> tuple[ReaderMark, ...]:
        return self.state.marks

    @property
    def first_read_done(self) -> bool:
        return self.state.first_read_done

    @property
    def measurements(self) -> tuple[Measurement, ...]:
        return self.state.measurements

    def mark(self, mark_id: int) -> ReaderMark | None:
        return next((m for m in self.state.marks if m.id == mark_id), None)

    def measurement(self, measurement_id: int) -> Measurement | None:
        return next((m for m in self.state.measurements if m.id == measurement_id), None)

    # -- actions (each one saved) ---------------------------------------------------------------
    def add(self, view: View, image: str, x: float, y: float, kind: MarkKind, frame: int | None = None
            ) -> ReaderMark | None:  # fmt: skip
        """Place a mark (on slice ``frame`` of a tomosynthesis volume); None when no study is open."""
        if self.study_key is None:
            return None
        # Rounded as saved, so the mark on screen is exactly the one a reopen restores.
        mark = ReaderMark(id=self.state.next_id, view=view, image=image, x=round(x, 1), y=round(y, 1), kind=kind,
                          created=now_iso(), after_cad=self.state.first_read_done, frame=frame,
                          uid=new_uid())  # fmt: skip
        self._apply((*self.state.marks, mark), self.state.measurements, f"add {mark.label}")
        return self.state.marks[-1]  # as saved: numbered after the saved read's when the save added to it (_stored)

    def withdraw(self, mark: ReaderMark) -> bool:
        """Take back ``mark`` when the last action placed it (the first click of a double-click, which maximises and
        places nothing): undone and forgotten, so neither undo nor redo brings it back."""
        if not self._undo or self._undo[-1].after[0] != (*self._undo[-1].before[0], mark):
            return False
        self._redo = self._redo_dropped  # as before the click: what could be redone still can
        self._save(self._with(self._undo.pop().before))
        return True

    def frozen(self, mark: ReaderMark) -> bool:
        """Whether ``mark`` belongs to the unaided first read, which is frozen once it is done (as its decision is):
        a second reader's marks are added to the read; the absence of a CAD mark never takes back the reader's."""
        return self.state.first_read_done and not mark.after_cad

    def remove(self, mark_id: int) -> bool:
        """Delete a mark; False when there is none of that id or it is :meth:`frozen`."""
        mark = self.mark(mark_id)
        if mark is None or self.frozen(mark):
            return False
        marks = tuple(m for m in self.state.marks if m.id != mark_id)
        self._apply(marks, self.state.measurements, f"delete R{mark_id}")
        return True

    def set_kind(self, mark_id: int, kind: MarkKind) -> bool:
        mark = self.mark(mark_id)
        if mark is None or self.frozen(mark):
            return False
        marks = tuple(replace(m, kind=kind) if m.id == mark_id else m for m in self.state.marks)
        if marks == self.state.marks:
            return False
        self._apply(marks, self.state.measurements, f"R{mark_id} is {kind.value}")
        return True

    def add_measurement(self, view: View, image: str, p0: tuple[float, float],
                        p1: tuple[float, float], frame: int | None = None,
                        spacing: tuple[float, float] | None = None) -> Measurement | None:  # fmt: skip
        """Save a length line from stored ``p0`` to ``p1`` (on slice ``frame``); None when no study is open."""
        if self.study_key is None:
            return None
        m = Measurement(id=self.state.next_measurement_id, view=view, image=image, x0=round(p0[0], 1),
                        y0=round(p0[1], 1), x1=round(p1[0], 1), y1=round(p1[1], 1), created=now_iso(),
                        frame=frame, spacing=spacing, uid=new_uid())  # fmt: skip
        self._apply(self.state.marks, (*self.state.measurements, m), f"measure {m.label}")
        return self.state.measurements[-1]  # (as saved: :meth:`add`)

    def remove_measurement(self, measurement_id: int) -> bool:
        kept = tuple(m for m in self.state.measurements if m.id != measurement_id)
        if len(kept) == len(self.state.measurements):
            return False
        self._apply(self.state.marks, kept, f"delete M{measurement_id}")
        return True

    def undo(self) -> str | None:
        """Undo the last mark or measurement action; returns its description (None if nothing to undo)."""
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._redo.append(edit)
        self._save(self._with(edit.before))
        return edit.text

    def redo(self) -> str | None:
        if not self._redo:
            return None
        edit = self._redo.pop()
        self._undo.append(edit)
        self._save(self._with(edit.after))
        return edit.text

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def set_assigned(self, image: str, view: View | None) -> None:
        """Save the reader's view assignment of ``image`` (None: undone); not an undoable action (Undo is its own)."""
        if self.study_key is None:
            return
        kept = tuple((k, v) for k, v in self.state.assigned_views if k != image)
        assigned = kept if view is None else (*kept, (image, view))
        if assigned != self.state.assigned_views:
            self._save(replace(self.state, assigned_views=assigned))

    def saved_assignments(self, study: ReadKey) -> dict[str, View]:
        """The view assignments saved with ``study``'s read (or waiting for their save), before it is opened."""
        state = self._not_saved.get(study) or self.store.peek(study)
        return dict(state.assigned_views) if state is not None else {}

    def record_cad(self, seen: CadSeen) -> None:
        """Save what the CAD showed (silently: nothing on screen shows it; the read log reads it)."""
        if self.read_key is None or not self.state.first_read_done or seen == self.state.cad_seen:
            return
        try:
            self.state = self._stored(self.read_key, replace(self.state, cad_seen=seen))
            self._not_saved.pop(self.read_key, None)
        except OSError as exc:
            log.error("could not save what the CAD showed: %s", exc)
            # kept with the read that waits for its save (tried again on the next action, on return and at quit)
            self.state = self._not_saved[self.read_key] = replace(self.state, cad_seen=seen)

    @property
    def decision(self) -> ReaderDecision:
        """The decision being edited: the first read's, or the one after CAD once it is shown."""
        return self.state.current_decision

    def set_assessment(self, assessment: Assessment | None) -> bool:
        """Set the exam's assessment (of the first read, or after CAD once it is shown)."""
        return self._decide(replace(self.decision, assessment=assessment))

    def set_density(self, density: str | None) -> bool:
        """Set the reader's density grade a-d (of the first read, or after CAD once it is shown)."""
        return self._decide(replace(self.decision, density=density))

    def _decide(self, decision: ReaderDecision) -> bool:
        if self.study_key is None or decision == self.decision:
            return False
        if self.state.first_read_done:
            self._save(replace(self.state, decision_after_cad=decision))
        else:
            self._save(replace(self.state, decision=decision))
        return True

    def set_first_read_done(self) -> bool:
        """Record that the unaided read is finished (irreversible: CAD has been seen after it).

        The decision after CAD starts as the first read's; the reading clock stops.
        """
        if self.study_key is None or self.state.first_read_done:
            return False
        seconds = self._reading_seconds()
        self._clock.stop()
        self._save(replace(self.state, first_read_done=True, done_at=now_iso(), reading_seconds=seconds,
                           decision_after_cad=self.state.decision))  # fmt: skip
        # Undoing a mark placed before the read was closed would rewrite the unaided read.
        self._undo.clear()
        self._redo.clear()
        return True

    # -- internals ------------------------------------------------------------------------------------
    def _apply(self, marks: tuple[ReaderMark, ...], measurements: tuple[Measurement, ...], text: str) -> None:
        self._undo.append(_Edit((self.state.marks, self.state.measurements), (marks, measurements), text))
        self._redo_dropped, self._redo = self._redo, []  # (a withdrawn action gives them back)
        self._save(self._with((marks, measurements)))

    def _with(self, annotations: _Annotations) -> ReadState:
        marks, measurements = annotations
        return replace(self.state, marks=marks, measurements=measurements)

    def _save(self, state: ReadState) -> None:
        if self.read_key is None:
            return
        if self._clock.running:  # the reading time so far goes with every action: a crash keeps it
            state = replace(state, reading_seconds=self._reading_seconds())
        try:
            self.state = self._stored(self.read_key, state)
            self._not_saved.pop(self.read_key, None)
        except OSError as exc:
            # Keep the change on screen (and in memory when another study opens), but say loudly it is not on disk.
            self.state = self._not_saved[self.read_key] = state
            log.error("could not save the read state: %s", exc)
            self.saveFailed.emit(f"Could not save your read (marks, measurements, assessment, first read done): {exc}")
        else:
            self._save_others()
        self.changed.emit()

    def _stored(self, key: ReadKey, state: ReadState, left: bool = False) -> ReadState:
        """``state`` saved for ``key``, as saved: added to the saved read that could not be read when the study
        opened (:meth:`ReadStore.save`), the undo history goes (its steps would take that read's marks away), and
        the reading clock stops where that read's first read was done.  What is said of it names the study when it
        was ``left`` (the next study may be on screen already), else calls it "this study"."""
        left_one = f"the study you just left ({self.title})" if self.title else "the study you just left"
        saved = self.store.save(key, state)
        if key == self.read_key and self.store.problem:  # the saved read it was to add to found damaged, set aside
            self.loadFailed.emit(f"In {left_one}: {self.store.problem}" if left else self.store.problem)
        if key == self.read_key and saved != replace(state, updated=saved.updated):  # the store added the session
            before = saved.first_read_done and not state.first_read_done  # (not the session's own, CAD shown)
            self.restored.emit(read_added(left_one if left else "this study", self.store.kept_theirs, before, left))
        if key == self.read_key and (saved.marks, saved.measurements) != (state.marks, state.measurements):
            self._undo.clear()
            self._redo.clear()
        if key == self.read_key and saved.first_read_done:
            self._clock.stop()
        return saved
