"""``mammoview detect / classify / models`` in-process, with test-only models written to tmp_path."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imsave

from mammoview.cad.weights import save_model
from mammoview.cli import main
from tests.cad.conftest import BLOB, bright_net
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

IMAGE_KEYS = {"path", "width", "height", "laterality", "view", "pixel_spacing", "scores", "findings"}
FINDING_KEYS = {"kind", "score", "malignancy", "center", "bbox"}


@pytest.fixture()
def models_dir(tmp_path, bright_model, monkeypatch) -> Path:
    d = tmp_path / "models"
    save_model(bright_net(), bright_model.entry, d)
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(d))
    return d


@pytest.fixture()
def study_dir(tmp_path, breast_with_blob) -> Path:
    d = tmp_path / "study"
    uid = "1.2.3.4"
    write_dataset(mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25), study_uid=uid), d / "lcc.dcm")
    plain = synthetic_breast(rows=600, cols=400, chest_wall="right", seed=8)
    write_dataset(mammo_dataset(plain, "R", "CC", pixel_spacing=(0.25, 0.25), study_uid=uid), d / "sub" / "rcc.dcm")
    (d / "broken.dcm").write_bytes(b"DICM" * 10)
    return d


def _check_schema(doc: dict) -> None:
    assert set(doc) == {"model", "images"}
    assert set(doc["model"]) == {"name", "version", "sha256"}
    for e in doc["images"]:
        assert Path(e["path"]).is_absolute()
        if "error" in e:
            assert set(e) == {"path", "error"} and e["error"]
            continue
        assert set(e) == IMAGE_KEYS
        assert set(e["scores"]) == {"abnormal", "malignant"}
        assert e["laterality"] in ("L", "R", None) and e["view"] in ("CC", "MLO", None)
        for f in e["findings"]:
            assert set(f) == FINDING_KEYS and f["kind"] in ("mass", "calcification")
            assert len(f["center"]) == 2 and len(f["bbox"]) == 4
            assert 0 <= f["center"][0] <= e["width"] and 0 <= f["center"][1] <= e["height"]


def test_detect_json_errors_and_heatmaps(models_dir, study_dir, tmp_path, capsys):
    out, heat = tmp_path / "out" / "detect.json", tmp_path / "heat"
    code = main(
        ["detect", str(study_dir), "--json", str(out), "--heatmaps", str(heat), "--quiet", "--max-findings", "2"]
    )
    assert code == 1  # the broken file
    err = capsys.readouterr().err
    assert "broken.dcm" in err and len([ln for ln in err.splitlines() if "broken.dcm" in ln]) == 1
    doc = json.loads(out.read_text())
    _check_schema(doc)
    assert doc["model"]["name"] == "test-bright"
    by_name = {Path(e["path"]).name: e for e in doc["images"]}
    assert set(by_name) == {"lcc.dcm", "rcc.dcm", "broken.dcm"} and "error" in by_name["broken.dcm"]
    lcc = by_name["lcc.dcm"]
    assert (lcc["laterality"], lcc["view"], lcc["width"], lcc["height"]) == ("L", "CC", 400, 600)
    assert lcc["pixel_spacing"] == [0.25, 0.25] and 1 <= len(lcc["findings"]) <= 2
    cx, cy = lcc["findings"][0]["center"]
    assert np.hypot(cx - BLOB.x, cy - BLOB.y) <= BLOB.radius + 32
    assert lcc["scores"]["abnormal"] > by_name["rcc.dcm"]["scores"]["abnormal"]
    names = ["lcc.json", "lcc.npy", "lcc.png", "rcc.json", "rcc.npy", "rcc.png"]
    assert sorted(p.name for p in heat.iterdir()) == names
    arr = np.load(heat / "lcc.npy")
    assert arr.dtype == np.float32 and arr.min() >= 0 and arr.max() <= 1
    # the .json beside the map places its cells on the stored grid: its hottest cell is on the blob
    grid = json.loads((heat / "lcc.json").read_text())
    assert grid["shape"] == list(arr.shape) and (grid["image_width"], grid["image_height"]) == (400, 600)
    assert grid["method"] == "cam" and grid["values"].startswith("p(abnormal) per cell")
    i, j = np.unravel_index(np.argmax(arr), arr.shape)
    x = grid["x0"] + (j + 0.5) * grid["cell_width"]
    y = grid["y0"] + (i + 0.5) * grid["cell_height"]
    assert np.hypot(x - BLOB.x, y - BLOB.y) <= BLOB.radius + grid["cell_width"], (x, y)


def test_detect_all_good_exit_zero(models_dir, study_dir, tmp_path):
    (study_dir / "broken.dcm").unlink()
    out = tmp_path / "d.json"
    assert main(["detect", str(study_dir / "lcc.dcm"), "--json", str(out), "--quiet", "--device", "cpu"]) == 0
    _check_schema(json.loads(out.read_text()))


def test_detect_json_to_standard_output_for_a_pipe(models_dir, study_dir, tmp_path, capsys, monkeypatch):
    (study_dir / "broken.dcm").unlink()
    monkeypatch.chdir(tmp_path)
    assert main(["detect", str(study_dir / "lcc.dcm"), "--json", "-", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    _check_schema(json.loads(out))  # the JSON alone on standard output; the summary on standard error
    assert "-> standard output" in err and not (tmp_path / "-").exists()


def test_detect_map_windows_override(models_dir, study_dir, tmp_path, capsys):
    """--map-windows replaces the model's windows (48 px = 3 cells here); mixed even/odd is refused up front."""
    image = str(study_dir / "lcc.dcm")
    plain, multi = tmp_path / "plain.json", tmp_path / "multi.json"
    assert main(["detect", image, "--json", str(plain), "--quiet", "--threshold", "0.05"]) == 0
    argv = ["detect", image, "--json", str(multi), "--quiet", "--threshold", "0.05"]
    assert main([*argv, "--map-windows", "48", "16"]) == 0
    a, b = (json.loads(p.read_text())["images"][0] for p in (plain, multi))
    _check_schema(json.loads(multi.read_text()))
    assert a["scores"] != b["scores"]  # the 16 px window sharpens the maps
    capsys.readouterr()
    assert main(["detect", image, "--json", str(tmp_path / "bad.json"), "--map-windows", "48", "32"]) == 1
    err = capsys.readouterr().err.strip()
    assert "all even or all odd" in err and "\n" not in err and not (tmp_path / "bad.json").exists()


def test_detect_warns_when_it_had_to_guess_the_pixel_spacing(models_dir, breast_with_blob, tmp_path, capsys):
    """A PNG carries no spacing: the CAD assumes one, and says so once for the run (not per file)."""
    folder = tmp_path / "png"
    folder.mkdir()
    for name in ("a_L_CC.png", "b_L_MLO.png"):
        imsave(folder / name, breast_with_blob, cmap="gray")
    out = tmp_path / "d.json"
    assert main(["detect", str(folder), "--json", str(out), "--quiet"]) == 0
    err = [ln for ln in capsys.readouterr().err.splitlines() if "pixel spacing" in ln]
    assert len(err) == 1 and "warning: no pixel spacing in" in err[0] and "and 1 more" in err[0]
    assert "--pixel-spacing ROW,COL" in err[0]
    rows = json.loads(out.read_text())["images"][0]["height"]
    assert json.loads(out.read_text())["images"][0]["pixel_spacing"] == [pytest.approx(230 / rows)] * 2
    assert main(["detect", str(folder), "--json", str(out), "--quiet", "--pixel-spacing", "0.25"]) == 0
    assert "pixel spacing" not in capsys.readouterr().err  # given: nothing guessed
    assert json.loads(out.read_text())["images"][0]["pixel_spacing"] == [0.25, 0.25]


def test_detect_reports_an_absurd_image_size_and_runs_the_others(models_dir, breast_with_blob, tmp_path, capsys):
    folder = tmp_path / "png"
    folder.mkdir()
    imsave(folder / "good_L_CC.png", breast_with_blob, cmap="gray")
    imsave(folder / "line_L_MLO.png", np.zeros((1, 5000)), cmap="gray")  # 230 mm per pixel estimated: 1.15 km wide
    out = tmp_path / "d.json"
    assert main(["detect", str(folder), "--json", str(out), "--quiet"]) == 1
    by_name = {Path(e["path"]).name: e for e in json.loads(out.read_text())["images"]}
    assert "a mammogram is at most about 300 mm" in by_name["line_L_MLO.png"]["error"]
    assert "error" not in by_name["good_L_CC.png"] and by_name["good_L_CC.png"]["findings"]
    assert "line_L_MLO.png: at 230 x 230 mm per pixel" in capsys.readouterr().err


def test_an_undecodable_dicom_is_one_line_without_the_decoders_tracebacks(models_dir, tmp_path, capsys, caplog):
    """pydicom logs every decoder it tried, with a traceback; detect's own line says it once."""
    from pydicom.data import get_testdata_file

    src = Path(str(get_testdata_file("JPEG-lossy.dcm")))  # 12-bit JPEG Extended that no installed decoder reads
    assert main(["detect", str(src), "--json", str(tmp_path / "d.json"), "--quiet"]) == 1
    err = capsys.readouterr().err
    mine = [ln for ln in err.splitlines() if "JPEG-lossy.dcm" in ln]
    assert "Traceback" not in err and len(mine) == 1 and "cannot decode pixel data" in mine[0]
    assert not [r for r in caplog.records if r.name.startswith("pydicom.pixels") and r.levelno >= logging.ERROR]


def test_detect_passes_on_what_the_reader_warned_about(models_dir, breast_with_blob, tmp_path, capsys):
    """A raw (FOR PROCESSING) or non-MG image is analysed, and the reader's warning reaches the user."""
    folder = tmp_path / "odd"
    ds = mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25), modality="CT")
    write_dataset(ds, folder / "ct.dcm")
    raw = mammo_dataset(breast_with_blob, "L", "MLO", pixel_spacing=(0.25, 0.25))
    raw.PresentationIntentType = "FOR PROCESSING"
    write_dataset(raw, folder / "raw.dcm")
    out = tmp_path / "d.json"
    assert main(["detect", str(folder), "--json", str(out), "--quiet"]) == 0
    warned = {Path(ln.split(": warning: ")[0].split("detect: ")[1]).name: ln.split(": warning: ")[1]
              for ln in capsys.readouterr().err.splitlines() if ": warning: " in ln}  # fmt: skip
    assert "Modality is CT, not MG" in warned["ct.dcm"] and "raw detector image (FOR PROCESSING)" in warned["raw.dcm"]
    assert all("error" not in e for e in json.loads(out.read_text())["images"])


def test_detect_refuses_a_close_up_and_warns_about_an_implant(models_dir, breast_with_blob, tmp_path, capsys):
    """A spot compression view gets an error entry (the CAD does not run on close-ups); an implant view runs,
    with the reader's warning on stderr."""
    from tests.synthetic import code_item

    folder = tmp_path / "workup"
    spot = mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25))
    spot.ViewModifierCodeSequence = [code_item("SRT", "R-102D7", "Spot Compression")]
    write_dataset(spot, folder / "spot.dcm")
    implant = mammo_dataset(breast_with_blob, "L", "MLO", pixel_spacing=(0.25, 0.25))
    implant.BreastImplantPresent = "YES"
    write_dataset(implant, folder / "implant.dcm")
    out = tmp_path / "d.json"
    assert main(["detect", str(folder), "--json", str(out), "--quiet"]) == 1
    by_name = {Path(e["path"]).name: e for e in json.loads(out.read_text())["images"]}
    assert by_name["spot.dcm"]["error"].startswith("a diagnostic close-up, spot compression view")
    assert "error" not in by_name["implant.dcm"] and set(by_name["implant.dcm"]) >= {"scores", "findings"}
    err = capsys.readouterr().err
    assert "implant.dcm: warning: breast implant present (BreastImplantPresent (0028,1300) YES)" in err


def test_detect_warns_about_a_synthesized_2d_view(models_dir, breast_with_blob, tmp_path, capsys):
    """A synthesized 2-D view (Image Type GENERATED_2D) runs like an exposure, with the CAD's warning on stderr that
    it was trained on screen-film exposures; the exposure beside it gets no such warning."""
    folder = tmp_path / "combo"
    synthesized = mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25))
    synthesized.ImageType = ["DERIVED", "PRIMARY", "TOMOSYNTHESIS", "GENERATED_2D"]  # PS3.3 C.8.11.7.1.4
    write_dataset(synthesized, folder / "cview.dcm")
    write_dataset(mammo_dataset(breast_with_blob, "L", "MLO", pixel_spacing=(0.25, 0.25)), folder / "exposure.dcm")
    out = tmp_path / "d.json"
    assert main(["detect", str(folder), "--json", str(out), "--quiet"]) == 0
    by_name = {Path(e["path"]).name: e for e in json.loads(out.read_text())["images"]}
    assert set(by_name["cview.dcm"]) == IMAGE_KEYS  # the JSON keeps its schema: the warning is on stderr
    err = capsys.readouterr().err
    assert "cview.dcm: warning: synthesized 2-D view (Image Type (0008,0008) GENERATED_2D): the CAD was trained " in err
    assert "exposure.dcm: warning" not in err


def test_detect_without_models_is_one_line_error(tmp_path, monkeypatch, study_dir, capsys):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tmp_path / "empty"))
    assert main(["detect", str(study_dir), "--json", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err.strip()
    assert "no models installed" in err and "\n" not in err and not (tmp_path / "x.json").exists()


def test_detect_with_models_env_pointing_nowhere_says_so(tmp_path, monkeypatch, study_dir, capsys):
    """A typo in $MAMMOVIEW_MODELS read "no models installed (train one ...)", which sends the user to train."""
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tmp_path / "modles"))
    assert main(["detect", str(study_dir), "--json", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err.strip()
    assert f"{tmp_path / 'modles'}: no such models folder ($MAMMOVIEW_MODELS)" in err and "\n" not in err
    assert (
        main(["detect", str(study_dir), "--json", str(tmp_path / "x.json"), "--models-dir", str(tmp_path / "x")]) == 1
    )
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{tmp_path / 'x'}: no such models folder") and not (tmp_path / "x.json").exists()


def test_detect_on_demo_study(tmp_path, tiny_model, monkeypatch, demo_dir):
    files = [p for p in demo_dir.rglob("*") if p.is_file()] if demo_dir.is_dir() else []
    if not files:
        pytest.skip("resources/demo is empty (synthetic DICOMs are covered above)")
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tiny_model.path.parent))
    out = tmp_path / "demo.json"
    assert main(["detect", str(demo_dir), "--json", str(out), "--quiet"]) in (0, 1)
    doc = json.loads(out.read_text())
    _check_schema(doc)
    assert any("error" not in e for e in doc["images"])


def test_classify_patches(models_dir, tmp_path):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:96]
    flat = 0.5 + 0.01 * rng.normal(size=(96, 96))
    blob = flat + 0.4 * np.exp(-((yy - 48) ** 2 + (xx - 48) ** 2) / (2 * 12.0**2))
    imsave(tmp_path / "flat.png", np.clip(flat, 0, 1), cmap="gray", vmin=0, vmax=1)
    imsave(tmp_path / "blob.png", np.clip(blob, 0, 1), cmap="gray", vmin=0, vmax=1)
    out = tmp_path / "c.json"
    code = main(
        [
            "classify",
            str(tmp_path / "flat.png"),
            str(tmp_path / "blob.png"),
            "--json",
            str(out),
            "--pixel-spacing",
            "0.25",
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    flat_p, blob_p = (e["probabilities"] for e in doc["patches"])
    assert set(flat_p) == {"normal", "mass", "calcification", "malignant_given_lesion", "malignant"}
    assert sum(flat_p[k] for k in ("normal", "mass", "calcification")) == pytest.approx(1.0, abs=1e-3)
    assert blob_p["mass"] > flat_p["mass"]
    assert doc["patches"][0]["pixel_spacing"] == [0.25, 0.25]


def test_classify_reads_folders_with_a_progress_bar(models_dir, breast_with_blob, tmp_path, capsys, monkeypatch):
    """A folder of patches is read recursively (its notes skipped, a broken file reported, the others classified),
    with a progress bar on standard error as detect has; --quiet drops the bar."""
    folder = tmp_path / "patches"
    (folder / "sub").mkdir(parents=True)
    imsave(folder / "a.png", breast_with_blob[250:350, 100:200], cmap="gray")
    imsave(folder / "sub" / "b.png", breast_with_blob[50:150, 100:200], cmap="gray")
    (folder / "notes.txt").write_text("not a patch")
    (folder / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "c.json"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the bar is drawn on a terminal only
    code = main(["classify", str(folder), "--json", str(out), "--pixel-spacing", "0.25"])
    err = capsys.readouterr().err
    assert code == 1
    doc = json.loads(out.read_text())["patches"]
    by_name = {Path(e["path"]).name: e for e in doc}
    assert set(by_name) == {"a.png", "b.png", "broken.png"}
    assert "probabilities" in by_name["a.png"] and "probabilities" in by_name["b.png"]
    assert "error" in by_name["broken.png"] and "broken.png" in err
    assert "2/2" in err and "patch" in err  # the bar's last state
    assert main(["classify", str(folder / "a.png"), "--json", str(out), "--quiet"]) == 0
    # no bar; only the reader's warning stays (imsave writes RGBA: 'colour image: converted to grey'), as in detect
    assert [ln for ln in capsys.readouterr().err.splitlines() if ": warning: " not in ln] == []


def test_classify_refuses_a_folder_as_the_json_output_before_any_work(models_dir, tmp_path, capsys, monkeypatch):
    import mammoview.cad.patches as patches

    monkeypatch.setattr(patches, "classify_patch", lambda *a, **k: pytest.fail("classified before the check"))
    imsave(tmp_path / "a.png", np.zeros((64, 64)), cmap="gray")
    assert main(["classify", str(tmp_path / "a.png"), "--json", str(tmp_path), "--quiet"]) == 1
    assert "is a folder: give the file to write" in capsys.readouterr().err


def test_models_listing(models_dir, bright_model, capsys, tmp_path):
    assert main(["models", "--models-dir", str(tmp_path / "typo")]) == 1
    assert "typo: no such folder" in capsys.readouterr().err
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "test-bright" in text and "*" in text and "0.5 mm" in text
    assert "FINDINGS" in text and "p>=" in text  # the operating point is listed
    assert "FP/img-curve" not in text  # this test model has no operating curve
    assert main(["models", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == "test-bright" and row["default"] and row["present"] and len(row["sha256"]) == 64
    from dataclasses import replace

    curve = {"threshold": [0.9, 0.5], "fpi": [0.0, 1.0], "sensitivity": [0.2, 0.6]}
    save_model(bright_net(), replace(bright_model.entry, name="with-curve", operating_curve=curve), models_dir)
    assert main(["models"]) == 0
    out = capsys.readouterr().out.splitlines()
    line = next(x for x in out if "with-curve" in x)
    assert "FP/img-curve" in line
    points = next(x for x in out if x.startswith("with-curve operating points"))
    assert points.endswith("0.25 FP/img: p>=0.8000, finds 30% | 0.5 FP/img: p>=0.7000, finds 40% | "
                           "1 FP/img: p>=0.5000, finds 60%")  # 2 FP/img lies beyond this curve  # fmt: skip


def test_bad_pixel_spacing_option(capsys):
    with pytest.raises(SystemExit):
        main(["detect", "x", "--json", "y", "--pixel-spacing", "-1"])
    assert "pixel spacing" in capsys.readouterr().err


def test_ensemble_of_unfinished_runs_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    rc = main(
        [
            "ensemble",
            str(tmp_path / "run"),
            f"{tmp_path / 'run'}:last",
            "--name",
            "e",
            "--install-to",
            str(tmp_path / "models"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "summary.json not found" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "models").exists()


def test_detect_at_a_false_marks_per_image_operating_point(models_dir, study_dir, bright_model, tmp_path, capsys):
    """--fp-per-image RATE = --threshold at the curve's threshold for RATE; refused without a curve or beyond it."""
    from dataclasses import replace

    from mammoview.cad.operating import OperatingCurve

    image, out = str(study_dir / "lcc.dcm"), tmp_path / "rate.json"
    assert main(["detect", image, "--json", str(out), "--quiet", "--fp-per-image", "0.5"]) == 1
    assert "has no operating curve" in capsys.readouterr().err
    curve = OperatingCurve(thresholds=(0.99, 0.9, 0.05), fpi=(0.0, 0.5, 3.0), sensitivity=(0.2, 0.5, 0.9))
    save_model(bright_net(), replace(bright_model.entry, operating_curve=curve.to_dict()), models_dir)
    for rate in (0.5, 3.0):
        by_thr = tmp_path / f"thr{rate}.json"
        assert main(["detect", image, "--json", str(out), "--quiet", "--fp-per-image", str(rate)]) == 0
        assert f"p(abnormal) >= {curve.threshold_for(rate):.4f}" in capsys.readouterr().err
        thr = str(curve.threshold_for(rate))
        assert main(["detect", image, "--json", str(by_thr), "--quiet", "--threshold", thr]) == 0
        got, want = (json.loads(p.read_text())["images"][0]["findings"] for p in (out, by_thr))
        assert got == want
        _check_schema(json.loads(out.read_text()))
    assert len(got) > 1  # the loose end of the curve lists more than the strict one
    assert main(["detect", image, "--json", str(out), "--quiet", "--fp-per-image", "4"]) == 1
    assert "beyond what was measured" in capsys.readouterr().err
    assert main(["detect", image, "--json", str(out), "--quiet", "--fp-per-image", "-1"]) == 1
    assert "finite and >= 0" in capsys.readouterr().err  # the curve's own check, one line
    with pytest.raises(SystemExit):  # argparse: one operating point at a time
        main(["detect", image, "--json", str(out), "--threshold", "0.5", "--fp-per-image", "1"])


def test_detect_writes_a_dicom_sr_per_study_that_reads_back_as_the_json(models_dir, study_dir, tmp_path, capsys):
    """--sr: one TID 1500 SR per study; every finding comes back with its image, place, type and scores."""
    import highdicom as hd
    import pydicom

    png = tmp_path / "png" / "flat.png"
    png.parent.mkdir()
    imsave(png, np.zeros((64, 48)), cmap="gray")
    out, sr_dir = tmp_path / "detect.json", tmp_path / "sr"
    argv = ["detect", str(study_dir / "lcc.dcm"), str(study_dir / "sub"), str(png), "--json", str(out), "--quiet"]
    assert main([*argv, "--sr", str(sr_dir), "--threshold", "0.05"]) == 1  # the PNG study cannot have an SR
    assert "not a DICOM file" in capsys.readouterr().err
    doc = json.loads(out.read_text())
    _check_schema(doc)
    (path,) = sr_dir.iterdir()  # the DICOM study (lcc + rcc, one StudyInstanceUID); none for the PNG
    sr = hd.sr.srread(path)
    assert sr.SOPClassUID.name == "Comprehensive SR Storage"
    assert (sr.CompletionFlag, sr.VerificationFlag) == ("PARTIAL", "UNVERIFIED")
    assert "research use only" in sr.SeriesDescription and sr.StudyInstanceUID == "1.2.3.4"
    images = {e["path"]: e for e in doc["images"] if "findings" in e and e["path"].endswith(".dcm")}
    assert len(images) == 2
    uid_of = {p: str(pydicom.dcmread(p).SOPInstanceUID) for p in images}
    groups = sr.content.get_planar_roi_measurement_groups()
    assert len(groups) == sum(len(e["findings"]) for e in images.values()) > 0
    for p, e in images.items():
        mine = [
            g for g in groups if g.roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == uid_of[p]
        ]
        assert len(mine) == len(e["findings"])
        for g, f in zip(mine, e["findings"], strict=True):
            assert g.finding_type.meaning == {"mass": "Mass", "calcification": "Calcification Cluster"}[f["kind"]]
            values = {m.name.meaning: m.value for m in g.get_measurements()}
            assert values["Certainty of Finding"] == pytest.approx(f["score"], abs=1e-4)
            assert values["Probability of cancer"] == pytest.approx(f["malignancy"], abs=1e-4)
            pts = np.asarray(g.roi.value)
            x0, y0, x1, y1 = f["bbox"]
            if g.roi.graphic_type == hd.sr.GraphicTypeValues.POINT:
                assert pts[0] == pytest.approx(f["center"], abs=0.01)
            else:  # the outline, closed, lies in the finding's box
                assert (pts[0] == pts[-1]).all() and len(pts) >= 4
                assert (pts[:, 0] >= x0 - 1).all() and (pts[:, 0] <= x1 + 1).all()
                assert (pts[:, 1] >= y0 - 1).all() and (pts[:, 1] <= y1 + 1).all()
    # Per-image scores as measurement groups of their own.
    scores = sorted(m.value for g in sr.content.get_image_measurement_groups() for m in g.get_measurements()
                    if m.name.meaning == "Certainty of Finding")  # fmt: skip
    assert scores == pytest.approx(sorted(e["scores"]["abnormal"] for e in images.values()), abs=1e-4)


def test_detect_reads_malignancy_from_an_installed_second_stage_unless_told_not_to(models_dir, study_dir, tmp_path):
    from mammoview.cad.weights import ModelEntry

    stage2 = ModelEntry(name="test-malignancy", arch="paper_cnn", task="malignancy",
                        arch_kwargs={"widths": [1, 1, 1, 1]}, patch_size=32, pixel_size_mm=1.0,
                        licence="TEST ONLY: hand-set weights")  # fmt: skip
    argv = ["detect", str(study_dir / "lcc.dcm"), "--quiet", "--max-findings", "2"]
    assert main([*argv, "--json", str(tmp_path / "one.json")]) == 0
    saved = save_model(bright_net(), stage2, models_dir)
    assert main([*argv, "--json", str(tmp_path / "two.json")]) == 0
    assert main([*argv, "--json", str(tmp_path / "own.json"), "--no-malignancy-model"]) == 0
    one, two, own = (json.loads((tmp_path / f"{n}.json").read_text())["images"][0] for n in ("one", "two", "own"))
    assert [f["center"] for f in two["findings"]] == [f["center"] for f in one["findings"]]  # same detections
    assert [f["malignancy"] for f in two["findings"]] != [f["malignancy"] for f in one["findings"]]
    assert own["findings"] == one["findings"] and own["scores"] == one["scores"]
    (models_dir / saved.file).write_bytes(b"broken")
    assert main([*argv, "--json", str(tmp_path / "broken.json")]) == 0  # goes on with the detector's own output
    assert json.loads((tmp_path / "broken.json").read_text())["images"][0]["findings"] == one["findings"]


def test_the_sr_names_the_second_stage_as_the_algorithm_of_the_probability_of_cancer(models_dir, study_dir, tmp_path):
    import highdicom as hd

    from mammoview.cad.weights import ModelEntry

    stage2 = ModelEntry(name="test-malignancy", arch="paper_cnn", task="malignancy",
                        arch_kwargs={"widths": [1, 1, 1, 1]}, patch_size=32, pixel_size_mm=1.0,
                        licence="TEST ONLY: hand-set weights")  # fmt: skip
    save_model(bright_net(), stage2, models_dir)
    sr_dir = tmp_path / "sr"
    argv = ["detect", str(study_dir / "lcc.dcm"), "--json", str(tmp_path / "d.json"), "--quiet", "--threshold", "0.05"]
    assert main([*argv, "--sr", str(sr_dir)]) == 0
    (path,) = sr_dir.iterdir()
    groups = hd.sr.srread(path).content.get_planar_roi_measurement_groups()
    assert groups

    def algorithm(m) -> str:  # type: ignore[no-untyped-def]  # the NUM item's "Algorithm Name" (DCM 111001)
        items = m[0].ContentSequence
        return next(str(i.TextValue) for i in items if i.ConceptNameCodeSequence[0].CodeValue == "111001")

    for g in groups:
        names = {m.name.meaning: algorithm(m) for m in g.get_measurements()}
        assert names == {"Certainty of Finding": "test-bright", "Probability of cancer": "test-malignancy"}


def test_an_sr_written_into_the_study_folder_is_skipped_there_and_named_when_asked_for(models_dir, study_dir,
                                                                                       tmp_path):  # fmt: skip
    """PACS exports (and `detect --sr` into the study's own folder) put SRs beside the images: a folder scan skips
    them; a file named explicitly is a one-line error."""
    import shutil

    folder = tmp_path / "with-sr"
    folder.mkdir()
    shutil.copy(study_dir / "lcc.dcm", folder / "lcc.dcm")
    argv = ["detect", str(folder), "--quiet", "--threshold", "0.05"]
    assert main([*argv, "--json", str(tmp_path / "a.json"), "--sr", str(folder)]) == 0
    (sr,) = [f for f in folder.iterdir() if f.name != "lcc.dcm"]
    assert main([*argv, "--json", str(tmp_path / "b.json")]) == 0  # the SR beside the image is no error
    images = json.loads((tmp_path / "b.json").read_text())["images"]
    assert [Path(e["path"]).name for e in images] == ["lcc.dcm"] and "error" not in images[0]
    assert main(["detect", str(sr), "--json", str(tmp_path / "c.json"), "--quiet"]) == 1
    (entry,) = json.loads((tmp_path / "c.json").read_text())["images"]
    assert entry["error"].startswith("not an image: a DICOM structured report or key object selection (e.g. a CAD SR)")


def test_detect_runs_the_installed_verifier_of_its_detector_unless_told_not_to(models_dir, study_dir, tmp_path,
                                                                                capsys):  # fmt: skip
    from dataclasses import replace

    import highdicom as hd
    import torch

    from mammoview.cad.registry import create_model
    from mammoview.cad.verification import VerificationSettings
    from mammoview.cad.weights import ModelEntry, load_model

    detector = load_model(None, models_dir).entry
    made_for = {"name": detector.name, "version": detector.version, "sha256": detector.sha256}
    torch.manual_seed(1)
    entry = ModelEntry(name="test-verifier", arch="paper_cnn", task="verification",
                       arch_kwargs={"widths": [4, 8, 8, 8]}, patch_size=32, pixel_size_mm=1.0, finding_threshold=0.2,
                       licence="TEST ONLY: random weights",
                       extra={"verification": VerificationSettings(detector=made_for).to_dict()})  # fmt: skip
    argv = ["detect", str(study_dir / "lcc.dcm"), "--quiet", "--threshold", "0.1", "--max-findings", "25"]
    assert main([*argv, "--json", str(tmp_path / "alone.json")]) == 0
    save_model(create_model("paper_cnn", widths=[4, 8, 8, 8]), entry, models_dir)
    assert main([*argv, "--json", str(tmp_path / "two.json"), "--sr", str(tmp_path / "sr")]) == 0
    assert main([*argv, "--json", str(tmp_path / "own.json"), "--no-verification"]) == 0
    alone, two, own = (json.loads((tmp_path / f"{n}.json").read_text())["images"][0] for n in ("alone", "two", "own"))
    assert own == alone and two["findings"] and two["findings"] != alone["findings"]
    # every verified finding is one of the detector's candidates, re-scored (the verifier can only lower or
    # raise a score, never move a centre), best first
    by_centre = {tuple(f["center"]): f["score"] for f in alone["findings"]}
    assert all(tuple(f["center"]) in by_centre for f in two["findings"])
    scores = [f["score"] for f in two["findings"]]
    assert scores == sorted(scores, reverse=True) and scores != [by_centre[tuple(f["center"])] for f in two["findings"]]
    # the SR names both networks as the algorithm of each finding's certainty
    (path,) = (tmp_path / "sr").iterdir()
    items = hd.sr.srread(path).content.get_planar_roi_measurement_groups()[0].get_measurements()[0][0].ContentSequence
    assert "test-bright + test-verifier" in [str(i.TextValue) for i in items if hasattr(i, "TextValue")]
    capsys.readouterr()
    assert main(["models", "--models-dir", str(models_dir)]) == 0
    assert f"verifies test-bright {detector.sha256[:8]}" in capsys.readouterr().out
    # a verifier made for another detector is not run, and detect says why
    other = {**made_for, "sha256": "e" * 64}
    mismatched = replace(entry, extra={"verification": VerificationSettings(detector=other).to_dict()})
    save_model(create_model("paper_cnn", widths=[4, 8, 8, 8]), mismatched, models_dir)
    capsys.readouterr()
    assert main([*argv, "--json", str(tmp_path / "other.json")]) == 0
    assert json.loads((tmp_path / "other.json").read_text())["images"][0] == alone
    assert "verification model is not used" in capsys.readouterr().err


# ---- bad options and odd arguments (each of these failed once) ----


def test_a_folder_given_twice_or_with_its_subfolder_is_no_error(models_dir, study_dir, tmp_path, capsys):
    """The images of a folder named twice (or named with its own subfolder) are read once, and no bogus
    'no image files in this folder' entry makes the run fail."""
    (study_dir / "broken.dcm").unlink()
    out = tmp_path / "d.json"
    code = main(["detect", str(study_dir), str(study_dir / "sub"), "--json", str(out), "--quiet"])
    doc = json.loads(out.read_text())
    assert [e for e in doc["images"] if "error" in e] == []
    assert code == 0
    assert "no image files" not in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--threshold", "nan"], ["--threshold", "1.5"], ["--max-findings", "-1"],
                                    ["--map-windows", "-96"]])  # fmt: skip
def test_nonsense_detect_options_are_refused(option, tmp_path, monkeypatch, capsys):
    """A NaN / out-of-range threshold, a negative finding count or window silently gave zero findings (exit 0)."""
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tmp_path / "none"))
    with pytest.raises(SystemExit) as exc:
        main(["detect", str(tmp_path / "x.dcm"), "--json", str(tmp_path / "y.json"), *option])
    assert exc.value.code == 2
    assert option[0] in capsys.readouterr().err


def test_an_error_without_a_message_still_says_what_happened(models_dir, study_dir, tmp_path, monkeypatch,
                                                                    capsys):  # fmt: skip
    """MemoryError() (e.g. --map-windows 100000) printed 'mammoview detect: error: ' and nothing else."""
    import mammoview.cad.pipeline as pipeline

    def boom(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(pipeline, "analyse_image", boom)
    main(["detect", str(study_dir / "lcc.dcm"), "--json", str(tmp_path / "d.json"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert not err.endswith("error:") and ("MemoryError" in err or "memory" in err.lower()), err


def test_classify_reports_an_impossible_patch_and_classifies_the_others(models_dir, breast_with_blob,
                                                                               tmp_path, capsys):  # fmt: skip
    """--pixel-spacing 1000 (e.g. micrometres typed for mm) on one spacing-less patch aborted the whole batch
    ('Unable to allocate 1.62 TiB'): no JSON, the DICOM patch with its own spacing lost too."""
    dcm = tmp_path / "own_spacing.dcm"
    write_dataset(mammo_dataset(breast_with_blob[250:350, 100:200].copy(), "L", "CC", pixel_spacing=(0.25, 0.25)), dcm)
    png = tmp_path / "no_spacing.png"
    imsave(png, breast_with_blob[250:350, 100:200], cmap="gray")
    out = tmp_path / "c.json"
    code = main(["classify", str(dcm), str(png), "--json", str(out), "--pixel-spacing", "1000"])
    assert code == 1 and out.exists()
    by_name = {Path(e["path"]).name: e for e in json.loads(out.read_text())["patches"]}
    assert "probabilities" in by_name["own_spacing.dcm"] and "error" in by_name["no_spacing.png"]


def test_a_folder_as_the_json_output_is_refused_before_any_work(models_dir, study_dir, tmp_path, capsys, monkeypatch):
    import mammoview.cad.pipeline as pipeline

    monkeypatch.setattr(
        pipeline, "analyse_image", lambda *a, **k: pytest.fail("analysed before the output was checked")
    )
    code = main(["detect", str(study_dir / "lcc.dcm"), "--json", str(tmp_path), "--quiet"])
    assert code == 1 and "is a folder: give the file to write" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["view", "detect", "classify", "evaluate"])
def test_every_command_takes_the_same_device_names(command, capsys):
    """`view --device cuda:1` was refused while detect took it, and detect/evaluate took any word (`gpu`) only
    to fail at load; each command now checks the name the same way, before any work."""
    from mammoview.cli import build_parser

    parser = build_parser()
    args = [command, "x", "--json", "o.json"] if command in ("detect", "classify") else [command]
    for name, want in (("CUDA:1", "cuda:1"), ("mps", "mps"), ("auto", "auto"), ("cpu", "cpu")):
        assert parser.parse_args([*args, "--device", name]).device == want
    with pytest.raises(SystemExit) as exc:
        parser.parse_args([*args, "--device", "gpu"])
    assert exc.value.code == 2 and "unknown device 'gpu'" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--sr", "--heatmaps"])
@pytest.mark.parametrize("where", ["a file", "a dead link", "below a file"])
def test_a_folder_destination_that_cannot_be_one_is_refused_before_any_work(option, where, models_dir, study_dir,
                                                                            tmp_path, capsys, monkeypatch):  # fmt: skip
    """As --json naming a folder: said before the batch, not hours after it, in words (not "[Errno 17] File exists"
    or "[Errno 20] Not a directory"), and the file in its place kept."""
    import mammoview.cad.pipeline as pipeline

    monkeypatch.setattr(
        pipeline, "analyse_image", lambda *a, **k: pytest.fail(f"analysed before the {option} folder was checked")
    )
    blocker = tmp_path / "out"
    if where == "a file":
        blocker.write_text("a file where the folder should be")
        target = blocker
    elif where == "a dead link":
        target = blocker
        target.symlink_to(tmp_path / "moved" / "away")
    else:
        blocker.write_text("a file where the folder should be")
        target = blocker / "sub"
    code = main(["detect", str(study_dir / "lcc.dcm"), "--json", str(tmp_path / "d.json"), "--quiet",
                 option, str(target)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and f"{option} {target}" in err and "Errno" not in err, err
    assert where == "a dead link" or blocker.read_text() == "a file where the folder should be"
    assert not (tmp_path / "d.json").exists()  # (no JSON listing each image as a result and an error)


def test_an_sr_that_cannot_be_written_is_reported_and_the_other_studies_still_get_theirs(
    models_dir, study_dir, tmp_path, capsys, monkeypatch
):
    """One study's SR failing to write (a disk error) is that study's problem, like a non-DICOM study."""
    import mammoview.cad.sr as sr

    real = sr.write_sr
    calls = []

    def flaky(doc, path, **kw):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real(doc, path, **kw)

    monkeypatch.setattr(sr, "write_sr", flaky)
    other = synthetic_breast(rows=600, cols=400, chest_wall="left", seed=9)
    write_dataset(
        mammo_dataset(other, "L", "MLO", pixel_spacing=(0.25, 0.25), study_uid="1.2.3.5", patient_id="OTHER"),
        study_dir / "second" / "lmlo.dcm",
    )  # a second study
    code = main(["detect", str(study_dir), "--json", str(tmp_path / "d.json"), "--quiet", "--threshold", "0.05",
                 "--sr", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "No space" in err
    assert len(calls) >= 2, f"the first failure stopped the other studies' SRs: {err}"


def test_grad_cam_heatmap_files_say_what_their_values_are(models_dir, study_dir, tmp_path):
    """With --cam gradcam the map beside the picture is saliency scaled to the image's peak probability, not a
    probability per cell: its .json said it was p(abnormal)."""
    heat = tmp_path / "heat"
    code = main(["detect", str(study_dir / "lcc.dcm"), "--json", str(tmp_path / "d.json"), "--heatmaps", str(heat),
                 "--cam", "gradcam", "--quiet"])  # fmt: skip
    assert code == 0
    grid = json.loads((heat / "lcc.json").read_text())
    assert grid["method"] == "gradcam" and grid["values"].startswith("Grad-CAM saliency")


@pytest.mark.parametrize("second", ["run", "run:best", "./run/"])
def test_ensemble_of_one_run_twice_is_refused(tmp_path, capsys, monkeypatch, second):
    """The same checkpoint twice is no ensemble: its 'mean of 2 networks' would be one network counted twice."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    rc = main(["ensemble", "run", second, "--name", "e", "--install-to", "models"])
    err = capsys.readouterr().err
    assert rc == 2 and "run twice" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "models").exists()
