"""What the reader did while their saved read of a study could not be read (an I/O error), added to that read once it
reads again: :func:`merge_reads`.

The session began from a read shown as empty, so it knows nothing of the saved one: the saved read's marks,
measurements and first-read state stand, and the session's work is added on top, never in their place.
"""

from __future__ import annotations

from dataclasses import replace

from mammoview.gui.read_state import ReaderDecision, ReadState, _Numbered


def merge_reads(saved: ReadState, session: ReadState) -> ReadState:
    """``session``'s work added to ``saved`` (the read on disk).

    - Marks and measurements: the saved ones keep their numbers; the session's follow them, renumbered (both began
      at 1), a session mark equal to a saved one but for its number (the same mark, come back) not added twice.
    - A first read done in ``saved`` stays the one done, with its time, decision and unaided marks: it is frozen
      once done, so the session's marks are added as after CAD and its decision goes to the decision after CAD.
    - Decisions: the session's grade where it gave one (the reader's latest), the saved one where it did not.
    """
    done = saved.first_read_done
    marks = _added(saved.marks, session.marks)
    if done:  # not part of the unaided read, which was done without them
        marks = (*saved.marks, *(replace(m, after_cad=True) for m in marks[len(saved.marks) :]))
    measurements = _added(saved.measurements, session.measurements)
    if done:
        decision, seconds, done_at = saved.decision, saved.reading_seconds, saved.done_at
        after_cad = _newer(saved.decision_after_cad, session.current_decision)  # given after the saved read was done
    else:  # one unaided read, in two sittings
        decision = _newer(saved.decision, session.decision)
        seconds, done_at = saved.reading_seconds + session.reading_seconds, session.done_at
        # (done in the session: the decision after CAD started as the first read's, now the merged one)
        after_cad = _newer(decision if session.first_read_done else saved.decision_after_cad,
                           session.decision_after_cad)  # fmt: skip
    return replace(
        saved,
        first_read_done=done or session.first_read_done,
        done_at=done_at,
        marks=marks,
        measurements=measurements,
        decision=decision,
        decision_after_cad=after_cad,
        reading_seconds=seconds,
        cad_seen=session.cad_seen or saved.cad_seen,
        assigned_views=tuple({**dict(saved.assigned_views), **dict(session.assigned_views)}.items()),
    )


def _added(saved: tuple[_Numbered, ...], session: tuple[_Numbered, ...]) -> tuple[_Numbered, ...]:
    """``saved`` and then the items of ``session`` not already in it, numbered on from ``saved``'s highest."""
    known = {replace(x, id=0) for x in saved}
    number = max((x.id for x in saved), default=0)
    out = list(saved)
    for item in session:
        if replace(item, id=0) in known:
            continue
        known.add(replace(item, id=0))
        number += 1
        out.append(replace(item, id=number))
    return tuple(out)


def _newer(old: ReaderDecision, new: ReaderDecision) -> ReaderDecision:
    """``new``'s assessment and density where set, else ``old``'s (the session never saw ``old`` to unset it)."""
    return ReaderDecision(new.assessment if new.assessment is not None else old.assessment,
                          new.density if new.density is not None else old.density)  # fmt: skip
