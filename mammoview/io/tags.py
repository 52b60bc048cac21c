"""Small readers for pydicom element values: multi-valued text, numbers, functional groups.

pydicom returns a str, a number or a ``MultiValue`` depending on VM; these helpers
give one shape so the parsers stay short.  No pydicom import: they only duck-type.
"""

from __future__ import annotations

import math
import re
from typing import Any


def multi_values(value: Any) -> list[str]:
    """A possibly multi-valued element as a list of stripped upper-case strings ([] when absent)."""
    if value is None:
        return []
    items = [value] if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") else list(value)
    return [str(v).strip().upper() for v in items if str(v).strip()]


def text(value: Any) -> str:
    """One upper-case string; multiple values joined with a backslash, as DICOM writes them."""
    return "\\".join(multi_values(value))


def floats(value: Any) -> list[float]:
    """All values as floats ([] when absent, or when one is not a number or not finite: NaN and infinity are no
    rescale, window or spacing)."""
    if value is None or value == "":
        return []
    items = value if hasattr(value, "__iter__") and not isinstance(value, str) else [value]
    try:
        out = [float(v) for v in items]
    except (TypeError, ValueError):
        return []
    return out if all(math.isfinite(v) for v in out) else []


def unusable_number(item: Any, keyword: str) -> bool:
    """Whether ``item`` has ``keyword`` with a value that is not a finite number (to be named in a warning)."""
    value = item.get(keyword)
    return value is not None and value != "" and not floats(value)


def float_or_none(value: Any) -> float | None:
    vals = floats(value)
    return vals[0] if vals else None


def int_or_none(value: Any) -> int | None:
    vals = floats(value)
    return int(vals[0]) if vals else None


_DATETIME = re.compile(r"(\d{8})(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?(?:[+-]\d{4})?")


def dicom_datetime(value: Any) -> str:
    """A DT value (PS3.5 6.2: ``YYYYMMDDHHMMSS.FFFFFF&ZZXX``, components after the hour optional) as
    ``YYYYMMDDHHMMSS.ffffff``, or "" when absent, not a date-time, or without an hour (a date alone orders no two
    images of one exam).  The UTC offset is dropped: the images compared come from one modality."""
    m = _DATETIME.fullmatch(str(value or "").strip())
    if m is None:
        return ""
    date, hour, minute, second, fraction = m.groups()
    return f"{date}{hour}{minute or '00'}{second or '00'}.{(fraction or '').ljust(6, '0')}"


def date_and_time(date: Any, time: Any) -> str:
    """A DA and a TM value (e.g. Acquisition Date (0008,0022) and Time (0008,0032)) as one
    :func:`dicom_datetime`; the ACR-NEMA forms ``YYYY.MM.DD`` and ``HH:MM:SS`` are read too (PS3.5 6.2)."""
    day = str(date or "").strip()
    if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", day):
        day = day.replace(".", "")
    clock = str(time or "").strip().replace(":", "")
    return dicom_datetime(day + clock) if re.fullmatch(r"\d{8}", day) and clock[:1].isdigit() else ""


#: Per-frame functional group macros whose values the pixel chain and the geometry are built from.  The rescale
#: and the window are read per frame (:func:`mammoview.io.chain.frame_chains`); the pixel spacing is frame 1's.
PER_FRAME_CHAIN = {
    "PixelValueTransformationSequence": ("RescaleSlope", "RescaleIntercept"),
    "FrameVOILUTSequence": ("WindowCenter", "WindowWidth"),
    "PixelMeasuresSequence": ("PixelSpacing",),
}


def per_frame_differences(ds: Any) -> list[str]:
    """The attributes of :data:`PER_FRAME_CHAIN` whose per-frame values differ from frame 1's (PS3.3 C.7.6.16)."""
    groups = ds.get("PerFrameFunctionalGroupsSequence") or []
    out: list[str] = []
    for sequence, keywords in PER_FRAME_CHAIN.items():
        for keyword in keywords:
            values = set()
            for group in groups:
                items = group.get(sequence)
                values.add(str(items[0].get(keyword, "")) if items else "")
            if len(values) > 1:
                out.append(keyword)
    return out


def functional_group_items(ds: Any, sequence: str, frame: int = 0) -> list[tuple[str, Any]]:
    """First item of ``sequence`` in frame ``frame``'s (0-based: the first by default), then the shared, functional
    groups (PS3.3 C.7.6.16: a macro is in one or the other).

    Returns ``(where, item)`` pairs, ``where`` naming the group for reports.
    """
    out = []
    for group, where in (
        ("PerFrameFunctionalGroupsSequence", f"per-frame functional groups, frame {frame + 1}"),
        ("SharedFunctionalGroupsSequence", "shared functional groups"),
    ):
        groups = ds.get(group)
        index = frame if group == "PerFrameFunctionalGroupsSequence" else 0
        if groups and index < len(groups):
            items = groups[index].get(sequence)
            if items:
                out.append((where, items[0]))
    return out
