"""Training commands on bad or unusual input: label files a hand or a spreadsheet touched, damaged patch sets and
output folders. Each case ends as one line naming the file and the problem, or is read as the user meant it."""

from __future__ import annotations

import csv
from pathlib import Path

from mammoview.training.sources import cbis_images, mias_images
from mammoview.training.split import split_patients

CBIS_COLUMNS = ["file", "patient_id", "laterality", "view", "n_boxes", "n_csv_abn", "boxes_xywh_800", "pathologies",
                "image_pathology"]  # fmt: skip
MIAS_COLUMNS = ["refnum", "patient", "background", "abn_class", "lesion_type", "severity", "x", "y", "radius", "side"]


def cbis_rows(patients: list[str], box: str = "[[100, 200, 50, 40]]") -> list[dict[str, str]]:
    """One CC row per patient ID as typed (the images themselves are not read by the label loader)."""
    return [{"file": f"images/{i:05d}_LEFT_CC.jpg", "patient_id": p, "laterality": "LEFT", "view": "CC",
             "n_boxes": "1", "n_csv_abn": "1", "boxes_xywh_800": box, "pathologies": "BENIGN",
             "image_pathology": "BENIGN"} for i, p in enumerate(patients)]  # fmt: skip


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def test_one_cbis_patient_typed_differently_is_one_patient_of_one_split(tmp_path):
    """'P_00004', 'p_00004' and 'P_00004 ' (a hand-edited boxes.csv) were three patients: split_patients put the
    same woman's views in training and in validation."""
    typed = ["P_00004", "p_00004", "P_00004 ", " P_00004", "P_00004_1"]
    others = [f"P_{n:05d}" for n in range(10, 40)]
    write_csv(tmp_path / "cbis-ddsm-mass" / "boxes.csv", cbis_rows(typed + others), CBIS_COLUMNS)
    images = cbis_images(tmp_path)
    assert {im.patient for im in images[: len(typed)]} == {"cbis:P_00004"}
    for seed in range(8):
        split = split_patients(images, 0.5, seed)
        assert len({split[im.patient] for im in images[: len(typed)]}) == 1


def test_one_mias_patient_typed_differently_is_one_patient(tmp_path):
    rows = [{"refnum": f"mdb00{i}", "patient": p, "lesion_type": "normal", "side": "right" if i % 2 else "left"}
            for i, p in ((1, "mias001"), (2, "MIAS001 "))]  # fmt: skip
    write_csv(tmp_path / "mini-mias" / "labels.csv", rows, MIAS_COLUMNS)
    assert {im.patient for im in mias_images(tmp_path)} == {"mias:mias001"}
