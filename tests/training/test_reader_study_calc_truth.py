"""--truth data: a CBIS-DDSM woman whose mass is benign but who has a malignant calcification on the very images the
reader is shown (the calcification case descriptions name the same patient, breast and view: CBIS-DDSM's mass and
calcification cases are cut from one DDSM film) has a cancer on screen.  The truth called her benign (the
docstring said the calcifications' pathologies are not in the data: calc_case_description_train_set.csv holds
them), so a reader who recalled her was counted a false recall and one who missed the cancer a true negative
(P_00710, P_01297 and P_01840 of ../shared/data)."""

from __future__ import annotations

import csv

from mammoview.training.reader_study import truth_from_data
from tests.training.test_reader_study import key_hash


def _calc_rows(path, rows) -> None:  # type: ignore[no-untyped-def]
    fields = ["patient_id", "breast density", "left or right breast", "image view", "abnormality id",
              "abnormality type", "calc type", "calc distribution", "assessment", "pathology", "subtlety"]  # fmt: skip
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, restval="")
        w.writeheader()
        for patient, side, view, pathology in rows:
            w.writerow({"patient_id": patient, "left or right breast": side, "image view": view,
                        "abnormality id": 1, "abnormality type": "calcification", "pathology": pathology})  # fmt: skip


def test_a_malignant_calcification_on_the_images_read_makes_the_study_malignant(tmp_path):
    from tests.training.test_extract import make_fake_data

    # fake CBIS with one image: P_00000 LEFT MLO, a benign mass
    data = make_fake_data(tmp_path / "data", n_cbis=1, n_mias=2, n_magic=0)
    assert truth_from_data(key_hash, data)[key_hash("P_00000")] == "benign"
    # a malignant calcification on the same film (LEFT MLO) -> the study read is a cancer
    _calc_rows(data / "cbis-ddsm-mass" / "calc_case_description_train_set.csv",
               [("P_00000", "LEFT", "MLO", "MALIGNANT")])  # fmt: skip
    assert truth_from_data(key_hash, data)[key_hash("P_00000")] == "malignant"


def test_a_calcification_of_the_other_breast_or_benign_changes_nothing(tmp_path):
    from tests.training.test_extract import make_fake_data

    data = make_fake_data(tmp_path / "data", n_cbis=1, n_mias=2, n_magic=0)
    # the other breast's films are not in the data (the reader never sees them); a benign calcification is benign
    _calc_rows(data / "cbis-ddsm-mass" / "calc_case_description_train_set.csv",
               [("P_00000", "RIGHT", "CC", "MALIGNANT"), ("P_00000", "LEFT", "MLO", "BENIGN"),
                ("P_09999", "LEFT", "CC", "MALIGNANT")])  # fmt: skip
    truth = truth_from_data(key_hash, data)
    assert truth[key_hash("P_00000")] == "benign"
    assert key_hash("P_09999") not in truth  # a woman without images in the data is no study of a log
