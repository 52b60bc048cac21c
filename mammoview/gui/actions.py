"""Menus and keyboard shortcuts: every viewer action is a QAction with a menu entry, a shortcut and a status tip.

Kept apart from the window so the full list can be read (and shown in Help) in one
place.  Submenus whose entries depend on the study (recent studies, windows stored
in the file, duplicate images, unplaced images) are rebuilt when they open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.frames import CINE_RATES
from mammoview.gui.hanging_layout import Layout
from mammoview.gui.linking import LinkMode
from mammoview.gui.view_panel import ViewPanel
from mammoview.gui.window_level import Preset, file_choices
from mammoview.io.model import View

if TYPE_CHECKING:
    from mammoview.gui.main_window import MainWindow

T = TypeVar("T")

_LAYOUT_KEYS = {
    Layout.FOUR: "Alt+1",
    Layout.CC: "Alt+2",
    Layout.MLO: "Alt+3",
    Layout.FOUR_MLO_TOP: "Alt+4",
    Layout.PRIOR_CC: "Alt+5",
    Layout.PRIOR_MLO: "Alt+6",
}
_LINK_KEYS = {
    LinkMode.PAIRS: "Ctrl+Alt+P",
    LinkMode.CC: "Ctrl+Alt+C",
    LinkMode.MLO: "Ctrl+Alt+M",
    LinkMode.ALL: "Ctrl+Alt+A",
    LinkMode.NONE: "Ctrl+Alt+N",
}
_PRESET_KEYS = {Preset.DEFAULT: "F2", Preset.FULL: "F3", Preset.DENSE: "F4", Preset.SOFT: "F5"}


def _when_checked(slot: Callable[[T], None], value: T) -> Callable[[bool], None]:
    """A radio item's slot: ``slot(value)`` when the item becomes checked."""

    def run(checked: bool) -> None:
        if checked:
            slot(value)

    return run


class ViewerActions:
    """Creates the menu bar of ``window`` and keeps the actions by name (``actions[name]``)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.actions: dict[str, QtGui.QAction] = {}
        self.menus: dict[str, QtWidgets.QMenu] = {}
        bar = window.menuBar()
        self._file(bar.addMenu("&File"))
        self._view(bar.addMenu("&View"))
        self._image(bar.addMenu("&Image"))
        self._help(bar.addMenu("&Help"))

    # -- helpers ------------------------------------------------------------------------------
    def _add(
        self, menu: QtWidgets.QMenu, name: str, text: str, key: str, tip: str,
        slot: Callable[..., object], checkable: bool = False, checked: bool = False,
    ) -> QtGui.QAction:  # fmt: skip
        action = QtGui.QAction(text, self.window)
        if key:
            action.setShortcut(QtGui.QKeySequence(key))
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.setCheckable(checkable)
        if checkable:
            # triggered (not toggled): only the reader's action calls back, so the window
            # can check an action programmatically without re-entering its own slot.
            action.setChecked(checked)
            action.triggered.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.window.addAction(action)  # shortcuts work even while the menu bar is hidden
        self.actions[name] = action
        return action

    def add(
        self, menu: QtWidgets.QMenu, name: str, text: str, key: str, tip: str,
        slot: Callable[..., object], checkable: bool = False, checked: bool = False,
    ) -> QtGui.QAction:  # fmt: skip
        """Add an action to ``menu`` the same way as the viewer's own (the CAD layer's menu uses this)."""
        return self._add(menu, name, text, key, tip, slot, checkable, checked)

    def __getitem__(self, name: str) -> QtGui.QAction:
        return self.actions[name]

    def all_actions(self) -> list[QtGui.QAction]:
        return list(self.actions.values())

    # -- menus ----------------------------------------------------------------------------------
    def _file(self, m: QtWidgets.QMenu) -> None:
        w = self.window
        self.menus["File"] = m
        self._add(m, "open_folder", "Open &folder…", "Ctrl+O", "Open every image in a folder", w.open_folder_dialog)
        self._add(m, "open_files", "Open fi&les…", "Ctrl+Shift+O", "Open image files", w.open_files_dialog)
        recent = m.addMenu("&Recent studies")
        recent.aboutToShow.connect(lambda: self._fill_recent(recent))
        self.menus["Recent"] = recent
        self._add(m, "reopen_last", "Reopen &last study", "Ctrl+Shift+T", "Open the most recent study again",
                  w.reopen_last)  # fmt: skip
        m.addSeparator()
        self._add(
            m,
            "reopen_worklist",
            "Reopen last &worklist",
            "Ctrl+Alt+W",
            "Open the last folder of several studies again, at its first study not read",
            w.reopen_worklist,
        )
        self._add(m, "next_study", "&Next study", "PgDown", "Open the worklist's next study", lambda: w.step_study(+1))
        self._add(m, "previous_study", "&Previous study", "PgUp", "Open the worklist's previous study",
                  lambda: w.step_study(-1))  # fmt: skip
        self._add(m, "next_unread", "Next study &not read", "Shift+PgDown",
                  "Open the next study of the worklist whose first read is not done",
                  lambda: w.step_study(+1, unread_only=True))  # fmt: skip
        self._add(m, "export_read_log", "Export worklist read &log…", "Ctrl+Alt+G",
                  "Write the worklist's reads as CSV: decisions before and after CAD, reading time, marks",
                  w.export_read_log)  # fmt: skip
        m.addSeparator()
        self._add(m, "export", "&Export…", "Ctrl+E",
                  "Export an annotated picture (PNG) and the findings (JSON)", w.export)  # fmt: skip
        m.addSeparator()
        self._add(m, "quit", "&Quit", "Ctrl+Q", "Quit mammoview", w.close)

    def _view(self, m: QtWidgets.QMenu) -> None:
        w = self.window
        self.menus["View"] = m
        layouts = m.addMenu("&Layout")
        group = QtGui.QActionGroup(self.window)
        for layout in Layout:
            a = self._add(layouts, f"layout_{layout.name.lower()}", layout.value, _LAYOUT_KEYS[layout],
                          f"Show {layout.value}", _when_checked(w.set_layout_mode, layout),
                          checkable=True, checked=layout is w.hanging.layout_mode)  # fmt: skip
            group.addAction(a)
        self._add(m, "older_prior", "Older &prior", "Shift+P", "In the comparison layouts (Alt+5, Alt+6): compare "
                  "with the next older prior study of this patient", w.older_prior)  # fmt: skip
        self._add(m, "maximize", "&Maximise / restore active view", "Z",
                  "Show the active view alone, or go back (also: double click)", w.toggle_maximize_active)  # fmt: skip
        m.addSeparator()
        self._add(m, "fit", "&Fit to window", "F", "Fit the images, justified to the chest wall", w.fit_all)
        self._add(m, "fit_breast", "Fit to &breast", "B", "Zoom each pair to the breast tissue, justified to the "
                  "chest wall", w.fit_breast)  # fmt: skip
        self._add(m, "fit_breast_default", "Fit to breast on &opening", "Shift+B",
                  "Open studies zoomed to the breast when that enlarges it noticeably",
                  w.set_fit_breast_default, checkable=True, checked=w.fit_breast_default)  # fmt: skip
        self._add(m, "one_to_one", "&Actual pixels (1:1)", "1", "One stored pixel per screen pixel", w.one_to_one)
        self._add(m, "magnifier", "&Magnifier glass", "M", "A loupe following the cursor (2.5x)",
                  w.set_magnifier, checkable=True)  # fmt: skip
        self._add(m, "scale_bar", "&Scale bar", "Shift+S", "A bar of known length (mm) in each view, from the "
                  "file's pixel spacing (none where the spacing is unknown)", w.set_scale_bar, checkable=True,
                  checked=w.scale_bar)  # fmt: skip
        self._add(m, "overlay", "Patient/study &text", "T", "Show patient and study text over the images",
                  w.set_overlay_visible, checkable=True, checked=w.overlay_visible)  # fmt: skip
        self._add(m, "dark_theme", "&Dark reading-room theme", "Ctrl+Shift+D",
                  "Dark menus and docks beside the images (else the desktop's colours)", w.set_dark_theme,
                  checkable=True, checked=w.theme == "dark")  # fmt: skip
        m.addSeparator()
        links = m.addMenu("&Link zoom/pan")
        group = QtGui.QActionGroup(self.window)
        for link in LinkMode:
            a = self._add(links, f"link_{link.name.lower()}", link.value, _LINK_KEYS[link],
                          f"Zoom and pan together: {link.value}", _when_checked(w.set_link_mode, link),
                          checkable=True, checked=link is w.link_mode)  # fmt: skip
            group.addAction(a)
        self._add(m, "cycle_link", "&Next link mode", "L", "Cycle through the link modes", w.cycle_link_mode)
        m.addSeparator()
        self._add(m, "reset_view", "&Reset view", "Home", "Four-view layout, fitted, default linking", w.reset_view)

    def _image(self, m: QtWidgets.QMenu) -> None:
        w = self.window
        self.menus["Image"] = m
        for preset in Preset:
            self._add(m, f"preset_{preset.name.lower()}", preset.value, _PRESET_KEYS[preset],
                      f"Window preset: {preset.value}", lambda p=preset: w.apply_preset(p))  # fmt: skip
        stored = m.addMenu("&Windows stored in the file")
        stored.aboutToShow.connect(lambda: self._fill_file_windows(stored))
        self.menus["FileWindows"] = stored
        self._add(m, "next_file_window", "Next window from &file", "N", "Cycle the windows stored in the file",
                  w.image_controls.next_file_window)  # fmt: skip
        m.addSeparator()
        self._add(m, "invert", "&Invert", "I", "Invert the grey scale", w.image_controls.toggle_invert)
        self._add(m, "wl_mode", "&Window/level with left drag", "W", "Left drag sets window/level instead of panning",
                  w.set_window_level_mode, checkable=True)  # fmt: skip
        self._add(m, "sync_wl", "Apply window/level to &all views", "S",
                  "Window/level changes apply to every view (else the active one)",
                  w.set_sync_window, checkable=True, checked=w.image_controls.sync)  # fmt: skip
        self._add(m, "reset_image", "&Reset window/level", "Shift+R", "File default window, not inverted",
                  w.image_controls.reset)  # fmt: skip
        m.addSeparator()
        dups = m.addMenu("&Duplicate views")
        dups.aboutToShow.connect(lambda: self._fill_duplicates(dups))
        self.menus["Duplicates"] = dups
        self._add(m, "next_duplicate", "Next image for this &view", "D", "Show the next image claiming the active view",
                  w.next_duplicate)  # fmt: skip
        tip = "Tomosynthesis (a multi-frame image; D shows it): the active view's "
        slices = (("next_slice", "Next &slice", "Down", +1, "next slice"),
                  ("previous_slice", "Previous s&lice", "Up", -1, "previous slice"),
                  ("next_slice_10", "Ten slices on", "Shift+Down", +10, "ten slices on"),
                  ("previous_slice_10", "Ten slices back", "Shift+Up", -10, "ten slices back"))  # fmt: skip
        for name, text, key, step, what in slices:
            a = self._add(m, name, text, key, tip + what, lambda d=step: w.step_frame(d))
            # the arrow keys step slices while the images have the focus, and still move through the worklist's
            # and the findings' rows when those have it
            self.window.removeAction(a)
            a.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
            w.hanging.addAction(a)
        self._add(m, "cine", "Play slices (&cine)", "P", tip + "slices swept back and forth at the cine speed; P "
                  "again stops", w.frames.toggle_cine)  # fmt: skip
        rates = ", ".join(map(str, CINE_RATES))
        self._add(m, "cine_faster", "Faster cine", ">", f"Play slices faster ({rates} slices per second; as fast as "
                  "they decode)", lambda: w.frames.nudge_cine_rate(+1))  # fmt: skip
        self._add(m, "cine_slower", "Slower cine", "<", f"Play slices slower ({rates} slices per second)",
                  lambda: w.frames.nudge_cine_rate(-1))  # fmt: skip
        unplaced = m.addMenu("&Unplaced images (assign a view)")
        unplaced.aboutToShow.connect(lambda: self._fill_unplaced(unplaced))
        self.menus["Unplaced"] = unplaced
        self._add(m, "header", "File &header…", "Ctrl+I", "The active view's file header: how mammoview read it "
                  "(view and why, spacing, pixels) and every DICOM element, with a filter", w.show_header)  # fmt: skip
        self._add(m, "study_problems", "Study's &problems…", "Ctrl+Shift+P", "What the study on screen opened "
                  "with (files not read, warnings), again", w.show_study_problems)  # fmt: skip
        self._add(m, "pixel_spacing", "&Pixel spacing for files without one…", "Ctrl+Alt+S",
                  "mm per pixel (MM or ROW,COL) for images whose files carry none, e.g. JPEGs; the study is shown "
                  "again with it", w.ask_pixel_spacing)  # fmt: skip

    def _help(self, m: QtWidgets.QMenu) -> None:
        w = self.window
        self.menus["Help"] = m
        self._add(m, "shortcuts", "&Keyboard shortcuts", "F1", "List every shortcut", w.show_shortcuts)
        self._add(m, "about", "&About mammoview (research use only)", "Ctrl+F1", "Version and intended use",
                  w.show_about)  # fmt: skip

    # -- dynamic submenus ------------------------------------------------------------------------
    def _fill_recent(self, menu: QtWidgets.QMenu) -> None:
        menu.clear()
        recent = self.window.settings.recent_studies()
        for r in recent:
            a = menu.addAction(r.title or r.paths[0])
            a.setStatusTip("\n".join(r.paths[:4]))
            a.triggered.connect(lambda _c=False, rr=r: self.window.open_recent(rr))
        if not recent:
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list", self.window.settings.clear_recent)

    def fill_file_windows(self, menu: QtWidgets.QMenu) -> None:
        """Windows and VOI LUTs stored in the active image's file (also used by the context menu)."""
        self._fill_file_windows(menu)

    def _fill_file_windows(self, menu: QtWidgets.QMenu) -> None:
        menu.clear()
        panel = self.window.active_panel()
        choices = file_choices(panel.image.info.chain) if panel.image is not None else []
        for text, voi in choices:
            a = menu.addAction(text)
            a.setCheckable(True)
            a.setChecked(panel.window_state is not None and panel.window_state.voi is voi)
            a.triggered.connect(lambda _c=False, v=voi: self.window.image_controls.apply_voi(v))
        if not choices:
            menu.addAction("(no window stored in the file)").setEnabled(False)

    def _fill_duplicates(self, menu: QtWidgets.QMenu) -> None:
        menu.clear()
        any_dup = False
        for view in View:
            options = self.window.choices.get(view, [])
            if len(options) < 2:
                continue
            any_dup = True
            sub = menu.addMenu(view.label)
            for i, d in enumerate(options):
                a = sub.addAction(d.image.path.name)
                a.setCheckable(True)
                a.setChecked(self.window.panels[view].display is d)
                a.triggered.connect(lambda _c=False, v=view, k=i: self.window.show_choice(v, k))
        if not any_dup:
            menu.addAction("(no duplicated view)").setEnabled(False)

    def _fill_unplaced(self, menu: QtWidgets.QMenu) -> None:
        menu.clear()
        for d in self.window.unplaced:
            sub = menu.addMenu(d.image.path.name)
            for view in View:
                a = sub.addAction(f"Show as {view.label}")
                a.triggered.connect(lambda _c=False, dd=d, v=view: self.window.assign_view(dd, v))
        if not self.window.unplaced:
            menu.addAction("(every image has a view)").setEnabled(False)

    # -- the panel's context menu -------------------------------------------------------------------
    def context_menu(self, panel: ViewPanel) -> QtWidgets.QMenu:
        """Right-click menu of ``panel``: window, images claiming this view, view assignment, zoom."""
        w = self.window
        menu = QtWidgets.QMenu(w)
        menu.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        for name in ("preset_default", "preset_full", "preset_dense", "preset_soft", "invert", "reset_image"):
            menu.addAction(self.actions[name])
        self._fill_file_windows(menu.addMenu("Windows stored in the file"))
        menu.addSeparator()
        options = w.choices.get(panel.view, [])
        for i, d in enumerate(options if len(options) > 1 else []):
            a = menu.addAction(f"Show {d.image.path.name}")
            a.setCheckable(True)
            a.setChecked(panel.display is d)
            a.triggered.connect(lambda _c=False, k=i: w.show_choice(panel.view, k))
        for d in w.unplaced:
            a = menu.addAction(f"Show {d.image.path.name} here (unplaced: assign {panel.view.label})")
            a.triggered.connect(lambda _c=False, dd=d: w.assign_view(dd, panel.view))
        if panel.display is not None:
            move = menu.addMenu("This image is really…")
            for view in View:
                if view is not panel.view:
                    a = move.addAction(view.label)
                    a.triggered.connect(lambda _c=False, v=view, dd=panel.display: w.assign_view(dd, v))
            if panel.display in w.assigned_from:
                a = menu.addAction(f"Undo the view assigned to {panel.display.image.path.name}")
                a.triggered.connect(lambda _c=False, dd=panel.display: w.undo_assignment(dd))
        menu.addSeparator()
        for name in ("maximize", "fit", "fit_breast", "one_to_one"):
            menu.addAction(self.actions[name])
        return menu
