"""Finding image files: folders (recursively) and explicit file lists -> headers and errors.

A folder is a study as the user sees it, so clutter inside it is skipped silently:
hidden files, DICOMDIR, files that are obviously not images (.txt, .csv, .json,
.md..., and any file of no image format under a name no image has: a `.dat` log),
and DICOM objects without pixels (structured reports such as a CAD SR,
presentation states...: :class:`~mammoview.io.model.NotAnImage`).  A file the user
named explicitly is always read, and reported if it is not an image.  Each file's
problem is a :class:`LoadError`; the other files still load.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from mammoview.io.model import ImageInfo, LoadError, NotAnImage, ScanResult
from mammoview.io.reader import SpacingOption, read_info, spacing_option

#: Suffixes skipped inside folders (never images): notes, tables, archives, models, code.
IGNORED_SUFFIXES = frozenset(
    [
        ".txt",
        ".csv",
        ".tsv",
        ".json",
        ".md",
        ".rst",
        ".xml",
        ".html",
        ".htm",
        ".pdf",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".rtf",
        ".log",
        ".ini",
        ".cfg",
        ".toml",
        ".yaml",
        ".yml",
        ".py",
        ".pyc",
        ".sh",
        ".bat",
        ".exe",
        ".dll",
        ".so",
        ".zip",
        ".gz",
        ".tgz",
        ".tar",
        ".7z",
        ".rar",
        ".npy",
        ".npz",
        ".pkl",
        ".pt",
        ".pth",
        ".safetensors",
        ".onnx",
        ".h5",
        ".mat",
        ".db",
        ".sqlite",
        ".lnk",
        ".url",
        ".tmp",
        ".bak",
        ".roi",
        ".xcf",
        ".psd",
        ".mp4",
        ".avi",
        ".mov",
        ".wav",
        ".mp3",
    ]
)
#: File names skipped inside folders (case-insensitive): DICOMDIR indexes and readme-like files.
IGNORED_NAMES = frozenset(
    {
        "dicomdir",
        "thumbs.db",
        "desktop.ini",
        "readme",
        "license",
        "licence",
        "copying",
        "notice",
        "changelog",
        "version",
        "lockfile",
    }
)


def scan_paths(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    pixel_spacing: SpacingOption = None,
    recursive: bool = True,
    cancelled: Callable[[], bool] | None = None,
) -> ScanResult:
    """Read the headers of every image under ``paths`` (no pixel decode).

    Parameters
    ----------
    paths : path or sequence of paths
        Folders and/or files, e.g. what was dropped on the viewer.
    pixel_spacing : float or (row_mm, col_mm), optional
        Spacing for files that carry none (see :func:`mammoview.io.read_info`).
    recursive : bool
        Descend into sub-folders.
    cancelled : callable, optional
        Asked before each file (and each sub-folder listed): once it returns True the scan stops and returns what it
        read so far (a viewer closed, or another folder opened, while a large one is read).

    Returns
    -------
    ScanResult
        ``images`` in folder order (natural sort), ``errors`` one per bad file, or one
        per folder without any image.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    spacing = spacing_option(pixel_spacing)
    infos: list[ImageInfo] = []
    errors: list[LoadError] = []
    seen: set[Path] = set()
    passed_over: dict[Path, NotAnImage] = {}  # non-images met inside a folder, said if also named by themselves
    links: set[Path] = set()  # the dead links met, where they lie: each is said once, however often the scan meets it
    # (a folder and its sub-folder both named, the link named as well)

    def met_before(link: Path) -> bool:
        where = link_itself(link)  # (one link, two paths)
        seen_here = where in links
        links.add(where)
        return seen_here

    def add(path: Path, in_folder: bool = False) -> bool:
        """Read ``path``; False when it was already read (through another argument, folder or link)."""
        if path.is_symlink() and not path.exists() and met_before(path):  # a link leading nowhere, said already
            return False
        key = Path(os.path.realpath(path))  # (Path.resolve raises on a symlink loop before Python 3.13)
        if key in seen:
            if not in_folder and (err := passed_over.pop(key, None)) is not None:
                errors.append(err)  # named by itself after a folder holding it: it is reported, as when named alone
            return False
        seen.add(key)
        if (why := _dead_link(path)) is not None:  # named by itself: said as in its folder, not 'no such file'
            errors.append(LoadError(path, why))
            return True
        try:
            infos.append(read_info(path, spacing))
        except NotAnImage as err:  # e.g. a CAD SR exported beside the images: part of the study folder
            if in_folder:
                passed_over[key] = err
            else:
                errors.append(err)
        except LoadError as err:
            errors.append(err)
        return True

    def stop() -> bool:
        return cancelled is not None and cancelled()

    for raw in paths:
        if stop():
            break
        p = Path(raw)
        if p.is_dir():
            before, again = len(infos) + len(errors), 0
            unreadable: list[LoadError] = []
            for f in _folder_files(p, recursive, unreadable, stop):
                if stop():
                    break
                again += not add(f, in_folder=True)  # already listed: the folder has images all the same
            for err in unreadable:  # a folder that could not be listed (its studies are not in the worklist), a link
                if err.path.is_symlink() and met_before(err.path):  # leading nowhere (said once)
                    again += 1
                    continue
                errors.append(err)
            if len(infos) + len(errors) == before and not again:
                errors.append(LoadError(p, "no image files in this folder"))
        else:
            add(p)
    return ScanResult(images=tuple(infos), errors=tuple(errors))


def is_ignored(path: Path) -> bool:
    """Clutter skipped inside folders: hidden, DICOMDIR, readme-like or non-image suffix."""
    name = path.name
    return (
        name.startswith(".")
        or name.lower() in IGNORED_NAMES
        or path.stem.lower() in IGNORED_NAMES
        or path.suffix.lower() in IGNORED_SUFFIXES
    )


def natural_key(path: Path) -> list[object]:
    """Sort key so "1-2.dcm" comes before "1-10.dcm"."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(path))]


def _folder_files(
    folder: Path,
    recursive: bool,
    unreadable: list[LoadError] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Iterable[Path]:
    def failed(err: OSError) -> None:  # os.walk drops a folder it cannot list unless told: it is said
        if unreadable is not None:
            unreadable.append(LoadError(err.filename or folder, f"cannot read this folder ({err.strerror or err})"))

    if recursive:
        found: list[Path] = []
        visited: set[Path] = set()  # linked folders are followed (a study linked into a worklist), each once
        for root, dirs, files in os.walk(folder, followlinks=True, onerror=failed):
            if cancelled is not None and cancelled():
                return []
            real = Path(root).resolve()
            if real in visited:  # a link back up the tree, or a second link to one folder
                dirs[:] = []
                continue
            visited.add(real)
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found.extend(Path(root) / f for f in files)
    else:
        try:
            found = [f for f in folder.iterdir() if f.is_file()]
        except OSError as err:
            failed(err)
            found = []
    kept = [f for f in found if not is_ignored(f)]
    if unreadable is not None:  # a link leading nowhere is a file the folder was meant to hold: said, not dropped
        unreadable.extend(LoadError(f, why) for f in kept if (why := _dead_link(f)) is not None)
    return sorted((f for f in kept if f.is_file()), key=natural_key)


def link_itself(path: str | os.PathLike[str]) -> Path:
    """``path`` absolute, the folders above it resolved but not its own name: a link is the link, not its target
    (a link leading nowhere is named as the reader named it; its target is no file)."""
    p = Path(path)
    return Path(os.path.realpath(p.parent)) / p.name


def _dead_link(path: Path) -> str | None:
    """Why ``path`` is a symbolic link that leads to no file, or None."""
    if not path.is_symlink():
        return None
    try:
        path.stat()
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a link that leads back to itself (a symbolic link loop)"
        target = os.readlink(path)
        if err.errno == errno.ENOENT:
            return f"a link to {target}, which is missing (moved or deleted?)"
        return f"a link to {target}, which cannot be read ({err.strerror or err})"
    return None
