"""``--json OUT`` naming a pipe, a terminal or a device (``--json /dev/stdout``, ``--json >(jq .)``, a named pipe a
script reads): the JSON was written to a temporary file beside OUT and moved over it, so a named pipe was replaced
by a regular file (its reader waited for ever), ``--json /dev/stdout`` run as root replaced the /dev/stdout link of
the whole machine with a file, and ``>(jq .)`` (``/dev/fd/63``) was refused ('cannot be written there: No such file
or directory': no temporary file can be made in /proc/self/fd). Such an OUT is written into, never replaced."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from mammoview.cli.output import check_json_out, write_json_out

DOC = {"images": [{"path": "/x/lcc.dcm", "error": "truncated"}]}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader waiting on the pipe, as `cat results.fifo` does
    try:
        check_json_out(fifo)
        write_json_out(fifo, DOC)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the named pipe was replaced by a file"
        assert json.loads(os.read(reader, 1 << 16)) == DOC
    finally:
        os.close(reader)


@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (process substitution)")
def test_a_process_substitution_is_accepted_and_written_into() -> None:
    read_end, write_end = os.pipe()  # what `--json >(jq .)` hands over: /dev/fd/63, the write end of a pipe
    try:
        out = Path(f"/dev/fd/{write_end}")
        check_json_out(out)  # said 'cannot be written there: No such file or directory'
        write_json_out(out, DOC)
        os.close(write_end)
        write_end = -1
        assert json.loads(os.read(read_end, 1 << 16)) == DOC
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
