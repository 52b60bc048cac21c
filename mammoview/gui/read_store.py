"""Where the reader's reads are saved: :class:`ReadStore`, one JSON file per study (one running viewer writes there:
:func:`mammoview.gui.read_lock.claim_folder`).

Saved as JSON in the application data folder (``$MAMMOVIEW_APP_DATA``, else Qt's
AppDataLocation) under ``reads/<sha256 of the study's read key>.json``
(:func:`mammoview.io.study.read_key`: one Study Instance UID written into two women's exams
gives each woman her own read, whatever is opened with her exam): the file name must not
carry the patient's name or ID (CBIS-DDSM keys *are* patient IDs), so only a hash of
the key is written, in the name and inside, and the woman whose read it is by a keyed hash
of her Patient ID (:func:`mammoview.gui.pseudonym.patient_pseudonym`).  Every save is a temporary file, fsync and
``os.replace``, so a crash loses at most the action being saved and never leaves a
half-written file.  A damaged file is set aside beside itself, never fatal, but by a window that holds the folder only
(one refused it leaves the file to the one that holds it); one that could not be read for an I/O error (a failing
disk, a share gone stale) is left as it is, and the study's next save reads it again and adds to it.  (The files
themselves, their names, writes and setting aside: :mod:`~mammoview.gui.read_files`.)
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mammoview.gui.pseudonym import app_data_dir, patient_pseudonym
from mammoview.gui.read_conflict import Conflict, ConflictCopies, ReadConflict
from mammoview.gui.read_files import (
    DAMAGED,
    atomic_write_json,
    held_elsewhere,
    private_folder,
    set_aside,
    study_hash,
)
from mammoview.gui.read_lock import claim_folder, held_before, holding
from mammoview.gui.read_merge import merge_reads, rebase_read
from mammoview.gui.read_parts import SeveralReads, as_exam_read, of_part
from mammoview.gui.read_state import ReadState, _object, now_iso
from mammoview.io.study import ReadKey

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


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

    An exam joined from several Study Instance UIDs with no read of its own finds the read saved for one of its
    parts, opened alone before the other part's files came, or for a join of some of them (A + B, before C came;
    A's read is then the start of that one's, not another); that file is left as it is (the part opened alone again
    shows it), the exam's saves go to its own.  It comes as a start (marks, measurements, the unaided
    decision), never as a first read done: that covered the part's views only, and would unlock the CAD over the
    others (:func:`as_exam_read`).  Reads saved for two or more parts are none of them shown: each was
    made on its part's views only, and taking the most recent for the exam's read would hide the other's marks and
    decision; the reader is told (:attr:`problem`), the exam reads as not read but not as never read
    (:meth:`unreadable`), every file is left as it is, and the exam's first save starts its own read.

    A read loaded, or last saved, before this process's present hold of the folder (another viewer held it:
    :mod:`~mammoview.gui.read_lock`), or saved where no lock file can be made (the folder never held: any viewer may
    save there), is read again at its next save: one another viewer saved meanwhile is added to, never written over
    (:meth:`_onto`); where that would take anything away from it or from the reader's, the reader's is kept beside
    it, as a conflict copy (:mod:`~mammoview.gui.read_conflict`), and not saved.
    """

    folder: Path = field(default_factory=lambda: app_data_dir() / "reads")
    #: what the last :meth:`load` could not read, and where the file was set aside, or what the last :meth:`save`
    #: found damaged where it was to add to it (None: nothing to say)
    problem: str | None = field(default=None, init=False, repr=False, compare=False)
    #: studies whose saved read could not be read for an I/O error, or is damaged and could not be set aside (or was
    #: left to the viewer that held the folder), each with what befell it then, said when it is read again: never
    #: written over (:meth:`save` reads it again first, and adds to it or moves it)
    _held: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: studies whose read was loaded from its legacy file (the key, that file): removed after its next save
    _superseded: dict[str, Path] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: each study's read as last loaded or saved here (empty: none), and the term of this process's hold of the folder
    #: then (:func:`~mammoview.gui.read_lock.holding`): saved under another, it is read again first (:meth:`_onto`)
    _seen: dict[str, tuple[ReadState, int | None]] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: whether the last :meth:`save` added to a read another viewer saved meanwhile (:meth:`_onto`)
    kept_theirs: bool = field(default=False, init=False, repr=False, compare=False)
    #: studies whose last save was a :class:`~.read_conflict.ReadConflict`, each with its conflict, until one works
    conflicts: dict[str, Conflict] = field(default_factory=dict, init=False, repr=False, compare=False)
    _copies: ConflictCopies = field(default_factory=ConflictCopies, init=False, repr=False, compare=False)

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
        """The key whose file holds the saved read of ``key``: its own, else (none yet) its legacy one, else that of
        the one part of a joined exam, or join of some of its parts, that has one (:meth:`_in_parts`); None if none.
        :class:`SeveralReads` when several have."""
        found = next((k for k in (key.key, key.legacy) if k is not None and self.path_for(k).exists()), None)
        if found is not None or not key.parts:
            return found
        in_parts = self._in_parts(key)
        if len(in_parts) > 1:
            raise SeveralReads(
                f"This exam was opened as separate studies before all its files were there, and a read was saved for "
                f"{len(in_parts)} of its parts: none is shown, as each was made on its part's views only. They are "
                "kept as they are (each shows when its part's files are opened alone); what you do now is saved as "
                "this exam's read."
            )
        return in_parts[0] if in_parts else None

    def _in_parts(self, key: ReadKey) -> list[str]:
        """The keys of the reads saved for parts of joined exam ``key`` (:attr:`ReadKey.parts`) and for joins of some
        of them (:attr:`ReadKey.joins`), but those whose parts another one's cover: the read of A + B began as A's
        (:meth:`load`), so for A + B + C it is the one read of A and B, not a second read beside A's."""
        covering: dict[str, frozenset[str]] = {}  # a read found -> the parts its views came from
        for part in key.parts:
            if (k := self._where(part)) is not None and not (k == part.legacy and self._theirs(part, k)):
                covering[k] = frozenset({part.key})
        for join in key.joins:
            if self.path_for(join.key).exists():
                covering[join.key] = frozenset(p.key for p in join.parts)
        return [k for k, parts in covering.items() if not any(parts < other for other in covering.values())]

    def _theirs(self, key: ReadKey, saved_as: str) -> bool:
        """Whether the read saved under ``saved_as`` for ``key`` is recorded as another woman's (:class:`OtherPatient`:
        neither shown for ``key`` nor one of the reads of its joined exam); one that cannot be read may be hers."""
        try:
            self._of(key, saved_as)
        except OtherPatient:
            return True
        except (OSError, *DAMAGED):
            return False
        return False

    def _of(self, key: ReadKey, saved_as: str) -> ReadState:
        """The read saved under ``saved_as`` for ``key`` (:meth:`_read`), its patient checked in a legacy file only:
        her own file's name, and a part's or a join's of her joined exam, is her Patient ID's (a mismatch there is
        the pseudonym secret lost or replaced, which must not hide every read)."""
        hers = saved_as in (key.key, *(part.key for part in (*key.parts, *key.joins)))
        return self._read(saved_as, None if hers else key.patient_id)

    def load(self, study: str | ReadKey) -> ReadState:
        """The saved state, or a fresh one; a damaged file is set aside (renamed), never fatal, unless another viewer
        holds the folder (:func:`held_elsewhere`: left to it); one that could not be read for an I/O error is left as
        it is.  Either is read again before the study's next save (:meth:`save`)."""
        key = _read_key(study)
        term = holding(self.folder)  # (before reading: taken while it reads, another viewer may have saved after)
        state = self._load(key)
        self._seen[key.key] = (state, term)
        return state

    def _load(self, key: ReadKey) -> ReadState:
        self.problem = None
        self._superseded.pop(key.key, None)
        saved_as = key.key  # (an error looking for its file, e.g. a share gone stale: taken as its own, unreadable)
        try:
            if (found := self._where(key)) is None:
                return ReadState()
            saved_as = found
            state = self._of(key, saved_as)
            if of_part(key, saved_as) and state.first_read_done:
                self.problem = (
                    "A first read was saved when part of this exam was opened alone, before its other views' "
                    "files came: it covered that part's views only. Its marks and measurements are shown, but "
                    "the first read of the whole exam is not done: CAD stays hidden until you mark it done."
                )
            state = as_exam_read(key, saved_as, state)
        except FileNotFoundError:
            return ReadState()
        except (OSError, *DAMAGED) as exc:
            path = self.path_for(saved_as)
            if isinstance(exc, OtherPatient):  # (a legacy file only: :meth:`_of`)
                log.info("read state %s is another patient's: not %s's, left as it is", path, key.key)
                return ReadState()  # another woman's exam of the same Study Instance UID: hers, not this one's
            if isinstance(exc, SeveralReads):  # (no file of its own yet: nothing to set aside)
                log.warning("reads of several parts of joined exam %s; none shown, all left as they are", path)
                self.problem = str(exc)
                return ReadState()
            if isinstance(exc, OSError):  # a failing disk, a share gone stale, no permission: the file may be good
                log.warning("read state %s could not be read (%s); left as it is", path, exc)
                self._held[key.key] = "could not be read when the study was opened"
                self.problem = (
                    f"Your saved read of this study could not be read just now ({exc}); it is left as it is and not "
                    "written over. The study shows as not read: what you do now is kept, and added to your saved "
                    "read once it can be read again."
                )
                return ReadState()
            if held_elsewhere(self.folder):
                log.warning("read state %s is damaged (%s); left as it is: this viewer does not hold %s", path, exc,
                            self.folder)  # fmt: skip
                self._held[key.key] = "looked damaged when the study was opened, left to the window holding the folder"
                self.problem = (
                    f"Your saved read of this study looks damaged ({exc}). It is left as it is: another mammoview "
                    "window holds the reads folder, and this window moves nothing there. The study shows as not "
                    "read; once this window holds the folder, it reads the file again before it saves this study's "
                    "read."
                )
                return ReadState()
            log.warning("read state %s is damaged (%s); set aside", path, exc)
            try:
                kept = f"it is kept as {set_aside(path)}"
                self._held.pop(key.key, None)
            except OSError as move_exc:
                kept = f"it could not be set aside ({move_exc}) and is still {path}, which is not written over"
                if saved_as == key.key:  # (a legacy file never is: this study's saves go to its own)
                    self._held[key.key] = "was damaged when the study was opened, and could not be set aside"
                    kept += ": what you do now is saved once it can be moved"
            self.problem = (
                f"Your saved read of this study could not be read ({exc}); {kept}. The study shows as not read."
            )
            return ReadState()
        self._held.pop(key.key, None)  # read and shown: its saves hold it
        if saved_as == key.legacy:  # (a part's read is its own when the part is opened alone: never removed)
            self._superseded[key.key] = self.path_for(saved_as)
        return state

    def peek(self, study: str | ReadKey) -> ReadState | None:
        """The saved state without side effects (a worklist's status column); None if none or unreadable."""
        key = _read_key(study)
        try:
            if (saved_as := self._where(key)) is None:
                return None
            return as_exam_read(key, saved_as, self._of(key, saved_as))
        except (OSError, *DAMAGED):
            return None

    def unreadable(self, study: str | ReadKey) -> bool:
        """Whether a saved read of ``study`` is there that cannot be read (damaged, a newer mammoview's, reads of
        several parts of a joined exam): not the same as none (a read log must not count it as not read)."""
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
        """Write ``state`` atomically; returns it with ``updated`` set (and added to the saved read, when that could
        not be read when the study was opened and reads now: :func:`~mammoview.gui.read_merge.merge_reads`; or to
        the read another viewer saved since it was read here, :meth:`_onto`, :class:`ReadConflict` when it would
        change that read)."""
        key = _read_key(study)
        term = claim_folder(self.folder)
        private_folder(self.folder)
        path = self.path_for(key.key)
        held = key.key in self._held
        self.problem, self.kept_theirs = None, False
        # Loaded under another hold, or saved under none (no lock file can be made there: nothing tells this window
        # that no other saved meanwhile), another viewer may have saved the read since: rebased onto it, even when
        # held (not the reader's alone).  Its own last save is what it began from: a lone window is no conflict.
        if (seen := self._seen.get(key.key)) is not None and (seen[1] != term or term is None):
            state = self._onto(key, seen[0], state)
        elif held and (earlier := self._read_again(key)) is not None:  # the reader's too: added to, never replaced
            state = merge_reads(earlier, state)
        state = replace(state, updated=now_iso())
        atomic_write_json(path, self._document(key, state))
        self._seen[key.key] = (state, term)
        self.forget_conflict(key)
        if held:
            self._held.pop(key.key, None)
        if (old := self._superseded.pop(key.key, None)) is not None:  # the same read, now in its own file
            try:
                old.unlink(missing_ok=True)
            except OSError as exc:  # harmless: a study's own file is always read first
                log.warning("could not remove %s, superseded by %s: %s", old, path, exc)
        return state

    def _document(self, key: ReadKey, state: ReadState) -> dict[str, Any]:
        """The file of ``key``'s read ``state``, as :meth:`_read` reads it."""
        doc: dict[str, Any] = {"format": FORMAT_VERSION, "study_sha256": study_hash(key.key)}
        if key.patient_id:
            doc["patient"] = patient_pseudonym(key.patient_id)
        return {**doc, "state": state.to_json()}

    def keep_conflict_copy(self, study: str | ReadKey, state: ReadState) -> Path:
        """``state``, the reader's read of ``study`` in conflict (:attr:`conflicts`), kept as its conflict copy
        (:meth:`~.read_conflict.ConflictCopies.keep`): where it is.  PermissionError when another viewer holds the
        reads folder now (this window writes nothing there then), OSError when it cannot be written."""
        key = _read_key(study)
        claim_folder(self.folder)
        return self._copies.keep(self.path_for(key.key), self._document(key, replace(state, updated=now_iso())))

    def forget_conflict(self, study: str | ReadKey) -> None:
        """``study``'s read is in conflict no more: saved, or the reader went on from the read saved there (its
        conflict copy then stays as it is)."""
        key = _read_key(study)
        self.conflicts.pop(key.key, None)
        self._copies.forget(self.path_for(key.key))

    def _onto(self, key: ReadKey, seen: ReadState, state: ReadState) -> ReadState:
        """``state``, begun from ``seen`` (the read of ``key`` as last loaded or saved here) before this process's
        present hold of the folder, or with none held: another viewer may have saved that read meanwhile (this one
        was refused the folder, slept past a takeover, or could make no lock file), and writing ``state`` over it lost
        that viewer's work.  Unchanged since,
        or none there: ``state``.  Else what ``state`` changed added to it (:func:`~.read_merge.rebase_read`), or
        :class:`ReadConflict` when that would take anything away from it, or from the reader's."""
        theirs = self._read_again(key)
        if theirs is None or theirs.to_json() == seen.to_json():  # (as written: its reading time rounded)
            return state
        try:
            merged = rebase_read(seen, state, theirs)
        except ValueError as exc:
            log.warning("read %s saved meanwhile by another viewer, not written over: %s", self.path_for(key.key), exc)
            conflict = Conflict(str(exc), theirs, held_before(self.folder))
            try:
                conflict = replace(conflict, copy=self.keep_conflict_copy(key, state))
            except (OSError, ValueError) as copy_exc:  # (a disk full; a number json refuses, as a save would)
                conflict = replace(conflict, copy_failed=str(copy_exc))
            self.conflicts[key.key] = conflict
            raise ReadConflict(conflict) from exc
        self.kept_theirs = True
        return merged

    def _read_again(self, key: ReadKey) -> ReadState | None:
        """The saved read of ``key`` read again before a save (:meth:`load` could not read it, or another viewer may
        have saved it since: :meth:`_onto`): the read to add the save to, or None (none there now, another woman's,
        or damaged and now set aside).  OSError, saying that it is not written over, when it cannot be read, or is
        damaged and cannot be set aside.  What is said of it says why it was read again (:data:`_AT_SAVE`)."""
        when = self._held.get(key.key, _AT_SAVE)
        since = "What you did since" if key.key in self._held else "Your read as this window shows it"
        saved_as = key.key
        try:
            if (found := self._where(key)) is None:
                return None
            saved_as = found
            earlier = as_exam_read(key, saved_as, self._of(key, saved_as))
        except (FileNotFoundError, OtherPatient, SeveralReads):
            return None
        except DAMAGED as exc:
            path = self.path_for(saved_as)
            try:
                aside = set_aside(path)
                log.warning("read state %s is damaged (%s); set aside as %s", path, exc, aside)
                self.problem = (
                    f"Your saved read, which {when}, is damaged ({exc}); it is kept as {aside}. {since} is saved as "
                    "the study's read."
                )
            except FileNotFoundError:
                pass  # gone meanwhile (moved by hand)
            except OSError as move_exc:
                if saved_as == key.key:  # (a legacy file is not written over: the save goes to the study's own)
                    raise OSError(
                        f"your saved read of this study, {path}, which {when}, is damaged ({exc}) and could not be "
                        f"set aside ({move_exc}): it is not written over"
                    ) from move_exc
                log.warning("could not set aside %s, damaged (%s): %s", path, exc, move_exc)
            return None
        except OSError as exc:
            raise OSError(f"your saved read of this study, {self.path_for(saved_as)}, which {when}, cannot be read "
                          f"now ({exc}): it is not written over, and what you do now is kept until it can be"
                          ) from exc  # fmt: skip
        if saved_as == key.legacy:  # (as at :meth:`load`: a part's read stays, its part opened alone shows it)
            self._superseded[key.key] = self.path_for(saved_as)
        return earlier


#: why a read is read again before a save when :meth:`ReadStore.load` read it well (:meth:`ReadStore._onto`): said
#: instead of "could not be read when the study was opened", which sent the reader looking for a failure never there
_AT_SAVE = (
    "was read again at this save, as another mammoview window may have saved it while this window did not hold the "
    "reads folder"
)
