"""The CAD's and the reader's marks drawn on the panels: overlays, highlights, score labels.

A mixin of :class:`~mammoview.gui.cad_controller.CadController` (one idea: keeping each
panel's :class:`~mammoview.gui.cad_overlays.PanelOverlay` in step with the result, the
reader's marks and the image shown), kept apart from the controller's runs, lock and style.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mammoview.gui.read_merge import counterpart
from mammoview.gui.read_state import CadSeen, ReaderMark, image_key, on_slice

if TYPE_CHECKING:
    from PySide6 import QtCore

    from mammoview.cad.types import ImageCadResult, StudyCadResult
    from mammoview.gui.cad_overlays import OverlayStyle, PanelOverlay
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.nipple_band import NippleBand
    from mammoview.gui.reader_marks import ReaderMarks
    from mammoview.gui.score_labels import BreastScoreLabels
    from mammoview.gui.view_panel import ViewPanel
    from mammoview.io.model import ImageInfo, MammoImage, View


class CadDrawing:
    """The panels' overlays as the result, the marks and the images change (mixed into the CAD controller)."""

    if TYPE_CHECKING:  # provided by CadController and its other mixins
        window: MainWindow
        style: OverlayStyle
        result: StudyCadResult | None
        study_key: str | None
        selected_mark: ReaderMark | None
        reader: ReaderMarks
        overlays: dict[View, PanelOverlay]
        band: NippleBand
        scores: BreastScoreLabels
        resultShown: QtCore.SignalInstance
        _panel_info: dict[View, ImageInfo | None]
        _save_failure_said: str | None

        @property
        def unlocked(self) -> bool: ...
        def shown_threshold(self) -> float | None: ...
        def _update_findings(self) -> None: ...
        def _sync_controls(self) -> None: ...
        def _unselect_mark(self) -> None: ...

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

    def _on_marks_changed(self) -> None:
        if not self.reader.unsaved:  # every read is on disk again: a new failure is said in full
            self._save_failure_said = None
        if self.selected_mark is not None:
            # the selected mark as the read has it now: renumbered by a save that added it to a read another viewer
            # saved meanwhile, the old number is another mark's, and Del said the selection was not on screen
            self.selected_mark = counterpart(self.selected_mark, self.reader.marks)
            if self.selected_mark is None:
                self._unselect_mark()  # deleted or undone: its highlight goes with it
        if self.unlocked and any(o.result is None and self.image_result(o.panel) for o in self.overlays.values()):
            self.rebuild()  # just unlocked: the CAD layers appear
            return
        if not self.unlocked and any(o.result is not None for o in self.overlays.values()):
            # Locked again: the read on screen is now one whose first read is not done (the saved read shown in
            # place of the reader's, in conflict with it); the CAD must not show over an unaided read.
            self.rebuild()
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
