"""Export: an annotated PNG of the 2x2 layout (or the active view) exactly as shown, plus a findings JSON.

The picture is a grab of the widgets on screen -- images, overlays and labels as the
reader sees them -- with a legend band below: the heatmap colour bar (with the
threshold), the glyph meanings, the model name/version and the caption
"CAD — research use only".  With ``anonymize`` the patient/study text and the file-name
line are hidden during the grab and left out of the JSON (name, ID, birth date,
accession; file paths become view labels, since CBIS-DDSM file names carry the ID).

The JSON's ``images`` entries use the schema of ``mammoview detect`` (docs/cad-design.md),
followed by the reader's marks, the reader's length measurements (with length and unit), the
read state and the matching.  CAD content is included only when it is shown (first read
done), as in the picture.  Nothing is overwritten unless ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.cad.types import FindingKind
from mammoview.gui.export_legend import BLOCKS as LEGEND_BLOCKS
from mammoview.gui.export_legend import LegendInfo, legend_height, paint_legend
from mammoview.gui.matching import RULE
from mammoview.gui.pseudonym import study_pseudonym
from mammoview.gui.read_state import ReadState, image_key, now_iso
from mammoview.io.files import temp_prefix, user_umask
from mammoview.io.model import View

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mammoview.cad.types import ModelInfo
    from mammoview.gui.cad_controller import CadController
    from mammoview.gui.main_window import MainWindow

CAPTION = "CAD — research use only"
FORMAT = "mammoview-export/1"


@dataclass(frozen=True)
class ExportResult:
    png: Path
    json: Path


def export_paths(path: Path | str) -> tuple[Path, Path]:
    """The PNG and the JSON written for ``path`` (``x.png`` -> ``x.png`` + ``x.json``)."""
    p = Path(path)
    png = p if p.suffix.lower() == ".png" else p.with_name(p.name + ".png")
    return png, png.with_suffix(".json")


def export_study(window: MainWindow, path: Path | str, *, active_only: bool = False, anonymize: bool = True,
                 overwrite: bool = False) -> ExportResult:  # fmt: skip
    """Write the annotated PNG and the findings JSON; returns both paths.

    Raises
    ------
    FileExistsError
        Either file exists and ``overwrite`` is False (nothing is written).
    """
    png, js = export_paths(path)
    for p in (png, js):
        if p.is_dir():  # never "replaced": said before anything is written
            raise IsADirectoryError(f"{p} is a folder: choose another file name")
    if not overwrite:
        for p in (png, js):
            if p.exists():
                raise FileExistsError(f"{p} exists (choose another name, or confirm overwriting)")
    picture = render_picture(window, active_only=active_only, anonymize=anonymize)
    doc = export_json(window, anonymize=anonymize, prior=not active_only)
    png.parent.mkdir(parents=True, exist_ok=True)
    _write_pair(picture, png, doc, js, overwrite=overwrite)
    return ExportResult(png, js)


def _write_pair(image: QtGui.QImage, png: Path, doc: dict[str, Any], js: Path, overwrite: bool = True) -> None:
    """Both files or neither: each is written to a temporary file beside it (a full disk fails here, with the old
    pair untouched), then both are moved into place.  Mode: the user's umask, as any document they save (the export
    is made to be shared; the app's private data is 0600).  Without ``overwrite`` a file that appeared since the
    names were checked (another window's export) is not replaced: FileExistsError, nothing of this pair left."""
    tmps: list[str] = []
    try:
        for target, suffix in ((png, ".png"), (js, ".json")):
            fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=suffix, dir=target.parent)
            os.close(fd)
            tmps.append(tmp)
        if not image.save(tmps[0]):  # PNG: from the ".png" suffix
            raise OSError(f"could not write {png} (full disk, or no permission to write there?)")
        fd = os.open(tmps[0], os.O_RDONLY)  # on disk before it is moved into place, as the JSON (a power cut
        try:  # could otherwise leave an empty picture beside a whole JSON)
            os.fsync(fd)
        finally:
            os.close(fd)
        with open(tmps[1], "wb") as fh:
            fh.write((json.dumps(doc, indent=1) + "\n").encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        mode = 0o666 & ~user_umask()
        for tmp in tmps:
            os.chmod(tmp, mode)
        if overwrite or not _link_pair(tmps, (png, js)):
            os.replace(tmps[1], js)
            os.replace(tmps[0], png)
        else:
            for tmp in tmps:  # placed by hard links: the temporary names go
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    except BaseException:
        for tmp in tmps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


def _link_pair(tmps: Sequence[str], targets: tuple[Path, Path]) -> bool:
    """Place ``tmps`` at ``targets`` only where no file is (a hard link fails on an existing name, atomically, where
    a check before os.replace can be overtaken); both or neither.  False: the file system has no hard links (FAT,
    some network shares), nothing placed -- the caller checks the names again and moves the files."""
    placed: list[Path] = []
    try:
        for tmp, target in zip(tmps, targets, strict=True):
            os.link(tmp, target)
            placed.append(target)
    except OSError as exc:
        for target in placed:  # both or neither
            with contextlib.suppress(OSError):
                os.unlink(target)
        there = exc.filename2 or exc.filename if isinstance(exc, FileExistsError) else None
        there = there or next((t for t in targets if t.exists()), None)  # (no hard links: checked again)
        if there:
            raise FileExistsError(
                f"{there} was written meanwhile (choose another name, or confirm overwriting)"
            ) from None
        return False
    return True


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


def _read_state_json(state: ReadState) -> dict[str, Any]:
    """Whether the first read is done, the reader's decision before CAD and after it, the reading time."""
    return {"first_read_done": state.first_read_done, "done_at": state.done_at,
            "decision": state.decision.to_json(),
            "decision_after_cad": state.decision_after_cad.to_json() if state.first_read_done else None,
            "reading_seconds": round(state.reading_seconds, 1)}  # fmt: skip


def operating_text(cad: CadController) -> str:
    """The shown marks' operating point, ``p >= 0.971 · 1.0 FP/img · finds 62%`` ("" without a result)."""
    return cad.operating_text(cad.result.model) if cad.result is not None else ""


def operating_json(cad: CadController) -> dict[str, Any] | None:
    """The shown marks' operating point: region threshold, and the validation rate/sensitivity there."""
    if cad.result is None:
        return None
    m = cad.result.model
    thr = cad.operating_threshold(m) or m.finding_threshold
    curve = m.operating_curve
    return {
        "chosen_fp_per_image": cad.operating_fpi(m),  # None: the model's own threshold
        "threshold": round(thr, 6),
        "validation_fp_per_image": round(curve.fp_per_image(thr), 3) if curve is not None else None,
        "validation_sensitivity": round(curve.sensitivity_at(thr), 3) if curve is not None else None,
    }


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


def _model_json(m: ModelInfo | None) -> dict[str, str] | None:
    return {"name": m.name, "version": m.version, "sha256": m.sha256} if m is not None else None


def _slices_shown(window: MainWindow, names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The slice of each volume in the picture (0-based, as the marks' ``frame``): which slice's marks it shows."""
    out = {}
    for view, panel in window.panels.items():
        image = panel.image
        if image is not None and image.info.frames > 1:
            out[view.value] = {"image": names.get(image_key(image), view.value), "frame": image.frame,
                               "frames": image.info.frames}  # fmt: skip
    return out


def export_json(window: MainWindow, anonymize: bool = True, prior: bool = True) -> dict[str, Any]:
    """The findings document written beside the picture (``prior``: the picture is the layout, which may hang the
    prior exam under this one; then ``prior`` says which exam that is)."""
    cad, loaded = window.cad, window.loaded
    key = cad.study_key or ""
    study: dict[str, Any] = {"pseudonym": study_pseudonym(key)}  # (a plain hash of the key could be reversed)
    if loaded is not None and not anonymize:
        meta = loaded.study.info.meta
        study.update(
            key=key,
            patient_name=meta.patient_name,
            patient_id=meta.patient_id,
            birth_date=meta.patient_birth_date,
            accession=meta.accession,
            study_date=meta.study_date,
        )
    shown = cad.unlocked and cad.result is not None
    names = {}  # stored path/image key -> what the JSON may say
    analysed = []  # the shown images, then the other images of each view the CAD analysed
    for view, panel in window.panels.items():
        if panel.image is not None:
            names[str(panel.image.path)] = view.value if anonymize else str(panel.image.path)
            names[image_key(panel.image)] = view.value if anonymize else image_key(panel.image)
            analysed.append(panel.image)
    for view in window.panels:
        for note, other, _result in cad.other_results(view):
            anonymous = f"{view.value} ({note})"
            names[str(other.path)] = anonymous if anonymize else str(other.path)
            names[image_key(other)] = anonymous if anonymize else image_key(other)
            analysed.append(other)
        on_prior = window.hanging.prior_panels[view].image  # a length measured on the prior (comparison layouts)
        if on_prior is not None and (key := cad.prior_measure.key(on_prior)) not in names:
            names[key] = f"{view.value} (prior)" if anonymize else key
        options = window.choices.get(view, [])
        for i, option in enumerate(options):  # the view's other images (a volume), named apart for its marks
            key = image_key(option.image)
            if key not in names:
                names[key] = f"{view.value} ({i + 1} of {len(options)})" if anonymize else key
    for mark in cad.reader.marks:  # a mark on an image not hung now (its view assignment undone): named apart,
        if mark.image not in names:  # never by its SOP Instance UID or file name when anonymized
            names[mark.image] = f"{mark.view.value} (image not hung)" if anonymize else mark.image
    images = []
    if shown and cad.result is not None:
        for image in analysed:
            if (r := cad.result_for(image)) is not None:
                entry = r.to_json(rates=True)
                entry["path"] = names.get(r.path, r.path)
                entry["nipple"] = [round(v, 1) for v in r.nipple] if r.nipple is not None else None
                entry["breast_implant"] = r.implant  # the file says so; the CAD was not validated on implants
                # a synthesized 2-D image (Image Type GENERATED_2D): the CAD was trained on screen-film exposures
                entry["synthesized_2d"] = r.synthesized
                # the CAD's guess (230 mm tall) where the file has none: its pixel_spacing and mm are not measured
                entry["pixel_spacing_estimated"] = r.spacing_estimated
                # no breast found: its scores of 0 and no finding are no normal reading (None: not measured)
                entry["breast_found"] = r.breast_found
                images.append(entry)
    m = cad.result.model if cad.result is not None else cad.model_info
    marks = []
    for mark in cad.reader.marks:
        d = mark.to_json()
        d["image"] = names.get(mark.image, mark.view.value if anonymize else mark.image)
        marks.append(d)
    measurements = []
    for meas in cad.reader.measurements:
        d = meas.to_json()
        unnamed = f"{meas.view.value} (prior)" if cad.on_prior(meas) else meas.view.value  # a prior not hung now
        d["image"] = names.get(meas.image, unnamed if anonymize else meas.image)
        length = cad.length(meas)
        d["length"], d["unit"] = round(length.value, 2), length.unit
        if length.at_detector:  # mm at the detector plane, not corrected for magnification
            d["plane"] = "detector"
        measurements.append(d)
    breasts = {}
    if shown and cad.result is not None:
        breasts = {lat.value: {"abnormal": round(b.abnormal, 4), "malignant": round(b.malignant, 4),
                               **({"density": b.density.to_json()} if b.density is not None else {})}
                   for lat, b in cad.result.breasts.items()}  # fmt: skip
    exam: dict[str, Any] | None = None
    if shown and cad.result is not None:
        exam = {"abnormal": round(cad.result.abnormal, 4), "malignant": round(cad.result.malignant, 4)}
        if (dense := cad.result.exam_density) is not None:  # BI-RADS: the denser breast grades the exam
            exam["density"] = {**dense[1].to_json(), "breast": dense[0].value}
    # views the CAD refused (no findings there does not mean it found nothing); file names only when not anonymized
    skipped = [{"view": s.label if anonymize else s.where, "reason": s.reason}
               for s in (cad.result.skipped if shown and cad.result is not None else ())]  # fmt: skip
    doc: dict[str, Any] = {
        "format": FORMAT,
        "caption": CAPTION,
        "exported": now_iso(),
        "anonymized": anonymize,
        "study": study,
        "model": {"name": m.name, "version": m.version, "sha256": m.sha256} if m is not None else None,
        "density_model": _model_json(cad.result.density_model) if shown and cad.result is not None else None,
        "malignancy_model": _model_json(cad.result.malignancy_model) if shown and cad.result is not None else None,
        "verification_model": _model_json(m.verifier) if m is not None else None,
        "cad_shown": shown,
        "images": images,
        "slices_shown": _slices_shown(window, names),
        "cad_skipped": skipped,
        "breasts": breasts,
        "exam": exam,
        "reader_marks": marks,
        "measurements": measurements,
        "read_state": _read_state_json(cad.reader.state),
        "display": {
            "map": cad.style.map_name,
            "threshold": cad.style.threshold,
            "opacity": cad.style.opacity,
            "operating_point": operating_json(cad),
            # what the picture shows of the CAD: ``images`` lists every finding, whatever the toggles
            "layers": {
                name: getattr(cad.style, name)
                for name in ("cad", "heatmap", "marks", "contours", "scores", "mass", "calcification", "reader")
            },
        },
    }
    if prior and (pictured := _prior_json(window, anonymize)) is not None:
        doc["prior"] = pictured
    if shown:
        doc["matching"] = {"rule": RULE, "rows": [
            {"category": r.category.value, "view": r.view.value, "image": names.get(r.image, r.image),
             "finding": r.finding.to_json(rates=True) if r.finding is not None else None,
             "marks": [mk.id for mk in r.marks],
             "nipple_mm": round(r.nipple_mm, 1) if r.nipple_mm is not None else None}
            for r in cad.match_rows()]}  # fmt: skip
    return doc


def _prior_json(window: MainWindow, anonymize: bool) -> dict[str, Any] | None:
    """The prior exam in the picture (comparison layouts): when it was made relative to this one, its views, and
    (not anonymized) its study key, date and files; None when no prior is shown."""
    from mammoview.io.priors import interval_text

    panels = [p for v in window.hanging.prior_views() if (p := window.hanging.prior_panels[v]).image is not None]
    loaded = window.priors.loaded
    if not panels or loaded is None or window.loaded is None:
        return None
    out: dict[str, Any] = {"interval": interval_text(window.loaded.study.info, loaded.study.info),
                           "views": [p.view.value for p in panels]}  # fmt: skip
    if not anonymize:
        out.update(key=loaded.study.key, study_date=loaded.study.info.meta.study_date,
                   images=[str(p.image.path) for p in panels if p.image is not None])  # fmt: skip
    return out
