"""The place a label takes among the others (pure geometry, viewport pixels)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from mammoview.gui.label_placement import choose

SCREEN = QtCore.QRectF(0, 0, 400, 300)
SIZE = QtCore.QSizeF(100, 36)
POINT = QtCore.QPointF(200, 150)
#: Above the point, below it, and left of it (the label's right edge on the point).
ABOVE, BELOW, LEFT = (0.0, 1.0), (0.0, 0.0), (1.0, 0.5)


def test_the_first_free_place_is_taken():
    anchor, box = choose(POINT, SIZE, (ABOVE, BELOW), SCREEN)
    assert anchor == ABOVE and box == QtCore.QRectF(200, 114, 100, 36)


def test_a_place_covering_a_label_or_a_glyph_is_skipped():
    label = QtCore.QRectF(250, 100, 100, 20)  # over the place above
    glyph = QtCore.QRectF(210, 160, 24, 24)  # over the place below
    assert choose(POINT, SIZE, (ABOVE, BELOW, LEFT), SCREEN, [label, glyph])[0] == LEFT


def test_with_no_free_place_a_glyph_corner_is_covered_rather_than_a_label():
    """The defect: ranking glyphs before labels put a score wholly over its neighbour's."""
    label = QtCore.QRectF(200, 114, 100, 36)  # exactly the place above
    glyph = QtCore.QRectF(290, 176, 24, 24)  # 10 x 10 of the place below
    assert choose(POINT, SIZE, (ABOVE, BELOW), SCREEN, [label, glyph])[0] == BELOW
    glyph = QtCore.QRectF(200, 150, 100, 36)  # the whole place below: the label's corner is the lesser cover
    corner = QtCore.QRectF(290, 140, 30, 30)
    assert choose(POINT, SIZE, (ABOVE, BELOW), SCREEN, [corner, glyph])[0] == ABOVE


def test_a_place_on_screen_beats_any_cover():
    edge = QtCore.QPointF(350, 150)  # the places right of the point run off the screen's right edge
    taken = [QtCore.QRectF(250, 130, 100, 40)]  # the only place on screen, left, covered
    assert choose(edge, SIZE, (ABOVE, BELOW, LEFT), SCREEN, taken)[0] == LEFT


def test_equal_covers_keep_the_order_of_preference():
    taken = [QtCore.QRectF(190, 140, 20, 20)]  # the point: every place covers the same corner of it
    assert choose(POINT, SIZE, (BELOW, ABOVE), SCREEN, taken)[0] == BELOW
    assert choose(POINT, SIZE, (ABOVE, BELOW), SCREEN, taken)[0] == ABOVE


def test_no_anchor_is_an_error():
    with pytest.raises(ValueError, match="no anchor"):
        choose(POINT, SIZE, (), SCREEN)
