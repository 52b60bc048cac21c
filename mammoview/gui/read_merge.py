"""What the reader did while their saved read of a study could not be read (an I/O error), added to that read once it
reads again: :func:`merge_reads`; and what the reader did while another viewer saved reads in the folder, added to a
read of the same study that viewer saved meanwhile: :func:`rebase_read`.

The session began from a read shown as empty, so it knows nothing of the saved one: the saved read's marks,
measurements and first-read state stand, and the session's work is added on top, never in their place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from mammoview.gui.read_state import Assessment, MarkKind, ReaderDecision, ReaderMark, ReadState, _Numbered
from mammoview.io.model import View


def merge_reads(saved: ReadState, session: ReadState) -> ReadState:
    """``session``'s work added to ``saved`` (the read on disk).

    - Marks and measurements: the saved ones keep their numbers; the session's follow them, renumbered (both began
      at 1), a session mark equal to a saved one but for its number (the same mark, come back: :func:`_among`) not
      added twice.
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
    number = max((x.id for x in saved), default=0)
    out = list(saved)
    for item in session:
        if _among(item, out):
            continue
        number += 1
        out.append(replace(item, id=number))
    return tuple(out)


def _newer(old: ReaderDecision, new: ReaderDecision) -> ReaderDecision:
    """``new``'s assessment and density where set, else ``old``'s (the session never saw ``old`` to unset it)."""
    return ReaderDecision(new.assessment if new.assessment is not None else old.assessment,
                          new.density if new.density is not None else old.density)  # fmt: skip


def rebase_read(base: ReadState, ours: ReadState, theirs: ReadState) -> ReadState:
    """What ``ours`` changed of ``base`` added to ``theirs``: ``base`` is the read the session began from, ``theirs``
    the one another viewer saved since, which the session never saw (:func:`merge_reads` with what it added: the
    marks and measurements not in ``base``, the decisions and view assignments it changed, its reading time).

    ValueError saying why, when that would take anything away from ``theirs`` or from ``ours``: a mark or measurement
    of ``base`` the session deleted or changed that ``theirs`` kept (``theirs`` would bring it back), deleted, or
    changed otherwise (a changed mark is added as a new one: the deleted one came back, or the spot was marked twice),
    a first read both did, a decision or a view both changed each their own way (one would silently win).
    """
    if ours.first_read_done and theirs.first_read_done and not base.first_read_done:
        raise ValueError("it did the first read too")
    for items in ("marks", "measurements"):
        lost: dict[str, list[str]] = {}  # what the other viewer did of them -> the labels
        for x in getattr(base, items):
            was, now, its = _bare(x), *(_bare(counterpart(x, getattr(r, items))) for r in (ours, theirs))
            if now != was and now != its:  # (both deleted it, or changed it alike: nothing lost)
                lost.setdefault("kept" if its == was else "deleted" if its is None else "changed", []).append(x.label)
        if lost:
            raise ValueError("; ".join(f"you deleted or changed {items} {', '.join(labels)}, which it {did}"
                                       for did, labels in lost.items()))  # fmt: skip
    added = replace(
        ours,
        marks=tuple(m for m in ours.marks if not _among(m, base.marks)),
        measurements=tuple(m for m in ours.measurements if not _among(m, base.measurements)),
        decision=_changed(base.decision, ours.decision),
        decision_after_cad=_changed(base.decision_after_cad, ours.decision_after_cad),
        reading_seconds=max(ours.reading_seconds - base.reading_seconds, 0.0),
        cad_seen=None if ours.cad_seen == base.cad_seen else ours.cad_seen,
        assigned_views=tuple(a for a in ours.assigned_views if a not in base.assigned_views),
    )
    merged = merge_reads(theirs, added)
    for name, what in (("decision", "first read's"), ("decision_after_cad", "decision after CAD's")):
        for part in ("assessment", "density"):
            b, o, t, m = (getattr(getattr(r, name), part) for r in (base, ours, theirs, merged))
            _both_kept(b, o, t, m, f"the {what} {part}")
    b_v, o_v, t_v, m_v = (dict(r.assigned_views) for r in (base, ours, theirs, merged))
    for image in sorted({*b_v, *o_v, *t_v}):
        _both_kept(b_v.get(image), o_v.get(image), t_v.get(image), m_v.get(image), f"the view of image {image}")
    return merged


def counterpart(item: _Numbered, items: Iterable[_Numbered]) -> _Numbered | None:
    """``item`` among ``items`` (another read of the study, or the same read saved again), whatever its number there
    and whatever the reader changed of it since: the one of its identity (:attr:`~.ReaderMark.uid`,
    :attr:`~.Measurement.uid`), else (it has none, or the read an older mammoview saved dropped it) the one placed where
    and when it was, unchanged if one is (two such placed at one spot in one second, and one deleted, are told apart);
    None when none is."""
    same = sorted((x for x in items if _one(item, x)), key=lambda x: (x.uid != item.uid, _bare(x) != _bare(item)))
    return same[0] if same else None


def _one(a: _Numbered, b: _Numbered) -> bool:
    """Whether ``a`` and ``b`` are one mark (or measurement) in two reads: by their identities where both have one
    (two marks placed at one spot in one second are two), else where and when each was placed."""
    return a.uid == b.uid if a.uid and b.uid else _placed(a) == _placed(b)


def _among(item: _Numbered, items: Iterable[_Numbered]) -> bool:
    """Whether ``item`` is in ``items``, as it is (unchanged), whatever its number there."""
    return any(_one(item, x) and _bare(x) == _bare(item) for x in items)


def _bare(item: _Numbered | None) -> _Numbered | None:
    """``item`` but for its number (each read numbers its own) and its identity (a read an older mammoview saved has
    none: the same mark all the same, as :func:`_one` found it)."""
    if item is None:
        return None
    return replace(item, id=0, uid="")


def _placed(item: _Numbered) -> _Numbered:
    """``item`` as it was placed, whatever the reader changed of it since (a mark's kind, the one change made to one),
    and but for its number and identity."""
    bare = replace(item, id=0, uid="")
    return replace(bare, kind=MarkKind.MASS) if isinstance(bare, ReaderMark) else bare


def _changed(base: ReaderDecision, ours: ReaderDecision) -> ReaderDecision:
    """``ours``'s assessment and density where they are not ``base``'s, else unset."""
    return ReaderDecision(ours.assessment if ours.assessment != base.assessment else None,
                          ours.density if ours.density != base.density else None)  # fmt: skip


def _both_kept(base: object, ours: object, theirs: object, merged: object, what: str) -> None:
    """ValueError when ``merged`` loses a change of ``base`` that ``ours`` or ``theirs`` made."""
    if (ours != base and merged != ours) or (theirs != base and merged != theirs):
        raise ValueError(f"{what}: yours {_said(ours)}, its {_said(theirs)}")


def _said(value: object) -> str:
    """A decision's part or a view, as the reader knows it."""
    if value is None:
        return "none"
    if isinstance(value, View | Assessment):
        return value.label
    return f"density {str(value).upper()}"
