"""The reads folder lock on a home folder shared by several computers: QLockFile tells a dead process only on its own
computer, so a claim is kept fresh by a heartbeat, and a viewer whose lock another computer's viewer took over (this
one slept past it) saves no more there."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6 import QtCore, QtWidgets

from mammoview.gui import dialogs, read_lock, stale_lock
from mammoview.gui.read_lock import claim_folder, saving_refused
from mammoview.gui.read_state import MarkKind, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.io.model import View
from tests.gui.test_worklist import batch

OTHER_HOST = "ws-radiology-7"


def foreign_lock(path: Path, age: float = 0.0, pid: int = 4242, host: str = OTHER_HOST) -> None:
    """Write lock file ``path`` as the viewer (process ``pid``) of computer ``host`` would, last refreshed ``age``
    seconds ago: Qt's format, learnt from a lock QLockFile makes here (pid, app name, host name, machine id, boot id
    lines), with the lines that name the computer changed (Qt tells a computer by its machine id where there is
    one: with this one's, the lock would be this computer's, and removed as its process's pid runs nowhere)."""
    probe = QtCore.QLockFile(str(path.with_name("probe.lock")))
    assert probe.tryLock(0)
    lines = path.with_name("probe.lock").read_text().splitlines()
    probe.unlock()
    assert lines[0] == str(os.getpid()) and lines[2] == QtCore.QSysInfo.machineHostName(), lines
    lines[0], lines[2] = str(pid), host
    lines[3:] = ["0f" * 16, "6b3f1c52-0000-4000-8000-0123456789ab"]  # another machine id, another boot
    path.write_text("\n".join(lines) + "\n")
    then = time.time() - age
    os.utime(path, (then, then))


def taken_over(folder: Path, **kw: object) -> Path:
    """What another computer's viewer leaves when it takes ``folder`` over as stale: this process's lock file
    removed, its own in its place."""
    lock = Path(f"{os.path.realpath(folder)}.lock")
    lock.unlink()
    foreign_lock(lock, **kw)  # type: ignore[arg-type]
    return lock


def another_viewer_takes_the_folder(lock: Path, scratch: Path) -> None:
    """The viewer holding lock file ``lock`` quits and another computer's (process 5151 on ws-mammo-2) takes the
    folder at once: the lock replaced in one step, so that no heartbeat of this process finds it gone between."""
    scratch.joinpath("next").mkdir()
    foreign_lock(scratch / "next" / "reads.lock", pid=5151, host="ws-mammo-2")
    os.replace(scratch / "next" / "reads.lock", lock)


def test_the_heartbeat_keeps_the_lock_file_fresh_and_stops_when_the_claims_are_given_back(tmp_path, monkeypatch):
    monkeypatch.setattr(read_lock, "HEARTBEAT", 0.05)
    folder = tmp_path / "reads"
    claim_folder(folder)
    lock = Path(f"{folder}.lock")
    long_ago = time.time() - 3600
    os.utime(lock, (long_ago, long_ago))
    deadline = time.monotonic() + 10
    while lock.stat().st_mtime < long_ago + 1800 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lock.stat().st_mtime > long_ago + 1800, "the lock file was not refreshed: it would look stale"
    read_lock.release_claims()
    assert not lock.exists()  # given back: no other computer waits for it to go stale
    assert not [t for t in threading.enumerate() if t.name == "reads folder heartbeat"], "the heartbeat still runs"


def test_a_folder_taken_over_by_another_computer_is_refused_at_the_next_heartbeat(tmp_path):
    folder = tmp_path / "reads"
    claim_folder(folder)
    lock = taken_over(folder)
    theirs = lock.read_text()
    read_lock._beat()
    assert saving_refused(folder)
    with pytest.raises(PermissionError) as refused:
        claim_folder(folder)
    said = str(refused.value)
    assert "process 4242 on ws-radiology-7" in said and "took over" in said and "no longer saved" in said, said
    read_lock.release_claims()  # (as at exit) the lock file is the other viewer's: never removed nor refreshed
    assert lock.read_text() == theirs and time.time() - lock.stat().st_mtime < 60


def test_quitting_right_after_a_takeover_leaves_the_other_viewers_lock_file(tmp_path):
    """This computer woke and the reader quit before the next heartbeat: giving the claim back unlocked the QLockFile,
    which removes the lock file by its name, the other computer's viewer's now, so a third viewer could claim the
    folder beside it."""
    folder = tmp_path / "reads"
    claim_folder(folder)
    lock = taken_over(folder)
    theirs = lock.read_text()
    read_lock.release_claims()  # (at exit) no heartbeat has seen the takeover
    assert lock.exists() and lock.read_text() == theirs


def test_a_save_right_after_a_takeover_is_refused_without_waiting_for_the_heartbeat(tmp_path):
    store = ReadStore(tmp_path / "reads")
    store.save("S", store.load("S"))
    taken_over(store.folder)
    with pytest.raises(PermissionError, match="ws-radiology-7"):
        store.save("S", store.load("S"))


def test_a_takeover_keeps_the_readers_work_on_screen_and_says_read_not_saved(main_window, load, tmp_path,
                                                                            monkeypatch):  # fmt: skip
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    w.cad.reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)  # saved: the folder is this viewer's
    taken_over(w.cad.reader.store.folder)
    read_lock._beat()
    w.cad.reader.add(View.RCC, "RCC.dcm", 30.0, 40.0, MarkKind.MASS)
    assert [m.view for m in w.cad.reader.state.marks] == [View.LCC, View.RCC]  # nothing lost on screen
    title, text = w.last_message
    assert title == "Read not saved" and "ws-radiology-7" in text and "no longer saved" in text, text
    label = w.statusBar().findChild(QtWidgets.QLabel, "reads_refused")  # lasting, as for a second window
    assert label is not None and label.text() == "Reads not saved" and "ws-radiology-7" in label.toolTip()
    assert w.reads_refused == text
    saved = ReadStore(w.cad.reader.store.folder).peek(w.cad.reader.read_key)
    assert saved is not None and [m.view for m in saved.marks] == [View.LCC]  # the other viewer's folder untouched
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or True)
    w.close()  # the quit question says the read is saved once the other viewer is gone
    assert asked and "this window saves it once the other one is closed" in asked[0], asked


def test_a_lock_file_removed_by_hand_is_made_again_at_the_next_heartbeat(tmp_path):
    folder = tmp_path / "reads"
    claim_folder(folder)
    lock = Path(f"{folder}.lock")
    lock.unlink()
    read_lock._beat()
    pid, host, _app = QtCore.QLockFile(str(lock)).getLockInfo()
    assert (pid, host) == (os.getpid(), QtCore.QSysInfo.machineHostName())  # another viewer cannot claim it now
    claim_folder(folder)  # still this process's
    assert not saving_refused(folder)


def test_a_lock_gone_after_this_viewer_went_unrefreshed_long_enough_to_be_taken_over_is_not_made_again(
    tmp_path, monkeypatch
):
    """This computer slept past STALE_AFTER; meanwhile another computer's viewer took the folder over, saved its reads
    and quit, removing its lock file.  Found gone, as if removed by hand, the lock was made again, and this viewer's
    next save wrote the read it had loaded before over the one the other viewer saved since."""
    store = ReadStore(tmp_path / "reads")
    store.save("S", ReadState(first_read_done=True))
    lock = Path(f"{os.path.realpath(store.folder)}.lock")
    lock.unlink()  # the other viewer's, removed as it quit
    theirs = store.path_for("S").read_bytes()  # (what it saved in the folder meanwhile)
    woke = time.time() + read_lock.STALE_AFTER + 60
    monkeypatch.setattr(read_lock, "time", SimpleNamespace(time=lambda: woke))
    with pytest.raises(PermissionError) as refused:
        store.save("S", ReadState())
    said = str(refused.value)
    assert "11 minutes" in said and "may have taken" in said and "no longer saved" in said, said
    assert store.path_for("S").read_bytes() == theirs and not lock.exists() and saving_refused(store.folder)


# -- a lock left on the share by another computer's viewer --------------------------------------------------------
@pytest.mark.parametrize("stale_after, age", [(read_lock.STALE_AFTER, 3600.0), (5.0, 10.0)])
def test_a_lock_another_computer_left_unrefreshed_is_taken_over(tmp_path, caplog, monkeypatch, stale_after, age):
    monkeypatch.setattr(stale_lock, "STALE_AFTER", stale_after)
    store = ReadStore(tmp_path / "reads")
    lock = Path(f"{store.folder}.lock")
    foreign_lock(lock, age=age)
    store.save("S", ReadState(first_read_done=True))  # saved: the folder is this viewer's now
    assert not saving_refused(store.folder) and store.load("S").first_read_done
    pid, host, _app = QtCore.QLockFile(str(lock)).getLockInfo()
    assert (pid, host) == (os.getpid(), QtCore.QSysInfo.machineHostName())
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("took over" in m and "process 4242 on ws-radiology-7" in m for m in said), said


def test_a_fresh_lock_of_another_computer_is_refused_saying_when_it_would_be_taken_over(tmp_path):
    folder = tmp_path / "reads"
    lock = Path(f"{folder}.lock")
    foreign_lock(lock, age=120)
    theirs = lock.read_text()
    with pytest.raises(PermissionError) as refused:
        claim_folder(folder)
    said = str(refused.value)
    assert "another mammoview window (process 4242 on ws-radiology-7)" in said, said
    assert "last refreshed 2 minutes ago" in said and "goes 10 minutes without a refresh" in said, said
    assert "this window does so by itself in 8 minutes" in said, said
    assert lock.read_text() == theirs and saving_refused(folder)


@pytest.mark.parametrize("skew", [3600.0, -3600.0])
def test_a_locks_age_is_told_by_the_shares_clock_not_this_computers(tmp_path, monkeypatch, skew):
    """A lock file's modification time is the file server's clock: with this computer's clock an hour fast, a live
    viewer's lock refreshed 30 seconds ago looked an hour old and was taken over (both viewers then saved); an hour
    slow, a dead viewer's lock was never taken over."""
    fresh, stale = tmp_path / "fresh" / "reads", tmp_path / "stale" / "reads"
    for folder, age in ((fresh, 30.0), (stale, read_lock.STALE_AFTER + 60)):
        folder.parent.mkdir()
        foreign_lock(Path(f"{folder}.lock"), age=age)
    real = time.time
    for module in (read_lock, stale_lock):  # (the claim's clock, and the one a lock's age is told by)
        monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: real() + skew))
    with pytest.raises(PermissionError, match="last refreshed 30 seconds ago"):
        claim_folder(fresh)
    claim_folder(stale)
    assert not saving_refused(stale)
    assert [p.name for p in fresh.parent.iterdir()] == ["reads.lock"]  # (the clock's probe removed)


def test_the_heartbeat_stamps_the_lock_by_the_shares_clock(tmp_path, monkeypatch):
    """The heartbeat stamped the lock file with os.utime's time, this computer's clock, while its age is told by the
    share's: with the file server's clock an hour ahead, a lock refreshed a moment ago was an hour old there, and
    another computer's viewer took a running viewer's folder over."""
    folder = tmp_path / "reads"
    claim_folder(folder)
    lock = Path(f"{folder}.lock")
    real = time.time
    for module in (read_lock, stale_lock):  # (the heartbeat's stamp, and the lock's age)
        monkeypatch.setattr(module, "now_where", lambda where: real() + 3600)  # the server's, as a probe there reads
    read_lock._beat()
    age = stale_lock.lock_age(str(lock))
    assert age is not None and abs(age) < read_lock.HEARTBEAT, f"refreshed just now, {age:.0f} s old by the share"


def test_a_beat_whose_probe_fails_stamps_the_lock_by_the_shares_clock_all_the_same(tmp_path, monkeypatch):
    """A probe that could not be made (the share's quota full, a hiccup) stamped the lock with this computer's clock,
    the stamp the heartbeat was made to stop: an hour slow, a running viewer's lock was an hour old on the share, and
    another computer's viewer took its folder over.  The difference of the two clocks, read off the lock file the
    share stamped as it was made, sets this computer's right."""
    real = time.time
    for module in (read_lock, stale_lock):
        monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: real() - 3600))  # (the share's: real())
    folder = tmp_path / "reads"
    claim_folder(folder)
    lock = Path(f"{folder}.lock")

    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(122, "Disk quota exceeded")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    long_ago = real() - 300
    os.utime(lock, (long_ago, long_ago))
    read_lock._beat()
    age = real() - lock.stat().st_mtime
    assert abs(age) < read_lock.HEARTBEAT, f"refreshed just now, {age:.0f} s old by the share"


def test_a_locks_age_is_told_by_this_computers_clock_where_no_probe_can_be_made(tmp_path, monkeypatch):
    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    folder = tmp_path / "reads"
    foreign_lock(Path(f"{folder}.lock"), age=3600)
    claim_folder(folder)
    assert not saving_refused(folder)


def test_a_stale_lock_another_viewer_is_taking_over_is_left_to_it(tmp_path):
    """Two viewers that both find the lock stale: only the one holding ``.rmlock`` (Qt's guard for the same) takes
    it over; without the guard, the second removed the lock the first had just made, and both saved."""
    folder = tmp_path / "reads"
    lock = Path(f"{folder}.lock")
    foreign_lock(lock, age=3600)
    theirs = lock.read_text()
    other = QtCore.QLockFile(f"{lock}.rmlock")  # the other viewer, taking it over
    assert other.tryLock(0)
    with pytest.raises(PermissionError, match="this window does so by itself at its next try"):
        claim_folder(folder)
    other.unlock()
    assert lock.read_text() == theirs


# -- a folder refused is tried again at each heartbeat -------------------------------------------------------------
@pytest.mark.parametrize("gone", ["quit", "stale"])
def test_a_folder_refused_at_opening_is_taken_once_the_other_viewer_is_gone(tmp_path, qtbot, gone):
    """Refused at opening, a window never saved reads, even once the other viewer had quit (its lock removed) or its
    lock had gone stale: the reader had to close it and open mammoview again."""
    folder = tmp_path / "reads"
    lock = Path(f"{folder}.lock")
    foreign_lock(lock, age=120)
    with pytest.raises(PermissionError):
        claim_folder(folder)
    read_lock._beat()
    assert saving_refused(folder)  # (its viewer still runs)
    if gone == "quit":
        lock.unlink()
    else:
        then = time.time() - read_lock.STALE_AFTER - 60
        os.utime(lock, (then, then))
    with qtbot.waitSignal(read_lock.signals.regained, timeout=1_000) as regained:
        read_lock._beat()
    assert regained.args == [os.path.realpath(folder)] and not saving_refused(folder)
    assert claim_folder(folder) == read_lock.holding(folder) is not None
    pid, host, _app = QtCore.QLockFile(str(lock)).getLockInfo()
    assert (pid, host) == (os.getpid(), QtCore.QSysInfo.machineHostName())


def test_the_heartbeat_tries_a_refused_folder_again_with_no_folder_held(tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(read_lock, "HEARTBEAT", 0.05)
    folder = tmp_path / "reads"
    lock = Path(f"{folder}.lock")
    foreign_lock(lock)
    with pytest.raises(PermissionError):
        claim_folder(folder)  # (this process holds no folder: no heartbeat ran before)
    lock.unlink()
    qtbot.waitUntil(lambda: not saving_refused(folder), timeout=5_000)


@pytest.mark.parametrize("tried", ["at a heartbeat", "at quitting"])
def test_the_refusal_names_the_viewer_that_holds_the_folder_now(tmp_path, qtbot, tried):
    """The viewer that held the folder quit and another computer's viewer took it before this one's next try: the
    refusal, and so every "Read not saved" and the quit question, kept naming the first one, gone."""
    folder = tmp_path / "reads"
    lock = Path(f"{folder}.lock")
    foreign_lock(lock)
    with pytest.raises(PermissionError):
        claim_folder(folder)
    another_viewer_takes_the_folder(lock, tmp_path)
    with qtbot.waitSignal(read_lock.signals.refused, timeout=1_000) as renamed:
        read_lock._beat() if tried == "at a heartbeat" else read_lock.try_again(folder)
    with pytest.raises(PermissionError) as refused:
        claim_folder(folder)
    said = str(refused.value)
    assert "process 5151 on ws-mammo-2" in said and "4242" not in said and OTHER_HOST not in said, said
    assert renamed.args == [os.path.realpath(folder), said]
    with qtbot.assertNotEmitted(read_lock.signals.refused):  # said once
        read_lock._beat()
