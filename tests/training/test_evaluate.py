"""metrics.json / report.md writers, the comparison table, and evaluate end to end on toy inputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mammoview.training.froc import FrocCase, Mark, froc
from mammoview.training.metrics import patch_metrics
from mammoview.training.report import compare_table, metrics_report, read_metrics, to_jsonable, write_metrics
from mammoview.training.sources import Lesion


def _metrics(name: str, arch: str, acc_shift: float = 0.0) -> dict:
    probs = [[0.9, 0.05, 0.05, 0.1], [0.3, 0.6, 0.1, 0.8], [0.45, 0.2, 0.35, 0.4], [0.2 + acc_shift, 0.1, 0.7, 0.5]]
    labels = ["normal", "mass", "calcification", "calcification"]
    patch = patch_metrics(probs, labels, [None, True, None, None], ["cbis", "cbis", "mias", "magic5"])
    r = froc([FrocCase("a", (Lesion("mass", True, bbox=(0, 0, 9, 9), center=(5, 5)),), (Mark(4, 4, 0.9),))])
    return {
        "mammoview_evaluate": 1,
        "model": {"name": name, "arch": arch, "sha256": "ab" * 32, "params": 12345},
        "patches": {"dir": "/p", "split": "val"},
        "patch": patch,
        "detection": {
            "image_auc": {
                "abnormal_mias": {"auc": math.nan, "n_pos": 0, "n_neg": 3, "note": "undefined: no positive samples"}
            },
            "froc": {"cbis_mass": r.to_dict()},
            "notes": ["2 unreadable image(s) left out"],
        },
        "timing": {"ms_per_view_median": 123.4, "n_views": 5, "device": "cpu", "threads": 2},
        "notes": [],
    }


def test_metrics_json_is_strict_json_with_nulls(tmp_path):
    m = _metrics("m1", "paper_cnn")
    write_metrics(m, tmp_path / "metrics.json")
    text = (tmp_path / "metrics.json").read_text()
    assert "NaN" not in text
    back = read_metrics(tmp_path)  # a folder holding metrics.json works too
    assert back["detection"]["image_auc"]["abnormal_mias"]["auc"] is None
    assert back["detection"]["froc"]["cbis_mass"]["curve"]["threshold"][0] is None
    assert to_jsonable({"a": np.float32(0.5), "b": (1, np.int64(2))}) == {"a": 0.5, "b": [1, 2]}


def test_read_metrics_rejects_other_json(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="not a mammoview evaluate"):
        read_metrics(tmp_path / "x.json")


def test_report_has_every_section_and_explains_undefined(tmp_path):
    m = _metrics("m1", "paper_cnn")
    text = metrics_report(m)
    for heading in ("## Patch level", "## Image level", "## Localisation", "## Speed", "## Notes"):
        assert heading in text
    assert "| magic5 |" in text and "| all |" in text
    assert "n/a (undefined: no positive samples)" in text
    assert "[1.00, 1.00]" not in text  # AUC 1 on 2 cases: no zero-width interval
    assert "123 ms per view" in text
    # the same text from the JSON round trip (None instead of NaN)
    write_metrics(m, tmp_path / "metrics.json")
    assert metrics_report(read_metrics(tmp_path)) == text


def test_report_accuracy_cell_matches_metrics():
    m = _metrics("m1", "paper_cnn")
    acc = m["patch"]["three_way"]["accuracy"]
    row = next(line for line in metrics_report(m).splitlines() if line.startswith("| all |"))
    assert row.split("|")[3].strip() == f"{acc:.3f}"


def test_report_threshold_cell_keeps_the_digits_that_set_the_operating_point():
    """This CAD's thresholds lie at 0.97-0.99999 (the model card's 0.9709): three decimals read 0.971, or 1.000."""
    m = _metrics("m1", "paper_cnn")
    header = next(line for line in metrics_report(m).splitlines() if "threshold @1 FP/img" in line)
    column = header.split("|").index(" threshold @1 FP/img ")
    for threshold, shown in ((0.9709, "0.9709"), (0.99991, "0.99991"), (0.9999981, "0.9999981")):
        m["detection"]["froc"]["cbis_mass"]["threshold_at"]["1"] = threshold
        row = next(line for line in metrics_report(m).splitlines() if line.startswith("| cbis_mass |"))
        assert row.split("|")[column].strip() == shown


def test_compare_table_rows_and_columns(tmp_path):
    a, b = _metrics("run-a", "paper_cnn"), _metrics("run-b", "resnet", acc_shift=0.5)
    (tmp_path / "a").mkdir()
    write_metrics(a, tmp_path / "a" / "metrics.json")
    table = compare_table([tmp_path / "a", b])
    lines = table.splitlines()
    assert lines[0].startswith("| run | architecture | accuracy | precision | recall | AUC |")
    row_a = [c.strip() for c in lines[2].split("|")[1:-1]]
    row_b = [c.strip() for c in lines[3].split("|")[1:-1]]
    assert row_a[:2] == ["run-a", "paper_cnn"] and row_b[:2] == ["run-b", "resnet"]
    assert row_a[2] == f"{a['patch']['lesion_vs_normal']['accuracy']:.3f}"
    assert row_a[2] != row_b[2]  # acc_shift turned one calcification patch into a normal
    assert row_a[-2:] == ["12,345", "123"]
    assert row_a[header_index(lines[0], "FROC sens@1 CBIS")] == "1.000"
    assert row_a[header_index(lines[0], "FROC sens@1 MIAS")] == "n/a"
    with pytest.raises(ValueError, match="labels"):
        compare_table([a], labels=["x", "y"])


def header_index(header: str, name: str) -> int:
    return [c.strip() for c in header.split("|")[1:-1]].index(name)


def test_plots_are_written(tmp_path):
    from mammoview.training.plots import plot_confusion, plot_froc, plot_roc

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    paths = [
        plot_roc({"ok": (y, rng.normal(size=50) + y), "one class": ([1, 1], [0.1, 0.2])}, tmp_path / "roc.png", "r"),
        plot_froc({"x": froc([FrocCase("a", (), (Mark(1, 1, 0.5),))])}, tmp_path / "froc.png"),
        plot_confusion([[3, 1], [0, 2]], ["normal", "lesion"], tmp_path / "cm.png", "c"),
    ]
    for p in paths:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_columns_exist_in_metrics_json():
    # compare_table reads these paths: a renamed metrics.json key must fail here, not in the lead's table
    from mammoview.training.report import COMPARE_COLUMNS

    m = json.loads(json.dumps(to_jsonable(_metrics("m", "paper_cnn"))))
    m["detection"]["froc"]["mias"] = m["detection"]["froc"]["cbis_mass"]
    m["detection"]["image_auc"]["malignant_all"] = m["detection"]["image_auc"]["abnormal_mias"]
    for header, path in COMPARE_COLUMNS:
        node = m
        for k in path:
            assert k in node, (header, path)
            node = node[k]


# ---------------------------------------------------------------------------------------
# End to end: a synthetic data folder, a synthetic patch set and a random tiny model

PATCH = 32


def _fake_data(root: Path) -> Path:
    """A data folder shaped like ../shared/data: two CBIS patients, two MIAS patients (4 images)."""
    from PIL import Image

    from tests.synthetic import Blob, synthetic_breast

    cbis, mias = root / "cbis-ddsm-mass", root / "mini-mias"
    (cbis / "images").mkdir(parents=True)
    (mias / "images").mkdir(parents=True)
    rows = ["file,patient_id,laterality,view,n_boxes,n_csv_abn,boxes_xywh_800,pathologies,image_pathology"]
    for k, (pid, path) in enumerate((("P_00001", "MALIGNANT"), ("P_00002", "BENIGN"))):
        img = synthetic_breast(160, 160, blobs=(Blob(50, 80, 8),), seed=k, max_value=255, dtype=np.uint8)
        Image.fromarray(img).save(cbis / "images" / f"{pid[2:]}_LEFT_CC.jpg", quality=95)
        rows.append(f'images/{pid[2:]}_LEFT_CC.jpg,{pid},LEFT,CC,1,1,"[[40, 70, 20, 20]]",{path},{path}')
    (cbis / "boxes.csv").write_text("\n".join(rows) + "\n")
    labels = ["refnum,patient,background,abn_class,lesion_type,severity,x,y,radius,side"]
    for ref, patient, kind, sev, xyz in (
        ("mdb001", "mias001", "mass", "M", ("60", "90", "10")),
        ("mdb002", "mias001", "normal", "", ("", "", "")),
        ("mdb003", "mias002", "normal", "", ("", "", "")),
        ("mdb004", "mias002", "calcification", "B", ("70", "80", "12")),
    ):
        side = "right" if int(ref[-1]) % 2 else "left"
        wall = "right" if side == "right" else "left"
        blobs = (Blob(float(xyz[0]), float(xyz[1]), 6),) if xyz[0] else ()
        img = synthetic_breast(150, 150, chest_wall=wall, blobs=blobs, seed=int(ref[-1]), max_value=255, dtype=np.uint8)
        Image.fromarray(img).save(mias / "images" / f"{ref}.png")
        labels.append(f"{ref},{patient},F,X,{kind},{sev},{','.join(xyz)},{side}")
    (mias / "labels.csv").write_text("\n".join(labels) + "\n")
    return root


VAL = ("cbis:P_00001", "mias:mias001", "magic5:0001")
TRAIN = ("cbis:P_00002", "mias:mias002", "magic5:0002")


def _fake_patch_set(root: Path, rng: np.random.Generator) -> Path:
    from mammoview.cad.preprocess import PreprocessConfig
    from mammoview.training.extract import INDEX_COLUMNS

    root.mkdir(parents=True)
    rows, arrays = [], []
    for patient in VAL + TRAIN:
        source = patient.split(":")[0]
        labels = ("normal", "calcification") if source == "magic5" else ("normal", "mass", "calcification")
        for label in labels:
            for _ in range(3):
                size = 16 if source == "magic5" else PATCH
                x = np.zeros((1, PATCH, PATCH), np.uint8)
                o = (PATCH - size) // 2
                x[:, o : o + size, o : o + size] = rng.integers(0, 256, (1, size, size))
                arrays.append(x)
                mal = "" if label == "normal" or source == "magic5" else str(int(rng.integers(0, 2)))
                split = "val" if patient in VAL else "train"
                origin = "random" if label == "normal" else "lesion"
                values = [
                    len(rows),
                    source,
                    patient,
                    "img",
                    split,
                    label,
                    mal,
                    "10.00",
                    "10.00",
                    size,
                    "0.00",
                    "",
                    origin,
                ]
                rows.append(dict(zip(INDEX_COLUMNS, values, strict=True)))
    np.save(root / "patches.npy", np.stack(arrays))
    with open(root / "index.csv", "w") as fh:
        fh.write(",".join(INDEX_COLUMNS) + "\n")
        fh.writelines(",".join(str(r[c]) for c in INDEX_COLUMNS) + "\n" for r in rows)
    (root / "split.json").write_text(json.dumps({"unit": "patient", "patients": {"train": TRAIN, "val": VAL}}))
    cfg = PreprocessConfig()
    manifest = {
        "sources": ["cbis", "mias", "magic5"],
        "pixel_size_mm": cfg.pixel_size_mm,
        "patch_size": PATCH,
        "channels": 1,
        "preprocessing": cfg.to_dict(),
        "quantization": {"clip": cfg.clip},
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture()
def setup(tmp_path, rng):
    weights = pytest.importorskip("mammoview.cad.weights", reason="the CAD engineer's weights module")
    if not hasattr(weights, "save_model"):
        pytest.skip("mammoview.cad.weights.save_model not available yet")
    from mammoview.cad.preprocess import PreprocessConfig
    from mammoview.cad.registry import create_model

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = create_model("paper_cnn", widths=(4, 4, 4, 4))
    entry = weights.ModelEntry(
        name="tiny-random",
        arch="paper_cnn",
        arch_kwargs={"widths": [4, 4, 4, 4]},
        patch_size=PATCH,
        preprocessing=PreprocessConfig().to_dict(),
        finding_threshold=0.0,  # a random net: keep every region so the FROC has marks to score
    )
    weights.save_model(net.eval(), entry, tmp_path / "models")
    return {
        "data": _fake_data(tmp_path / "data"),
        "patches": _fake_patch_set(tmp_path / "patches", rng),
        "models": tmp_path / "models",
        "out": tmp_path / "eval",
    }


def _cli(*argv: str) -> int:
    from mammoview.cli import main

    return main(list(argv))


def test_evaluate_end_to_end_through_detect(setup, capsys):
    s = setup
    code = _cli(
        "evaluate",
        "--models-dir",
        str(s["models"]),
        "--patches",
        str(s["patches"]),
        "--out",
        str(s["out"]),
        "--data",
        str(s["data"]),
        "--device",
        "cpu",
        "--timing-views",
        "2",
        "--quiet",
    )
    assert code == 0, capsys.readouterr().err
    out = s["out"]
    for name in ("metrics.json", "report.md", "roc_patches.png", "confusion_3way.png", "roc_images.png", "froc.png"):
        assert (out / name).is_file(), name
    m = read_metrics(out)
    # patch level: exactly the validation rows (3 patients x classes x 3), no training patch
    assert m["patch"]["n"] == 2 * 9 + 6
    assert m["patch"]["by_source"]["magic5"]["counts"] == {"calcification": 3, "normal": 3}
    assert m["patch"]["n_patients"] == 3
    # detect ran on the validation images only, and its own JSON was what got scored
    scored = {Path(e["path"]).name for f in out.glob("detections-*.json") for e in json.loads(f.read_text())["images"]}
    assert scored == {"00001_LEFT_CC.jpg", "mdb001.png", "mdb002.png"}
    det = m["detection"]
    assert det["counts"]["scored"] == 3 and det["counts"]["not_validation"] == 0
    assert det["image_auc"]["abnormal_mias"]["n_pos"] == 1 and det["image_auc"]["abnormal_mias"]["n_neg"] == 1
    assert det["froc"]["cbis_mass"]["n_lesions"] == 1 and det["froc"]["mias"]["n_images"] == 2
    assert m["timing"]["n_views"] == 2 and m["timing"]["ms_per_view_median"] > 0
    assert m["model"]["params"] > 0 and m["model"]["arch"] == "paper_cnn"


def test_all_images_evaluates_a_held_out_folder_and_names_trained_patients(setup, capsys):
    """--all-images: every image of --data (a test set in the shared data's layout), patches optional."""
    import shutil

    s = setup
    test_data = s["data"].parent / "test-data"  # a held-out set: only its CBIS part, new names
    (test_data / "cbis-ddsm-mass").mkdir(parents=True)
    shutil.copytree(s["data"] / "cbis-ddsm-mass" / "images", test_data / "cbis-ddsm-mass" / "images")
    boxes = (s["data"] / "cbis-ddsm-mass" / "boxes.csv").read_text()
    (test_data / "cbis-ddsm-mass" / "boxes.csv").write_text(boxes)
    base = ("evaluate", "--models-dir", str(s["models"]), "--data", str(test_data), "--device", "cpu",
            "--timing-views", "0", "--quiet", "--all-images")  # fmt: skip
    assert _cli(*base, "--out", str(s["out"])) == 0, capsys.readouterr().err
    m = read_metrics(s["out"])
    assert "patch" not in m and m["images"]["n_patients"] == 2 and m["detection"]["counts"]["scored"] == 2
    assert "timing" not in m  # --timing-views 0: no timing (one view was still timed)
    scored = {Path(e["path"]).name for e in json.loads((s["out"] / "detections-cbis.json").read_text())["images"]}
    assert scored == {"00001_LEFT_CC.jpg", "00002_LEFT_CC.jpg"}  # both patients, not only a validation side
    assert m["detection"]["froc"]["cbis_mass"]["n_lesions"] == 2 and not m["notes"]
    text = (s["out"] / "report.md").read_text()
    assert "## Image level (every image of" in text
    assert f"every image of `{test_data}`, no patch set" in text and "`None`" not in text  # read 'patch set `None`'
    # with the patch set: its patch level, and the patient it trained on is named
    out2 = s["out"].parent / "eval2"
    assert _cli(*base, "--out", str(out2), "--patches", str(s["patches"])) == 0
    m2 = read_metrics(out2)
    assert m2["patch"]["n"] > 0
    assert any("1 of the 2 patients" in n and "not a held-out test" in n for n in m2["notes"]), m2["notes"]
    capsys.readouterr()
    empty = s["data"].parent / "none"
    empty.mkdir()
    assert _cli("evaluate", "--models-dir", str(s["models"]), "--data", str(empty), "--all-images", "--quiet",
                "--out", str(out2)) == 1  # fmt: skip
    assert "neither cbis-ddsm-mass/ nor mini-mias/" in capsys.readouterr().err


def test_patch_auc_matches_the_network_outputs(setup):
    """The patch AUC in metrics.json is the Mann-Whitney AUC of the network's own p(normal)."""
    import torch

    from mammoview.cad.weights import load_model
    from mammoview.training.datasets import PatchSet
    from mammoview.training.eval_inputs import EvaluateOptions
    from mammoview.training.eval_model import model_summary
    from mammoview.training.evaluate import evaluate
    from mammoview.training.metrics import roc_auc

    s = setup
    loaded = load_model(None, s["models"], "cpu")
    opts = EvaluateOptions(out=s["out"], patches=s["patches"], data_dir=s["data"])
    m = evaluate(opts, module=loaded.model, model_info=model_summary(loaded))
    ps = PatchSet(s["patches"])
    y, p_abn = [], []
    for idx in ps.groups(ps.split("val")).values():
        x, _, _ = ps.tensors(idx)
        with torch.no_grad():
            p_abn += (1 - torch.softmax(loaded.model(x)[:, :3], 1)[:, 0]).tolist()
        y += [ps.labels[i] != "normal" for i in idx]
    assert m["patch"]["auc"]["lesion_vs_normal"]["auc"] == pytest.approx(roc_auc(y, p_abn).auc, abs=1e-9)
    assert "detection" not in m  # no detect callable, no --detections: skipped and said so
    assert any("FROC skipped" in n for n in m["notes"])


def test_detections_rescored_and_training_images_refused(setup):
    s = setup
    assert (
        _cli(
            "evaluate",
            "--models-dir",
            str(s["models"]),
            "--patches",
            str(s["patches"]),
            "--out",
            str(s["out"]),
            "--data",
            str(s["data"]),
            "--device",
            "cpu",
            "--timing-views",
            "1",
            "--quiet",
        )
        == 0
    )
    first = read_metrics(s["out"])
    # a detect JSON that also covers a training patient's image: scored without it
    docs = [json.loads(f.read_text()) for f in sorted(s["out"].glob("detections-*.json"))]
    leak = dict(docs[0]["images"][0], path=str(s["data"] / "mini-mias" / "images" / "mdb003.png"))
    docs[0]["images"].append(leak)
    paths = []
    for k, d in enumerate(docs):
        paths.append(s["out"].parent / f"det{k}.json")
        paths[-1].write_text(json.dumps(d))
    out2 = s["out"].parent / "eval2"
    assert (
        _cli(
            "evaluate",
            "--models-dir",
            str(s["models"]),
            "--patches",
            str(s["patches"]),
            "--out",
            str(out2),
            "--data",
            str(s["data"]),
            "--no-detect",
            "--quiet",
            "--detections",
            *map(str, paths),
        )
        == 0
    )
    second = read_metrics(out2)
    assert second["detection"]["counts"]["not_validation"] == 1
    assert second["detection"]["froc"] == first["detection"]["froc"]
    assert second["detection"]["image_auc"] == first["detection"]["image_auc"]
    assert "timing" not in second
    # the same files without a model: detection scored, patch level skipped
    out3 = s["out"].parent / "eval3"
    assert (
        _cli(
            "evaluate",
            "--patches",
            str(s["patches"]),
            "--out",
            str(out3),
            "--data",
            str(s["data"]),
            "--quiet",
            "--detections",
            *map(str, paths),
        )
        == 0
    )
    third = read_metrics(out3)
    assert "patch" not in third and third["detection"]["froc"] == first["detection"]["froc"]
    assert third["model"]["name"] == "tiny-random"
    assert not any("not scored" in n for n in third["notes"])
    # one of the two files only: the uncovered validation images are reported, not silently dropped
    from mammoview.training.eval_inputs import EvaluateOptions
    from mammoview.training.evaluate import evaluate

    partial = evaluate(
        EvaluateOptions(out=out3, patches=s["patches"], data_dir=s["data"], detections=(paths[0],)),
        module=None,
        model_info={},
    )
    val_names = {"00001_LEFT_CC.jpg", "mdb001.png", "mdb002.png"}
    covered = sum(Path(e["path"]).name in val_names for e in docs[0]["images"])
    assert 0 < covered < 3
    assert any(f"{3 - covered} of 3 validation image(s) not scored" in n for n in partial["notes"])


def test_compare_cli_prints_the_table(setup, capsys, tmp_path):
    a, b = _metrics("run-a", "paper_cnn"), _metrics("run-b", "resnet")
    write_metrics(a, tmp_path / "a.json")
    write_metrics(b, tmp_path / "b.json")
    md = tmp_path / "table.md"
    assert _cli("evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(md)) == 0
    printed = capsys.readouterr().out
    assert "| run-a | paper_cnn |" in printed and "| run-b | resnet |" in printed
    assert md.read_text() == printed


def test_weights_run_folder_is_installed_and_detected_with(setup):
    """``--weights RUNDIR`` (a `mammoview train` run): installed by the training code, then detect uses it."""
    install = pytest.importorskip("mammoview.training.install", reason="the training engineer's installer")
    import torch
    from safetensors.torch import save_file

    from mammoview.cad.preprocess import PreprocessConfig
    from mammoview.cad.registry import create_model

    s = setup
    run = s["out"].parent / "run-7"
    (run / "checkpoints").mkdir(parents=True)
    torch.manual_seed(1)
    net = create_model("paper_cnn", widths=(4, 4, 8, 8))
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(run / "checkpoints" / "best.safetensors"))
    summary = {
        "config": {"arch": "paper_cnn", "arch_kwargs": {"widths": [4, 4, 8, 8]}},
        "patch_manifest": {
            "pixel_size_mm": 0.3,
            "patch_size": PATCH,
            "channels": 1,
            "preprocessing": PreprocessConfig().to_dict(),
        },
    }
    (run / "summary.json").write_text(json.dumps(summary))
    assert install.model_entry("x", summary).arch == "paper_cnn"
    assert install.model_entry("x", summary).task == "detection"
    assert install.model_entry("x", summary, install.InstallOptions(task="malignancy")).task == "malignancy"
    out = s["out"].parent / "eval-run"
    assert (
        _cli(
            "evaluate",
            "--weights",
            str(run),
            "--patches",
            str(s["patches"]),
            "--out",
            str(out),
            "--data",
            str(s["data"]),
            "--device",
            "cpu",
            "--timing-views",
            "1",
            "--quiet",
        )
        == 0
    )
    m = read_metrics(out)
    assert m["model"]["name"] == "run-run-7"
    assert m["model"]["params"] == sum(p.numel() for p in net.parameters())
    docs = [json.loads(f.read_text()) for f in out.glob("detections-*.json")]
    assert {d["model"]["sha256"] for d in docs} == {m["model"]["sha256"]}  # detect ran these very weights


def test_early_stopping_monitors():
    from mammoview.training.validate import monitor_value

    val = {
        "summary": {
            "val_loss": 0.7,
            "val_bal_acc": 0.6,
            "val_auc_lesion": 0.9,
            "val_auc_mass_calc": float("nan"),
            "val_auc_malignant": 0.65,
        }
    }
    assert monitor_value(val, "auc") == 0.9 and monitor_value(val, "loss") == -0.7
    assert monitor_value(val, "combined") == 0.45  # NaN part counts as 0
    assert monitor_value(val, "malignant_auc") == 0.65
    with pytest.raises(ValueError, match="unknown monitor"):
        monitor_value(val, "f1")


@pytest.mark.parametrize("option", ["--max-images", "--batch-size", "--froc-max-findings"])
@pytest.mark.parametrize("value", ["-3", "0"])
def test_counts_below_one_are_refused(option, value, capsys):
    """`--max-images -3` was accepted and scored every image but the last 3 (a slice ``[:-3]``); 0 skipped the image
    level without a note."""
    from mammoview.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["evaluate", option, value, "--no-detect"])
    assert exc.value.code == 2
    assert f"must be >= 1, got {value}" in capsys.readouterr().err


def test_patch_probabilities_with_the_mirror_pass_average_the_logits_of_a_patch_and_its_mirror_image():
    """A model that reads whole images with its mirror pass (test_time_flip) is measured so on patches too."""
    import torch

    from mammoview.training.eval_patches import patch_probabilities

    class LeftRight(torch.nn.Module):  # normal / mass logits: the left half's mean, the right half's
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            w = x.shape[-1] // 2
            left, right = x[..., :w].mean(dim=(1, 2, 3)), x[..., w:].mean(dim=(1, 2, 3))
            return torch.stack([left, right, torch.zeros_like(left), torch.zeros_like(left)], dim=1)

    x = np.zeros((2, 1, 8, 8), np.float32)
    x[0, ..., :4] = 3.0  # bright on the left: "normal"
    x[1, ..., 4:] = 3.0  # bright on the right: "mass"
    plain = patch_probabilities(LeftRight(), x)
    assert plain[0, 0] > 0.9 and plain[1, 1] > 0.9
    mirrored = patch_probabilities(LeftRight(), x, flip=True)  # each one's mirror says the opposite: undecided
    np.testing.assert_allclose(mirrored[:, 0], mirrored[:, 1], atol=1e-12)
    e = math.exp(1.5)  # logits (1.5, 1.5, 0): the mean of (3, 0, 0) and (0, 3, 0)
    np.testing.assert_allclose(mirrored[:, 0], e / (2 * e + 1), rtol=1e-6)
