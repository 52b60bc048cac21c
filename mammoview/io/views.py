"""Laterality and projection of an image, each with the rule that decided it.

Rules, first match wins (STYLE.md; the CLI prints the source of every decision):

laterality
    ImageLaterality (0020,0062) -> Laterality (0020,0060) -> FrameLaterality
    (0020,9072) in the per-frame, then shared, functional groups -> the side in a
    ViewPosition that carries one ("RCC", "L MLO") -> names.
projection
    ViewCodeSequence (0054,0220) (PS3.16 CID 4014, SRT/SCT/SNM3 designators) ->
    ViewPosition (0018,5101) -> PatientOrientation (0020,0020) when it holds a view
    (CBIS-DDSM writes "CC"/"MLO" there) -> names.
names
    PatientID, PatientName (CBIS-DDSM DICOMs), then the file name and its folders:
    CBIS-DDSM ``..._LEFT_CC``, INbreast ``_MG_L_CC_`` (its "ML" is the MLO view),
    mini-MIAS ``mdbNNN`` (odd = right, even = left, all MLO), and a plain ``RCC`` /
    ``L_MLO`` token.

Unknown stays unknown: ``Decision(None, "not found")``; the reader can assign a view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mammoview.io.model import Decision, Laterality, Projection
from mammoview.io.tags import functional_group_items, multi_values, text

#: PS3.16 CID 4014 "View for Mammography" (SNOMED): (SRT code, SCT code) -> projection.
#: SRT R-102CF ("cranio-caudal exaggerated", deprecated) is left out: not a clinical view.
VIEW_CODES: dict[Projection, tuple[str, str]] = {
    Projection.ML: ("R-10224", "399260004"),
    Projection.MLO: ("R-10226", "399368009"),
    Projection.LM: ("R-10228", "399352003"),
    Projection.LMO: ("R-10230", "399099002"),
    Projection.CC: ("R-10242", "399162004"),
    Projection.FB: ("R-10244", "399196006"),
    Projection.SIO: ("R-102D0", "399188001"),
    Projection.ISO: ("R-40AAA", "441555000"),
    Projection.XCCL: ("R-1024A", "399192008"),
    Projection.XCCM: ("R-1024B", "399101009"),
}
#: CID 4015 view modifiers that older systems put in place of the view (ACR MQCM "AT", "CV").
MODIFIER_CODES: dict[Projection, tuple[str, str]] = {
    Projection.AT: ("R-102D1", "399011000"),
    Projection.CV: ("R-102D2", "399161006"),
}
#: CID 4014 Note 2: SNM3 is the deprecated designator for the same SNOMED codes as SRT.
SRT_DESIGNATORS = frozenset({"SRT", "SNM3", "99SDM"})
SCT_DESIGNATORS = frozenset({"SCT"})

_BY_CODE: dict[tuple[str, str], Projection] = {}
for _proj, (_srt, _sct) in (VIEW_CODES | MODIFIER_CODES).items():
    _BY_CODE[("SRT", _srt)] = _proj
    _BY_CODE[("SCT", _sct)] = _proj

_LATERALITY = {"R": Laterality.RIGHT, "L": Laterality.LEFT}
#: PS3.16 CID 4015 "View Modifier for Mammography": (SRT code, SCT code) -> the modifier's name.
VIEW_MODIFIER_CODES: dict[str, tuple[str, str]] = {
    "cleavage": ("R-102D2", "399161006"),
    "axillary tail": ("R-102D1", "399011000"),
    "rolled lateral": ("R-102D3", "399197002"),
    "rolled medial": ("R-102D4", "399226006"),
    "rolled inferior": ("R-102CA", "414493004"),
    "rolled superior": ("R-102C9", "415670009"),
    "implant displaced": ("R-102D5", "399209000"),
    "magnification": ("R-102D6", "399163009"),
    "spot compression": ("R-102D7", "399055006"),
    "tangential": ("R-102C2", "399110001"),
    "nipple in profile": ("R-40AB3", "442581004"),
    "anterior compression": ("P2-00161", "441752004"),
    "infra-mammary fold": ("R-40ABE", "442593008"),
    "axillary tissue": ("R-40AB2", "442580003"),
}
_MODIFIER_BY_CODE = {code: name for name, pair in VIEW_MODIFIER_CODES.items() for code in pair}
_PROJECTION_WORDS = {p.value: p for p in Projection}


@dataclass(frozen=True)
class NameMatch:
    """What a name pattern says; either part may be None."""

    laterality: Laterality | None
    projection: Projection | None
    rule: str  # e.g. "_LEFT_CC", "mini-MIAS mdbNNN"
    projection_note: str = ""


_CBIS = re.compile(r"(?:^|[^A-Za-z0-9])(LEFT|RIGHT)[_\- ](CC|MLO)(?![A-Za-z0-9])", re.IGNORECASE)
_INBREAST = re.compile(r"_MG_([LR])_(CC|MLO|ML)(?=_|$|\.)", re.IGNORECASE)
_MIAS = re.compile(r"^mdb(\d{3})(?![0-9])", re.IGNORECASE)
_TOKEN = re.compile(r"(?:^|[^A-Za-z0-9])([LR])[_\- ]?(CC|MLO)(?![A-Za-z0-9])", re.IGNORECASE)


def match_name(name: str, *, allow_mias: bool = True) -> NameMatch | None:
    """Laterality/projection from one name (file stem, folder, PatientID...), or None."""
    if m := _CBIS.search(name):
        side, proj = m.group(1).upper(), m.group(2).upper()
        return NameMatch(_LATERALITY[side[0]], _PROJECTION_WORDS[proj], f"_{side}_{proj}")
    if m := _INBREAST.search(name):
        side, proj = m.group(1).upper(), m.group(2).upper()
        note = "INbreast names the MLO view ML" if proj == "ML" else ""
        return NameMatch(
            _LATERALITY[side],
            Projection.MLO if proj == "ML" else _PROJECTION_WORDS[proj],
            f"INbreast _MG_{side}_{proj}_",
            note,
        )
    if allow_mias and (m := _MIAS.match(name)):
        n = int(m.group(1))
        side = Laterality.RIGHT if n % 2 == 1 else Laterality.LEFT
        parity = "odd = right" if n % 2 == 1 else "even = left"
        return NameMatch(side, Projection.MLO, f"mini-MIAS mdbNNN ({parity})", "mini-MIAS has MLO views only")
    if m := _TOKEN.search(name):
        side, proj = m.group(1).upper(), m.group(2).upper()
        return NameMatch(_LATERALITY[side], _PROJECTION_WORDS[proj], f"{side} {proj} token")
    return None


def decide(
    ds: Any | None, path: Path, named: Sequence[tuple[str, str]] = ()
) -> tuple[Decision[Laterality], Decision[Projection]]:
    """Laterality and projection of one image.

    Parameters
    ----------
    ds : pydicom.Dataset or None
        The header (None for rasters).
    path : Path
        The file; its name and up to three parent folders are searched last.
    named : sequence of (label, text)
        Extra names searched before the path, e.g. ``("PatientID (0010,0020)", ...)``.
    """
    notes: list[str] = []
    lat = _laterality_from_tags(ds, notes) if ds is not None else None
    proj = _projection_from_tags(ds, notes) if ds is not None else None
    if lat is None or proj is None:
        for label, name, is_file in _candidate_names(path, named):
            m = match_name(name, allow_mias=is_file)
            if m is None:
                continue
            src = f"{label} pattern {m.rule}"
            if lat is None and m.laterality is not None:
                lat = Decision(m.laterality, src, name)
            if proj is None and m.projection is not None:
                proj = Decision(m.projection, src, "; ".join(x for x in (name, m.projection_note) if x))
            if lat is not None and proj is not None:
                break
    detail = "; ".join(notes)
    return (lat or Decision(None, "not found", detail), proj or Decision(None, "not found", detail))


def _candidate_names(path: Path, named: Sequence[tuple[str, str]]) -> Iterable[tuple[str, str, bool]]:
    for label, value in named:
        if value:
            yield label, value, False
    yield "file name", path.stem, True
    for parent in list(path.parents)[:3]:
        if parent.name:
            yield "folder name", parent.name, False


def _laterality_from_tags(ds: Any, notes: list[str]) -> Decision[Laterality] | None:
    for keyword, tag in (("ImageLaterality", "(0020,0062)"), ("Laterality", "(0020,0060)")):
        value = text(ds.get(keyword))
        if not value:
            continue
        if value in _LATERALITY:
            return Decision(_LATERALITY[value], f"{keyword} {tag}", value)
        notes.append(f"{keyword} {tag} is {value!r} (not R or L)")
    for where, item in functional_group_items(ds, "FrameAnatomySequence"):
        value = text(item.get("FrameLaterality"))
        if value in _LATERALITY:
            return Decision(_LATERALITY[value], "FrameLaterality (0020,9072)", f"{value} in {where}")
        if value:
            notes.append(f"FrameLaterality (0020,9072) is {value!r} (not R or L)")
    if (side := _side_of_view_word(text(ds.get("ViewPosition")))) is not None:  # "RCC", "L MLO"
        return Decision(_LATERALITY[side], "ViewPosition (0018,5101)", text(ds.get("ViewPosition")))
    return None


#: Words that read as a side and a view but are more often something else: not read, the note says why.
_AMBIGUOUS_WORDS = {"LAT": "lateral, or the left axillary tail?"}


def _side_of_view_word(value: str) -> str | None:
    """The side ("R" / "L") of a ViewPosition-style word that carries the side ("RCC", "L MLO"), else None."""
    if value.strip().upper() in _AMBIGUOUS_WORDS:
        return None
    word = re.sub(r"[\s_\-]", "", value.upper())
    if word.endswith("ID") and len(word) > 4:  # "RCCID": the ACR label of an implant-displaced view
        word = word[:-2]
    return word[0] if len(word) > 2 and word[0] in "RL" and word[1:] in _PROJECTION_WORDS else None


def _view_code(item: Any) -> tuple[Projection | None, str]:
    """The CID 4014 view of a code item, and a note when its SNOMED designator is the other scheme's (or none).

    SRT codes are "R-xxxxx", SCT codes numbers: an export caught between the two (SCT codes labelled SRT, or the
    designator left out) still names one view by its code value."""
    designator = text(item.get("CodingSchemeDesignator"))
    code = text(item.get("CodeValue"))
    scheme = "SRT" if designator in SRT_DESIGNATORS else designator
    if (proj := _BY_CODE.get((scheme, code))) is not None:
        return proj, ""
    if designator in SRT_DESIGNATORS | SCT_DESIGNATORS | {""}:
        for other in ("SRT", "SCT"):
            if (proj := _BY_CODE.get((other, code))) is not None:
                return proj, f"an {other} code under designator {designator or '(none)'}"
    return None, ""


def _projection_from_tags(ds: Any, notes: list[str]) -> Decision[Projection] | None:
    for item in ds.get("ViewCodeSequence") or ():
        designator = text(item.get("CodingSchemeDesignator"))
        code = text(item.get("CodeValue"))
        proj, odd = _view_code(item)
        meaning = str(item.get("CodeMeaning", "") or "")
        if proj is not None:
            mods = [str(m.get("CodeMeaning", "")) for m in item.get("ViewModifierCodeSequence") or ()]
            detail = "; ".join(x for x in (f"{designator} {code} {meaning}".strip(), odd) if x)
            if mods:
                detail += f"; modifier {', '.join(m for m in mods if m)}"
            return Decision(proj, "ViewCodeSequence (0054,0220)", detail)
        notes.append(f"ViewCodeSequence (0054,0220) code {designator} {code} {meaning!r} is not a CID 4014 view")
    value = text(ds.get("ViewPosition"))
    if value:
        proj = _projection_word(value)
        if proj is not None:
            return Decision(proj, "ViewPosition (0018,5101)", value)
        why = f" ({_AMBIGUOUS_WORDS[value]})" if value in _AMBIGUOUS_WORDS else ""
        notes.append(f"ViewPosition (0018,5101) is {value!r}{why}")
    values = multi_values(ds.get("PatientOrientation"))
    if len(values) == 1 and (proj := _projection_word(values[0])) is not None:
        return Decision(proj, "PatientOrientation (0020,0020)", values[0])
    return None


def _implant_displaced_word(value: str) -> bool:
    """A ViewPosition in the ACR labels of implant-displaced views: "CCID", "RMLOID", "L CC ID"."""
    word = re.sub(r"[\s_\-]", "", value.upper())
    return word.endswith("ID") and _projection_word(word[:-2]) is not None


def _projection_word(value: str) -> Projection | None:
    """A ViewPosition-style word: "CC", "MLO"..., also "RCC" / "L MLO" (laterality prefix dropped) and the ACR
    implant-displaced labels "CCID" / "RMLOID" (:func:`view_modifiers` names the modifier).  Not "LAT"
    (:data:`_AMBIGUOUS_WORDS`)."""
    if value.strip().upper() in _AMBIGUOUS_WORDS:
        return None
    word = re.sub(r"[\s_\-]", "", value.upper())
    if word.endswith("ID") and len(word) > 3 and word[:-2] not in ("", "R", "L"):
        word = word[:-2]
    if word in _PROJECTION_WORDS:
        return _PROJECTION_WORDS[word]
    if len(word) > 2 and word[0] in "RL" and word[1:] in _PROJECTION_WORDS:
        return _PROJECTION_WORDS[word[1:]]
    return None


def view_modifiers(ds: Any) -> tuple[str, ...]:
    """The CID 4015 view modifiers of an image, e.g. ``("spot compression", "magnification")``.

    Read from the View Modifier Code Sequence (0054,0222) inside the View Code Sequence
    (0054,0220), where PS3.3 C.8.11.7 puts it, and at the top level, where some systems do.
    A known code gives the modifier's name; another code its Code Meaning, lower case.
    """
    items = [m for view in ds.get("ViewCodeSequence") or () for m in view.get("ViewModifierCodeSequence") or ()]
    items += list(ds.get("ViewModifierCodeSequence") or ())
    names: list[str] = []
    for item in items:
        name = _MODIFIER_BY_CODE.get(text(item.get("CodeValue"))) or text(item.get("CodeMeaning")).lower()
        if name and name not in names:
            names.append(name)
    if _implant_displaced_word(text(ds.get("ViewPosition"))) and "implant displaced" not in names:
        names.append("implant displaced")
    return tuple(names)


def conflicts(ds: Any | None, named: Sequence[tuple[str, str]] = (), path: Path | None = None) -> list[str]:
    """Where a file's own tags disagree about the side, or about the row (CC or MLO) the view hangs in: each
    disagreement with the source that decides (:func:`decide`'s first rule), for the reader to check.

    ``named`` are the names :func:`decide` also searches (PatientID, PatientName), then ``path``'s file and folder
    names: a CBIS-DDSM-style ``..._RIGHT_CC`` there that contradicts the tags, or an earlier name, is named too (the
    names decide what the tags leave open, so a name naming the other side may have given the view).  Sources that
    are absent say nothing.  ``ds`` None: a raster, its names only.
    """
    if ds is None:
        ds = {}
    names = list(_candidate_names(path, named)) if path is not None else [(lab, v, False) for lab, v in named if v]
    matches = [(label, m) for label, name, is_file in names if (m := match_name(name, allow_mias=is_file))]
    sides: list[tuple[str, str]] = []
    unusable: list[str] = []  # "B" (both breasts), "R\\L", "RIGHT": passed over for the next source
    for keyword, tag in (("ImageLaterality", "(0020,0062)"), ("Laterality", "(0020,0060)")):
        value = text(ds.get(keyword))
        if value in _LATERALITY:
            sides.append((f"{keyword} {tag}", value))
        elif value and not sides:
            unusable.append(f"{keyword} {tag} is {value!r} (not R or L)")
    for _where, item in functional_group_items(ds, "FrameAnatomySequence"):
        value = text(item.get("FrameLaterality"))
        if value in _LATERALITY:
            sides.append(("FrameLaterality (0020,9072)", value))
            break
    if (side := _side_of_view_word(text(ds.get("ViewPosition")))) is not None:
        sides.append(("ViewPosition (0018,5101)", side))
    for label, m in matches:
        if m.laterality is not None and (f"{label} names", m.laterality.value) not in sides:
            sides.append((f"{label} names", m.laterality.value))  # (PatientName often repeats PatientID)
    out = [f"{sides[0][0]} {sides[0][1]} but {label} {value}: the first decides the side; check it"
           for label, value in sides[1:] if value != sides[0][1]]  # fmt: skip
    if sides:
        out = [f"{u}: {sides[0][0]} {sides[0][1]} decides the side; check it" for u in unusable] + out
    rows: list[tuple[str, Projection]] = []
    for n, item in enumerate(ds.get("ViewCodeSequence") or (), 1):  # one item (Type 1); an export may add more
        if (proj := _view_code(item)[0]) is not None:
            rows.append(("ViewCodeSequence (0054,0220)" + (f" item {n}" if rows else ""), proj))
    if (proj := _projection_word(text(ds.get("ViewPosition")))) is not None:
        rows.append(("ViewPosition (0018,5101)", proj))
    values = multi_values(ds.get("PatientOrientation"))
    if len(values) == 1 and (proj := _projection_word(values[0])) is not None:
        rows.append(("PatientOrientation (0020,0020)", proj))
    for label, m in matches:
        if m.projection is not None and (f"{label} names", m.projection) not in rows:
            rows.append((f"{label} names", m.projection))
    if rows and rows[0][1].slot is not None:
        first_label, first = rows[0]
        out += [f"{first_label} {first.value} but {label} {proj.value}: the first decides the view; check it"
                for label, proj in rows[1:] if proj.slot is not None and proj.slot is not first.slot]  # fmt: skip
    po = _mlo_orientation_side(values) if rows and rows[0][1] is Projection.MLO else None
    if sides and po is not None and po != sides[0][1]:
        out.append(f"{sides[0][0]} {sides[0][1]} but PatientOrientation (0020,0020) {chr(92).join(values)} is "
                   f"a {po} MLO's: the first decides the side; check it")  # fmt: skip
    return out


def _mlo_orientation_side(values: Sequence[str]) -> str | None:
    """The side an MLO's Patient Orientation row\\column pair implies (IHE Mammography Image: LMLO A\\FR, RMLO
    P\\FL): its column runs to the feet and medially, or to the head and laterally, however the image is flipped.
    None for anything else (a CC's column is medial or lateral either way)."""
    if len(values) != 2 or values[0] not in ("A", "P"):
        return None
    column = set(values[1])
    if len(column) != 2 or not column <= set("FHRL") or len(column & {"F", "H"}) != 1:
        return None
    towards_feet, towards_right = "F" in column, "R" in column
    return "L" if towards_feet == towards_right else "R"
