"""Training commands on bad or unusual input: label files a hand or a spreadsheet touched, damaged patch sets and
output folders. Each case ends as one line naming the file and the problem, or is read as the user meant it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

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


@pytest.mark.parametrize(
    "folder, name, columns, drop",
    [
        ("cbis-ddsm-mass", "boxes.csv", CBIS_COLUMNS, "patient_id"),
        ("cbis-ddsm-mass", "boxes.csv", CBIS_COLUMNS, "boxes_xywh_800"),
        ("mini-mias", "labels.csv", MIAS_COLUMNS, "patient"),
        ("mini-mias", "labels.csv", MIAS_COLUMNS, "radius"),
    ],
)
def test_a_label_file_without_a_column_is_named_with_the_column(tmp_path, capsys, folder, name, columns, drop):
    """A labels file missing a column ended as "extract-patches: error: 'patient_id'" (a KeyError: no file)."""
    rows = cbis_rows(["P_00001"]) if folder.startswith("cbis") else [{"refnum": "mdb001", "patient": "mias001"}]
    write_csv(tmp_path / folder / name, rows, [c for c in columns if c != drop])
    code = _cli("extract-patches", "--out", str(tmp_path / "p"), "--data", str(tmp_path),
                "--sources", "cbis" if folder.startswith("cbis") else "mias", "--quiet")  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and name in err and drop in err and "Traceback" not in err, err
    assert err.count("\n") == 1, err
    assert not (tmp_path / "p").exists()  # an extraction that failed left an empty --out folder


def test_a_label_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    """A spreadsheet's 'CSV UTF-8' starts with a byte-order mark: its first column ('file', 'refnum') was not found."""
    boxes = write_csv(tmp_path / "cbis-ddsm-mass" / "boxes.csv", cbis_rows(["P_00001"]), CBIS_COLUMNS)
    boxes.write_bytes(b"\xef\xbb\xbf" + boxes.read_bytes())
    row = {"refnum": "mdb001", "patient": "mias001", "lesion_type": "normal", "side": "right"}
    labels = write_csv(tmp_path / "mini-mias" / "labels.csv", [row], MIAS_COLUMNS)
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())
    assert [im.image_id for im in cbis_images(tmp_path)] == ["00000_LEFT_CC"]
    assert [im.image_id for im in mias_images(tmp_path)] == ["mdb001"]


@pytest.mark.parametrize(
    "pathologies, image, expected",
    [
        ("BENIGN|BENIGN_WITHOUT_CALLBACK", "BENIGN", False),
        ("BENIGN_WITHOUT_CALLBACK|BENIGN", "BENIGN", False),
        ("MALIGNANT|MALIGNANT", "MALIGNANT", True),
        ("BENIGN|MALIGNANT", "MALIGNANT", None),
    ],
)
def test_the_masses_of_an_image_with_benign_ones_of_both_kinds_are_benign(tmp_path, pathologies, image, expected):
    """BENIGN_WITHOUT_CALLBACK is benign (the data README): an image whose masses were BENIGN and
    BENIGN_WITHOUT_CALLBACK had each box's pathology unknown, as if the order of benign and malignant boxes mattered."""
    row = {**cbis_rows(["P_00001"], "[[100, 200, 50, 40], [300, 400, 30, 30]]")[0], "n_boxes": "2", "n_csv_abn": "2",
           "pathologies": pathologies, "image_pathology": image}  # fmt: skip
    write_csv(tmp_path / "cbis-ddsm-mass" / "boxes.csv", [row], CBIS_COLUMNS)
    (im,) = cbis_images(tmp_path)
    assert [les.malignant for les in im.lesions] == [expected, expected]


def _cli(*argv: str) -> int:
    from mammoview.cli import main

    return main(list(argv))


@pytest.mark.parametrize("box", ["[[NaN, 200, 50, 40]]", "[[100, 200, Infinity, 40]]", "[[100, -Infinity, 50, 40]]"])
def test_a_box_that_is_not_a_number_is_named(tmp_path, box):
    """JSON reads NaN and Infinity: such a box passed the check and extract-patches ended much later with
    'error: cannot convert float NaN to integer' (no file, no image)."""
    write_csv(tmp_path / "cbis-ddsm-mass" / "boxes.csv", cbis_rows(["P_00001"], box), CBIS_COLUMNS)
    with pytest.raises(ValueError, match=r"boxes\.csv line 2 \(images/00000_LEFT_CC\.jpg\)"):
        cbis_images(tmp_path)


@pytest.mark.parametrize("xyr", [("nan", "200", "10"), ("100", "inf", "10"), ("100", "200", "inf")])
def test_a_mias_centre_or_radius_that_is_not_a_number_is_named(tmp_path, xyr):
    x, y, r = xyr
    row = {"refnum": "mdb001", "patient": "mias001", "lesion_type": "mass", "severity": "B", "x": x, "y": y,
           "radius": r, "side": "right"}  # fmt: skip
    write_csv(tmp_path / "mini-mias" / "labels.csv", [row], MIAS_COLUMNS)
    with pytest.raises(ValueError, match=r"labels\.csv \(mdb001\)"):
        mias_images(tmp_path)


def tiny_patch_set(root: Path) -> Path:
    """A hand-made patch set of four 8 px patches (two patients), as extract-patches lays one out."""
    from mammoview.training.extract import INDEX_COLUMNS

    root.mkdir(parents=True)
    np.save(root / "patches.npy", np.zeros((4, 1, 8, 8), np.uint8))
    rows = [{"id": i, "source": "cbis", "patient": f"cbis:P_0000{i // 2}", "image_id": f"{i // 2:05d}_LEFT_CC",
             "split": "train" if i < 2 else "val", "label": "normal" if i % 2 else "mass", "malignant": "",
             "cx": "1.00", "cy": "2.00", "size_px": 8, "jitter": "0.00", "lesion_box": "", "origin": "random"}
            for i in range(4)]  # fmt: skip
    write_csv(root / "index.csv", rows, list(INDEX_COLUMNS))
    manifest = {"quantization": {"clip": 4.0}, "patch_size": 8, "pixel_size_mm": 1.0, "preprocessing": {}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    split = {"patients": {"train": ["cbis:P_00000"], "val": ["cbis:P_00001"]}}
    (root / "split.json").write_text(json.dumps(split))
    return root


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("size_px", "size"),  # a column renamed
        lambda t: t.replace(",8,0.00,", ",eight,0.00,", 1),  # not a number
        lambda t: t[: t.index("\n", t.index("\n") + 1) + 30],  # cut short inside its second row
    ],
    ids=["column", "number", "cut"],
)
def test_a_damaged_index_csv_is_named(tmp_path, edit):
    """PatchSet ended as "train: error: 'size_px'" or "invalid literal for int() with base 10: 'eight'"."""
    from mammoview.training.datasets import PatchSet

    root = tiny_patch_set(tmp_path / "ps")
    PatchSet(root)
    (root / "index.csv").write_text(edit((root / "index.csv").read_text()))
    with pytest.raises(ValueError, match=r"index\.csv"):
        PatchSet(root)


@pytest.mark.parametrize(
    "doc",
    ["{}", '{"patients": ["cbis:P_00000"]}', '{"patients": {"val": "cbis:P_00001"}}', "[]",
     # a list of another name: its CBIS patients were counted as mini-MIAS test images by train-density's metrics
     '{"patients": {"train": ["cbis:P_00000"], "val": [], "test": ["cbis:P_00001"]}}'],
)  # fmt: skip
def test_a_split_json_of_another_shape_is_named(tmp_path, doc):
    """A split.json without its 'patients' lists ended as "train: error: 'patients'"."""
    from mammoview.training.datasets import PatchSet
    from mammoview.training.split import load_split

    root = tiny_patch_set(tmp_path / "ps")
    (root / "split.json").write_text(doc)
    with pytest.raises(ValueError, match=r"split\.json"):
        PatchSet(root)
    with pytest.raises(ValueError, match=r"split\.json"):
        load_split(root / "split.json")


@pytest.mark.parametrize(
    "argv",
    [
        ["extract-patches", "--data", "{d}", "--out", "{out}"],
        ["train", "--patches", "{d}", "--out", "{out}"],
        ["train", "--patches", "{d}", "--out", "{d}/run", "--install-to", "{out}"],
        ["evaluate", "--weights", "{d}", "--patches", "{d}", "--out", "{out}", "--no-detect"],
        ["ensemble", "{d}", "--name", "e", "--install-to", "{out}"],
        ["train-density", "--split", "{d}/split.json", "--out", "{out}"],
    ],
    ids=lambda a: f"{a[0]}-{a[-2] if a[-1] == '{out}' else a[-3]}",
)
@pytest.mark.parametrize("where", ["file", "under-file"])
def test_an_output_folder_that_is_a_file_is_refused_before_any_work(tmp_path, capsys, argv, where):
    """train --out FILE said 'error: [Errno 17] File exists: ...' (ensemble --install-to, extract-patches too;
    evaluate '[Errno 20] Not a directory: .../model'), and train --install-to FILE only after the whole training."""
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    out = afile if where == "file" else afile / "sub"
    code = _cli(*(a.format(d=tmp_path / "nothing", out=out) for a in argv))
    err = capsys.readouterr().err
    assert code != 0 and str(out) in err and "Errno" not in err and "Traceback" not in err, err
    assert afile.read_text() == "not a folder"


def test_a_run_that_cannot_start_keeps_the_run_it_would_overwrite(tmp_path, capsys):
    """train --overwrite removed the folder's run (summary, config, checkpoints) before reading --patches: a patch
    set it could not train on cost the old run and started nothing."""
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    kept = {run / "summary.json": "{}", run / "config.json": '{"arch": "old"}', run / "checkpoints" / "last.json": "{}"}
    for path, text in kept.items():
        path.write_text(text)
    code = _cli("train", "--patches", str(tmp_path / "no-patches"), "--out", str(run), "--overwrite", "--quiet")
    assert code != 0 and "no-patches" in capsys.readouterr().err
    assert {p: p.read_text() for p in kept if p.exists()} == kept


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_that_cannot_start_leaves_no_folder(tmp_path, capsys, resume):
    """A fresh run on a missing patch set (or a --resume of a folder holding no run: a typo) left RUNDIR with a
    config.json and nothing else; a later --resume there read that config."""
    run = tmp_path / "run"
    code = _cli("train", "--patches", str(tiny_patch_set(tmp_path / "ps") if resume else tmp_path / "none"),
                "--out", str(run), "--quiet", *(["--resume"] if resume else []))  # fmt: skip
    assert code != 0 and "Traceback" not in capsys.readouterr().err
    assert not run.exists()


def test_one_unreadable_image_among_many_is_skipped_said_and_counted(tmp_path, capsys):
    """A missing or truncated image ended the whole extraction ('error: ...: truncated JPEG'), after every image
    before it had been cut: it is skipped, named on stderr and in the manifest, and counted at the end."""
    from tests.training.test_extract import make_fake_data

    data = make_fake_data(tmp_path / "data", n_cbis=3, n_mias=2, n_magic=2)
    bad = data / "cbis-ddsm-mass" / "images" / "00001_LEFT_CC.jpg"
    bad.write_bytes(bad.read_bytes()[:2000])
    (data / "mini-mias" / "images" / "mdb002.png").unlink()
    out = tmp_path / "p"
    code = _cli("extract-patches", "--data", str(data), "--out", str(out), "--patch-size", "48", "--quiet")
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, err
    assert "2 of 7 files" in err and "00001_LEFT_CC.jpg" in err and "mdb002.png" in err, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert [Path(s.split(": ")[0]).name for s in manifest["skipped_images"]] == ["00001_LEFT_CC.jpg", "mdb002.png"]
    ids = (out / "index.csv").read_text()
    assert "00000_LEFT_MLO" in ids and "00001_LEFT_CC" not in ids and "mdb002" not in ids


def test_an_extraction_that_can_read_no_image_fails(tmp_path, capsys):
    from tests.training.test_extract import make_fake_data

    data = make_fake_data(tmp_path / "data", n_cbis=2, n_mias=1, n_magic=1)
    for image in (data / "cbis-ddsm-mass" / "images").iterdir():
        image.unlink()
    code = _cli("extract-patches", "--data", str(data), "--out", str(tmp_path / "p"), "--sources", "cbis", "--quiet")
    err = capsys.readouterr().err
    assert code == 1 and "00000_LEFT_MLO.jpg" in err and "Traceback" not in err, err
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("option", ["--epochs", "--threads"])
def test_train_density_refuses_no_epochs_as_a_usage_error(tmp_path, capsys, option):
    """train-density --epochs 0 read every image, then said 'error: Expected positive integer total_steps, but got
    0'; --threads 0 was taken too."""
    with pytest.raises(SystemExit) as exc:
        _cli("train-density", "--split", str(tmp_path / "split.json"), "--out", str(tmp_path / "d"), option, "0")
    assert exc.value.code == 2 and option in capsys.readouterr().err


@pytest.mark.parametrize(("text", "said"), [("{\"detection\": ", "not readable JSON"), ("[1, 2]", "not a")],
                         ids=["cut-short", "a-list"])  # fmt: skip
def test_a_damaged_metrics_or_detect_json_is_named(tmp_path, capsys, text, said):
    """retune --threshold-from and evaluate --detections read their JSON with json.loads: 'error: Expecting value:
    line 2 column 1' or "'list' object has no attribute 'get'", naming no file."""
    from mammoview.cli import main

    bad = tmp_path / "metrics.json"
    bad.write_text(text)
    models = tmp_path / "models"
    models.mkdir()
    argvs = [
        ["retune", "m", "--models-dir", str(models), "--model-version", "1.0.1", "--threshold-from", str(bad)],
        ["evaluate", "--detections", str(bad), "--out", str(tmp_path / "ev"), "--all-images"],
    ]
    for argv in argvs:
        assert main(argv) != 0
        err = capsys.readouterr().err.strip()
        assert str(bad) in err and said in err and "\n" not in err, argv


def test_a_patch_set_or_checkpoint_json_of_another_shape_is_named(tmp_path):
    """A manifest.json or last.json holding a list (valid JSON, another file's shape) said "'list' object has no
    attribute 'get'", naming no file."""
    from mammoview.training.checkpoint import load_checkpoint
    from mammoview.training.datasets import PatchSet

    patches = tmp_path / "patches"
    patches.mkdir()
    (patches / "manifest.json").write_text("[]")
    (patches / "index.csv").write_text("id\n")
    (patches / "patches.npy").write_bytes(b"")
    with pytest.raises(ValueError, match=r"manifest\.json: not the file it should be \(a JSON list"):
        PatchSet(patches)
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.json").write_text("[1]")
    with pytest.raises(ValueError, match=r"last\.json: not the file it should be"):
        load_checkpoint(run, "last", model=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "12"])
def test_train_density_refuses_a_pixel_size_no_density_model_can_have_as_a_usage_error(tmp_path, capsys, value):
    """train-density --pixel-size 0 said 'error: float division by zero', nan 'cannot convert float NaN to integer',
    -1 'negative dimensions are not allowed' and inf a convolution's kernel size error after reading every image;
    12 trained and installed a model that never loads ('preprocessing pixel_size_mm 12.0 out of range')."""
    with pytest.raises(SystemExit) as exc:
        _cli("train-density", "--split", str(tmp_path / "split.json"), "--out", str(tmp_path / "d"),
             f"--pixel-size={value}")  # fmt: skip
    assert exc.value.code == 2 and "--pixel-size" in capsys.readouterr().err


@pytest.mark.parametrize(("csv_file", "header", "row", "said"), [
    ("cbis-ddsm-mass/mass_case_description_train_set.csv", "patient_id,breast_density,left or right breast,image view",
     "P_00001,,LEFT,CC", r"mass_case_description_train_set\.csv line 2: breast_density ''"),
    ("mini-mias/labels.csv", "refnum,background", "mdb001,f", r"labels\.csv \(mdb001\): background 'f'"),
], ids=["cbis-blank", "mias-lowercase"])  # fmt: skip
def test_an_odd_density_label_is_named_with_its_file(tmp_path, csv_file, header, row, said):
    """train-density said 'error: invalid literal for int() with base 10: ''' of a blank CBIS breast_density and
    "error: 'f'" of a mini-MIAS background f, naming neither the file nor the row."""
    from mammoview.training.density import DensityConfig, load_data

    files = {"cbis-ddsm-mass/mass_case_description_train_set.csv": "patient_id,breast_density,left or right breast,"
             "image view\nP_00001,2,LEFT,CC\n", "mini-mias/labels.csv": "refnum,background\nmdb001,F\n"}  # fmt: skip
    files[csv_file] = f"{header}\n{row}\n"
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "split.json").write_text('{"patients": {"train": ["cbis:P_00001"], "val": []}}')
    with pytest.raises(ValueError, match=said):
        load_data(DensityConfig(), tmp_path / "split.json", tmp_path, progress=False)


def test_a_skipped_images_name_is_said_escaped(tmp_path, capsys):
    """extract-patches said each unreadable file as 'skipped PATH: REASON' with PATH raw: a data folder or file name
    holding ESC [2J cleared the terminal (detect's lines are escaped, terminal_text). The manifest keeps the path."""
    from tests.training.test_extract import make_fake_data

    data = make_fake_data(tmp_path / "data\x1b[2J", n_cbis=2, n_mias=2, n_magic=1)
    (data / "mini-mias" / "images" / "mdb002.png").unlink()
    out = tmp_path / "p"
    code = _cli("extract-patches", "--data", str(data), "--out", str(out), "--patch-size", "48", "--quiet")
    err = capsys.readouterr().err
    assert code == 1 and "\x1b" not in err, repr(err)
    assert "skipped " in err and "data\\x1b[2J" in err, repr(err)
    (skipped,) = json.loads((out / "manifest.json").read_text())["skipped_images"]
    assert skipped.startswith(str(data / "mini-mias" / "images" / "mdb002.png")), skipped
