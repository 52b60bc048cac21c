"""The package surface: lazy re-exports, and the types module stays torch-free for the GUI."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mammoview.cad as cad


def test_lazy_exports():
    for name in cad.__all__:
        assert getattr(cad, name) is not None
    with pytest.raises(AttributeError):
        _ = cad.no_such_thing


def test_types_do_not_import_torch():
    code = "import sys, mammoview.cad.types, mammoview.cad; assert 'torch' not in sys.modules, 'torch imported'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
