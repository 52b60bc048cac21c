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
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui

from mammoview.cad.cad_input import readable_by_cad
from mammoview.cad.operating import describe_point
from mammoview.cad.render import threshold_level
from mammoview.cad.types import ImageCadResult, ModelInfo, StudyCadResult, heat_probability
from mammoview.gui import dialogs
from mammoview.gui.assessment import AssessmentControls
from mammoview.gui.cad_actions import DEVICES, LAYERS, build_cad_actions, build_toolbar
from mammoview.gui.cad_dock import LOCKED_TIP, CadDock, keep_keys_on_the_images, model_text
from mammoview.gui.cad_jobs import CadRunner
from mammoview.gui.cad_overlays import PanelOverlay, load_style, save_style
from mammoview.gui.cad_worker import CadOptions, ModelChoice
from mammoview.gui.findings_panel import DockFit, FindingsPanel
from mammoview.gui.heatmap_layer import MAP_NAMES
from mammoview.gui.mark_tool import MarksTool
from mammoview.gui.matching import MatchRow, ViewCad, match_study
from mammoview.gui.measure_tool import Length, MeasureTool, measurement_length
from mammoview.gui.nipple_band import NippleBand
from mammoview.gui.read_lock import saving_refused
from mammoview.gui.read_state import (
    CadSeen,
    Measurement,
    ReaderMark,
    image_key,
    info_key,
    on_slice,
    study_image_key,
    study_info_key,
)
from mammoview.gui.reader_actions import ReaderActions
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.gui.score_labels import (
    BreastScoreLabels,
    exam_text,
    implant_text,
    no_breast_text,
    skipped_text,
    spacing_text,
    synthesized_text,
)
from mammoview.io.model import ImageInfo, MammoImage, PixelSpacing, View
from mammoview.io.study import read_key

if TYPE_CHECKING:
    from mammoview.cad.weights import LoadedModel
    from mammoview.gui.loader import LoadedStudy
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.view_panel import ViewPanel

#: the findings panel before the study has a CAD result: the CAD runs now, or has not run
RUNNING = "CAD is running on this study: its findings appear here when it is done (the status bar's Cancel stops it)."
NOT_RUN = "CAD has not run for this study yet (Ctrl+R)."
#: Actions that need a model / that show CAD (disabled while unavailable / locked).
_NEED_MODEL = ("run", "cancel", "auto")
_SHOW_CAD = ("show", "export_sr", "next_map", "opacity_up", "opacity_down", "threshold_up", "threshold_down",
             *(n for n in LAYERS if n != "reader"), *(f"map_{n}" for n in MAP_NAMES))  # fmt: skip


class CadController(ReaderActions, QtCore.QObject):
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
        self.prior_measure = MeasureTool(window.hanging.prior_panels, self.reader, self, key=study_image_key)
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
        QtCore.QTimer.singleShot(0, self.runner.probe)

    # -- model and jobs (CadRunner does the work) ---------------------------------------------------
    @property
    def model_info(self):  # type: ignore[no-untyped-def]  # ModelInfo | None
        return self.runner.model_info

    @property
    def unavailable(self) -> str | None:
        return self.runner.unavailable

    @property
    def job(self):  # type: ignore[no-untyped-def]  # CadJob | None
        return self.runner.job

    def run(self) -> None:
        """Run CAD on the shown views (Ctrl+R); a session-cached result is reused."""
        if self.window.loaded is None or self.study_key is None:
            self.window.show_status("CAD: open a study first.", 4000)
        elif self.window.loaded.preview:  # the CAD reads the full pixels only (mammoview.io.preview)
            self._run_on_full_resolution = True
            self.window.show_status("CAD starts once the full-resolution pixels are decoded (a few seconds).", 6000)
        elif self.unavailable:
            self.window.show_status(f"CAD unavailable: {self.unavailable}", 8000)
        else:
            shown = [self._cad_image(view, p.image) for view, p in self.window.panels.items() if p.image is not None]
            # the other images of a view that the CAD reads as well (a retake, a large breast's second
            # exposure), so that none of the breast goes unread; not raw, close-up or multi-frame images
            others = [d.image for view in View for d in self.window.choices.get(view, [])
                      if d.image not in shown and readable_by_cad(d.image)]  # fmt: skip
            self.runner.run(shown + others)

    def _cad_image(self, view: View, image: MammoImage) -> MammoImage:
        """What the CAD reads for a panel: its image, or for a volume's slice or a raw (FOR PROCESSING) image the
        view's first image the CAD reads when there is one (the CAD refuses volumes and reads no raw image; the
        result must not depend on which of the view's images is up). A close-up shown is refused with a message."""
        if image.info.tomosynthesis or image.info.meta.for_processing:
            flat = [d.image for d in self.window.choices.get(view, []) if readable_by_cad(d.image)]
            return flat[0] if flat else image
        return image

    def cancel(self) -> None:
        self.runner.cancel()

    def confirm_quit(self) -> bool:
        """Whether the viewer may quit: every read is saved (reads whose save failed are tried again), or the reader
        chose to quit and lose those still not saved."""
        errors = self.reader.retry_unsaved()
        if not errors:
            return True
        n = len(errors)
        if saving_refused(self.reader.store.folder):  # never saves here, even once the other viewer is closed
            advice = ("No: it stays on screen, to be read again in the viewer that saves reads; this window "
                      "cannot save it, even after that one is closed.")  # fmt: skip
        else:
            advice = "No: it stays on screen; free some space and quit again."
        return dialogs.ask_yes_no(
            self.window, "Reads not saved",
            f"Your read of {n} stud{'y' if n == 1 else 'ies'} is not saved ({errors[0]}).\n\n"
            f"Quit anyway and lose it? ({advice})",
        )  # fmt: skip

    def shutdown(self) -> None:
        self.reader.close_study()
        self.runner.shutdown()

    def reload_model(self) -> None:
        self.runner.reload()

    def use_model_loader(self, loader: Callable[[], LoadedModel]) -> None:
        """Obtain the model from ``loader`` from now on (tests, embedding)."""
        self.runner.reload(loader)

    def set_device(self, device: str) -> None:
        self.device_pref = device
        self.window.settings.set_value("cad/device", device)
        self.runner.set_device(device)
        self.window.show_status(f"CAD device: {device} (from the next run)", 4000)

    def set_auto(self, enabled: bool) -> None:
        self.auto_run = enabled
        self.window.settings.set_value("cad/auto_run", enabled)

    def _on_model_changed(self) -> None:
        if self.result is None and (cached := self._of_shown(self.runner.cached(self.study_key))) is not None:
            self._show_result(cached)
        self._sync_controls()

    def _of_shown(self, result: StudyCadResult | None) -> StudyCadResult | None:
        """``result`` when it was computed on the files of the study on screen (the same study opened from another
        folder has its own files: the cached result's marks, matched by path, would be missing from it)."""
        loaded = self.window.loaded
        files = {str(i.path) for i in loaded.study.info.images} if loaded is not None else set()
        return result if result is not None and {r.path for r in result.images} <= files else None

    def _on_running_changed(self) -> None:
        if self.result is None:  # the panels say the CAD runs, or no longer does
            self._update_findings()
            self._sync_controls()

    def _on_result(self, study_key: str, result: StudyCadResult) -> None:
        if study_key == self.study_key and self._of_shown(result) is not None:
            self._show_result(result)
            if not self.unlocked:
                self.window.show_status("CAD result ready; shown after the first read is done (Ctrl+D).", 8000)

    def set_result(self, result: StudyCadResult) -> None:
        """Use ``result`` for the open study (planted results in tests, imported results)."""
        self.runner.cache[(self.study_key or "", result.model.sha256)] = result
        self._show_result(result)

    def _show_result(self, result: StudyCadResult) -> None:
        self._use_result(result)
        self.rebuild()

    def _use_result(self, result: StudyCadResult | None) -> None:
        self.computed = result
        self.result = self._at_operating_point(result) if result is not None else None

    # -- operating point -----------------------------------------------------------------------------
    def operating_fpi(self, model: ModelInfo | None = None) -> float | None:
        """The false marks per image the shown findings are cut at: the chosen rate, or where its model's curve does
        not reach it the loosest rate of the Marks menu's (None: the model's own threshold, or a model without a
        curve).  Always one of the menu's points: a rate between them (cut at the curve's end) showed the menu at
        "Default", which choosing did not bring back."""
        m = model or (self.computed.model if self.computed is not None else self.model_info)
        rate, curve = self.style.operating_fpi, m.operating_curve if m is not None else None
        if rate <= 0 or curve is None:
            return None
        offered = [r for r, _threshold, _found in curve.points() if r <= rate]
        return offered[-1] if offered else None

    def operating_threshold(self, model: ModelInfo | None = None) -> float | None:
        """The findings' threshold at the chosen operating point (None: the model's own / no model)."""
        m = model or (self.computed.model if self.computed is not None else self.model_info)
        rate = self.operating_fpi(m)
        if rate is None or m is None or m.operating_curve is None:
            return None
        return m.operating_curve.threshold_for(rate)

    def shown_threshold(self) -> float | None:
        """The threshold the shown marks are cut at, as :meth:`operating_text` names it (None: no result)."""
        if self.result is None:
            return None
        thr = self.operating_threshold(self.result.model)
        return self.result.model.finding_threshold if thr is None else thr

    def _at_operating_point(self, result: StudyCadResult) -> StudyCadResult:
        thr = self.operating_threshold(result.model)
        if thr is None:  # the model's own threshold: what the engine computed, unless cut at another point
            thr = result.model.finding_threshold
            if all(r.threshold in (None, thr) for r in result.images):
                return result
        try:
            return result.at_threshold(thr)
        except ValueError as exc:  # a result without maps (imported): shown as computed
            self.window.show_status(f"Operating point not applied: {exc}", 6000)
            return result

    def set_operating_point(self, fpi: float) -> None:
        """Show the findings at ``fpi`` false marks per image on the model's validation curve (0: its default)."""
        self._restyle(operating_fpi=float(fpi))
        m = self.computed.model if self.computed is not None else self.model_info
        if m is not None and self.unlocked:
            self.window.show_status(f"CAD marks at {self.operating_text(m)} (validation)", 6000)

    def operating_text(self, model: ModelInfo) -> str:
        """The shown marks' operating point: ``p >= 0.971 · 1.0 FP/img · finds 62%``."""
        thr = self.operating_threshold(model)
        if thr is None:
            return describe_point(model.finding_threshold, model.operating_curve)
        return describe_point(thr, model.operating_curve, rate=self.operating_fpi(model))

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
        self.reader.open_study(read_key(loaded.study.info))  # -> changed -> rebuild
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

    # -- drawing -------------------------------------------------------------------------------------------
    def image_result(self, panel: ViewPanel) -> ImageCadResult | None:
        return self.result_for(panel.image) if panel.image is not None else None

    def result_for(self, image: MammoImage) -> ImageCadResult | None:
        """The CAD result of ``image`` (shown or not), or None."""
        if self.result is None:
            return None
        path = str(image.path)
        return next((r for r in self.result.images if r.path == path), None)

    def _panel_marks(self, panel: ViewPanel) -> list[ReaderMark]:
        if panel.image is None:
            return []
        key, image = image_key(panel.image), panel.image
        return [m for m in self.reader.marks if m.view is panel.view and m.image == key and on_slice(m, image)]

    def mark_on_screen(self, mark: ReaderMark) -> bool:
        """Whether ``mark`` is drawn now: the reader's marks shown (My marks), its panel shown by the layout, with the
        image (and slice) it is on."""
        panel = self.window.panels[mark.view]
        return self.style.reader and panel.isVisible() and mark in self._panel_marks(panel)

    def _build(self, panel: ViewPanel) -> None:
        shown = self.image_result(panel) if self.unlocked else None  # locked: no CAD item is created at all
        self.overlays[panel.view].build(shown, self._panel_marks(panel), self.style, self.shown_threshold())
        self._panel_info[panel.view] = panel.image.info if panel.image is not None else None

    def rebuild(self) -> None:
        """Rebuild every panel's overlays, the score labels and the findings panel."""
        self.band.clear()
        for panel in self.window.panels.values():
            self._build(panel)
        mark = self.selected_mark  # building dropped the highlights: the selected mark's comes back, or it goes
        if mark is not None and mark in self._panel_marks(self.window.panels[mark.view]):
            self.overlays[mark.view].set_highlight((mark.x, mark.y))
        else:
            self.selected_mark = None
        self._after_change()
        if self.unlocked and self.result is not None:
            self.reader.record_cad(CadSeen.of(self.result))
            self.resultShown.emit()

    def _drop_finding_selection(self) -> None:
        """The findings list was filled again, its selection gone: a selected finding's square and band go with it
        (one of a kind switched off stayed on screen and in an export, its row no longer listed); a selected mark
        keeps its square, as after a rebuild."""
        self.band.clear()
        mark = self.selected_mark
        for view, overlay in self.overlays.items():
            overlay.set_highlight((mark.x, mark.y) if mark is not None and view is mark.view else None)

    def _on_panel_changed(self, panel: ViewPanel) -> None:
        loaded = self.window.loaded
        if loaded is None or loaded.study.key != self.study_key:
            return  # a new study is being put up; studyShown rebuilds everything
        info = panel.image.info if panel.image is not None else None
        same_image = info is not None and info.same_image(self._panel_info.get(panel.view))
        self._build(panel)  # the panel dropped its overlays with its image
        if not same_image:  # another slice of the same volume changes no finding, score or selection
            self._after_change()
        mark = self.selected_mark
        if mark is not None and mark.view is panel.view:
            if mark not in self._panel_marks(panel):
                self.selected_mark = None  # not drawn any more (another slice or image): Del must not delete it unseen
            elif same_image:
                self.overlays[panel.view].set_highlight((mark.x, mark.y))  # the selected mark's slice came back

    def _on_save_failed(self, msg: str) -> None:
        """A save failed: the dialog once per reason (a full disk failed every mark, one critical box each), the
        status bar each time; said again after saves have worked."""
        if msg == self._save_failure_said:
            self.window.show_status(f"Read not saved: {msg}", 8000)
            return
        self._save_failure_said = msg
        self.window.report_problems("Read not saved", [msg], critical=True)

    def _on_marks_changed(self) -> None:
        if not self.reader.unsaved:  # every read is on disk again: a new failure is said in full
            self._save_failure_said = None
        if self.selected_mark is not None and self.reader.mark(self.selected_mark.id) is None:
            self._unselect_mark()  # deleted or undone: its highlight goes with it
        if self.unlocked and any(o.result is None and self.image_result(o.panel) for o in self.overlays.values()):
            self.rebuild()  # just unlocked: the CAD layers appear
            return
        for view, panel in self.window.panels.items():
            self.overlays[view].set_reader_marks(self._panel_marks(panel), self.style)
        self._after_change()

    def _after_change(self) -> None:
        self._update_scores()
        self._update_findings()
        self._sync_controls()

    def _update_scores(self) -> None:
        show = self.unlocked and self.result is not None and self.style.cad and self.style.scores
        r = self.result if show else None
        curve = r.model.operating_curve if r is not None else None
        self.scores.update_scores(r.breasts if r is not None else None, self.window.hanging.rows(), curve,
                                  self.shown_threshold())  # fmt: skip
        for overlay in self.overlays.values():  # the score labels keep clear of the breasts' labels
            overlay.place_labels()

    def other_results(self, view: View) -> list[tuple[str, MammoImage, ImageCadResult]]:
        """The images of ``view`` besides the shown one that the CAD analysed (a retake, a second exposure):
        ``(note, image, result)``, the note saying which they are, e.g. "2 of 2"."""
        panel = self.window.panels[view]
        options = self.window.choices.get(view, [])
        found = []
        for i, option in enumerate(options):
            other = option.image
            if panel.image is not None and other is not panel.image and (r := self.result_for(other)) is not None:
                found.append((f"{i + 1} of {len(options)}", other, r))
        return found

    def match_rows(self) -> list[MatchRow]:
        """Rows of the shown images, and of the other images of each view that the CAD analysed (``note``)."""
        views = []
        for v, panel in self.window.panels.items():
            if panel.image is not None:
                views.append(ViewCad(v, image_key(panel.image), self.image_result(panel)))
                views += [ViewCad(v, image_key(img), r, note=note) for note, img, r in self.other_results(v)]
                # the view's other images that the CAD did not read (a tomosynthesis volume) but the reader marked
                listed, options = {vc.image for vc in views if vc.view is v}, self.window.choices.get(v, [])
                for i, option in enumerate(options):
                    key = image_key(option.image)
                    if key not in listed and any(m.view is v and m.image == key for m in self.reader.marks):
                        views.append(ViewCad(v, key, None, note=f"{i + 1} of {len(options)}"))
                        listed.add(key)
        # a mark whose image is not hung as its view now (the reader's view assignment of an unplaced or mislabelled
        # image changed after the mark, or one saved by an older mammoview): listed all the same, never left out
        covered = {(vc.view, vc.image) for vc in views}
        for m in self.reader.marks:
            if (m.view, m.image) not in covered:
                views.append(ViewCad(m.view, m.image, None, note="image not hung here"))
                covered.add((m.view, m.image))
        return match_study(views, self.reader.marks, self.style.kinds())

    def _update_findings(self) -> None:
        if self.study_key is None:
            self.findings.show_locked(self.reader.marks, "No study open: File ▸ Open folder… (Ctrl+O).")
        elif not self.unlocked:
            self.findings.show_locked(self.reader.marks, "CAD is hidden until you mark the first read as done "
                                      "(Ctrl+D). Place your own marks in Mark mode (R).")  # fmt: skip
        elif self.result is None:
            self.findings.show_locked(self.reader.marks, RUNNING if self.runner.running else NOT_RUN)
        else:
            m = self.result.model
            n = sum(len(r.findings) for r in self.result.images)
            kinds = self.style.kinds()
            hidden = sum(not kinds.get(f.kind.value, True) for r in self.result.images for f in r.findings)
            off = f" ({hidden} of a kind switched off)" if hidden else ""  # the groups below list the others
            not_run = "".join(f" · {s.label} not analysed" for s in self.result.skipped)
            note = f"{n} CAD finding(s){off} at {self.operating_text(m)} · {m.label}{not_run}"
            self.findings.show_rows(self.match_rows(), note, self.shown_threshold())
        self.findings.show_measurements([(x, self.length(x).text + (" · prior" if self.on_prior(x) else ""))
                                         for x in self.reader.measurements])  # fmt: skip

    def current_image_keys(self) -> set[str]:
        """The image keys of the study on screen (a measurement on another image was made on its prior)."""
        loaded = self.window.loaded
        return {info_key(i) for i in loaded.study.info.images} if loaded is not None else set()

    def length(self, m: Measurement) -> Length:
        """``m``'s length with its image's pixel spacing: the panel showing it (current or prior), else the header
        of that image among the opened studies (a prior not on screen)."""
        for tool in (self.measure_tool, self.prior_measure):
            panel = tool.panels[m.view]
            if panel.image is not None and tool.key(panel.image) == m.image:
                return tool.length(m)
        infos = (i for e in self.window.worklist.entries for i in e.study.images)
        found = next((i for i in infos if m.image in (info_key(i), study_info_key(i))), None)
        if found is not None:
            return measurement_length(m, found.spacing)
        # its image is not open (a prior not loaded this time): the spacing saved with it when it was measured
        saved = PixelSpacing(*m.spacing, "saved with the measurement") if m.spacing is not None else None
        return measurement_length(m, saved)

    def on_prior(self, m: Measurement) -> bool:
        """Whether ``m`` was measured on a prior exam (its image is none of the shown study's)."""
        return m.image not in self.current_image_keys()

    # -- style ---------------------------------------------------------------------------------------------
    def set_flag(self, name: str, on: bool) -> None:
        self._restyle(**{name: bool(on)})

    def set_map(self, name: str) -> None:
        self._restyle(map_name=name)

    def cycle_map(self) -> None:
        i = MAP_NAMES.index(self.style.map_name) if self.style.map_name in MAP_NAMES else -1
        self.set_map(MAP_NAMES[(i + 1) % len(MAP_NAMES)])
        self.window.show_status(f"Heatmap: {self.style.map_name}", 2000)

    def nudge(self, name: str, delta: float) -> None:
        self._restyle(**{name: min(1.0, max(0.0, round(getattr(self.style, name) + delta, 2)))})

    def nudge_threshold(self, steps: int) -> None:
        """Move the heatmap threshold ``steps`` x 8 levels (half a log-odds unit each) up or down."""
        level = min(255, max(0, threshold_level(self.style.threshold) + 8 * steps))
        self._restyle(threshold=float(heat_probability(level)))

    def _restyle(self, **changes: object) -> None:
        before = self.style
        self.style = replace(self.style, **changes)  # type: ignore[arg-type]
        save_style(self.window.settings, self.style)
        if self.style.operating_fpi != before.operating_fpi:
            self._use_result(self.computed)  # other findings: every layer is rebuilt
            self.rebuild()
            return
        for overlay in self.overlays.values():
            overlay.apply(self.style)
        if not self.style.cad:
            self.band.clear()
        self._update_scores()
        if self.style.kinds() != before.kinds():
            self._update_findings()
            self._drop_finding_selection()
        self._sync_controls()

    def _sync_controls(self) -> None:
        a, st, why_not = self.actions, self.style, self.unavailable
        for name in LAYERS:
            a[name].setChecked(getattr(st, name))
        a["show"].setChecked(st.cad)
        a[f"map_{st.map_name}"].setChecked(True)
        a[f"kind_{self.marks_tool.kind.value}"].setChecked(True)
        a["auto"].setChecked(self.auto_run)
        a["undo"].setEnabled(self.reader.can_undo)
        a["redo"].setEnabled(self.reader.can_redo)
        locked = not self.unlocked
        blocked = LOCKED_TIP if locked else f"CAD unavailable: {why_not}" if why_not else ""
        for name in _SHOW_CAD:
            a[name].setEnabled(not blocked)
            a[name].setToolTip(blocked or a[name].statusTip())
        for name in _NEED_MODEL:
            a[name].setEnabled(not why_not)
            a[name].setToolTip(f"CAD unavailable: {why_not}" if why_not else a[name].statusTip())
        if self.study_key is None:  # nothing to run the CAD on, mark or measure
            for name in ("run", "mark_mode", "measure"):
                a[name].setEnabled(False)
                if not (name == "run" and why_not):  # (a missing model is the reason that lasts)
                    a[name].setToolTip("Open a study first (File ▸ Open folder…, Ctrl+O)")
        else:
            for name in ("mark_mode", "measure"):
                a[name].setEnabled(True)
                a[name].setToolTip(a[name].statusTip())
        a["done"].setEnabled(self.study_key is not None and locked)
        m = self.computed.model if self.computed is not None else self.model_info
        # the point applied: a choice this model's curve does not reach is cut at its loosest point of the menu
        self.dock.set_operating_points(m, self.operating_fpi(m) or 0.0)
        self.dock.sync(st, self.marks_tool.kind)
        state = ("No study open." if self.study_key is None else "First read in progress: CAD hidden." if locked
                 else "First read done: CAD shown." if self.result is not None
                 else "First read done: CAD running…" if self.runner.running
                 else "First read done: CAD has not run yet (Ctrl+R).")  # fmt: skip
        if not locked and self.result is not None:
            state += "\n" + exam_text(self.result, self.shown_threshold())
            warnings = (skipped_text(self.result), no_breast_text(self.result), spacing_text(self.result),
                        implant_text(self.result), synthesized_text(self.result))  # fmt: skip
            state += "".join(f"\n{w}" for w in warnings if w)
            # an installed density or malignancy model that could not be loaded: the result has no density / the
            # detector's own malignancy, which the reader should know (it was only in the log)
            # (only beside a result made without that model: the reason is of the last look, maybe for another study)
            lacks = {"density": self.result.density_model is None, "malignancy": self.result.malignancy_model is None}
            reasons = dict(self.runner.provider.not_used)  # (a copy: a worker thread may change it)
            state += "".join(f"\n{why[0].upper()}{why[1:]}." for task, why in reasons.items() if lacks.get(task, True))
        self.dock.set_locked(locked or bool(why_not), state)
        self.dock.model_label.setText(model_text(self.model_info, why_not))
