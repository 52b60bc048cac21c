"""The main window: hanging layout in the centre, menus, status bar, and a right dock area for findings.

Extension points (for the CAD layer and later features)
-------------------------------------------------------
- ``panels[View]`` -> :class:`~mammoview.gui.view_panel.ViewPanel` (overlays, coordinates);
- ``menus["File" | "View" | "Image" | "Help"]``, :meth:`add_menu` (inserted before Help);
- :meth:`add_dock` puts a widget (e.g. a findings list) in the right dock area;
- ``studyShown(LoadedStudy)`` after a study is on screen, ``panelImageChanged(ViewPanel)``
  whenever a panel's image changes (duplicate chosen, view assigned);
- ``statusBar()`` and :meth:`show_status`.
"""

from __future__ import annotations

import logging

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui import dialogs, read_log
from mammoview.gui.actions import ViewerActions
from mammoview.gui.background_jobs import BackgroundJobs
from mammoview.gui.cad_controller import CadController
from mammoview.gui.cad_worker import CadOptions
from mammoview.gui.display_image import DisplayImage
from mammoview.gui.export_job import ExportJob
from mammoview.gui.frames import FrameStepper
from mammoview.gui.hanging_layout import HangingLayout
from mammoview.gui.helper_process import HelperGroup, HelperProcess
from mammoview.gui.image_controls import ImageControls
from mammoview.gui.linking import LinkMode, mark_group_unfitted
from mammoview.gui.loader import LoadedStudy
from mammoview.gui.prior_compare import PriorComparison
from mammoview.gui.read_lock import claim_folder
from mammoview.gui.settings import ViewerSettings
from mammoview.gui.status_bar import ElidingStatusBar
from mammoview.gui.study_display import NO_STUDY, StudyDisplay
from mammoview.gui.study_opening import StudyOpening
from mammoview.gui.texts import format_cursor, study_title
from mammoview.gui.theme import DEFAULT_THEME, apply_theme
from mammoview.gui.view_options import ViewOptions, _enum
from mammoview.gui.view_panel import CursorSample, ViewPanel
from mammoview.gui.window_level import WindowState
from mammoview.gui.worklist import Worklist, WorklistPanel
from mammoview.io.model import StudyInfo, View
from mammoview.io.reader import SpacingOption

log = logging.getLogger(__name__)


class MainWindow(StudyOpening, StudyDisplay, ViewOptions, QtWidgets.QMainWindow):
    """The viewer window.  Open studies with :meth:`open_paths` (non-blocking; :class:`StudyOpening`)."""

    studyShown = QtCore.Signal(object)  # LoadedStudy
    fullResolution = QtCore.Signal(object)  # LoadedStudy: the preview on screen took its full pixels
    panelImageChanged = QtCore.Signal(object)  # ViewPanel
    problemsReported = QtCore.Signal(str, str)  # title, text
    themeChanged = QtCore.Signal(str)  # "dark" / "light"

    def __init__(self, pixel_spacing: SpacingOption = None, settings: ViewerSettings | None = None,
                 cad_options: CadOptions | None = None) -> None:  # fmt: skip
        super().__init__()
        self.setStatusBar(ElidingStatusBar())  # a long message ends in "…", its full text in the tooltip
        self.setObjectName("MammoviewMainWindow")
        self.setWindowTitle("mammoview — research use only")
        self.pixel_spacing = pixel_spacing
        self.settings = settings or ViewerSettings()
        self.hanging = HangingLayout(self)
        self.setCentralWidget(self.hanging)
        self.panels: dict[View, ViewPanel] = self.hanging.panels
        self.jobs = BackgroundJobs(self)
        # A folder's headers are read apart from the study loads: stepping through the worklist on screen while a
        # large folder is read must not drop it (a load made the scan stale, and the folder never opened).
        self.scans = BackgroundJobs(self)
        # The next study of the worklist is decoded while the current one is read.
        self.prefetch = BackgroundJobs(self, priority=QtCore.QThread.Priority.LowPriority)
        # File ▸ Export… and Export worklist read log…, encoded and written in worker threads
        self.picture_export = ExportJob(self, "Export", "Export failed", self, critical=True)
        self.read_log_export = ExportJob(self, "Read log", "Read log not written", self)
        self.prefetch_helper = HelperProcess(nice=10)  # its GIL-bound decodes (started at the first one)
        self.load_helper = HelperGroup(2)  # a study opened: its JPEG 2000 / JPEG-LS files, two at a time
        self._prefetched: LoadedStudy | None = None
        self._prefetching: StudyInfo | None = None  # the study the prefetch decodes
        self._direction = +1  # the reader's way through the worklist (-1 after PgUp): where the prefetch looks
        self._unread_only = False  # ... and whether it skips read studies (after Shift+PgDown)
        self._adopted: StudyInfo | None = None  # ... when the reader stepped to it before it landed
        self._preview_job: int | None = None  # the load job that brings the full pixels of the preview on screen
        self._scan_problems: list[str] = []  # files of the last folder opened that could not be read
        self._study_scan_problems: dict[str, list[str]] = {}  # those of them in a study's folder, by study key
        self._warnings_seen: set[str] = set()  # an image's warnings a study's dialog showed, less the file name
        self.worklist = Worklist(parent=self)
        self.loaded: LoadedStudy | None = None
        self.choices: dict[View, list[DisplayImage]] = {}
        self.unplaced: list[DisplayImage] = []
        #: images the reader assigned a view to, and what they were before (so that the assignment can be undone)
        self.assigned_from: dict[DisplayImage, DisplayImage] = {}
        self._windows: dict[DisplayImage, WindowState] = {}
        self.active_view = View.RCC
        self.link_mode = _enum(LinkMode, self.settings.value("view/link_mode"), LinkMode.PAIRS)
        self.overlay_visible = self.settings.flag("view/overlay_text", True)
        self.scale_bar = self.settings.flag("view/scale_bar", True)
        for panel in [*self.panels.values(), *self.hanging.prior_panels.values()]:
            panel.set_scale_bar(self.scale_bar)
        self.fit_breast_default = self.settings.flag("view/fit_breast", True)
        self.theme = apply_theme(self.settings.value("view/theme", DEFAULT_THEME))
        self.image_controls = ImageControls(
            self.panels, self.active_panel, sync=self.settings.flag("image/sync_window", True)
        )
        self.last_message: tuple[str, str] | None = None
        self.study_problems: list[str] = []  # what the study on screen opened with (StudyDisplay.show_study)

        self.priors = PriorComparison(self)  # the prior exam under the current one (comparison layouts)
        self.frames = FrameStepper(self)  # the slices of a tomosynthesis volume
        self.commands = ViewerActions(self)  # not "actions": that would hide QWidget.actions()
        self.menus = self.commands.menus
        # Messages (loading, problems) take the left of the status bar; the cursor read-out
        # is a permanent widget on the right so messages never hide it.
        self._cursor_label = QtWidgets.QLabel("")
        self._cursor_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 40)
        self.statusBar().addPermanentWidget(self._cursor_label)
        # a pixel spacing given for files without one applies to every study opened: always in sight
        self._spacing_label = QtWidgets.QLabel("")
        self._spacing_label.setToolTip("Image ▸ Pixel spacing for files without one… (Ctrl+Alt+S); empty: guessed")
        self.statusBar().addPermanentWidget(self._spacing_label)
        self._show_given_spacing()
        self.statusBar().addPermanentWidget(QtWidgets.QLabel("Research use only"))
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        for panel in self.panels.values():
            panel.activated.connect(self._activate)
            panel.maximizeRequested.connect(lambda p: self._toggle_maximize(p.view))
            panel.contextMenuRequested.connect(self._context_menu)
            panel.cursorMoved.connect(self._on_cursor)
            panel.windowDragged.connect(self._on_window_drag)
            panel.userRangeChanged.connect(
                lambda p: mark_group_unfitted(self.panels, p.view, self.link_mode, self.hanging.visible_views())
            )
            panel.imageChanged.connect(self.panelImageChanged)
            panel.sliceWheel.connect(self._on_slice_wheel)
        self.hanging.arrangementChanged.connect(self._relink)
        # the read-out named the panel under a mouse that has not moved since: after a layout chosen with the keys it
        # went on naming a panel no longer on screen (the prior's); the next move over a shown one says it again
        self.hanging.arrangementChanged.connect(lambda: self.cursor_text(""))
        self.jobs.progress.connect(self.show_status)
        self.jobs.finished.connect(self._on_job_finished)
        self.jobs.partial.connect(self._on_preview)
        self.jobs.errored.connect(self._on_job_error)
        self.scans.progress.connect(self.show_status)
        self.scans.finished.connect(self._on_job_finished)
        self.scans.errored.connect(self._on_job_error)
        self.prefetch.finished.connect(self._on_prefetched)
        self.prefetch.errored.connect(self._on_prefetch_error)
        self.worklist_panel = WorklistPanel(self.worklist)
        self.worklist_panel.openRequested.connect(self.open_worklist_study)
        self.themeChanged.connect(lambda _name: self.worklist_panel.rebuild())  # its accent colours
        self.worklist_dock = self.add_dock(self.worklist_panel, "Worklist", "worklist_dock")
        self.worklist_dock.hide()  # until a folder of several studies is opened (or the reader shows it)
        toggle = self.worklist_dock.toggleViewAction()
        toggle.setShortcut(QtGui.QKeySequence("Ctrl+Shift+W"))
        toggle.setStatusTip("Show or hide the worklist (the studies of the opened folder)")
        self.menus["View"].addAction(toggle)
        self.commands.actions["worklist"] = toggle

        self.set_layout_mode(self.four_layout)  # a pair or a comparison is per study, not per session
        self._activate(self.panels[View.RCC])
        dialogs.fit_to_screen(self, 1400, 900)
        if (geometry := self.settings.geometry()) is not None:
            self.restoreGeometry(geometry)
        if (state := self.settings.state()) is not None:
            self.restoreState(state)
        self.show_status("Open a study: File ▸ Open folder… (Ctrl+O), or drop files or folders here.")
        for panel in self.panels.values():
            panel.labels.set_empty_note(NO_STUDY, None)
        # Last: the CAD layer adds its menu, toolbar and docks through the extension points above.
        self.cad = CadController(self, cad_options)
        # The first viewer on an app-data folder saves its reads; a second one says at once that it saves none
        # (not at the reader's first mark, after a read begun in the wrong window).
        self.reads_refused: str | None = None
        QtCore.QTimer.singleShot(0, self._claim_reads_folder)

    def _claim_reads_folder(self) -> None:
        try:
            claim_folder(self.cad.reader.store.folder)
        except PermissionError as exc:
            self.show_reads_refused(str(exc))
            self.report_problems("This window does not save reads", [str(exc)])
        except OSError:  # the folder cannot be made: each save says why
            pass

    def show_reads_refused(self, reason: str) -> None:
        """The status bar's lasting "Reads not saved" (once): at opening, or when another computer's viewer took
        the reads folder over later (this one's computer slept past the lock's heartbeat)."""
        self.reads_refused = reason
        if (label := self.statusBar().findChild(QtWidgets.QLabel, "reads_refused")) is None:
            label = QtWidgets.QLabel("Reads not saved")
            label.setObjectName("reads_refused")
            label.setStyleSheet("color: #e0a030; font-weight: bold")
            self.statusBar().insertPermanentWidget(0, label)
        label.setToolTip(reason)
        label.show()

    def reads_saved_again(self) -> None:
        """The reads folder is this window's again (the other viewer quit, or its lock went stale): the lasting
        "Reads not saved" goes."""
        self.reads_refused = None
        if (label := self.statusBar().findChild(QtWidgets.QLabel, "reads_refused")) is not None:
            label.hide()

    # -- extension points --------------------------------------------------------------------
    def add_menu(self, title: str) -> QtWidgets.QMenu:
        """A new top-level menu, placed before Help."""
        menu = QtWidgets.QMenu(title, self)
        self.menuBar().insertMenu(self.menus["Help"].menuAction(), menu)
        self.menus[title.replace("&", "")] = menu
        return menu

    def add_dock(self, widget: QtWidgets.QWidget, title: str, name: str, scroll: bool = False) -> QtWidgets.QDockWidget:
        """Put ``widget`` in the right dock area (``name`` keys its saved state; ``scroll``: in a scroll area, so
        that a tall panel does not set the window's smallest height, e.g. on a 768 px laptop screen)."""
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        if scroll:
            area = QtWidgets.QScrollArea(dock)
            area.setObjectName(f"{name}_scroll")
            area.setWidgetResizable(True)
            area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # the keys stay with the images
            area.setWidget(widget)
            # the contents' width and the vertical scroll bar's beside them (it took its width from the contents)
            area.setMinimumWidth(widget.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width())
            dock.setWidget(area)
        else:
            dock.setWidget(widget)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def show_status(self, text: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    @property
    def prefetched(self) -> LoadedStudy | None:
        """The worklist's next study, decoded in the background while this one is read (or None)."""
        return self._prefetched

    def active_panel(self) -> ViewPanel:
        """The panel the keys act on: the active view's, or while it is off screen (R MLO active, then Alt+2) the
        shown view of its side (the active view comes back with the layout that shows it)."""
        visible = self.hanging.visible_views()
        if self.active_view in visible:
            return self.panels[self.active_view]
        same = [v for v in visible if v.laterality is self.active_view.laterality]
        return self.panels[(same or visible)[0]]

    def show_header(self) -> None:
        """Image ▸ File header: the active view's file header in a window of its own."""
        from mammoview.gui.header_dialog import HeaderDialog

        panel = self.active_panel()
        if panel.image is None:
            self.show_status(f"File header: {panel.view.label} shows no image.", 5000)
            return
        dialog = HeaderDialog(self, panel.view.label, panel.image.info)
        dialog.show()
        dialog.raise_()

    def show_study_problems(self) -> None:
        """Image ▸ Study's problems: what the study on screen opened with, again (a kind of warning said before is
        said in the status bar alone when a study opens, and a dialog once closed was gone)."""
        if self.loaded is None:
            self.show_status("No study open.", 5000)
        elif not self.study_problems:
            self.show_status(f"{study_title(self.loaded.study.info)} opened without problems.", 5000)
        else:
            lines = self.study_problems
            dialogs.message_box(self, QtWidgets.QMessageBox.Icon.Warning, "Study opened with problems",
                                _first_lines(lines), "\n".join(lines))  # fmt: skip

    def export(self) -> None:
        from mammoview.gui.export_dialog import open_export_dialog

        open_export_dialog(self)

    def export_read_log(self) -> None:
        read_log.export_read_log(self)

    def report_problems(self, title: str, lines: list[str], critical: bool = False) -> None:
        """Status line + non-blocking message naming each file and reason; viewing goes on."""
        for line in lines:
            log.warning("%s: %s", title, line)
        text = _first_lines(lines)
        self.last_message = (title, text)
        self.show_status(f"{title}: {lines[0]}" if lines else title)
        icon = QtWidgets.QMessageBox.Icon.Critical if critical else QtWidgets.QMessageBox.Icon.Warning
        dialogs.message_box(self, icon, title, text, "\n".join(lines))
        self.problemsReported.emit(title, text)

    # -- help ---------------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        dialogs.shortcuts_dialog(self, self.commands.all_actions())

    def show_about(self) -> None:
        dialogs.about_box(self)

    # -- panel events ----------------------------------------------------------------------------------
    def _activate(self, panel: ViewPanel) -> None:
        self.active_view = panel.view
        self._frame_active()

    def _frame_active(self) -> None:
        """The blue frame on the panel the keys act on."""
        shown = self.active_panel()
        for p in self.panels.values():
            p.set_active(p is shown)

    def _on_cursor(self, panel: ViewPanel, sample: CursorSample | None) -> None:
        self.cursor_text(format_cursor(sample) if sample is not None else "")

    def cursor_text(self, text: str) -> None:
        """The status bar's permanent cursor read-out."""
        self._cursor_label.setText(text)

    def _context_menu(self, panel: ViewPanel, pos: QtCore.QPoint) -> None:
        self._activate(panel)
        self.commands.context_menu(panel).popup(pos)

    # -- window events ------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.cad.confirm_quit():  # a read the disk refused is not dropped without asking
            event.ignore()
            return
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        # off the screen before the threads are waited for: the CAD's model, loaded from start-up, cannot be stopped
        # mid-load (seconds where CUDA starts), and the window stood there frozen, the reader's quit seemingly ignored
        self.hide()
        self.cad.shutdown()
        self.picture_export.shutdown()  # (a file being written is waited for: never left half done)
        self.read_log_export.shutdown()
        # every job stale first (none starts another decode, nor a fresh helper for it), then the helpers killed: a
        # load, prefetch or prior load waiting for a decode in one ends now (the window froze up to a J2K decode,
        # seconds on a busy machine); what they decode is not needed any more
        self.scans.cancel()
        self.jobs.cancel()
        self.prefetch.cancel()
        self.priors.jobs.cancel()
        self.prefetch_helper.shutdown(kill=True)
        self.load_helper.shutdown(kill=True)
        self.priors.shutdown()
        self.frames.shutdown()
        self.scans.shutdown()
        self.jobs.shutdown()
        self.prefetch.shutdown()
        super().closeEvent(event)


def _first_lines(lines: list[str], shown: int = 12) -> str:
    """A problem box's text: the first ``shown`` lines and how many more (all of them under Show Details)."""
    more = f"\n… and {len(lines) - shown} more" if len(lines) > shown else ""
    return "\n".join(lines[:shown]) + more
