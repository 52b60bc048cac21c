"""Export: an annotated PNG of the 2x2 layout (or the active view) exactly as shown, plus a findings JSON.

The picture is a grab of the widgets on screen -- images, overlays and labels as the
reader sees them -- with a legend band below: the heatmap colour bar (with the
threshold), the glyph meanings, the model name/version and the caption
"CAD — research use only".  With ``anonymize`` the patient/study text and the file-name
line are hidden during the grab and left out of the JSON (name, ID, birth date,
accession; file paths become view labels, since CBIS-DDSM file names carry the ID).

The JSON's ``images`` entries use the schema of ``mammoview detect`` (docs/cad-design.md),
followed by the reader's marks, the reader's length measurements (with length and unit), the
read state and the matching.  CAD content is included only when it is shown (first read
done), as in the picture.  Nothing is overwritten unless ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtGui

from mammoview.gui.export_findings import export_json
from mammoview.gui.export_picture import render_picture
from mammoview.io.files import temp_prefix, user_umask

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mammoview.gui.main_window import MainWindow


@dataclass(frozen=True)
class ExportResult:
    png: Path
    json: Path


def export_paths(path: Path | str) -> tuple[Path, Path]:
    """The PNG and the JSON written for ``path`` (``x.png`` -> ``x.png`` + ``x.json``)."""
    p = Path(path)
    png = p if p.suffix.lower() == ".png" else p.with_name(p.name + ".png")
    return png, png.with_suffix(".json")


def export_study(window: MainWindow, path: Path | str, *, active_only: bool = False, anonymize: bool = True,
                 overwrite: bool = False) -> ExportResult:  # fmt: skip
    """Write the annotated PNG and the findings JSON; returns both paths.

    Raises
    ------
    FileExistsError
        Either file exists and ``overwrite`` is False (nothing is written).
    """
    png, js = export_paths(path)
    for p in (png, js):
        if p.is_dir():  # never "replaced": said before anything is written
            raise IsADirectoryError(f"{p} is a folder: choose another file name")
    if not overwrite:
        for p in (png, js):
            if p.exists():
                raise FileExistsError(f"{p} exists (choose another name, or confirm overwriting)")
    picture = render_picture(window, active_only=active_only, anonymize=anonymize)
    doc = export_json(window, anonymize=anonymize, prior=not active_only)
    png.parent.mkdir(parents=True, exist_ok=True)
    _write_pair(picture, png, doc, js, overwrite=overwrite)
    return ExportResult(png, js)


def _write_pair(image: QtGui.QImage, png: Path, doc: dict[str, Any], js: Path, overwrite: bool = True) -> None:
    """Both files or neither: each is written to a temporary file beside it (a full disk fails here, with the old
    pair untouched), then both are moved into place.  Mode: the user's umask, as any document they save (the export
    is made to be shared; the app's private data is 0600).  Without ``overwrite`` a file that appeared since the
    names were checked (another window's export) is not replaced: FileExistsError, nothing of this pair left."""
    tmps: list[str] = []
    try:
        for target, suffix in ((png, ".png"), (js, ".json")):
            fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=suffix, dir=target.parent)
            os.close(fd)
            tmps.append(tmp)
        if not image.save(tmps[0]):  # PNG: from the ".png" suffix
            raise OSError(f"could not write {png} (full disk, or no permission to write there?)")
        fd = os.open(tmps[0], os.O_RDONLY)  # on disk before it is moved into place, as the JSON (a power cut
        try:  # could otherwise leave an empty picture beside a whole JSON)
            os.fsync(fd)
        finally:
            os.close(fd)
        with open(tmps[1], "wb") as fh:
            fh.write((json.dumps(doc, indent=1) + "\n").encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        mode = 0o666 & ~user_umask()
        for tmp in tmps:
            os.chmod(tmp, mode)
        if overwrite or not _link_pair(tmps, (png, js)):
            os.replace(tmps[1], js)
            os.replace(tmps[0], png)
        else:
            for tmp in tmps:  # placed by hard links: the temporary names go
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    except BaseException:
        for tmp in tmps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


def _link_pair(tmps: Sequence[str], targets: tuple[Path, Path]) -> bool:
    """Place ``tmps`` at ``targets`` only where no file is (a hard link fails on an existing name, atomically, where
    a check before os.replace can be overtaken); both or neither.  False: the file system has no hard links (FAT,
    some network shares), nothing placed -- the caller checks the names again and moves the files."""
    placed: list[Path] = []
    try:
        for tmp, target in zip(tmps, targets, strict=True):
            os.link(tmp, target)
            placed.append(target)
    except OSError as exc:
        for target in placed:  # both or neither
            with contextlib.suppress(OSError):
                os.unlink(target)
        there = exc.filename2 or exc.filename if isinstance(exc, FileExistsError) else None
        there = there or next((t for t in targets if t.exists()), None)  # (no hard links: checked again)
        if there:
            raise FileExistsError(
                f"{there} was written meanwhile (choose another name, or confirm overwriting)"
            ) from None
        return False
    return True
