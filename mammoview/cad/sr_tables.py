"""highdicom's table of DICOM attributes, read without holding the viewer still.

The first SR of a session makes highdicom read ``module_attribute_map.json`` (22 MB) with one ``json.loads``: one C
call that holds the GIL ~0.25-0.5 s, so the viewer's GUI thread stood still that long although the SR is built in a
worker thread (measured by ``benchmarks/bench_export.py``). :func:`preload` reads the table first, one top-level
member (one DICOM module, at most ~0.7 MB) per ``raw_decode`` call, so that the GIL changes hands between them, and
the table lands in highdicom's own cache (``functools.lru_cache``): highdicom never parses it again.

The rest of that stall was the garbage collector: the table's ~200 000 lists and dicts set off full collections,
each walking every object of the viewer with the GIL held, during the read and now and then ever after.  So the read
runs with the collector paused, and each module is stored so that the collector never tracks it
(:func:`untracked`): its lists as tuples (highdicom only iterates them, indexes them and tests membership), its
attribute dicts made once their values are untracked.

This reaches into highdicom's private ``_standard_utils`` (0.28); where that is gone or changed, :func:`preload`
does nothing and highdicom reads the table itself, as before (a longer stall, the same SR).
"""

from __future__ import annotations

import gc
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s*")
_DECODER = json.JSONDecoder()
_lock = threading.Lock()
_done = False


def piecewise_loads(text: str, member: Callable[[Any], Any] = lambda value: value) -> Any:
    """``json.loads(text)``, a top-level object decoded one member at a time (each a short C call) and each member's
    value passed through ``member``; text of any other shape, or that does not parse so, goes to ``json.loads``
    whole (which raises what it raises; ``member`` is then not applied)."""
    try:
        return _members(text, member)
    except (ValueError, IndexError):
        return json.loads(text)


def _skip(text: str, i: int) -> int:
    return _WHITESPACE.match(text, i).end()  # type: ignore[union-attr]  # (\s* matches everywhere)


def _members(text: str, member: Callable[[Any], Any]) -> dict[str, Any]:
    i = _skip(text, 0)
    if text[i] != "{":
        raise ValueError("not an object")
    out: dict[str, Any] = {}
    i = _skip(text, i + 1)
    if text[i] == "}":
        return _end(text, i + 1, out)
    while True:
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if not isinstance(key, str) or text[i] != ":":
            raise ValueError("not a member")
        value, i = _DECODER.raw_decode(text, _skip(text, i + 1))
        out[key] = member(value)
        i = _skip(text, i)
        if text[i] == "}":
            return _end(text, i + 1, out)
        if text[i] != ",":
            raise ValueError("no comma")
        i = _skip(text, i + 1)


def _end(text: str, i: int, out: dict[str, Any]) -> dict[str, Any]:
    if _skip(text, i) != len(text):
        raise ValueError("extra data")
    return out


def frozen(value: Any) -> Any:
    """``value`` (decoded JSON) with every list made a tuple."""
    if isinstance(value, list):
        return tuple(frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: frozen(v) for k, v in value.items()}
    return value


def untracked(value: Any) -> Any:
    """:func:`frozen` ``value``, made so that the garbage collector tracks as little of it as it can: a tuple of
    strings is untracked by the next young collection, run here (explicit collections run while the collector is
    paused too), and a dict made of untracked values is never tracked.  A tuple of dicts stays tracked (one per
    module: 436), its walk stopping at each dict."""
    value = frozen(value)
    gc.collect(0)  # (the innermost tuples: what this value made since the last one)
    if isinstance(value, tuple):
        return tuple({k: v for k, v in item.items()} if isinstance(item, dict) else item for item in value)
    return value


class _Json:
    """The ``json`` module, with ``loads`` reading a table as :func:`preload` does."""

    @staticmethod
    def loads(text: str) -> Any:
        return piecewise_loads(text, untracked)

    def __getattr__(self, name: str) -> Any:
        return getattr(json, name)


def preload() -> None:
    """Fill highdicom's cached table of module attributes piecewise (once a process; later calls return at once)."""
    global _done
    with _lock:
        if _done:
            return
        _done = True
        try:
            from highdicom import _standard_utils as standard

            loader, names = standard.get_module_attribute_map, vars(standard)
            if getattr(loader, "cache_info", None) is None or names.get("json") is not json:
                return  # (not the highdicom this was written for: it reads the table itself)
            collecting = gc.isenabled()
            gc.disable()  # (a full collection would walk the growing table, and every object of the viewer)
            names["json"] = _Json()  # (the module's global, which its loaders call)
            try:
                loader()
            finally:
                names["json"] = json
                if collecting:
                    gc.enable()
        except Exception as exc:  # (highdicom reads the table itself when the SR is built)
            log.debug("highdicom's attribute table not preloaded: %s", exc)
