"""`mammoview evaluate --out DIR` where DIR holds an earlier evaluation: one evaluation's files, never two mixed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mammoview.training.eval_model import INSTALLED_KEY, STAGED_MARK
from tests.training.test_run_integrity import _cli, _train, two_sets  # noqa: F401  (fixture)


def test_an_evaluation_replaces_an_earlier_ones_files_and_says_so(two_sets, tmp_path, capsys):  # noqa: F811
    """A --no-detect evaluation into the folder of a whole one left that one's froc.png, roc_images.png and
    detections-*.json beside its own metrics.json and report.md, as though they measured the new model."""
    a, _ = two_sets
    assert _train(a, tmp_path / "run", "--epochs", "1") == 0
    ev = tmp_path / "ev"
    ev.mkdir()
    earlier = ["froc.png", "roc_images.png", "detections-cbis.json", "metrics.json", "report.md"]
    for name in earlier:
        (ev / name).write_text("an earlier evaluation of another model")
    (ev / "notes.txt").write_text("the user's own file")
    capsys.readouterr()
    code = _cli("evaluate", "--weights", str(tmp_path / "run"), "--patches", str(a), "--out", str(ev),
                "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert not (ev / "froc.png").exists() and not (ev / "roc_images.png").exists()
    assert not (ev / "detections-cbis.json").exists()
    assert json.loads((ev / "metrics.json").read_text())["patch"]["n"] > 0 and (ev / "roc_patches.png").is_file()
    assert (ev / "notes.txt").read_text() == "the user's own file"
    assert f"replacing the evaluation in {ev}" in err and "froc.png" in err, err


def test_detections_being_scored_are_kept(tmp_path):
    """`evaluate --detections DIR/detections-cbis.json --out DIR` re-scores an earlier run's detect output: that
    input is not an earlier result to clear."""
    from mammoview.training.evaluate import clear_evaluation

    (tmp_path / "detections-cbis.json").write_text("{}")
    (tmp_path / "detections-mias.json").write_text("{}")
    (tmp_path / "metrics.json").write_text("{}")
    gone = clear_evaluation(tmp_path, keep=[tmp_path / "detections-cbis.json"])
    assert sorted(gone) == ["detections-mias.json", "metrics.json"]
    assert (tmp_path / "detections-cbis.json").is_file()


def test_a_refused_evaluation_installs_nothing_into_its_out_folder(two_sets, tmp_path, capsys):  # noqa: F811
    """`evaluate --weights RUN --patches NOT_A_SET --out EV` installed the run into EV/model before it read the patch
    set: the refusal left a folder holding only model/, which looks like an evaluation that went wrong."""
    a, _ = two_sets
    assert _train(a, tmp_path / "run", "--epochs", "1") == 0
    ev = tmp_path / "ev"
    capsys.readouterr()
    code = _cli("evaluate", "--weights", str(tmp_path / "run"), "--patches", str(tmp_path / "no_such_set"),
                "--out", str(ev), "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "no_such_set" in err, err
    assert not ev.exists(), sorted(p.name for p in ev.rglob("*"))


def test_evaluations_of_two_runs_into_one_out_folder_keep_one_model(two_sets, tmp_path, capsys):  # noqa: F811
    """Each run evaluated into the same --out added its own entry and weights file under OUT/model/ (run-r1, run-r2,
    ...), beside a metrics.json that measures only the last: OUT holds one evaluation, so one model."""
    a, _ = two_sets
    ev = tmp_path / "ev"
    for run in ("r1", "r2"):
        assert _train(a, tmp_path / run, "--epochs", "1") == 0
        code = _cli("evaluate", "--weights", str(tmp_path / run), "--patches", str(a), "--out", str(ev),
                    "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
        assert code == 0, capsys.readouterr().err
    manifest = json.loads((ev / "model" / "manifest.json").read_text())
    assert [m["name"] for m in manifest["models"]] == ["run-r2"] and manifest["default"] == "run-r2"
    (weights,) = (ev / "model").glob("*.safetensors")
    assert json.loads((ev / "metrics.json").read_text())["model"]["weights"] == str(weights)
    assert sorted(p.name for p in ev.iterdir() if p.name.startswith(".")) == []  # no staging folder left


@pytest.fixture(scope="module")
def earlier_evaluation(two_sets, tmp_path_factory):  # noqa: F811
    """A trained run and a folder holding its (patch-level) evaluation, model/ included, and an earlier detect JSON."""
    a, _ = two_sets
    root = tmp_path_factory.mktemp("earlier")
    assert _train(a, root / "run", "--epochs", "1") == 0
    assert _cli("evaluate", "--weights", str(root / "run"), "--patches", str(a), "--out", str(root / "ev"),
                "--no-detect", "--quiet", "--device", "cpu") == 0  # fmt: skip
    (root / "ev" / "detections-cbis.json").write_text('{"images": []}')
    return a, root / "run", root / "ev"


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


@pytest.mark.parametrize(
    "refusal", ["empty data", "mixed map windows", "not a detect json", "other model's json", "froc threshold 2"]
)
def test_a_refused_evaluation_leaves_an_earlier_one_as_it_was(earlier_evaluation, tmp_path, capsys, refusal):
    """The data folder, the --detections files and --map-windows were checked only after an earlier evaluation's
    files in --out were deleted (or its model/ replaced): `--all-images --data EMPTY` left OUT holding model/ alone,
    and a refused --map-windows a metrics.json naming weights no longer there."""
    a, run, earlier = earlier_evaluation
    ev = tmp_path / "ev"
    shutil.copytree(earlier, ev)
    before = _snapshot(ev)
    data = a.parent / "data"  # two_sets' synthetic images
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.json").write_text('{"no": "images"}')
    (tmp_path / "other.json").write_text(json.dumps({"model": {"name": "x", "sha256": "ab" * 32}, "images": []}))
    extra = {
        "empty data": ["--all-images", "--data", str(tmp_path / "empty")],
        "mixed map windows": ["--no-detect", "--map-windows", "32", "48"],
        "not a detect json": ["--detections", str(tmp_path / "notes.json"), "--data", str(data)],
        "other model's json": ["--detections", str(tmp_path / "other.json"), "--data", str(data)],
        "froc threshold 2": ["--froc-threshold", "2", "--data", str(data)],
    }[refusal]
    capsys.readouterr()
    try:
        code = _cli("evaluate", "--weights", str(run), "--patches", str(a), "--out", str(ev), "--quiet",
                    "--device", "cpu", *extra)  # fmt: skip
    except SystemExit as exc:  # argparse refusing an option (evaluate's own, or detect's when run in-process)
        code = exc.code
    err = capsys.readouterr().err
    assert code == (2 if refusal == "froc threshold 2" else 1) and "Traceback" not in err, err
    assert "replacing the evaluation" not in err, err
    assert refusal != "froc threshold 2" or "argument --froc-threshold" in err, err
    assert _snapshot(ev) == before, err


def test_a_refused_evaluation_into_a_new_folder_creates_nothing(earlier_evaluation, tmp_path, capsys):
    """A refusal that needs the model (its map windows) removes the folder it staged the run in, and --out."""
    a, run, _ = earlier_evaluation
    ev = tmp_path / "new" / "ev"
    code = _cli("evaluate", "--weights", str(run), "--patches", str(a), "--out", str(ev), "--quiet",
                "--device", "cpu", "--no-detect", "--map-windows", "32", "48")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "map windows" in err, err
    assert not ev.exists(), sorted(p.name for p in ev.rglob("*"))


def _by_name(patches: Path, tmp_path: Path) -> list[str]:
    """`--model NAME --models-dir DIR`: another run (another seed: other weights than the earlier evaluation's),
    installed by name in a folder of its own."""
    models = tmp_path / "models"
    assert _train(patches, tmp_path / "other", "--epochs", "1", "--seed", "1", "--install-to", str(models),
                  "--name", "other") == 0  # fmt: skip
    return ["--model", "other", "--models-dir", str(models)]


def test_an_evaluation_by_name_removes_the_model_an_earlier_one_installed(earlier_evaluation, tmp_path, capsys):
    """`evaluate --weights RUN --out EV` installs the run into EV/model; evaluating an installed model by name into EV
    afterwards left that model/ beside a metrics.json that measured another model's weights, as if it were the
    model evaluated."""
    a, _, earlier = earlier_evaluation
    ev = tmp_path / "ev"
    shutil.copytree(earlier, ev)
    by_name = _by_name(a, tmp_path)
    capsys.readouterr()
    code = _cli("evaluate", *by_name, "--patches", str(a), "--out", str(ev), "--no-detect", "--quiet",
                "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert not (ev / "model").exists(), sorted(p.name for p in (ev / "model").iterdir())
    assert f"replacing the evaluation in {ev}" in err and "model/" in err, err
    assert json.loads((ev / "metrics.json").read_text())["model"]["weights"].startswith(str(tmp_path / "models"))


def test_an_evaluation_of_the_model_in_its_out_folder_keeps_it(earlier_evaluation, tmp_path, capsys):
    """`--models-dir EV/model --out EV` evaluates the model an earlier evaluation installed there: an input, kept."""
    a, _, earlier = earlier_evaluation
    ev = tmp_path / "ev"
    shutil.copytree(earlier, ev)
    model = _snapshot(ev / "model")
    code = _cli("evaluate", "--models-dir", str(ev / "model"), "--patches", str(a), "--out", str(ev), "--no-detect",
                "--quiet", "--device", "cpu")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert _snapshot(ev / "model") == model


def test_a_refused_evaluation_by_name_leaves_the_earlier_model(earlier_evaluation, tmp_path, capsys):
    a, _, earlier = earlier_evaluation
    ev = tmp_path / "ev"
    shutil.copytree(earlier, ev)
    before = _snapshot(ev)
    (tmp_path / "empty").mkdir()
    code = _cli("evaluate", *_by_name(a, tmp_path), "--patches", str(a), "--out", str(ev), "--quiet",
                "--device", "cpu", "--all-images", "--data", str(tmp_path / "empty"))  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and "replacing the evaluation" not in err, err
    assert _snapshot(ev) == before


def test_scoring_the_detections_of_the_model_in_its_out_folder_keeps_it(earlier_evaluation, tmp_path, capsys):
    """`evaluate --detections D --out EV`, D made by the weights an earlier evaluation installed into EV/model
    (`detect --models-dir EV/model`): the model evaluated, named by its hash in D, was removed with the earlier
    files, leaving a metrics.json about weights no longer there."""
    a, _, earlier = earlier_evaluation
    ev = tmp_path / "ev"
    shutil.copytree(earlier, ev)
    model = _snapshot(ev / "model")
    (entry,) = json.loads((ev / "model" / "manifest.json").read_text())["models"]
    made = {"model": {k: entry[k] for k in ("name", "version", "sha256")}, "images": []}
    (tmp_path / "d.json").write_text(json.dumps(made))  # (detect's header: no weights path)
    capsys.readouterr()
    code = _cli("evaluate", "--detections", str(tmp_path / "d.json"), "--patches", str(a), "--out", str(ev),
                "--data", str(a.parent / "data"), "--quiet")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0 and "replacing the evaluation" in err, err
    assert _snapshot(ev / "model") == model, err


@pytest.mark.parametrize("legacy", [False, True], ids=["own", "legacy-evaluation"])
def test_a_models_folder_of_the_users_own_in_the_out_folder_is_never_removed(
    earlier_evaluation, tmp_path, capsys, legacy
):
    """Any OUT/model with a manifest was taken for an earlier evaluation's and removed by the next evaluation into
    OUT: a `train --install-to OUT/model` of the user's was lost. Only a folder an evaluation installed (marked)
    is, or, from before the mark, one its metrics.json names as the evaluated weights' folder."""
    a, _, earlier = earlier_evaluation
    ev = tmp_path / "ev"
    shutil.copytree(earlier, ev)
    (ev / "model" / STAGED_MARK).unlink()  # the user's own install has no mark
    if legacy:  # an evaluation before the mark: its metrics.json names the weights it installed there
        metrics = json.loads((ev / "metrics.json").read_text())
        (weights,) = (ev / "model").glob("*.safetensors")
        metrics["model"]["weights"] = str(weights)
        del metrics[INSTALLED_KEY]  # (which it did not write)
        (ev / "metrics.json").write_text(json.dumps(metrics))
    model = _snapshot(ev / "model")
    capsys.readouterr()
    code = _cli("evaluate", *_by_name(a, tmp_path), "--patches", str(a), "--out", str(ev), "--no-detect", "--quiet",
                "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    if legacy:
        assert not (ev / "model").exists() and "model/" in err, err
    else:
        assert _snapshot(ev / "model") == model and "model/" not in err, err


def test_an_evaluation_marks_the_models_folder_it_installs(earlier_evaluation):
    _, _, earlier = earlier_evaluation
    assert (earlier / "model" / STAGED_MARK).is_file()


@pytest.mark.parametrize("then", ["by name", "a run"])
def test_a_users_own_models_folder_evaluated_in_place_is_kept_by_the_next_evaluation(
    earlier_evaluation, tmp_path, capsys, then
):
    """`evaluate --models-dir OUT/model --out OUT` of a `train --install-to OUT/model` of the user's writes a
    metrics.json naming weights in OUT/model, which the check for an evaluation from before the mark took for one
    that installed them there: the next evaluation into OUT removed (by name) or replaced (a run) the user's model."""
    a, run, earlier = earlier_evaluation
    ev = tmp_path / "ev"
    shutil.copytree(earlier, ev)
    (ev / "model" / STAGED_MARK).unlink()  # the user's own install has no mark
    model = _snapshot(ev / "model")
    code = _cli("evaluate", "--models-dir", str(ev / "model"), "--patches", str(a), "--out", str(ev), "--no-detect",
                "--quiet", "--device", "cpu")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    after = ["--weights", str(run)] if then == "a run" else _by_name(a, tmp_path)
    capsys.readouterr()
    code = _cli("evaluate", *after, "--patches", str(a), "--out", str(ev), "--no-detect", "--quiet",
                "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code == (1 if then == "a run" else 0), err  # (a run is not installed over the user's own: refused)
    assert _snapshot(ev / "model") == model and "model/" not in err, err


def test_metrics_json_says_whether_its_evaluation_installed_the_model(earlier_evaluation):
    _, _, earlier = earlier_evaluation
    assert json.loads((earlier / "metrics.json").read_text())[INSTALLED_KEY] is True
