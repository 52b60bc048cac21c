"""One exam the modality sent as two studies (CC views under one Study Instance UID, MLO views under another):
joined when both name one Patient ID, one Accession Number and one Study Date, confirmed as one woman (a birth date
or a name, as for priors); otherwise left as two studies, never two women joined."""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from mammoview.io import View, hang, load_study, open_paths
from mammoview.io.study import read_key
from tests.io.conftest import MakeFile

CC = (("R", "CC"), ("L", "CC"))
MLO = (("R", "MLO"), ("L", "MLO"))


def _accession(number: str, birth: str = "19650412") -> Callable[[Dataset], None]:
    def edit(ds: Dataset) -> None:
        ds.AccessionNumber, ds.PatientBirthDate = number, birth

    return edit


def _half(
    write_dcm: MakeFile,
    folder: str,
    views: tuple[tuple[str, str], ...],
    uid: str,
    accession: str = "ACC77",
    **kw: object,
) -> None:
    kw = {"patient_id": "0012345", "patient_name": "Doe^Jane", "edit": _accession(accession), **kw}
    for lat, proj in views:
        write_dcm(f"{folder}/{lat}{proj}.dcm", laterality=lat, view=proj, study_uid=uid, **kw)


def test_an_exam_sent_as_two_studies_is_one_study(write_dcm: MakeFile, tmp_path: Path) -> None:
    _half(write_dcm, "cc", CC, "1.2.840.5.1")
    _half(write_dcm, "mlo", MLO, "1.2.840.5.2")
    (study,), _ = open_paths([tmp_path])
    assert len(study.images) == 4 and [i.view for i in study.images] == list(View)
    assert "AccessionNumber (0008,0050)" in study.key_source
    assert "1.2.840.5.1" in study.key and "1.2.840.5.2" in study.key
    h = hang(load_study(study, max_workers=2))
    assert all(h.panels[v] is not None for v in View) and h.missing == ""
    assert ("one exam sent as 2 studies (Study Instance UIDs 1.2.840.5.1, 1.2.840.5.2), shown as one: they give one "
            "Patient ID, Accession Number and Study Date") in h.notes  # fmt: skip
    assert read_key(study).patient_id == "0012345"
    (again,), _ = open_paths([tmp_path / "mlo", tmp_path / "cc"])  # opened in the other order: the same key
    assert again.key == study.key and read_key(again) == read_key(study)


@pytest.mark.parametrize(
    "other",
    [
        {"accession": "ACC78"},  # another order: two exams
        {"accession": ""},  # no Accession Number: nothing says they are one exam
        {"patient_id": "0099999"},  # another woman
        {"patient_name": "Roe^Mary"},  # one ID, one accession, but another name: not joined
        {"study_date": "20240103"},
    ],
)
def test_exams_not_shown_to_be_one_stay_apart(write_dcm: MakeFile, tmp_path: Path, other: dict[str, str]) -> None:
    _half(write_dcm, "cc", CC, "1.2.840.5.1", accession=other.get("accession", "ACC77"))
    _half(write_dcm, "mlo", MLO, "1.2.840.5.2", **{k: v for k, v in other.items() if k != "accession"})
    studies, _ = open_paths([tmp_path])
    assert sorted(s.key for s in studies) == ["1.2.840.5.1", "1.2.840.5.2"]


def test_a_placeholder_id_and_accession_join_nobody(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A de-identified export: one placeholder Patient ID, name and accession for every woman, no birth date."""

    def anonymous(ds: Dataset) -> None:
        ds.AccessionNumber, ds.PatientBirthDate = "0", ""

    for folder, views, uid in (("a", CC, "1.2.840.5.1"), ("b", MLO, "1.2.840.5.2")):
        _half(write_dcm, folder, views, uid, patient_id="ANONYMOUS", patient_name="ANONYMOUS", edit=anonymous)
    studies, _ = open_paths([tmp_path])
    assert len(studies) == 2


def _grouped_in_every_order(
    write_dcm: MakeFile, tmp_path: Path, names: tuple[str, str, str], births: tuple[str, str, str]
) -> set[tuple[str, frozenset[str]]]:
    """Three parts of one exam (CC views, R MLO, L MLO under three UIDs; one Patient ID, accession and day) named and
    born as given, opened in each of the six orders: the studies they make, which must be the same in every order
    (the order files are scanned in is no reason for two parts to be one exam or two)."""
    views = {"a": CC, "b": (("R", "MLO"),), "c": (("L", "MLO"),)}
    for n, (folder, name, birth) in enumerate(zip("abc", names, births, strict=True), 1):
        _half(write_dcm, folder, views[folder], f"1.2.840.5.{n}", patient_name=name, edit=_accession("ACC77", birth))
    results = set()
    for order in permutations("abc"):
        studies, _ = open_paths([tmp_path / f for f in order])
        results.add(frozenset((s.key, frozenset(i.path.parent.name + "/" + i.path.name for i in s.images))
                              for s in studies))  # fmt: skip
    assert len(results) == 1, results
    return set(results.pop())


def test_a_part_naming_nobody_but_by_its_id_stays_apart_whatever_the_order(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A part giving only the Patient ID confirms nobody: the two named parts are one exam, that one is not joined
    (listed first, it kept the named parts apart too)."""
    got = _grouped_in_every_order(write_dcm, tmp_path, ("", "Doe^Jane", "Doe^Jane"), ("", "19650412", "19650412"))
    assert got == {("1.2.840.5.1", frozenset({"a/RCC.dcm", "a/LCC.dcm"})),
                   ("1.2.840.5.2 + 1.2.840.5.3", frozenset({"b/RMLO.dcm", "c/LMLO.dcm"}))}  # fmt: skip


def test_parts_confirmed_through_a_third_are_one_exam_whatever_the_order(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A part giving a birth date only and one giving a name only confirm nothing to each other, but each is confirmed
    by a third giving both (and none differs): one exam, whichever part comes first."""
    got = _grouped_in_every_order(write_dcm, tmp_path, ("", "Doe^Jane", "Doe^Jane"), ("19650412", "19650412", ""))
    assert got == {("1.2.840.5.1 + 1.2.840.5.2 + 1.2.840.5.3",
                    frozenset({"a/RCC.dcm", "a/LCC.dcm", "b/RMLO.dcm", "c/LMLO.dcm"}))}  # fmt: skip


def test_two_parts_that_differ_are_never_joined_through_a_third_that_matches_both(
    write_dcm: MakeFile, tmp_path: Path
) -> None:
    """Each part confirmed as the first part's woman is not enough: a part with a birth date and no name confirms
    both a 'Doe^Jane' and a 'Roe^Mary' part of that birth date, who are two women (one ID, accession and day: a
    mislabelled exam), and it may be either's.  None is joined, whichever part comes first."""
    got = _grouped_in_every_order(write_dcm, tmp_path, ("", "Doe^Jane", "Roe^Mary"), ("19650412",) * 3)
    assert {key for key, _ in got} == {"1.2.840.5.1", "1.2.840.5.2", "1.2.840.5.3"}
