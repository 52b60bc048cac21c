"""A study's images placed in the 2x2 hanging protocol (R CC, L CC / R MLO, L MLO)."""

from __future__ import annotations

from mammoview.io.model import Hanging, MammoImage, Study, View
from mammoview.io.study import JOINED_BY, image_order


def hang(study: Study) -> Hanging:
    """Assign images to the four panels.

    Two images claiming one view are both kept: the first in :func:`image_order` is shown (an exposure before a
    synthesized 2-D image, the exact projection, then the latest exposure, a retake: by acquisition time, then
    Instance Number), the others go to
    ``alternatives`` with a warning naming each one's time or number; a tomosynthesis exam's volumes behind its
    2-D views are a note (every such exam has them).  Images of unknown view (or a projection with no panel, e.g.
    a specimen) go to ``unplaced`` with a warning; the reader can assign them.  Views with no image are named in
    ``missing``, not among the warnings.

    Parameters
    ----------
    study : Study
        A loaded study.

    Returns
    -------
    Hanging
    """
    claims: dict[View, list[MammoImage]] = {v: [] for v in View}
    unplaced: list[MammoImage] = []
    warnings: list[str] = []
    for img in study.images:
        if img.view is None:
            unplaced.append(img)
            lat, proj = img.info.laterality, img.info.projection
            warnings.append(
                f"{img.path.name}: view unknown (laterality {lat.describe()}; projection {proj.describe()})"
            )
        else:
            claims[img.view].append(img)
    panels: dict[View, MammoImage | None] = {}
    alternatives: dict[View, tuple[MammoImage, ...]] = {}
    volumes: list[str] = []
    for view, imgs in claims.items():
        imgs.sort(key=lambda i: image_order(i.info))
        panels[view] = imgs[0] if imgs else None
        if len(imgs) > 1:
            alternatives[view] = tuple(imgs[1:])
            behind = [i for i in imgs[1:] if i.info.tomosynthesis] if not imgs[0].info.tomosynthesis else []
            claim = [i for i in imgs[1:] if all(i is not b for b in behind)]  # a combo exam's 2-D and synthesized 2-D
            if behind:
                volumes.append(f"{view.label}: {', '.join(i.path.name for i in behind)}")
            if claim:
                others = ", ".join(_taken(i) for i in claim)
                warnings.append(f"{len(claim) + 1} images claim {view.label}: showing {_taken(imgs[0])}; also "
                                f"{others}")  # fmt: skip
    by_uid: dict[str, list[MammoImage]] = {}
    for img in study.images:
        if img.info.meta.sop_uid:
            by_uid.setdefault(img.info.meta.sop_uid, []).append(img)
    for uid, same in by_uid.items():  # one instance, two files: a copy, or a broken export; the reader must know
        if len(same) > 1:
            names = " and ".join(i.path.name for i in same)
            warnings.append(f"{names} share SOP Instance UID {uid}: the same image twice, or an export that gave "
                            "two images one UID (your marks and measurements on one show on the other)")  # fmt: skip
    notes: list[str] = []
    if study.info.key_source.endswith(JOINED_BY):  # said: the reader reads one exam where the PACS lists several
        uids = study.info.key.split(" + ")
        notes.append(f"one exam sent as {len(uids)} studies (Study Instance UIDs {', '.join(uids)}), shown as one: "
                     "they give one Patient ID, Accession Number and Study Date")  # fmt: skip
    if volumes:  # a DBT exam: each 2-D (or synthesized 2-D) view with its volume behind it
        notes.append(f"tomosynthesis behind the 2-D views (D shows it) of {'; '.join(volumes)}")
    placed = [v for v in View if panels[v] is not None]
    missing = ""
    if placed and len(placed) < len(View):
        absent = [v for v in View if panels[v] is None]
        # a whole breast missing and the other one complete is an exam of one breast (after a mastectomy, a
        # unilateral work-up, most CBIS-DDSM cases): said as such, so that it is not taken for a lost file
        one_breast = {v.laterality for v in absent} != {v.laterality for v in placed} and len(placed) == 2
        missing = f"no image for {', '.join(v.label for v in absent)}" + " (an exam of one breast)" * one_breast
    return Hanging(panels=panels, alternatives=alternatives, unplaced=tuple(unplaced), warnings=tuple(warnings),
                   notes=tuple(notes), missing=missing)  # fmt: skip


def _taken(img: MammoImage) -> str:
    """A file's name with what put it in its place among a view's images: synthesized 2-D (hung after the
    exposures), then its acquisition time, else its Instance Number."""
    meta = img.info.meta
    said = ["synthesized 2-D"] * meta.synthesized
    if t := meta.acquired:
        said.append(f"acquired {t[:4]}-{t[4:6]}-{t[6:8]} {t[8:10]}:{t[10:12]}:{t[12:14]}")
    elif (number := meta.instance_number) is not None:
        said.append(f"Instance Number {number}")
    return f"{img.path.name} ({', '.join(said)})" if said else img.path.name
