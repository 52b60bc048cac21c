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
