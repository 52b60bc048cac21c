"""extract-patches -> PatchSet -> train -> install, end to end on a tiny synthetic copy of the three sources."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.transform import resize

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.training.datasets import PatchSet, dequantize
from mammoview.training.extract import INDEX_COLUMNS, extract_patch_set
from mammoview.training.patches import ExtractConfig, quantize
from mammoview.training.split import check_no_leakage
from tests.synthetic import Blob, synthetic_breast


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img, 0, 255).astype(np.uint8)


def make_fake_data(root: Path, n_cbis: int = 6, n_mias: int = 4, n_magic: int = 8) -> Path:
    """CBIS-like stretched JPEGs with boxes, MIAS-like PNGs with circles, MAGIC-like PGM patches."""
    cb = root / "cbis-ddsm-mass" / "images"
    cb.mkdir(parents=True)
    rows = []
    for i in range(n_cbis):
        blob = Blob(x=180 + 10 * i, y=400, radius=25)
        img = synthetic_breast(800, 488, blobs=(blob,), seed=i, max_value=255, dtype=np.uint8)
        stretched = resize(img.astype(np.float32), (800, 800), order=1, preserve_range=True)
        name = f"{i:05d}_LEFT_{'CC' if i % 2 else 'MLO'}.jpg"
        Image.fromarray(_u8(stretched)).save(cb / name, quality=95)
        x = blob.x * 800 / 488
        mal = "MALIGNANT" if i % 3 else "BENIGN"
        rows.append(
            {
                "file": f"images/{name}",
                "patient_id": f"P_{i // 2:05d}",
                "laterality": "LEFT",
                "view": "CC" if i % 2 else "MLO",
                "n_boxes": 1,
                "n_csv_abn": 1,
                "boxes_xywh_800": json.dumps([[x - 40, 375, 80, 50]]),
                "pathologies": mal,
                "image_pathology": mal,
            }
        )
    with open(root / "cbis-ddsm-mass" / "boxes.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    mi = root / "mini-mias" / "images"
    mi.mkdir(parents=True)
    lab = []
    for i in range(1, n_mias + 1):
        blob = Blob(x=200, y=256, radius=12)
        img = synthetic_breast(512, 512, blobs=(blob,) if i % 2 else (), seed=10 + i, max_value=255, dtype=np.uint8)
        Image.fromarray(img).save(mi / f"mdb{i:03d}.png")
        abn = i % 2 == 1
        lab.append(
            {
                "refnum": f"mdb{i:03d}",
                "patient": f"mias{(i + 1) // 2:03d}",
                "background": "F",
                "abn_class": "CALC" if abn else "NORM",
                "lesion_type": "calcification" if abn else "normal",
                "severity": "M" if abn else "",
                "x": "200" if abn else "",
                "y": "256" if abn else "",
                "radius": "12" if abn else "",
                "side": "right" if i % 2 else "left",
            }
        )
    with open(root / "mini-mias" / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(lab[0]))
        w.writeheader()
        w.writerows(lab)
    rng = np.random.default_rng(0)
    for k in range(n_magic):
        d = root / "magic5-microcalc" / "images" / str(k % 2)
        d.mkdir(parents=True, exist_ok=True)
        patch = rng.normal(60 + 70 * (k % 2), 8, (60, 60))
        Image.fromarray(_u8(patch)).save(d / f"{k:04d}s1_1_{k % 2}_1.pgm")
    return root


#: A few patches per image, so the synthetic sets extract in seconds.
SMALL = {
    "patch_size": 48, "cbis_lesion_patches": 2, "cbis_normal_patches": 2,
    "mias_lesion_patches": 3, "mias_normal_patches": 2, "seed": 1,
}  # fmt: skip


@pytest.fixture(scope="module")
def patch_set(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("extract")
    data = make_fake_data(root / "data")
    out = root / "patches"
    extract_patch_set(
        out,
        data_dir=data,
        pcfg=PreprocessConfig(),
        val_fraction=0.34,
        progress=False,
        ecfg=ExtractConfig(**SMALL),
    )
    return out


def test_patch_set_files_and_index(patch_set):
    for name in ("patches.npy", "index.csv", "split.json", "manifest.json", "contact_normal.png", "contact_mass.png"):
        assert (patch_set / name).exists(), name
    ps = PatchSet(patch_set)
    assert ps.images.dtype == np.uint8 and ps.images.shape[1:] == (1, 48, 48)
    assert list(ps.index[0]) == list(INDEX_COLUMNS)
    assert set(ps.labels) == {"normal", "mass", "calcification"}
    magic = ps.sources == "magic5"
    assert magic.sum() == 8 and set(ps.sizes[magic]) == {17} and set(ps.sizes[~magic]) == {48}
    counts = ps.manifest["counts"]["patches"]
    assert sum(v for s in counts.values() for src in s.values() for v in src.values()) == len(ps)
    assert ps.manifest["preprocessing"] == PreprocessConfig().to_dict()


def test_patch_set_split_is_patient_level(patch_set):
    ps = PatchSet(patch_set)
    check_no_leakage(list(ps.patients), list(ps.splits))
    recorded = ps.split_patients()
    for p, s in zip(ps.patients, ps.splits, strict=True):
        assert p in recorded[s]
    assert len(ps.split("train")) + len(ps.split("val")) == len(ps)


def test_patch_set_groups_and_tensors(patch_set):
    ps = PatchSet(patch_set)
    groups = ps.groups()
    assert list(groups) == [48, 17]
    x, y, _mal = ps.tensors(groups[17])
    assert tuple(x.shape[1:]) == (1, 17, 17) and float(x.abs().max()) <= ps.clip
    # MAGIC-5 brightness shortcut removed: both labels have median ~0 after per-patch normalisation
    for c in (0, 2):
        assert abs(float(x[y == c].median())) < 0.1
    with pytest.raises(ValueError, match="several sizes"):
        ps.crop(np.arange(len(ps)))
    q = quantize(np.array([-4.0, 0.0, 4.0], np.float32), 4.0)
    assert np.allclose(dequantize(q, 4.0), [-4.0, 0.0, 4.0], atol=4.0 / 255 + 1e-6)


def test_train_and_install_smoke(patch_set, tmp_path):
    from mammoview.cad.weights import load_model
    from mammoview.training.install import InstallOptions, install_run
    from mammoview.training.train import train
    from mammoview.training.train_config import TrainConfig

    cfg = TrainConfig(
        arch_kwargs={"widths": [4, 4, 8, 8]},
        epochs=2,
        steps_per_epoch=2,
        batch_size=8,
        small_batch_size=4,
        threads=1,
        patience=5,
    )
    run = tmp_path / "run"
    summary = train(patch_set, run, cfg, progress=False, command="mammoview train (test)")
    assert summary["epochs_run"] == 2 and (run / "learning_curves.png").exists()
    assert (run / "checkpoints" / "last.safetensors").exists() and (run / "checkpoints" / "best.safetensors").exists()
    again = train(patch_set, run, TrainConfig.from_dict({**cfg.to_dict(), "epochs": 3}), resume=True, progress=False)
    assert again["epochs_run"] == 3 and [h["epoch"] for h in again["history"]] == [1, 2, 3]
    entry = install_run(run, again, "mammoview-test", tmp_path / "models", InstallOptions(finding_threshold=0.83))
    assert entry.finding_threshold == 0.83
    assert entry.metrics["lesion_vs_normal"]["accuracy"] is not None
    assert {d["source"] for d in entry.training_data} == {"cbis", "mias", "magic5"}
    loaded = load_model("mammoview-test", tmp_path / "models", device="cpu")
    assert loaded.entry.preprocessing == PreprocessConfig().to_dict()
    assert loaded.entry.extra["train_config"]["arch"] == "paper_cnn"

    # fine-tuning from that run with a weight average: the kept weights are the average's
    from safetensors.torch import load_file

    tuned = tmp_path / "tuned"
    cfg2 = TrainConfig.from_dict({**cfg.to_dict(), "epochs": 1, "ema": 0.9, "init_from": str(run)})
    summary2 = train(patch_set, tuned, cfg2, progress=False)
    best, last = (load_file(tuned / "checkpoints" / f"{t}.safetensors") for t in ("best", "last"))
    ema = load_file(tuned / "checkpoints" / "last_ema.safetensors")
    k = "head.weight"
    torch.testing.assert_close(best[k], ema[f"module.{k}"])
    assert not torch.allclose(best[k], last[k])
    install_run(tuned, summary2, "mammoview-tuned", tmp_path / "models", InstallOptions(version="1.1.0",
                test_time_flip=True))  # fmt: skip
    tuned_entry = load_model("mammoview-tuned", tmp_path / "models", device="cpu").entry
    assert tuned_entry.test_time_flip and tuned_entry.version == "1.1.0"

    # the two runs as one averaged model: installed, hash-checked, metrics of its own
    from mammoview.cad.registry import create_model
    from mammoview.training.ensemble import install_ensemble, parse_member

    assert parse_member(f"{run}:last") == (run, "last") and parse_member(str(run)) == (run, "best")
    ens = install_ensemble([(run, "best"), (tuned, "last")], "mammoview-ens", tmp_path / "models")
    assert ens.arch == "ensemble" and ens.arch_kwargs["n"] == 2 and ens.arch_kwargs["arch"] == "paper_cnn"
    assert [m["checkpoint"] for m in ens.extra["members"]] == ["best", "last"]
    assert ens.extra["training_minutes"] == pytest.approx(again["minutes"] + summary2["minutes"], abs=0.02)
    assert ens.metrics["lesion_vs_normal"]["accuracy"] is not None
    net = load_model("mammoview-ens", tmp_path / "models", device="cpu").model
    first = load_model("mammoview-test", tmp_path / "models", device="cpu").model  # `run`'s best
    # `tuned`'s last epoch as validated: its weight average (last.safetensors holds the raw weights, for resuming;
    # the ensemble took them, unvalidated)
    second = create_model("paper_cnn", **cfg.arch_kwargs)
    second.load_state_dict({k.removeprefix("module."): v for k, v in ema.items() if k.startswith("module.")})
    assert not torch.allclose(second.state_dict()[k], last[k])
    x = torch.randn(1, 1, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(net(x), 0.5 * (first(x) + second.eval()(x)), rtol=1e-4, atol=1e-5)
    # members must share their input: a run at another pixel size is refused, naming it
    other = tmp_path / "other"
    shutil.copytree(run, other)
    doc = json.loads((other / "summary.json").read_text())
    doc["patch_manifest"]["pixel_size_mm"] = 0.2
    (other / "summary.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="other: pixel_size_mm"):
        install_ensemble([(run, "best"), (other, "best")], "mammoview-bad", tmp_path / "models")


def test_dense_training_on_the_patch_sets_whole_images(patch_set, tmp_path):
    """--dense: crops of the training patients' whole images; validation and resume as a patch run."""
    from mammoview.training.dense import DenseConfig
    from mammoview.training.train import train
    from mammoview.training.train_config import TrainConfig

    cfg = TrainConfig(arch_kwargs={"widths": [4, 4, 8, 8]}, epochs=2, steps_per_epoch=2, small_batch_size=4,
                      threads=1, dense=DenseConfig(crop_px=128, batch=4, windows_px=(48,)))  # fmt: skip
    summary = train(patch_set, tmp_path / "run", cfg, progress=False)
    ps = PatchSet(patch_set)
    train_patients = set(ps.split_patients()["train"])
    whole = [r for r in ps.index if r["source"] != "magic5"]
    n_train_images = len({r["image_id"] for r in whole if r["patient"] in train_patients})
    assert summary["dense_images"]["images"] == n_train_images  # the training patients' images, no others
    assert summary["dense_images"]["masses"] >= 1
    assert summary["epochs_run"] == 2 and all(np.isfinite(r["train_loss"]) for r in summary["history"])
    assert summary["config"]["dense"]["crop_px"] == 128
    again = train(patch_set, tmp_path / "run", TrainConfig.from_dict({**cfg.to_dict(), "epochs": 3}), resume=True,
                  progress=False)  # fmt: skip
    assert [h["epoch"] for h in again["history"]] == [1, 2, 3]
    hybrid = DenseConfig(crop_px=128, batch=2, windows_px=(48,), patch_batch=4)  # + whole-image patches per step
    mixed_cfg = TrainConfig.from_dict({**cfg.to_dict(), "dense": hybrid.to_dict()})
    mixed = train(patch_set, tmp_path / "mixed", mixed_cfg, progress=False)
    assert mixed["epochs_run"] == 2 and all(np.isfinite(r["train_loss"]) for r in mixed["history"])
    with pytest.raises(ValueError, match="aux-descriptors"):
        train(patch_set, tmp_path / "aux", TrainConfig.from_dict({**cfg.to_dict(), "aux_descriptors": True}))


def test_train_with_the_detection_monitor(patch_set, tmp_path):
    """--monitor froc: after every epoch, the whole-image FROC of validation CBIS images decides the best epoch."""
    from mammoview.training.train import train
    from mammoview.training.train_config import TrainConfig

    cfg = TrainConfig(arch_kwargs={"widths": [4, 4, 8, 8]}, epochs=2, steps_per_epoch=2, batch_size=8,
                      small_batch_size=4, threads=1, monitor="froc", monitor_images=3)  # fmt: skip
    summary = train(patch_set, tmp_path / "run", cfg, progress=False)
    assert summary["monitor"] == "froc"
    for row in summary["history"]:
        assert 0.0 <= row["val_froc"] <= 1.0 and row["val_froc_lesions"] >= 1
        assert row["monitor"] == row["val_froc"]
    best = max(summary["history"], key=lambda r: r["val_froc"])
    assert summary["best_epoch"] == best["epoch"]


@pytest.mark.data
def test_real_images_lesion_and_normal_geometry(data_dir):
    """On real CBIS / MIAS images: lesion patches centred within the jitter, normal patches in the breast."""
    from mammoview.training import sources
    from mammoview.training.patches import prepare_source, source_patches

    cfg = ExtractConfig()
    pcfg = PreprocessConfig()
    cbis = sources.cbis_images(data_dir)
    mias = [s for s in sources.mias_images(data_dir) if s.label == "mass"]
    for src in (cbis[0], cbis[1], mias[0]):
        patches, _ = source_patches(src, pcfg, cfg)
        prep = prepare_source(src, pcfg)
        les = src.lesions[0]
        lesion_patches = [p for p in patches if p.label != "normal"]
        assert len(lesion_patches) >= cfg.cbis_lesion_patches
        for p in lesion_patches[: len(lesion_patches) // len(src.lesions)]:
            # stored-grid offset, converted to model pixels, within the jitter (+1 px rounding)
            dx = abs(p.cx - les.center[0]) / prep.scale_x
            dy = abs(p.cy - les.center[1]) / prep.scale_y
            at_border = (
                min(p.cx / prep.scale_x, prep.shape[1] - p.cx / prep.scale_x) <= cfg.patch_size / 2 + 1
                or min(p.cy / prep.scale_y, prep.shape[0] - p.cy / prep.scale_y) <= cfg.patch_size / 2 + 1
            )
            limit = cfg.jitter * cfg.patch_size + 1
            assert (dx <= limit and dy <= limit) or at_border
            assert abs(p.x).max() > 0  # real content, never a fill
        normals = [p for p in patches if p.label == "normal"]
        assert normals
        for p in normals:
            assert prep.mask[int(p.cy / prep.scale_y), int(p.cx / prep.scale_x)]


def test_context_patches_hold_the_bare_patch_in_their_centre(patch_set, tmp_path):
    """--context stores surroundings around whole-image patches only; the centre is the bare patch."""
    from mammoview.training.train import train
    from mammoview.training.train_config import TrainConfig

    out = tmp_path / "ctx"
    extract_patch_set(
        out,
        data_dir=patch_set.parent / "data",
        pcfg=PreprocessConfig(),
        val_fraction=0.34,
        progress=False,
        ecfg=ExtractConfig(**SMALL, context=16),
    )
    bare, ctx = PatchSet(patch_set), PatchSet(out)
    assert ctx.manifest["context_px"] == 16 and ctx.images.shape[1:] == (1, 80, 80) and ctx.slot == 80
    assert [r["cx"] for r in ctx.index] == [r["cx"] for r in bare.index]  # same patches, same order
    whole = np.flatnonzero(ctx.sizes == 48)
    assert np.array_equal(ctx.images[whole][:, :, 16:64, 16:64], bare.images[whole])
    assert ctx.crop(whole).shape[1:] == (1, 80, 80) and ctx.context_of(48) == 16
    small = np.flatnonzero(ctx.sizes == 17)
    assert ctx.context_of(17) == 0 and np.array_equal(ctx.crop(small), bare.crop(small))
    # the surroundings are real image, not fill: some ring pixels differ from the quantised zero
    ring = ctx.images[whole][:, :, :16, :].astype(int)
    assert (ring != int(quantize(np.zeros(1, np.float32), ctx.clip)[0])).mean() > 0.5
    cfg = TrainConfig(arch_kwargs={"widths": [4, 4, 8, 8]}, epochs=1, steps_per_epoch=2, batch_size=8,
                      small_batch_size=4, threads=1)  # fmt: skip
    summary = train(out, tmp_path / "run", cfg, progress=False)
    assert summary["patch_manifest"]["context_px"] == 16 and summary["epochs_run"] == 1


def test_hard_negatives_are_the_miners_best_cells_clear_of_every_lesion(patch_set):
    """Mined normal patches: best-scored first, never near a lesion, never overlapping each other."""
    from mammoview.training import geometry, sources
    from mammoview.training.patches import image_patches, prepare_source

    data = patch_set.parent / "data"
    src = next(s for s in sources.cbis_images(data) if s.lesions)
    pcfg, cfg = PreprocessConfig(), ExtractConfig(patch_size=48, context=16, hard_negatives=3, seed=1)
    prep = prepare_source(src, pcfg)
    boxes = [geometry.stored_box_to_model(les.bbox, prep.scale_x, prep.scale_y) for les in src.lesions]
    lesion_centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in boxes]
    rows, cols = prep.shape
    grid = [(float(x), float(y)) for y in range(24, rows - 24, 8) for x in range(24, cols - 24, 8)]
    # the "model" is most wrong at the lesion itself, then decreasingly away from the image centre
    cands = [(x, y, 1.0) for x, y in lesion_centres] + [
        (x, y, 0.9 - 1e-4 * np.hypot(x - cols / 2, y - rows / 2)) for x, y in grid
    ]
    calls = []

    def miner(s, p):  # type: ignore[no-untyped-def]
        calls.append((s, p))
        return sorted(cands, key=lambda c: -c[2])

    patches = list(image_patches(src, prep, cfg, miner=miner))
    hard = [p for p in patches if p.extra.get("origin") == "hard"]
    assert calls == [(src, prep)] and len(hard) == 3
    assert [p.extra["miner_score"] for p in hard] == sorted((p.extra["miner_score"] for p in hard), reverse=True)
    assert all(p.extra["miner_score"] < 1.0 for p in hard), "a lesion centre was taken as a negative"
    centres = [(p.cx / prep.scale_x, p.cy / prep.scale_y) for p in hard]
    for x, y in centres:
        assert geometry.clear_of_boxes(x, y, boxes, 48, cfg.normal_margin * 48 - 1)
    for i, (x, y) in enumerate(centres):
        for x2, y2 in centres[:i]:
            assert abs(x - x2) >= 24 or abs(y - y2) >= 24
    assert all(p.x.shape[-1] == 48 + 2 * 16 and p.label == "normal" for p in hard)
    # without a miner (or with hard_negatives=0) nothing is mined
    assert not [p for p in image_patches(src, prep, cfg) if p.extra.get("origin") == "hard"]


def test_map_miner_returns_breast_cells_best_first(patch_set, tmp_path):
    from mammoview.training import sources
    from mammoview.training.mining import MapMiner
    from mammoview.training.patches import prepare_source
    from tests.gui.cad_support import save_tiny_model

    models = save_tiny_model(tmp_path / "models", pixel_size_mm=PreprocessConfig().pixel_size_mm, patch_size=48)
    src = sources.cbis_images(patch_set.parent / "data")[0]
    prep = prepare_source(src, PreprocessConfig())
    miner = MapMiner(models, min_score=0.0, max_candidates=20)
    cands = miner(src, prep)
    assert 0 < len(cands) <= 20
    scores = [s for _, _, s in cands]
    assert scores == sorted(scores, reverse=True)
    for x, y, _ in cands:
        assert prep.mask[min(int(y), prep.shape[0] - 1), min(int(x), prep.shape[1] - 1)]
    assert miner.__getstate__()["_loaded"] is None  # picklable for worker processes without the model
    miner.check(PreprocessConfig().to_dict())
    with pytest.raises(ValueError, match="clahe=False vs True"):
        miner.check(PreprocessConfig(clahe=True).to_dict())


def test_detection_monitor_finds_its_data(patch_set, monkeypatch):
    """The patch set's own data folder, or $MAMMOVIEW_DATA when set (the folder moved); no image is a clear error."""
    from mammoview.training.datasets import PatchSet
    from mammoview.training.monitor import detection_monitor

    ps = PatchSet(patch_set)
    monkeypatch.delenv("MAMMOVIEW_DATA", raising=False)
    assert len(detection_monitor(ps, 2)) == 2  # from the manifest's data_dir
    data = ps.manifest["data_dir"]
    ps.manifest["data_dir"] = "/nonexistent/data"
    monkeypatch.setenv("MAMMOVIEW_DATA", data)
    assert len(detection_monitor(ps, 2)) == 2
    with pytest.raises(ValueError, match="no validation CBIS-DDSM image"):
        detection_monitor(ps, 0)


def test_detection_miner_puts_detect_findings_on_the_patch_grid(patch_set, tmp_path):
    """Candidates from a detect JSON: matched by path, best first, stored grid -> the prepared grid."""
    import json

    from mammoview.training import sources
    from mammoview.training.mining import DetectionMiner
    from mammoview.training.patches import prepare_source

    src = sources.cbis_images(patch_set.parent / "data")[0]
    prep = prepare_source(src, PreprocessConfig(pixel_size_mm=0.6))
    findings = [
        {"kind": "mass", "score": 0.4, "center": [100.0, 200.0]},
        {"kind": "mass", "score": 0.9, "center": [300.0, 500.0]},
        {"kind": "mass", "score": 0.05, "center": [50.0, 60.0]},
    ]
    doc = {"images": [{"path": str(src.path.resolve()), "findings": findings}, {"path": "/elsewhere.png"}]}
    (tmp_path / "d.json").write_text(json.dumps(doc))
    miner = DetectionMiner([tmp_path / "d.json"], min_score=0.1)
    cands = miner(src, prep)
    assert [s for _, _, s in cands] == [0.9, 0.4]  # best first, the 0.05 one below min_score
    x, y, _ = cands[0]
    assert x == pytest.approx(300.0 / prep.scale_x) and y == pytest.approx(500.0 / prep.scale_y)
    other = sources.cbis_images(patch_set.parent / "data")[1]
    assert miner(other, prep) == []  # an image the detections do not cover has no candidates
    assert miner.describe()["images"] == 2
    miner.check({"pixel_size_mm": 0.6})  # any preprocessing: the centres are in the stored grid
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not a detect JSON"):
        DetectionMiner([tmp_path / "bad.json"])


def test_the_patch_sets_own_data_folder_wins_over_mammoview_data(patch_set, tmp_path, monkeypatch):
    """Images are matched to the split by patient ID only: another data folder must not stand in while the patch
    set's own is there ($MAMMOVIEW_DATA finds it once moved: test_detection_monitor_finds_its_data)."""
    from mammoview.training.datasets import PatchSet

    ps = PatchSet(patch_set)
    monkeypatch.setenv("MAMMOVIEW_DATA", str(make_fake_data(tmp_path / "other", n_cbis=2)))
    assert ps.data_dir() == Path(ps.manifest["data_dir"])


def test_a_resumed_run_ends_as_the_uninterrupted_one(patch_set, tmp_path):
    from safetensors.torch import load_file

    from mammoview.training.train import train
    from mammoview.training.train_config import TrainConfig

    cfg = TrainConfig(arch_kwargs={"widths": [4, 4, 8, 8]}, epochs=3, steps_per_epoch=2, batch_size=8,
                      small_batch_size=4, threads=1, patience=50, precision="fp32", ema=0.9)  # fmt: skip
    train(patch_set, tmp_path / "full", cfg, progress=False)
    train(patch_set, tmp_path / "part", TrainConfig.from_dict({**cfg.to_dict(), "epochs": 1}), progress=False)
    assert train(patch_set, tmp_path / "part", cfg, resume=True, progress=False)["epochs_run"] == 3
    for tag in ("last", "best"):
        a, b = (load_file(tmp_path / run / "checkpoints" / f"{tag}.safetensors") for run in ("full", "part"))
        for key in a:
            torch.testing.assert_close(a[key], b[key], msg=f"{tag} {key}")


def ten_second_steps(monkeypatch, died=None):  # type: ignore[no-untyped-def]
    """The trainer (``mammoview.training.train``) on a fake clock where every training step takes 10 s; ``died``:
    ``{"steps": n, "at": k}`` counts the steps, and the k-th raises KeyboardInterrupt (the machine dies there)."""
    import mammoview.training.train as tr
    from mammoview.training.steps import train_step

    clock = type("Clock", (), {"t": 0.0, "perf_counter": lambda self: self.t})()

    def step(*args, **kwargs):  # type: ignore[no-untyped-def]
        if died is not None:
            died["steps"] += 1
            if died["steps"] == died["at"]:
                raise KeyboardInterrupt
        clock.t += 10.0
        return train_step(*args, **kwargs)

    monkeypatch.setattr(tr, "time", clock)
    monkeypatch.setattr(tr, "train_step", step)
    return tr


def test_a_resumed_time_capped_run_keeps_the_whole_runs_budget(patch_set, tmp_path, monkeypatch):
    """--max-minutes is the run's, as the time schedule's learning rate counts it: a resumed session gets what is
    left, not a fresh budget (each step takes 10 s on a fake clock; the machine dies in epoch 3)."""
    from mammoview.training.train_config import TrainConfig

    died: dict[str, int | None] = {"steps": 0, "at": None}
    tr = ten_second_steps(monkeypatch, died)
    cfg = TrainConfig(arch_kwargs={"widths": [4, 4, 8, 8]}, epochs=10, steps_per_epoch=2, batch_size=8,
                      small_batch_size=4, threads=1, patience=50, precision="fp32", max_minutes=1.0,
                      time_schedule=True)  # fmt: skip
    full = tr.train(patch_set, tmp_path / "full", cfg, progress=False)
    died.update(steps=0, at=6)
    with pytest.raises(KeyboardInterrupt):
        tr.train(patch_set, tmp_path / "part", cfg, progress=False)
    died.update(steps=0, at=None)
    resumed = tr.train(patch_set, tmp_path / "part", cfg, resume=True, progress=False)
    steps = [sum(h["steps"] for h in s["history"]) for s in (full, resumed)]
    assert steps[1] == steps[0] == 7  # 60 s of 10 s steps, the one that crosses the deadline included


def test_resuming_a_run_that_spent_its_budget_trains_no_further(patch_set, tmp_path, monkeypatch):
    """A run stopped by --max-minutes or early stopping, resumed as it was, adds no partial epoch (it trained one
    more step and validated it as an epoch); it rewrites the summary, and a larger budget trains on."""
    from mammoview.training.train_config import TrainConfig

    tr = ten_second_steps(monkeypatch)
    cfg = TrainConfig(arch_kwargs={"widths": [4, 4, 8, 8]}, epochs=10, steps_per_epoch=2, batch_size=8,
                      small_batch_size=4, threads=1, patience=50, precision="fp32", max_minutes=1.0)  # fmt: skip
    run = tmp_path / "run"
    first = tr.train(patch_set, run, cfg, progress=False)
    assert first["stopped"] == "max_minutes" and sum(h["steps"] for h in first["history"]) == 7
    again = tr.train(patch_set, run, cfg, resume=True, progress=False)
    assert again["stopped"] == "max_minutes" and again["history"] == first["history"]
    assert (run / "summary.json").exists()
    longer = tr.train(patch_set, run, TrainConfig.from_dict({**cfg.to_dict(), "max_minutes": 2.0}), resume=True,
                      progress=False)  # fmt: skip
    assert sum(h["steps"] for h in longer["history"]) == 13  # 120 s of 10 s steps, from 70 s on

    patient = TrainConfig.from_dict({**cfg.to_dict(), "patience": 1, "max_minutes": 60.0, "epochs": 40})
    monkeypatch.setattr(tr, "monitor_value", lambda val, monitor: 0.5)  # never improves after epoch 1
    stopped = tr.train(patch_set, tmp_path / "early", patient, progress=False)
    assert stopped["stopped"] == "early_stopping" and stopped["epochs_run"] == 2
    resumed = tr.train(patch_set, tmp_path / "early", patient, resume=True, progress=False)
    assert resumed["stopped"] == "early_stopping" and resumed["history"] == stopped["history"]


def test_a_run_out_of_time_in_its_last_epoch_stays_stopped_on_its_budget(patch_set, tmp_path, monkeypatch):
    """A run whose --max-minutes ran out in its last epoch (a partial epoch), resumed as it was, still says it stopped
    on its budget (its summary said "stopped": "epochs", as if every epoch had been trained; helper review)."""
    from mammoview.training.train_config import TrainConfig

    tr = ten_second_steps(monkeypatch)
    cfg = TrainConfig(arch_kwargs={"widths": [4, 4, 8, 8]}, epochs=4, steps_per_epoch=2, batch_size=8,
                      small_batch_size=4, threads=1, patience=50, precision="fp32", max_minutes=1.0)  # fmt: skip
    run = tmp_path / "run"
    first = tr.train(patch_set, run, cfg, progress=False)
    assert first["stopped"] == "max_minutes" and first["history"][-1]["partial"]  # 60 s ran out in epoch 4 of 4
    again = tr.train(patch_set, run, cfg, resume=True, progress=False)
    assert again["history"] == first["history"]
    assert again["stopped"] == "max_minutes", again["stopped"]


def test_the_split_of_a_source_does_not_depend_on_the_others_cut(tmp_path, monkeypatch):
    """Leaving a source out of a patch set (``--sources cbis,mias``) keeps every patient on the side the full set
    puts them: a network trained on one set can be evaluated on the other's validation patients."""
    import mammoview.training.extract as ex
    from mammoview.training.sources import SOURCE_FOLDERS, SourceImage

    def image(src: str, i: int, label: str, malignant: bool | None) -> SourceImage:
        return SourceImage(src, f"{src}{i}", Path("x"), f"{src}:{i}", "L", "MLO", (0.2, 0.2), label, malignant,
                           is_patch=src == "magic5")  # fmt: skip

    records = {
        "cbis": [image("cbis", i, "mass", i % 2 == 0) for i in range(40)],
        "mias": [image("mias", i, "normal" if i % 3 else "mass", None if i % 3 else True) for i in range(30)],
        "magic5": [image("magic5", i, "calcification" if i % 2 else "normal", None) for i in range(20)],
    }
    for folder in SOURCE_FOLDERS.values():
        (tmp_path / "data" / folder).mkdir(parents=True)
    monkeypatch.setattr(ex, "all_sources", lambda data, which: [r for s in which for r in records[s]])

    def one_patch(src, *args, **kwargs):  # type: ignore[no-untyped-def]  (a cut of no patch is refused)
        x = np.zeros((1, 96, 96), np.float32)
        return [ex.pt.Patch(x, src.source, src.patient, src.image_id, src.label, src.malignant, 0.0, 0.0, 96, 0.0)], []

    monkeypatch.setattr(ex.pt, "source_patches", one_patch)
    monkeypatch.setattr(ex, "write_contact_sheets", lambda *args, **kwargs: [])

    def validation(which: tuple[str, ...], out: str) -> set[str]:
        ex.extract_patch_set(tmp_path / out, data_dir=tmp_path / "data", which=which, progress=False)  # type: ignore[arg-type]
        return set(json.loads((tmp_path / out / "split.json").read_text())["patients"]["val"])

    every, two, one = (validation(w, o) for w, o in ((("cbis", "mias", "magic5"), "all"), (("cbis", "mias"), "two"),
                                                     (("mias",), "one")))  # fmt: skip
    assert any(p.startswith("mias:") for p in every)
    assert two == every and one == every
