"""Prior studies: the same patient's earlier exams, for the comparison a screening read is made with.

A screening mammogram is read against the patient's previous exam (is this density new, has that mass
grown?).  The viewer looks for priors among the studies opened with the current one (a folder holding a
patient's exams, a PACS export of current + priors): a study is a prior of another when both name the same
patient and it was made on an earlier day.

- The patient is the Patient ID (0010,0020) that every image of the study carries; a study whose images
  disagree (CBIS-DDSM writes one ID per view) or carry none has no priors.  An equal ID is not enough: a
  second identifier must confirm it, the Patient's Birth Date (0010,0030) or the Patient's Name (0010,0010)
  given by both studies and equal, and neither may differ.  Anonymised exports give many women one
  placeholder ID ("ANONYMOUS") and no birth date; two sites may give two women one number.
- The day is the Study Date (0008,0020), YYYYMMDD (PS3.5 DA); a study without a valid one has no priors
  and is nobody's prior: an order that cannot be read is not guessed.  Studies of the same day are not
  priors of each other (a diagnostic work-up after the screening views is the same episode).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence

from mammoview.io.model import StudyInfo


def patient_key(study: StudyInfo) -> tuple[str, str, str] | None:
    """(Patient ID, birth date, name) shared by every image of ``study`` ("" for a field none gives), or None
    (no single patient: no ID, or images disagreeing on a field)."""
    ids = {i.meta.patient_id.strip() for i in study.images}
    births = {_birth(i.meta.patient_birth_date) for i in study.images} - {""}
    names = {_name(i.meta.patient_name) for i in study.images} - {""}
    if len(ids) != 1 or "" in ids or len(births) > 1 or len(names) > 1:
        return None
    return ids.pop(), births.pop() if births else "", names.pop() if names else ""


def _birth(text: str) -> str:
    """A birth date that identifies someone, or "": a de-identifier's dummy date (``00010101``, ``19000101``: every
    woman of the export has it) or one that is no date confirms nobody."""
    text = text.strip()
    try:
        day = dt.datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 else None
    except ValueError:
        day = None
    return "" if day is None or day.year <= 1900 else text


def _name(text: str) -> str:
    """A person name compared as its components (PS3.5 PN: ``Family^Given^Middle^Prefix^Suffix``)."""
    return " ".join(text.replace("^", " ").upper().split())


def _placeholder(name: str, patient_id: str) -> bool:
    """Whether a (compared) name identifies nobody: a placeholder, or the Patient ID again."""
    return name in PLACEHOLDER_NAMES or name == _name(patient_id)


def study_day(study: StudyInfo) -> dt.date | None:
    """The Study Date every image agrees on, or None (missing, malformed, or disagreeing)."""
    days = {i.meta.study_date.strip() for i in study.images}
    if len(days) != 1:
        return None
    text = days.pop()
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 else None
    except ValueError:
        return None


#: Patient's Names a de-identification writes for every patient (PS3.15's dummy values): they confirm nobody
PLACEHOLDER_NAMES = frozenset({"ANONYMOUS", "ANONYMIZED", "ANONYMISED", "ANON", "DEIDENTIFIED", "DE-IDENTIFIED",
                               "REMOVED", "UNKNOWN", "NONE", "NA", "N/A", "PATIENT", "X", "Z"})  # fmt: skip


def same_patient(a: StudyInfo, b: StudyInfo) -> bool:
    """One Patient ID, confirmed by an equal birth date or name that both give, and no field differing.

    A name that repeats the Patient ID or is a de-identification placeholder (``ANONYMOUS``) confirms nothing: an
    export that replaced both gives every woman the same pair."""
    ka, kb = patient_key(a), patient_key(b)
    if ka is None or kb is None or ka[0] != kb[0]:
        return False
    (birth_a, name_a), (birth_b, name_b) = ka[1:], kb[1:]
    if birth_a and birth_b and birth_a != birth_b:
        return False
    # PS3.5 PN: up to three groups, alphabetic=ideographic=phonetic; one modality may send the alphabetic group only,
    # another all three: the groups both give are compared, each on its own
    shared = [(x, y) for x, y in zip(name_a.split("="), name_b.split("="), strict=False) if x.strip() and y.strip()]
    if any(x.strip() != y.strip() for x, y in shared):
        return False
    confirmed = [x.strip() for x, _ in shared if not _placeholder(x.strip(), ka[0])]
    return bool(birth_a and birth_b) or bool(confirmed)


def differ(a: StudyInfo, b: StudyInfo) -> bool:
    """Whether ``a`` and ``b`` name two people: a Patient ID, a birth date or a group of the name that both give and
    that differ (or either names no single patient).  Not differing is not :func:`same_patient`: nothing confirms."""
    ka, kb = patient_key(a), patient_key(b)
    if ka is None or kb is None or ka[0] != kb[0] or (ka[1] and kb[1] and ka[1] != kb[1]):
        return True
    return any(x.strip() and y.strip() and x.strip() != y.strip() for x, y in zip(ka[2].split("="), kb[2].split("="),
                                                                                strict=False))  # fmt: skip


def find_priors(current: StudyInfo, studies: Iterable[StudyInfo]) -> list[StudyInfo]:
    """The priors of ``current`` among ``studies``, most recent first (see the module docstring)."""
    day = study_day(current)
    if day is None or patient_key(current) is None:
        return []
    found: list[tuple[dt.date, StudyInfo]] = []
    for other in studies:
        other_day = study_day(other)
        if other.key != current.key and other_day is not None and other_day < day and same_patient(current, other):
            found.append((other_day, other))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [study for _, study in found]


def prior_of(studies: Sequence[StudyInfo]) -> dict[int, int]:
    """Which listed studies are priors: index -> index of the same patient's newest listed study.

    A worklist of a PACS export holds each woman's current exam beside her priors; the priors are there to
    compare with, not to be read again.  One pass over the list (grouped by (Patient ID, birth date)), so a
    worklist of hundreds of studies costs nothing.  A study without a single patient or a valid date is
    nobody's prior; studies of the newest day are not priors; the rule is :func:`same_patient`'s.
    """
    by_id: dict[str, list[tuple[dt.date, int]]] = {}
    for i, study in enumerate(studies):
        key, day = patient_key(study), study_day(study)
        if key is not None and day is not None:
            by_id.setdefault(key[0], []).append((day, i))
    out: dict[int, int] = {}
    for exams in by_id.values():  # a handful per ID: pairwise is cheap
        for day, i in exams:
            later = [(d, -j) for d, j in exams if d > day and same_patient(studies[i], studies[j])]
            if later:
                out[i] = -max(later)[1]  # the newest (the first listed of its day)
    return out


def interval_text(current: StudyInfo, prior: StudyInfo) -> str:
    """How long before ``current`` the ``prior`` was made: "14 months before", "3 years before", "12 days before"."""
    a, b = study_day(current), study_day(prior)
    if a is None or b is None:
        return ""
    days = (a - b).days
    month_end = a.day == calendar.monthrange(a.year, a.month)[1]  # 28 Feb is a month after 31 Jan (or 29 Feb)
    months = (a.year - b.year) * 12 + a.month - b.month - (a.day < b.day and not month_end)
    if months < 1:
        return f"{days} day{'s' if days != 1 else ''} before"
    if months < 24:
        return f"{months} month{'s' if months != 1 else ''} before"
    years = months // 12
    return f"{years} years before"
