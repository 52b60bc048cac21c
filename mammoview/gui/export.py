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

Both are made on the GUI thread (:func:`paint_export`) and written apart from it (:meth:`PaintedExport.write`): in a
worker thread by File ▸ Export… (:mod:`~mammoview.gui.export_dialog`), at once by :func:`export_study`.
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


@dataclass(frozen=True)
class PaintedExport:
    """An export painted, to be written: what the GUI thread made of the window, nothing of which the window holds
    (:func:`paint_export`), so that :meth:`write` may run in a worker thread: File ▸ Export… stalled the viewer
    90-130 ms (the demo study, a 1400x900 window; 260-310 ms at 200 %), its painting 15-40 ms of it, the rest the
    PNG's encoding and the fsyncs."""

    picture: QtGui.QImage
    doc: dict[str, Any]
    result: ExportResult
    overwrite: bool

    def write(self) -> ExportResult:
        """Both files or neither (:func:`_write_pair`); FileExistsError where one appeared since it was painted and
        ``overwrite`` is False."""
        png, js = self.result.png, self.result.json
        png.parent.mkdir(parents=True, exist_ok=True)
        _write_pair(self.picture, png, self.doc, js, overwrite=self.overwrite)
        return self.result


def paint_export(window: MainWindow, path: Path | str, *, active_only: bool = False, anonymize: bool = True,
                 overwrite: bool = False) -> PaintedExport:  # fmt: skip
    """The annotated picture and the findings JSON of ``window`` as shown, to be written at ``path`` (GUI thread:
    the picture is a grab of the widgets).

    Raises
    ------
    FileExistsError
        Either file exists and ``overwrite`` is False (nothing is painted).
    """
    png, js = export_paths(path)
    for p in (png, js):
        if p.is_dir():  # never "replaced": said before anything is written
            raise IsADirectoryError(f"{p} is a folder: choose another file name")
    if not overwrite:
        for p in (png, js):
            if p.exists():
                raise FileExistsError(f"{p} exists (choose another name, or confirm overwriting)")
    # (a new image and a new document: the worker thread that writes them shares them with nothing)
    picture = render_picture(window, active_only=active_only, anonymize=anonymize)
    doc = export_json(window, anonymize=anonymize, prior=not active_only)
    return PaintedExport(picture, doc, ExportResult(png, js), overwrite)


def export_study(window: MainWindow, path: Path | str, *, active_only: bool = False, anonymize: bool = True,
                 overwrite: bool = False) -> ExportResult:  # fmt: skip
    """Write the annotated PNG and the findings JSON, here and now (scripts, tests; File ▸ Export… writes them in a
    worker thread); returns both paths.

    Raises
    ------
    FileExistsError
        Either file exists and ``overwrite`` is False (nothing is written).
    """
    return paint_export(window, path, active_only=active_only, anonymize=anonymize, overwrite=overwrite).write()


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
