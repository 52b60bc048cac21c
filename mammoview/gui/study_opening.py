"""Opening studies in the main window: scan, load, the worklist's stepping and its prefetch.

A mixin of :class:`~mammoview.gui.main_window.MainWindow` (one idea: which study is on screen
next and getting it decoded), kept apart from the window's layout and view actions.  Scans and
loads run in the window's :class:`~mammoview.gui.background_jobs.BackgroundJobs`; the worklist's next
study is decoded at low priority while the current one is read, so ``PgDown`` shows it at once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6 import QtCore

from mammoview.gui import dialogs
from mammoview.gui.background_jobs import Cancelled, Progress
from mammoview.gui.helper_process import SLOW_SYNTAXES
from mammoview.gui.loader import (
    FullResolution,
    LoadedStudy,
    ScanOutcome,
    full_job,
    load_job,
    same_files,
    scan_job,
    scan_problems_by_study,
)
from mammoview.gui.settings import RecentStudy
from mammoview.gui.texts import study_title
from mammoview.gui.window_level import WindowState, full_image_window
from mammoview.io.model import StudyInfo
from mammoview.io.reader import SpacingOption, format_spacing, parse_spacing, with_spacing
from mammoview.io.scan import link_itself

if TYPE_CHECKING:
    from PySide6 import QtWidgets

    from mammoview.gui.background_jobs import BackgroundJobs
    from mammoview.gui.display_image import DisplayImage
    from mammoview.gui.helper_process import HelperGroup, HelperProcess
    from mammoview.gui.prior_compare import PriorComparison
    from mammoview.gui.settings import ViewerSettings
    from mammoview.gui.view_panel import ViewPanel
    from mammoview.gui.worklist import Worklist
    from mammoview.io.model import View

log = logging.getLogger(__name__)


class StudyOpening:
    """Open paths, studies and worklist entries (mixed into the main window, which provides the rest)."""

    if TYPE_CHECKING:  # provided by MainWindow
        jobs: BackgroundJobs
        scans: BackgroundJobs
        prefetch: BackgroundJobs
        prefetch_helper: HelperProcess
        load_helper: HelperGroup
        priors: PriorComparison
        _prefetched: LoadedStudy | None
        _prefetching: StudyInfo | None
        _direction: int
        _unread_only: bool
        _adopted: StudyInfo | None
        _preview_job: int | None
        _scan_problems: list[str]
        _study_scan_problems: dict[str, list[str]]
        worklist: Worklist
        worklist_dock: QtWidgets.QDockWidget
        settings: ViewerSettings
        pixel_spacing: SpacingOption
        loaded: LoadedStudy | None
        panels: dict[View, ViewPanel]
        choices: dict[View, list[DisplayImage]]
        unplaced: list[DisplayImage]
        assigned_from: dict[DisplayImage, DisplayImage]
        _windows: dict[DisplayImage, WindowState]
        fullResolution: Any

        def _show_in_panel(self, panel: ViewPanel, display: DisplayImage | None) -> None: ...
        def show_status(self, text: str, timeout_ms: int = 0) -> None: ...
        def show_study(self, loaded: LoadedStudy) -> None: ...
        def report_problems(self, title: str, lines: list[str], critical: bool = False) -> None: ...
        def forget_cad_results(self) -> None: ...
        def _show_given_spacing(self) -> None: ...

    def open_paths(self, paths: list[str]) -> None:
        """Scan ``paths`` in the background, then load the study (asking which one if several)."""
        if not paths:
            return
        # absolute: recent studies reopen from any folder (Path.resolve raised on a link loop, one file for the scan);
        # a link leading nowhere stays the link, as the scan of its folder names it (resolved, its missing target was
        # said as 'no such file', a path the reader never named)
        paths = [os.fspath(link_itself(p)) if os.path.islink(p) and not os.path.exists(p) else os.path.realpath(p)
                 for p in paths]  # fmt: skip
        self.show_status(f"Opening {', '.join(Path(p).name for p in paths[:3])}…")
        self.scans.submit(scan_job(paths, self.pixel_spacing))  # apart from the loads: a step does not drop it

    @property
    def _decoding_full(self) -> bool:
        """The study on screen is a preview whose full decode is the job running now."""
        loaded = self.loaded
        return loaded is not None and loaded.preview and self.jobs.busy and self.jobs.current == self._preview_job

    def open_study(self, info: StudyInfo) -> None:
        """Decode, hang and show one study (in the background; at once when it was prefetched)."""
        self._adopted = None  # a prefetch the reader waited for is a prefetch again (or dropped below)
        if self._decoding_full and self.loaded is not None and same_files(self.loaded.study.info, info):
            return  # its full decode is on the way (the same files scanned again too: File > Recent, dropped again)
        if self.loaded is not None and self.loaded.study.info == info:  # back to the study on screen, as it is ...
            if self.loaded.preview:  # ... but a preview whose full decode will not come (stopped, or made stale by the
                # load of a study the reader stepped to and back from before it went up): its full pixels decoded,
                # swapped in as they would have been (asked for again meanwhile: waited for)
                self._preview_job = self.jobs.submit(self._full_job(self.loaded))
                return
            self.jobs.cancel()  # a load of another study still in flight must not replace it
            self.show_status(f"{study_title(info)}.", 3000)
            return
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is None and self.prefetch.busy and self._prefetching == info:
            # the reader stepped on while the next study was still decoding: that decode is waited for, not
            # started again beside it (two decodes of one study on two cores took longer than either alone)
            self.jobs.cancel()
            self._adopted = info
            self.prefetch.hurry()
            self.show_status(f"Loading {study_title(info)}…")
            return
        self.prefetch.cancel()
        self._prefetching = None
        if prefetched is not None and prefetched.study.key == info.key:
            self.jobs.cancel()  # a load still in flight must not replace it when it lands
            self.show_study(prefetched)
            return
        self.show_status(f"Loading {study_title(info)}…")
        self.jobs.submit(self._load_job(info))

    def _drop_prefetch(self) -> None:
        """Drop the prefetch, landed or in flight; a study the reader is waiting for is loaded the usual way."""
        self._prefetched, self._prefetching = None, None
        self.prefetch.cancel()
        waiting, self._adopted = self._adopted, None
        if waiting is not None:
            self.jobs.submit(self._load_job(with_spacing(waiting, self.pixel_spacing)))

    def open_worklist_study(self, index: int, direction: int = +1, unread_only: bool = False) -> None:
        """Open the ``index``-th study of the worklist; ``direction`` and ``unread_only``: the reader's way through
        it (the study prefetched next: the one before after PgUp, the next not read after Shift+PgDown)."""
        if not 0 <= index < len(self.worklist):
            return
        self._direction, self._unread_only = (-1 if direction < 0 else +1), unread_only
        self.worklist.set_current(index)
        self.open_study(self.worklist.entries[index].study)

    def step_study(self, step: int, unread_only: bool = False) -> None:
        """Next (+1) or previous (-1) study of the worklist (PgDown / PgUp; Shift+PgDown: next not read)."""
        if len(self.worklist) == 0:
            self.show_status("No study open: no worklist to step through (File ▸ Open folder…, Ctrl+O: a folder of "
                             "several studies is one).", 5000)  # fmt: skip
            return
        if len(self.worklist) < 2:
            self.show_status("One study open: no other to step to (open a folder of several studies to step through "
                             "them).", 5000)  # fmt: skip
            return
        index = self.worklist.neighbour(step, unread_only)
        if index is None:
            end = ("Every later study of the worklist is read" if unread_only
                   else ("Last" if step > 0 else "First") + " study of the worklist")  # fmt: skip
            left = [str(i + 1) for i in self.worklist.unread()]
            todo = (
                f"; not read yet: #{', #'.join(left)}"
                if left
                else "; every study is read: File ▸ Export worklist read log"
            )
            self.show_status(f"{end} ({self.worklist.summary()}{todo}).", 8000)
            return
        self.open_worklist_study(index, step, unread_only)

    def ask_pixel_spacing(self) -> None:
        """Image ▸ Pixel spacing for files without one…: ask, then :meth:`set_pixel_spacing`."""
        shown = format_spacing(self.pixel_spacing)
        text = dialogs.ask_text(cast("QtWidgets.QWidget", self), "Pixel spacing",
                                "mm per pixel for images whose files carry none: MM, or ROW,COL for non-square "
                                "pixels\n(e.g. 0.29,0.177 for the 800 x 800 CBIS-DDSM JPEGs; empty: the CAD "
                                "guesses a 230 mm tall image)", shown)  # fmt: skip
        if text is None:
            return
        try:
            option = parse_spacing(text) if text.strip() else None
        except ValueError as exc:
            self.report_problems("Pixel spacing not changed", [str(exc)])
            return
        self.set_pixel_spacing(option)

    def set_pixel_spacing(self, option: float | tuple[float, float] | None) -> None:
        """Use ``option`` for every image of the worklist whose file has no spacing, and show the current study
        again with it (its CAD results, computed with the old spacing, are dropped)."""
        self.pixel_spacing = option
        self._show_given_spacing()
        self.worklist.map_studies(lambda study: with_spacing(study, option))
        self._drop_prefetch()
        self.forget_cad_results()
        said = "guessed (no spacing given)" if option is None else f"{format_spacing(option, ' x ')} mm"
        # a folder being read or a study being decoded takes it on landing
        if self.loaded is None or self.jobs.busy or self.scans.busy:
            if self._decoding_full:  # the full pixels of the study on screen keep its spacing and show nothing
                self.priors.refresh()  # afresh: its prior, decoded apart, takes the spacing now
            self.show_status(f"Pixel spacing for files without one: {said}.", 5000)
            return
        if self._respace_shown():
            self.show_status(f"Pixel spacing for files without one: {said}; showing the study again…")
            return
        self.priors.refresh()  # its prior may have had none (shown again with the given one)
        self.show_status("Every image of this study has its own pixel spacing: nothing changed.", 6000)

    def open_folder_dialog(self) -> None:
        self.open_paths(dialogs.ask_paths(cast("QtWidgets.QWidget", self), self.settings, folder=True))

    def open_files_dialog(self) -> None:
        self.open_paths(dialogs.ask_paths(cast("QtWidgets.QWidget", self), self.settings, folder=False))

    def open_recent(self, recent: RecentStudy) -> None:
        self.open_paths(list(recent.paths))

    def reopen_last(self) -> None:
        recent = self.settings.recent_studies()
        if recent:
            self.open_recent(recent[0])

    def reopen_worklist(self) -> None:
        """Open the last folder (or files) of several studies again: the worklist resumes at its first unread."""
        paths = [p for p in self.settings.last_worklist() if Path(p).exists()]
        if not paths:
            self.show_status("No worklist to reopen (or its folder is gone).", 5000)
            return
        self.open_paths(paths)

    def _on_job_finished(self, result: object) -> None:
        if isinstance(result, ScanOutcome):
            self._on_scanned(result)
        elif isinstance(result, LoadedStudy | FullResolution):
            study = result.study if isinstance(result, LoadedStudy) else result.preview.study
            info = with_spacing(study.info, self.pixel_spacing)
            if info is not study.info:  # the spacing was given while it decoded: decode it with that one
                self.open_study(info)
            elif isinstance(result, FullResolution):
                self.adopt_full_resolution(result)
            else:
                self.show_study(result)

    def _on_preview(self, result: object) -> None:
        """A study's preview, while its JPEG 2000 images decode in full (:mod:`mammoview.io.preview`)."""
        if not isinstance(result, LoadedStudy):
            return
        try:
            if with_spacing(result.study.info, self.pixel_spacing) is result.study.info:
                self._preview_job = self.jobs.current  # (a preview is sent by the current job only)
                self.show_study(result)
        finally:  # a full decode in this process waits for it (load_job): once the panels are painted
            QtCore.QTimer.singleShot(0, result.taken.set)

    def adopt_full_resolution(self, full: FullResolution) -> None:
        """The full pixels of the preview on screen, swapped in where it is shown: zoom, pan, window/level, marks
        and the reader's view assignments stay as they are."""
        if self.loaded is not full.preview:  # another study went up meanwhile (not this job's, which is stale then)
            self.show_study(full.adopt())
            return
        # by their pixels: a view the reader assigned shows a copy of the preview image sharing them (it takes the
        # full ones too); the arrays are held here, so their ids stay theirs
        previews = {id(image.stored): (image, image.stored) for image in full.pixels}
        held = [*self.unplaced, *(d for options in self.choices.values() for d in options), *self._windows,
                *self.assigned_from, *self.assigned_from.values(),
                *(p.display for p in self.panels.values() if p.display is not None)]  # fmt: skip
        swaps: dict[DisplayImage, DisplayImage] = {}
        for d in held:
            source = previews.get(id(d.image.stored)) if d.preview else None
            if source is not None and source[0] in full.displays and d not in swaps:
                swaps[d] = replace(full.displays[source[0]], image=d.image)
        self.loaded = full.adopt()
        for d in swaps:
            if (source := previews.get(id(d.image.stored))) is not None and d.image.stored is source[1]:
                d.image.adopt_pixels(full.pixels[source[0]])  # a copy of a preview image
        for options in self.choices.values():
            options[:] = [swaps.get(d, d) for d in options]
        self.unplaced = [swaps.get(d, d) for d in self.unplaced]
        self.assigned_from = {swaps.get(k, k): swaps.get(v, v) for k, v in self.assigned_from.items()}

        def on_full(old: DisplayImage, window: WindowState) -> WindowState:
            return full_image_window(window, old.image.info.chain, swaps[old].stats) if old in swaps else window

        self._windows = {swaps.get(k, k): on_full(k, w) for k, w in self._windows.items()}
        for panel in self.panels.values():
            if panel.display in swaps:
                new = swaps[panel.display]
                if panel.window_state is not None:
                    self._windows[new] = on_full(panel.display, panel.window_state)
                self._show_in_panel(panel, new)
        self.show_status(f"{study_title(self.loaded.study.info)}: full resolution.", 4000)
        self.fullResolution.emit(self.loaded)
        self._prefetch_next()

    def _on_job_error(self, exc: object) -> None:
        log.error("loading failed: %s", exc)
        # The worklist points at the study asked for; the screen still shows the previous one.
        shown = self.worklist.index_of(self.loaded.study.key) if self.loaded is not None else None
        if shown != self.worklist.current:
            self.worklist.set_current(shown)
        problems, self._scan_problems = self._scan_problems, []
        self.report_problems("Could not open", [str(exc), *problems], critical=True)
        if self._respace_shown():
            return
        loaded = self.loaded
        if loaded is not None and loaded.preview and not self.jobs.busy and self.jobs.current != self._preview_job:
            # a preview still on screen whose full decode the failed load made stale (not its own: that would fail
            # again): decoded in full, or it stayed a preview, the CAD and export waiting, for good
            self._preview_job = self.jobs.submit(self._full_job(loaded))

    def _respace_shown(self) -> bool:
        """Decode the study on screen again if the pixel spacing given for files without one changes it (after
        Image ▸ Pixel spacing, or a job that ended without a study to show while it was given); whether it does."""
        if self.loaded is None or self.jobs.busy or self.scans.busy:
            return False
        info = with_spacing(self.loaded.study.info, self.pixel_spacing)
        if info is self.loaded.study.info:
            return False
        self.open_study(info)
        return True

    def _on_prefetched(self, result: object) -> None:
        self._prefetching = None
        waiting, self._adopted = self._adopted, None
        if not isinstance(result, LoadedStudy):
            return
        if waiting is not None and result.study.info == waiting:  # the reader is waiting for it: shown now
            self.show_study(result)
        else:
            self._prefetched = result
            self.priors.prefetch_landed(result)  # often the prior of the study on screen (the list's next exam)

    def _on_prefetch_error(self, exc: object) -> None:
        self._prefetching = None
        waiting, self._adopted = self._adopted, None
        if waiting is not None:  # the reader is waiting for it: loaded the usual way, which reports the error
            self.jobs.submit(self._load_job(waiting))

    def _on_scanned(self, outcome: ScanOutcome) -> None:
        errors = [str(e) for e in outcome.errors]
        if not outcome.studies:
            self.report_problems("No images found", errors or ["No readable image in the opened paths."], True)
            self._respace_shown()
            return
        # in the report of the study the file belongs to when it opens (one dialog, not two stacked): a file in a
        # folder of one study's images is that study's; the others go with the first study shown
        self._scan_problems, self._study_scan_problems = scan_problems_by_study(outcome.studies, outcome.errors)
        self._prefetched = None
        self.worklist.set_studies(tuple(with_spacing(s, self.pixel_spacing) for s in outcome.studies))
        if len(outcome.studies) > 1:
            self.worklist_dock.show()
            self.settings.set_last_worklist(outcome.paths)
        start = self.worklist.first_to_open()  # a batch is read from its first unread study (never from a prior)
        self.open_worklist_study(0 if start is None else start)

    def _load_job(self, info: StudyInfo) -> Callable[[Progress, Cancelled], LoadedStudy | FullResolution]:
        """Decode a study the reader waits for: in threads, its JPEG 2000 / JPEG-LS files in the two load helpers;
        large JPEG 2000 images shown first from their reduced levels (a preview)."""
        return load_job(info, helper=self.load_helper, syntaxes=SLOW_SYNTAXES, preview=True, wait_shown=True)

    def _full_job(self, loaded: LoadedStudy) -> Callable[[Progress, Cancelled], LoadedStudy | FullResolution]:
        """The full decode of ``loaded``, a preview on screen whose own job was stopped, as :meth:`_load_job`'s."""
        return full_job(loaded, helper=self.load_helper, syntaxes=SLOW_SYNTAXES)

    def _prefetch_next(self) -> None:
        """Decode the worklist's next study in the background (one decode thread, low priority; files whose
        decoders hold the GIL in a helper process at a lower CPU priority, so the reader's viewer never stalls).

        Next in the reader's direction: after PgUp the previous study (the one just left is not decoded again), after
        Shift+PgDown the next one not read (a read one would be skipped)."""
        index = self.worklist.neighbour(self._direction, self._unread_only)
        if index is not None:
            info = self._prefetching = self.worklist.entries[index].study
            # in the helper until the reader steps to it and waits (adopted): then in this process, at full speed
            self.prefetch.submit(load_job(info, max_workers=1, helper=self.prefetch_helper,
                                          background=lambda: self._adopted != info))  # fmt: skip
