"""File ▸ Export CAD as DICOM SR (``Ctrl+Alt+E``): the shown findings as a TID 1500 Structured Report.

The SRs are built and written off the GUI thread: importing highdicom, reading each image's header and encoding
each SR froze the viewer up to a second (a CBIS-DDSM study gets four, one per Study Instance UID).  The job works on
the result as it was asked for, so a study stepped to meanwhile changes nothing of it; one export runs at a time (a
second is refused, so that two never race for the same numbered names); the window closing waits for it
(:class:`~mammoview.gui.export_job.ExportJob`; each file is written atomically by :func:`mammoview.cad.sr.write_sr`:
whole, or not there).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from mammoview.gui.background_jobs import Progress
from mammoview.gui.export_job import ExportJob, NotWritten

if TYPE_CHECKING:
    from mammoview.cad.types import StudyCadResult
    from mammoview.gui.cad_controller import CadController

log = logging.getLogger(__name__)

NOT_WRITTEN = "DICOM SR not written"


def export_sr(cad: CadController, path: str | Path | None = None) -> bool:
    """Start writing the CAD findings shown (at the chosen operating point) as DICOM SR; whether it started.

    ``path`` None asks with a file dialog (which confirms an overwrite); a given path that
    exists is refused.  Nothing is written while CAD is hidden (first read not done): nothing
    of it may leave the viewer.  The outcome comes later: the status bar names the files written,
    problems (a non-DICOM image, a disk error) come as a dialog; :attr:`SrExport.done` says both.
    """
    if not _cad_shown(cad) or cad.sr_export.refused():  # (busy: said before the dialog, no name chosen for nothing)
        return False
    if path is not None:
        return cad.sr_export.write(cad.result, Path(path), confirmed=False)
    window, study_key = cad.window, cad.study_key
    chosen, _ = QtWidgets.QFileDialog.getSaveFileName(window, "Export CAD as DICOM SR", "cad-sr.dcm",
                                                      "DICOM files (*.dcm)")  # fmt: skip
    if not chosen:
        return False
    if cad.study_key != study_key:  # the reader's step landed while the dialog was open (its CAD maybe hidden)
        window.show_status("DICOM SR: another study went up meanwhile; nothing written (export it again).", 8000)
        return False
    return _cad_shown(cad) and cad.sr_export.write(cad.result, Path(chosen), confirmed=True)


def _cad_shown(cad: CadController) -> bool:
    if not cad.unlocked or cad.result is None:
        cad.window.show_status("DICOM SR: run CAD and mark the first read as done first.", 5000)
        return False
    return True


class SrExport(ExportJob):
    """A window's DICOM SR exports (:class:`ExportJob`): :attr:`done` gets the paths written, or None."""

    def __init__(self, cad: CadController) -> None:
        super().__init__(cad.window, "DICOM SR", NOT_WRITTEN, cad)

    def write(self, result: StudyCadResult | None, target: Path, confirmed: bool) -> bool:
        """Write ``result``'s SR(s) at ``target`` in the background (``confirmed``: the reader agreed to replace it,
        in the file dialog); whether it started."""
        if result is None:
            return False
        return self.start(lambda progress, _cancelled: _write_srs(result, target, confirmed, progress), self._said)

    def _said(self, written: list[Path] | None) -> None:
        if not written:  # (a problem: its dialog said it)
            return
        if len(written) == 1:
            self.window.show_status(f"DICOM SR written: {written[0]}", 6000)
        else:
            names = ", ".join(p.name for p in written)
            self.window.show_status(f"{len(written)} DICOM SRs written, one per DICOM study of these images: {names}",
                                    8000)  # fmt: skip


def _write_srs(result: StudyCadResult, target: Path, confirmed: bool, progress: Progress) -> list[Path]:
    from mammoview.cad import sr

    parts = sr.by_dicom_study(result.images)
    if not parts:
        raise NotWritten(["no CAD result to report"])
    # one SR per DICOM study: several (CBIS-DDSM's views each have their own) are numbered after the chosen name
    targets = [target] if len(parts) == 1 else [target.with_name(f"{target.stem}-{n}{target.suffix}")
                                                for n in range(1, len(parts) + 1)]  # fmt: skip
    replace = confirmed and len(targets) == 1  # the numbered names were never shown to the reader
    try:  # (a name too long for the file system raises here: "NAME-1.dcm" is two bytes longer than the chosen one)
        taken = [str(t) for t in targets if not replace and t.exists()]
    except OSError as exc:
        raise NotWritten([f"{exc.filename}: {exc.strerror or exc}"]) from None
    if taken:
        raise NotWritten([f"{t} exists; choose another name." for t in taken])
    try:
        srs = [sr.study_sr(mine, result.model, sr.breasts_of(mine, result.breasts), result.density_model,
                           result.malignancy_model) for _, mine in parts]  # fmt: skip
    except sr.SrError as exc:
        raise NotWritten([str(exc)]) from None
    written: list[Path] = []
    for n, (report, t) in enumerate(zip(srs, targets, strict=True), 1):
        if len(targets) > 1:
            progress(f"DICOM SR: writing {n} of {len(targets)}…")
        try:  # not replace: a file that appeared since the check (another window's export) is kept
            written.append(sr.write_sr(report, t, exclusive=not replace))
        except FileExistsError:
            raise NotWritten([f"{t} exists; choose another name.", *_before(written)]) from None
        except OSError as exc:
            raise NotWritten([f"{t}: {exc.strerror or exc}", *_before(written)]) from None
        log.info("DICOM SR written: %s", t)  # what left the viewer, in the log too
    return written


def _before(written: list[Path]) -> list[str]:
    return [f"Written before it: {p}" for p in written]
