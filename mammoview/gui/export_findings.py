"""The findings JSON written beside the exported picture (``mammoview-export/1``, docs/cad-design.md).

Apart from the picture because it reads the viewer's state, not the screen: the CAD results as shown, the reader's
marks, measurements and read state, and the matching, each image named by its view when anonymized.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mammoview.gui.export_picture import CAPTION
from mammoview.gui.matching import RULE
from mammoview.gui.pseudonym import study_pseudonym
from mammoview.gui.read_state import ReadState, image_key, now_iso

if TYPE_CHECKING:
    from mammoview.cad.types import ModelInfo
    from mammoview.gui.cad_controller import CadController
    from mammoview.gui.main_window import MainWindow

FORMAT = "mammoview-export/1"


def _read_state_json(state: ReadState) -> dict[str, Any]:
    """Whether the first read is done, the reader's decision before CAD and after it, the reading time."""
    return {"first_read_done": state.first_read_done, "done_at": state.done_at,
            "decision": state.decision.to_json(),
            "decision_after_cad": state.decision_after_cad.to_json() if state.first_read_done else None,
            "reading_seconds": round(state.reading_seconds, 1)}  # fmt: skip


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
