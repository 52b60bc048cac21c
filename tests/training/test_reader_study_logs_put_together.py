"""Two readers' logs put together (README: each reading counts) the plain way, `cat a.csv b.csv > both.csv`: the
second log's header line was read as a study whose assessment is 'assessment', and the whole log was refused
("line 8: assessment 'assessment' is not a screening assessment the viewer writes").  A repeated header is the
start of the next log."""

from __future__ import annotations

from mammoview.cli import main
from mammoview.training.reader_study import load_read_log
from tests.training.test_reader_study import _row, key_hash, write_log


def test_logs_put_together_with_cat_are_read(tmp_path, capsys):
    a = write_log(tmp_path / "a.csv", [_row("A", "0", "0"), _row("B", "1", "1")])
    b = write_log(tmp_path / "b.csv", [_row("A", "1", "0")])
    both = tmp_path / "both.csv"
    both.write_text(a.read_text() + b.read_text())
    rows = load_read_log(both)
    assert [r["assessment"] for r in rows] == ["0", "1", "1"]
    truth = tmp_path / "t.csv"
    truth.write_text(f"study,truth\n{key_hash('A')},malignant\n{key_hash('B')},normal\n")
    assert main(["reader-study", str(both), "--truth", str(truth)]) == 0
    assert "1 of them read more than once" in capsys.readouterr().out
