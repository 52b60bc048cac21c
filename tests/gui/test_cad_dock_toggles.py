"""The CAD dock's layer toggles show at a glance which layers are on, in both themes.

In the dark reading-room theme a toggle that was on differed from one that was off by a shade of grey (about 12 of
255 levels): with Marks off, the reader could not tell it from the buttons beside it.  The buttons' own colours follow
a theme switch (a widget with a style sheet kept the colours of the theme before)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtWidgets

from tests.gui import cad_support
from tests.gui.conftest import image_array

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

#: The least difference between a toggle's on and off look: its mean colour, 0-255 per channel.
MIN_CONTRAST = 40


def toggle(w, name: str) -> QtWidgets.QToolButton:  # type: ignore[no-untyped-def]
    (button,) = [b for b in w.cad.dock.findChildren(QtWidgets.QToolButton) if b.defaultAction() is w.cad.actions[name]]
    return button


def look(button: QtWidgets.QToolButton) -> np.ndarray:
    """The button's background colour as drawn: the mean of a patch left of its text, inside its border."""
    rgb = image_array(button.grab().toImage()).astype(float)
    h = rgb.shape[0]
    return rgb[h // 3 : h - h // 3, 3:6].reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_layer_toggle_that_is_on_looks_unlike_one_that_is_off(cad_window, load, synthetic_study, theme):
    w = cad_window
    load(w, [synthetic_study])
    w.set_dark_theme(theme != "dark")  # the other theme first: the colours follow the switch
    w.set_dark_theme(theme == "dark")
    w.commands["cad_first_read_done"].trigger()  # the overlay toggles are enabled from now on
    heatmap, marks = toggle(w, "heatmap"), toggle(w, "marks")
    assert heatmap.isChecked() and marks.isChecked()
    w.cad.actions["marks"].trigger()  # Marks off, Heatmap still on
    assert not marks.isChecked()
    contrast = np.abs(look(heatmap) - look(marks)).max()
    assert contrast >= MIN_CONTRAST, contrast
    button = QtWidgets.QApplication.palette().button().color()  # off: the theme's own button colour
    assert np.abs(look(marks) - [button.red(), button.green(), button.blue()]).max() <= 8, (look(marks), button.name())
