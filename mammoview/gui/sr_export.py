"""File ▸ Export CAD as DICOM SR (``Ctrl+Alt+E``): the shown findings as a TID 1500 Structured Report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mammoview.gui.cad_controller import CadController


def export_sr(cad: CadController, path: str | Path | None = None) -> Path | None:
    """Write the CAD findings shown (at the chosen operating point) as a DICOM SR; the path written, or None.

    ``path`` None asks with a file dialog (which confirms an overwrite); a given path that
    exists is refused.  Nothing is written while CAD is hidden (first read not done): nothing
    of it may leave the viewer.  Problems (a non-DICOM image, a disk error) come as a dialog.
    """
    window = cad.window
    if not cad.unlocked or cad.result is None:
        window.show_status("DICOM SR: run CAD and mark the first read as done first.", 5000)
        return None
    from PySide6 import QtWidgets

    from mammoview.cad.sr import SrError, breasts_of, by_dicom_study, study_sr, write_sr

    if path is None:
        study_key = cad.study_key
        chosen, _ = QtWidgets.QFileDialog.getSaveFileName(window, "Export CAD as DICOM SR", "cad-sr.dcm",
                                                          "DICOM files (*.dcm)")  # fmt: skip
        if not chosen:
            return None
        if cad.study_key != study_key:  # the reader's step landed while the dialog was open (its CAD maybe hidden)
            window.show_status("DICOM SR: another study went up meanwhile; nothing written (export it again).", 8000)
            return None
        target = Path(chosen)
    else:
        target = Path(path)
        if target.exists():
            window.report_problems("DICOM SR not written", [f"{target} exists; choose another name."])
            return None
    r = cad.result
    parts = by_dicom_study(r.images)
    # one SR per DICOM study: several (CBIS-DDSM's views each have their own) are numbered after the chosen name
    targets = [target] if len(parts) == 1 else [target.with_name(f"{target.stem}-{n}{target.suffix}")
                                                for n in range(1, len(parts) + 1)]  # fmt: skip
    try:  # (a name too long for the file system raises here: "NAME-1.dcm" is two bytes longer than the chosen one)
        taken = [str(t) for t in targets if t.exists() and len(targets) > 1]
    except OSError as exc:
        window.report_problems("DICOM SR not written", [f"{exc.filename}: {exc.strerror or exc}"])
        return None
    if taken:
        window.report_problems("DICOM SR not written", [f"{t} exists; choose another name." for t in taken])
        return None
    try:
        srs = [study_sr(mine, r.model, breasts_of(mine, r.breasts), r.density_model, r.malignancy_model)
               for _, mine in parts]  # fmt: skip
    except SrError as exc:
        window.report_problems("DICOM SR not written", [str(exc)])
        return None
    written: list[Path] = []
    for sr, t in zip(srs, targets, strict=True):
        try:
            written.append(write_sr(sr, t))
        except OSError as exc:
            done = [f"Written before it: {p}" for p in written]
            window.report_problems("DICOM SR not written", [f"{t}: {exc.strerror or exc}", *done])
            return None
    if len(written) == 1:
        window.show_status(f"DICOM SR written: {written[0]}", 6000)
    else:
        names = ", ".join(p.name for p in written)
        window.show_status(f"{len(written)} DICOM SRs written, one per DICOM study of these images: {names}", 8000)
    return written[0]
