"""``--json OUT`` naming a link to a regular file (``latest.json -> runs/0412.json``; ``--json /dev/stdout`` with the
standard output sent to a file, whose link chain ends at that file): the JSON was written to a temporary file beside
the link and moved over it, so the link was replaced by a file (run as root, /dev/stdout of the whole machine) and the
file it names kept its old content.  The file the link names is replaced whole; the link stays."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mammoview.cli.output import check_json_out, write_json_out

DOC = {"images": [{"path": "/x/lcc.dcm", "score": 0.5}]}


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_link_to_a_file_stays_a_link_and_its_file_gets_the_json(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    real = runs / "0412.json"
    real.write_text("{}\n")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    check_json_out(link)
    write_json_out(link, DOC)
    assert link.is_symlink(), "the link was replaced by a file"
    assert json.loads(real.read_text()) == DOC
    assert sorted(p.name for p in runs.iterdir()) == ["0412.json"]  # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json", "runs"]
