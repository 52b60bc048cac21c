"""Patient-level split: deterministic, stratified, no patient on both sides (synthetic and real records)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from mammoview.training import sources
from mammoview.training.split import check_no_leakage, patient_stratum, split_patients


def _records(n_patients: int = 60) -> list[sources.SourceImage]:
    out = []
    for i in range(n_patients):
        mal = i % 2 == 0
        for view in ("CC", "MLO"):
            out.append(
                sources.SourceImage(
                    "cbis", f"{i:05d}_LEFT_{view}", Path("x"), f"cbis:P_{i:05d}", "L", view, (0.29, 0.18), "mass", mal
                )
            )
    for i in range(20):
        out.append(
            sources.SourceImage(
                "magic5",
                f"{i:04d}_1",
                Path("x"),
                f"magic5:{i:04d}",
                None,
                None,
                (0.085, 0.085),
                "calcification" if i % 3 else "normal",
                None,
                is_patch=True,
            )
        )
    return out


def test_split_is_deterministic_and_leak_free():
    recs = _records()
    a = split_patients(recs, 0.2, seed=3)
    assert a == split_patients(recs, 0.2, seed=3)
    assert a != split_patients(recs, 0.2, seed=4)
    check_no_leakage([r.patient for r in recs], [a[r.patient] for r in recs])
    val = [p for p, s in a.items() if s == "val"]
    assert 0.15 <= len(val) / len(a) <= 0.25


def test_split_stratifies_benign_and_malignant():
    recs = _records()
    a = split_patients(recs, 0.2, seed=0)
    by = defaultdict(set)
    for r in recs:
        by[a[r.patient]].add(patient_stratum([r]))
    assert {"cbis/mass-M", "cbis/mass-B", "magic5/calcification", "magic5/normal"} <= by["val"]


def test_check_no_leakage_raises():
    with pytest.raises(ValueError, match="P_1"):
        check_no_leakage(["P_1", "P_2", "P_1"], ["train", "val", "val"])


@pytest.mark.data
def test_real_sources_split_has_no_leakage(data_dir):
    recs = sources.all_sources(data_dir)
    a = split_patients(recs, 0.2, seed=0)
    check_no_leakage([r.patient for r in recs], [a[r.patient] for r in recs])
    val_masses = [r for r in recs if a[r.patient] == "val" and r.label == "mass"]
    assert any(r.malignant for r in val_masses) and any(r.malignant is False for r in val_masses)
    # the MAGIC-5 ROIs (<roi>_<k>) of one case never straddle the split
    rois = defaultdict(set)
    for r in recs:
        if r.source == "magic5":
            rois[r.image_id.rsplit("_", 1)[0]].add(a[r.patient])
    assert all(len(s) == 1 for s in rois.values())
