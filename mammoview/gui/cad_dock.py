"""The CAD controls dock: run / first read done, mark tools, and the overlay controls.

The buttons are the menu's own QActions (one state, two places); the sliders and
combo boxes call the controller and are re-synchronised from its style whenever a
shortcut changes it.  While CAD is locked the overlay controls are disabled, with a
tooltip saying why.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.cad.operating import OperatingCurve, describe_point, format_rate
from mammoview.cad.render import threshold_level
from mammoview.cad.types import ModelInfo, heat_probability
from mammoview.gui.cad_overlays import OverlayStyle
from mammoview.gui.colormap import format_probability
from mammoview.gui.export_legend import paint_colorbar
from mammoview.gui.heatmap_layer import MAP_NAMES
from mammoview.gui.read_state import MarkKind

LOCKED_TIP = "Locked until you mark the first read as done (Ctrl+D)"
_TOGGLES = ("show", "heatmap", "marks", "contours", "scores", "mass", "calcification", "reader")
#: Toggle buttons a row: the dock's smallest width is about that many of the widest.
TOGGLE_COLUMNS = 3
#: Short button texts (the menu keeps the long ones): the dock must stay narrow beside the images.
_SHORT = {"run": "Run CAD", "done": "First read done", "mark_mode": "Mark mode", "undo": "Undo", "show": "All CAD",
          "heatmap": "Heatmap", "marks": "Marks", "contours": "Contours", "scores": "Scores", "mass": "Mass",
          "calcification": "Calcs", "reader": "My marks"}  # fmt: skip


#: The dock's buttons drawn from one box in every state, so that a state changes colours only, never a size (the
#: dock's narrowest width is measured once); a toggle that is on takes the selection's colours: the style drew it a
#: shade darker than one that is off (about 12 of 255 grey levels in the dark theme), and with Marks off the reader
#: could not tell it from the buttons beside it.  Not while disabled (CAD locked): a locked layer must not look on.
_BUTTON_STYLE = """
QToolButton { background-color: palette(button); border: 1px solid palette(mid); border-radius: 3px;
              padding: 2px 1px; }
QToolButton:hover:enabled { border-color: palette(highlight); }
QToolButton:pressed, QToolButton:checked:enabled { background-color: palette(highlight);
                                                   color: palette(highlighted-text); border-color: palette(highlight); }
"""


def _button(action: QtGui.QAction, name: str = "") -> QtWidgets.QToolButton:
    if name in _SHORT:
        action.setIconText(_SHORT[name])  # buttons and the toolbar show iconText; menus the full text
    b = QtWidgets.QToolButton()
    b.setDefaultAction(action)
    b.setStyleSheet(_BUTTON_STYLE)
    b.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
    b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
    return b


def _slider(on_change: Callable[[int], None], top: int = 100) -> QtWidgets.QSlider:
    s = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
    s.setRange(0, top)
    s.setSingleStep(1)
    s.setPageStep(top // 10)
    s.valueChanged.connect(on_change)
    return s


class HeatScale(QtWidgets.QWidget):
    """The heatmap's colour scale with the reader's threshold: what the colours on the images mean."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.threshold = 0.0
        self.setFixedHeight(34)
        self.setToolTip("Heatmap colours by probability (log-odds scale); the white line is the threshold, "
                        "values left of it are transparent")  # fmt: skip

    def set_threshold(self, threshold: float) -> None:
        if threshold != self.threshold:
            self.threshold = threshold
            self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        try:
            if not self.isEnabled():  # locked (first read not done) or no model: greyed like the other controls
                painter.setOpacity(0.3)
            ink = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
            # room on the right for the last label, centred near the end of the bar
            paint_colorbar(painter, 4.0, 4.0, max(self.width() - 26, 16), 12, self.threshold, ink)
        finally:
            painter.end()


def keep_keys_on_the_images(widget: QtWidgets.QWidget) -> None:
    """The buttons, lists and sliders in ``widget`` take the keyboard focus by Tab only, never by a click: after a
    click there, an arrow key meant for the images (a slice) must not choose a BI-RADS assessment, a mark kind or a
    map, nor move a slider; a list still takes the arrow keys while it is open, and Tab reaches every control (the
    marks' operating point has no menu entry)."""
    for kind in (QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QAbstractSlider):
        for child in widget.findChildren(kind):
            child.setFocusPolicy(QtCore.Qt.FocusPolicy.TabFocus)


class CadDock(QtWidgets.QWidget):
    """Controls for the CAD second reader (placed in the right dock area)."""

    mapChosen = QtCore.Signal(str)
    opacityChosen = QtCore.Signal(float)
    thresholdChosen = QtCore.Signal(float)
    operatingChosen = QtCore.Signal(float)  # false marks per image (0: the model's own threshold)
    kindChosen = QtCore.Signal(object)  # MarkKind

    def __init__(self, actions: dict[str, QtGui.QAction], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CadDock")
        self.model_label = QtWidgets.QLabel("CAD model: looking…")
        self.model_label.setWordWrap(True)
        self.state_label = QtWidgets.QLabel("")
        self.state_label.setWordWrap(True)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(_button(actions["run"], "run"))
        top.addWidget(_button(actions["done"], "done"))

        self.kind_combo = QtWidgets.QComboBox()
        for kind in MarkKind:
            self.kind_combo.addItem(kind.label, kind)
        self.kind_combo.setToolTip("Kind of the next mark (Ctrl+Alt+1/2/3)")
        # "Calcification" cut at its end where the dock is narrow (the list shows it whole)
        self.kind_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.kind_combo.setMinimumContentsLength(4)
        self.kind_combo.currentIndexChanged.connect(lambda i: self.kindChosen.emit(self.kind_combo.itemData(i)))
        marks = QtWidgets.QHBoxLayout()
        marks.addWidget(_button(actions["mark_mode"], "mark_mode"))
        marks.addWidget(self.kind_combo)
        marks.addWidget(_button(actions["undo"], "undo"))

        self.overlays = QtWidgets.QGroupBox("CAD overlays")
        self.map_combo = QtWidgets.QComboBox()
        for name in MAP_NAMES:
            self.map_combo.addItem(name.capitalize(), name)
        self.map_combo.setToolTip("Which probability map the heatmap shows (G cycles)")
        self.map_combo.currentIndexChanged.connect(lambda i: self.mapChosen.emit(self.map_combo.itemData(i)))
        self.opacity = _slider(lambda v: self.opacityChosen.emit(v / 100.0))
        self.opacity.setToolTip("Heatmap opacity ([ and ])")
        # The threshold moves along the heatmap's own levels (log-odds of p): equal steps from
        # p 0.5 to 0.99 and from 0.99 to 0.9999, where this CAD's scores live.
        self.threshold = _slider(lambda v: self.thresholdChosen.emit(float(heat_probability(v))), 255)
        self.opacity_value, self.threshold_value = QtWidgets.QLabel(), QtWidgets.QLabel()
        self.operating = QtWidgets.QComboBox()
        # its width not from its entries: filled with the model's points ("Default · 0.2 FP/img · finds 30%") after
        # the dock was made, it grew when measured afresh (a theme switch) past the dock's width, cutting off the
        # controls on the right; narrow, the entry's end is cut (the list shows it whole)
        self.operating.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.operating.setMinimumContentsLength(8)
        self.operating.currentIndexChanged.connect(
            lambda i: self.operatingChosen.emit(float(self.operating.itemData(i) or 0.0)) if i >= 0 else None
        )
        self._operating_model: tuple[object, ...] | None = None
        #: the validation curve of the map's own scores (threshold tooltip); None with a verifier, whose
        #: curve is of the re-scored marks, not of the detector's map the heatmap shows
        self._curve: OperatingCurve | None = None
        self._verified = False
        form = QtWidgets.QGridLayout(self.overlays)
        form.addWidget(QtWidgets.QLabel("Map"), 0, 0)
        form.addWidget(self.map_combo, 0, 1, 1, 3)
        form.addWidget(QtWidgets.QLabel("Opacity"), 1, 0)
        form.addWidget(self.opacity, 1, 1, 1, 2)
        form.addWidget(self.opacity_value, 1, 3)
        form.addWidget(QtWidgets.QLabel("Threshold"), 2, 0)
        form.addWidget(self.threshold, 2, 1, 1, 2)
        form.addWidget(self.threshold_value, 2, 3)
        self.scale = HeatScale()
        form.addWidget(self.scale, 3, 1, 1, 3)
        form.addWidget(QtWidgets.QLabel("Marks"), 4, 0)
        form.addWidget(self.operating, 4, 1, 1, 3)
        # the toggles in a grid of their own, three a row: four a row (in the form's columns) made the dock at
        # least 324 px wide, half the window at 200 % on a 1280 x 800 screen
        toggles = QtWidgets.QGridLayout()
        for i, name in enumerate(_TOGGLES):
            toggles.addWidget(_button(actions[name], name), i // TOGGLE_COLUMNS, i % TOGGLE_COLUMNS)
        form.addLayout(toggles, 5, 0, 1, 4)

        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.addWidget(self.model_label)
        self._layout.addWidget(self.state_label)
        self._layout.addLayout(top)
        self._layout.addLayout(marks)
        self._layout.addWidget(self.overlays)
        self._layout.addStretch(1)

    def insert_section(self, widget: QtWidgets.QWidget) -> None:
        """Put ``widget`` (e.g. the reader's assessment row) between the mark tools and the overlays."""
        self._layout.insertWidget(self._layout.indexOf(self.overlays), widget)

    def sync(self, style: OverlayStyle, kind: MarkKind) -> None:
        """Show ``style`` and ``kind`` without emitting the change signals back."""
        widgets: tuple[QtCore.QObject, ...] = (self.map_combo, self.opacity, self.threshold, self.kind_combo)
        for w in widgets:
            w.blockSignals(True)
        self.map_combo.setCurrentIndex(max(0, self.map_combo.findData(style.map_name)))
        self.opacity.setValue(round(style.opacity * 100))
        self.threshold.setValue(threshold_level(style.threshold))
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(kind)))
        for w in widgets:
            w.blockSignals(False)
        self.opacity_value.setText(f"{style.opacity:.0%}")
        self.threshold_value.setText(format_probability(style.threshold))
        self.scale.set_threshold(style.threshold)
        tip = f"Heatmap values below p {format_probability(style.threshold)} are transparent ({{ and }})"
        if self._curve is not None and style.threshold >= self._curve.thresholds[-1]:
            rate = format_rate(self._curve.fp_per_image(style.threshold), unit=False)
            who = "the detector alone (before verification)" if self._verified else "the CAD"
            tip += f".\nWith its marks at this score {who} made {rate} false marks per validation image"
        self.threshold.setToolTip(tip)
        self.threshold_value.setToolTip(tip)

    def set_operating_points(self, model: ModelInfo | None, rate: float) -> None:
        """Offer the model's operating points (its own threshold, and preset rates its curve reaches)."""
        key = (model.sha256, model.finding_threshold, model.operating_curve) if model is not None else None
        if key != self._operating_model:
            self._operating_model = key
            self.operating.blockSignals(True)
            self.operating.clear()
            for text, value, tip in operating_points(model):
                self.operating.addItem(text, value)
                self.operating.setItemData(self.operating.count() - 1, tip, QtCore.Qt.ItemDataRole.ToolTipRole)
            self.operating.blockSignals(False)
        curve = model.operating_curve if model is not None else None
        self._curve = model.heatmap_curve if model is not None else None  # the map's: the detector's own
        self._verified = model is not None and model.verifier is not None
        self.operating.setEnabled(curve is not None)
        self.operating.setToolTip(
            "Which CAD marks are shown: the score threshold at which the model made this many false marks per "
            "image on its validation images (and the share of validation masses it found there)" if curve is not None
            else "This model has no validation FROC curve: its marks use its own threshold"
        )  # fmt: skip
        self.operating.blockSignals(True)
        i = self.operating.findData(rate)
        self.operating.setCurrentIndex(i if i >= 0 else 0)
        self.operating.blockSignals(False)

    def set_locked(self, locked: bool, state_text: str) -> None:
        self.overlays.setEnabled(not locked)
        self.overlays.setToolTip(LOCKED_TIP if locked else "")
        self.state_label.setText(state_text)


def operating_points(model: ModelInfo | None) -> list[tuple[str, float, str]]:
    """(text, false marks per image or 0 for the model's own threshold, tooltip) for the Marks combo box."""
    if model is None:
        return [("Model default", 0.0, "")]
    curve, thr = model.operating_curve, model.finding_threshold
    point = describe_point(thr, curve)
    short = point.split(" \u00b7 ", 1)[1] if curve is not None else point  # the rate, when there is one
    out = [(f"Default \u00b7 {short}", 0.0, f"The model's own threshold: {point} on validation")]
    if curve is None:
        return out
    for rate, t, found in curve.points():
        tip = (
            f"p \u2265 {t:.4f}: on {curve.images or 'its'} validation images the model made {rate:g} false marks "
            f"per image at this threshold and found {found:.0%} of {curve.lesions or 'the'} masses"
        )
        out.append((f"{rate:g} FP/img · finds {found:.0%}", rate, tip))
    return out


def model_text(info: ModelInfo | None, unavailable: str | None) -> str:
    """The dock's model line: name, version and short hash, or why CAD is unavailable."""
    if unavailable:
        return f"<b>CAD unavailable</b>: {html.escape(unavailable, quote=False)}"  # (a path may hold < or &)
    if info is None:
        return "CAD model: loading…"
    verifier = f" + verified by {info.verifier.tag}" if info.verifier is not None else ""
    not_used = "".join(f"<br><b>{html.escape(why, quote=False)}</b>" for why in info.not_used)
    return f"CAD model: <b>{info.name}</b> {info.version} ({info.sha256[:8]}){verifier} — research use only{not_used}"
