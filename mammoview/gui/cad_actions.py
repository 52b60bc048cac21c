"""The CAD menu, toolbar and shortcuts: every CAD action has a menu entry, a shortcut and a status tip.

Kept apart from the controller so the whole list reads in one place (and appears in
Help ▸ Keyboard shortcuts, since the actions are registered with the viewer's own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.export_dialog import open_export_dialog
from mammoview.gui.heatmap_layer import MAP_NAMES
from mammoview.gui.read_state import MarkKind
from mammoview.gui.sr_export import export_sr

if TYPE_CHECKING:
    from mammoview.gui.cad_controller import CadController
    from mammoview.gui.main_window import MainWindow

#: Layer toggles: name -> (menu text, shortcut, tip).
LAYERS = {
    "heatmap": ("&Heatmap", "H", "Show the CAD heatmap"),
    "marks": ("CAD &marks", "K", "Show CAD marks (triangle = calcification cluster, star = mass)"),
    "contours": ("Mass c&ontours", "O", "Show the outline of each mass finding"),
    "scores": ("&Scores", "V", "Show finding scores and per-breast scores"),
    "mass": ("Mass findings", "Shift+M", "Show mass findings"),
    "calcification": (
        "Calcification findings",
        "Shift+C",
        "Show calcification findings (the shipped model does not detect calcification clusters reliably: "
        "MODEL_CARD.md beside the models, Known gaps)",
    ),
    "reader": ("&Reader marks", "Shift+K", "Show your own marks"),
}
_MAP_KEYS = {"abnormal": "Ctrl+1", "mass": "Ctrl+2", "calcification": "Ctrl+3", "malignant": "Ctrl+4"}
_KIND_KEYS = {MarkKind.MASS: "Ctrl+Alt+1", MarkKind.CALCIFICATION: "Ctrl+Alt+2", MarkKind.OTHER: "Ctrl+Alt+3"}
DEVICES = ("auto", "cpu", "cuda", "mps")  # mps: Apple silicon
T = TypeVar("T")


def _chosen(slot: Callable[[T], None], value: T) -> Callable[[bool], None]:
    """A radio entry's slot: ``slot(value)`` when the entry becomes checked."""

    def run(checked: bool) -> None:
        if checked:
            slot(value)

    return run


def _radio(window: MainWindow) -> QtGui.QActionGroup:
    group = QtGui.QActionGroup(window)
    group.setExclusive(True)
    return group


def build_cad_actions(window: MainWindow, cad: CadController) -> dict[str, QtGui.QAction]:
    """Create the CAD menu (before Help), its actions, and the File-menu export of the active view."""
    add = window.commands.add
    menu = window.add_menu("&CAD")
    st = cad.style
    a: dict[str, QtGui.QAction] = {}
    a["run"] = add(menu, "cad_run", "&Run CAD", "Ctrl+R", "Run the CAD second reader on the four views", cad.run)
    a["cancel"] = add(menu, "cad_cancel", "&Cancel CAD", "Ctrl+Shift+R", "Stop the running CAD job", cad.cancel)
    a["done"] = add(menu, "cad_first_read_done", "First read &done — show CAD", "Ctrl+D",
                    "Close your unaided read; CAD results are shown from now on", cad.first_read_done)  # fmt: skip
    menu.addSeparator()
    a["show"] = add(menu, "cad_show", "Show &CAD overlays", "C", "Show or hide every CAD overlay",
                    lambda on: cad.set_flag("cad", on), checkable=True, checked=st.cad)  # fmt: skip
    layers = menu.addMenu("&Layers")
    for name, (text, key, tip) in LAYERS.items():
        a[name] = add(layers, f"cad_layer_{name}", text, key, tip,
                      lambda on, n=name: cad.set_flag(n, on), checkable=True, checked=getattr(st, name))  # fmt: skip
    maps = menu.addMenu("Heatmap &map")
    group = _radio(window)
    for name in MAP_NAMES:
        act = add(maps, f"cad_map_{name}", name.capitalize(), _MAP_KEYS[name], f"Heatmap of p({name})",
                  _chosen(cad.set_map, name), checkable=True, checked=st.map_name == name)  # fmt: skip
        group.addAction(act)
        a[f"map_{name}"] = act
    a["next_map"] = add(menu, "cad_next_map", "Next heatmap map", "G", "Cycle abnormal / mass / calcification / "
                        "malignant", cad.cycle_map)  # fmt: skip
    a["opacity_up"] = add(menu, "cad_opacity_up", "Heatmap more opaque", "]", "Heatmap opacity +10%",
                          lambda: cad.nudge("opacity", 0.1))  # fmt: skip
    a["opacity_down"] = add(menu, "cad_opacity_down", "Heatmap more transparent", "[", "Heatmap opacity -10%",
                            lambda: cad.nudge("opacity", -0.1))  # fmt: skip
    a["threshold_up"] = add(menu, "cad_threshold_up", "Raise heatmap threshold", "}",
                            "Hide more low heatmap values (one step: half a log-odds unit)",
                            lambda: cad.nudge_threshold(+1))  # fmt: skip
    a["threshold_down"] = add(menu, "cad_threshold_down", "Lower heatmap threshold", "{",
                              "Show more low heatmap values (one step: half a log-odds unit)",
                              lambda: cad.nudge_threshold(-1))  # fmt: skip
    menu.addSeparator()
    a["mark_mode"] = add(menu, "cad_mark_mode", "&Mark mode (place your marks)", "R",
                         "Left click on an image places a mark of the current kind; click a mark to select it",
                         cad.set_mark_mode, checkable=True)  # fmt: skip
    kinds = menu.addMenu("Mark &kind")
    group = _radio(window)
    for kind in MarkKind:
        act = add(kinds, f"cad_kind_{kind.value}", kind.label, _KIND_KEYS[kind], f"New marks are: {kind.value}",
                  _chosen(cad.marks_tool.set_kind, kind), checkable=True,
                  checked=kind is cad.marks_tool.kind)  # fmt: skip
        group.addAction(act)
        a[f"kind_{kind.value}"] = act
    a["undo"] = add(menu, "cad_undo", "&Undo mark", "Ctrl+Z", "Undo the last mark or measurement action",
                   cad.undo)  # fmt: skip
    a["redo"] = add(menu, "cad_redo", "Re&do mark", "Ctrl+Shift+Z", "Redo the mark or measurement action undone last",
                   cad.redo)  # fmt: skip
    a["redo"].setShortcuts([QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")])  # either habit
    a["delete"] = add(menu, "cad_delete_mark", "Delete selected mark", "Del",
                      "Delete the selected reader mark or measurement", cad.delete_selected_mark)  # fmt: skip
    menu.addSeparator()
    a["auto"] = add(menu, "cad_auto", "Run CAD &automatically after opening", "Ctrl+Alt+R",
                    "Compute CAD in the background when a study opens (still hidden until the first read is done)",
                    cad.set_auto, checkable=True, checked=cad.auto_run)  # fmt: skip
    devices = menu.addMenu("CAD &device")
    group = _radio(window)
    for i, dev in enumerate(DEVICES):
        act = add(devices, f"cad_device_{dev}", dev.upper() if dev != "auto" else "Automatic", f"Ctrl+Shift+F{i + 1}",
                  f"Run the CAD on: {dev}", _chosen(cad.set_device, dev), checkable=True,
                  checked=cad.device_pref == dev)  # fmt: skip
        group.addAction(act)
        a[f"device_{dev}"] = act
    a["reload"] = add(menu, "cad_reload_model", "Re&load model", "Ctrl+Shift+L",
                      "Look for the CAD model again (after installing or replacing it)", cad.reload_model)  # fmt: skip
    a["measure"] = add(window.menus["Image"], "measure", "Measure &length", "U",
                       "Left drag draws a length line (mm from the image's pixel spacing, else px); click a line "
                       "to select it, Del deletes it", cad.set_measure_mode, checkable=True)  # fmt: skip
    a["tool_off"] = add(window.menus["Image"], "tool_off", "Leave mark / measure mode", "Esc",
                        "Back to viewing: a click selects, a drag pans (a line being drawn is dropped)",
                        cad.leave_tools)  # fmt: skip
    a["export_sr"] = add(window.menus["File"], "export_sr", "Export CAD as DICOM &SR…", "Ctrl+Alt+E",
                         "Write the shown CAD findings as a DICOM Structured Report (TID 1500) for a PACS",
                         lambda: export_sr(cad))  # fmt: skip
    a["export_view"] = add(window.menus["File"], "export_view", "Export active &view…", "Ctrl+Shift+E",
                           "Export the active view only (PNG + findings JSON)",
                           lambda: open_export_dialog(window, active_only=True))  # fmt: skip
    a["resolve_conflict"] = add(window.menus["File"], "resolve_read_conflict", "Resolve read &conflict…",
                                "Ctrl+Shift+C", "Choose which read of this study goes on: yours, not saved, or the one "
                                "another mammoview window saved meanwhile", cad.resolve_read_conflict)  # fmt: skip
    _before_quit(window.menus["File"], window.commands["quit"], a["export_view"], a["export_sr"], a["resolve_conflict"])
    return a


def _before_quit(menu: QtWidgets.QMenu, quit_action: QtGui.QAction, *actions: QtGui.QAction) -> None:
    """Move ``actions`` (added after the viewer built its File menu) beside Export…, above Quit's separator."""
    items = menu.actions()
    i = items.index(quit_action)
    anchor = items[i - 1] if i > 0 and items[i - 1].isSeparator() else quit_action
    for action in actions:
        menu.removeAction(action)
        menu.insertAction(anchor, action)


def build_toolbar(window: MainWindow, actions: dict[str, QtGui.QAction]) -> QtWidgets.QToolBar:
    """A small CAD toolbar: run, first read done, mark mode, measure, show CAD."""
    bar = QtWidgets.QToolBar("CAD", window)
    bar.setObjectName("cad_toolbar")
    bar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
    for name in ("run", "done", "mark_mode", "measure", "show"):
        bar.addAction(actions[name])
    window.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, bar)
    return bar
