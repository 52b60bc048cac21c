"""An extraction killed outright (SIGKILL, the out-of-memory killer) while it wrote the new set left its hidden
``.extract-*`` folder behind for good (a whole patch set: GBs for a real one).  The next extraction into the same
folder removes such leftovers and says so, but never the folder of an extraction still writing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.training.test_extract_interrupted_write import _cut_again
from tests.training.test_run_integrity import two_sets  # noqa: F401  (fixture)

# an extraction into OUT that stops in its contact sheets, with the new patches written in its hidden folder: killed
# there ("kill") or waiting there until the test ends ("wait"); it touches READY first
_CHILD = """
import os, signal, sys, time
from pathlib import Path
import mammoview.training.extract as E
from tests.training.test_extract_interrupted_write import _cut_again
out, data, ready, how = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
def stop(*args, **kwargs):
    ready.touch()
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(600)
E.write_contact_sheets = stop
_cut_again(out, data)
"""


def _stopped_extraction(out: Path, data: Path, how: str, ready: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path])}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(out), str(data), str(ready), how], env=env)
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert child.poll() is None or how == "kill", f"the extraction ended ({child.returncode}) before it stopped"
        assert time.monotonic() < deadline, "the extraction never reached its contact sheets"
        time.sleep(0.05)
    return child


def test_a_killed_extractions_folder_goes_at_the_next_one_a_running_ones_stays(two_sets, tmp_path, capsys):  # noqa: F811
    a, _ = two_sets
    data = a.parent / "data"
    mine = tmp_path / "patches"
    shutil.copytree(a, mine)
    unsure = mine / ".extract-older"  # no claim in it (an older mammoview's): kept, and named for the user
    unsure.mkdir()
    (unsure / "patches.npy").write_bytes(bytes(1500))
    running = _stopped_extraction(mine, data, "wait", tmp_path / "running")
    try:
        (writing,) = [p for p in mine.iterdir() if p.name.startswith(".extract-") and p != unsure]
        killed = _stopped_extraction(mine, data, "kill", tmp_path / "killed")  # (it keeps the running one's too)
        assert killed.wait(60) == -signal.SIGKILL
        (left,) = [p for p in mine.iterdir() if p.name.startswith(".extract-") and p not in (writing, unsure)]
        assert (left / "patches.npy").is_file()  # the killed cut's new set, never placed
        capsys.readouterr()
        _cut_again(mine, data)
        said = capsys.readouterr().err
        assert not left.exists(), said
        assert f"removed {left} (" in said and "left by an extraction that was killed" in said, said
        assert writing.is_dir() and (writing / "patches.npy").is_file()  # another extraction is writing it
        assert (
            f"kept {writing} (" in said
            and f"an extraction is writing it (extract-patches, process {running.pid}" in said
        )
        assert unsure.is_dir() and f"kept {unsure} (1.5 KB): no claim in it" in said, said
        assert running.poll() is None
    finally:
        running.kill()
        running.wait(60)
