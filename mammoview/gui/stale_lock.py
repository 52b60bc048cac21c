"""A reads folder lock left by a viewer that is gone: who a lock file names (:func:`lock_holder`), what is in the
way where no viewer is named (:func:`not_a_lock`), its age by the file server's clock (:func:`lock_age`,
:func:`now_where`, :func:`note_clock`), and its takeover once another computer's lock has gone :data:`STALE_AFTER`
without a refresh (:func:`took_over`).

Qt takes a lock over once the process that made it is gone, but only a process of the same computer can tell that:
with the app data in a home folder on a network share (hospital workstations), a viewer that crashed on one computer
kept every other computer's viewers from saving, for ever.  The claims of :mod:`~mammoview.gui.read_lock` are kept
fresh by its heartbeat; this module judges the lock of another computer's viewer by that refresh.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import stat
import tempfile
import time

from PySide6 import QtCore

log = logging.getLogger(__name__)

#: seconds after which a lock file of another computer not refreshed (several heartbeats missed) is taken to be
#: left by a viewer that crashed, or whose computer did, and is taken over
STALE_AFTER = 600.0
#: each folder's file server's clock less this computer's, as last read there (a probe, a lock file just made)
_skews: dict[str, float] = {}


def lockable(path: str) -> bool:
    """Whether Qt may open what is at lock path ``path`` to make or read a lock: nothing, a file or a folder.  A pipe
    there (or a socket, a device) was opened to read who holds it, and the open waited for a writer that never came,
    under the lock the GUI thread takes at each save: the viewer froze."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # nothing there (or a link to nowhere): Qt makes the lock, or says why it cannot
        return True
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def lock_holder(path: str) -> tuple[int, str] | None:
    """Who lock file ``path`` names (pid, host); None when it is not there or cannot be read (or is no file to read:
    :func:`lockable`).  Told by the host too, not the pid alone: the same pid on two computers of one share is two
    viewers."""
    if not lockable(path):
        return None
    pid, host, _app = QtCore.QLockFile(path).getLockInfo()  # (0, "", "") when it cannot be read
    return (pid, host) if pid > 0 else None


def not_a_lock(path: str) -> tuple[str, str] | None:
    """What is at lock path ``path`` when it names no viewer, and what the reader is to do about it; None when it is
    a viewer's lock, or nothing is there.  Qt never takes such a thing over, and it is not this viewer's to remove (a
    folder of the reader's, say): refused as held by "process ?", the reader looked for a window that was not open.
    A file may still be another viewer's lock, unreadable here (another user's) or being written: the reader is told
    to check first; one that comes to name a viewer is said anew at the next heartbeat."""
    if lock_holder(path) is not None:
        return None
    check = "if no other mammoview window is open on these reads (it may be its lock), remove it"
    try:
        link = os.readlink(path) if os.path.islink(path) else None
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return (f"a link to {link}, which is not there", "remove the link") if link is not None else None
    except OSError as exc:
        return f"something this window cannot look at ({exc.strerror})", check
    if stat.S_ISDIR(mode):
        what, todo = "a folder, not a lock file", "remove it, or move it away"
    elif not stat.S_ISREG(mode):  # (a pipe, a socket, a device: never opened, a pipe's reader waits for a writer)
        what, todo = "neither a file nor a folder", "remove it"
    else:
        todo = check
        try:
            with open(path, "rb"):
                what = "a file that names no mammoview window (not a lock file, or one left half-written)"
        except OSError as exc:
            what = f"a file this window cannot read ({exc.strerror})"
    return (f"a link to {link}, {what}", "remove the link") if link is not None else (what, todo)


def lock_age(path: str) -> float | None:
    """Seconds since lock file ``path`` was last refreshed, by the clock that wrote its modification time (the file
    server's, :func:`now_where`); None when it is not there or cannot be read."""
    try:
        refreshed = os.stat(path).st_mtime
    except OSError:
        return None
    return now_where(os.path.dirname(path)) - refreshed


def now_where(folder: str) -> float:
    """The time now by the clock that stamps files in ``folder``: on a network share the file server's, which a
    lock file's modification time is; this computer's, 10 minutes off, took a live viewer's lock for one left by a
    viewer that crashed (or never took a dead one's over).  Read off a probe file made there and removed; when none
    can be made (a quota full), this computer's clock set off by the difference last read there (:data:`_skews`)."""
    try:
        handle, probe = tempfile.mkstemp(prefix=".mammoview-clock-", suffix=".probe", dir=folder or ".")
    except OSError:
        return time.time() + _skews.get(folder, 0.0)
    try:
        os.close(handle)
        stamp = os.stat(probe).st_mtime
    except OSError:
        return time.time() + _skews.get(folder, 0.0)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)
    _skews[folder] = stamp - time.time()
    return stamp


def note_clock(path: str) -> None:
    """Note how far the file server's clock is off this computer's, read off file ``path`` it has just stamped (a
    lock file just made), for :func:`now_where` to go by where no probe can be made: the heartbeat stamping a lock by
    this computer's clock, an hour off the share's, made a running viewer's lock look stale to other computers."""
    with contextlib.suppress(OSError):
        _skews[os.path.dirname(path)] = os.stat(path).st_mtime - time.time()


@functools.cache
def this_computer() -> str:
    """This computer's name as QLockFile writes it in a lock file (on Windows its NetBIOS name, which is not always
    :meth:`QSysInfo.machineHostName`), learnt from a lock made in a temporary folder: a lock of this computer is Qt's
    to judge (it knows whether its process runs), never by age."""
    with contextlib.suppress(OSError), tempfile.TemporaryDirectory() as folder:
        probe = QtCore.QLockFile(os.path.join(folder, "probe.lock"))
        host = probe.getLockInfo()[1] if probe.tryLock(0) else ""
        probe.unlock()
        if host:
            return host
    return QtCore.QSysInfo.machineHostName()  # (the same but on Windows)


def _stale_elsewhere(path: str) -> tuple[int, str, float] | None:
    """Who lock file ``path`` names (pid, host) and its age, when it is another computer's and not refreshed for
    :data:`STALE_AFTER`; else None (this computer's lock is Qt's to judge: it knows whether its process runs)."""
    holder, age = lock_holder(path), lock_age(path)
    if holder is None or age is None or not holder[1] or holder[1] == this_computer() or age <= STALE_AFTER:
        return None
    return (*holder, age)


def took_over(lock: QtCore.QLockFile, path: str) -> bool:
    """Whether lock file ``path``, which ``lock`` could not make, was a viewer's of another computer not refreshed
    for :data:`STALE_AFTER` (it crashed, or its computer did: Qt never takes such a lock over), and was removed and
    made as ``lock``.  Guarded as Qt guards its own take-overs, by ``<path>.rmlock``: two viewers that both find it
    stale never both take it."""
    if lock.error() != QtCore.QLockFile.LockError.LockFailedError or (stale := _stale_elsewhere(path)) is None:
        return False
    guard = QtCore.QLockFile(path + ".rmlock")
    if not guard.tryLock(0):
        return False  # another viewer is taking it over
    try:
        again = _stale_elsewhere(path)  # (taken over, and so refreshed, since: not stale any more)
        if again is None or again[:2] != stale[:2] or not lock.removeStaleLockFile() or not lock.tryLock(0):
            return False
    finally:
        guard.unlock()
    pid, host, age = stale
    log.warning("took over the reads folder lock %s of process %s on %s, not refreshed for %s: its viewer is gone",
                path, pid, host, span(age))  # fmt: skip
    return True


def span(seconds: float) -> str:
    """``seconds`` as a reader takes it in at a glance: "45 seconds", "8 minutes", "2.5 hours" (a lock's age, or the
    time until it is taken over, in a refusal a reader acts on: 3187 seconds says less than 53 minutes)."""
    seconds = max(seconds, 0.0)
    if seconds >= 90 * 60:
        return f"{seconds / 3600:.1f} hours"
    n, unit = (round(seconds), "second") if seconds < 90 else (round(seconds / 60), "minute")
    return f"{n} {unit}{'' if n == 1 else 's'}"
