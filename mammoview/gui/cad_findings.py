"""The findings panel's content: CAD findings matched with the reader's marks, and the measurements' lengths.

A mixin of :class:`~mammoview.gui.cad_controller.CadController` (one idea: what the findings
panel lists, row by row), kept apart from the controller's runs, lock, drawing and style.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mammoview.gui.matching import MatchRow, ViewCad, match_study
from mammoview.gui.measure_tool import Length, measurement_length
from mammoview.gui.read_state import Measurement, image_key, info_key, study_info_key
from mammoview.io.header_model import PixelSpacing

if TYPE_CHECKING:
    from mammoview.cad.types import ImageCadResult, ModelInfo, StudyCadResult
    from mammoview.gui.cad_jobs import CadRunner
    from mammoview.gui.cad_overlays import OverlayStyle
    from mammoview.gui.findings_panel import FindingsPanel
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.measure_tool import MeasureTool
    from mammoview.gui.reader_marks import ReaderMarks
    from mammoview.gui.view_panel import ViewPanel
    from mammoview.io.model import MammoImage, View

#: the findings panel before the study has a CAD result: the CAD runs now, or has not run
RUNNING = "CAD is running on this study: its findings appear here when it is done (the status bar's Cancel stops it)."
NOT_RUN = "CAD has not run for this study yet (Ctrl+R)."


class CadFindings:
    """The findings panel's rows and the lengths it lists (mixed into the CAD controller)."""

    if TYPE_CHECKING:  # provided by CadController and its other mixins
        window: MainWindow
        style: OverlayStyle
        result: StudyCadResult | None
        study_key: str | None
        runner: CadRunner
        reader: ReaderMarks
        findings: FindingsPanel
        measure_tool: MeasureTool
        prior_measure: MeasureTool

        @property
        def unlocked(self) -> bool: ...
        def image_result(self, panel: ViewPanel) -> ImageCadResult | None: ...
        def result_for(self, image: MammoImage) -> ImageCadResult | None: ...
        def shown_threshold(self) -> float | None: ...
        def operating_text(self, model: ModelInfo) -> str: ...

    def other_results(self, view: View) -> list[tuple[str, MammoImage, ImageCadResult]]:
        """The images of ``view`` besides the shown one that the CAD analysed (a retake, a second exposure):
        ``(note, image, result)``, the note saying which they are, e.g. "2 of 2"."""
        panel = self.window.panels[view]
        options = self.window.choices.get(view, [])
        found = []
        for i, option in enumerate(options):
            other = option.image
            if panel.image is not None and other is not panel.image and (r := self.result_for(other)) is not None:
                found.append((f"{i + 1} of {len(options)}", other, r))
        return found

    def match_rows(self) -> list[MatchRow]:
        """Rows of the shown images, and of the other images of each view that the CAD analysed (``note``)."""
        views = []
        for v, panel in self.window.panels.items():
            if panel.image is not None:
                views.append(ViewCad(v, image_key(panel.image), self.image_result(panel)))
                views += [ViewCad(v, image_key(img), r, note=note) for note, img, r in self.other_results(v)]
                # the view's other images that the CAD did not read (a tomosynthesis volume) but the reader marked
                listed, options = {vc.image for vc in views if vc.view is v}, self.window.choices.get(v, [])
                for i, option in enumerate(options):
                    key = image_key(option.image)
                    if key not in listed and any(m.view is v and m.image == key for m in self.reader.marks):
                        views.append(ViewCad(v, key, None, note=f"{i + 1} of {len(options)}"))
                        listed.add(key)
        # a mark whose image is not hung as its view now (the reader's view assignment of an unplaced or mislabelled
        # image changed after the mark, or one saved by an older mammoview): listed all the same, never left out
        covered = {(vc.view, vc.image) for vc in views}
        for m in self.reader.marks:
            if (m.view, m.image) not in covered:
                views.append(ViewCad(m.view, m.image, None, note="image not hung here"))
                covered.add((m.view, m.image))
        return match_study(views, self.reader.marks, self.style.kinds())

    def _update_findings(self) -> None:
        if self.study_key is None:
            self.findings.show_locked(self.reader.marks, "No study open: File ▸ Open folder… (Ctrl+O).")
        elif not self.unlocked:
            self.findings.show_locked(self.reader.marks, "CAD is hidden until you mark the first read as done "
                                      "(Ctrl+D). Place your own marks in Mark mode (R).")  # fmt: skip
        elif self.result is None:
            self.findings.show_locked(self.reader.marks, RUNNING if self.runner.running else NOT_RUN)
        else:
            m = self.result.model
            n = sum(len(r.findings) for r in self.result.images)
            kinds = self.style.kinds()
            hidden = sum(not kinds.get(f.kind.value, True) for r in self.result.images for f in r.findings)
            off = f" ({hidden} of a kind switched off)" if hidden else ""  # the groups below list the others
            not_run = "".join(f" · {s.label} not analysed" for s in self.result.skipped)
            note = f"{n} CAD finding(s){off} at {self.operating_text(m)} · {m.label}{not_run}"
            self.findings.show_rows(self.match_rows(), note, self.shown_threshold())
        self.findings.show_measurements([(x, self.length(x).text + (" · prior" if self.on_prior(x) else ""))
                                         for x in self.reader.measurements])  # fmt: skip

    def current_image_keys(self) -> set[str]:
        """The image keys of the study on screen (a measurement on another image was made on its prior)."""
        loaded = self.window.loaded
        return {info_key(i) for i in loaded.study.info.images} if loaded is not None else set()

    def length(self, m: Measurement) -> Length:
        """``m``'s length with its image's pixel spacing: the panel showing it (current or prior), else the header
        of that image among the opened studies (a prior not on screen)."""
        for tool in (self.measure_tool, self.prior_measure):
            panel = tool.panels[m.view]
            if panel.image is not None and tool.key(panel.image) == m.image:
                return tool.length(m)
        infos = (i for e in self.window.worklist.entries for i in e.study.images)
        found = next((i for i in infos if m.image in (info_key(i), study_info_key(i))), None)
        if found is not None:
            return measurement_length(m, found.spacing)
        # its image is not open (a prior not loaded this time): the spacing saved with it when it was measured
        saved = PixelSpacing(*m.spacing, "saved with the measurement") if m.spacing is not None else None
        return measurement_length(m, saved)

    def on_prior(self, m: Measurement) -> bool:
        """Whether ``m`` was measured on a prior exam (its image is none of the shown study's)."""
        return m.image not in self.current_image_keys()
