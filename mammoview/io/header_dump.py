"""An image file's header as rows of text: how mammoview read it, and every DICOM element.

What the viewer's File header dialog shows (and ``mammoview info`` prints the first part of):
a physicist checking the exposure or a reader asking why a view hangs where it does reads the
header without another program.  Headers only: the pixel data are never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mammoview.io.dicom import has_dicom_preamble, one_line
from mammoview.io.model import ImageInfo, LoadError

#: Longest value shown in full; longer ones are cut with an ellipsis and their length said.
MAX_VALUE_CHARS = 300
#: Elements listed at most (a malformed file with millions of items must not freeze the viewer).
MAX_ROWS = 20_000


@dataclass(frozen=True)
class HeaderRow:
    """One element: ``tag`` "(gggg,eeee)" (empty for sequence items), name, VR, value text, nesting depth."""

    tag: str
    name: str
    vr: str
    value: str
    depth: int = 0


def reading_rows(info: ImageInfo) -> list[tuple[str, str]]:
    """(what, value) pairs: how mammoview read the file (view and why, size, spacing, pixels, warnings)."""
    m = info.meta
    frames = f", {info.frames} frames" if info.frames > 1 else ""
    rows = [
        ("laterality", info.laterality.describe()),
        ("projection", info.projection.describe()),
        ("size", f"{info.rows} rows x {info.columns} columns{frames}"),
        ("spacing", info.spacing_text),
        ("pixels", f"{info.photometric}, {info.chain.bits_stored} bits stored, {info.transfer_syntax}"),
    ]
    if m.view_modifiers or m.implant_present or m.partial_view or m.synthesized:
        notes = "".join(("; breast implant present" * m.implant_present, "; partial view" * m.partial_view,
                         "; synthesized 2-D (Image Type GENERATED_2D)" * m.synthesized))  # fmt: skip
        rows.append(("modifiers", f"{', '.join(m.view_modifiers) or 'none'}{notes}"))
    if info.orientation.row:
        rows.append(("orientation", f"{info.orientation.row}\\{info.orientation.column} ({info.orientation.source})"))
    ident = " | ".join(p for p in (m.patient_id, m.modality, m.study_date) if p)
    if ident:
        rows.append(("header", ident))
    rows.extend(("warning", w) for w in info.warnings)
    return rows


def dicom_rows(path: Path | str, max_rows: int = MAX_ROWS) -> list[HeaderRow]:
    """Every element of a DICOM file's header (file meta first), sequences nested; pixel data left out.

    Raises
    ------
    LoadError
        The file is not DICOM or its header cannot be read.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    try:
        with open(path, "rb") as fp:
            preamble = has_dicom_preamble(fp.read(132))
            fp.seek(0)
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=not preamble)
    except InvalidDicomError as exc:
        raise LoadError(path, f"not DICOM ({one_line(exc)})") from None
    except OSError as exc:
        raise LoadError(path, f"cannot read the file ({exc.strerror or type(exc).__name__})") from None
    except Exception as exc:  # pydicom raises many types for damaged headers
        raise LoadError(path, f"corrupt DICOM header ({type(exc).__name__}: {one_line(exc)})") from None
    if not preamble and len(ds) == 0:
        raise LoadError(path, "not DICOM (no DICM prefix and no elements)")
    rows: list[HeaderRow] = []
    for row in _walk(getattr(ds, "file_meta", None) or [], 0):
        rows.append(row)
    for row in _walk(ds, 0):
        if len(rows) >= max_rows:
            rows.append(HeaderRow("", f"(more elements: only the first {max_rows} are listed)", "", ""))
            break
        rows.append(row)
    return rows


def _walk(ds: Any, depth: int) -> Iterator[HeaderRow]:
    it = iter(ds)
    while True:
        try:
            elem = next(it)
        except StopIteration:
            return
        except Exception as exc:  # an element pydicom cannot parse ends the listing of this level, said
            yield HeaderRow("", f"(the rest cannot be read: {type(exc).__name__}: {one_line(exc)})", "", "", depth)
            return
        tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
        if elem.VR == "SQ":
            items = elem.value or []
            yield HeaderRow(tag, _name(elem), "SQ", f"{len(items)} item{'s' if len(items) != 1 else ''}", depth)
            for k, item in enumerate(items, 1):
                yield HeaderRow("", f"Item {k}", "", "", depth + 1)
                yield from _walk(item, depth + 2)
        else:
            yield HeaderRow(tag, _name(elem), str(elem.VR), _value_text(elem), depth)


def _name(elem: Any) -> str:
    try:
        return str(elem.name)
    except Exception:  # an odd private creator
        return "Unknown"


def _value_text(elem: Any) -> str:
    try:
        value = elem.value
    except Exception as exc:  # e.g. a value the character set cannot decode
        return f"<unreadable: {type(exc).__name__}>"
    if value is None or value == "":
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    try:
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            text = "\\".join(str(v) for v in value)
        else:
            text = str(value)
    except Exception as exc:
        return f"<unreadable: {type(exc).__name__}>"
    text = text.replace("\r", " ").replace("\n", " ")
    if len(text) > MAX_VALUE_CHARS:
        text = f"{text[:MAX_VALUE_CHARS]}… ({len(text)} characters)"
    return text
