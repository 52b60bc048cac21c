"""The reader's own read of a study: marks placed before CAD, measurements, and whether the first read is done.

The state types and their JSON: :mod:`mammoview.gui.read_store` saves them, one file per study, and sets aside a
file whose JSON they refuse.  Coordinates are in the image's stored grid, like CAD findings.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from mammoview.io.model import ImageInfo, MammoImage, View

if TYPE_CHECKING:
    from mammoview.cad.types import StudyCadResult


class MarkKind(enum.Enum):
    """What the reader marked (values are written to JSON)."""

    MASS = "mass"
    CALCIFICATION = "calcification"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"mass": "Mass", "calcification": "Calcification", "other": "Other"}[self.value]


def image_key(image: MammoImage) -> str:
    """A stable name for an image within its study: SOP Instance UID, else the file name.

    Not the full path: a study copied to another folder keeps its marks.
    """
    return info_key(image.info)


def info_key(info: ImageInfo) -> str:
    """:func:`image_key` from the header alone (an image not decoded, e.g. of a study not on screen)."""
    return info.meta.sop_uid or info.path.name


def study_image_key(image: MammoImage) -> str:
    """:func:`image_key` that also tells studies apart (a length measured on a prior is saved with the current
    exam's read): the SOP Instance UID, else the Study Instance UID (else the folder) and the file name."""
    return study_info_key(image.info)


def study_info_key(info: ImageInfo) -> str:
    return info.meta.sop_uid or f"{info.meta.study_uid or info.path.parent.name}/{info.path.name}"


@dataclass(frozen=True)
class ReaderMark:
    """One mark placed by the reader (stored-grid pixel coordinates of ``image``)."""

    id: int
    view: View
    image: str  # image_key() of the image it was placed on
    x: float
    y: float
    kind: MarkKind
    created: str = ""
    after_cad: bool = False  # placed after CAD was shown (not part of the unaided read)
    frame: int | None = None  # the slice (0-based) of a tomosynthesis volume it was placed on; None: a 2-D image
    #: which mark it is in every read of the study, whatever its number there (:func:`new_uid`, given as it is
    #: placed); "": placed before marks had one (or saved by an older mammoview, which drops it): matched by where and
    #: when it was placed instead (:func:`~mammoview.gui.read_merge.counterpart`)
    uid: str = ""

    @property
    def label(self) -> str:
        return f"R{self.id}"

    def to_json(self) -> dict[str, Any]:
        d = {"id": self.id, "view": self.view.value, "image": self.image, "x": round(self.x, 1),
             "y": round(self.y, 1), "kind": self.kind.value, "created": self.created,
             "after_cad": self.after_cad}  # fmt: skip
        if self.uid:  # (none written for a mark without: a read saved before is written back as it was)
            d["uid"] = self.uid
        return d if self.frame is None else {**d, "frame": self.frame}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReaderMark:
        d = _object(d, "a mark")
        return cls(id=int(d["id"]), view=View(d["view"]), image=str(d["image"]), x=_finite(d["x"]), y=_finite(d["y"]),
                   kind=MarkKind(d["kind"]), created=str(d.get("created", "")),
                   after_cad=_flag(d.get("after_cad", False)), frame=_frame(d), uid=_uid(d.get("uid", "")))  # fmt: skip


@dataclass(frozen=True)
class Measurement:
    """A length the reader measured: a line from ``(x0, y0)`` to ``(x1, y1)`` in ``image``'s stored grid."""

    id: int
    view: View
    image: str  # image_key() of the image it was drawn on
    x0: float
    y0: float
    x1: float
    y1: float
    created: str = ""
    frame: int | None = None  # the slice (0-based) of a tomosynthesis volume it was drawn on; None: a 2-D image
    #: (row_mm, col_mm) of its image when it was drawn (None: unknown): its length when that image is not open
    spacing: tuple[float, float] | None = None
    #: which line it is in every read of the study, as a mark's :attr:`~ReaderMark.uid` (two drawn alike in two
    #: windows are two); "": drawn before lines had one (or saved by an older mammoview, which drops it)
    uid: str = ""

    @property
    def label(self) -> str:
        return f"M{self.id}"

    def to_json(self) -> dict[str, Any]:
        d = {"id": self.id, "view": self.view.value, "image": self.image,
             "p0": [round(self.x0, 1), round(self.y0, 1)], "p1": [round(self.x1, 1), round(self.y1, 1)],
             "created": self.created}  # fmt: skip
        if self.spacing is not None:
            d["spacing"] = list(self.spacing)
        if self.uid:  # (as a mark's: none written for a line without)
            d["uid"] = self.uid
        return d if self.frame is None else {**d, "frame": self.frame}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Measurement:
        d = _object(d, "a measurement")
        (x0, y0), (x1, y1) = d["p0"], d["p1"]
        return cls(id=int(d["id"]), view=View(d["view"]), image=str(d["image"]), x0=_finite(x0), y0=_finite(y0),
                   x1=_finite(x1), y1=_finite(y1), created=str(d.get("created", "")), frame=_frame(d),
                   spacing=_spacing(d.get("spacing")), uid=_uid(d.get("uid", "")))  # fmt: skip


def _spacing(v: object) -> tuple[float, float] | None:
    """A measurement's saved (row_mm, col_mm), or None (an older read, or none known)."""
    if not isinstance(v, list) or len(v) != 2:
        return None
    row, col = _finite(v[0]), _finite(v[1])
    return (row, col) if row > 0 and col > 0 else None


def _object(d: object, what: str) -> dict[str, Any]:
    """``d`` when it is a JSON object; a damaged read (a list or a string where an object belongs) is a ValueError."""
    if not isinstance(d, dict):
        raise ValueError(f"{what} is {type(d).__name__}, not an object")
    return d


def _finite(v: object) -> float:
    """A saved coordinate or time; NaN or infinity (which json reads) is a damaged read, never a mark nowhere."""
    f = float(v)  # type: ignore[arg-type]
    if not math.isfinite(f):
        raise ValueError(f"{v!r} is not a finite number")
    return f


def _flag(v: object) -> bool:
    """A saved yes/no: a JSON boolean only; a string ("false", "no": hand-edited) is damage, never read as True."""
    if not isinstance(v, bool):
        raise ValueError(f"{v!r} is not true or false")
    return v


def _seconds(v: object) -> float:
    """A saved reading time: finite and not negative."""
    f = _finite(v)
    if f < 0:
        raise ValueError(f"a reading time of {f:g} s")
    return f


def _uid(v: object) -> str:
    """A saved mark's or measurement's ``uid``: a string (a number, hand-edited, is damage, never another one's)."""
    if not isinstance(v, str):
        raise ValueError(f"identity {v!r} is not a string")
    return v


def new_uid() -> str:
    """A new mark's or measurement's ``uid``: random, not a count (two viewers placing marks in one read each count
    their own), and short (one study's marks are few)."""
    return secrets.token_hex(4)


def _frame(d: dict[str, Any]) -> int | None:
    """A saved mark's or measurement's slice (absent in reads saved before slices, and for 2-D images): a JSON
    integer, 0 or more; another (-1, 2.5, true: hand-edited) is damage, never a mark on no slice or on another one."""
    frame = d.get("frame")
    if frame is None:
        return None
    if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
        raise ValueError(f"slice {frame!r} is not a whole number from 0")
    return frame


def on_slice(item: ReaderMark | Measurement, image: MammoImage) -> bool:
    """Whether ``item`` (placed on ``image``'s view) shows on ``image`` as displayed: a 2-D mark on every frame,
    a slice's mark on its slice only."""
    return item.frame is None or item.frame == image.frame


def slice_of(image: MammoImage) -> int | None:
    """The slice a mark placed on ``image`` as displayed belongs to (None for a 2-D image)."""
    return image.frame if image.info.frames > 1 else None


class Assessment(enum.Enum):
    """The reader's screening assessment of the exam (BI-RADS; the value, the category number, goes to JSON)."""

    NEGATIVE = "1"
    BENIGN = "2"
    RECALL = "0"  # incomplete: needs additional imaging (the screening recall)

    @property
    def label(self) -> str:
        return {"1": "BI-RADS 1 negative", "2": "BI-RADS 2 benign", "0": "BI-RADS 0 recall"}[self.value]


DENSITIES = ("a", "b", "c", "d")


@dataclass(frozen=True)
class ReaderDecision:
    """The reader's assessment and density grade of the exam (either may be unset)."""

    assessment: Assessment | None = None
    density: str | None = None  # one of DENSITIES

    def __post_init__(self) -> None:
        if self.density is not None and self.density not in DENSITIES:
            raise ValueError(f"density must be one of {DENSITIES}, got {self.density!r}")

    @property
    def empty(self) -> bool:
        return self.assessment is None and self.density is None

    @property
    def text(self) -> str:
        """``BI-RADS 0 recall · density C`` (``none`` when unset)."""
        parts = [self.assessment.label] if self.assessment is not None else []
        parts += [f"density {self.density.upper()}"] if self.density is not None else []
        return " · ".join(parts) or "none"

    def to_json(self) -> dict[str, Any]:
        return {"assessment": self.assessment.value if self.assessment is not None else None, "density": self.density}

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> ReaderDecision:
        d = _object(d or {}, "a decision")
        a = d.get("assessment")
        return cls(Assessment(str(a)) if a is not None else None, d.get("density"))


@dataclass(frozen=True)
class CadSeen:
    """What the CAD showed the reader of a study (the last time it was shown): for the read log."""

    model: str  # name version (sha256[:8])
    abnormal: float  # exam scores
    malignant: float
    findings: int  # marks shown, at the operating point in use
    density: str | None = None  # exam density category, when a density model ran
    #: the CAD found a breast in some image: False, it read nothing and its scores of 0 are no normal reading
    read: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "abnormal": round(self.abnormal, 4), "malignant": round(self.malignant, 4),
                "findings": self.findings, "density": self.density, "read": self.read}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> CadSeen | None:
        if not d:
            return None
        d = _object(d, "what the CAD showed")
        return cls(str(d["model"]), float(d["abnormal"]), float(d["malignant"]), int(d["findings"]), d.get("density"),
                   _flag(d.get("read", True)))  # fmt: skip

    @classmethod
    def of(cls, result: StudyCadResult) -> CadSeen:
        """The summary of ``result`` the read log keeps (exam scores, marks shown, exam density)."""
        m, exam, second = result.model, result.exam_density, result.malignancy_model
        marks = sum(len(r.findings) for r in result.images)
        density = exam[1].category if exam is not None else None
        name = m.label  # with the verifier that chose the marks, when one did
        if second is not None:  # the malignancy the reader saw came from it
            name += f" + {second.tag}"
        read = any(r.breast_found is not False for r in result.images)  # (None: not measured, taken as read)
        return cls(name, result.abnormal, result.malignant, marks, density, read)


@dataclass(frozen=True)
class ReadState:
    """The read of one study: first-read flag, the reader's marks, measurements and decisions.

    ``decision`` is the unaided first read's (frozen once the first read is done);
    ``decision_after_cad`` starts as a copy of it when CAD is unlocked and is what the
    reader changes afterwards, so a decision changed by CAD stays visible (a reader study's
    measure).  ``reading_seconds`` is the time the study was open before the first read was
    done; ``cad_seen`` what the CAD showed (exam scores, marks) the last time it was shown.
    """

    first_read_done: bool = False
    done_at: str | None = None
    marks: tuple[ReaderMark, ...] = ()
    updated: str = ""
    measurements: tuple[Measurement, ...] = ()
    decision: ReaderDecision = ReaderDecision()
    decision_after_cad: ReaderDecision = ReaderDecision()
    reading_seconds: float = 0.0
    cad_seen: CadSeen | None = None
    #: the reader's view assignments (image key, view): an image whose file gives no view, or the wrong one, hangs
    #: where the reader put it again when the study is reopened, and its marks with it
    assigned_views: tuple[tuple[str, View], ...] = ()

    @property
    def current_decision(self) -> ReaderDecision:
        """The decision the reader edits now: the first read's, or after CAD's once it is shown."""
        return self.decision_after_cad if self.first_read_done else self.decision

    @property
    def next_id(self) -> int:
        return max((m.id for m in self.marks), default=0) + 1

    @property
    def next_measurement_id(self) -> int:
        return max((m.id for m in self.measurements), default=0) + 1

    def to_json(self) -> dict[str, Any]:
        return {"first_read_done": self.first_read_done, "done_at": self.done_at,
                "marks": [m.to_json() for m in self.marks],
                "measurements": [m.to_json() for m in self.measurements], "updated": self.updated,
                "decision": self.decision.to_json(), "decision_after_cad": self.decision_after_cad.to_json(),
                "reading_seconds": round(self.reading_seconds, 1),
                "cad_seen": self.cad_seen.to_json() if self.cad_seen is not None else None,
                "assigned_views": {k: v.value for k, v in self.assigned_views}}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReadState:
        d = _object(d, "the read")
        done_at = d.get("done_at")
        return cls(first_read_done=_flag(d.get("first_read_done", False)),
                   done_at=None if done_at is None else str(done_at),
                   marks=_numbered((ReaderMark.from_json(m) for m in d.get("marks", [])), "marks"),
                   measurements=_numbered((Measurement.from_json(m) for m in d.get("measurements", [])),
                                          "measurements"),
                   updated=str(d.get("updated", "")), decision=ReaderDecision.from_json(d.get("decision")),
                   decision_after_cad=ReaderDecision.from_json(d.get("decision_after_cad")),
                   reading_seconds=_seconds(d.get("reading_seconds", 0.0)),
                   cad_seen=CadSeen.from_json(d.get("cad_seen")),
                   assigned_views=tuple((str(k), View(v)) for k, v in
                                        _object(d.get("assigned_views") or {}, "assigned_views").items()))  # fmt: skip


_Numbered = TypeVar("_Numbered", ReaderMark, Measurement)


def _numbered(items: Iterable[_Numbered], what: str) -> tuple[_Numbered, ...]:
    """Saved marks (or measurements), each number once: two R1 (a hand-merged read) are damage, never one mark
    standing for two (the comparison lists marks by number, and deleting R1 deleted both)."""
    out = tuple(items)
    ids = [x.id for x in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"two of its {what} have one number (numbers {sorted(ids)})")
    uids = [x.uid for x in out if x.uid]
    if len(set(uids)) != len(uids):  # (a copied mark or line, hand-edited: a rebase would take the two for one)
        raise ValueError(f"two of its {what} are one mark (identities {sorted(uids)})")
    return out


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
