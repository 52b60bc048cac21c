"""The reader's own read of a study: marks placed before CAD, measurements, and whether the first read is done.

Saved as JSON in the application data folder (``$MAMMOVIEW_APP_DATA``, else Qt's
AppDataLocation) under ``reads/<sha256 of the study's read key>.json``
(:func:`mammoview.io.study.read_key`: one Study Instance UID written into two women's exams
gives each woman her own read, whatever is opened with her exam): the file name must not
carry the patient's name or ID (CBIS-DDSM keys *are* patient IDs), so only a hash of
the key is written, in the name and inside, and the woman whose read it is by a keyed hash
of her Patient ID (:func:`patient_pseudonym`).  Every save is a temporary file, fsync and
``os.replace``, so a crash loses at most the action being saved and never leaves a
half-written file.  Coordinates are in the image's stored grid, like CAD findings.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import enum
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6 import QtCore

from mammoview.gui.settings import APPLICATION, ORGANISATION
from mammoview.io.files import atomic_write_bytes
from mammoview.io.model import ImageInfo, MammoImage, View
from mammoview.io.study import ReadKey

if TYPE_CHECKING:
    from mammoview.cad.types import StudyCadResult

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


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

    @property
    def label(self) -> str:
        return f"R{self.id}"

    def to_json(self) -> dict[str, Any]:
        d = {"id": self.id, "view": self.view.value, "image": self.image, "x": round(self.x, 1),
             "y": round(self.y, 1), "kind": self.kind.value, "created": self.created,
             "after_cad": self.after_cad}  # fmt: skip
        return d if self.frame is None else {**d, "frame": self.frame}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReaderMark:
        d = _object(d, "a mark")
        return cls(id=int(d["id"]), view=View(d["view"]), image=str(d["image"]), x=_finite(d["x"]), y=_finite(d["y"]),
                   kind=MarkKind(d["kind"]), created=str(d.get("created", "")),
                   after_cad=_flag(d.get("after_cad", False)), frame=_frame(d))  # fmt: skip


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

    @property
    def label(self) -> str:
        return f"M{self.id}"

    def to_json(self) -> dict[str, Any]:
        d = {"id": self.id, "view": self.view.value, "image": self.image,
             "p0": [round(self.x0, 1), round(self.y0, 1)], "p1": [round(self.x1, 1), round(self.y1, 1)],
             "created": self.created}  # fmt: skip
        if self.spacing is not None:
            d["spacing"] = list(self.spacing)
        return d if self.frame is None else {**d, "frame": self.frame}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Measurement:
        d = _object(d, "a measurement")
        (x0, y0), (x1, y1) = d["p0"], d["p1"]
        return cls(id=int(d["id"]), view=View(d["view"]), image=str(d["image"]), x0=_finite(x0), y0=_finite(y0),
                   x1=_finite(x1), y1=_finite(y1), created=str(d.get("created", "")), frame=_frame(d),
                   spacing=_spacing(d.get("spacing")))  # fmt: skip


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
    return out


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def study_hash(study_key: str) -> str:
    """SHA-256 (hex) of the study key: names the file without naming the patient."""
    return hashlib.sha256(study_key.encode("utf-8")).hexdigest()


def study_pseudonym(study_key: str) -> str:
    """A name for a study in what may leave this machine (an anonymised export): HMAC-SHA256 of its key with this
    installation's secret (:func:`_pseudonym_secret`).  The same study gets the same pseudonym here, and nobody
    without the secret can find it from the key: a plain hash of a CBIS-DDSM key (``P_00820``) is reversed by trying
    its 100,000 possible values."""
    return hmac.new(_pseudonym_secret(), study_key.encode("utf-8"), hashlib.sha256).hexdigest()


def patient_pseudonym(patient_id: str) -> str:
    """Who a saved read is of, without naming her: HMAC-SHA256 of the Patient ID with this installation's secret (as
    :func:`study_pseudonym`; a plain hash of a hospital's numeric IDs is reversed by trying them)."""
    return hmac.new(_pseudonym_secret(), b"PatientID\0" + patient_id.encode("utf-8"), hashlib.sha256).hexdigest()


SECRET_BYTES = 32
_secret_lock = threading.Lock()
_session_secret: bytes | None = None


def _pseudonym_secret() -> bytes:
    """32 random bytes kept in the app data folder (``pseudonym.key``, readable by the user only), made once and
    written atomically (never seen half written); a key file of another length is replaced.  When the folder cannot
    be read or written, one secret for this process (pseudonyms then differ between sessions; logged)."""
    global _session_secret
    with _secret_lock:
        path = app_data_dir() / "pseudonym.key"
        try:
            try:
                if len(data := _read_private(path)) == SECRET_BYTES:
                    return data
            except FileNotFoundError:
                pass
            return _install_secret(path)
        except OSError as exc:
            if _session_secret is None:
                log.warning("no pseudonym secret in the app data folder (%s): pseudonyms of this session only", exc)
                _session_secret = secrets.token_bytes(SECRET_BYTES)
            return _session_secret


def _read_private(path: Path) -> bytes:
    """The bytes of the key file at ``path``, made owner-only (0600) first on POSIX when others may read it (a key
    copied in or restored from a backup); one that cannot be (another user's file, a read-only mount) is still
    read, and that is logged: whoever can read it can reverse the pseudonyms."""
    with open(path, "rb") as fh:
        if os.name == "posix" and (mode := os.fstat(fh.fileno()).st_mode) & 0o077:
            try:  # (on the open file: the one read, even if the name is replaced meanwhile)
                os.fchmod(fh.fileno(), 0o600)
            except OSError as exc:
                log.warning("pseudonym.key at %s is readable by others (mode %03o) and cannot be made owner-only "
                            "(%s): used as it is", path, mode & 0o777, exc)  # fmt: skip
        return fh.read()


def _install_secret(path: Path) -> bytes:
    """A new secret at ``path``, whole or not at all; when another viewer made its key meanwhile, theirs (used by both
    then); a damaged key (empty, another length) is replaced."""
    data = secrets.token_bytes(SECRET_BYTES)
    try:
        atomic_write_bytes(path, data, exclusive=True)
    except FileExistsError:
        if len(theirs := path.read_bytes()) == SECRET_BYTES:
            return theirs
        atomic_write_bytes(path, data)
    return path.read_bytes()  # (without hard links, another viewer replacing at the same moment: the one kept)


def app_data_dir() -> Path:
    """``$MAMMOVIEW_APP_DATA``, else Qt's per-user AppDataLocation of mammoview (the same folder from the viewer and
    from a command such as ``reader-study``, which runs without a QApplication)."""
    env = os.environ.get("MAMMOVIEW_APP_DATA")
    if env:
        return Path(env)
    if QtCore.QCoreApplication.organizationName() != ORGANISATION:  # the names AppDataLocation is made of
        QtCore.QCoreApplication.setOrganizationName(ORGANISATION)
        QtCore.QCoreApplication.setApplicationName(APPLICATION)
    loc = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".mammoview")


def atomic_write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` as JSON to ``path`` atomically (:func:`mammoview.io.files.atomic_write_bytes`); a NaN or infinite
    number is a ValueError before anything is written (json would write NaN, which is not JSON: the read would be set
    aside as damaged when next opened)."""
    atomic_write_bytes(path, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8"))


#: what reading a damaged file raises: not JSON, a missing key, a value of the wrong type, an unknown enum value,
#: a number too large for an int (1e999 reads as infinity), JSON nested too deep
DAMAGED = (ValueError, KeyError, TypeError, OverflowError, RecursionError)


class OtherPatient(ValueError):
    """A saved read recorded as another woman's (another Patient ID) than the study's it was found for."""


def _read_key(study: str | ReadKey) -> ReadKey:
    """``study`` as a :class:`ReadKey` (a bare key: a study whose patient is not known, so not checked)."""
    return study if isinstance(study, ReadKey) else ReadKey(study)


@dataclass
class ReadStore:
    """Loads and saves :class:`ReadState` per study under ``folder``.

    A study is named by its :class:`~mammoview.io.study.ReadKey` (or a bare key), whose file name holds its Patient
    ID (hashed); a read is saved with a keyed hash of that Patient ID too.  A study with no read under its key yet
    finds the read saved under its legacy key (before reads were keyed by woman), unless that one is recorded as
    another woman's (then neither shown nor written over); its next save goes to its own file, and then the old one
    is removed.
    """

    folder: Path = field(default_factory=lambda: app_data_dir() / "reads")
    #: what the last :meth:`load` could not read, and where the file was set aside (None: nothing to say)
    problem: str | None = field(default=None, init=False, repr=False, compare=False)
    #: studies whose unreadable read could not be set aside: never written over (:meth:`save` moves it first)
    _held: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    #: studies whose read was loaded from its legacy file (the key, that file): removed after its next save
    _superseded: dict[str, Path] = field(default_factory=dict, init=False, repr=False, compare=False)

    def path_for(self, study_key: str) -> Path:
        return self.folder / f"{study_hash(study_key)[:32]}.json"

    def _read(self, study_key: str, patient_id: str | None = None) -> ReadState:
        """The state saved under ``study_key``; FileNotFoundError when none, OSError or :data:`DAMAGED` when damaged,
        :class:`OtherPatient` when recorded as not Patient ID ``patient_id``'s (None: not checked)."""
        doc = _object(json.loads(self.path_for(study_key).read_text(encoding="utf-8")), "the file")
        fmt = doc.get("format", FORMAT_VERSION)
        if not isinstance(fmt, int) or fmt > FORMAT_VERSION:  # its fields would be dropped by the next save here
            raise ValueError(f"written by a newer mammoview (format {fmt}; this one reads format {FORMAT_VERSION})")
        if doc.get("study_sha256") != study_hash(study_key):
            raise ValueError("study hash does not match the file name")
        recorded = doc.get("patient")  # absent in reads saved before it was recorded: taken as the study's
        if recorded is not None and not isinstance(recorded, str):
            raise ValueError(f"its patient is {type(recorded).__name__}, not a string")
        if (patient_id is not None and recorded is not None
                and not (patient_id and hmac.compare_digest(recorded, patient_pseudonym(patient_id)))):  # fmt: skip
            raise OtherPatient("it is recorded as the read of another Patient ID")
        return ReadState.from_json(doc["state"])

    def _where(self, key: ReadKey) -> str | None:
        """The key whose file holds the saved read of ``key``: its own, else (none yet) its legacy one; None if none."""
        return next((k for k in (key.key, key.legacy) if k is not None and self.path_for(k).exists()), None)

    def _of(self, key: ReadKey, saved_as: str) -> ReadState:
        """The read saved under ``saved_as`` for ``key`` (:meth:`_read`), its patient checked in a legacy file only:
        her own file's name is her Patient ID's (a mismatch there is the pseudonym secret lost or replaced, which
        must not hide every read)."""
        return self._read(saved_as, key.patient_id if saved_as != key.key else None)

    def load(self, study: str | ReadKey) -> ReadState:
        """The saved state, or a fresh one; a damaged file is set aside (renamed), never fatal."""
        key = _read_key(study)
        self.problem = None
        self._superseded.pop(key.key, None)
        saved_as = key.key  # (an error looking for its file, e.g. a share gone stale: taken as its own, unreadable)
        try:
            if (found := self._where(key)) is None:
                return ReadState()
            saved_as = found
            state = self._of(key, saved_as)
        except FileNotFoundError:
            return ReadState()
        except (OSError, *DAMAGED) as exc:
            path = self.path_for(saved_as)
            if isinstance(exc, OtherPatient):  # (a legacy file only: :meth:`_of`)
                log.info("read state %s is another patient's: not %s's, left as it is", path, key.key)
                return ReadState()  # another woman's exam of the same Study Instance UID: hers, not this one's
            log.warning("read state %s is damaged (%s); set aside", path, exc)
            try:
                kept = f"it is kept as {_set_aside(path)}"
                self._held.discard(key.key)
            except OSError as move_exc:
                kept = f"it could not be set aside ({move_exc}) and is still {path}, which is not written over"
                if saved_as == key.key:  # (a legacy file never is: this study's saves go to its own)
                    self._held.add(key.key)
                    kept += ": what you do now is saved once it can be moved"
            self.problem = (
                f"Your saved read of this study could not be read ({exc}); {kept}. The study shows as not read."
            )
            return ReadState()
        if saved_as != key.key:
            self._superseded[key.key] = self.path_for(saved_as)
        return state

    def peek(self, study: str | ReadKey) -> ReadState | None:
        """The saved state without side effects (a worklist's status column); None if none or unreadable."""
        key = _read_key(study)
        try:
            return None if (saved_as := self._where(key)) is None else self._of(key, saved_as)
        except (OSError, *DAMAGED):
            return None

    def unreadable(self, study: str | ReadKey) -> bool:
        """Whether a saved read of ``study`` is there that cannot be read (damaged, a newer mammoview's): not the
        same as none (a read log must not count it as not read)."""
        key = _read_key(study)
        try:
            if (saved_as := self._where(key)) is None:
                return False
            self._of(key, saved_as)
        except FileNotFoundError:
            return False
        except (OSError, *DAMAGED) as exc:
            return not isinstance(exc, OtherPatient)  # another woman's (in a legacy file) is none of its
        return False

    def save(self, study: str | ReadKey, state: ReadState) -> ReadState:
        """Write ``state`` atomically; returns it with ``updated`` set."""
        key = _read_key(study)
        claim_folder(self.folder)
        _private_folder(self.folder)
        path = self.path_for(key.key)
        if key.key in self._held:  # the unreadable read is the reader's too: moved away first, never replaced
            try:
                _set_aside(path)
            except FileNotFoundError:
                pass  # gone meanwhile (moved by hand)
            except OSError as exc:
                raise OSError(f"your earlier read of this study, which could not be read, is still {path} and could "
                              f"not be set aside ({exc}): it is not written over") from exc  # fmt: skip
            self._held.discard(key.key)
        state = replace(state, updated=now_iso())
        doc: dict[str, Any] = {"format": FORMAT_VERSION, "study_sha256": study_hash(key.key)}
        if key.patient_id:
            doc["patient"] = patient_pseudonym(key.patient_id)
        atomic_write_json(path, {**doc, "state": state.to_json()})
        if (old := self._superseded.pop(key.key, None)) is not None:  # the same read, now in its own file
            try:
                old.unlink(missing_ok=True)
            except OSError as exc:  # harmless: a study's own file is always read first
                log.warning("could not remove %s, superseded by %s: %s", old, path, exc)
        return state


def _set_aside(path: Path) -> Path:
    """Rename an unreadable read beside itself (``<name>.damaged-<time>``, ``-2``, ``-3``... after it when a copy set
    aside in the same second is there: never over it); where it went.  OSError if it cannot be."""
    stem = path.with_name(f"{path.name}.damaged-{_dt.datetime.now():%Y%m%d-%H%M%S}")
    aside, n = stem, 1
    while aside.exists() or aside.is_symlink():
        n += 1
        aside = stem.with_name(f"{stem.name}-{n}")
    os.replace(path, aside)
    return aside


def _private_folder(folder: Path) -> None:
    """``folder`` made (or kept) the user's only: its file names are hashes of study keys, which for a patient-number
    key (CBIS-DDSM's) can be found by trying them all; the reads in it are 0600 already."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and folder.stat().st_mode & 0o077:
        with contextlib.suppress(OSError):
            folder.chmod(0o700)


_claims: dict[str, QtCore.QLockFile] = {}
_refused: dict[str, str] = {}  # folders another running viewer was saving to: this process never saves there
_claims_lock = threading.Lock()


def claim_folder(folder: Path) -> None:
    """Make this process the one mammoview that writes reads to ``folder`` (held until it exits; the lock of a viewer
    that died, even by kill -9, is taken over).  PermissionError when another running viewer got it first, then and
    for the rest of this process (its reads, loaded beside the other's saves, may be stale): two windows each writing
    their whole read of a study silently dropped each other's marks and decisions."""
    key = os.path.abspath(folder)
    with _claims_lock:
        if key in _claims:
            return
        if key not in _refused:
            folder.parent.mkdir(parents=True, exist_ok=True)
            lock = QtCore.QLockFile(key + ".lock")
            lock.setStaleLockTime(0)  # stale when its process is gone, never by age (a viewer stays open for hours)
            if lock.tryLock(0):
                _claims[key] = lock
                _remove_leftover_temps(folder)
                return
            if lock.error() != QtCore.QLockFile.LockError.LockFailedError:
                return  # no lock file can be made there (read-only, some network shares): the write says why
            info = lock.getLockInfo()  # PySide6: (pid, hostname, appname)
            pid, host = (info[-3], info[-2]) if isinstance(info, tuple) and len(info) >= 3 else ("?", "")
            _refused[key] = (
                f"another mammoview window (process {pid} on {host or 'this computer'}) is saving reads in {folder}: "
                "this window saves none, so neither overwrites the other's marks; close it and read in the other one"
            )
        raise PermissionError(_refused[key])


#: a temporary file of :func:`atomic_write_json` for a read (``.<32 hex>.json.<random>.tmp``)
_READ_TEMP = re.compile(r"\.[0-9a-f]{32}\.json\..+\.tmp")


def _remove_leftover_temps(folder: Path) -> None:
    """Remove the temporary files of saves a viewer killed mid-save left in ``folder`` (owner-only, but each a copy
    of a read that stayed there for ever); only with the folder claimed, so that no save of another viewer is under
    way."""
    try:
        leftovers = [p for p in folder.iterdir() if _READ_TEMP.fullmatch(p.name) and p.is_file()]
    except OSError:
        return
    for leftover in leftovers:
        try:
            leftover.unlink()
            log.info("removed %s, left by a save that did not finish", leftover)
        except OSError as exc:
            log.warning("could not remove %s, left by a save that did not finish: %s", leftover, exc)


def saving_refused(folder: Path) -> bool:
    """Whether this process was refused ``folder`` (another viewer saves reads there): for the rest of its life."""
    with _claims_lock:
        return os.path.abspath(folder) in _refused
