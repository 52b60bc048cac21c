"""A re-extraction stopped while it writes must not leave new patches under the old manifest."""

from __future__ import annotations

import shutil

import pytest

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.training.extract import extract_patch_set
from mammoview.training.patches import ExtractConfig
from tests.training.test_extract import SMALL
from tests.training.test_run_integrity import two_sets  # noqa: F401  (fixture)


def test_patches_cut_again_and_stopped_before_the_manifest_are_refused(two_sets, tmp_path):  # noqa: F811
    """`extract-patches --clahe` into an existing patch set, stopped (Ctrl-C) while it drew the contact sheets: the
    new CLAHE patches.npy, index.csv and split.json stood under the old manifest, which says no CLAHE, and `train`
    / `evaluate` read them as the old preprocessing without a word."""
    from mammoview.training.datasets import PatchSet

    a, _ = two_sets
    mine = tmp_path / "patches"
    shutil.copytree(a, mine)
    import mammoview.training.extract as E

    def stopped(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp, pytest.raises(KeyboardInterrupt):
        mp.setattr(E, "write_contact_sheets", stopped)
        extract_patch_set(mine, data_dir=a.parent / "data", pcfg=PreprocessConfig(clahe=True), val_fraction=0.34,
                          progress=False, ecfg=ExtractConfig(**{**SMALL, "seed": 1}))  # fmt: skip
    with pytest.raises(FileNotFoundError, match=r"manifest\.json"):
        PatchSet(mine)
