""" "nothing is overwritten unless overwrite=True" must hold while the export is being made."""

from __future__ import annotations

import pytest

from mammoview.gui import export as export_module
from mammoview.gui.export import export_study
from tests.gui import cad_support

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
marked_study = cad_support.marked_study  # the fixture `study`


@pytest.mark.parametrize("which", ["png", "json"])
def test_a_file_that_appears_while_the_picture_is_made_is_not_replaced(study, tmp_path, monkeypatch, which):
    """The names were checked before the grab and the JSON, then the pair moved over whatever was there by then
    (os.replace): another window's export of the same default name (same study, same day) written meanwhile was
    silently lost, although the reader never agreed to replace anything."""
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "read.png"
    theirs = target if which == "png" else target.with_suffix(".json")
    real = export_module.export_json

    def meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        theirs.write_bytes(b"the other window's export")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_module, "export_json", meanwhile)
    with pytest.raises(FileExistsError):
        export_study(study, target)
    assert theirs.read_bytes() == b"the other window's export"
    assert sorted(p.name for p in target.parent.iterdir()) == [theirs.name], "half a pair, or a temporary file, left"
