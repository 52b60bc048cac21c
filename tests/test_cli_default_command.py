"""Plain `mammoview [options]` is `mammoview view`: its global options must survive the switch."""

import sys

import pytest

import mammoview.gui.app
from mammoview.cli import main


def test_debug_without_a_command_still_shows_the_traceback(monkeypatch):
    # the console script calls main() with no argv: the options come from sys.argv
    monkeypatch.setattr(sys, "argv", ["mammoview", "--debug"])

    def broken_viewer(*args, **kwargs):
        raise RuntimeError("viewer could not start")

    monkeypatch.setattr(mammoview.gui.app, "run_viewer", broken_viewer)
    with pytest.raises(RuntimeError, match="viewer could not start"):  # --debug: the traceback, not one line
        main()


def test_debug_without_a_command_in_argv_opens_the_viewer(monkeypatch):
    opened = []
    monkeypatch.setattr(mammoview.gui.app, "run_viewer", lambda paths, **kw: opened.append(list(paths)) or 0)
    assert main(["--debug"]) == 0  # was: "unrecognized arguments: --debug", exit 2
    assert opened == [[]]
