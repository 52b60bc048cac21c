"""The CAD dock's model line is rich text (``<b>``): a reason there that names a file or folder holding ``<`` or
``&`` (a copy of the models folder named ``models <old>``, ``R&D models``) must read as written."""

from __future__ import annotations

from PySide6 import QtGui

from mammoview.cad.types import ModelInfo
from mammoview.gui.cad_dock import model_text


def _plain(rich: str) -> str:
    doc = QtGui.QTextDocument()
    doc.setHtml(rich)
    return doc.toPlainText()


def test_why_the_cad_is_unavailable_reads_as_written(qapp):
    why = "/data/models <b>old</b> & new/manifest.json: no manifest (install a model)"
    assert why in _plain(model_text(None, why))


def test_why_a_verifier_is_not_used_reads_as_written(qapp):
    why = "verification model not used: /data/R&D <old>/v.safetensors: SHA-256 mismatch"
    info = ModelInfo(name="m", version="1", sha256="0" * 64, not_used=(why,))
    assert why in _plain(model_text(info, None))


def test_a_panel_title_names_a_view_modifier_as_written(qtbot):
    """A panel title is rich text (``<b>L CC</b>``); its note comes from the file (an unknown View Modifier's Code
    Meaning, lower case): ``rolled <lateral> & medial`` must read as written, not lose ``<lateral>`` as a tag."""
    from PySide6 import QtWidgets

    from mammoview.gui.panel_labels import PanelLabels
    from mammoview.io.model import View

    panel = QtWidgets.QWidget()
    qtbot.addWidget(panel)
    labels = PanelLabels(panel, View.LCC, outer_left=True)
    labels.set_title_extra("rolled <lateral> & medial · <img src='x.png'>")
    assert _plain(labels.title.text()) == "L CC rolled <lateral> & medial · <img src='x.png'>"
