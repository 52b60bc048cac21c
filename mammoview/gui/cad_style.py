"""How the CAD is shown: the overlay style, the operating point, and the state of the CAD actions and dock.

A mixin of :class:`~mammoview.gui.cad_controller.CadController` (one idea: the reader's
display choices -- layers, heatmap, threshold, false marks per image -- and the controls that
show them), kept apart from the controller's runs, lock and drawing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from mammoview.cad.operating import describe_point
from mammoview.cad.render import threshold_level
from mammoview.cad.types import ModelInfo, StudyCadResult, heat_probability
from mammoview.gui.cad_actions import LAYERS
from mammoview.gui.cad_dock import LOCKED_TIP, model_text
from mammoview.gui.cad_overlays import save_style
from mammoview.gui.heatmap_layer import MAP_NAMES
from mammoview.gui.score_labels import (
    exam_text,
    implant_text,
    no_breast_text,
    skipped_text,
    spacing_text,
    synthesized_text,
)

if TYPE_CHECKING:
    from PySide6 import QtGui

    from mammoview.gui.cad_dock import CadDock
    from mammoview.gui.cad_jobs import CadRunner
    from mammoview.gui.cad_overlays import OverlayStyle, PanelOverlay
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.mark_tool import MarksTool
    from mammoview.gui.nipple_band import NippleBand
    from mammoview.gui.reader_marks import ReaderMarks
    from mammoview.io.model import View

#: Actions that need a model / that show CAD (disabled while unavailable / locked).
_NEED_MODEL = ("run", "cancel", "auto")
_SHOW_CAD = ("show", "export_sr", "next_map", "opacity_up", "opacity_down", "threshold_up", "threshold_down",
             *(n for n in LAYERS if n != "reader"), *(f"map_{n}" for n in MAP_NAMES))  # fmt: skip


class CadStyle:
    """The CAD's overlay style and operating point as the reader sets them (mixed into the CAD controller)."""

    if TYPE_CHECKING:  # provided by CadController and its other mixins
        window: MainWindow
        style: OverlayStyle
        computed: StudyCadResult | None
        result: StudyCadResult | None
        study_key: str | None
        runner: CadRunner
        auto_run: bool
        reader: ReaderMarks
        marks_tool: MarksTool
        overlays: dict[View, PanelOverlay]
        band: NippleBand
        dock: CadDock
        actions: dict[str, QtGui.QAction]

        @property
        def model_info(self) -> ModelInfo | None: ...
        @property
        def unavailable(self) -> str | None: ...
        @property
        def unlocked(self) -> bool: ...
        def _use_result(self, result: StudyCadResult | None) -> None: ...
        def rebuild(self) -> None: ...
        def _update_scores(self) -> None: ...
        def _update_findings(self) -> None: ...
        def _drop_finding_selection(self) -> None: ...

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
