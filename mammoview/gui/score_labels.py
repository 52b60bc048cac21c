"""Per-breast CAD scores on screen: "R breast: abnormal 0.998 (0.4 FP/img) · malignant 0.12 · density C (0.62)".

The abnormal score is the breast's strongest map value, i.e. its top mark's score; with the
model's validation operating curve it also reads as the false marks per image the CAD made on
its validation images at that score (the scores of a confident network crowd at 0.99-1.00, the
rate tells them apart).  And the exam line.

One label per breast, on the upper visible panel of that breast (the CC in the 2x2
layout, the MLO in the MLO-pair layout), in the panel's outer bottom corner just
above the image line: the outer corners are background on a mammogram, so the label
rarely covers tissue, and it sits on the same side as the view label of that breast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from mammoview.cad.cad_input import ASSUMED_IMAGE_HEIGHT_MM
from mammoview.cad.operating import OperatingCurve, format_rate
from mammoview.cad.types import BreastScore, ImageCadResult, StudyCadResult
from mammoview.gui.marks import format_score
from mammoview.gui.view_panel import ViewPanel
from mammoview.io.model import Laterality, View

_STYLE = ("color: #ffffff; background: rgba(70, 0, 70, 170); border: 1px solid #ff3df2; "
          "padding: 2px 6px; border-radius: 3px;")  # fmt: skip
_MARGIN = 6


def breast_text(score: BreastScore, curve: OperatingCurve | None = None, floor: float | None = None) -> str:
    """The label: the breast's scores, and its density when a density model ran.

    With ``curve`` (the model's validation operating curve) the abnormal score is followed by
    its false marks per image, when the score lies on the measured curve (not below its loosest
    threshold, where the curve says nothing).  ``floor``: the shown marks' threshold: the abnormal
    score is the top mark's, printed as its label prints it (:func:`~mammoview.gui.marks.format_score`).
    """
    ab, mal = _abnormal(score.abnormal, curve, floor), format_score(score.malignant)
    density = f" · {score.density.text}" if score.density is not None else ""
    return f"{score.laterality.value} breast: abnormal {ab} · malignant {mal}{density}"


def _abnormal(score: float, curve: OperatingCurve | None, floor: float | None = None) -> str:
    text = format_score(score, floor)
    if curve is not None and score >= curve.thresholds[-1]:
        text += f" ({format_rate(curve.fp_per_image(score))})"
    return text


def exam_text(result: StudyCadResult, floor: float | None = None) -> str:
    """The exam line: ``Exam: abnormal 0.998 (0.4 FP/img) · malignant 0.71 · density C (0.62, L denser)``.

    Exam scores are the maximum over the breasts (the rate and ``floor`` as in :func:`breast_text`, from the
    model's curve); the density is the denser breast's, as BI-RADS grades an exam whose breasts differ.
    """
    abnormal = _abnormal(result.abnormal, result.model.operating_curve, floor)
    text = f"Exam: abnormal {abnormal} · malignant {format_score(result.malignant)}"
    if (exam := result.exam_density) is not None:
        lat, density = exam
        side = f", {lat.value} denser" if len(result.graded_breasts) > 1 else ""
        text += f" · density {density.category.upper()} ({max(density.probabilities):.2f}{side})"
    return text


def skipped_text(result: StudyCadResult) -> str:
    """The views the CAD refused (their reasons are in the dialog and the log); "" when none."""
    if not result.skipped:
        return ""
    return "Not analysed by the CAD: " + ", ".join(s.where for s in result.skipped) + "."


def _labels(results: Sequence[ImageCadResult]) -> str:
    """The views' labels, each once, e.g. "R CC, L CC" (a view's second image, a retake, adds no second one)."""
    return ", ".join(dict.fromkeys(r.view.label if r.view is not None else Path(r.path).name for r in results))


def spacing_text(result: StudyCadResult) -> str:
    """A warning when the CAD guessed a view's pixel spacing (its file had none); "" when none was guessed.

    The networks read lesions at a fixed size in mm, so the reader should know when that size
    rests on an assumption (e.g. a JPEG, or a secondary-capture DICOM without PixelSpacing).
    """
    guessed = [r for r in result.images if r.spacing_estimated]
    if not guessed:
        return ""
    names = _labels(guessed)
    low, high = (f"{f(r.pixel_spacing[0] for r in guessed if r.pixel_spacing):.2g}" for f in (min, max))
    files = "files" if len(guessed) > 1 else "file"
    mm = low if low == high else f"{low}-{high}"
    return (
        f"No pixel spacing in the {files} of {names}: the CAD assumed {mm} mm "
        f"({ASSUMED_IMAGE_HEIGHT_MM:.0f} mm tall images); its scores are less reliable if that is wrong."
    )


def implant_text(result: StudyCadResult) -> str:
    """A warning for the views whose files say a breast implant is present; "" when none."""
    with_implant = [r for r in result.images if r.implant]
    if not with_implant:
        return ""
    names = _labels(with_implant)
    return (
        f"Breast implant in {names} (the file says so): the CAD was not validated on images with implants; "
        "read its marks and scores there with care."
    )


def synthesized_text(result: StudyCadResult) -> str:
    """A warning for the synthesized 2-D views (Image Type GENERATED_2D, computed from tomosynthesis) the CAD read;
    "" when none: the networks were trained on screen-film exposures."""
    synthesized = [r for r in result.images if r.synthesized]
    if not synthesized:
        return ""
    return (
        f"Synthesized 2-D image in {_labels(synthesized)} (Image Type GENERATED_2D): the CAD was trained on "
        "screen-film exposures, not on images generated from tomosynthesis; read its marks and scores there with care."
    )


def no_breast_text(result: StudyCadResult) -> str:
    """A warning for the views in which the CAD found no breast (its scores of 0 there are no normal reading)."""
    empty = [r for r in result.images if r.breast_found is False]
    if not empty:
        return ""
    return (
        f"No breast found in {_labels(empty)} (an empty field, a blank exposure, a label or a marker only): the CAD "
        "read nothing there; its scores of 0 are no normal reading."
    )


_SEPARATOR, _BREAK = " · ", "\n"


def _fit(label: QtWidgets.QLabel, width: int) -> None:
    """Size ``label`` to fit ``width`` pixels: one line if it fits, else one score per line, else wrapped at words.

    Never wider than its panel: a label cut at the panel's edge, or running into the other breast's across the
    midline, would read as one sentence naming the wrong side.
    """
    one_line = label.text().replace(_BREAK, _SEPARATOR)
    label.setWordWrap(False)
    label.setMinimumWidth(0)
    label.setMaximumWidth(16_777_215)
    for text in (one_line, one_line.replace(_SEPARATOR, _BREAK)):
        label.setText(text)
        label.adjustSize()
        if label.width() <= width:
            return
    label.setWordWrap(True)
    label.setFixedWidth(max(width, 1))
    label.adjustSize()


class BreastScoreLabels(QtCore.QObject):
    """The two score labels and their placement (they follow panel resizes)."""

    def __init__(self, panels: Mapping[View, ViewPanel], parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.panels = panels
        self.labels: dict[View, QtWidgets.QLabel] = {}
        for view, panel in panels.items():
            label = QtWidgets.QLabel("", panel)
            label.setObjectName(f"cad_breast_score_{view.value}")
            label.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.setStyleSheet(_STYLE)
            label.hide()
            self.labels[view] = label
            panel.installEventFilter(self)

    def update_scores(self, breasts: Mapping[Laterality, BreastScore] | None, rows: Sequence[Sequence[View]],
                      curve: OperatingCurve | None = None, floor: float | None = None) -> None:  # fmt: skip
        """Show ``breasts`` (None hides both) on the upper visible panel of each breast (``curve``, ``floor``: see
        breast_text)."""
        hosts: dict[Laterality, View] = {}
        for row in rows:
            for view in row:
                hosts.setdefault(view.laterality, view)
        for view, label in self.labels.items():
            score = breasts.get(view.laterality) if breasts else None
            if score is not None and hosts.get(view.laterality) is view and self.panels[view].display is not None:
                label.setText(
                    breast_text(score, curve, floor)
                )  # (one line; _place breaks it where the panel is narrow)
                label.show()
                self._place(view)
            else:
                label.hide()

    def shown_texts(self) -> dict[View, str]:
        """Each shown label's text, on one line (however it is broken to fit its panel)."""
        return {v: lab.text().replace(_BREAK, _SEPARATOR) for v, lab in self.labels.items() if lab.isVisible()}

    def _place(self, view: View) -> None:
        panel, label = self.panels[view], self.labels[view]
        _fit(label, panel.width() - 2 * _MARGIN)
        info = panel.labels.info
        bottom = panel.height() - _MARGIN - (info.height() + 3 if info.isVisible() else 0)
        x = _MARGIN if panel.chest_wall_right else panel.width() - label.width() - _MARGIN
        label.move(x, bottom - label.height())
        label.raise_()

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Resize:
            for view, panel in self.panels.items():
                if panel is obj and self.labels[view].isVisible():
                    self._place(view)
        return False
