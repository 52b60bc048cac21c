"""A PACS export puts each series (each image) in a folder of its own under its study's folder: a file there that
cannot be read is named with that study (README: "named with the study of its folder"), not with whichever study
is shown first."""

from __future__ import annotations

from mammoview.gui.loader import scan_problems_by_study
from mammoview.io import open_paths
from tests.gui.conftest import write_view


def test_an_unreadable_file_in_a_series_folder_goes_with_its_study(tmp_path):
    root = tmp_path / "export"
    for n, pid in enumerate(("PAT-A", "PAT-B")):
        for s, view in enumerate(("RCC", "LCC", "RMLO")):
            write_view(root / pid / "STUDY1" / f"SER{s + 1}", "IM0001.dcm", view, study_uid=f"1.2.{n + 1}",
                       patient_id=pid)  # fmt: skip
    broken = root / "PAT-B" / "STUDY1" / "SER4" / "IM0001.dcm"  # PAT-B's L MLO, cut off in the copy
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00")
    studies, errors = open_paths([root])
    assert len(studies) == 2 and len(errors) == 1
    rest, by_study = scan_problems_by_study(studies, errors)
    assert rest == [] and list(by_study) == ["1.2.2"]
