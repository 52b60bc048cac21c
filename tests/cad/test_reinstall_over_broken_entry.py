"""Installing a model again over an entry a hand edit broke (``"file": null`` or a number, which `mammoview models`
and the load now name): the install wrote the manifest, then ended in a bare TypeError ("unsupported operand type(s)
for /: 'PosixPath' and 'NoneType'") while removing the old entry's weights file."""

from __future__ import annotations

import json

import pytest

from mammoview.cad.weights import MANIFEST, load_optional
from tests.cad.test_broken_model_files import _edit, _save


@pytest.mark.parametrize("value", [None, 5])
def test_reinstalling_over_an_entry_whose_file_is_not_text_works(tmp_path, value):
    _save(tmp_path)
    _save(tmp_path, "test-malignancy", task="malignancy")
    _edit(tmp_path, "test-malignancy", file=value)
    saved = _save(tmp_path, "test-malignancy", task="malignancy")  # the fix the error message leads to
    doc = json.loads((tmp_path / MANIFEST).read_text())
    assert next(m for m in doc["models"] if m["name"] == "test-malignancy")["file"] == saved.file
    assert load_optional("malignancy", tmp_path, "cpu") is not None
