"""The reads folder lock: one running viewer claims the folder its reads are saved in (:func:`claim_folder`), so
that no two windows each write their whole read of a study over the other's.

The claim is a QLockFile beside the folder, which Qt takes over once the process that made it is gone, but only a
process of the same computer can tell that: with the app data in a home folder on a network share (hospital
workstations), a viewer that crashed on one computer kept every other computer's viewers from saving, for ever.
So a claim's lock file is refreshed every :data:`HEARTBEAT` while its viewer runs, and one of another computer not
refreshed for :data:`~mammoview.gui.stale_lock.STALE_AFTER`, by the file server's clock, is taken over
(:mod:`~mammoview.gui.stale_lock`).  A claim's lock file is checked at each heartbeat and each save: once it names
another process (this computer slept, and another computer's viewer took the folder over meanwhile), this viewer saves
no more there.

A folder refused (another running viewer holds it) is tried again at each heartbeat (:func:`_try_again`): once that
viewer quits, or its lock goes stale, this viewer takes it and saves there again (:data:`signals`); the reads it
loaded meanwhile are read again at their next save (:meth:`~mammoview.gui.read_store.ReadStore.save`), never written
over what the other viewer saved of them.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import shiboken6
from PySide6 import QtCore

from mammoview.gui.stale_lock import (
    STALE_AFTER,
    lock_age,
    lock_holder,
    lockable,
    not_a_lock,
    note_clock,
    now_where,
    span,
    this_computer,
    took_over,
)

log = logging.getLogger(__name__)

#: seconds between two refreshes of a claim's lock file (its modification time, by the file server's clock)
HEARTBEAT = 60.0


@dataclass
class _Claim:
    """This process's claim of a reads folder."""

    lock: QtCore.QLockFile
    #: who its lock file names (pid, host), as read once it was made: another name there is another viewer's lock
    owner: tuple[int, str]
    #: when its lock file was last made or refreshed (time.time(), which runs on while the computer sleeps): once
    #: :data:`STALE_AFTER` ago, another computer's viewer may have taken the folder over
    refreshed: float = 0.0
    #: which of this process's holds of the folder it is (:func:`holding`)
    term: int = 0


@dataclass(frozen=True)
class _Refusal:
    """Why this process saves no reads in a folder (the PermissionError :func:`claim_folder` raises), and who holds
    it as said there (pid, host; None: not known), so that another viewer taking it is said anew (:func:`_renamed`)."""

    why: str
    holder: tuple[int, str] | None


class _Signals(QtCore.QObject):
    #: a folder refused this process is its own again (its real path); emitted by the heartbeat's thread, so a slot
    #: of a QObject runs in that object's thread (the GUI's)
    regained = QtCore.Signal(str)
    #: a folder refused this process is held by another viewer than the one its refusal named: (its real path, the
    #: refusal that names the viewer holding it now)
    refused = QtCore.Signal(str, str)


signals = _Signals()
_claims: dict[str, _Claim] = {}
_refused: dict[str, _Refusal] = {}  # folders another running viewer was saving to: this process saves none there, now
#: folders refused this process and taken back since: who held each then, as its refusal last named them
_held_before: dict[str, tuple[int, str] | None] = {}
_claims_lock = threading.Lock()
_terms = itertools.count(1)
_heartbeat: tuple[threading.Thread, threading.Event] | None = None


def claim_folder(folder: Path) -> int | None:
    """Make this process the one mammoview that writes reads to ``folder`` (held until it exits; the lock of a viewer
    that died, even by kill -9, is taken over); its hold's term (:func:`holding`), None when no lock file can be made
    there.  PermissionError when another running viewer got it first, or took it over since (:func:`_check`), then and
    until that viewer is gone (:func:`_try_again`): two windows each writing their whole read of a study silently
    dropped each other's marks and decisions."""
    key = os.path.realpath(folder)  # (a folder reached through a link is the same folder: one lock)
    with _claims_lock:
        if key in _claims:
            _check(key)  # (each save: a computer back from sleep may save before its next heartbeat)
        elif key not in _refused:
            folder.parent.mkdir(parents=True, exist_ok=True)
            if (error := _take(key)) is None:
                return _claims[key].term
            if error != QtCore.QLockFile.LockError.LockFailedError:
                return None  # no lock file can be made there (read-only, some network shares): the write says why
            _refused[key] = _Refusal(_refusal(folder, key + ".lock"), lock_holder(key + ".lock"))
            _start_heartbeat()  # (which tries it again)
        if key in _refused:
            raise PermissionError(_refused[key].why)
        return _claims[key].term


def _take(key: str) -> QtCore.QLockFile.LockError | None:
    """Claim folder ``key`` for this process unless another running viewer holds its lock (one gone, or stale, is
    taken over: :func:`took_over`); None when claimed, else why not.  Under ``_claims_lock``."""
    if not lockable(key + ".lock"):  # (refused as one held: the refusal says what is in the way)
        return QtCore.QLockFile.LockError.LockFailedError
    lock = QtCore.QLockFile(key + ".lock")
    lock.setStaleLockTime(0)  # stale when its process is gone, never by age (a viewer stays open for hours)
    if not (lock.tryLock(0) or took_over(lock, key + ".lock")):
        return lock.error()
    _hold(key, lock)
    _remove_leftover_temps(Path(key))
    return None


def _try_again(key: str) -> bool:
    """Whether folder ``key``, refused this process, is its own now: the viewer that held it quit, or is gone (its
    lock taken over as at :func:`claim_folder`); when not, its refusal names the viewer that holds it now
    (:func:`_renamed`).  Under ``_claims_lock``."""
    if _take(key) is not None:
        _renamed(key)
        return False
    _held_before[key] = _refused.pop(key).holder
    log.warning("this viewer saves reads in %s again: the viewer that held it is gone", key)
    return True


def try_again(folder: Path) -> bool:
    """Whether ``folder``, refused this process, is its own now (:func:`_try_again`, as each heartbeat does; said by
    no :data:`signals`: the caller acts on it; its refusal naming another viewer now is, as at a heartbeat)."""
    key = os.path.realpath(folder)
    with _claims_lock:
        if (before := _refused.get(key)) is None:
            return False
        if _try_again(key):
            return True
        now = _refused[key]
    if now is not before:
        signals.refused.emit(key, now.why)
    return False


def _renamed(key: str) -> None:
    """Folder ``key``, refused this process, said to be held by the viewer its lock file names now, when another than
    its refusal named: the first one quit and another took the folder (or took over a lock found gone), and the
    reader was sent to close a window long closed.  Under ``_claims_lock``."""
    holder = lock_holder(key + ".lock")
    if holder is not None and holder != _refused[key].holder:
        _refused[key] = _Refusal(_refusal(Path(key), key + ".lock"), holder)


def held_before(folder: Path) -> tuple[int, str] | None:
    """Who held ``folder`` (pid, host) while this process was refused it, last time it was: the viewer that saved the
    reads this one's may now conflict with (:mod:`~mammoview.gui.read_conflict`); None when not known."""
    with _claims_lock:
        return _held_before.get(os.path.realpath(folder))


def window_named(holder: tuple[int, str] | None) -> str:
    """The viewer of lock holder ``holder`` as the reader is told of it: "another mammoview window (process 4242 on
    ws-mammo-2)", or with no name when not known."""
    if holder is None:
        return "another mammoview window"
    pid, host = holder
    return f"another mammoview window (process {pid} on {host or 'this computer'})"


def holding(folder: Path) -> int | None:
    """The term of this process's hold of ``folder``, None while not held: a number of its own each time the folder is
    claimed, or its lock made again (:func:`_make_again`).  A read loaded under another term than it is saved under
    may have been saved by another viewer meanwhile."""
    with _claims_lock:
        claim = _claims.get(os.path.realpath(folder))
        return claim.term if claim is not None else None


def _refusal(folder: Path, path: str) -> str:
    """Why this window saves no reads in ``folder``, whose lock file ``path`` another viewer holds, and, when that
    viewer is of another computer, how long until its lock is taken over if it is gone; or what is in the way there,
    when no viewer is named (:func:`not_a_lock`)."""
    if (in_the_way := not_a_lock(path)) is not None:
        what, todo = in_the_way
        return (
            f"{path} is {what}, in the way of the lock of the reads folder {folder}: this window saves no reads "
            f"there until it is gone (mammoview never removes what it did not make); {todo}: this window then saves "
            f"reads by itself (it tries every {span(HEARTBEAT)})"
        )
    holder = lock_holder(path)
    host = holder[1] if holder is not None else ""
    said = (
        f"{window_named(holder)} is saving reads in {folder}: this window saves none while it does, so neither "
        "overwrites the other's marks; read in the other one, or close it: this window then saves reads by itself "
        f"(it tries every {span(HEARTBEAT)})"
    )
    if not host or host == this_computer() or (age := lock_age(path)) is None:
        return said  # (this computer's: Qt would have taken it over had its process gone)
    when = f"in {span(STALE_AFTER - age)}" if age < STALE_AFTER else "at its next try"
    return (
        f"{said}. Its lock was last refreshed {span(age)} ago (a running viewer does so every {span(HEARTBEAT)}): "
        f"if that viewer is no longer running (its computer crashed, or lost the network), its lock is taken over "
        f"once it goes {span(STALE_AFTER)} without a refresh: this window does so by itself {when}"
    )


def _hold(key: str, lock: QtCore.QLockFile) -> None:
    """Record ``lock``, just made, as this process's claim of folder ``key``, and keep it refreshed (under
    ``_claims_lock``)."""
    named = lock_holder(key + ".lock") or (QtCore.QCoreApplication.applicationPid(), this_computer())
    _claims[key] = _Claim(lock, named, time.time(), next(_terms))
    note_clock(key + ".lock")  # (the file server stamped it as it was made)
    _start_heartbeat()


def _start_heartbeat() -> None:
    """Start the heartbeat's thread, unless it runs (under ``_claims_lock``)."""
    global _heartbeat
    if _heartbeat is None:
        stop = threading.Event()
        beating = threading.Thread(target=_beat_until, args=(stop,), name="reads folder heartbeat", daemon=True)
        beating.start()
        _heartbeat = (beating, stop)


def _beat_until(stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT):
        _beat()


def _beat() -> None:
    """Refresh the lock file of every claim that still holds (:func:`_check`), and try each folder refused again
    (:func:`_try_again`): one taken, or held by another viewer than its refusal named, is said by :data:`signals`,
    once ``_claims_lock`` is let go (its slots save)."""
    with _claims_lock:
        for key in list(_claims):
            _check(key, refresh=True)
        before = dict(_refused)
        regained = [key for key in list(_refused) if _try_again(key)]
        renamed = [(key, r.why) for key, r in _refused.items() if r is not before[key]]
    for key in regained:
        signals.regained.emit(key)
    for key, why in renamed:
        signals.refused.emit(key, why)


def _check(key: str, refresh: bool = False) -> None:
    """Keep this process's claim of folder ``key`` while its lock file names this process (its modification time
    refreshed when ``refresh``); once it names another (this computer slept, or lost the share, and another
    computer's viewer took the folder over as stale), the claim is given up and the folder refused.  A lock file
    removed by hand is made again, unless it went unrefreshed long enough to be taken over: another computer's
    viewer that took it over and quit removed it too, after saving reads this viewer has not seen.  Under
    ``_claims_lock``."""
    claim, path = _claims[key], key + ".lock"
    holder = lock_holder(path)
    if holder is None:
        if os.path.lexists(path):
            return  # (one that cannot be read just now, a share's hiccup: checked again at the next heartbeat)
        if (away := time.time() - claim.refreshed) <= STALE_AFTER:
            _make_again(key, claim)
            return
        _give_up(key, claim, None, (
            f"the lock of the reads folder {key} was gone when this window came back after {span(away)} without "
            "refreshing it (this computer asleep, or cut from the network): another computer's viewer may have taken "
            "the folder over and saved reads there meanwhile, so this window's reads are no longer saved there, not "
            f"to write over them, until this window takes it again (it tries every {span(HEARTBEAT)}) and adds "
            "them to what was saved meanwhile"))  # fmt: skip
        return
    if holder == claim.owner:
        if refresh:
            try:
                # By the file server's clock, read off a file it stamped, as the lock's age is told (:func:`lock_age`):
                # os.utime's own time is this computer's clock, hours off a share's at times, so a live viewer's
                # lock looked stale (or a dead one's fresh).  Not by writing the lock file, which the server would
                # stamp itself: on Windows QLockFile keeps it open, shared for reading only, so no other handle may
                # write it or replace it (a time stamp is not such a write).
                now = now_where(os.path.dirname(path))
                os.utime(path, (now, now))
                claim.refreshed = time.time()
            except OSError as exc:
                log.warning("could not refresh the reads folder lock %s: %s", path, exc)
        return
    _give_up(key, claim, holder, (
        f"{window_named(holder)} took over the reads folder {key} "
        "while this computer did not refresh its claim (asleep, or cut from the network): this window's reads are no "
        "longer saved there, so neither overwrites the other's marks; read in the other one, or close it: this window "
        "then saves reads again by itself"))  # fmt: skip


def _give_up(key: str, claim: _Claim, holder: tuple[int, str] | None, why: str) -> None:
    """Give up this process's claim of folder ``key``, whose lock file is not its own any more (it names ``holder``),
    and refuse the folder (tried again at each heartbeat), saying ``why``.  Under ``_claims_lock``."""
    del _claims[key]
    shiboken6.invalidate(claim.lock)  # never unlocked: that removes the lock file by its name, another viewer's
    _refused[key] = _Refusal(why, holder)
    log.warning("this viewer saves no more reads in %s: %s", key, why)


def _make_again(key: str, claim: _Claim) -> None:
    """The lock file of this process's claim of ``key`` removed (by hand, or by a clean-up): made again, a new hold
    (another viewer here may have claimed the folder, saved and quit meanwhile), unless another viewer made its own
    first (then the next check refuses the folder)."""
    lock = QtCore.QLockFile(key + ".lock")
    lock.setStaleLockTime(0)
    if lockable(key + ".lock") and lock.tryLock(0):
        shiboken6.invalidate(claim.lock)  # its file is gone: unlocking it would remove the new one
        _claims[key] = _Claim(lock, lock_holder(key + ".lock") or claim.owner, time.time(), next(_terms))
        log.warning("the reads folder lock %s.lock was removed while this viewer held it: made again", key)


def release_claims() -> None:
    """Stop the heartbeat and give back every folder this process claimed (at exit: a lock file left behind would
    keep other computers' viewers from saving there), but one another viewer took over (unlocking removes the lock
    file by its name: the other viewer's)."""
    global _heartbeat
    if not _claims_lock.acquire(timeout=5.0):
        return  # a heartbeat stuck on a share that hangs: the viewer exits all the same
    try:
        beating, _heartbeat = _heartbeat, None
        if beating is not None:
            beating[1].set()
        for key in list(_claims):
            _check(key)  # (taken over since the last heartbeat, this computer back from sleep: not ours to remove)
        for claim in _claims.values():
            claim.lock.unlock()
        _claims.clear()
    finally:
        _claims_lock.release()
    if beating is not None:
        beating[0].join(timeout=5.0)


atexit.register(release_claims)


#: a temporary file of :func:`~mammoview.gui.read_files.atomic_write_json` for a read (``.<32 hex>.json.<random>.tmp``)
#: or its conflict copy (``.<32 hex>.conflict-<UTC time>[-n].json.<random>.tmp``, :mod:`~mammoview.gui.read_conflict`)
_READ_TEMP = re.compile(r"\.[0-9a-f]{32}(\.conflict-\d{8}T\d{6}Z(-\d+)?)?\.json\..+\.tmp")


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
    """Whether this process is refused ``folder`` (another viewer saves reads there): until that viewer is gone."""
    return refusal(folder) is not None


def refusal(folder: Path) -> str | None:
    """Why this process saves no reads in ``folder`` (the PermissionError :func:`claim_folder` raises); None when it
    is not refused there."""
    with _claims_lock:
        refused = _refused.get(os.path.realpath(folder))
        return refused.why if refused is not None else None
