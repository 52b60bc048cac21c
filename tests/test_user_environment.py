"""A developer's own mammoview settings must not change what the suite tests.

``$MAMMOVIEW_MODELS`` (README: "names another folder"), ``$MAMMOVIEW_DEVICE`` and ``$MAMMOVIEW_THREADS`` set in a
shell made the shipped-model tests (tests/cad/test_shipped_cad.py, test_mirror_invariance.py, test_density.py, the
``shipped_detector`` fixture) skip ("no detector ... installed in <that folder>") or test another model, and
``make test`` still exited 0.
"""

from __future__ import annotations

import os

from mammoview.cad.weights import default_models_dir
from tests.conftest import ROOT, USER_SETTINGS


def test_the_suite_reads_the_checkouts_models_whatever_the_shell_says() -> None:
    assert [name for name in USER_SETTINGS if name in os.environ] == []
    assert default_models_dir() == ROOT / "models"
