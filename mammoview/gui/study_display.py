"""Showing a study in the main window's panels: which of a view's images each panel shows, and the reader's views.

A mixin of :class:`~mammoview.gui.main_window.MainWindow` (one idea: which image is on screen in each panel), kept
apart from opening studies (:class:`~mammoview.gui.study_opening.StudyOpening`) and the View and Image menus'
options (:class:`~mammoview.gui.view_options.ViewOptions`).  A study goes up with :meth:`StudyDisplay.show_study`;
duplicates, the slices of a volume and the images the reader assigned a view to are swapped in its panels here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mammoview.gui.hanging_layout import Layout
from mammoview.gui.prior_compare import unreadable_views
from mammoview.gui.read_state import image_key
from mammoview.gui.settings import RecentStudy
from mammoview.gui.texts import image_kind, study_title
from mammoview.gui.window_level import slice_window
from mammoview.io.model import ImageInfo, Projection, StudyInfo, View
from mammoview.io.study import read_key

if TYPE_CHECKING:
    from mammoview.gui.cad_controller import CadController
    from mammoview.gui.display_image import DisplayImage
    from mammoview.gui.frames import FrameStepper
    from mammoview.gui.hanging_layout import HangingLayout
    from mammoview.gui.loader import LoadedStudy
    from mammoview.gui.prior_compare import PriorComparison
    from mammoview.gui.settings import ViewerSettings
    from mammoview.gui.view_panel import ViewPanel
    from mammoview.gui.window_level import WindowState
    from mammoview.gui.worklist import Worklist

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
#: where a study's warnings said before are found again when the status bar alone says them
SEEN_WARNINGS_SHOWN = "Image ▸ Study's problems… (Ctrl+Shift+P) lists them"


class StudyDisplay:
    """Put a loaded study's images in the panels (mixed into the main window, which provides the rest)."""

    if TYPE_CHECKING:  # provided by MainWindow
        cad: CadController
        frames: FrameStepper
        hanging: HangingLayout
        priors: PriorComparison
        settings: ViewerSettings
        worklist: Worklist
        loaded: LoadedStudy | None
        panels: dict[View, ViewPanel]
        choices: dict[View, list[DisplayImage]]
        unplaced: list[DisplayImage]
        assigned_from: dict[DisplayImage, DisplayImage]
        _windows: dict[DisplayImage, WindowState]
        _scan_problems: list[str]
        _study_scan_problems: dict[str, list[str]]
        _warnings_seen: set[str]
        study_problems: list[str]
        studyShown: Any

        def setWindowTitle(self, title: str) -> None: ...
        def show_status(self, text: str, timeout_ms: int = 0) -> None: ...
        def cursor_text(self, text: str) -> None: ...
        def report_problems(self, title: str, lines: list[str], critical: bool = False) -> None: ...
        def active_panel(self) -> ViewPanel: ...
        def _activate(self, panel: ViewPanel) -> None: ...
        def _prefetch_next(self) -> None: ...
        def _relink(self) -> None: ...
        def _fit_default(self) -> None: ...
        def _update_overlay_text(self) -> None: ...
        def set_layout_mode(self, mode: Layout) -> None: ...
        @property
        def four_layout(self) -> Layout: ...

    # -- showing a study -----------------------------------------------------------------------
    def show_study(self, loaded: LoadedStudy) -> None:
        """Put a loaded study on screen (main thread)."""
        before, self.loaded = self.loaded, loaded
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
        self.cursor_text("")  # it gave the values under a mouse not moved since, in the pixels just taken off screen
        if before is None or before.study.key != loaded.study.key:
            # another woman's study starts at the four-view layout, as a hanging protocol starts each study at its
            # first step: a pair (Alt+2 / Alt+3), the comparison with a prior (Alt+5 / Alt+6) or a view maximised
            # was a look at the last study, and left on, her first read could be done without her other views
            start = self._first_layout(failed)
            if self.hanging.layout_mode is not start:
                self.set_layout_mode(start)  # a view maximised goes back too
            elif self.hanging.maximized is not None:
                self.hanging.toggle_maximized(self.hanging.maximized)
        self._relink()
        title = study_title(loaded.study.info)
        index = self.worklist.index_of(loaded.study.key)
        if index is not None and index != self.worklist.current:
            self.worklist.set_current(index)
        place = f"[{index + 1}/{len(self.worklist)}] " if index is not None and len(self.worklist) > 1 else ""
        self.setWindowTitle(f"{place}{title} — mammoview — research use only")
        self.settings.add_recent(RecentStudy(tuple(str(i.path) for i in loaded.study.info.images), title))
        own = self._study_scan_problems.get(loaded.study.key, [])
        unread, self._scan_problems = self._scan_problems + own + [str(e) for e in loaded.study.errors], []
        # an image's own warnings, by file name (a tag every file of a vendor's exams gets wrong repeats at each)
        warned = [(d.image.path.name, w) for d in displays.values() for w in d.image.info.warnings]
        warned += [(d.image.path.name, d.image.display.warning) for d in displays.values() if d.image.display.warning]
        warned += [(d.image.path.name, small) for d in displays.values() if (small := too_small(d.image.info))]
        problems = unread + list(hanging.warnings) + [f"{name}: {w}" for name, w in warned]
        if self.unplaced:
            problems.append("To show an image whose view is unknown: right-click the panel of its view (or Image ▸ "
                            "Unplaced images).")  # fmt: skip
        shown = sum(p.display is not None for p in self.panels.values())
        batch = f" {self.worklist.summary()} (PgDown: next)." if place else ""
        # views with no image are said here and in their empty panels, never in a dialog of their own: a worklist
        # of MLO-only studies (mini-MIAS) had one to click away at every PgDown; a dialog opened anyway names them
        missing = [hanging.missing] if hanging.missing else []
        notes = "".join(f" {n[0].upper()}{n[1:]}." for n in [*missing, *hanging.notes])
        if loaded.preview:
            notes += " A preview: full resolution decoding (the CAD and export wait for it)."
        # a file not read or views hung otherwise (two images for one view, one of unknown view) is always a
        # dialog; warnings only of kinds a dialog showed before would block the keyboard at every study of a
        # vendor's worklist, so the status bar and the log say them
        seen = not unread and not hanging.warnings and all(w in self._warnings_seen for _, w in warned)
        self.study_problems = problems + missing if problems else []  # (Image ▸ Study's problems…, at any time)
        if problems and seen:
            for line in problems:
                log.warning("Study opened with warnings seen before: %s", line)
            self.show_status(f"{title}: {shown} view(s) shown.{notes} {len(problems)} warning(s) as before: "
                             f"{problems[0]}; {SEEN_WARNINGS_SHOWN}.{batch}")  # fmt: skip
        else:
            self.show_status(f"{title}: {shown} view(s) shown.{notes}" + (f" {len(problems)} problem(s)." if problems
                             else "") + batch)  # fmt: skip
        if problems and not seen:
            self._warnings_seen.update(w for _, w in warned)
            # the dialog's title replaces the status line: it names the missing views too
            self.report_problems("Study opened with problems", problems + missing, critical=bool(loaded.study.errors))
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

    def _first_layout(self, failed: set[View]) -> Layout:
        """The layout a study opens at: the four-view one, or the pair of its one projection when it has images of
        that projection alone (an exam of MLO views: all its images on screen, at twice the size, instead of two
        empty panels); never where an image of unknown view or a view whose file failed waits to be seen."""
        present = {v for v, options in self.choices.items() if options} | set(failed)
        projections = {v.projection for v in present}
        if self.unplaced or len(projections) != 1:
            return self.four_layout
        return Layout.CC if projections == {Projection.CC} else Layout.MLO

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
