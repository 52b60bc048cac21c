"""Images grouped into studies (headers only), and studies decoded in a thread pool.

Grouping rules, first that applies (``StudyInfo.key_source`` names it):

1. CBIS-DDSM names (``Mass-Test_P_00820_LEFT_CC`` in PatientID/PatientName, or
   ``P_00820_LEFT_CC`` / ``00820_LEFT_CC`` in file or folder names): by the ``P_xxxxx``
   patient, because CBIS-DDSM gives every view its own PatientID and StudyInstanceUID; file and
   folder names only for files that do not name their own patient and study (a DICOM with a
   Patient ID of its own and a Study Instance UID goes by rule 2);
2. DICOM: StudyInstanceUID (0020,000D);
3. mini-MIAS ``mdbNNN``: by patient, mdb(2k-1) right and mdb(2k) left -> patient k;
4. otherwise the folder.

A group whose images name more than one Patient ID (CBIS-like file names in a clinical export, one Study Instance
UID written into two women's exams) is split into one study per ID, so one woman's view never hangs in another's.

Studies grouped by Study Instance UID that are one exam sent as several (a modality sending the CC and the MLO views
apart, each under its own UID) are joined (:func:`join_split_exams`): only when each names one Patient ID (0010,0020),
one Accession Number (0008,0050) and one Study Date (0008,0020), all three equal and non-empty, and each is confirmed
as one woman with another of them (:func:`~mammoview.io.priors.same_patient`: a birth date or a name, neither
differing), directly or through other parts, and no two of them differ (:func:`~mammoview.io.priors.differ`).  The
result is the same whatever order the files come in.

A study's key therefore depends on what is opened with it (one of those women's exams opened alone is keyed by the
bare UID); :func:`read_key` is the key that does not, for what is kept per woman's study (the reader's saved read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations, islice
from os import PathLike

from mammoview.io.model import ImageInfo, LoadError, MammoImage, Study, StudyInfo, View
from mammoview.io.priors import differ, same_patient, study_day
from mammoview.io.reader import SpacingOption, decode
from mammoview.io.scan import natural_key, scan_paths

_CBIS = re.compile(
    r"(?:^|[^A-Za-z0-9])(?:(?:Calc|Mass)-(?:Training|Test)_)?(?:P_)?(\d{5})_(?:LEFT|RIGHT)_(?:CC|MLO)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_MIAS = re.compile(r"^mdb(\d{3})(?![0-9])", re.IGNORECASE)
_VIEW_ORDER = {v: i for i, v in enumerate(View)}


def study_key(info: ImageInfo) -> tuple[str, str]:
    """(key, key_source) of the study an image belongs to; see the module docstring."""
    names = [
        ("PatientID (0010,0020)", info.meta.patient_id),
        ("PatientName (0010,0010)", info.meta.patient_name),
        ("file name", info.path.stem),
        *(("folder name", p.name) for p in list(info.path.parents)[:3]),
    ]
    # a DICOM naming its own patient (a Patient ID that is no CBIS-DDSM one) and study is grouped by its Study UID
    # even when its files are named like CBIS-DDSM's: a clinical export's `img_00001_LEFT_CC.dcm` of two exams (or two
    # women) must not make one study
    own_study = (info.file_format == "DICOM" and bool(info.meta.study_uid)
                 and bool(pid := info.meta.patient_id.strip()) and not _CBIS.search(pid))  # fmt: skip
    for label, name in names:
        if own_study and label in ("file name", "folder name"):
            continue
        if name and (m := _CBIS.search(name)):
            return f"P_{m.group(1)}", f"CBIS-DDSM patient id P_xxxxx in {label}"
    if info.file_format == "DICOM" and info.meta.study_uid:
        return info.meta.study_uid, "StudyInstanceUID (0020,000D)"
    if m := _MIAS.match(info.path.stem):
        k = (int(m.group(1)) + 1) // 2
        return f"mini-MIAS patient {k:03d}", "mini-MIAS patient (mdb 2k-1 right + mdb 2k left)"
    source = "folder (no StudyInstanceUID)" if info.file_format == "DICOM" else "folder"
    return str(info.path.parent), source


def group_studies(infos: Iterable[ImageInfo]) -> list[StudyInfo]:
    """Group image headers into studies, in order of first appearance.

    Parameters
    ----------
    infos : iterable of ImageInfo
        Headers, e.g. ``scan_paths(...).images``.

    Returns
    -------
    list of StudyInfo
        Images within a study ordered R CC, L CC, R MLO, L MLO, then unknown views;
        ties by exact projection (CC before XCCL), the latest exposure first, then path (:func:`image_order`).
    """
    groups: dict[tuple[str, str], list[ImageInfo]] = {}
    for info in infos:
        groups.setdefault(study_key(info), []).append(info)
    out: list[StudyInfo] = []
    for (k, src), imgs in groups.items():
        # one key, several women (CBIS-like file names in a clinical export, a Study Instance UID written into two
        # women's exams): never one exam, where one woman's view would hang in the other's missing slot
        by_patient: dict[str, list[ImageInfo]] = {}
        for info in imgs:
            by_patient.setdefault(_patient(info), []).append(info)
        named = [p for p in by_patient if p]
        if len(named) <= 1:
            out.append(StudyInfo(key=k, key_source=src, images=tuple(sorted(imgs, key=image_order))))
            continue
        for pid, some in by_patient.items():
            key, source = (patient_study_key(k, pid), f"{src}, split by PatientID (0010,0020)") if pid else (k, src)
            out.append(StudyInfo(key=key, key_source=source, images=tuple(sorted(some, key=image_order))))
    return join_split_exams(out)


_UID_SOURCE = "StudyInstanceUID (0020,000D)"
#: what joined an exam's Study Instance UIDs, in its ``key_source``
JOINED_BY = "joined by PatientID (0010,0020), AccessionNumber (0008,0050) and StudyDate (0008,0020)"


def join_split_exams(studies: Sequence[StudyInfo]) -> list[StudyInfo]:
    """``studies`` with each exam sent as several Study Instance UIDs joined into one (module docstring), at the
    place of its first part; its key names every UID, sorted (the same whatever order the files come in)."""
    parts: dict[tuple[str, str, object], list[int]] = {}
    for i, study in enumerate(studies):
        if study.key_source == _UID_SOURCE and (exam := _exam(study)) is not None:
            parts.setdefault(exam, []).append(i)
    joined: dict[int, StudyInfo] = {}  # the index of an exam's first part -> the exam
    dropped: set[int] = set()  # its other parts
    for indices in parts.values():
        for same in _confirmed(studies, indices):
            # each part confirmed as another's woman, but two parts may still differ from each other (one gives a
            # birth date only, two others that birth date and two names): one of them is another woman's exam, and
            # which one the part naming nobody is, is not told; none joined
            if len(same) < 2 or any(differ(studies[i], studies[j]) for i in same for j in same if i < j):
                continue
            images = tuple(sorted((im for i in same for im in studies[i].images), key=image_order))
            joined[same[0]] = StudyInfo(key=" + ".join(sorted(studies[i].key for i in same)), key_source=(
                f"{_UID_SOURCE} of {len(same)} studies, {JOINED_BY}"), images=images)  # fmt: skip
            dropped.update(same[1:])
    return [joined.get(i, study) for i, study in enumerate(studies) if i not in dropped]


def _confirmed(studies: Sequence[StudyInfo], indices: Sequence[int]) -> list[list[int]]:
    """``indices`` (the parts of one exam) in groups each confirmed as one woman: two parts are in one group when
    :func:`~mammoview.io.priors.same_patient` confirms them, or each is confirmed with a part of the group (a birth
    date only and a name only confirm nothing to each other; a third part giving both confirms each).  Comparing
    each part with the first one listed made the exam depend on the order the files were scanned in: a first part
    giving its Patient ID only confirmed nobody, so no part was joined.  Groups and indices in list order."""
    groups: list[list[int]] = []
    for i in indices:
        linked = [g for g in groups if any(same_patient(studies[i], studies[j]) for j in g)]
        groups = [g for g in groups if g not in linked] + [sorted([i, *(j for g in linked for j in g)])]
    return sorted(groups)


def _exam(study: StudyInfo) -> tuple[str, str, object] | None:
    """(Patient ID, Accession Number, Study Date) every image of ``study`` gives, or None where one is missing or
    the images disagree."""
    ids = {i.meta.patient_id.strip() for i in study.images}
    accessions = {i.meta.accession.strip() for i in study.images}
    day = study_day(study)
    if len(ids) != 1 or len(accessions) != 1 or "" in ids | accessions or day is None:
        return None
    return ids.pop(), accessions.pop(), day


def patient_study_key(key: str, patient: str) -> str:
    """The key of the part of study ``key`` whose images name Patient ID ``patient`` (a group split by woman)."""
    return f"{key} · Patient ID {patient}"


@dataclass(frozen=True)
class ReadKey:
    """What a study's saved read goes by (:func:`read_key`)."""

    key: str
    #: the Patient ID its images name ("" when none, or not one); None: not known (nothing to check a read against)
    patient_id: str | None = None
    #: the key reads of this study were saved under before :func:`read_key` (the bare Study Instance UID), if another
    legacy: str | None = None
    #: an exam joined from several Study Instance UIDs: each part's read key, which a read saved when that part was
    #: opened alone (before the other part's files came) goes by
    parts: tuple[ReadKey, ...] = ()
    #: such an exam's joins of some of its parts (A + B of A + B + C, each with its :attr:`parts`), which a read
    #: saved before the other parts' files came goes by: the largest first, :data:`MAX_SUB_JOINS` at most
    joins: tuple[ReadKey, ...] = ()


#: the most sub-joins a joined exam's read key lists (:attr:`ReadKey.joins`): each is a file looked for on every
#: worklist row; 4 parts have 10, and an exam sent in 7 parts or more is unheard of
MAX_SUB_JOINS = 64


def read_key(study: StudyInfo) -> ReadKey:
    """The key of ``study``'s saved read, the same whatever is opened with it.

    A study grouped by its Study Instance UID whose images name one Patient ID goes by ``<uid> · Patient ID <id>``,
    the key :func:`group_studies` gives it when another woman's exam of that UID is opened beside it: its key is the
    bare UID when it is opened alone, which the other woman's exam opened alone has too.  Every other study goes by
    its key (a CBIS-DDSM ``P_xxxxx``, a mini-MIAS patient, a folder, a UID study naming no Patient ID); an exam
    joined from several UIDs (:func:`join_split_exams`) by ``<uid> + <uid> · Patient ID <id>``, with the read key
    each part has opened alone (:attr:`ReadKey.parts`) and those of the joins of fewer of its parts, opened before
    the others came (:attr:`ReadKey.joins`).
    """
    named = {p for info in study.images if (p := _patient(info))}
    pid = named.pop() if len(named) == 1 else ""
    if pid and study.key_source.endswith(JOINED_BY):  # its key names each of its UIDs
        parts = {u: _uid_read_key(u, pid) for u in sorted({info.meta.study_uid for info in study.images})}
        fewer = (some for n in range(len(parts) - 1, 1, -1) for some in combinations(parts, n))  # (sorted, as keyed)
        joins = tuple(ReadKey(patient_study_key(" + ".join(some), pid), pid, parts=tuple(parts[u] for u in some))
                      for some in islice(fewer, MAX_SUB_JOINS))  # fmt: skip
        return ReadKey(patient_study_key(study.key, pid), pid, parts=tuple(parts.values()), joins=joins)
    if pid and study.key_source.startswith("StudyInstanceUID") and (uid := study.images[0].meta.study_uid):
        return _uid_read_key(uid, pid)
    return ReadKey(study.key, pid)


def _uid_read_key(uid: str, patient: str) -> ReadKey:
    """The read key of the study of Study Instance UID ``uid`` whose images name Patient ID ``patient``."""
    return ReadKey(patient_study_key(uid, patient), patient, legacy=uid)


def _patient(info: ImageInfo) -> str:
    """The woman an image names: its Patient ID (a CBIS-DDSM per-view ID as its ``P_xxxxx``), or ""."""
    pid = info.meta.patient_id.strip()
    m = _CBIS.search(pid)
    return f"P_{m.group(1)}" if m else pid


def image_order(info: ImageInfo) -> tuple[int, int, int, int, int, int, int, int, int, int, int, list[object]]:
    """Sort key: hanging-protocol view, images for presentation before raw (FOR PROCESSING) ones, whole-breast
    views before diagnostic close-ups (spot compression, magnification), 2-D images before multi-frame ones
    (a tomosynthesis volume, opened at its first frame, a slice at the breast's edge), an exposure before a
    synthesized 2-D image of a combo exam (Image Type (0008,0008) GENERATED_2D, PS3.3 C.8.11.7.1.4: computed from the
    tomosynthesis data, usually numbered after the exposure, which the latest-first rule below would otherwise hang
    in its place), exact projection first,
    whole views before the parts of one (Partial View (0028,1350) YES: a large breast taken in several exposures);
    then the latest exposure first (a retake after motion or poor positioning is the one to read): by
    :attr:`ImageMeta.acquired`, images with a time before those without, then the highest Instance Number, images
    without one last; the parts of a view in the order they were taken instead; then path."""
    view = info.view
    exact = 0 if view is not None and info.projection.value is view.projection else 1
    partial = info.meta.partial_view
    latest = 1 if partial else -1  # the sign that puts the latest (a part: the first) exposure first
    acquired = info.meta.acquired
    number = info.meta.instance_number
    return (
        _VIEW_ORDER.get(view, len(_VIEW_ORDER)) if view is not None else len(_VIEW_ORDER),
        int(info.meta.for_processing),
        int(bool(info.meta.close_up)),
        int(info.tomosynthesis),
        int(info.meta.synthesized),
        exact,
        int(partial),
        0 if acquired else 1,
        latest * int(acquired.replace(".", "")) if acquired else 0,
        0 if number is not None else 1,
        latest * number if number is not None else 0,
        natural_key(info.path),
    )


def load_study(
    info: StudyInfo,
    max_workers: int = 4,
    cancelled: Callable[[], bool] | None = None,
    decoder: Callable[[ImageInfo], MammoImage | None] | None = None,
) -> Study:
    """Decode every image of a study in a thread pool.

    Decoding runs in C (pylibjpeg plugins, numpy), so threads overlap file reads and
    the decoders that release the GIL; the four 12-Mpx RLE views of a CBIS-DDSM study
    take about 0.2 s here either way.  A failing image goes to ``Study.errors``; the
    others still load.

    Parameters
    ----------
    info : StudyInfo
        From :func:`group_studies` / :func:`open_paths`.
    max_workers : int
        Threads to use (at most one per image).
    cancelled : callable, optional
        Asked before decoding each image: once it returns True the images not started are not decoded (the
        study returned is then incomplete; the caller that asked drops it).
    decoder : callable, optional
        Instead of :func:`decode` (the viewer's prefetch decodes some files in a helper process).

    Returns
    -------
    Study
        ``images`` in ``info.images`` order, each with its display transform.
    """
    images: list[MammoImage] = []
    errors: list[LoadError] = []
    if not info.images:
        return Study(info=info, images=(), errors=())
    workers = max(1, min(max_workers, len(info.images)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mammoview-load") as pool:
        futures = [pool.submit(_decode_unless, i, cancelled, decoder or decode) for i in info.images]
        for fut in futures:
            try:
                image = fut.result()
            except LoadError as err:
                errors.append(err)
                continue
            if image is None:  # cancelled: the images after it were not decoded either
                break
            images.append(image)
    return Study(info=info, images=tuple(images), errors=tuple(errors))


def _decode_unless(
    info: ImageInfo, cancelled: Callable[[], bool] | None, decoder: Callable[[ImageInfo], MammoImage | None]
) -> MammoImage | None:
    """``decoder(info)``, or None without decoding once ``cancelled()`` (a stale job stops within one image)."""
    return None if cancelled is not None and cancelled() else decoder(info)


def open_paths(
    paths: Sequence[str | PathLike[str]] | str | PathLike[str],
    pixel_spacing: SpacingOption = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[list[StudyInfo], list[LoadError]]:
    """Scan ``paths`` and group the images into studies (headers only; ``cancelled``: see :func:`scan_paths`).

    Returns
    -------
    studies : list of StudyInfo
    errors : list of LoadError
        One per file that could not be read.
    """
    found = scan_paths(paths, pixel_spacing, cancelled=cancelled)
    return group_studies(found.images), list(found.errors)
