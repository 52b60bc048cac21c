"""Files on disk into studies and priors: never two women in one study; dummy birth dates confirm nobody."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mammoview.io import hang, load_study, open_paths, scan_paths
from mammoview.io.priors import find_priors, prior_of
from mammoview.io.study import ReadKey, read_key
from tests.io.conftest import MakeFile

FOUR = (("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO"))


def exam(write_dcm: MakeFile, folder: str, *, views=FOUR, name_fmt: str = "{lat}{proj}", **kw: object) -> None:
    for lat, proj in views:
        write_dcm(f"{folder}/{name_fmt.format(lat=lat, proj=proj, side='LEFT' if lat == 'L' else 'RIGHT')}.dcm",
                  laterality=lat, view=proj, **kw)  # fmt: skip


def test_two_womens_exams_named_like_cbis_files_are_not_one_study(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A clinical export whose files are named ``img_00001_LEFT_CC.dcm`` in each woman's folder: the files carry
    their own Patient ID and Study Instance UID, and two women must not be hung as one exam (woman A's
    missing L MLO filled by woman B's)."""
    exam(write_dcm, "A", views=FOUR[:3], name_fmt="img_00001_{side}_{proj}", patient_id="A123",
         patient_name="Doe^Jane", study_uid="1.2.3.1")  # fmt: skip
    exam(write_dcm, "B", name_fmt="img_00001_{side}_{proj}", patient_id="B456", patient_name="Roe^Mary",
         study_uid="1.2.3.2")  # fmt: skip
    studies, _ = open_paths([tmp_path])
    assert all(len({i.meta.patient_id for i in s.images}) == 1 for s in studies), [
        (s.key, sorted({i.meta.patient_id for i in s.images})) for s in studies
    ]
    assert len(studies) == 2


def test_a_study_uid_shared_by_two_women_does_not_hang_one_womans_view_in_the_others_exam(
    write_dcm: MakeFile, tmp_path: Path
) -> None:
    """One Study Instance UID written into two women's exams (a broken anonymiser or PACS merge): woman A has
    no L MLO; woman B's must not hang in its slot as if it were A's."""
    exam(write_dcm, "A", views=FOUR[:3], patient_id="A123", patient_name="Doe^Jane", study_uid="1.2.3.9")
    exam(write_dcm, "B", patient_id="B456", patient_name="Roe^Mary", study_uid="1.2.3.9")
    studies, _ = open_paths([tmp_path])
    a = next(s for s in studies if any(i.meta.patient_id == "A123" for i in s.images))
    hanging = hang(load_study(a))
    shown = {v: img.info.meta.patient_id for v, img in hanging.panels.items() if img is not None}
    assert set(shown.values()) == {"A123"}, shown


@pytest.mark.parametrize("birth", ["00010101", "19000101"])
def test_a_dummy_birth_date_confirms_nobody(write_dcm: MakeFile, tmp_path: Path, birth: str) -> None:
    """An export that replaced the Patient ID by one placeholder and the birth date by a de-identifier's dummy
    date (pydicom dicom-anonymizer writes 00010101 for every date it removes; 19000101 is the other usual one),
    keeping the Study Dates: two women's exams must not become one woman's current and prior."""

    def dummy(ds):  # type: ignore[no-untyped-def]
        ds.PatientBirthDate = birth

    for folder, uid, date in (("w1", "1.2.3.1", "20240601"), ("w2", "1.2.3.2", "20220515")):
        for lat, proj in FOUR:
            write_dcm(f"{folder}/{lat}{proj}.dcm", laterality=lat, view=proj, patient_id="ANONYMIZED",
                      patient_name="", study_uid=uid, study_date=date, edit=dummy)  # fmt: skip
    studies, _ = open_paths([tmp_path])
    current = next(s for s in studies if s.key == "1.2.3.1")
    assert find_priors(current, studies) == []
    assert prior_of(studies) == {}


def test_an_unreadable_sub_folder_is_reported_not_silently_left_out(
    write_dcm: MakeFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch folder of which one woman's sub-folder cannot be listed (permissions of a copied PACS export):
    her study must not silently vanish from the worklist (os.walk drops the error unless asked)."""
    exam(write_dcm, "batch/A", patient_id="A1", study_uid="1.2.3.1")
    exam(write_dcm, "batch/B", patient_id="B2", study_uid="1.2.3.2")
    locked = (tmp_path / "batch" / "B").resolve()
    real = os.scandir

    def scandir(path="."):  # type: ignore[no-untyped-def]
        if Path(path).resolve() == locked:  # what a chmod 000 folder does for a user who is not root
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = scan_paths([tmp_path / "batch"])
    assert {i.meta.patient_id for i in result.images} == {"A1"}
    assert any(e.path.resolve() == locked and "ermission" in e.reason for e in result.errors), result.errors
    alone = scan_paths([locked])  # the folder itself: not "no image files in this folder"
    assert [e.path.resolve() for e in alone.errors] == [locked] and "ermission" in alone.errors[0].reason


def test_a_name_given_with_and_without_its_ideographic_group_is_one_woman() -> None:
    """PS3.5 PN groups (alphabetic=ideographic=phonetic): one modality sends ``Yamada^Tarou`` only, another
    ``Yamada^Tarou=山田^太郎=やまだ^たろう``; with the same Patient ID and birth date this is one woman and her
    prior must be found (it was not: the whole strings differ, so the name "differed")."""
    from tests.io.test_priors import study

    current = study("c", "20240601", birth="19600101", name="Yamada^Tarou=山田^太郎=やまだ^たろう")
    older = study("o", "20220601", birth="19600101", name="Yamada^Tarou")
    oldest = study("o2", "20200601", name="YAMADA^TAROU=山田^太郎")  # no birth date: the alphabetic group confirms
    assert [s.key for s in find_priors(current, [older, oldest])] == ["o", "o2"]
    other = study("x", "20220601", birth="19600101", name="Yamada^Tarou=山本^太郎")  # another ideographic name
    assert find_priors(current, [other]) == []


def test_a_studys_read_key_is_the_same_whatever_is_opened_with_it(write_dcm: MakeFile, tmp_path: Path) -> None:
    """One Study Instance UID in two women's exams: each one's read key names her, alone or opened beside the
    other's (her study key is the bare UID alone and names her beside it); other studies keep their key."""
    exam(write_dcm, "A", views=FOUR[:2], patient_id=" A123 ", study_uid="1.2.3.9")
    exam(write_dcm, "B", views=FOUR[:2], patient_id="B456", study_uid="1.2.3.9")
    exam(write_dcm, "cbis", views=FOUR[:1], name_fmt="Mass-Test_P_00820_{side}_{proj}", patient_id="", study_uid="9.1")
    exam(write_dcm, "noid", views=FOUR[:1], patient_id="", study_uid="9.2")
    exam(write_dcm, "nouid", views=FOUR[:1], patient_id="C789", edit=lambda ds: delattr(ds, "StudyInstanceUID"))
    both = {s.meta.patient_id.strip(): s for s in open_paths([tmp_path / "A", tmp_path / "B"])[0]}
    (alone,) = open_paths([tmp_path / "A"])[0]
    assert alone.key == "1.2.3.9" and both["A123"].key == "1.2.3.9 · Patient ID A123"
    assert read_key(alone) == read_key(both["A123"]) == ReadKey("1.2.3.9 · Patient ID A123", "A123", "1.2.3.9")
    assert read_key(both["B456"]).key == "1.2.3.9 · Patient ID B456"
    for name in ("cbis", "noid", "nouid"):
        (study,) = open_paths([tmp_path / name])[0]
        assert read_key(study).key == study.key and read_key(study).legacy is None, (name, study.key_source)
