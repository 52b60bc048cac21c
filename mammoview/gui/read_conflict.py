"""A read of a study that the reader's would change, another viewer having saved it after this window read it
(:class:`ReadConflict`, raised by :meth:`~mammoview.gui.read_store.ReadStore.save`): adding the reader's work to it
would take something away from one of the two (:func:`~mammoview.gui.read_merge.rebase_read`).

Neither is lost.  The other viewer's stays the study's read, as it saved it; the reader's stays on screen, not saved,
and is kept at once beside it as a *conflict copy* (:class:`ConflictCopies`): a file of its own, in the read store's
format, so that it can be opened and compared, and so that the reader may go on from the other viewer's read without
losing their own (:mod:`~mammoview.gui.conflict_choice`).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mammoview.gui.read_files import atomic_write_json
from mammoview.gui.read_lock import window_named
from mammoview.gui.read_state import ReadState

log = logging.getLogger(__name__)

#: (not "while this window could not save there": where no lock file can be made, it could, and did)
CONFLICT = "another mammoview window saved a read of this study after this window read it"


@dataclass(frozen=True)
class Conflict:
    """Why the reader's read of a study is not saved: what both changed (``why``), the read the other viewer saved
    (``theirs``), the viewer that held the reads folder meanwhile (``holder``: pid, host; None when not known), and
    where the reader's read is kept (``copy``; None when it could not be written, and ``copy_failed`` says why)."""

    why: str
    theirs: ReadState
    holder: tuple[int, str] | None = None
    copy: Path | None = None
    copy_failed: str = ""

    @property
    def saved_by(self) -> str:
        """Who saved the other read, as the reader was told of the viewer that held the reads folder: "another
        mammoview window (process 4242 on ws-mammo-2)"."""
        return window_named(self.holder)

    @property
    def saved_at(self) -> str:
        """When the other read was saved, in this computer's time (the file holds UTC): " at 2024-05-02 14:31", or ""
        when not known."""
        when = local_time(self.theirs.updated)
        return f" at {when}" if when else ""

    @property
    def kept(self) -> str:
        """Where the reader's read is kept, as the reader is told."""
        if self.copy is None:
            return f"no copy of it could be kept ({self.copy_failed}): it is in this window only"
        return f"a copy of it is kept as {self.copy}"


class ReadConflict(OSError):
    """A read another viewer saved while this one could not save in the folder (or saved there holding no lock), that
    this reader's would change: left as it is, and this reader's not saved, but kept as a conflict copy
    (:attr:`conflict`).  Its message begins with :data:`CONFLICT`."""

    def __init__(self, conflict: Conflict) -> None:
        super().__init__(
            f"{CONFLICT}, and yours would change it ({conflict.why}): its read is kept as it saved it, and yours stays "
            f"in this window, not saved; {conflict.kept}"
        )
        self.conflict = conflict


def local_time(iso: str) -> str:
    """A saved read's ``updated`` time (ISO 8601, UTC) in this computer's time to the minute; "" when there is none."""
    try:
        return _dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""


@dataclass
class ConflictCopies:
    """The conflict copies this window keeps: the reader's read of each study in conflict, beside that study's read."""

    #: each read in conflict (its file) -> the reader's read last kept of it (as JSON, but the time it was written) and
    #: its copy
    _kept: dict[Path, tuple[str, Path]] = field(default_factory=dict)

    def keep(self, read: Path, doc: dict[str, Any]) -> Path:
        """``doc``, the reader's read of the study whose read is file ``read``, in the read store's format, written
        beside it as ``<its stem>.conflict-<UTC time>.json`` (``-2``, ``-3``... after the time where one is there:
        never over a file); where it is.  Not written again when the reader changed nothing since it was last kept;
        else, once written, this window's earlier copy of it is removed: the reader's read as it was before the
        reader changed it (never another viewer's: each writes a file of its own name)."""
        same = json.dumps({**doc, "state": {**doc["state"], "updated": ""}}, sort_keys=True)
        last = self._kept.get(read)
        if last is not None and last[0] == same and last[1].exists():
            return last[1]
        stem = f"{read.stem}.conflict-{_dt.datetime.now(_dt.UTC):%Y%m%dT%H%M%SZ}"
        for n in itertools.count(1):
            copy = read.with_name(f"{stem}{f'-{n}' if n > 1 else ''}.json")
            try:
                atomic_write_json(copy, doc, exclusive=True)
                break
            except FileExistsError:
                continue
        log.warning("read %s in conflict: the reader's kept as %s", read, copy)
        self._kept[read] = (same, copy)
        if last is not None and last[1] != copy:
            try:
                last[1].unlink(missing_ok=True)
            except OSError as exc:  # harmless: an older version of the reader's read, beside the newer one
                log.warning("could not remove %s, superseded by %s: %s", last[1], copy, exc)
        return copy

    def forget(self, read: Path) -> None:
        """The reader's read of file ``read`` is in conflict no more (saved, or left for the one saved there): its last
        copy stays as it is, never removed."""
        self._kept.pop(read, None)
