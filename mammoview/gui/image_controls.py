"""Window/level actions over the panels: presets, windows stored in the file, invert, mouse drag, reset.

Mammography reading compares left with right, so by default a window/level change
applies to every view at once (each image computes its own preset from its own
values); with sync off it applies to the active panel only.  Windows stored in a
file belong to that image and always apply to the active panel alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mammoview.gui.view_panel import ViewPanel
from mammoview.gui.window_level import Preset, WindowState, dragged, file_choices, preset_window
from mammoview.io.chain_model import VoiLut, VoiWindow
from mammoview.io.model import View


class ImageControls:
    """Applies window/level changes to the right panels."""

    def __init__(self, panels: Mapping[View, ViewPanel], active: Callable[[], ViewPanel], sync: bool = True) -> None:
        self._panels = panels
        self._active = active
        self.sync = sync

    def targets(self) -> list[ViewPanel]:
        """Panels a change applies to: every panel with an image, or the active one."""
        if self.sync:
            return [p for p in self._panels.values() if p.display is not None]
        active = self._active()
        return [active] if active.display is not None else []

    def apply_preset(self, preset: Preset) -> None:
        for p in self.targets():
            assert p.display is not None
            state = preset_window(preset, p.display.image.info.chain, p.display.stats)
            p.set_window(WindowState(state.voi, p.window_state.inverted if p.window_state else False, state.name))

    def apply_voi(self, voi: VoiWindow | VoiLut) -> None:
        """A window or VOI LUT stored in the active image's file."""
        p = self._active()
        if p.window_state is not None:
            p.set_window(WindowState(voi, p.window_state.inverted, "From file"))

    def next_file_window(self) -> None:
        p = self._active()
        if p.image is None or p.window_state is None:
            return
        vois = [v for _, v in file_choices(p.image.info.chain)]
        if vois:
            current = next((k for k, v in enumerate(vois) if v is p.window_state.voi), -1)
            self.apply_voi(vois[(current + 1) % len(vois)])

    def toggle_invert(self) -> None:
        targets = self.targets()
        if not targets:
            return
        reference = self._active().window_state or targets[0].window_state
        inverted = not (reference is not None and reference.inverted)
        for p in targets:
            if p.window_state is not None:
                p.set_window(WindowState(p.window_state.voi, inverted, p.window_state.name))

    def reset(self) -> None:
        """The file's default window, not inverted."""
        for p in self.targets():
            assert p.display is not None
            p.set_window(WindowState(p.display.stats.default_voi))

    def drag(self, dx: float, dy: float) -> None:
        """A window/level mouse drag of ``(dx, dy)`` screen pixels."""
        for p in self.targets():
            if p.window_state is not None and p.display is not None:
                p.set_window(dragged(p.window_state, dx, dy, p.display.stats))
