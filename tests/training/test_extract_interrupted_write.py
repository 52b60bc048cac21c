"""A re-extraction stopped while it writes must not leave new patches under the old manifest, nor lose the old set:
the new one is written aside and renamed into place once whole."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.training.extract import extract_patch_set
from mammoview.training.patches import ExtractConfig
from tests.training.test_extract import SMALL
from tests.training.test_run_integrity import two_sets  # noqa: F401  (fixture)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _cut_again(mine: Path, data: Path) -> None:
    extract_patch_set(mine, data_dir=data, pcfg=PreprocessConfig(clahe=True), val_fraction=0.34, progress=False,
                      ecfg=ExtractConfig(**{**SMALL, "seed": 1}))  # fmt: skip


def test_patches_cut_again_and_stopped_before_the_end_leave_the_old_set_whole(two_sets, tmp_path):  # noqa: F811
    """`extract-patches --clahe` into an existing patch set, stopped (Ctrl-C) while it drew the contact sheets: the
    new CLAHE patches.npy, index.csv and split.json stood under the old manifest, which says no CLAHE, and `train`
    / `evaluate` read them as the old preprocessing without a word; then the old manifest was removed first, and the
    old set was lost (refused until cut again)."""
    from mammoview.training.datasets import PatchSet

    a, _ = two_sets
    mine = tmp_path / "patches"
    shutil.copytree(a, mine)
    before = _files(mine)
    import mammoview.training.extract as E

    def stopped(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp, pytest.raises(KeyboardInterrupt):
        mp.setattr(E, "write_contact_sheets", stopped)
        _cut_again(mine, a.parent / "data")
    assert _files(mine) == before  # (no file of the new cut, no folder it was written in)
    assert PatchSet(mine).manifest["preprocessing"]["clahe"] is False


def test_a_disk_full_while_cutting_again_is_named_and_keeps_the_old_set(two_sets, tmp_path):  # noqa: F811
    a, _ = two_sets
    mine = tmp_path / "patches"
    shutil.copytree(a, mine)
    before = _files(mine)
    import mammoview.training.extract as E

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.MonkeyPatch.context() as mp, pytest.raises(OSError) as err:
        mp.setattr(E.np, "save", full)
        _cut_again(mine, a.parent / "data")
    assert str(mine) in str(err.value) and "No space" in str(err.value) and "old one is kept" in str(err.value)
    assert _files(mine) == before


def test_a_patch_set_cut_again_replaces_the_old_one_whole(two_sets, tmp_path):  # noqa: F811
    from mammoview.training.datasets import PatchSet

    a, _ = two_sets
    mine = tmp_path / "patches"
    shutil.copytree(a, mine)
    _cut_again(mine, a.parent / "data")
    ps = PatchSet(mine)
    assert ps.manifest["preprocessing"]["clahe"] is True
    assert not [p.name for p in mine.iterdir() if p.name.startswith(".")]
