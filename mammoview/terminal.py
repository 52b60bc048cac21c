"""What the command line says on standard error: one writer, :func:`say`, that escapes control characters.

A line the commands write may quote a file's name or a header value from another site; printed raw, an ``ESC``
sequence there could set the terminal's title, clear the screen, hide the lines after it (``ESC [8m``) or start a
line of its own. Escaping at each call site was forgotten by new messages; every stderr line goes through here (a
test checks no module writes to standard error itself), the log lines through :class:`TerminalFormatter`, and the
warnings Python shows itself through :func:`show_warning`.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import TextIO

#: C0 and C1 control characters (and DEL) -> their Python escape: what a file hands over must not drive a terminal
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def terminal_text(text: str) -> str:
    """``text`` with its control characters written as Python escapes (``ESC`` as ``\\x1b``, a newline as
    ``\\x0a``). Escaping twice changes nothing (an escape holds no control character)."""
    return text.translate(_CONTROLS)


def say(*lines: str) -> None:
    """Write each of ``lines`` as one line on standard error, escaped (:func:`terminal_text`). Written with
    ``tqdm.write``, which moves a running progress bar below the line rather than through it (with no bar running
    it simply writes)."""
    from tqdm import tqdm

    for line in lines:
        tqdm.write(terminal_text(line), file=sys.stderr)


class TerminalFormatter(logging.Formatter):
    """A log line's message escaped as :func:`say`'s lines are (a logged path may hold ``ESC``); a traceback after
    it (``--debug``) is left as Python wrote it, its newlines included."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return terminal_text(super().formatMessage(record))


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` while a command runs: Python's own text of a warning, each of its lines written by
    :func:`say`. The readers keep the warnings of the files they read with the image, but a library may warn
    elsewhere (pydicom, decoding a header again to build a study's SR, quotes an unknown Specific Character Set
    as it is, ``ESC`` included)."""
    say(*warnings.formatwarning(message, category, filename, lineno, line).splitlines())
