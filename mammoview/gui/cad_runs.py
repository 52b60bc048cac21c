"""Running the CAD from the viewer: the model, the jobs, the device, and which result the open study uses.

A mixin of :class:`~mammoview.gui.cad_controller.CadController` (one idea: asking
:class:`~mammoview.gui.cad_jobs.CadRunner` for results and taking them in), kept apart from
the controller's lock, overlays and style.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mammoview.cad.cad_input import readable_by_cad
from mammoview.io.model import MammoImage, View

if TYPE_CHECKING:
    from mammoview.cad.types import StudyCadResult
    from mammoview.cad.weights import LoadedModel
    from mammoview.gui.cad_jobs import CadRunner
    from mammoview.gui.main_window import MainWindow


class CadRuns:
    """The CAD's runs and results as the viewer asks for them (mixed into the CAD controller)."""

    if TYPE_CHECKING:  # provided by CadController and its other mixins
        window: MainWindow
        runner: CadRunner
        device_pref: str
        auto_run: bool
        computed: StudyCadResult | None
        result: StudyCadResult | None
        study_key: str | None
        _run_on_full_resolution: bool

        @property
        def unlocked(self) -> bool: ...
        def rebuild(self) -> None: ...
        def _update_findings(self) -> None: ...
        def _sync_controls(self) -> None: ...
        def _at_operating_point(self, result: StudyCadResult) -> StudyCadResult: ...

    # -- model and jobs (CadRunner does the work) ---------------------------------------------------
    @property
    def model_info(self):  # type: ignore[no-untyped-def]  # ModelInfo | None
        return self.runner.model_info

    @property
    def unavailable(self) -> str | None:
        return self.runner.unavailable

    @property
    def job(self):  # type: ignore[no-untyped-def]  # CadJob | None
        return self.runner.job

    def run(self) -> None:
        """Run CAD on the shown views (Ctrl+R); a session-cached result is reused."""
        if self.window.loaded is None or self.study_key is None:
            self.window.show_status("CAD: open a study first.", 4000)
        elif self.window.loaded.preview:  # the CAD reads the full pixels only (mammoview.io.preview)
            self._run_on_full_resolution = True
            self.window.show_status("CAD starts once the full-resolution pixels are decoded (a few seconds).", 6000)
        elif self.unavailable:
            self.window.show_status(f"CAD unavailable: {self.unavailable}", 8000)
        else:
            shown = [self._cad_image(view, p.image) for view, p in self.window.panels.items() if p.image is not None]
            # the other images of a view that the CAD reads as well (a retake, a large breast's second
            # exposure), so that none of the breast goes unread; not raw, close-up or multi-frame images
            others = [d.image for view in View for d in self.window.choices.get(view, [])
                      if d.image not in shown and readable_by_cad(d.image)]  # fmt: skip
            self.runner.run(shown + others)

    def _cad_image(self, view: View, image: MammoImage) -> MammoImage:
        """What the CAD reads for a panel: its image, or for a volume's slice or a raw (FOR PROCESSING) image the
        view's first image the CAD reads when there is one (the CAD refuses volumes and reads no raw image; the
        result must not depend on which of the view's images is up). A close-up shown is refused with a message."""
        if image.info.tomosynthesis or image.info.meta.for_processing:
            flat = [d.image for d in self.window.choices.get(view, []) if readable_by_cad(d.image)]
            return flat[0] if flat else image
        return image

    def cancel(self) -> None:
        self.runner.cancel()

    def reload_model(self) -> None:
        self.runner.reload()

    def use_model_loader(self, loader: Callable[[], LoadedModel]) -> None:
        """Obtain the model from ``loader`` from now on (tests, embedding)."""
        self.runner.reload(loader)

    def set_device(self, device: str) -> None:
        self.device_pref = device
        self.window.settings.set_value("cad/device", device)
        self.runner.set_device(device)
        self.window.show_status(f"CAD device: {device} (from the next run)", 4000)

    def set_auto(self, enabled: bool) -> None:
        self.auto_run = enabled
        self.window.settings.set_value("cad/auto_run", enabled)

    def _on_model_changed(self) -> None:
        if self.result is None and (cached := self._of_shown(self.runner.cached(self.study_key))) is not None:
            self._show_result(cached)
        self._sync_controls()

    def _of_shown(self, result: StudyCadResult | None) -> StudyCadResult | None:
        """``result`` when it was computed on the files of the study on screen (the same study opened from another
        folder has its own files: the cached result's marks, matched by path, would be missing from it)."""
        loaded = self.window.loaded
        files = {str(i.path) for i in loaded.study.info.images} if loaded is not None else set()
        return result if result is not None and {r.path for r in result.images} <= files else None

    def _on_running_changed(self) -> None:
        if self.result is None:  # the panels say the CAD runs, or no longer does
            self._update_findings()
            self._sync_controls()

    def _on_result(self, study_key: str, result: StudyCadResult) -> None:
        if study_key == self.study_key and self._of_shown(result) is not None:
            self._show_result(result)
            if not self.unlocked:
                self.window.show_status("CAD result ready; shown after the first read is done (Ctrl+D).", 8000)

    def set_result(self, result: StudyCadResult) -> None:
        """Use ``result`` for the open study (planted results in tests, imported results)."""
        self.runner.cache[(self.study_key or "", result.model.sha256)] = result
        self._show_result(result)

    def _show_result(self, result: StudyCadResult) -> None:
        self._use_result(result)
        self.rebuild()

    def _use_result(self, result: StudyCadResult | None) -> None:
        self.computed = result
        self.result = self._at_operating_point(result) if result is not None else None
