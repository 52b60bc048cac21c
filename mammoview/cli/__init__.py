"""The ``mammoview`` command: one entry point, one module per subcommand.

Each module in :data:`COMMANDS` exposes ``add_subparser(subparsers)``, which registers
its sub-command and sets ``func(args) -> int``.  Modules import their heavy
dependencies (torch, Qt) inside ``func`` so ``mammoview info`` stays light.
Errors end as one line on stderr and a non-zero exit code, never a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from mammoview import __version__
from mammoview.terminal import TerminalFormatter, say, show_warning

COMMANDS = (
    "view",
    "info",
    "detect",
    "density",
    "classify",
    "models",
    "extract_patches",
    "train",
    "ensemble",
    "evaluate",
    "retune",
    "train_density",
    "reader_study",
)


class Terminated(BaseException):
    """SIGTERM (a job scheduler ending the job): unwinds the command as Ctrl-C does, so the files being written are
    removed rather than left as temporary files (Python's default action is to die at once)."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mammoview",
        description="Mammography viewer with a deep-learning CAD second reader (research use only).",
    )
    parser.add_argument("--version", action="version", version=f"mammoview {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"mammoview.cli.{name}")
        module.add_subparser(sub)
    return parser


def _quiet_pydicom(record: logging.LogRecord) -> bool:
    """Drop pydicom's log lines below ERROR: each repeats a warning the readers keep with the image."""
    return not (record.name.startswith("pydicom") and record.levelno < logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # a file name that is not valid UTF-8 (its bytes kept as surrogates) is printed escaped, not a crash
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    log_lines = logging.StreamHandler()  # (standard error)
    log_lines.setFormatter(TerminalFormatter("%(levelname)s %(name)s: %(message)s"))  # a logged path: escaped
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, handlers=[log_lines])
    if not args.debug:
        # pydicom logs each warning it also raises (the readers keep those with the image: `info` lists them) and
        # each failed decoder attempt with a traceback (the readers report the failure in one line)
        logging.getLogger("pydicom.pixels.decoders").setLevel(logging.CRITICAL)
        for handler in logging.getLogger().handlers:  # pydicom.config resets its own logger's level on import
            if _quiet_pydicom not in handler.filters:
                handler.addFilter(_quiet_pydicom)
    if args.command is None:
        # Plain `mammoview` opens the viewer (keeping its global options: `mammoview --debug`).
        args = parser.parse_args(["view"], namespace=args)
    # (not the viewer: a Python handler waits for Python code to run, which Qt's event loop may not give it soon)
    on_term = args.command != "view" and threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, _terminated) if on_term else None
    shown_before, warnings.showwarning = warnings.showwarning, show_warning  # (a warning may quote a header value)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        say("mammoview: interrupted")
        return 130
    except Terminated:
        say("mammoview: terminated")
        return 128 + signal.SIGTERM
    except BrokenPipeError:  # `mammoview info ... | head`: the reader has gone; nothing to say to anyone
        _silence_stdout()
        return 1
    except Exception as exc:  # one line, never a traceback (unless --debug)
        if args.debug:
            raise
        say(f"mammoview {args.command}: error: {str(exc) or type(exc).__name__}")
        return 1
    finally:
        warnings.showwarning = shown_before
        if on_term:
            signal.signal(signal.SIGTERM, before if before is not None else signal.SIG_DFL)


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush does not fail again (Python docs,
    "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # not a real file (a test's capture)
        pass


if __name__ == "__main__":
    raise SystemExit(main())
