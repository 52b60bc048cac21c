"""Something at the reads folder lock's path that is no viewer's lock: a folder, a link to nowhere, a file that names
no viewer or cannot be read.  Qt never takes it over, so no window saves reads until the reader removes it: the
refusal says what is there, where, and that it is theirs to remove."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mammoview.gui import read_lock, stale_lock
from mammoview.gui.read_lock import claim_folder, saving_refused


def put_in_the_way(lock: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``kind`` at lock path ``lock``."""
    if kind == "folder":
        lock.mkdir()
        (lock / "notes.txt").write_text("a reader's")  # (not empty: removing it would lose something)
    elif kind == "link to nowhere":
        lock.symlink_to(lock.with_name("moved-away.lock"))
    elif kind == "file that names no viewer":
        lock.write_text("not a lock\n")
    else:
        lock.write_text("")  # (what Qt reads of it as root: nothing that names a viewer, as for any other user)
        lock.chmod(0)
        if os.geteuid() == 0:  # (root reads it all the same: denied as it is to any other user)

            def denied(name: object, *args: object, **kwargs: object) -> None:
                raise PermissionError(13, "Permission denied", name)

            monkeypatch.setattr(stale_lock, "open", denied, raising=False)


def remove(lock: Path) -> None:
    if lock.is_dir() and not lock.is_symlink():
        shutil.rmtree(lock)
    else:
        lock.unlink()


@pytest.mark.parametrize(
    "kind, said",
    [
        ("folder", "is a folder, not a lock file"),
        ("link to nowhere", "is a link to {lock_dir}/moved-away.lock, which is not there"),
        ("file that names no viewer", "is a file that names no mammoview window"),
        ("unreadable file", "is a file this window cannot read (Permission denied)"),
    ],
)
def test_what_is_in_the_way_of_the_lock_is_said_and_left_for_the_reader_to_remove(tmp_path, monkeypatch, kind, said):
    """A folder named ``reads.lock`` (or a link to nowhere, a file that is no lock) was refused as "another mammoview
    window (process ? on this computer) is saving reads": the reader looked for a window that was not open, and
    closing every one changed nothing."""
    folder = tmp_path / "reads"
    lock = Path(f"{os.path.realpath(folder)}.lock")
    put_in_the_way(lock, kind, monkeypatch)
    with pytest.raises(PermissionError) as refused:
        claim_folder(folder)
    message = str(refused.value)
    assert f"{lock} {said.format(lock_dir=lock.parent)}" in message, message
    assert "remove" in message and "process ?" not in message and "another mammoview window" not in message
    read_lock._beat()
    assert os.path.lexists(lock) and saving_refused(folder)  # (never removed by the viewer: it is not its own)
    if kind == "folder":
        assert (lock / "notes.txt").read_text() == "a reader's"
    monkeypatch.undo()
    remove(lock)
    read_lock._beat()
    assert not saving_refused(folder)  # removed, as the refusal says: the folder is this window's, by itself


def test_a_pipe_at_the_lock_path_is_refused_without_waiting_on_it(tmp_path):
    """A pipe named ``reads.lock``: Qt's lock attempt opened it to read who holds it and waited for a writer that never
    comes, under the lock the GUI thread waits for at each save: the viewer froze.  (Claimed in a child process first,
    which can be stopped: a wait in this one would hang the suite.)"""
    folder = tmp_path / "reads"
    lock = Path(f"{os.path.realpath(folder)}.lock")
    os.mkfifo(lock)
    claim = (
        "import sys; from pathlib import Path; from mammoview.gui.read_lock import claim_folder\n"
        "try:\n    claim_folder(Path(sys.argv[1])); print('claimed')\n"
        "except PermissionError as exc:\n    print(exc)\n"
    )
    try:
        child = subprocess.run([sys.executable, "-c", claim, str(folder)], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("claiming the reads folder waited on the pipe at its lock path")
    assert f"{lock} is neither a file nor a folder" in child.stdout, (child.stdout, child.stderr)
    with pytest.raises(PermissionError, match="neither a file nor a folder"):
        claim_folder(folder)
    read_lock._beat()  # (the heartbeat's try again does not wait on it either)
    assert saving_refused(folder) and stat.S_ISFIFO(os.lstat(lock).st_mode)
    lock.unlink()
    read_lock._beat()
    assert not saving_refused(folder)
