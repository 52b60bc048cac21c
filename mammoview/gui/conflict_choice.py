"""The reader's way out of a read conflict (:mod:`~mammoview.gui.read_conflict`): the open study's read not saved, as
another mammoview window saved a read of it meanwhile that the reader's would change.

Both reads are safe: the other window's is the study's read on disk, the reader's is on screen and in its conflict
copy.  The reader is asked which goes on (:meth:`ConflictChoice.resolve_read_conflict`, as the conflict is found and
from File ▸ Resolve read conflict…): "Show the saved read" (the other window's replaces the reader's on screen, and
what the reader does next is saved onto it: :meth:`~mammoview.gui.reads_not_saved.NotSavedReads.show_saved_read`), or
"Keep mine (not saved)" (as it is).  A mixin of :class:`~mammoview.gui.cad_controller.CadController`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mammoview.gui import dialogs
from mammoview.gui.read_conflict import CONFLICT, Conflict

if TYPE_CHECKING:
    from PySide6 import QtGui

    from mammoview.cad.types import StudyCadResult
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.read_state import ReadState
    from mammoview.gui.reader_marks import ReaderMarks
    from mammoview.io.study import ReadKey


SHOW_SAVED = "Show the saved read"
KEEP_MINE = "Keep mine (not saved)"
#: where the reader finds the choice again
MENU = "File ▸ Resolve read conflict… (Ctrl+Shift+C)"


class ConflictChoice:
    """Asks the reader which read of a study in conflict goes on (mixed into the CAD controller)."""

    if TYPE_CHECKING:  # provided by CadController
        window: MainWindow
        reader: ReaderMarks
        actions: dict[str, QtGui.QAction]

        result: StudyCadResult | None

        def _select_nothing(self) -> None: ...

        def run(self) -> None: ...

        @property
        def unavailable(self) -> str | None: ...

    #: the conflicts the choice was offered for, each as the study and the read saved there that the reader's would
    #: change: one is offered once, then said in the status bar at each save (every save of the reader's read meets
    #: it again); a conflict with another read saved since (the other window saved again) is a new one, offered
    _conflicts_offered: frozenset[tuple[str | None, ReadState]] = frozenset()

    def _on_conflict(self, conflict: Conflict) -> None:
        """A save of the open study's read met ``conflict``: the choice is offered, unless it was for the same read
        saved there (not keyed by the study's opening: after "Show the saved read", a second conflict in the same
        opening, with what the other window saved since, was said in the status bar only)."""
        offered = (self.reader.study_key, conflict.theirs)
        if offered not in self._conflicts_offered:
            self._conflicts_offered |= {offered}  # (a new set: the class's empty one is never changed)
            self.resolve_read_conflict()
            return
        said = f"in conflict with the read {conflict.saved_by} saved{conflict.saved_at}; {conflict.kept}"
        self.window.show_status(f"Read not saved: {said}. {MENU} chooses which goes on.", 8000)

    def _sync_conflict_action(self) -> None:
        self.actions["resolve_conflict"].setEnabled(self.reader.conflict is not None)

    def resolve_read_conflict(self) -> None:
        """Ask the reader which read of the open study goes on, the other window's saved one or theirs."""
        key, conflict = self.reader.read_key, self.reader.conflict
        if key is None or conflict is None:
            self.window.show_status("The read on screen is saved, in no conflict: nothing to resolve.", 5000)
            return
        kept = (f"Yours is kept as a conflict copy:\n{conflict.copy}" if conflict.copy else
                f"No copy of yours could be kept ({conflict.copy_failed}): it is in this window only.")  # fmt: skip
        text = (
            f"Your read of this study is not saved: {conflict.saved_by} saved a read of it{conflict.saved_at}, "
            f"after this window read it, and yours would change that read ({conflict.why}).\n\n"
            f"The saved read (the other window's): {_summary(conflict.theirs)}.\n"
            f"Yours, on screen: {_summary(self.reader.state)}.\n"
            f"{kept}\n\n"
            f"{SHOW_SAVED}: the saved read replaces yours on screen, and what you do next is saved onto it; yours "
            "stays in the conflict copy (where none can be written, yours stays on screen).\n"
            f"{KEEP_MINE}: yours stays on screen, not saved (the copy follows your changes); {MENU} asks again."
        )
        self.window.show_status(f"Read not saved: in conflict with the read {conflict.saved_by} saved.", 8000)
        dialogs.choice_box(self.window, "Read conflict", text, [SHOW_SAVED, KEEP_MINE],
                           lambda i: self._conflict_chosen(key, i == 0))  # fmt: skip

    def _conflict_chosen(self, key: ReadKey, show_saved: bool) -> None:
        """The reader answered the choice for ``key``'s read (another study may be open by now, or the conflict gone
        as the reader took back what made it)."""
        conflict = self.reader.conflict
        if self.reader.read_key != key or conflict is None:
            self.window.show_status("Nothing changed: that read is no longer on screen, or in conflict.", 6000)
            return
        if not show_saved:
            self.window.show_status(f"Your read stays on screen, not saved; {conflict.kept}.", 10000)
            return
        try:
            copy = self.reader.show_saved_read()
        except (OSError, ValueError) as exc:  # (a disk full, the folder another viewer's now; a number json refuses)
            self.window.report_problems("Read conflict", [
                f"The saved read is not shown: yours could not be kept as a conflict copy first ({exc}). Yours stays "
                "on screen, not saved."], critical=True)  # fmt: skip
            return
        self._select_nothing()  # (a mark of the reader's read)
        cad = ""
        if self.reader.first_read_done:  # unlocked by the read shown: as a study opened with its first read done
            cad = " Its first read is done: CAD shown." if not self.unavailable else ""
            if self.result is None and not self.unavailable:
                self.run()
        self.window.show_status(f"The read {conflict.saved_by} saved is on screen, and what you do now is saved "
                                f"onto it.{cad} Yours is kept as {copy}.", 15000)  # fmt: skip


def copies_said(failed: Sequence[tuple[str, str]], conflicts: dict[str, Conflict]) -> tuple[str, bool]:
    """What the quit question says of the reads ``failed`` (each the key it is saved under, and why not) that were
    kept as conflict copies just now (each as the reader leaves it): "" when none was; and whether all were, so that
    quitting loses nothing."""
    copies = [c.copy for key, why in failed if CONFLICT in why and (c := conflicts.get(key)) and c.copy is not None]
    more = f" and {len(copies) - 1} more" if len(copies) > 1 else ""
    if not copies:
        return "", False
    where = f"({copies[0]}{more})"
    if len(copies) == len(failed):
        return f"Nothing is lost: yours is kept as a conflict copy beside the other window's read {where}.", True
    return f"Those in conflict are kept as conflict copies {where}: nothing of them is lost.", False


def _summary(state: ReadState) -> str:
    """A read in a few words, to tell two reads of a study apart: its marks, lengths and decision."""
    marks = ", ".join(f"{m.label} {m.kind.value} ({m.view.label})" for m in state.marks) or "no mark"
    lengths = f"; {len(state.measurements)} length{'s' * (len(state.measurements) != 1)}" if state.measurements else ""
    done = "first read done" if state.first_read_done else "first read not done"
    return f"{marks}{lengths}; {done}, decision {state.current_decision.text}"
