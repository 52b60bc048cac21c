"""Text the viewer shows: the status-bar cursor read-out, the patient/study overlay lines, what is said of a read
that a save added to. No Qt."""

from __future__ import annotations

from pathlib import Path

from mammoview.gui.scale_bar import AT_DETECTOR
from mammoview.gui.view_panel import CursorSample
from mammoview.io.header_model import CLOSE_UP_MAGNIFICATION, ImageMeta
from mammoview.io.model import ImageInfo, Projection, StudyInfo


def format_date(dicom_date: str) -> str:
    """``"20240102"`` -> ``"2024-01-02"``; anything else unchanged."""
    d = dicom_date.strip()
    if len(d) == 8 and d.isdigit():
        return f"{d[:4]}-{d[4:6]}-{d[6:]}"
    return d


def format_cursor(sample: CursorSample) -> str:
    """Status-bar text for the cursor: view, position (mm when the spacing is known, "at detector" when it is the
    detector plane's, as a measured length says), values.

    The position is in the stored grid (what CAD findings and the detect JSON use),
    so a reader can compare it with a report.
    """
    head = sample.view.label
    if not sample.inside or sample.image is None:
        return f"{head} · outside the image"
    spacing = sample.image.info.spacing
    col, row = int(sample.x), int(sample.y)
    if spacing is not None:
        plane = AT_DETECTOR if spacing.at_detector else ""
        where = f"x {sample.x * spacing.col_mm:.1f} mm, y {sample.y * spacing.row_mm:.1f} mm{plane}  (px {col}, {row})"
    else:
        where = f"px {col}, {row} (spacing unknown)"
    # a preview's value is its coarse level's, not the file's at that pixel (off by up to 53639 at an edge): not said
    stored = "decoding (preview)" if sample.preview else sample.stored_value
    return f"{head} · {where} · stored {stored} · display {sample.display_value}"


def study_title(study: StudyInfo) -> str:
    """One line naming a study (window title, recent-studies menu), from the overlay's agreed fields."""
    who, when = study_lines(study)
    return " | ".join([*who, *when[:1]]) or study.key


def study_lines(study: StudyInfo) -> tuple[list[str], list[str]]:
    """Overlay lines for the top-left panel (who) and the top-right panel (what, when).

    A field is shown only when every image of the study agrees on it: CBIS-DDSM, for
    one, writes a different PatientName/PatientID per view, and showing the R CC's
    value over the whole study would mislabel the other three.  The study key (how the
    images were grouped) stands in for a disagreeing ID.
    """
    metas = [i.meta for i in study.images] or [ImageMeta()]

    def common(field: str) -> str:
        values = {getattr(m, field).strip() for m in metas}
        return values.pop() if len(values) == 1 else ""

    name, pid = common("patient_name").replace("^", " ").strip(), common("patient_id")
    grouped_by_folder = study.key_source.startswith("folder")  # the key is a local path: its last part names it
    key = f"Folder {Path(study.key).name}" if grouped_by_folder else f"Study {study.key}" if study.key else ""
    who = [name, f"ID {pid}" if pid else key]
    accession = common("accession")
    when = [format_date(common("study_date")), common("study_description"), f"Acc. {accession}" if accession else ""]
    return [s for s in who if s], [s for s in when if s]


def image_kind(info: ImageInfo, frame: int, slot: Projection) -> list[str]:
    """What an image is besides the slot (``slot``: its row's projection) it hangs in, for its panel's title: another
    projection (an ML in the MLO slot, an XCCL), its view modifiers (a close-up, implant displaced), a raw image, a
    magnification known by its factor alone, a synthesized 2-D image, the frame of a volume, a partial view, an
    implant."""
    meta, frames, extra = info.meta, info.frames, []
    projection = info.projection.value
    if projection is not None and projection is not slot:  # an ML in the MLO slot, an XCCL
        extra.append(projection.value)
    extra += list(meta.view_modifiers) + ["raw"] * meta.for_processing
    factor = meta.magnification_factor
    if "magnification" not in meta.view_modifiers and factor is not None and factor >= CLOSE_UP_MAGNIFICATION:
        extra.append(f"magnification ×{factor:g}")  # known by its factor alone (not a spot view's ~1.1)
    extra += ["synthesized 2-D"] * meta.synthesized  # (Image Type GENERATED_2D) not an exposure: said beside one
    kind = "tomosynthesis " if meta.tomosynthesis else ""
    extra += [f"{kind}frame {frame + 1} of {frames}"] * (frames > 1)
    extra += ["partial"] * meta.partial_view
    extra += ["implant"] * (meta.implant_present and "implant displaced" not in meta.view_modifiers)
    return extra


def read_added(study: str, theirs: bool, done_before: bool, left: bool) -> str:
    """What the reader is told when a save added what they did to a read of ``study`` they had not seen: their own
    saved read, which could not be read when the study opened, or (``theirs``) one another mammoview window saved
    while this one could not save; ``done_before``: its first read was done already (CAD shown, unless ``left``)."""
    done = " (its first read was done before" + (")" if left else ": CAD is available)") if done_before else ""
    if theirs:
        return (f"The read of {study} that another mammoview window saved meanwhile is kept, and what you did since "
                f"is added to it{done}.")  # fmt: skip
    return f"Your saved read of {study} could be read again: it is back, with what you did since{done}."
