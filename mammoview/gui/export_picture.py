"""The exported picture: the hanging layout (or the active view) grabbed as shown, with the legend band below.

Apart from the findings JSON and the writing of the pair because it is the one part that reads the screen: what
the reader sees (overlays, labels) is the picture, with the identifiers hidden during the grab when anonymized.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.cad.types import FindingKind
from mammoview.gui.export_legend import BLOCKS as LEGEND_BLOCKS
from mammoview.gui.export_legend import LegendInfo, legend_height, paint_legend
from mammoview.gui.read_state import now_iso
from mammoview.io.model import View

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mammoview.gui.cad_controller import CadController
    from mammoview.gui.main_window import MainWindow

CAPTION = "CAD — research use only"


def pictured_view(window: MainWindow) -> View:
    """The view "Export active view" pictures: the active one when it is on screen, else the shown view of its side
    (R MLO stays active through Alt+2, the CC pair, to come back with Alt+1; its hidden panel is no picture)."""
    return window.active_panel().view


def grab_shown(window: MainWindow, active_only: bool, anonymize: bool) -> QtGui.QImage:
    """The hanging layout (or active panel) as drawn, identifiers hidden during the grab if asked."""
    widget: QtWidgets.QWidget = window.panels[pictured_view(window)] if active_only else window.hanging
    # The blue frame of the active panel is interface, not image: leave it out of the picture.
    window.active_panel().set_active(False)
    panels = [*window.panels.values(), *window.hanging.prior_panels.values()]
    if anonymize:
        for panel in panels:
            panel.labels.study.hide()
            panel.labels.info.hide()
    loupes = [p.loupe for p in panels if p.loupe.isVisible()]  # the magnifier is a pointer, not the picture
    for loupe in loupes:
        loupe.hide()
    try:
        image = widget.grab().toImage()
    finally:
        window.active_panel().set_active(True)
        for panel in panels:
            panel.labels.place()  # restores exactly the labels that have text
        for loupe in loupes:
            loupe.show()
    return image


def legend_info(window: MainWindow, anonymize: bool, views: Sequence[View] | None = None) -> LegendInfo:
    """What the legend says; ``views``: those in the picture (default: all four)."""
    cad = window.cad
    st = cad.style
    shown = cad.unlocked and cad.result is not None
    m = cad.result.model if cad.result is not None else cad.model_info
    state = ("" if shown else "CAD not shown: first read not done" if not cad.unlocked
             else "CAD still running: not in this picture" if cad.runner.running
             else "CAD has not run for this study")  # fmt: skip
    return LegendInfo(
        cad_shown=shown and cad.style.cad,
        heatmap=shown and cad.style.cad and cad.style.heatmap,
        map_name=cad.style.map_name,
        threshold=cad.style.threshold,
        opacity=cad.style.opacity,
        model=m.tag if m is not None else "no model",
        state=state,
        caption=CAPTION,
        exported=now_iso(),
        anonymized=anonymize,
        rates=cad.result is not None
        and shown
        and any(f.fp_per_image is not None for r in cad.result.images for f in r.findings),
        operating=operating_text(cad) if shown else "",
        density=_density_text(cad) if shown and cad.style.scores else "",
        malignancy=_malignancy_text(cad) if shown else "",
        verifier=f"Verified by {m.verifier.tag}" if shown and m is not None and m.verifier is not None else "",
        elsewhere=_elsewhere_text(cad, list(window.panels) if views is None else views) if shown else "",
        kinds=tuple(k for k in (FindingKind.CALCIFICATION, FindingKind.MASS) if st.marks and st.shows_kind(k)),
        contours=st.contours and st.mass,
        scores=st.scores and (st.mass or st.calcification),
        reader=st.reader,
    )


def _elsewhere_text(cad: CadController, views: Sequence[View]) -> str:
    """``Not in this picture: L CC (2 of 2) 3 findings``: the CAD findings on the pictured views' other images."""
    kinds = cad.style.kinds()
    parts = []
    for view in views:
        for note, _image, result in cad.other_results(view):
            n = sum(kinds.get(f.kind.value, True) for f in result.findings)
            if n:
                parts.append(f"{view.label} ({note}) {n} finding{'s' if n != 1 else ''}")
    return f"Not in this picture: {', '.join(parts)} (JSON)" if parts else ""


def _malignancy_text(cad: CadController) -> str:
    """``Malignancy: mammoview-malignancy 1.0.0 (47489b65)`` when a second stage gave it ("" otherwise)."""
    m = cad.result.malignancy_model if cad.result is not None else None
    return f"Malignancy: {m.tag}" if m is not None else ""


def _density_text(cad: CadController) -> str:
    """``Exam density C (L denser) · mammoview-density 1.1.0`` ("" without a density model)."""
    r = cad.result
    d = r.density_model if r is not None else None
    if r is None or d is None:
        return ""
    grade = "Density"
    if (exam := r.exam_density) is not None:
        side = f" ({exam[0].value} denser)" if len(r.graded_breasts) > 1 else ""
        grade = f"Exam density {exam[1].category.upper()}{side}"
    return f"{grade} · {d.name} {d.version}"  # one legend line; the JSON has the model's sha256


def operating_text(cad: CadController) -> str:
    """The shown marks' operating point, ``p >= 0.971 · 1.0 FP/img · finds 62%`` ("" without a result)."""
    return cad.operating_text(cad.result.model) if cad.result is not None else ""


def render_picture(window: MainWindow, *, active_only: bool = False, anonymize: bool = True) -> QtGui.QImage:
    """The grabbed layout with the legend band below (device pixels)."""
    shot = grab_shown(window, active_only, anonymize)
    dpr = shot.devicePixelRatio() or 1.0
    # never narrower than the legend's widest block: a narrow picture (an active view of a half-screen window, or
    # at 200 %) cut the caption, the model's version and the colour bar's end at its right edge
    width = max(shot.width(), math.ceil(max(LEGEND_BLOCKS) * dpr))
    footer = round(legend_height(width / dpr) * dpr)
    out = QtGui.QImage(width, shot.height() + footer, QtGui.QImage.Format.Format_RGB32)
    out.fill(QtGui.QColor("#141414"))
    painter = QtGui.QPainter(out)
    try:
        # one grab pixel per picture pixel: drawImage(point, image) draws an image at its logical size
        # (size / devicePixelRatio), which on a 200 % screen is a quarter of the picture
        painter.drawImage(QtCore.QRectF(0, 0, shot.width(), shot.height()), shot, QtCore.QRectF(shot.rect()))
        painter.translate(0, shot.height())
        painter.scale(dpr, dpr)
        views = [pictured_view(window)] if active_only else None
        paint_legend(painter, width / dpr, legend_info(window, anonymize, views))
    finally:
        painter.end()
    return out
