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
from mammoview.gui.breast_fit import fit_default, fit_to_breast
from mammoview.gui.cad_controller import CadController
from mammoview.gui.cad_worker import CadOptions
from mammoview.gui.display_image import DisplayImage
from mammoview.gui.frames import FrameStepper
from mammoview.gui.hanging_layout import HangingLayout, Layout
from mammoview.gui.helper_process import HelperGroup, HelperProcess
from mammoview.gui.image_controls import ImageControls
from mammoview.gui.linking import LinkMode, apply_links, fit_groups, mark_group_unfitted
from mammoview.gui.loader import BackgroundJobs, LoadedStudy
from mammoview.gui.prior_compare import PriorComparison, unreadable_views
from mammoview.gui.read_lock import claim_folder
from mammoview.gui.read_state import image_key
from mammoview.gui.settings import RecentStudy, ViewerSettings
from mammoview.gui.status_bar import ElidingStatusBar
from mammoview.gui.study_opening import StudyOpening
from mammoview.gui.texts import format_cursor, image_kind, study_lines, study_title
from mammoview.gui.theme import DEFAULT_THEME, apply_theme
from mammoview.gui.view_panel import CursorSample, ViewPanel
from mammoview.gui.window_level import Preset, WindowState, slice_window
from mammoview.gui.worklist import Worklist, WorklistPanel
from mammoview.io.model import ImageInfo, StudyInfo, View
from mammoview.io.reader import SpacingOption, format_spacing
from mammoview.io.study import read_key

log = logging.getLogger(__name__)

#: a side below this many pixels is no screening image to read (mini-MIAS, the smallest here, is 1024 px; the
#: CBIS-DDSM JPEGs 800): a thumbnail, an icon or a key image
SMALLEST_READABLE_PX = 256


def too_small(info: ImageInfo) -> str:
    """Why an image is too small to read from ("" when it is not)."""
    if min(info.rows, info.columns) >= SMALLEST_READABLE_PX:
        return ""
    if max(info.rows, info.columns) >= SMALLEST_READABLE_PX:  # long on one side: no thumbnail, a strip
        return (f"{info.columns} x {info.rows} pixels: a strip only {min(info.rows, info.columns)} px across, not a "
                "mammogram to read from")  # fmt: skip
    return f"only {info.columns} x {info.rows} pixels: a thumbnail or icon, not a mammogram to read from"


#: what the empty panels say before any study is open, and where a view's file failed to decode
NO_STUDY = "no study open<br><small>File ▸ Open folder… (Ctrl+O), or drop a folder here</small>"
UNREADABLE_VIEW = "its image could not be read<br><small>the dialog names the file and why</small>"


class MainWindow(StudyOpening, QtWidgets.QMainWindow):
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

        saved = _enum(Layout, self.settings.value("view/layout"), Layout.FOUR)
        self.set_layout_mode(self.four_layout if saved.compares_prior else saved)  # a comparison is per study
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
            self.reads_refused = str(exc)
            label = QtWidgets.QLabel("Reads not saved")
            label.setObjectName("reads_refused")
            label.setStyleSheet("color: #e0a030; font-weight: bold")
            label.setToolTip(str(exc))
            self.statusBar().insertPermanentWidget(0, label)
            self.report_problems("This window does not save reads", [str(exc)])
        except OSError:  # the folder cannot be made: each save says why
            pass

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

    def export(self) -> None:
        from mammoview.gui.export_dialog import open_export_dialog

        open_export_dialog(self)

    def export_read_log(self) -> None:
        read_log.export_read_log(self)

    # -- showing a study -----------------------------------------------------------------------
    def show_study(self, loaded: LoadedStudy) -> None:
        """Put a loaded study on screen (main thread)."""
        self.loaded = loaded
        self.priors.refresh(show=False)  # its priors; the prior's panels are filled by the relink below
        hanging, displays = loaded.hanging, loaded.displays
        self.choices = {}
        for view in View:
            first = hanging.panels.get(view)
            imgs = ([first] if first is not None else []) + list(hanging.alternatives.get(view, ()))
            self.choices[view] = [displays[i] for i in imgs if i in displays]
        self.unplaced = [displays[i] for i in hanging.unplaced if i in displays]
        self.assigned_from = {}
        self._restore_assignments(loaded.study.info)
        self._windows = {}
        failed = unreadable_views(loaded)
        for view, panel in self.panels.items():
            options = self.choices[view]
            panel.labels.set_empty_note(UNREADABLE_VIEW if view in failed and not options else "", panel.display)
            self._show_in_panel(panel, options[0] if options else None)
        self._update_overlay_text()
        self._relink()
        title = study_title(loaded.study.info)
        index = self.worklist.index_of(loaded.study.key)
        if index is not None and index != self.worklist.current:
            self.worklist.set_current(index)
        place = f"[{index + 1}/{len(self.worklist)}] " if index is not None and len(self.worklist) > 1 else ""
        self.setWindowTitle(f"{place}{title} — mammoview — research use only")
        self.settings.add_recent(RecentStudy(tuple(str(i.path) for i in loaded.study.info.images), title))
        own = self._study_scan_problems.get(loaded.study.key, [])
        problems, self._scan_problems = self._scan_problems + own + [str(e) for e in loaded.study.errors], []
        problems += list(hanging.warnings)
        problems += [f"{d.image.path.name}: {w}" for d in displays.values() for w in d.image.info.warnings]
        problems += [f"{d.image.path.name}: {d.image.display.warning}" for d in displays.values()
                     if d.image.display.warning]  # fmt: skip
        problems += [f"{d.image.path.name}: {small}" for d in displays.values() if (small := too_small(d.image.info))]
        if self.unplaced:
            problems.append("To show an image whose view is unknown: right-click the panel of its view (or Image ▸ "
                            "Unplaced images).")  # fmt: skip
        shown = sum(p.display is not None for p in self.panels.values())
        batch = f" {self.worklist.summary()} (PgDown: next)." if place else ""
        notes = "".join(f" {n[0].upper()}{n[1:]}." for n in hanging.notes)  # e.g. an exam of one breast
        if loaded.preview:
            notes += " A preview: full resolution decoding (the CAD and export wait for it)."
        self.show_status(f"{title}: {shown} view(s) shown.{notes}" + (f" {len(problems)} problem(s)." if problems
                         else "") + batch)  # fmt: skip
        if problems:
            self.report_problems("Study opened with problems", problems, critical=bool(loaded.study.errors))
        self.studyShown.emit(loaded)
        if not loaded.preview:  # else once the full decode is in: a prefetch now would slow it
            self._prefetch_next()

    def _show_in_panel(self, panel: ViewPanel, display: DisplayImage | None) -> None:
        window = self._windows.get(display) if display is not None else None
        panel.set_image(display, window)
        options = self.choices.get(panel.view, [])
        extra = [f"({options.index(display) + 1} of {len(options)})"] if display in options and len(options) > 1 else []
        if display is not None:  # what the view is besides its slot: a close-up, a raw image, an implant
            extra += image_kind(display.image.info, display.image.frame, panel.view.projection)
        if display is not None and display.preview:
            extra.append("preview: full resolution decoding")
        panel.labels.set_title_extra(" · ".join(extra))

    def show_choice(self, view: View, index: int) -> None:
        """Show the ``index``-th image claiming ``view`` (duplicates)."""
        options = self.choices.get(view, [])
        if not 0 <= index < len(options):
            return
        panel = self.panels[view]
        if panel.display is not None and panel.window_state is not None:
            self._windows[panel.display] = panel.window_state
        self._show_in_panel(panel, options[index])
        self._fit_default()
        if self.priors.on_screen:  # the comparison's scale and links follow the image now shown (its spacing)
            self.priors.relink()

    def replace_display(self, view: View, old: DisplayImage, new: DisplayImage) -> None:
        """Show ``new`` in place of ``old`` (another slice of the same image), keeping the panel's window/level
        (a window the reader set; the file's default is the slice's own, :func:`slice_window`), zoom and pan and
        ``old``'s place among the view's images."""
        options = self.choices.get(view, [])
        if old in options:
            options[options.index(old)] = new
        panel = self.panels[view]
        window = self._windows.pop(old, None)  # nothing may keep the old slice's pyramid alive
        if panel.display is old:
            window = panel.window_state or window
        if window is not None:
            self._windows[new] = slice_window(window, old.stats, new.stats)
        if panel.display is old:
            self._show_in_panel(panel, new)

    def _on_slice_wheel(self, panel: ViewPanel, step: int) -> None:
        self._activate(panel)
        self.frames.step(step)

    def step_frame(self, delta: int) -> None:
        """Image ▸ Next / Previous slice: the active panel's tomosynthesis volume, ``delta`` frames on."""
        self.frames.step(delta)

    def next_duplicate(self) -> None:
        panel = self.active_panel()
        options = self.choices.get(panel.view, [])
        if len(options) > 1 and panel.display in options:
            self.show_choice(panel.view, (options.index(panel.display) + 1) % len(options))

    def _restore_assignments(self, study: StudyInfo) -> None:
        """Hang the images the reader assigned a view to (saved with the read) there again, before the panels fill."""
        saved = self.cad.reader.saved_assignments(read_key(study))
        if not saved:
            return
        for display in [*self.unplaced, *(d for options in self.choices.values() for d in options)]:
            view = saved.get(image_key(display.image))
            if view is not None and view is not display.view:
                self._move(display, view)

    def _take_out(self, display: DisplayImage) -> None:
        """``display`` out of the unplaced images and every view's choices."""
        if display in self.unplaced:
            self.unplaced.remove(display)
        for options in self.choices.values():
            if display in options:
                options.remove(display)

    def _refill(self, display: DisplayImage, keep: View | None = None) -> None:
        """Every panel (but ``keep``'s) that showed ``display``, taken out, shows its view's first image or none."""
        for v, panel in self.panels.items():
            if v is not keep and panel.display is display:
                options = self.choices.get(v, [])
                self._show_in_panel(panel, options[0] if options else None)

    def _move(self, display: DisplayImage, view: View) -> DisplayImage:
        """``display`` out of the unplaced images or its view's choices, into ``view``'s (last); the assigned image."""
        self._take_out(display)
        assigned = display.with_view(view)
        self.assigned_from[assigned] = self.assigned_from.pop(display, display)
        self.choices.setdefault(view, []).append(assigned)
        return assigned

    def assign_view(self, display: DisplayImage, view: View) -> None:
        """The reader says ``display`` is ``view``: flips are recomputed and it is shown there (saved with the read:
        a reopen hangs it there again)."""
        assigned = self._move(display, view)
        self.cad.reader.set_assigned(image_key(assigned.image), view)
        self.show_choice(view, len(self.choices[view]) - 1)
        self._refill(display, keep=view)  # the panel it left may now be empty or show another
        self.show_status(f"{assigned.image.path.name} shown as {view.label} (assigned by reader).", 5000)
        self.cad.views_changed()

    def undo_assignment(self, display: DisplayImage) -> None:
        """Undo the reader's view assignment of ``display``: the image goes back where it was (the Unplaced images,
        or the view its file gave it), so that a slip does not leave it hung, and read by the CAD, as another view."""
        original = self.assigned_from.pop(display, None)
        if original is None:
            return
        self.cad.reader.set_assigned(image_key(display.image), None)
        self._take_out(display)
        if original.view is None:
            self.unplaced.append(original)
        else:
            self.choices.setdefault(original.view, []).append(original)
        self._refill(display)
        if original.view is not None:
            self.show_choice(original.view, self.choices[original.view].index(original))
        where = original.view.label if original.view is not None else "Unplaced images"
        self.show_status(f"{original.image.path.name}: assignment undone (back to {where}).", 5000)
        self.cad.views_changed()

    def report_problems(self, title: str, lines: list[str], critical: bool = False) -> None:
        """Status line + non-blocking message naming each file and reason; viewing goes on."""
        for line in lines:
            log.warning("%s: %s", title, line)
        text = "\n".join(lines[:12]) + (f"\n… and {len(lines) - 12} more" if len(lines) > 12 else "")
        self.last_message = (title, text)
        self.show_status(f"{title}: {lines[0]}" if lines else title)
        icon = QtWidgets.QMessageBox.Icon.Critical if critical else QtWidgets.QMessageBox.Icon.Warning
        dialogs.message_box(self, icon, title, text, "\n".join(lines))
        self.problemsReported.emit(title, text)

    # -- view actions ---------------------------------------------------------------------------
    def set_layout_mode(self, mode: Layout) -> None:
        self.hanging.set_layout_mode(mode)
        self._check(f"layout_{mode.name.lower()}")
        self.settings.set_value("view/layout", mode.name)
        if mode.four_up:
            self.settings.set_value("view/four_layout", mode.name)
        self.priors.refresh(announce=True)

    def older_prior(self) -> None:
        self.priors.older()

    def toggle_maximize_active(self) -> None:
        self._toggle_maximize(self.active_panel().view)

    def _toggle_maximize(self, view: View) -> None:
        self._activate(self.panels[view])
        self.hanging.toggle_maximized(view)

    def _relink(self) -> None:
        self._frame_active()  # the view the keys act on may have changed
        visible = self.hanging.visible_views()
        apply_links(self.panels, self.link_mode, visible)
        self._fit_default()
        self._update_overlay_text()
        self.priors.arranged()

    def refit(self) -> None:
        """The visible views fitted again as on opening (to the breast, or the image)."""
        self._fit_default()

    def _fit_default(self) -> None:
        fit_default(self.panels, self.link_mode, self.hanging.visible_views(), breast=self.fit_breast_default)

    def fit_breast(self) -> None:
        fit_to_breast(self.panels, self.link_mode, self.hanging.visible_views())
        self.priors.fit(breast=True)

    def set_fit_breast_default(self, enabled: bool) -> None:
        self.fit_breast_default = enabled
        self.settings.set_value("view/fit_breast", enabled)
        self._fit_default()

    def fit_all(self) -> None:
        fit_groups(self.panels, self.link_mode, self.hanging.visible_views())
        self.priors.fit(breast=False)

    def one_to_one(self) -> None:
        self.active_panel().zoom_one_to_one()

    def set_magnifier(self, enabled: bool) -> None:
        for panel in [*self.panels.values(), *self.hanging.prior_panels.values()]:
            panel.set_magnifier(enabled)

    def set_scale_bar(self, enabled: bool) -> None:
        """The scale bar in every panel (saved)."""
        self.scale_bar = enabled
        self.settings.set_value("view/scale_bar", enabled)
        for panel in [*self.panels.values(), *self.hanging.prior_panels.values()]:
            panel.set_scale_bar(enabled)

    def _show_given_spacing(self) -> None:
        values = format_spacing(self.pixel_spacing, " x ")
        self._spacing_label.setText(f"Given spacing {values} mm" if values else "")
        self._spacing_label.setVisible(bool(values))

    def forget_cad_results(self) -> None:
        """The images changed (e.g. their pixel spacing): CAD results computed before are dropped."""
        self.cad.runner.forget()

    def set_dark_theme(self, dark: bool) -> None:
        """The dark reading-room theme, or the desktop's own colours (saved)."""
        self.theme = apply_theme("dark" if dark else "light")
        self.settings.set_value("view/theme", self.theme)
        self.themeChanged.emit(self.theme)

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_visible = visible
        self.settings.set_value("view/overlay_text", visible)
        self._update_overlay_text()

    def set_link_mode(self, mode: LinkMode) -> None:
        self.link_mode = mode
        self._check(f"link_{mode.name.lower()}")
        self.settings.set_value("view/link_mode", mode.name)
        self._relink()
        self.show_status(f"Linked zoom/pan: {mode.value}", 3000)

    def cycle_link_mode(self) -> None:
        modes = list(LinkMode)
        self.set_link_mode(modes[(modes.index(self.link_mode) + 1) % len(modes)])

    @property
    def four_layout(self) -> Layout:
        """The four-view layout the reader hangs studies in (CC or MLO pair on top: the last one chosen)."""
        mode: Layout = _enum(Layout, self.settings.value("view/four_layout"), Layout.FOUR)
        return mode if mode.four_up else Layout.FOUR

    def reset_view(self) -> None:
        self.set_layout_mode(self.four_layout)
        self.set_link_mode(LinkMode.PAIRS)

    def _update_overlay_text(self) -> None:
        self.priors.update_text()
        for panel in self.panels.values():
            panel.set_study_text([])
        if not self.overlay_visible or self.loaded is None:
            return
        left, right = study_lines(self.loaded.study.info)
        top = self.hanging.rows()[0]
        if len(top) == 1:
            self.panels[top[0]].set_study_text(left + right)
        else:
            self.panels[top[0]].set_study_text(left)
            self.panels[top[-1]].set_study_text(right)

    # -- image actions (window/level lives in ImageControls) ----------------------------------
    def apply_preset(self, preset: Preset) -> None:
        self.image_controls.apply_preset(preset)
        self.show_status(f"Window: {preset.value}", 3000)

    def set_window_level_mode(self, enabled: bool) -> None:
        """Left drag sets window/level (W); it ends measure mode, whose left drag draws lines."""
        if enabled and self.cad.measure_tool.enabled:
            self.cad.set_measure_mode(False)
        for panel in self.panels.values():
            panel.view_box.window_level_mode = enabled
        self.commands["wl_mode"].setChecked(enabled)

    def set_sync_window(self, enabled: bool) -> None:
        self.image_controls.sync = enabled
        self.settings.set_value("image/sync_window", enabled)

    def _on_window_drag(self, panel: ViewPanel, dx: float, dy: float) -> None:
        self._activate(panel)
        self.image_controls.drag(dx, dy)
        if panel.window_state is not None:
            self.show_status(f"{panel.view.label}: {panel.window_state.describe()}", 2000)

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

    def _check(self, action_name: str) -> None:
        self.commands[action_name].setChecked(True)  # setChecked does not emit triggered

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
        self.cad.shutdown()
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


def _enum(kind, name: str, default):  # type: ignore[no-untyped-def]
    """Enum member by name from settings, or ``default`` for a missing/stale value."""
    return kind.__members__.get(name, default)
