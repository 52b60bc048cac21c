"""The CAD second reader in the viewer: the first-read lock, overlays, findings panel, marks, export.

Flow
----
A study opens -> the reader's saved read is restored (:class:`ReaderMarks`), a stale
CAD job is cancelled and a cached result (key: study key + model SHA-256) is reused
(:class:`CadRunner`).  "Run CAD" (Ctrl+R, or automatically after opening) computes in
a worker thread; the result is kept but nothing of it is drawn -- no heatmap, no mark,
no score -- until the reader marks the first read as done (Ctrl+D).  Then overlays
are built on every panel and the findings panel compares CAD with the reader's marks.

The model is looked for at start-up in a worker thread; when there is none or it is
broken, the CAD actions are disabled with the reason as tooltip and status message,
and the viewer works as before.  What the reader's clicks and keys do to marks,
measurements and findings rows is :class:`~mammoview.gui.reader_actions.ReaderActions`.

The controller is this module's wiring, study and lock plus one mixin per concern, so that
each stays small: running the CAD (:mod:`~mammoview.gui.cad_runs`), the overlay style,
operating point and control states (:mod:`~mammoview.gui.cad_style`), the overlays on the
panels (:mod:`~mammoview.gui.cad_drawing`) and the findings panel's rows and lengths
(:mod:`~mammoview.gui.cad_findings`).
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui

from mammoview.cad.types import StudyCadResult
from mammoview.gui import dialogs
from mammoview.gui.assessment import AssessmentControls
from mammoview.gui.cad_actions import DEVICES, build_cad_actions, build_toolbar
from mammoview.gui.cad_dock import CadDock, keep_keys_on_the_images
from mammoview.gui.cad_drawing import CadDrawing
from mammoview.gui.cad_findings import CadFindings
from mammoview.gui.cad_jobs import CadRunner
from mammoview.gui.cad_overlays import PanelOverlay, load_style
from mammoview.gui.cad_runs import CadRuns
from mammoview.gui.cad_style import CadStyle
from mammoview.gui.cad_worker import CadOptions, ModelChoice
from mammoview.gui.conflict_choice import ConflictChoice, copies_said
from mammoview.gui.findings_panel import DockFit, FindingsPanel
from mammoview.gui.mark_tool import MarksTool
from mammoview.gui.measure_tool import MeasureTool
from mammoview.gui.nipple_band import NippleBand
from mammoview.gui.read_conflict import CONFLICT
from mammoview.gui.read_lock import refusal, saving_refused, try_again
from mammoview.gui.read_lock import signals as reads_folder
from mammoview.gui.read_state import ReaderMark, study_image_key
from mammoview.gui.reader_actions import ReaderActions
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.gui.score_labels import BreastScoreLabels
from mammoview.gui.sr_export import SrExport
from mammoview.gui.texts import study_title
from mammoview.io.model import ImageInfo, View
from mammoview.io.study import read_key

if TYPE_CHECKING:
    from mammoview.gui.loader import LoadedStudy
    from mammoview.gui.main_window import MainWindow

#: seconds the models' start-up load waits for the study being opened to go up (a large folder's scan, a slow share)
PROBE_WAIT_S = 10.0


class CadController(CadStyle, CadDrawing, CadFindings, CadRuns, ReaderActions, ConflictChoice, QtCore.QObject):
    """Owns everything CAD in one main window (created by :class:`MainWindow` as ``window.cad``)."""

    resultShown = QtCore.Signal()  # overlays were (re)built with a CAD result visible

    def __init__(self, window: MainWindow, options: CadOptions | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.options = opts = options or CadOptions()
        s = window.settings
        saved = s.value("cad/device", "auto")
        # a name the menu never wrote (a hand edit's "tpu") failed every run: automatic, as with none saved
        self.device_pref = opts.device or (saved if saved in DEVICES or re.fullmatch(r"cuda:\d+", saved) else "auto")
        self.auto_run = opts.auto_run if opts.auto_run is not None else s.flag("cad/auto_run", False)
        self.style = load_style(s)
        self.runner = CadRunner(window, ModelChoice(opts.model, opts.models_dir, self.device_pref), opts.tile,
                                opts.cam)  # fmt: skip
        self.sr_export = SrExport(self)  # File ▸ Export CAD as DICOM SR, written off the GUI thread
        #: the result as computed (the model's own threshold) and as shown (at the reader's operating point)
        self.computed: StudyCadResult | None = None
        self.result: StudyCadResult | None = None
        self.study_key: str | None = None
        self.selected_mark: ReaderMark | None = None

        self.reader = ReaderMarks(parent=self)
        self.marks_tool = MarksTool(window.panels, self.reader, self)
        self.measure_tool = MeasureTool(window.panels, self.reader, self)
        self.marks_tool.hold = self.measure_tool.hold = window.frames.hold  # a slice stays while it is marked
        self.marks_tool.shown = lambda: self.style.reader  # My marks off: none is drawn, none is clicked on
        # lengths measured on the prior's panels (comparison layouts) belong to this read too: "has it grown?"
        self.prior_measure = MeasureTool(window.hanging.prior_panels, self.reader, self, key=study_image_key,
                                         whose="prior's ")  # fmt: skip
        self.overlays = {view: PanelOverlay(panel) for view, panel in window.panels.items()}
        self._panel_info: dict[View, ImageInfo | None] = {}  # each panel's header when last built (slices share one)
        self.scores = BreastScoreLabels(window.panels, self)
        self.band = NippleBand(window.panels, self)
        self.actions = build_cad_actions(window, self)
        self.toolbar = build_toolbar(window, self.actions)
        self.dock = CadDock(self.actions)
        self.assessment = AssessmentControls(window, self.reader, window.menus["CAD"], self)
        self.dock.insert_section(self.assessment.widget)
        keep_keys_on_the_images(self.dock)
        self.findings = FindingsPanel()
        window.add_dock(self.dock, "CAD", "cad_dock", scroll=True)
        findings_dock = window.add_dock(self.findings, "Findings", "findings_dock")
        if (state := s.state()) is not None:
            window.restoreState(state)  # the window restored before these docks existed
        else:  # first start: once shown, the right column as wide as the findings' columns need
            self._dock_fit = DockFit(window, findings_dock, self.findings.preferred_width)

        self.dock.mapChosen.connect(self.set_map)
        self.dock.opacityChosen.connect(lambda v: self._restyle(opacity=v))
        self.dock.thresholdChosen.connect(lambda v: self._restyle(threshold=v))
        self.dock.operatingChosen.connect(self.set_operating_point)
        self.dock.kindChosen.connect(self.marks_tool.set_kind)
        self.findings.rowActivated.connect(self.focus)
        self.findings.titleActivated.connect(self._select_nothing)
        self.findings.deleteRequested.connect(self.delete_mark)
        self.findings.measurementActivated.connect(self.focus_measurement)
        self.findings.measurementDeleteRequested.connect(self.reader.remove_measurement)
        self.reader.changed.connect(self._on_marks_changed)
        self.reader.changed.connect(lambda: window.worklist.set_state(self.study_key, self.reader.state))
        app = QtGui.QGuiApplication.instance()
        if isinstance(app, QtGui.QGuiApplication):  # the reading clock pauses while another application is in front
            app.applicationStateChanged.connect(
                lambda st: self.reader.set_active(st == QtCore.Qt.ApplicationState.ApplicationActive)
            )
        self._run_on_full_resolution = False  # Run CAD asked for on a preview: run once the full pixels are in
        self._save_failure_said: str | None = None  # the reason a save failed, said once until saves work again
        self.reader.saveFailed.connect(self._on_save_failed)
        self.reader.changed.connect(self._sync_conflict_action)
        self._sync_conflict_action()
        reads_folder.regained.connect(self._on_reads_regained)
        reads_folder.refused.connect(self._on_reads_refused_by_another)
        self.reader.loadFailed.connect(lambda msg: window.report_problems("Your read could not be restored", [msg]))
        self.reader.restored.connect(lambda msg: window.show_status(msg, 15000))
        self.marks_tool.markSelected.connect(self._select_mark)
        for tool, other in ((self.measure_tool, self.prior_measure), (self.prior_measure, self.measure_tool)):
            tool.measuring.connect(lambda text: window.show_status(text, 6000))
            tool.picked.connect(lambda _m, o=other: o.select(None))  # one selection: the one Del deletes
            tool.picked.connect(lambda _m: self._unselect_mark())
        self.runner.modelChanged.connect(self._on_model_changed)
        self.runner.resultReady.connect(self._on_result)
        self.runner.runningChanged.connect(self._on_running_changed)
        window.studyShown.connect(self._on_study_shown)
        window.fullResolution.connect(self._on_full_resolution)
        window.panelImageChanged.connect(self._on_panel_changed)
        window.themeChanged.connect(lambda _name: self._update_findings())  # its accent colours
        window.hanging.arrangementChanged.connect(self._update_scores)
        self._update_findings()
        self._sync_controls()
        QtCore.QTimer.singleShot(0, self, self._probe_after_opening)

    def _probe_after_opening(self, deadline: float | None = None) -> None:
        """Load the models at start-up (the runner's probe), once the study the viewer was started on is up, or at
        once without one: loading them beside the study's decode (importing torch holds the interpreter ~0.3 s at a
        time) doubled its time to the screen (``benchmarks/bench_startup.py``: sfm-malign-0 1.7-1.8 s after the
        open, 0.8-1.0 s since).  A study still opening after :data:`PROBE_WAIT_S` waits no longer."""
        w = self.window
        deadline = time.monotonic() + PROBE_WAIT_S if deadline is None else deadline
        if w.loaded is None and (w.scans.busy or w.jobs.busy) and time.monotonic() < deadline:
            QtCore.QTimer.singleShot(100, self, lambda: self._probe_after_opening(deadline))
            return
        self.runner.probe()

    # -- saving and quitting ------------------------------------------------------------------------------
    def _on_save_failed(self, msg: str) -> None:
        """A save failed: the dialog once per reason (a full disk failed every mark, one critical box each), the
        status bar each time; said again after saves have worked.  The reads folder refused (another viewer saves
        there) is said once, with the lasting "Reads not saved": a window told so as it opened got a second, critical
        dialog at the reader's first mark, for the same cause.  A read in conflict with one another window saved
        meanwhile is the reader's to resolve (:meth:`~.ConflictChoice.resolve_read_conflict`)."""
        if (conflict := self.reader.conflict) is not None and CONFLICT in msg:
            self._on_conflict(conflict)
            return
        reason = refusal(self.reader.store.folder)
        if reason is not None and reason in msg:
            if reason in (self.window.reads_refused or ""):  # (told at opening, or at its first failed save)
                self.window.show_status(f"Read not saved: {msg}", 8000)
                return
            self.window.show_reads_refused(msg)  # (the folder taken over since)
        if msg == self._save_failure_said:
            self.window.show_status(f"Read not saved: {msg}", 8000)
            return
        self._save_failure_said = msg
        self.window.report_problems("Read not saved", [msg], critical=True)

    def _on_reads_regained(self, folder: str) -> None:
        """This window's reads folder, refused while another viewer saved there, is its own again: that viewer quit,
        or its lock went stale (:func:`~mammoview.gui.read_lock.try_again`, at each heartbeat).  The lasting "Reads
        not saved" goes, and what the reader did meanwhile is saved, added to what that viewer saved of the same
        studies meanwhile; where that would change any of it, it stays in this window, said not saved
        (:meth:`~mammoview.gui.read_store.ReadStore.save`).  The open study shows its read as saved now.

        Said only where the window said that reads were not saved: a folder given up and taken back in one beat (this
        computer back from sleep, its lock gone) lost nothing, and "saved again" of reads never said lost puzzled."""
        if folder != os.path.realpath(self.reader.store.folder):
            return
        told = self.window.reads_refused is not None
        self.window.reads_saved_again()
        self._save_failure_said = None
        waiting = set(self.reader.unsaved)
        failed = self.reader.retry_unsaved()
        if (key := self.reader.read_key) is not None:  # (its save failing says so itself: saveFailed)
            self.reader.open_study(key, self.reader.title)  # (the other viewer's marks of it saved meanwhile too)
        saved = waiting - set(self.reader.unsaved)
        # (rows of studies the other viewer read meanwhile, or that this window's reads were added to, were stale)
        self.window.worklist.refresh(unsaved=self.reader.unsaved)
        said = _SAVED_AGAIN if told else ""
        if saved and told:
            said += (f" Your read of {_studies(len(saved))}, not saved meanwhile, is saved now, added to any the "
                     "other window saved meanwhile.")  # fmt: skip
        if said:
            self.window.show_status(said, 15000)
        others = [(study, why) for study, why in failed if study != self.reader.study_key]
        problems = []
        if conflicts := [(study, why) for study, why in others if CONFLICT in why]:
            kept, _all = copies_said(conflicts, self.reader.store.conflicts)
            problems.append(
                f"your read of {_studies(len(conflicts))} is not saved: another mammoview window saved a read of the "
                "same study meanwhile that yours would change. Yours stays in this window, not saved (said again when "
                f"you open the study); the other window's is kept as it saved it.{f' {kept}' if kept else ''}"
            )  # fmt: skip
        if failing := [why for _study, why in others if CONFLICT not in why]:  # (a disk full: not the other window's)
            problems.append(f"your read of {_studies(len(failing))} is still not saved ({failing[0]}): it stays in "
                            "this window, and is tried again at your next action and when you quit.")  # fmt: skip
        if problems:
            first = f"{said} But {problems[0]}" if said else problems[0][0].upper() + problems[0][1:]
            lines = [first, *(p[0].upper() + p[1:] for p in problems[1:])]
            self.window.report_problems("Read not saved", lines, critical=True)

    def _on_reads_refused_by_another(self, folder: str, why: str) -> None:
        """Another viewer than the one said holds the reads folder now (the first quit, another took it): the lasting
        "Reads not saved" names it, and the saves it refuses are said in the status bar as before, no dialog each."""
        if folder == os.path.realpath(self.reader.store.folder) and self.window.reads_refused is not None:
            self.window.show_reads_refused(why)

    def confirm_quit(self) -> bool:
        """Whether the viewer may quit: every read is saved (reads whose save failed are tried again), or the reader
        chose to quit and lose those still not saved (but for those in conflict, kept as conflict copies).  The reads
        folder taken first where the other window closed since the last heartbeat; answered No then, the window shows
        what that one saved (:meth:`_show_saved_reads`)."""
        folder = self.reader.store.folder
        told = self.window.reads_refused is not None
        taken = saving_refused(folder) and try_again(folder)  # (the other window closed since the last heartbeat)
        if taken:
            self.window.reads_saved_again()
            self._save_failure_said = None
        failed = self.reader.retry_unsaved()
        # The open study's read found in conflict just now emits no ``changed``: answered No, the reader must find
        # File ▸ Resolve read conflict… enabled at once, not at their next action.
        self._sync_conflict_action()
        errors = [why for _study, why in failed]
        if not errors:
            return True
        kept, all_kept = copies_said(failed, self.reader.store.conflicts)
        if saving_refused(folder):
            advice = ("No: it stays on screen; this window saves it once the other one is closed (it tries every "
                      "minute, and when you quit again).")  # fmt: skip
        elif any(CONFLICT in e for e in errors):
            advice = "No: it stays on screen, to compare with the read the other window saved, which is kept."
        else:
            advice = "No: it stays on screen; free some space and quit again."
        if dialogs.ask_yes_no(
            self.window, "Reads not saved",
            f"Your read of {_studies(len(errors))} is not saved ({errors[0]}).{f' {kept}' if kept else ''}\n\n"
            f"Quit anyway{'' if all_kept else ' and lose it'}? ({advice})",
        ):  # fmt: skip
            return True
        if taken:  # the reader reads on: what the other window saved meanwhile shows, as at a heartbeat's take-back
            self._show_saved_reads()
            if told:
                self.window.show_status(_SAVED_AGAIN, 15000)
        return False

    def _show_saved_reads(self) -> None:
        """The open study's read and the worklist's rows as the reads folder has them now, this window holding it
        again (another viewer saved reads there meanwhile, and the reads that waited here were added to them); the
        open study's read still waiting for its save stays as it is in this window."""
        if (key := self.reader.read_key) is not None and key.key not in self.reader.unsaved:
            self.reader.open_study(key, self.reader.title)
        self.window.worklist.refresh(unsaved=self.reader.unsaved)

    def shutdown(self) -> None:
        self.reader.close_study()
        self.runner.shutdown()
        self.sr_export.shutdown()

    # -- study and lock ------------------------------------------------------------------------------
    def _on_full_resolution(self, _loaded: LoadedStudy) -> None:
        if self._run_on_full_resolution:
            self._run_on_full_resolution = False
            self.run()

    def _on_study_shown(self, loaded: LoadedStudy) -> None:
        # Run CAD asked for on a preview still runs when its study goes up afresh instead of taking the full pixels
        # (a file whose whole codestream did not decode: shown without it), not when another study goes up
        asked = self._run_on_full_resolution and loaded.study.key == self.study_key
        self._run_on_full_resolution = False
        self.study_key = loaded.study.key
        self.runner.open_study(self.study_key, {str(i.path) for i in loaded.study.info.images})
        self._use_result(self._of_shown(self.runner.cached(self.study_key)))
        self.selected_mark = None
        self.reader.open_study(read_key(loaded.study.info), study_title(loaded.study.info))  # -> changed -> rebuild
        self.rebuild()
        # Reopening a study whose first read is done shows CAD again without asking.
        if asked or ((self.auto_run or self.unlocked) and self.result is None and not self.unavailable):
            self.run()

    def views_changed(self) -> None:
        """The reader gave an image another view (or took it back): the result on screen counted it as the old one
        (its breast's scores, the findings' views), so it is dropped, and computed again where it would be shown."""
        running = self.runner.running  # a run of the old views still going would land on screen after this
        if self.computed is None and not running:
            return
        if running:
            self.runner.drop_running()
        self._use_result(None)
        self.rebuild()
        if (self.auto_run or self.unlocked) and not self.unavailable:
            self.run()
        else:
            self.window.show_status("The views changed: the CAD result was dropped (Ctrl+R runs it again).", 6000)

    def first_read_done(self) -> None:
        """Unlock CAD for this study (saved), and start it if it has not run yet (Ctrl+D)."""
        if self.window.loaded is None:
            self.window.show_status("Open a study first.", 3000)
            return
        if self.reader.set_first_read_done():
            if self.unavailable:  # closed all the same (the unaided read is over), but nothing of the CAD is shown
                self.window.show_status(f"First read done; CAD not shown: unavailable ({self.unavailable}).", 10000)
            else:
                self.window.show_status("First read done: CAD shown.", 5000)
        if self.result is None and not self.unavailable:
            self.run()

    @property
    def unlocked(self) -> bool:
        return self.reader.first_read_done


_SAVED_AGAIN = "Reads are saved again: no other mammoview window holds the reads folder now."


def _studies(n: int) -> str:
    """``n`` studies, as said: "1 study", "3 studies"."""
    return f"{n} stud{'y' if n == 1 else 'ies'}"
