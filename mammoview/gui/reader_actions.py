"""The reader's actions on the CAD side of the viewer: focus a finding, select, delete, undo, tool modes.

A mixin of :class:`~mammoview.gui.cad_controller.CadController` (one idea: what the reader's
clicks and keys do to marks, measurements and the findings panel's rows), kept apart from the
controller's result, lock and overlay-style logic.  Focusing a row centres its view on it and
draws the CC/MLO band (:class:`~mammoview.gui.nipple_band.NippleBand`) on the same breast's other
view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mammoview.gui.matching import MatchRow, deletable_mark
from mammoview.gui.nipple_band import BAND_MM, other_view
from mammoview.gui.read_state import Measurement, ReaderMark, image_key
from mammoview.gui.review import focus_on

if TYPE_CHECKING:
    from PySide6 import QtGui

    from mammoview.cad.types import ImageCadResult
    from mammoview.gui.cad_overlays import OverlayStyle, PanelOverlay
    from mammoview.gui.findings_panel import FindingsPanel
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.mark_tool import MarksTool
    from mammoview.gui.measure_tool import MeasureTool
    from mammoview.gui.nipple_band import NippleBand
    from mammoview.gui.reader_marks import ReaderMarks
    from mammoview.gui.view_panel import ViewPanel
    from mammoview.io.model import View


class ReaderActions:
    """Marks, measurements and findings rows as the reader works them (mixed into the CAD controller)."""

    if TYPE_CHECKING:  # provided by CadController
        window: MainWindow
        style: OverlayStyle
        selected_mark: ReaderMark | None
        reader: ReaderMarks
        marks_tool: MarksTool
        measure_tool: MeasureTool
        prior_measure: MeasureTool
        overlays: dict[View, PanelOverlay]
        band: NippleBand
        findings: FindingsPanel
        actions: dict[str, QtGui.QAction]

        def image_result(self, panel: ViewPanel) -> ImageCadResult | None: ...
        def on_prior(self, m: Measurement) -> bool: ...
        def mark_on_screen(self, mark: ReaderMark) -> bool: ...

    def _show_image(self, view: View, key: str) -> None:
        """Put ``view``'s image ``key`` (an image_key) in its panel when another of the view's images is shown."""
        panel = self.window.panels[view]
        if key and (panel.image is None or image_key(panel.image) != key):  # another image of the view
            keys = [image_key(d.image) for d in self.window.choices.get(view, [])]
            if key in keys:
                self.window.show_choice(view, keys.index(key))

    def _hung_now(self, key: str) -> str:
        """Where the image ``key`` (an image_key) is now: its file and the view it hangs as, or unplaced."""
        for view, options in self.window.choices.items():
            if name := next((d.image.path.name for d in options if image_key(d.image) == key), None):
                return f"{name}, which now hangs as {view.label}"
        if name := next((d.image.path.name for d in self.window.unplaced if image_key(d.image) == key), None):
            return f"{name}, now among the unplaced images"
        return "an image not hung now"

    def _shows(self, view: View, key: str) -> bool:
        image = self.window.panels[view].image
        return image is not None and image_key(image) == key

    def focus(self, row: MatchRow) -> None:
        """Centre the view on a findings-panel row and highlight it."""
        point = row.finding.center if row.finding is not None else (row.marks[0].x, row.marks[0].y)
        self._show_image(row.view, row.image)
        if row.image and not self._shows(row.view, row.image):
            # its image hangs as another view now (the reader's assignment): the point is in that image's grid, and
            # on the image shown here it would highlight tissue nobody marked
            self._select_nothing()
            label = ", ".join(m.label for m in row.marks) or "This finding"
            self.window.show_status(f"{label} was placed on {row.view.label} on {self._hung_now(row.image)}: it shows "
                                    f"when that image hangs as {row.view.label} again.", 8000)  # fmt: skip
            return
        self.selected_mark = mark = row.marks[0] if row.finding is None and row.marks else None
        self.measure_tool.select(None)  # Del now means this row's mark, not a measurement
        self.prior_measure.select(None)
        for overlay in self.overlays.values():
            overlay.set_highlight(None)
        focus_on(self.window, row.view, point)
        if mark is not None and mark.frame is not None and self._shows(row.view, mark.image):
            self.window.frames.go_to(row.view, mark.frame)  # the slice the mark was placed on
        self.overlays[row.view].set_highlight(point)
        self._show_band(row)

    def _show_band(self, row: MatchRow) -> None:
        """The other view of the row's breast gets the band at the row's distance from the nipple."""
        self.band.clear()
        other = other_view(row.view)
        result = self.image_result(self.window.panels[other])
        if row.nipple_mm is None or result is None or not self.style.cad:
            return
        about = "~" if row.mm_estimated or result.spacing_estimated else ""  # from the CAD's guessed spacing
        if self.band.show(other, result, row.nipple_mm, estimated=row.mm_estimated):
            self.overlays[other].place_labels()  # its label lands on the lesion it is drawn for: the scores move
            self.window.show_status(f"{other.label}: at {about}{row.nipple_mm:.0f} mm from the nipple, as on "
                                    f"{row.view.label} (± {BAND_MM:.0f} mm)", 6000)  # fmt: skip
        elif result.nipple is None:  # said, so that a missing band does not look like a broken one
            display = self.window.panels[other].display
            why = (
                " (the image is stored a quarter turn)"
                if display is not None and display.image.display.quarter_turn
                else ""
            )
            self.window.show_status(f"{other.label}: no nipple found{why}, so no band at {about}{row.nipple_mm:.0f} mm "
                                    f"from it", 6000)  # fmt: skip

    def focus_measurement(self, m: Measurement) -> None:
        """Centre the view on a measurement (its midpoint) and select it; one on the prior's panel is selected
        there (the comparison keeps its zoom)."""
        prior = self.window.hanging.prior_panels[m.view]
        shown = m.view in self.window.hanging.prior_views()
        if shown and prior.image is not None and self.prior_measure.key(prior.image) == m.image:
            self.prior_measure.select(m)
            self.measure_tool.select(None)
            return
        if self.on_prior(m):  # measured on a prior not hung now: say where it is, select nothing
            self._select_nothing()
            pair = "Alt+5" if m.view.projection.value == "CC" else "Alt+6"
            self.window.show_status(f"{m.label} was measured on the prior exam: hang it with {pair} (View ▸ Layout).",
                                    6000)  # fmt: skip
            return
        self._show_image(m.view, m.image)
        if not self._shows(m.view, m.image):  # its image hangs as another view now: not drawn, not selectable
            self._select_nothing()
            self.window.show_status(f"{m.label} was measured on {m.view.label} on {self._hung_now(m.image)}: it "
                                    f"shows when that image hangs as {m.view.label} again.", 8000)  # fmt: skip
            return
        focus_on(self.window, m.view, ((m.x0 + m.x1) / 2, (m.y0 + m.y1) / 2))
        if m.frame is not None and self._shows(m.view, m.image):
            self.window.frames.go_to(m.view, m.frame)  # the slice it was drawn on
        self.measure_tool.select(m)

    def _select_mark(self, mark: ReaderMark) -> None:
        self.selected_mark = mark
        self.measure_tool.select(None)
        self.prior_measure.select(None)
        for view, overlay in self.overlays.items():
            overlay.set_highlight((mark.x, mark.y) if view is mark.view else None)
        self.window.show_status(f"{mark.label} ({mark.kind.value}) selected: Del deletes it.", 4000)

    def set_mark_mode(self, enabled: bool) -> None:
        """Mark mode (R): a click places a reader mark; it ends measure mode."""
        if enabled and self.measure_tool.enabled:
            self.set_measure_mode(False)
        self.marks_tool.set_enabled(enabled)
        self.actions["mark_mode"].setChecked(enabled)

    def leave_tools(self) -> None:
        """Esc: mark mode and measure mode off (a line being drawn is dropped); said only when one was on."""
        on = [name for name, tool in (("mark", self.marks_tool), ("measure", self.measure_tool)) if tool.enabled]
        self.set_mark_mode(False)
        self.set_measure_mode(False)
        if on:
            self.window.show_status(f"{' and '.join(on).capitalize()} mode off.", 3000)

    def set_measure_mode(self, enabled: bool) -> None:
        """Measure mode (U): a left drag draws a length line; it ends mark mode and left-drag window/level."""
        if enabled:
            if self.marks_tool.enabled:
                self.set_mark_mode(False)
            if any(p.view_box.window_level_mode for p in self.window.panels.values()):
                self.window.set_window_level_mode(False)
        self.measure_tool.set_enabled(enabled)
        self.prior_measure.set_enabled(enabled)
        self.actions["measure"].setChecked(enabled)
        if enabled:
            self.window.show_status("Measure: drag along the length to measure; click a line to select it.", 5000)

    def delete_selected_mark(self) -> None:
        """Del: the selected measurement, else the selected reader mark."""
        measured = self.measure_tool.selected or self.prior_measure.selected
        if (m := self.measure_tool.delete_selected() or self.prior_measure.delete_selected()) is not None:
            self._said_deleted(m.label)
            return
        if measured is not None:  # the selection is a measurement not on screen: nothing else is what Del means
            self.window.show_status(f"{measured.label} is not on screen: Del deletes only what is shown.", 4000)
            return
        row = self.findings.selected_row()
        # a matched row's mark too, as the findings panel's Delete button deletes it (a first-read mark stays)
        mark = self.selected_mark or (deletable_mark(row.marks) if row is not None and row.marks else None)
        if mark is None:
            return
        if not self.mark_on_screen(mark):  # hidden by the layout, or on another image or slice
            self.window.show_status(f"{mark.label} is not on screen: Del deletes only what is shown.", 4000)
            return
        self.delete_mark(mark.id)

    def delete_mark(self, mark_id: int) -> None:
        """Delete a reader mark (Del, the findings panel's Delete), or say why it stays."""
        mark = self.reader.mark(mark_id)
        if mark is not None and self.reader.frozen(mark):
            self.window.show_status(f"{mark.label} is a mark of your first read, which stays as you read it; what CAD "
                                    "changes goes in your decision after CAD.", 6000)  # fmt: skip
            return
        if mark is not None and self.reader.remove(mark_id):
            self._select_nothing()
            self._said_deleted(mark.label)

    def _said_deleted(self, label: str) -> None:
        """Say that ``label`` was deleted and Ctrl+Z brings it back, unless the save that deleted it added the session
        to the saved read that could not be read (:meth:`ReaderMarks._stored`): the undo history went with that, and
        the message that the read is back stays (the label now names one of that read's)."""
        if self.reader.can_undo:
            self.window.show_status(f"{label} deleted (Ctrl+Z undoes).", 4000)

    def _select_nothing(self) -> None:
        self.measure_tool.select(None)
        self.prior_measure.select(None)
        self._unselect_mark()

    def _unselect_mark(self) -> None:
        self.selected_mark = None
        for overlay in self.overlays.values():
            overlay.set_highlight(None)
        self.band.clear()  # the band belonged to the row (mark or finding) that was selected

    def undo(self) -> None:
        text = self.reader.undo()
        self.window.show_status(f"Undone: {text}" if text else "Nothing to undo.", 3000)

    def redo(self) -> None:
        text = self.reader.redo()
        self.window.show_status(f"Redone: {text}" if text else "Nothing to redo.", 3000)
