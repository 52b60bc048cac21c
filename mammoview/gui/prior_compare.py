"""The prior exam under the current one: View ▸ Layout ▸ CC / MLO pair over the prior's (Alt+5 / Alt+6).

A screening read compares each view with the patient's previous exam: a new density, a mass that grew, a
calcification cluster that appeared are what a recall is made on, and what a single exam cannot show.  The
comparison layouts hang the current study's CC (or MLO) pair on top and the prior study's same pair below,
each pair mirrored and justified to its chest walls as usual.  The prior is found among the studies opened
with the current one (:func:`mammoview.io.priors.find_priors`: same Patient ID, an earlier Study Date), the most
recent first; View ▸ Older prior (``Shift+P``) steps back through the others.

Both rows are shown at one physical scale when every image has a pixel spacing (:mod:`~mammoview.gui.prior_scale`).

The prior is decoded in its own background job when a comparison layout first needs it, and kept while the
reader steps between the layouts.  Its panels take zoom/pan, window/level (right-drag; with synchronised
windows both prior views move together, independently of the current study, whose films or detector may differ),
the magnifier, the cursor read-out and length measurements (measure mode, saved with the current study's read:
"has it grown?"; ``CadController.prior_measure``); CAD overlays and reader marks stay on the current study.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6 import QtCore

from mammoview.gui.background_jobs import BackgroundJobs, Cancelled, Progress
from mammoview.gui.breast_fit import fit_default, fit_to_breast
from mammoview.gui.helper_process import SLOW_SYNTAXES
from mammoview.gui.image_controls import ImageControls
from mammoview.gui.linking import apply_links, fit_groups, mark_group_unfitted
from mammoview.gui.loader import FullResolution, LoadedStudy, full_job, load_job, same_files
from mammoview.gui.prior_scale import one_scale
from mammoview.gui.texts import format_cursor, format_date, image_kind
from mammoview.gui.view_panel import CursorSample, ViewPanel
from mammoview.gui.window_level import full_image_window
from mammoview.io.model import StudyInfo, View
from mammoview.io.priors import find_priors, interval_text

if TYPE_CHECKING:
    from mammoview.gui.main_window import MainWindow

NO_PRIOR = "no prior study"
UNREADABLE = "the prior's image could not be read"
LOADING = "loading the prior…"
NOT_OPENED = "the prior could not be opened"


class PriorComparison(QtCore.QObject):
    """Finds the shown study's priors and shows the chosen one in the hanging layout's prior panels."""

    #: the prior's panels are filled: its LoadedStudy, or None (no prior, or it could not be opened)
    priorShown = QtCore.Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.panels: dict[View, ViewPanel] = window.hanging.prior_panels
        self.jobs = BackgroundJobs(self)
        self.candidates: list[StudyInfo] = []  # the shown study's priors, most recent first
        self.index = 0  # the one compared with
        self.loaded: LoadedStudy | None = None  # decoded prior (kept while the layout changes)
        self._loading: StudyInfo | None = None
        #: the last prior whose decode failed, and why: hung again, it is said, not decoded and reported again
        self._failed: tuple[StudyInfo, str] | None = None
        self.cross_linked = False  # the prior pair zooms and pans with the current pair
        self._announce = False
        self._shown: LoadedStudy | None = None  # the prior in the panels
        self._stale = True  # the panels do not show the current study's chosen prior (filled when next on screen)
        self.jobs.finished.connect(self._on_loaded)
        self.jobs.errored.connect(self._on_error)
        self.jobs.partial.connect(self._on_preview)
        for panel in self.panels.values():
            panel.windowDragged.connect(self._on_window_drag)
            panel.cursorMoved.connect(self._on_cursor)
            panel.userRangeChanged.connect(lambda p: self._moved(p, self.panels, window.panels))
        for panel in window.panels.values():
            panel.userRangeChanged.connect(lambda p: self._moved(p, window.panels, self.panels))

    @property
    def prior(self) -> StudyInfo | None:
        """The prior study compared with (None: the shown study has none among the opened studies)."""
        return self.candidates[self.index] if self.candidates else None

    @property
    def on_screen(self) -> bool:
        return bool(self.window.hanging.prior_views())

    @property
    def previewing(self) -> bool:
        """The prior's panels on screen show a preview (:mod:`mammoview.io.preview`), its full pixels decoding."""
        return self.on_screen and self._shown is not None and self._shown.preview

    def refresh(self, announce: bool = False, show: bool = True) -> None:
        """The shown study, the worklist or the layout changed: find the priors again and show the chosen one
        (``announce``: and say in the status bar which one, as when the reader hangs the comparison; ``show``
        False: only mark the panels for filling at the next :meth:`arranged`)."""
        w = self.window
        studies = [e.study for e in w.worklist.entries]
        found = find_priors(w.loaded.study.info, studies) if w.loaded is not None else []
        if [s.key for s in found] != [s.key for s in self.candidates]:
            self.index = 0
        self.candidates = found
        if self.loaded is not None and all(s is not self.loaded.study.info for s in found):
            self.loaded = None  # another patient's (or a replaced) prior: not kept in memory
        if self._shown is not None and all(s is not self._shown.study.info for s in found):
            self._release()  # nor in the prior's panels, hidden since the comparison was left (a whole study)
        if self.on_screen and show:
            self._show(announce)
        else:
            self._stale = True

    def arranged(self) -> None:
        """The layout was rearranged (a layout chosen, a view maximised or restored): fill the prior's panels if
        they missed a change while hidden, else link and fit them."""
        if self.on_screen and self._stale:
            self._show()
        else:
            self.relink()

    def older(self) -> None:
        """View ▸ Older prior: compare with the next older prior (after the oldest, the most recent again)."""
        w = self.window
        if not self.on_screen:
            w.show_status("Older prior: first hang the comparison (View ▸ Layout, Alt+5 or Alt+6).", 5000)
            return
        if len(self.candidates) < 2:
            w.show_status(f"{'One prior' if self.candidates else 'No prior'} of this patient among the opened "
                          "studies.", 5000)  # fmt: skip
            return
        self.index = (self.index + 1) % len(self.candidates)
        self._show(announce=True)

    def relink(self) -> None:
        """Link and fit the prior's pair as the current pairs are (the link mode, fit to the breast or not), then
        put both rows at one scale (after the current pair's own fit)."""
        w, views = self.window, self.window.hanging.prior_views()
        apply_links(self.panels, w.link_mode, views)
        fit_default(self.panels, w.link_mode, views, breast=w.fit_breast_default)
        self._one_scale()

    def fit(self, breast: bool) -> None:
        """``F`` / ``B`` on the prior's pair too."""
        w, views = self.window, self.window.hanging.prior_views()
        (fit_to_breast if breast else fit_groups)(self.panels, w.link_mode, views)
        self._one_scale()

    def update_text(self) -> None:
        """The prior's date and description over its row's outer panel (with View ▸ Patient/study text)."""
        views = self.window.hanging.prior_views()
        for panel in self.panels.values():
            panel.set_study_text([])
        if views and self._shown is not None and self.window.overlay_visible:
            m = self._shown.study.info.meta
            accession = f"Acc. {m.accession}" if m.accession else ""
            lines = [f"Prior {format_date(m.study_date)}", m.study_description, accession]
            self.panels[views[-1]].set_study_text([line for line in lines if line])

    def shutdown(self) -> None:
        self.jobs.shutdown()

    def _release(self) -> None:
        """Empty the prior's panels (filled again when a comparison is next on screen)."""
        self._shown, self._stale = None, True
        for panel in self.panels.values():
            panel.set_image(None)

    # -- internals -----------------------------------------------------------------------------
    def _one_scale(self) -> None:
        """Both rows at one scale where every image's spacing is known (:func:`~.prior_scale.one_scale`)."""
        self.cross_linked = one_scale(self.window, self.panels)

    def _moved(self, panel: ViewPanel, own: dict[View, ViewPanel], others: dict[View, ViewPanel]) -> None:
        """The reader zoomed or panned ``panel``: its link group is no longer fitted, nor, while the prior pair is
        linked to the current pair, the other row (a resize must not refit one row and drag the other back)."""
        w, views = self.window, self.window.hanging.prior_views()
        if own is self.panels:
            mark_group_unfitted(own, panel.view, w.link_mode, views)
        if self.cross_linked:
            for view in views:
                others[view].mark_unfitted()

    def _show(self, announce: bool = False) -> None:
        w, prior = self.window, self.prior
        self._announce = announce  # kept for a prior still to be decoded
        if prior is None:
            self.jobs.cancel()
            self._loading = None
            self._put(None, NO_PRIOR)
            if announce and w.loaded is not None:
                w.show_status("No prior study of this patient among the opened studies (one Patient ID, an earlier "
                              "Study Date): open the folder that holds both exams.", 8000)  # fmt: skip
            return
        prefetched, kept = w.prefetched, self.loaded is not None and self.loaded.study.info is prior
        if not kept and prefetched is not None and prefetched.study.info is prior:  # often the worklist's next study
            self.loaded = prefetched  # (the prior already decoded stays: its window and zoom are the reader's)
        if self.loaded is not None and self.loaded.study.info is prior:
            if not self.loaded.preview:
                self.jobs.cancel()  # a decode still in flight (of this prior, or of another) must not land on it
                self._loading = None
            elif self._loading is not prior:  # a preview whose full decode was stopped (another prior asked for)
                self._loading = prior
                self.jobs.submit(full_job(self.loaded, max_workers=2, helper=self.window.load_helper,
                                          syntaxes=SLOW_SYNTAXES))  # fmt: skip
            self._put(self.loaded, "")
            if announce:
                self._say(self.loaded)
            return
        if self._failed is not None and self._failed[0] is prior:
            self.jobs.cancel()
            self._loading = None
            self._put(None, NOT_OPENED)
            if announce:
                w.show_status(f"The prior study could not be opened: {self._failed[1]}", 8000)
            return
        self._put(None, LOADING)
        if self._loading is not prior:
            self._loading = prior
            self.jobs.submit(self._load_job(prior))

    def _load_job(self, prior: StudyInfo) -> Callable[[Progress, Cancelled], LoadedStudy | FullResolution]:
        """Decode the prior: its JPEG 2000 / JPEG-LS files in the load helpers, a large JPEG 2000 image shown first
        from its reduced levels (a preview, as the current study's; its full pixels swapped in when decoded)."""
        return load_job(prior, max_workers=2, helper=self.window.load_helper, syntaxes=SLOW_SYNTAXES, preview=True,
                        wait_shown=True)  # fmt: skip

    def _put(self, loaded: LoadedStudy | None, note: str) -> None:
        w = self.window
        shown = loaded if loaded is not None and loaded.study.info is self.prior else None
        self._shown, self._stale = shown, False
        failed = unreadable_views(shown) if shown is not None else set()
        for view, panel in self.panels.items():
            image = shown.hanging.panels.get(view) if shown is not None else None
            display = shown.displays.get(image) if shown is not None and image is not None else None
            panel.set_image(display, panel.window_state if display is not None and display is panel.display else None)
            panel.view_box.slice_wheel = False  # the prior's panels zoom with the wheel (slices: the current exam)
            panel.labels.set_empty_note(UNREADABLE if view in failed else note, display)
        self._titles()
        self.update_text()
        current_fitted = all(w.panels[v].fitted for v in w.hanging.visible_views())
        if current_fitted:  # the current pair's own fit first: a union fit with another prior must not stay
            w.refit()
        self.relink()
        if note != LOADING:
            self.priorShown.emit(shown)

    def _titles(self) -> None:
        """The prior's panel titles: which prior and how much older, and what each image is besides its slot (a spot
        magnification, an XCCL, a raw image, a preview), as the current study's."""
        w, shown = self.window, self._shown
        current = w.loaded.study.info if w.loaded is not None else None
        when = interval_text(current, shown.study.info) if current is not None and shown is not None else ""
        count = f" ({self.index + 1} of {len(self.candidates)})" if len(self.candidates) > 1 else ""
        for view, panel in self.panels.items():
            display = panel.display
            kind = image_kind(display.image.info, display.image.frame, view.projection) if display is not None else []
            if display is not None and display.preview:
                kind.append("preview: full resolution decoding")
            panel.labels.set_title_extra(" · ".join(t for t in ("prior" + count, when, *kind) if t))

    def _on_preview(self, result: object) -> None:
        """The prior's preview, while its JPEG 2000 images decode in full (:mod:`mammoview.io.preview`)."""
        if not isinstance(result, LoadedStudy):
            return
        try:
            if result.study.info is self.prior and self._loading is self.prior:
                self.loaded = result
                if self.on_screen:
                    self._show(self._announce)
                else:
                    self._stale = True
        finally:  # a full decode in this process waits for it (load_job): once the panels are painted
            QtCore.QTimer.singleShot(0, result.taken.set)

    def _adopt(self, full: FullResolution) -> None:
        """The full pixels of the prior shown as a preview, decoded by its own job (into the same images)."""
        preview = full.preview
        self._take_full(preview, full.adopt())

    def prefetch_landed(self, prefetched: LoadedStudy) -> None:
        """The worklist's prefetch went up: a prior shown as a preview of the same files takes their full pixels from
        it now, and its own full decode, the same work beside the prefetch on two cores, is dropped."""
        preview = self.loaded
        if preview is None or not preview.preview or prefetched.preview or prefetched.study.info is not self.prior:
            return
        if not same_files(preview.study.info, prefetched.study.info):  # (another spacing given meanwhile)
            return
        self.jobs.cancel()
        self._loading = None
        self._take_full(preview, prefetched)

    def _take_full(self, preview: LoadedStudy, full: LoadedStudy) -> None:
        """``full``, the prior of ``preview`` at full resolution, swapped into the panels where the preview is shown:
        zoom, pan and the reader's window/level stay (a preset's computed again of the full image); a preview image
        ``full`` holds no display of shows the prior afresh."""
        self.loaded = full
        if self._shown is not preview:
            self._stale = self._stale or self.on_screen
            return
        by_file = {(i.path, i.frame): d for i, d in full.displays.items()}
        swaps = {p: by_file.get((p.display.image.path, p.display.image.frame)) for p in self.panels.values()
                 if p.display is not None and p.display.preview}  # fmt: skip
        if any(new is None for new in swaps.values()):
            self._put(full, "")
            return
        self._shown = full
        for panel, new in swaps.items():
            assert new is not None and panel.display is not None
            window = panel.window_state
            chain = panel.display.image.info.chain
            panel.set_image(new, full_image_window(window, chain, new.stats) if window else None)
        self._titles()
        self.priorShown.emit(full)

    def _on_loaded(self, result: object) -> None:
        self._loading = None
        if isinstance(result, FullResolution):
            if result.preview is self.loaded:
                self._adopt(result)
                return
            result = result.adopt()  # (its preview is no longer held: the prior was let go meanwhile)
        if isinstance(result, LoadedStudy) and result.study.info is self.prior:
            self.loaded = result
            if self.on_screen:
                self._show(self._announce)
            else:
                self._stale = True
            if result.study.errors:  # the prior's panels say which views; the dialog names the files and why
                self.window.report_problems("Prior study opened with problems", [str(e) for e in result.study.errors])

    def _say(self, prior: LoadedStudy) -> None:
        current = self.window.loaded.study.info if self.window.loaded is not None else None
        when = interval_text(current, prior.study.info) if current is not None else ""
        more = "; Shift+P: an older one" if len(self.candidates) > 1 else ""
        date = format_date(prior.study.info.meta.study_date)
        self.window.show_status(f"Compared with the prior of {date}" + (f" ({when})" if when else "") + f"{more}.",
                                6000)  # fmt: skip

    def _on_error(self, exc: object) -> None:
        if self._loading is not None:
            self._failed = (self._loading, str(exc))
            if self.loaded is not None and self.loaded.preview and self.loaded.study.info is self._loading:
                self.loaded = None  # its preview is not shown again (nor decoded again, to fail again)
        self._loading = None
        if self.on_screen:
            self._put(None, NOT_OPENED)
        else:  # hidden by a maximised view: its panels (a preview, or the loading note) are said again on restore
            self._stale = True
        self.window.report_problems("Could not open the prior study", [str(exc)])

    def _on_window_drag(self, panel: ViewPanel, dx: float, dy: float) -> None:
        # the window's own drag, over the prior's panels (synchronised as the reader set it, apart from the current)
        ImageControls(self.panels, lambda: panel, sync=self.window.image_controls.sync).drag(dx, dy)
        if panel.window_state is not None:
            self.window.show_status(f"Prior {panel.view.label}: {panel.window_state.describe()}", 2000)

    def _on_cursor(self, panel: ViewPanel, sample: CursorSample | None) -> None:
        self.window.cursor_text(f"Prior {format_cursor(sample)}" if sample is not None else "")


def unreadable_views(loaded: LoadedStudy) -> set[View]:
    """The views of ``loaded`` whose image failed to decode (their files are in ``study.errors``)."""
    failed = {e.path for e in loaded.study.errors}
    return {i.view for i in loaded.study.info.images if i.path in failed and i.view is not None}
