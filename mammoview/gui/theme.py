"""The viewer's colours: a dark reading-room theme (default) or the desktop's own.

Mammograms are read in dimmed rooms: bright docks and menus beside the images dazzle the
reader and lower the contrast the eye perceives in the film (reading workstations, OHIF and
Weasis are dark for that reason).  The dark theme is Qt's Fusion style with a dark palette;
"light" gives back the style and palette the application started with.  Widgets that colour
text themselves ask :func:`accent` for a colour that reads on the current background.
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

THEMES = ("dark", "light")
DEFAULT_THEME = "dark"

#: (dark theme, light theme) colours of the accents the viewer draws itself.
_ACCENTS = {
    "matched": ("#69db7c", "#2f9e44"),  # findings panel: reader mark and CAD finding agree
    "cad_only": ("#f783ec", "#c2189f"),  # findings panel: CAD finding no reader mark matched
    "done": ("#69db7c", "#2e7d32"),  # worklist: first read done
}

_DARK = {
    QtGui.QPalette.ColorRole.Window: "#26282b",
    QtGui.QPalette.ColorRole.WindowText: "#dcdcdc",
    QtGui.QPalette.ColorRole.Base: "#1b1c1e",
    QtGui.QPalette.ColorRole.AlternateBase: "#232427",
    QtGui.QPalette.ColorRole.ToolTipBase: "#303236",
    QtGui.QPalette.ColorRole.ToolTipText: "#e8e8e8",
    QtGui.QPalette.ColorRole.PlaceholderText: "#8a8a8a",
    QtGui.QPalette.ColorRole.Text: "#dcdcdc",
    QtGui.QPalette.ColorRole.Button: "#313337",
    QtGui.QPalette.ColorRole.ButtonText: "#dcdcdc",
    QtGui.QPalette.ColorRole.BrightText: "#ff6b6b",
    QtGui.QPalette.ColorRole.Light: "#3c3f44",
    QtGui.QPalette.ColorRole.Midlight: "#34363a",
    QtGui.QPalette.ColorRole.Mid: "#2a2c2f",
    QtGui.QPalette.ColorRole.Dark: "#161718",
    QtGui.QPalette.ColorRole.Shadow: "#000000",
    QtGui.QPalette.ColorRole.Highlight: "#3d7edb",
    QtGui.QPalette.ColorRole.HighlightedText: "#ffffff",
    QtGui.QPalette.ColorRole.Link: "#74a9f0",
}
_DARK_DISABLED = {
    QtGui.QPalette.ColorRole.WindowText: "#75787d",
    QtGui.QPalette.ColorRole.Text: "#75787d",
    QtGui.QPalette.ColorRole.ButtonText: "#75787d",
    QtGui.QPalette.ColorRole.HighlightedText: "#9a9a9a",
}

_original: tuple[str, QtGui.QPalette] | None = None  # the style name and palette the application started with
_current = DEFAULT_THEME


def dark_palette() -> QtGui.QPalette:
    pal = QtGui.QPalette()
    for role, colour in _DARK.items():
        pal.setColor(role, QtGui.QColor(colour))
    for role, colour in _DARK_DISABLED.items():
        pal.setColor(QtGui.QPalette.ColorGroup.Disabled, role, QtGui.QColor(colour))
    return pal


def apply_theme(name: str) -> str:
    """Apply theme ``name`` ("dark" or "light"; anything else: the default) to the application; returns it."""
    global _original, _current
    app = QtWidgets.QApplication.instance()
    name = name if name in THEMES else DEFAULT_THEME
    if not isinstance(app, QtWidgets.QApplication):
        return name
    if _original is None:
        _original = (app.style().name(), app.palette())
    # the palette before the style: setting the style polishes every widget again, and a widget with a style sheet
    # (the CAD dock's buttons) takes its palette(...) colours then; polished before, it kept the last theme's
    style, palette = ("Fusion", dark_palette()) if name == "dark" else _original
    app.setPalette(palette)
    app.setStyle(style)
    _current = name
    return name


def current_theme() -> str:
    return _current


def accent(name: str) -> QtGui.QColor:
    """The colour of accent ``name`` (see ``_ACCENTS``) that reads on the application's background (the dark
    theme's, or a desktop's own dark palette)."""
    dark, light = _ACCENTS[name]
    app = QtWidgets.QApplication.instance()
    dark_background = isinstance(app, QtWidgets.QApplication) and app.palette().window().color().lightness() < 128
    return QtGui.QColor(dark if dark_background else light)
