"""The legend of a narrow picture (an active view on a half-screen window, or at 200 %) must be whole: the
caption "CAD — research use only", the model's name and version and the colour bar's end were cut off at the
picture's right edge."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtGui

from tests.gui import cad_support
from tests.gui.conftest import image_array

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
marked_study = cad_support.marked_study  # the fixture `study`


@pytest.mark.parametrize(("w", "dpr"), [(220, 1.0), (200, 2.0), (300, 1.0)])
def test_the_legend_of_a_narrow_picture_is_not_cut_off(study, monkeypatch, w, dpr):  # type: ignore[no-untyped-def]
    from mammoview.gui import export_picture

    study.commands["cad_first_read_done"].trigger()  # CAD shown: every legend line
    shot = QtGui.QImage(round(w * dpr), round(300 * dpr), QtGui.QImage.Format.Format_RGB32)
    shot.fill(QtGui.QColor("#000000"))
    shot.setDevicePixelRatio(dpr)
    monkeypatch.setattr(export_picture, "grab_shown", lambda *_a, **_k: shot)
    picture = export_picture.render_picture(study, active_only=True)
    rgb = image_array(picture)[shot.height() :]  # the legend band
    edge = rgb[:, -2:].astype(int)
    ink = np.abs(edge - np.array([0x14, 0x14, 0x14])).max(axis=2) > 40
    assert not ink.any(), (
        f"legend text or colour bar cut at the picture's right edge (rows {np.flatnonzero(ink.any(axis=1))[:5]})"
    )
