"""Patient names in other character sets and long file names, through `detect --sr` / `--heatmaps`."""

from __future__ import annotations

import json
import os
import sys

import pydicom
import pytest

from mammoview.cli import main
from tests.cad.test_cli import models_dir  # noqa: F401  (fixture)
from tests.cad.test_density import density_dir  # noqa: F401  (fixture)
from tests.synthetic import mammo_dataset, write_dataset


@pytest.mark.parametrize(("name", "charset"), [
    ("Yamada^Tarou=山田^太郎=やまだ^たろう", ["", "ISO 2022 IR 87"]),  # every Japanese file: value 1 empty
    ("김희중", ["", "ISO 2022 IR 149"]),  # Korean
])  # fmt: skip
def test_an_sr_is_written_for_a_study_whose_names_use_code_extensions(models_dir, breast_with_blob, tmp_path,  # noqa: F811
                                                                      capsys, name, charset):  # fmt: skip
    ds = mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.3.4.87",
                       patient_name=name)  # fmt: skip
    ds.SpecificCharacterSet = charset
    image = write_dataset(ds, tmp_path / "study" / "lcc.dcm")
    sr_dir = tmp_path / "sr"
    code = main(["detect", str(image), "--json", str(tmp_path / "d.json"), "--quiet", "--threshold", "0.05",
                 "--sr", str(sr_dir)])  # fmt: skip
    assert "no SR" not in capsys.readouterr().err
    assert code == 0
    (path,) = sr_dir.iterdir()
    assert str(pydicom.dcmread(path).PatientName) == name  # the SR names the same woman, readably


def test_heatmaps_of_a_long_but_legal_file_name_do_not_drop_its_result(models_dir, breast_with_blob, tmp_path,  # noqa: F811
                                                                       capsys):  # fmt: skip
    long = "x" * 240 + ".dcm"  # 244 bytes: a legal file name (255 at most)
    ds = mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25))
    write_dataset(ds, tmp_path / "study" / long)
    out, heat = tmp_path / "d.json", tmp_path / "heat"
    code = main(["detect", str(tmp_path / "study"), "--json", str(out), "--heatmaps", str(heat), "--quiet"])
    doc = json.loads(out.read_text())
    assert [e for e in doc["images"] if "error" in e] == [], capsys.readouterr().err
    assert code == 0
    assert len(list(heat.glob("*.npy"))) == 1 and len(list(heat.glob("*.json"))) == 1


def test_heatmaps_of_files_of_one_name_say_which_image_they_are_of(models_dir, breast_with_blob, tmp_path):  # noqa: F811
    """TCIA's CBIS-DDSM names every file 1-1.dcm (one per series folder): the maps are 1-1, 1-1_2, ...; nothing in
    them nor in the detect JSON said which map is of which image."""
    plain = mammo_dataset(breast_with_blob[:, ::-1].copy(), "R", "CC", pixel_spacing=(0.25, 0.25))
    for folder, ds in (("a", mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25))), ("b", plain)):
        write_dataset(ds, tmp_path / "cbis" / folder / "1-1.dcm")
    out, heat = tmp_path / "d.json", tmp_path / "heat"
    assert main(["detect", str(tmp_path / "cbis"), "--json", str(out), "--heatmaps", str(heat), "--quiet"]) == 0
    grids = {p.stem: json.loads(p.read_text()) for p in heat.glob("*.json")}
    assert set(grids) == {"1-1", "1-1_2"}
    images = {e["path"] for e in json.loads(out.read_text())["images"]}
    assert {g.get("image") for g in grids.values()} == images


@pytest.mark.skipif(sys.platform == "win32", reason="Windows names are UTF-16: every name has a UTF-8 form")
def test_heatmaps_of_a_file_whose_name_is_not_utf8_do_not_drop_its_result(models_dir, breast_with_blob, tmp_path,  # noqa: F811
                                                                           capsys):  # fmt: skip
    """A mammogram named in Latin-1 bytes (copied from an old share or CD: ``mammographie_\\xe9.dcm``) was analysed,
    then its heatmaps' name, cut as UTF-8 text, failed it: 'UnicodeEncodeError: ... surrogates not allowed'."""
    ds = mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25))
    write_dataset(ds, tmp_path / "study" / os.fsdecode(b"mammographie_\xe9.dcm"))
    out, heat = tmp_path / "d.json", tmp_path / "heat"
    code = main(["detect", str(tmp_path / "study"), "--json", str(out), "--heatmaps", str(heat), "--quiet"])
    assert [e for e in json.loads(out.read_text())["images"] if "error" in e] == [], capsys.readouterr().err
    assert code == 0
    assert sorted(os.listdir(os.fsencode(heat))) == [b"mammographie_\xe9" + s for s in (b".json", b".npy", b".png")]


def uid_less_study_in_latin1_folder(image, tmp_path):  # type: ignore[no-untyped-def]
    """Two views without a Study Instance UID (a study by their folder, keyed by its path) in a folder named in
    Latin-1 bytes."""
    folder = tmp_path / os.fsdecode(b"lecture_\xe9")
    for proj in ("CC", "MLO"):
        ds = mammo_dataset(image, "L", proj, pixel_spacing=(0.25, 0.25))
        del ds.StudyInstanceUID
        write_dataset(ds, folder / f"l{proj.lower()}.dcm")
    return folder


@pytest.mark.skipif(sys.platform == "win32", reason="Windows names are UTF-16: every name has a UTF-8 form")
def test_density_and_the_sr_of_a_study_keyed_by_a_folder_not_named_in_utf8(models_dir, density_dir, breast_with_blob,  # noqa: F811
                                                                           tmp_path, capsys):  # fmt: skip
    """The study's key (its folder's path) was hashed as UTF-8 text: `density` and `detect --sr` ended after the
    analysis with "error: 'utf-8' codec can't encode character '\\udce9'", no JSON written."""
    folder = uid_less_study_in_latin1_folder(breast_with_blob, tmp_path)
    out = tmp_path / "density.json"
    assert main(["density", str(folder), "--json", str(out), "--models-dir", str(density_dir), "--device", "cpu"]) == 0
    assert all("density" in e for e in json.loads(out.read_text())["images"]), capsys.readouterr().err
    out = tmp_path / "detect.json"
    main(["detect", str(folder), "--json", str(out), "--sr", str(tmp_path / "sr"), "--quiet"])
    assert "no StudyInstanceUID" in capsys.readouterr().err  # (an SR must reference its images' study)
    assert [e for e in json.loads(out.read_text())["images"] if "error" in e] == []
