"""Loading off the GUI thread: scan paths into studies, then decode, hang and prepare one study.

Each job here is a function ``job(progress, cancelled)`` that
:class:`~mammoview.gui.background_jobs.BackgroundJobs` runs in a worker thread.  Opening
a new study makes the running job stale: it is told to stop at its next check and
its result, if any, is dropped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mammoview.gui.background_jobs import Cancelled, JobCancelled, Progress
from mammoview.gui.display_image import DisplayImage, prepare_display
from mammoview.gui.helper_process import (
    GIL_BOUND_SYNTAXES,
    CallCancelled,
    HelperGroup,
    HelperProcess,
    decoder_for,
    holds_gil,
)
from mammoview.io import hang, load_study, open_paths
from mammoview.io.model import Hanging, ImageInfo, LoadError, MammoImage, Study, StudyInfo
from mammoview.io.preview import decode_preview, previewable
from mammoview.io.reader import SpacingOption, decode


@dataclass(frozen=True)
class ScanOutcome:
    """Studies found under the opened paths, and the files that could not be read."""

    paths: tuple[str, ...]
    studies: tuple[StudyInfo, ...]
    errors: tuple[LoadError, ...]


@dataclass(frozen=True)
class LoadedStudy:
    """A decoded, hung study with the display data of every image (keyed by identity)."""

    study: Study
    hanging: Hanging
    displays: dict[MammoImage, DisplayImage]
    timings: dict[str, float] = field(default_factory=dict)
    #: some images are previews (:mod:`mammoview.io.preview`); the job's result (a FullResolution) follows
    preview: bool = False
    #: those images (decoded from their reduced levels), which :func:`full_job` decodes in full
    previews: tuple[MammoImage, ...] = ()
    #: set by the viewer once it has put a preview up (or passed it over): see ``load_job``'s ``wait_shown``
    taken: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


def scan_job(paths: Sequence[str | Path], pixel_spacing: SpacingOption) -> Callable[[Progress, Cancelled], ScanOutcome]:
    def run(progress: Progress, cancelled: Cancelled) -> ScanOutcome:
        progress(f"Reading headers of {len(paths)} path(s)…")
        # a large folder (a PACS export of thousands of files) is read for tens of seconds: a closed window, or
        # another folder opened, stops it within one file (closing the window waited for the whole scan)
        studies, errors = open_paths([Path(p) for p in paths], pixel_spacing=pixel_spacing, cancelled=cancelled)
        if cancelled():
            raise JobCancelled
        return ScanOutcome(tuple(str(p) for p in paths), tuple(studies), tuple(errors))

    return run


def scan_problems_by_study(
    studies: Sequence[StudyInfo], errors: Sequence[LoadError]
) -> tuple[list[str], dict[str, list[str]]]:
    """The scan's errors as (not attributable, {study key: its files' errors}): a file belongs to the study whose
    images are under its folder when exactly one study's are; a folder holding no image (a PACS export's series
    folder of that one file) is looked past, to the nearest folder above it that holds some."""
    keys_by_folder: dict[Path, set[str]] = {}  # the studies of the images in each folder
    keys_below: dict[Path, set[str]] = {}  # ... in each folder and its sub-folders
    for study in studies:
        for info in study.images:
            keys_by_folder.setdefault(info.path.parent, set()).add(study.key)
            for folder in info.path.parents:
                keys_below.setdefault(folder, set()).add(study.key)
    rest: list[str] = []
    by_study: dict[str, list[str]] = {}
    for err in errors:
        keys = keys_by_folder.get(err.path.parent) or next(
            (k for folder in err.path.parents if (k := keys_below.get(folder))), set()
        )
        if len(keys) == 1:
            by_study.setdefault(next(iter(keys)), []).append(str(err))
        else:
            rest.append(str(err))
    return rest, by_study


def same_files(a: StudyInfo, b: StudyInfo) -> bool:
    """``a`` and ``b`` are one study of the same files at the same pixel spacings: ``b`` scanned again, say (headers
    read twice never compare equal: their LUTs compare by identity, so a study opened again is read again)."""
    return a.key == b.key and [(i.path, i.spacing) for i in a.images] == [(i.path, i.spacing) for i in b.images]


def load_job(
    info: StudyInfo,
    max_workers: int | None = None,
    helper: HelperProcess | HelperGroup | None = None,
    syntaxes: tuple[str, ...] = GIL_BOUND_SYNTAXES,
    background: Callable[[], bool] | None = None,
    preview: bool = False,
    wait_shown: bool = False,
) -> Callable[[Progress, Cancelled], LoadedStudy | FullResolution]:
    """Decode (io's thread pool), hang, then build pyramids in parallel (numpy releases the GIL).

    With ``preview`` a study holding JPEG 2000 images large enough (:func:`previewable`) is first decoded from
    their reduced-resolution levels and sent to ``progress`` as a LoadedStudy with ``preview`` set (on screen in
    about a second); those images are then decoded in full and the job returns a :class:`FullResolution`
    (the viewer swaps the pixels in place), or a LoadedStudy when the full decode differs from the preview (a file
    whose whole codestream does not decode: it is shown afresh, its error said).  With ``wait_shown`` a full
    decode in this process (no helper could start) waits until the viewer sets the preview's ``taken``.

    With ``helper`` the files of ``syntaxes`` (transfer syntaxes whose decoders hold the GIL) are decoded in that
    helper process, so the viewer does not stall on them (while ``background()``: :func:`decoder_for`).
    """
    workers = max_workers or min(4, max(2, os.cpu_count() or 2))
    slow = helper is not None and any(holds_gil(i, syntaxes) for i in info.images)

    def run(progress: Progress, cancelled: Cancelled) -> LoadedStudy | FullResolution:
        # a file waiting for a busy helper gives up when the job goes stale (not decoded after the reader stepped on)
        decoder = decoder_for(helper, syntaxes, background, cancelled) if slow and helper is not None else None
        t0 = time.perf_counter()
        progress(f"Decoding {len(info.images)} image(s)…")
        previews: list[MammoImage] = []
        first = decoder
        if preview and any(previewable(i) for i in info.images):  # Pillow's decoder holds the GIL: in the helpers
            quick = functools.partial(helper.preview, cancelled=cancelled) if slow and helper else decode_preview
            first = _preview_first(decoder or decode, quick, previews)
        study = load_study(info, max_workers=workers, cancelled=cancelled, decoder=first)
        t1 = time.perf_counter()
        if cancelled():
            raise JobCancelled
        progress("Preparing display…")
        loaded = _displayed(study, workers, previews)
        t2 = time.perf_counter()
        if not previews:
            trim_heap()  # the study this one replaces (freed when it left the screen) is given back meanwhile
            return replace(loaded, timings={"decode_s": t1 - t0, "prepare_s": t2 - t1})
        loaded = replace(loaded, preview=True, previews=tuple(previews), timings={"preview_s": t2 - t0})
        progress(loaded)  # on screen now; the full pixels follow
        if wait_shown and not (slow and helper is not None and helper.available):
            # decoded here, the full pixels hold the interpreter lock ~1 s a view, which the viewer needs to put the
            # preview up: it went up when all four were decoded (5.3 s after the open, the viewer frozen throughout)
            while not loaded.taken.wait(0.02) and not cancelled():
                pass
        outcome = _in_full(loaded, workers, decoder or decode, progress, cancelled, started=t0)
        return replace(outcome, timings={"preview_s": t2 - t0, **outcome.timings})

    return run


def full_job(
    loaded: LoadedStudy,
    max_workers: int | None = None,
    helper: HelperProcess | HelperGroup | None = None,
    syntaxes: tuple[str, ...] = GIL_BOUND_SYNTAXES,
    background: Callable[[], bool] | None = None,
) -> Callable[[Progress, Cancelled], LoadedStudy | FullResolution]:
    """The full decode of ``loaded``, a preview on screen whose own job stopped before it (the reader stepped to
    another study and back, say): its preview images decoded in full, as :func:`load_job` would have, without a new
    preview (that reset the zoom, pan and window the reader had set on it, and decoded the reduced levels again)."""
    workers = max_workers or min(4, max(2, os.cpu_count() or 2))
    slow = helper is not None and any(holds_gil(p.info, syntaxes) for p in loaded.previews)

    def run(progress: Progress, cancelled: Cancelled) -> LoadedStudy | FullResolution:
        decoder = decoder_for(helper, syntaxes, background, cancelled) if slow and helper is not None else None
        return _in_full(loaded, workers, decoder or decode, progress, cancelled, started=time.perf_counter())

    return run


def _in_full(loaded: LoadedStudy, workers: int, decoder: Callable[[ImageInfo], MammoImage | None],
             progress: Progress, cancelled: Cancelled, started: float) -> LoadedStudy | FullResolution:  # fmt: skip
    """The full decode of the preview ``loaded`` (:func:`_swap`; ``decode_s`` timed from ``started``); JobCancelled
    when stale."""
    progress("Decoding at full resolution…")
    previews = loaded.previews
    with ThreadPoolExecutor(max_workers=workers) as pool:
        full = list(pool.map(lambda p: _decoded_or_error(p.info, cancelled, decoder), previews))
    t1 = time.perf_counter()
    if cancelled() or any(f is None for f in full):
        raise JobCancelled
    shown = {p for p in previews if p in loaded.displays}
    outcome = _swap(loaded, shown, {p: f for p, f in zip(previews, full, strict=True) if f is not None}, workers)
    trim_heap()
    return replace(outcome, timings={"decode_s": t1 - started, "prepare_s": time.perf_counter() - t1})


@dataclass(frozen=True)
class FullResolution:
    """The full decode of a study shown as a preview (:mod:`mammoview.io.preview`): ``pixels`` for each preview
    image, and its display prepared from them (``displays``, keyed by the preview image)."""

    preview: LoadedStudy
    pixels: dict[MammoImage, npt.NDArray[np.generic]]
    displays: dict[MammoImage, DisplayImage]
    timings: dict[str, float] = field(default_factory=dict)

    def adopt(self) -> LoadedStudy:
        """The preview's images take their full pixels (in place: call it in the viewer's thread), and the study
        with the displays prepared from them."""
        for image, stored in self.pixels.items():
            image.adopt_pixels(stored)
        displays = {img: self.displays.get(img, d) for img, d in self.preview.displays.items()}
        return LoadedStudy(self.preview.study, self.preview.hanging, displays, self.timings)


def _preview_first(
    decoder: Callable[[ImageInfo], MammoImage | None],
    quick: Callable[[ImageInfo], MammoImage],
    previews: list[MammoImage],
) -> Callable[[ImageInfo], MammoImage | None]:
    """``decoder``, but ``quick`` (a preview) for the images that have one (collected in ``previews``)."""

    def run(info: ImageInfo) -> MammoImage | None:
        if not previewable(info):
            return decoder(info)
        try:
            image = quick(info)
        except CallCancelled:  # stale while it waited for a helper: None, as load_study's own check gives
            return None
        except LoadError:  # the full decode says whether the file is readable at all
            return decoder(info)
        previews.append(image)
        return image

    return run


def _decoded_or_error(
    info: ImageInfo, cancelled: Cancelled, decoder: Callable[[ImageInfo], MammoImage | None]
) -> MammoImage | LoadError | None:
    try:
        return None if cancelled() else decoder(info)
    except LoadError as err:
        return err


def _swap(loaded: LoadedStudy, shown: set[MammoImage], full: dict[MammoImage, MammoImage | LoadError],
          workers: int) -> LoadedStudy | FullResolution:  # fmt: skip
    """The full decode of a preview: pixels to swap in when every image matches its preview (the same shape,
    type, display transform and header warnings: a decoder's own warning is said the usual way), else the study
    as decoded in full (shown afresh, its errors said).  Not the headers as a whole: one decoded in a helper
    process comes back a copy, and a pixel chain compares by identity."""
    decoded = {p: f for p, f in full.items() if isinstance(f, MammoImage)}
    same = len(decoded) == len(full) and all(
        f.info.warnings == p.info.warnings and f.display == p.display and f.shape == p.shape
        and f.stored.dtype == p.stored.dtype
        for p, f in decoded.items()
    )  # fmt: skip
    if same:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            prepared = dict(zip(shown, pool.map(lambda p: _prepared_or_error(decoded[p]), shown), strict=True))
        displays = {p: replace(d, image=p) for p, d in prepared.items() if isinstance(d, DisplayImage)}
        if len(displays) == len(prepared):
            return FullResolution(loaded, {p: f.stored for p, f in decoded.items()}, displays)
    # a file whose reduced levels decoded but not the whole (a truncated codestream), or that read otherwise
    images = [x for i in loaded.study.images if isinstance(x := full.get(i, i), MammoImage)]
    errors = [e for e in full.values() if isinstance(e, LoadError)]
    study = replace(loaded.study, images=tuple(images), errors=(*loaded.study.errors, *errors))
    return _displayed(study, workers, [])


def _displayed(study: Study, workers: int, previews: list[MammoImage]) -> LoadedStudy:
    """Hang ``study`` and prepare its images for display (in parallel: numpy releases the GIL); an image that
    cannot be shown is named like a decode failure, and the others are kept."""
    hanging = hang(study)
    images = _all_images(hanging)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        prepared = list(pool.map(lambda i: _prepared_or_error(i, any(i is p for p in previews)), images))
    failed = [img for img, out in zip(images, prepared, strict=True) if isinstance(out, LoadError)]
    if failed:  # one image that cannot be shown must not lose the others: it is named like a decode failure
        errors = tuple(out for out in prepared if isinstance(out, LoadError))
        kept = tuple(i for i in study.images if all(i is not f for f in failed))
        study = replace(study, images=kept, errors=(*study.errors, *errors))
        hanging = hang(study)
    displays = {img: out for img, out in zip(images, prepared, strict=True) if isinstance(out, DisplayImage)}
    return LoadedStudy(study, hanging, displays)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


def trim_heap() -> None:
    """Give the free pages of the C heaps back to the system (glibc; elsewhere nothing).

    glibc raises its mmap threshold to the largest block freed (up to 32 MiB), so after the first study the
    12-Mpx arrays of the next ones come from the decode threads' heaps, where they stay resident once freed:
    stepping through 20 full-resolution studies grew the viewer from ~700 to 900-1030 MiB with the same two
    studies alive.  Trimmed after each load it stays at ~710-740 MiB; a trim takes a few ms (off the GUI thread).
    """
    trim = _malloc_trim() if sys.platform.startswith("linux") else None
    if trim is not None:
        trim(0)


def _prepared(image: MammoImage, preview: bool = False) -> DisplayImage:
    """:func:`prepare_display` (``preview``: of a preview); a failure names the file (the reader must know which
    image it was)."""
    try:
        display = prepare_display(image)
        return replace(display, preview=True) if preview else display
    except Exception as exc:
        raise LoadError(image.info.path, f"cannot be prepared for display ({type(exc).__name__}: {exc})") from None


def _prepared_or_error(image: MammoImage, preview: bool = False) -> DisplayImage | LoadError:
    try:
        return _prepared(image, preview)
    except LoadError as err:
        return err


def _all_images(hanging: Hanging) -> list[MammoImage]:
    out: list[MammoImage] = [img for img in hanging.panels.values() if img is not None]
    for alts in hanging.alternatives.values():
        out.extend(a for a in alts if all(a is not o for o in out))
    out.extend(u for u in hanging.unplaced if all(u is not o for o in out))
    return out
