"""Every line the command line writes on standard error goes through one escaping writer (mammoview.terminal)."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import mammoview
from mammoview.terminal import TerminalFormatter, say, terminal_text

PACKAGE = Path(mammoview.__file__).parent


def _writes_to_stderr(call: ast.Call) -> bool:
    """``print(..., file=sys.stderr)``, ``tqdm.write(...)`` or ``sys.stderr.write(...)``: a line on standard error
    written by hand (a tqdm progress bar given ``file=sys.stderr`` is not a line)."""
    func = ast.unparse(call.func)
    to_stderr = any(k.arg == "file" and ast.unparse(k.value) == "sys.stderr" for k in call.keywords)
    return (func == "print" and to_stderr) or func in ("tqdm.write", "sys.stderr.write", "sys.__stderr__.write")


def test_no_module_writes_to_standard_error_but_the_escaping_writer():
    """The control characters of a file's name or header value were escaped at each call site (~15), and a new
    message could forget it; now `say` is the one writer. A module writing to stderr itself fails here."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "terminal.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _writes_to_stderr(node):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not found, "write these lines with mammoview.terminal.say:\n" + "\n".join(found)


def test_the_check_finds_a_hand_written_stderr_line():
    """The scan above is not blind: each way of writing a line to stderr by hand is caught, a progress bar is not."""
    caught = [
        'print(f"mammoview x: {path}", file=sys.stderr)',
        "tqdm.write(line, file=sys.stderr)",
        "sys.stderr.write(line)",
    ]
    for source in caught:
        assert _writes_to_stderr(ast.parse(source).body[0].value), source  # type: ignore[attr-defined]
    bar = ast.parse("tqdm(total=3, file=sys.stderr)").body[0].value  # type: ignore[attr-defined]
    assert not _writes_to_stderr(bar)


def test_say_escapes_each_line(capsys):
    say("mammoview detect: /in/a\x1b[2Jb.dcm: unreadable", "second\x07 line\nhidden")
    err = capsys.readouterr().err
    assert err == "mammoview detect: /in/a\\x1b[2Jb.dcm: unreadable\nsecond\\x07 line\\x0ahidden\n"


def test_escaping_twice_changes_nothing():
    once = terminal_text("a\x1b]0;title\x07b\x9bc")
    assert "\x1b" not in once and "\x9b" not in once and terminal_text(once) == once


def test_a_logged_path_is_escaped_but_a_traceback_keeps_its_lines():
    """Log lines went out raw (a reader's `log.warning("read state %s is damaged", path)` quoting a file's name)."""
    fmt = TerminalFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("mammoview.x", logging.WARNING, __file__, 1, "read %s failed", ("/r/a\x1b[8mb",), None)
    assert fmt.format(record) == "WARNING mammoview.x: read /r/a\\x1b[8mb failed"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    record.exc_text = None
    text = fmt.format(record)
    assert text.startswith("WARNING mammoview.x: read /r/a\\x1b[8mb failed\nTraceback") and "ValueError: boom" in text


def test_the_command_line_logs_through_the_escaping_formatter(tmp_path, capsys):
    """`mammoview` sets its log handler up with the formatter (a log line a library or the readers write while a
    command runs is escaped too)."""
    from mammoview.cli import main

    root = logging.getLogger()
    before = list(root.handlers)
    try:
        for h in before:  # basicConfig does nothing where the root logger has handlers (pytest's own included)
            root.removeHandler(h)
        main(["models", "--models-dir", str(tmp_path / "none\x1b[2J")])
        ours = [h for h in root.handlers if h not in before]
        assert ours and all(isinstance(h.formatter, TerminalFormatter) for h in ours)
    finally:
        for h in [h for h in root.handlers if h not in before]:
            root.removeHandler(h)
        for h in before:
            root.addHandler(h)
    err = capsys.readouterr().err
    assert "none\\x1b[2J: no such folder" in err and "\x1b" not in err


def test_a_warning_raised_while_a_command_runs_is_escaped(tmp_path, capsys, monkeypatch):
    """Python showed a warning the readers do not collect itself, raw: `detect --sr` building a study's SR from a
    header whose Specific Character Set held ``ESC [8m`` printed pydicom's "Unknown encoding 'ISO_IR 1<ESC>[8m'",
    hiding the lines after it."""
    import warnings

    from mammoview.cli import main, models

    def run(args):  # type: ignore[no-untyped-def]
        warnings.warn("Unknown encoding 'ISO_IR 1\x1b[8m' - using default encoding instead", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(models, "run", run)
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # (pytest's filterwarnings would make it an error)
        before = warnings.showwarning
        assert main(["models", "--models-dir", str(tmp_path)]) == 0
        assert warnings.showwarning is before, "the command's warning writer outlived it"
    err = capsys.readouterr().err
    assert "UserWarning: Unknown encoding 'ISO_IR 1\\x1b[8m' - using default encoding instead" in err, err
    assert "\x1b" not in err
