"""``--json OUT`` of the commands that write one document (detect, classify, density): checked before any work,
written whole at the end, to standard output for ``-`` (a pipe: nothing else goes there)."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mammoview.terminal import say

if TYPE_CHECKING:
    from mammoview.io.model import ScanResult


def to_stdout(out: Path | None) -> bool:
    """Whether ``--json`` asks for standard output (``-``, or none given where that is the default)."""
    return out is None or str(out) == "-"


def check_json_out(out: Path | None, inputs: Sequence[str | os.PathLike[str]] = ()) -> None:
    """Refuse a folder as ``--json OUT``, one of the ``inputs`` (the files named to be read: the JSON would replace
    an image), or a place where it cannot be written, before any work (said at once, not after the whole batch: its
    folder is made and a temporary file written there and removed)."""
    if to_stdout(out) or out is None:
        return
    if out.is_dir():
        raise ValueError(f"--json {out} is a folder: give the file to write")
    if _stream(out):  # a pipe, a terminal or a device: written into, as the shell's `>` would
        if not os.access(out, os.W_OK):
            raise ValueError(f"--json {out} cannot be written: no permission to write to it")
        return
    for name in inputs:
        try:
            same = os.path.samefile(out, name)  # (a link or another spelling of the same file too)
        except OSError:  # one of them is missing: said, if need be, when it is read
            continue
        if same:
            raise ValueError(f"--json {out} is the input {name}: give another file to write the JSON into")
    import tempfile

    from mammoview.io.files import temp_prefix

    out = _written(out)  # a link to a file: the file it names is what is written (its folder probed)

    # a file or a dead link where a folder of OUT's path should be: said in words (mkdir says 'File exists')
    above = next((p for p in out.parents if os.path.lexists(p)), None)
    if above is not None and above.is_symlink() and not above.exists():
        raise ValueError(f"--json {out}: {above} is a link to {os.readlink(above)}, which is missing")
    if above is not None and not above.is_dir():
        raise ValueError(f"--json {out}: {above} is a file, not a folder: give a file in a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=temp_prefix(out), suffix=".tmp", dir=out.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"--json {out} cannot be written there: {exc.strerror or exc}") from None


def _stream(out: Path) -> bool:
    """Whether ``out`` (a link followed) is there and no regular file nor folder: a named pipe, ``/dev/stdout``,
    ``/dev/fd/63`` of ``>(jq .)``, ``/dev/null``. Such an OUT is opened and written; replacing it by a file moved
    over it would leave its reader waiting and, run as root, replace a device of the whole machine."""
    try:
        mode = out.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _written(out: Path) -> Path:
    """The regular file that ``out`` names: itself, or where it is a link to one (``latest.json ->
    runs/0412.json``; ``/dev/stdout`` with the standard output sent to a file), the file at its link chain's end,
    replaced whole there; replacing the link itself would leave a file in its place (run as root, the machine's
    /dev/stdout) and the file it names unchanged."""
    return Path(os.path.realpath(out)) if out.is_symlink() and out.is_file() else out


def scanned(scan: ScanResult) -> list[str]:
    """Every file a scan reached, read or not (``--json`` must replace none of them: :func:`check_json_out`)."""
    return [str(i.path) for i in scan.images] + [str(e.path) for e in scan.errors]


def check_out_folder(path: Path | None, option: str) -> None:
    """Refuse an output folder that is a file (or a dead link), lies under a file, or sits in a folder that cannot
    be written, before any work (the training commands found out at their first write, saying '[Errno 17] File
    exists'; train --install-to only after the whole training). Nothing is created here."""
    if path is None:
        return
    if os.path.lexists(path) and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a folder: give a folder to write into")
    parent = path
    while not os.path.lexists(parent) and parent.parent != parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {path} lies under {parent}, which is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path} cannot be written: {parent} is not writable")


def write_json_out(out: Path | None, doc: Any) -> None:
    """``doc`` as indented JSON to ``out`` (its folder made; written whole or not at all), into ``out`` when it is a
    pipe or a device, or to standard output."""
    from mammoview.io.files import atomic_write_text

    text = json.dumps(doc, indent=1) + "\n"
    if to_stdout(out):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    assert out is not None
    if _stream(out):
        with open(out, "w", encoding="utf-8") as stream:
            stream.write(text)
        return
    out = _written(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, text)  # an output: the user's umask


def say_warnings(command: str, path: object, notes: Sequence[str]) -> None:
    """One line on standard error with what the reader warned about the image at ``path`` (e.g. not MG, a colour file
    converted to grey, a raw FOR PROCESSING image) and what the command notes about it; nothing when ``notes`` is
    empty. (A warning may quote a header value, the path a file's name: :func:`~mammoview.terminal.say` escapes.)"""
    if notes:
        say(f"mammoview {command}: {path}: warning: {'; '.join(notes)}")


def spacing_warning(command: str, paths: list[Path], consequence: str) -> str:
    """The warning for images that carried no pixel spacing (a 230 mm tall image with square pixels was assumed), a
    line for :func:`~mammoview.terminal.say`."""
    from mammoview.cad.cad_input import ASSUMED_IMAGE_HEIGHT_MM

    first = f"{paths[0]}" + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")
    size = f"{ASSUMED_IMAGE_HEIGHT_MM:.0f} mm"
    return (f"mammoview {command}: warning: no pixel spacing in {first}; a {size} tall image with square pixels "
            f"was assumed. {consequence}: pass --pixel-spacing ROW,COL (see the README)")  # fmt: skip
