"""a clinical export named like CBIS files (``img_00001_LEFT_CC.dcm``, the case 98d6036 splits by Patient
ID) holding one woman's current exam and her prior (two Study Instance UIDs, two dates, one Patient ID) is hung as
ONE exam of eight images: the prior's views become second choices of the current views, the CAD runs on both
exams as one, and no prior is found for the comparison."""

from __future__ import annotations

from pathlib import Path

from mammoview.io import open_paths
from mammoview.io.priors import find_priors
from tests.io.conftest import MakeFile
from tests.io.test_study_patients import exam


def test_one_womans_two_exams_named_like_cbis_files_are_two_studies(write_dcm: MakeFile, tmp_path: Path) -> None:
    exam(write_dcm, "2024", name_fmt="img_00001_{side}_{proj}", patient_id="A123", patient_name="Doe^Jane",
         study_uid="1.2.3.1", study_date="20240105")  # fmt: skip
    exam(write_dcm, "2022", name_fmt="img_00001_{side}_{proj}", patient_id="A123", patient_name="Doe^Jane",
         study_uid="1.2.3.0", study_date="20220110")  # fmt: skip
    studies, _ = open_paths([tmp_path])
    assert sorted(len(s.images) for s in studies) == [4, 4], [(s.key, len(s.images)) for s in studies]
    current = next(s for s in studies if s.images[0].meta.study_uid == "1.2.3.1")
    assert [p.images[0].meta.study_uid for p in find_priors(current, studies)] == ["1.2.3.0"]
