"""A joined exam's reads (:attr:`~mammoview.io.study.ReadKey.parts`): the read saved for one of its parts, opened alone
before the other part's files came, as the start of the exam's read (:func:`as_exam_read`), and reads saved for
several parts, none of them the exam's (:class:`SeveralReads`).  Found and loaded by
:class:`~mammoview.gui.read_store.ReadStore`.
"""

from __future__ import annotations

from dataclasses import replace

from mammoview.gui.read_state import ReaderDecision, ReadState
from mammoview.io.study import ReadKey


class SeveralReads(ValueError):
    """Reads saved for several parts of a joined exam (:attr:`~mammoview.io.study.ReadKey.parts`), each opened alone
    before the other's files came: none is the exam's."""


def of_part(key: ReadKey, saved_as: str) -> bool:
    """Whether the read of ``key`` found under ``saved_as`` is one of its parts' (:attr:`ReadKey.parts`), or of a
    join of some of them (:attr:`ReadKey.joins`)."""
    return bool(key.parts) and saved_as != key.key


def as_exam_read(key: ReadKey, saved_as: str, state: ReadState) -> ReadState:
    """The read ``state`` found under ``saved_as`` as ``key``'s: itself, or a part's read (:func:`of_part`) as the
    start of its joined exam's: the marks, measurements, view assignments, unaided decision and reading time kept,
    but the first read not done (the other part's views were never in it: done, it would unlock the CAD over views
    nobody read without it) and what the CAD showed then forgotten."""
    if not of_part(key, saved_as):
        return state
    return replace(state, first_read_done=False, done_at=None, cad_seen=None, decision_after_cad=ReaderDecision())
