"""A symbolic link loop named among the files opened (File ▸ Open files, a drop, `mammoview view PATH...`) is one
file that cannot be read: named in the study's dialog while the other files open.  Resolving the opened paths raised
RuntimeError ('Symlink loop from ...', Python < 3.13) in the GUI thread: an unexpected-error dialog and nothing
opened, and `mammoview view` ended before its window showed."""

from __future__ import annotations

from pathlib import Path

from mammoview.io.model import View


def _opened_with_study(window, load, study: Path, link: Path) -> list[str]:
    """The texts of the problems reported when ``link`` is opened with ``study``, which opens whole."""
    reports: list[str] = []
    window.problemsReported.connect(lambda title, text: reports.append(text))
    loaded = load(window, [link, study])
    assert {i.view for i in loaded.study.info.images} == set(View)
    return reports


def test_a_link_loop_opened_with_a_study_is_named_and_the_study_opens(main_window, load, synthetic_study, tmp_path):
    loop = tmp_path / "loop.dcm"
    loop.symlink_to(loop)
    reports = _opened_with_study(main_window, load, synthetic_study, loop)
    assert any(f"{loop}: " in text for text in reports), reports


def test_a_dead_link_opened_is_named_by_itself_not_its_target(main_window, load, synthetic_study, tmp_path):
    """The opened paths were resolved to their targets: a link to a file moved away was said as its target, 'no such
    file', a path the reader never named.  It is said as when its folder is scanned: the link, and where it led."""
    gone = tmp_path / "gone.dcm"
    target = tmp_path / "archive" / "gone.dcm"
    gone.symlink_to(target)
    reports = _opened_with_study(main_window, load, synthetic_study, gone)
    assert any(f"{gone}: a link to {target}, which is missing" in text for text in reports), reports
