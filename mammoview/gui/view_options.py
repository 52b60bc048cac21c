"""The View and Image menus' options in the main window: layout, linked zoom/pan, fits, overlays, theme, window/level.

A mixin of :class:`~mammoview.gui.main_window.MainWindow` (one idea: how the panels show what they show, most of it
saved in the settings), kept apart from which images they show (:class:`~mammoview.gui.study_display.StudyDisplay`).
The actions of :class:`~mammoview.gui.actions.ViewerActions` call these; window/level itself lives in
:class:`~mammoview.gui.image_controls.ImageControls`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mammoview.gui.breast_fit import fit_default, fit_to_breast
from mammoview.gui.hanging_layout import Layout
from mammoview.gui.linking import LinkMode, apply_links, fit_groups
from mammoview.gui.texts import study_lines
from mammoview.gui.theme import apply_theme
from mammoview.io.reader import format_spacing

if TYPE_CHECKING:
    from PySide6 import QtWidgets

    from mammoview.gui.actions import ViewerActions
    from mammoview.gui.cad_controller import CadController
    from mammoview.gui.hanging_layout import HangingLayout
    from mammoview.gui.image_controls import ImageControls
    from mammoview.gui.loader import LoadedStudy
    from mammoview.gui.prior_compare import PriorComparison
    from mammoview.gui.settings import ViewerSettings
    from mammoview.gui.view_panel import ViewPanel
    from mammoview.gui.window_level import Preset
    from mammoview.io.model import View
    from mammoview.io.reader import SpacingOption


class ViewOptions:
    """Layout, links, fits and display options of the panels (mixed into the main window, which provides the rest)."""

    if TYPE_CHECKING:  # provided by MainWindow
        cad: CadController
        commands: ViewerActions
        hanging: HangingLayout
        image_controls: ImageControls
        priors: PriorComparison
        settings: ViewerSettings
        loaded: LoadedStudy | None
        panels: dict[View, ViewPanel]
        pixel_spacing: SpacingOption
        link_mode: LinkMode
        fit_breast_default: bool
        overlay_visible: bool
        scale_bar: bool
        theme: str
        _spacing_label: QtWidgets.QLabel
        themeChanged: Any

        def show_status(self, text: str, timeout_ms: int = 0) -> None: ...
        def active_panel(self) -> ViewPanel: ...
        def _activate(self, panel: ViewPanel) -> None: ...
        def _frame_active(self) -> None: ...

    # -- view actions ---------------------------------------------------------------------------
    def set_layout_mode(self, mode: Layout) -> None:
        self.hanging.set_layout_mode(mode)
        self._check(f"layout_{mode.name.lower()}")
        if mode.four_up:  # remembered: the layout every study opens at (a pair is for the study it was chosen on)
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

    def _check(self, action_name: str) -> None:
        self.commands[action_name].setChecked(True)  # setChecked does not emit triggered


def _enum(kind, name: str, default):  # type: ignore[no-untyped-def]
    """Enum member by name from settings, or ``default`` for a missing/stale value."""
    return kind.__members__.get(name, default)
