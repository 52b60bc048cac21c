"""The worklist: the studies of the opened paths, in order, with how far the reader got in each.

Screening mammograms are read in batches.  Opening a folder (or files) holding several
studies fills the worklist and opens the first study whose first read is not done;
Page Down / Page Up step to the next / previous study, Shift+Page Down to the next one
not yet read, and a double-click on a row opens that study.  The status column comes
from the saved reads (:class:`~mammoview.gui.read_store.ReadStore`), so it survives a
restart and is the same file the CAD lock reads: a study shows as "read" exactly when
its CAD is unlocked.

A study that is the prior of another listed study (the same patient's earlier exam: a PACS export of current
+ priors) is listed as "prior of #N" and is neither opened first nor stepped to by Shift+Page Down: it is there
to be compared with (View ▸ Layout ▸ CC / MLO pair over the prior's), not read again.

The next study is decoded in the background while the reader reads the current one
(:class:`~mammoview.gui.background_jobs.BackgroundJobs` at low priority), so stepping on shows it
without the decode wait.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.read_state import ReaderDecision, ReadState, info_key
from mammoview.gui.read_store import ReadStore
from mammoview.gui.texts import study_lines, study_title
from mammoview.gui.theme import accent
from mammoview.gui.worklist_cells import ElideEnd, ElideName
from mammoview.io.model import StudyInfo, View
from mammoview.io.priors import prior_of
from mammoview.io.study import read_key


class ReadProgress(enum.Enum):
    """How far the reader got with a study (the worklist's status column)."""

    UNREAD = "not read"
    STARTED = "started"  # marks or measurements saved, first read not done
    DONE = "read"  # first read done (CAD unlocked)


def read_progress(state: ReadState | None) -> ReadProgress:
    if state is None:
        return ReadProgress.UNREAD
    if state.first_read_done:
        return ReadProgress.DONE
    started = state.marks or state.measurements or not state.decision.empty
    return ReadProgress.STARTED if started else ReadProgress.UNREAD


@dataclass(frozen=True)
class WorklistEntry:
    study: StudyInfo
    progress: ReadProgress
    marks: int  # the reader's marks saved for the study, on its files
    #: the current decision (after CAD once the first read is done)
    decision: ReaderDecision = field(default_factory=ReaderDecision)
    #: its marks on other files of the exam (a copy: the demo of a full-resolution study shares its read)
    elsewhere: int = 0

    @property
    def status_text(self) -> str:
        """``read · BI-RADS 0 · 2 marks``: progress, the reader's assessment, marks."""
        if self.progress is ReadProgress.UNREAD:
            return str(self.progress.value)
        a = self.decision.assessment
        assessed = f" · BI-RADS {a.value}" if a is not None else ""
        other = f" · {self.elsewhere} on other files of the exam" if self.elsewhere else ""
        return f"{self.progress.value}{assessed} · {self.marks} mark{'s' if self.marks != 1 else ''}{other}"


class Worklist(QtCore.QObject):
    """The ordered studies and which one is current.

    Signals: ``changed()`` when the list is replaced or re-read (everything may differ),
    ``rowChanged(int)`` when one study's status or current-ness changed (a batch of hundreds
    of studies must not be redrawn for each mark the reader places).
    """

    changed = QtCore.Signal()
    rowChanged = QtCore.Signal(int)

    def __init__(self, store: ReadStore | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store or ReadStore()
        self.entries: list[WorklistEntry] = []
        self.current: int | None = None
        #: studies listed as another listed study's prior -> that study (same patient, newest exam): for comparison
        #: (View ▸ Layout, Alt+5 / Alt+6), not opened first nor stepped to by "next not read"
        self.prior_of: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def set_studies(self, studies: Sequence[StudyInfo]) -> None:
        """Replace the list (a new folder was opened); nothing is current until a study is opened."""
        self.entries = [self._entry(s) for s in studies]
        self.prior_of = prior_of(studies)
        self.current = None
        self.changed.emit()

    def map_studies(self, fn: Callable[[StudyInfo], StudyInfo]) -> None:
        """Replace each entry's study by ``fn(study)`` (the same studies, e.g. with a pixel spacing given)."""
        self.entries = [replace(e, study=fn(e.study)) for e in self.entries]

    def index_of(self, study_key: str) -> int | None:
        return next((i for i, e in enumerate(self.entries) if e.study.key == study_key), None)

    def set_current(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.entries):
            raise IndexError(index)
        old, self.current = self.current, index
        for i in {old, index} - {None}:
            self.rowChanged.emit(i)

    def refresh(self, study_key: str | None = None, unsaved: Mapping[str, ReadState] | None = None) -> None:
        """Re-read the saved status of one study (or all); a read in ``unsaved`` (by the key it is saved under: its
        save failed) as it is there, not as on disk."""
        for i, e in enumerate(self.entries):
            if study_key is None or e.study.key == study_key:
                state = (unsaved or {}).get(read_key(e.study).key)
                self.entries[i] = self._entry(e.study) if state is None else _entry(e.study, state)
        self.changed.emit()

    def set_state(self, study_key: str | None, state: ReadState) -> None:
        """The reader changed ``study_key``'s read (already saved): update its row without reading the disk."""
        i = self.index_of(study_key) if study_key is not None else None
        if i is not None:
            self.entries[i] = _entry(self.entries[i].study, state)
            self.rowChanged.emit(i)

    def unread(self) -> list[int]:
        """The studies to read whose first read is not done, in order (a listed study's prior is not one)."""
        return [i for i in range(len(self.entries)) if self._to_read(i)]

    def _to_read(self, index: int) -> bool:
        """The study's first read is not done, and it is not a listed study's prior."""
        return self.entries[index].progress is not ReadProgress.DONE and index not in self.prior_of

    def first_unread(self) -> int | None:
        """The first study whose first read is not done (the one to start a session with)."""
        return next(iter(self.unread()), None)

    def first_to_open(self) -> int | None:
        """The study a session starts with: the first not read yet, else (every study read, the batch reopened to
        review it) the first that is not a listed study's prior (a prior is there to compare with), else the first."""
        start = self.first_unread()
        if start is None:
            start = next((i for i in range(len(self.entries)) if i not in self.prior_of), None)
        return start if start is not None or not self.entries else 0

    def neighbour(self, step: int, unread_only: bool = False) -> int | None:
        """The index ``step`` (+1 / -1) away from the current one (skipping read studies if asked); None at an end."""
        i = -1 if self.current is None and step > 0 else (self.current if self.current is not None else len(self))
        while 0 <= (i := i + step) < len(self.entries):
            if not unread_only or self._to_read(i):
                return i
        return None

    def summary(self) -> str:
        """``Study 2 of 5 · 1 read``."""
        done = sum(e.progress is ReadProgress.DONE for e in self.entries)
        where = f"Study {self.current + 1} of {len(self)}" if self.current is not None else f"{len(self)} studies"
        priors = f" · {len(self.prior_of)} prior{'s' if len(self.prior_of) != 1 else ''}" if self.prior_of else ""
        return f"{where} · {done} read{priors}"

    def status_text(self, index: int) -> str:
        """The Read column: ``read · 2 marks``, ``prior of #3`` (with its status once it has one)."""
        entry = self.entries[index]
        if index not in self.prior_of:
            return entry.status_text
        said = f" · {entry.status_text}" if entry.progress is not ReadProgress.UNREAD else ""
        return f"prior of #{self.prior_of[index] + 1}{said}"

    def _entry(self, study: StudyInfo) -> WorklistEntry:
        return _entry(study, self.store.peek(read_key(study)))


def _entry(study: StudyInfo, state: ReadState | None) -> WorklistEntry:
    if state is None:
        return WorklistEntry(study, ReadProgress.UNREAD, 0)
    own = {info_key(info) for info in study.images}
    here = sum(m.image in own for m in state.marks)
    return WorklistEntry(study, read_progress(state), here, state.current_decision, len(state.marks) - here)


#: the Patient ID has its own column, sized to its contents: in the Study column an elided text lost it first, and
#: two women of one name read on one day (a batch of hundreds holds such pairs) became the same row
COLUMNS = ("#", "Study", "Read", "Views", "ID")
_STUDY, _READ = COLUMNS.index("Study"), COLUMNS.index("Read")
_FITTED = tuple(COLUMNS.index(c) for c in ("#", "Views", "ID"))  # sized to their contents, never elided


#: the ID column of a study none of whose files names a Patient ID (its tooltip says so)
NO_PATIENT_ID = "—"


def patient_id(study: StudyInfo) -> str:
    """The ID column: the Patient ID the images of ``study`` give (one, or one besides images that give none), else
    the patient the study was grouped by where the files' names give one (CBIS-DDSM's per-view IDs disagree: its
    ``P_xxxxx``; a mini-MIAS patient), else :data:`NO_PATIENT_ID`: a Study Instance UID or a folder is no woman's
    ID (a reader took the UID for one)."""
    ids = {im.meta.patient_id.strip() for im in study.images} - {""}
    if len(ids) == 1:
        return ids.pop()
    if not ids and study.key_source.startswith(("StudyInstanceUID", "folder")):
        return NO_PATIENT_ID
    who, _ = study_lines(study)
    return who[-1].removeprefix("Study ") if who else study.key


def patient_id_tip(study: StudyInfo) -> str:
    """The ID column's tooltip: which files name no Patient ID (0010,0020), and what grouped them instead; "" when
    every file names one."""
    missing = [im.path.name for im in study.images if not im.meta.patient_id.strip()]
    if not missing:
        return ""
    if len(missing) < len(study.images):
        return f"{', '.join(missing)}: no Patient ID (0010,0020) in the file; the others give {patient_id(study)}"
    return f"no Patient ID (0010,0020) in the file(s); grouped by {study.key_source}: {study.key}"


def worklist_title(study: StudyInfo) -> str:
    """The Study column: the woman's name and the study's date (the ID is a column of its own), else the title."""
    who, when = study_lines(study)
    named = who[:-1] if len(who) > 1 else []  # study_lines: [name, ID or key] or [ID or key]
    return " | ".join([*named, *when[:1]]) or study_title(study)


def views_text(study: StudyInfo) -> str:
    """``4 views``, or which of the four are missing (``no L MLO``): a short column, the detail is in the study."""
    present = {im.view for im in study.images if im.view is not None}
    missing = [v.label for v in View if v not in present]
    return "4 views" if not missing else "no " + ", ".join(missing)


class WorklistPanel(QtWidgets.QWidget):
    """The worklist as a table: one row per study; ``openRequested(index)`` on double-click / Enter."""

    openRequested = QtCore.Signal(int)

    def __init__(self, worklist: Worklist, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.worklist = worklist
        self.header = QtWidgets.QLabel("Open a folder of studies to read them in turn.")
        self.header.setWordWrap(True)
        self.tree = QtWidgets.QTreeWidget(self)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for col in range(len(COLUMNS)):  # the study's title gives way (elided) so its status stays readable ...
            mode = QtWidgets.QHeaderView.ResizeMode
            header.setSectionResizeMode(col, mode.Stretch if col == 1 else mode.ResizeToContents)
        # ... down to a date's width: then the status gives way (a read's grows: "read · BI-RADS 1 · 0 marks" left
        # the Study column "2…4" in a 1280 px window's dock).  Sized by _fit_read_column, whole in its tooltip.
        header.setSectionResizeMode(_READ, QtWidgets.QHeaderView.ResizeMode.Fixed)
        self._elide_end = ElideEnd(self.tree)
        self.tree.setItemDelegateForColumn(_READ, self._elide_end)
        self._elide_name = ElideName(self.tree)
        self.tree.setItemDelegateForColumn(_STUDY, self._elide_name)
        self._fit_timer = QtCore.QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self._fit_read_column)
        header.sectionResized.connect(self._on_section_resized)
        self.tree.viewport().installEventFilter(self)
        self.tree.itemActivated.connect(lambda item, _col: self.openRequested.emit(self.tree.indexOfTopLevelItem(item)))
        # wrapped between its keys only (no-break spaces within each): on one line its 360 px set the dock's
        # smallest width, and so the right dock area's, however narrow the CAD dock went
        keys = ("PgDown next", "PgUp previous", "Shift+PgDown next not read")
        hint = QtWidgets.QLabel("\N{NO-BREAK SPACE}· ".join(k.replace(" ", "\N{NO-BREAK SPACE}") for k in keys))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addWidget(self.tree)
        layout.addWidget(hint)
        worklist.changed.connect(self.rebuild)
        worklist.rowChanged.connect(self.update_row)
        self._bold = QtGui.QFont(self.tree.font())
        self._bold.setBold(True)

    def rebuild(self) -> None:
        wl = self.worklist
        self.tree.clear()
        self.tree.addTopLevelItems([self._fill(QtWidgets.QTreeWidgetItem(), i) for i in range(len(wl))])
        self._after()

    def update_row(self, index: int) -> None:
        item = self.tree.topLevelItem(index)
        if item is None:  # the list is being replaced
            return
        # A column sized to its contents measures every row again on each cell changed (~5 ms per cell of a
        # 691-study list, 8 cells a row, 2-3 rows a PgDown): fixed while the row is filled, sized once after.
        header, fitted = self.tree.header(), self._fitted_columns()
        for col in fitted:
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.Fixed)
        try:
            self._fill(item, index)
        finally:
            for col in fitted:
                header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self._after()

    def _fitted_columns(self) -> list[int]:
        mode = QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        return [c for c in range(len(COLUMNS)) if self.tree.header().sectionResizeMode(c) == mode]

    def _fill(self, item: QtWidgets.QTreeWidgetItem, i: int) -> QtWidgets.QTreeWidgetItem:
        wl, entry = self.worklist, self.worklist.entries[i]
        texts = [f"{'▶ ' if i == wl.current else ''}{i + 1}", worklist_title(entry.study), wl.status_text(i),
                 views_text(entry.study), patient_id(entry.study)]  # fmt: skip
        font = self._bold if i == wl.current else self.tree.font()
        for col, text in enumerate(texts):
            item.setText(col, text)
            item.setFont(col, font)
        item.setToolTip(COLUMNS.index("ID"), patient_id_tip(entry.study))
        item.setToolTip(_READ, texts[_READ])
        item.setToolTip(1, f"{study_title(entry.study)}\n{entry.study.key} ({entry.study.key_source}), "
                           f"{len(entry.study.images)} image(s)")  # fmt: skip
        done = entry.progress is ReadProgress.DONE
        item.setForeground(2, QtGui.QBrush(accent("done")) if done else self.tree.palette().text())
        return item

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # Qt's virtual
        if event.type() == QtCore.QEvent.Type.Resize:  # the tree's viewport: the dock was resized
            self._fit_timer.start()
        return super().eventFilter(watched, event)

    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        if column in _FITTED:
            self._fit_timer.start()

    def _fit_read_column(self) -> None:
        """The Read column as wide as its texts, or as leaves the Study column a date (``2016-10-04``, in bold).

        A dock too narrow for every column with a date and a read state (``not read``, ``read …``) beside it, 256 px
        on a small screen: the Study column keeps the date, the Read column the state, and the tree scrolls sideways
        to the others (squeezed, the stretched Study column showed ``20…04`` and the Read column ``r…``)."""
        header, style = self.tree.header(), self.tree.style()
        margin = style.pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.tree) + 1
        bold = QtGui.QFontMetrics(self._bold)
        date = bold.horizontalAdvance("0000-00-00") + 2 * margin + 1
        state = max(bold.horizontalAdvance(f"{p.value} …") for p in ReadProgress) + 2 * margin + 1
        wanted = max(header.sectionSizeHint(_READ), self.tree.sizeHintForColumn(_READ))
        least = min(wanted, max(header.sectionSizeHint(_READ), state))
        width = self.tree.viewport().width()
        room = width - sum(header.sectionSize(c) for c in _FITTED) - date
        mode = QtWidgets.QHeaderView.ResizeMode.Stretch if room >= least else QtWidgets.QHeaderView.ResizeMode.Fixed
        if header.sectionResizeMode(_STUDY) != mode:
            header.setSectionResizeMode(_STUDY, mode)
        if mode == QtWidgets.QHeaderView.ResizeMode.Fixed:  # the status up to the edge, the columns after it whole
            header.resizeSection(_STUDY, date)
            room = width - header.sectionSize(COLUMNS.index("#")) - date
        header.resizeSection(_READ, max(least, min(wanted, room)))

    def _after(self) -> None:
        self._fit_timer.start()
        wl = self.worklist
        self.header.setText(wl.summary() if len(wl) else "Open a folder of studies to read them in turn.")
        current = self.tree.topLevelItem(wl.current) if wl.current is not None else None
        if current is not None and self.tree.currentItem() is not current:
            self.tree.setCurrentItem(current)
            self.tree.scrollToItem(current)
