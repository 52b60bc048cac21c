"""Pairing CAD findings with the reader's marks: matched, CAD-only, reader-only. No Qt.

Rule (shown to the reader in the findings panel, :data:`RULE`): a reader mark matches
a CAD finding when both are on the same image (so the same breast and view) and the
mark lies inside the finding's bounding box or within :data:`MATCH_RADIUS_MM` of its
centre.  Distances use the pixel spacing the CAD used (the file's, else its estimate).
A mark that qualifies for several findings goes to the nearest one only, so one mark
never turns two findings into "matched"; a finding may collect several marks.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from mammoview.cad.types import Finding, ImageCadResult
from mammoview.gui.read_state import ReaderMark
from mammoview.io.model import View

MATCH_RADIUS_MM = 10.0
RULE = (f"Matched = reader mark on the same image as the CAD finding (not a retake or slice of its view), inside "
        f"its box or within {MATCH_RADIUS_MM:g} mm of its centre (nearest finding wins).")  # fmt: skip


class Category(enum.Enum):
    MATCHED = "matched"
    CAD_ONLY = "CAD only"
    READER_ONLY = "reader only"


@dataclass(frozen=True)
class MatchRow:
    """One line of the findings panel."""

    category: Category
    view: View
    finding: Finding | None
    marks: tuple[ReaderMark, ...]
    distance_mm: float | None = None  # finding centre to its nearest matched mark
    nipple_mm: float | None = None  # finding centre (else the mark) to the nipple of its image
    #: the mm of this row (distance_mm, nipple_mm) rest on the CAD's guessed pixel spacing (the file has none)
    mm_estimated: bool = False
    image: str = ""  # key of the row's image (read_state.image_key); "" when not known
    note: str = ""  # which of the view's images, when it is not the one shown, e.g. "2 of 2"


@dataclass(frozen=True)
class ViewCad:
    """What the matcher needs of one panel: its image's key and the CAD result for it (if any)."""

    view: View
    image: str
    result: ImageCadResult | None
    note: str = ""  # which of the view's images, when it is not the one shown (MatchRow.note)


def _distance_mm(mark: ReaderMark, finding: Finding, spacing: tuple[float, float] | None) -> float:
    row_mm, col_mm = spacing or (1.0, 1.0)
    dx = (mark.x - finding.center[0]) * col_mm
    dy = (mark.y - finding.center[1]) * row_mm
    return math.hypot(dx, dy)


def _inside(mark: ReaderMark, finding: Finding) -> bool:
    x0, y0, x1, y1 = finding.bbox
    return x0 <= mark.x <= x1 and y0 <= mark.y <= y1


def match_view(
    findings: Iterable[Finding],
    marks: Iterable[ReaderMark],
    view: View,
    spacing: tuple[float, float] | None,
    radius_mm: float = MATCH_RADIUS_MM,
) -> list[MatchRow]:
    """Rows for one image: findings in their order (matched or CAD-only), then reader-only marks."""
    found = list(findings)
    all_marks = {m.id: m for m in marks}
    owner: dict[int, tuple[int, float]] = {}  # mark id -> (finding index, distance)
    for mark in all_marks.values():
        best: tuple[int, float] | None = None
        for i, f in enumerate(found):
            d = _distance_mm(mark, f, spacing)
            if (_inside(mark, f) or d <= radius_mm) and (best is None or d < best[1]):
                best = (i, d)
        if best is not None:
            owner[mark.id] = best
    rows: list[MatchRow] = []
    for i, f in enumerate(found):
        mine = [(all_marks[mid], d) for mid, (fi, d) in owner.items() if fi == i]
        mine.sort(key=lambda md: md[1])
        if mine:
            rows.append(MatchRow(Category.MATCHED, view, f, tuple(m for m, _ in mine), mine[0][1]))
        else:
            rows.append(MatchRow(Category.CAD_ONLY, view, f, ()))
    rows += [MatchRow(Category.READER_ONLY, view, None, (m,)) for m in all_marks.values() if m.id not in owner]
    return rows


def match_study(
    views: Iterable[ViewCad],
    marks: Iterable[ReaderMark],
    kinds: Mapping[str, bool] | None = None,
    radius_mm: float = MATCH_RADIUS_MM,
) -> list[MatchRow]:
    """Rows for every view's images, in hanging order (R CC, L CC, R MLO, L MLO; within a view in ``views``' order).

    ``kinds`` (finding kind value -> shown) hides findings of switched-off kinds from
    the comparison as well as from the screen, so the list matches what is drawn.
    """
    all_marks = list(marks)
    rows: list[MatchRow] = []
    listed: set[int] = set()  # marks already compared: two files of one image (one SOP Instance UID) share a key
    for vc in sorted(views, key=lambda v: list(View).index(v.view)):
        mine = [m for m in all_marks if m.view is vc.view and m.image == vc.image and m.id not in listed]
        listed.update(m.id for m in mine)
        findings = list(vc.result.findings) if vc.result is not None else []
        if kinds is not None:
            findings = [f for f in findings if kinds.get(f.kind.value, True)]
        spacing = vc.result.pixel_spacing if vc.result is not None else None
        rows += [replace(_with_nipple(r, vc.result), image=vc.image, note=vc.note)
                 for r in match_view(findings, mine, vc.view, spacing, radius_mm)]  # fmt: skip
    return rows


def _with_nipple(row: MatchRow, result: ImageCadResult | None) -> MatchRow:
    """``row`` with the distance of its finding (else its first mark) from the image's nipple."""
    if result is None:
        return row
    x, y = row.finding.center if row.finding is not None else (row.marks[0].x, row.marks[0].y)
    return replace(row, nipple_mm=result.nipple_distance_mm(x, y), mm_estimated=result.spacing_estimated)


def deletable_mark(marks: Sequence[ReaderMark]) -> ReaderMark:
    """The mark of a findings row that Delete means: one placed after CAD (a first-read mark is frozen; a row matching
    R1 of the first read and R2 placed after CAD deleted neither), else the first (its refusal is then said)."""
    return next((m for m in marks if m.after_cad), marks[0])
