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

    from mammoview.cad.sr import SrError, study_sr, write_sr

    if path is None:
        chosen, _ = QtWidgets.QFileDialog.getSaveFileName(window, "Export CAD as DICOM SR", "cad-sr.dcm",
                                                          "DICOM files (*.dcm)")  # fmt: skip
        if not chosen:
            return None
        target = Path(chosen)
    else:
        target = Path(path)
        if target.exists():
            window.report_problems("DICOM SR not written", [f"{target} exists; choose another name."])
            return None
    try:
        r = cad.result
        out = write_sr(study_sr(r.images, r.model, r.breasts, r.density_model, r.malignancy_model), target)
    except (SrError, OSError) as exc:
        window.report_problems("DICOM SR not written", [str(exc)])
        return None
    window.show_status(f"DICOM SR written: {out}", 6000)
    return out
