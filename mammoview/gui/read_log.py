"""The worklist's read log: one CSV row per study with the reader's decisions before and after CAD.

What a reader study of a second reader records: was the first read closed, the unaided
decision, the decision after CAD, whether CAD changed it, the reading time, the marks
before / after CAD, and what the CAD showed (model, exam scores, marks, exam density).  Rows come from the saved reads
(:class:`~mammoview.gui.read_store.ReadStore`), so the log can be written at any time, and
name studies only by a hash of the study key (CBIS-DDSM keys are patient IDs); the
worklist's order and the views identify them for whoever holds the images.

A row never passes an unsaved read off as saved (``not_saved``): a read whose save failed (a full disk, the reads
folder another window's) is the reader's read as this window has it, said :data:`NOT_SAVED` (the only read of it
there is, the newest); a read in conflict (another window saved the study's read meanwhile, which the reader's would
change: :mod:`~mammoview.gui.read_conflict`) is the read saved there, said :data:`IN_CONFLICT`.  That one is the
study's read of record: what reopening the study, the other window and a log written after this window closes all
show, and what the reader's becomes only by being saved onto it; an auditor reading the log finds the record, and is
told that another read of the study waits.  Where the reader's is kept is said on screen, not in the log: a conflict
copy's name is a plain hash of the study key, which for a CBIS-DDSM key can be traced back to the patient.

File ▸ Export worklist read log… (``Ctrl+Alt+G``).  Never overwrites a file silently.  The saved reads are read and
the log written in a worker thread (:class:`~mammoview.gui.export_job.ExportJob`): read on the GUI thread, they froze
the window 27 ms for 500 studies on a local disk, and a network share's latency once per study.  The window closing
stops the job before the next study's read: the log is written whole or not at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from mammoview.gui.background_jobs import Cancelled, JobCancelled, Progress
from mammoview.gui.pseudonym import study_pseudonym
from mammoview.gui.read_state import ReaderDecision, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.worklist import views_text
from mammoview.io.files import atomic_write_bytes
from mammoview.io.model import StudyInfo
from mammoview.io.priors import prior_of
from mammoview.io.study import read_key

if TYPE_CHECKING:
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.read_conflict import Conflict

COLUMNS = ("n", "study", "views", "first_read_done", "done_at", "reading_seconds", "assessment", "density",
           "assessment_after_cad", "density_after_cad", "changed_after_cad", "marks_first_read", "marks_after_cad",
           "measurements", "cad_model", "cad_abnormal", "cad_malignant", "cad_marks", "cad_density",
           "prior_of", "not_saved")  # fmt: skip

#: ``first_read_done`` of a study whose saved read this mammoview cannot read (damaged, or a newer version's)
UNREADABLE = "unreadable"
#: ``not_saved`` of a row that is the reader's read, whose save failed: not on disk, in this window only
NOT_SAVED = "save failed"
#: ``not_saved`` of a row that is the study's saved read while the reader's, which would change it, is not saved
IN_CONFLICT = "in conflict"


def _decision(d: ReaderDecision) -> tuple[str, str]:
    return (d.assessment.value if d.assessment is not None else "", d.density or "")


def read_log_rows(studies: Sequence[StudyInfo], store: ReadStore, unsaved: Mapping[str, ReadState] | None = None,
                  conflicts: Mapping[str, Conflict] | None = None,
                  cancelled: Cancelled | None = None) -> list[dict[str, str]]:  # fmt: skip
    """One row per study, in worklist order (empty fields where nothing was saved; ``prior_of``: the row of the
    same woman's newest exam when this study is its prior, there to compare with, not a study of the batch).
    ``unsaved``: reads whose save failed, each the reader's read rather than what is on disk (:data:`NOT_SAVED`),
    but those of them in ``conflicts`` (:attr:`ReadStore.conflicts`), whose row is the read on disk
    (:data:`IN_CONFLICT`).  ``cancelled``: looked at before each study's read (JobCancelled), so a window closing
    waits for one read from a slow share, not all of them."""
    rows = []
    priors = prior_of(studies)
    unsaved, conflicts = unsaved or {}, conflicts or {}
    for n, study in enumerate(studies, 1):
        if cancelled is not None and cancelled():
            raise JobCancelled
        saved_as = read_key(study)  # (not the study key: that of a study of two women's UID is not always the same)
        pending = unsaved.get(saved_as.key)
        in_conflict = pending is not None and saved_as.key in conflicts
        state = store.peek(saved_as) if pending is None or in_conflict else pending
        row = dict.fromkeys(COLUMNS, "")
        row.update(n=str(n), study=study_pseudonym(study.key)[:16], views=views_text(study), first_read_done="no")
        if pending is not None:
            row["not_saved"] = IN_CONFLICT if in_conflict else NOT_SAVED
        if (newest := priors.get(n - 1)) is not None:
            row["prior_of"] = str(newest + 1)
        if state is None and store.unreadable(saved_as):
            # damaged, or a newer mammoview's: never written as a study not read (reader-study would drop it unsaid)
            row["first_read_done"] = UNREADABLE
        if state is not None:
            row["first_read_done"] = "yes" if state.first_read_done else "no"
            row["done_at"] = state.done_at or ""
            row["reading_seconds"] = f"{state.reading_seconds:.1f}"
            row["assessment"], row["density"] = _decision(state.decision)
            row["marks_first_read"] = str(sum(not m.after_cad for m in state.marks))
            row["measurements"] = str(len(state.measurements))
            if state.first_read_done:
                row["assessment_after_cad"], row["density_after_cad"] = _decision(state.decision_after_cad)
                row["changed_after_cad"] = "yes" if state.decision_after_cad != state.decision else "no"
                row["marks_after_cad"] = str(sum(m.after_cad for m in state.marks))
            if (cad := state.cad_seen) is not None:
                # no breast in any view: the CAD read nothing, and its 0 is no score (reader-study's AUC must not
                # take it for the lowest one); the CAD was shown all the same (cad_model)
                scores = (
                    {"cad_abnormal": f"{cad.abnormal:.4f}", "cad_malignant": f"{cad.malignant:.4f}"} if cad.read else {}
                )
                row.update(cad_model=cad.model, cad_marks=str(cad.findings), cad_density=cad.density or "", **scores)
        rows.append(row)
    return rows


def taken(path: Path) -> str:
    return f"{path} exists: choose another name (a read log is never overwritten)"


def write_read_log(path: Path, rows: Sequence[dict[str, str]]) -> None:
    """Write ``rows`` as CSV, atomically; FileExistsError if ``path`` exists, or appears while the log is made (another
    window's log of the same name: placed ``exclusive``, it stays and this one is not written)."""
    if path.exists():
        raise FileExistsError(taken(path))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    try:
        atomic_write_bytes(path, buf.getvalue().encode("utf-8"), exclusive=True, private=False)
    except FileExistsError:
        raise FileExistsError(f"{path} was written meanwhile: choose another name (a read log is never "
                              "overwritten)") from None  # fmt: skip


def export_read_log(window: MainWindow, path: Path | None = None) -> bool:
    """Start writing the worklist's read log to ``path`` (asked for when None) in a worker thread; whether it started.
    The outcome comes later (:attr:`MainWindow.read_log_export`): the status bar says what was written, problems
    come as dialogs."""
    if not len(window.worklist):
        window.show_status("No worklist: open a folder of studies first.", 5000)
        return False
    if window.read_log_export.refused():  # (said before the file dialog: no name chosen for nothing)
        return False
    if path is None:
        start = str(Path(window.settings.value("file/last_dir", str(Path.home()))) / "read-log.csv")
        chosen, _ = QtWidgets.QFileDialog.getSaveFileName(
            window, "Export worklist read log", start, "CSV (*.csv)",
            options=QtWidgets.QFileDialog.Option.DontConfirmOverwrite,  # we refuse instead: never silently
        )  # fmt: skip
        if not chosen:
            return False
        path = Path(chosen)
    if path.exists():  # said at once: the job would read every saved read (a share's latency each) before it
        window.report_problems("Read log not written", [taken(path)])
        return False
    target = path
    # as they are now, copied on the GUI thread: the reader goes on reading (saves, conflicts) while the job reads
    studies, store, reader = [e.study for e in window.worklist.entries], window.worklist.store, window.cad.reader
    unsaved, conflicts = reader.unsaved, dict(reader.store.conflicts)  # (unsaved: a new dict each time)

    def job(_progress: Progress, cancelled: Cancelled) -> list[dict[str, str]]:
        rows = read_log_rows(studies, store, unsaved, conflicts, cancelled)
        if cancelled():  # (the window closed during the last study's read: a log written for nobody)
            raise JobCancelled
        write_read_log(target, rows)
        return rows

    return window.read_log_export.start(job, lambda rows: _written(window, target, rows, studies, conflicts))


def _written(window: MainWindow, path: Path, rows: list[dict[str, str]] | None, studies: Sequence[StudyInfo],
             conflicts: Mapping[str, Conflict]) -> None:  # fmt: skip
    """The log's outcome, said (``rows`` None: its problem was said); ``studies`` and ``conflicts`` as they were when
    it was asked for."""
    if rows is None:
        return
    done = sum(r["first_read_done"] == "yes" for r in rows)
    window.show_status(f"Read log of {len(rows)} studies ({done} read) written to {path}", 8000)
    if unreadable := [r["n"] for r in rows if r["first_read_done"] == UNREADABLE]:
        window.report_problems(
            "Reads that could not be read",
            [f"#{n}: the saved read could not be read (damaged, written by a newer mammoview, or reads saved for "
             f"several parts of one exam); the log's row says first_read_done {UNREADABLE}" for n in unreadable],
        )  # fmt: skip
    in_conflict = []  # (where the reader's is kept is said here, never in the log: see the module's docstring)
    for row, study in zip(rows, studies, strict=True):
        if row["not_saved"] == IN_CONFLICT:
            c = conflicts[read_key(study).key]
            in_conflict.append(f"#{row['n']}: the log's row is the read {c.saved_by} saved{c.saved_at}, the study's "
                               f"read; yours, which would change it, is not saved ({c.kept}); the row says not_saved "
                               f"{IN_CONFLICT}")  # fmt: skip
    if in_conflict:
        window.report_problems("Reads in conflict", in_conflict)
