"""The findings panel (right dock): CAD findings and reader marks as matched / CAD only / reader only.

Before the first read is done it lists only the reader's own marks (nothing of the
CAD).  The reader's length measurements follow in a group of their own.  Clicking a
row asks the controller to centre the view on it; reader-mark and measurement rows can
be deleted from here (undoable).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.cad.operating import format_rate
from mammoview.cad.types import FindingKind
from mammoview.gui.marks import KIND_SHORT, format_score
from mammoview.gui.matching import RULE, Category, MatchRow, deletable_mark
from mammoview.gui.read_state import Measurement, ReaderMark
from mammoview.gui.theme import accent
from mammoview.io.model import View

#: Group title colours, readable on light and dark palettes (None: the palette's text colour).
_GROUP_COLOURS = {Category.MATCHED: "matched", Category.CAD_ONLY: "cad_only", Category.READER_ONLY: None}  # accents
_ROW = QtCore.Qt.ItemDataRole.UserRole


#: Finding kinds as the panel names them (short, so the reader column stays in view).
FINDING_SHORT = {FindingKind.MASS: "mass", FindingKind.CALCIFICATION: "calc"}

#: Header tooltip of the false-marks column.
RATE_TIP = (
    "False-positive marks per image the CAD made on its validation images with its threshold at this "
    "finding's score: the lower, the more sure the CAD is (from the model's operating curve)"
)


#: Header tooltip of the CAD column.
CAD_TIP = "Kind and score: how sure the CAD is that a lesion is there"

#: Header tooltip of the malignancy column.
MALIGNANCY_TIP = (
    "M = malignancy: with a calibrated model (1.3.3 on), the share of the validation findings on masses the CAD "
    "scored this way that were malignant. The malignancy output is weak (validation AUC about 0.6): read it as a "
    "hint, never as a risk estimate"
)


#: Header tooltip of the from-nipple column.
NIPPLE_TIP = (
    "Distance from the nipple in mm (finding centre, else your mark; ~ before it: estimated, the file gives no "
    "pixel spacing): a lesion lies at about the same distance in the CC and the MLO view, which helps to find it "
    "in the other view"
)


#: The columns: the reader's marks beside the CAD's, so a matched row shows both at the dock's
#: default width; the numbers (malignancy, false marks per image, mm from the nipple) after them.
#: The malignancy has a column of its own: in the CAD cell ("mass 0.986 · M 0.53") it made that cell the
#: widest, cut to "mass 0.98 · M 0…" in the 384 px dock of a 2560 x 1600 screen at 200 %.
#: Not "FN" for "from the nipple": beside a false-positive column a reader takes it for false negatives.
COLUMNS = ("View", "CAD", "Reader", "M", "FP/img", "Nipple mm")
#: Their headers where the table is too narrow for :data:`COLUMNS` (the header tooltips say the units).
SHORT_COLUMNS = ("View", "CAD", "Reader", "M", "FP", "Nipple")
VIEW, CAD, READER, MALIGNANCY, RATE, NIPPLE = range(len(COLUMNS))
#: Hidden in this order where the table is too narrow for every column whole (a 256 px dock at 200 %): numbers
#: that the images' score labels also show (M, FP/img), then the nipple distance; the row's CAD and View cells'
#: tooltips hold them.
HIDE_FIRST = (MALIGNANCY, RATE, NIPPLE)

#: A typical widest row, column by column: what the panel's preferred width is measured on.
TYPICAL_ROW = ("L MLO", "mass 0.996", "R12 mass (10 mm)", "0.50", "0.25", "120")

#: Indentation of the rows under their group title (pixels; Qt's default, ~20, is wasted width; at 10 the demo's
#: list, whole, was 1 px wider than the 384 px dock of a 2560 x 1600 screen at 200 %).
INDENT_PX = 6


def slice_text(item: ReaderMark | Measurement) -> str:
    """`` · slice 12`` for a mark or measurement on a tomosynthesis slice, else nothing."""
    return f" · slice {item.frame + 1}" if item.frame is not None else ""


def shown_columns(natural: Sequence[int], room: int) -> list[int]:
    """The columns to show in ``room`` pixels: all where they fit, else without :data:`HIDE_FIRST`'s first ones."""
    shown = list(range(len(natural)))
    for col in HIDE_FIRST:
        if sum(natural[c] for c in shown) <= room:
            break
        shown.remove(col)
    return shown


def fit_widths(natural: Sequence[int], room: int) -> list[int]:
    """Column widths that fit ``room`` pixels: ``natural`` where they fit, else the widest cut to one common width.

    The narrow columns (the view, the numbers) keep their width; the wide text columns (CAD, reader) give up
    their ends, which the table elides ("mass 0.996 · M…"): a kind and score, a mark's label and kind, stay.
    """
    if sum(natural) <= room:
        return list(natural)
    rest, left = room, len(natural)
    cap = 0
    for width in sorted(natural):
        cap = rest // left
        if width > cap:
            break
        rest, left = rest - width, left - 1
    return [min(w, cap) for w in natural]


def row_text(row: MatchRow, floor: float | None = None) -> list[str]:
    """Columns of one row: view, CAD (kind score), reader marks, malignancy, false marks per image, mm from nipple.

    ``floor``: the threshold the shown findings were cut at (:func:`~mammoview.gui.marks.format_score`).
    """
    cad = malignancy = rate = ""
    if row.finding is not None:
        f = row.finding
        cad, malignancy = f"{FINDING_SHORT[f.kind]} {format_score(f.score, floor)}", format_score(f.malignancy)
        rate = format_rate(f.fp_per_image, unit=False) if f.fp_per_image is not None else ""
    reader = ", ".join(f"{m.label} {KIND_SHORT[m.kind]}{slice_text(m)}" for m in row.marks)
    about = "~" if row.mm_estimated else ""  # from the CAD's guessed spacing, not measured
    if row.distance_mm is not None:
        reader += f" ({about}{row.distance_mm:.0f} mm)"
    nipple = f"{about}{row.nipple_mm:.0f}" if row.nipple_mm is not None else ""
    view = f"{row.view.label} ({row.note})" if row.note else row.view.label
    return [view, cad, reader, malignancy, rate, nipple]


def reader_texts(view: View, text: str) -> list[str]:
    """Columns of a row of the reader's alone (a mark before CAD is shown, a measurement): view and ``text``."""
    texts = [""] * len(COLUMNS)
    texts[VIEW], texts[READER] = view.label, text
    return texts


def finding_tip(texts: Sequence[str], center: tuple[float, float]) -> str:
    """The CAD cell's tooltip: the finding's numbers (those of a hidden column too) and its centre."""
    numbers = [texts[CAD], f"M {texts[MALIGNANCY]}"] + ([f"{texts[RATE]} FP/img"] if texts[RATE] else [])
    return f"{' · '.join(numbers)} · centre ({center[0]:.0f}, {center[1]:.0f}) px"


class FindingsPanel(QtWidgets.QWidget):
    """A grouped list of :class:`MatchRow` (or, while CAD is locked, of the reader's marks).

    Signals
    -------
    rowActivated(object)
        A :class:`MatchRow` was clicked (or chosen with the keyboard).
    deleteRequested(int)
        The reader asked to delete mark ``id``.
    measurementActivated(object)
        A :class:`Measurement` row was clicked.
    measurementDeleteRequested(int)
        The reader asked to delete measurement ``id``.
    titleActivated()
        A group's title row was chosen: no mark, finding or measurement is selected.
    """

    rowActivated = QtCore.Signal(object)
    titleActivated = QtCore.Signal()
    deleteRequested = QtCore.Signal(int)
    measurementActivated = QtCore.Signal(object)
    measurementDeleteRequested = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindingsPanel")
        self.note = QtWidgets.QLabel("")
        self.note.setWordWrap(True)
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.headerItem().setToolTip(CAD, CAD_TIP)
        self.tree.headerItem().setToolTip(MALIGNANCY, MALIGNANCY_TIP)
        self.tree.headerItem().setToolTip(RATE, f"FP/img: {RATE_TIP}")
        self.tree.headerItem().setToolTip(NIPPLE, f"Nipple mm: {NIPPLE_TIP}")
        self.tree.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        self.tree.viewport().installEventFilter(self)  # a narrower dock: the columns fit again
        self._natural: list[int] = []
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(INDENT_PX)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.currentItemChanged.connect(lambda item, _prev: self._activate(item))
        self.tree.itemClicked.connect(lambda item, _col: self._activate(item))
        self.delete_button = QtWidgets.QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected reader mark or measurement (undo: Ctrl+Z)")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self._delete_selected)
        self.rule = QtWidgets.QLabel(f"<small>{RULE}</small>")
        self.rule.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.note)
        layout.addWidget(self.tree, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.rule)
        self.rows: list[MatchRow] = []

    def preferred_width(self) -> int:
        """Width (pixels) at which every column of a typical row shows without scrolling."""
        fm = self.tree.fontMetrics()
        margin = 2 * self.tree.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_HeaderMargin) + 8
        pairs = zip(COLUMNS, TYPICAL_ROW, strict=True)
        text = sum(max(fm.horizontalAdvance(a), fm.horizontalAdvance(b)) + margin for a, b in pairs)
        scrollbar = self.tree.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        frame = 2 * self.tree.frameWidth()
        lay = self.layout()
        margins = lay.contentsMargins() if lay is not None else QtCore.QMargins()
        return text + INDENT_PX + scrollbar + frame + margins.left() + margins.right()

    # -- content --------------------------------------------------------------------------
    def show_locked(self, marks: Sequence[ReaderMark], note: str) -> None:
        """Only the reader's marks (CAD is hidden until the first read is done)."""
        self.rows = [MatchRow(Category.READER_ONLY, m.view, None, (m,), image=m.image) for m in marks]
        self.tree.clear()
        self.note.setText(note)
        self.rule.setVisible(False)
        group = self._group(f"Your marks ({len(marks)})", None)
        for row in self.rows:
            m = row.marks[0]
            self._item(group, row, reader_texts(m.view, f"{m.label} {KIND_SHORT[m.kind]}{slice_text(m)}"))
        self.tree.expandAll()
        self._resize()

    def show_rows(self, rows: Sequence[MatchRow], note: str, floor: float | None = None) -> None:
        """The comparison, grouped by category (``floor``: the findings' threshold, see :func:`row_text`)."""
        self.rows = list(rows)
        self.tree.clear()
        self.note.setText(note)
        self.rule.setVisible(True)
        for cat in Category:
            mine = [r for r in rows if r.category is cat]
            group = self._group(f"{cat.value[0].upper()}{cat.value[1:]} ({len(mine)})", _GROUP_COLOURS[cat])
            for r in mine:
                self._item(group, r, row_text(r, floor))
        self.tree.expandAll()
        self._resize()

    def show_measurements(self, measurements: Sequence[tuple[Measurement, str]]) -> None:
        """The reader's measurements (each with its length text), below the other groups; none: no group."""
        if not measurements:
            return
        group = self._group(f"Your measurements ({len(measurements)})", None)
        for m, length in measurements:
            item = QtWidgets.QTreeWidgetItem(group, reader_texts(m.view, f"{m.label} {length}{slice_text(m)}"))
            item.setData(0, _ROW, m)
            _full_text_tips(item)
        group.setExpanded(True)
        self._resize()

    def counts(self) -> dict[Category, int]:
        return {c: sum(r.category is c for r in self.rows) for c in Category}

    def select_row(self, index: int) -> None:
        """Select (and activate) the ``index``-th row of :attr:`rows` (tests, keyboard)."""
        target = self.rows[index]
        it = QtWidgets.QTreeWidgetItemIterator(self.tree)
        while it.value() is not None:
            item = it.value()
            if item.data(0, _ROW) is target:
                self.tree.setCurrentItem(item)
                return
            it += 1

    def _group(self, title: str, colour: str | None) -> QtWidgets.QTreeWidgetItem:
        group = QtWidgets.QTreeWidgetItem(self.tree, [title])
        group.setFirstColumnSpanned(True)
        group.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        if colour is not None:
            group.setForeground(0, QtGui.QBrush(accent(colour)))
        return group

    def _item(self, group: QtWidgets.QTreeWidgetItem, row: MatchRow, texts: list[str]) -> None:
        item = QtWidgets.QTreeWidgetItem(group, texts)
        item.setData(0, _ROW, row)
        _full_text_tips(item)
        if row.finding is not None:
            item.setToolTip(CAD, finding_tip(texts, row.finding.center))
        if texts[NIPPLE]:  # its column is the last one kept where the dock is narrow
            item.setToolTip(VIEW, f"{texts[VIEW]} · {texts[NIPPLE]} mm from the nipple")

    def _resize(self) -> None:
        self._natural = []  # measured again at the long headers
        self._fit()
        self.delete_button.setEnabled(False)

    def _fit(self) -> None:
        """Columns at their contents' widths, or, where the table is narrower than that, short headers, then
        without the numbers the images show too (:data:`HIDE_FIRST`), then cut to fit it (elided, each cell's
        tooltip has its full text): the reader never has to scroll sideways."""
        tree = self.tree
        if not self._natural:
            for col, text in enumerate(COLUMNS):
                tree.headerItem().setText(col, text)
            self._natural = self._measure()
        room = tree.viewport().width() if tree.isVisible() else sum(self._natural)  # (shown: sized again)
        short = sum(self._natural) > room
        for col, text in enumerate(SHORT_COLUMNS if short else COLUMNS):
            tree.headerItem().setText(col, text)
        natural = self._natural
        if short:  # the short headers: the numbers' columns as wide as their numbers
            natural = self._measure()
        shown = shown_columns(natural, room)
        for col in range(len(COLUMNS)):
            tree.setColumnHidden(col, col not in shown)
        for col, width in zip(shown, fit_widths([natural[c] for c in shown], room), strict=True):
            tree.setColumnWidth(col, width)

    def _measure(self) -> list[int]:
        """Each column's width for its cells and header whole. A hidden column's header measures 0 (Qt's
        sectionSizeHint): measured while the numbers were hidden, FP/img came back in a wider dock as wide as its
        numbers, its header cut, so every column is shown first (:meth:`_fit` hides them again)."""
        tree, header = self.tree, self.tree.header()
        for col in range(len(COLUMNS)):
            tree.setColumnHidden(col, False)
        return [max(tree.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in range(len(COLUMNS))]

    def cut_columns(self) -> list[int]:
        """The columns shown narrower than their contents (elided; their cells' tooltips hold the full text)."""
        tree, hidden = self.tree, self.hidden_columns()
        return [
            c for c in range(tree.columnCount()) if c not in hidden and tree.columnWidth(c) < tree.sizeHintForColumn(c)
        ]

    def hidden_columns(self) -> list[int]:
        """The columns a narrow table hides (:data:`HIDE_FIRST`)."""
        return [c for c in range(self.tree.columnCount()) if self.tree.isColumnHidden(c)]

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.tree.viewport() and event.type() == QtCore.QEvent.Type.Resize:
            self._fit()
        return False

    # -- interaction ----------------------------------------------------------------------
    def _activate(self, item: QtWidgets.QTreeWidgetItem | None) -> None:
        row = item.data(0, _ROW) if item is not None else None
        self.delete_button.setEnabled((isinstance(row, MatchRow) and bool(row.marks)) or isinstance(row, Measurement))
        if isinstance(row, MatchRow):
            self.rowActivated.emit(row)
        elif isinstance(row, Measurement):
            self.measurementActivated.emit(row)
        elif item is not None:  # a group's title: nothing is selected, so Del deletes nothing
            self.titleActivated.emit()

    def selected_row(self) -> MatchRow | None:
        item = self.tree.currentItem()
        row = item.data(0, _ROW) if item is not None else None
        return row if isinstance(row, MatchRow) else None

    def _delete_selected(self) -> None:
        item = self.tree.currentItem()
        if item is not None and isinstance(m := item.data(0, _ROW), Measurement):
            self.measurementDeleteRequested.emit(m.id)
            return
        row = self.selected_row()
        if row is not None and row.marks:
            self.deleteRequested.emit(deletable_mark(row.marks).id)


def _full_text_tips(item: QtWidgets.QTreeWidgetItem) -> None:
    """Each cell's text as its tooltip: what a narrow table elides is a hover away."""
    for col in range(item.columnCount()):
        if item.text(col):
            item.setToolTip(col, item.text(col))


class DockFit(QtCore.QObject):
    """On the window's first show, widen ``dock`` to ``width()`` pixels, at most 30 % of the window."""

    def __init__(self, window: QtWidgets.QMainWindow, dock: QtWidgets.QDockWidget, width: Callable[[], int]) -> None:
        super().__init__(window)
        self.window, self.dock, self.width = window, dock, width
        window.installEventFilter(self)
        if window.isVisible():
            self.fit()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.window and event.type() == QtCore.QEvent.Type.Show:
            self.fit()
        return False

    def fit(self) -> None:
        self.window.removeEventFilter(self)
        target = min(self.width(), int(0.3 * self.window.width()))
        if target > self.dock.width():
            self.window.resizeDocks([self.dock], [target], QtCore.Qt.Orientation.Horizontal)
