"""The documented recipe commands (models/experiments.sh, models/reproduce.sh via make) do what the model card says.

No training: ``mammoview`` is replaced by a stub that logs its arguments (MV=...), so each test takes milliseconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _stub(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "calls.log"
    stub = tmp_path / "mv"
    # logs its arguments; `evaluate ... --out DIR` (not --compare) leaves DIR/metrics.json as the real one does
    stub.write_text(
        f'#!/bin/bash\necho "$*" >> "{log}"\n'
        '[ "$1" = evaluate ] && [[ "$*" != *--compare* ]] && out=$(echo "$*" | sed -n "s/.*--out \\([^ ]*\\).*/\\1/p") '
        '&& mkdir -p "$out" && echo {} > "$out/metrics.json"\nexit 0\n'
    )
    stub.chmod(0o755)
    return stub, log


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_experiments_runs_every_step_named(tmp_path: Path) -> None:
    """MODEL_CARD.md: 'Command: `bash models/experiments.sh arch evaluate tables`' (and `ablation tables`).

    Only the first step ran: evaluate and tables were ignored without a word, exit 0.
    """
    stub, log = _stub(tmp_path)
    env = {**os.environ, "MV": str(stub), "RUNS": str(tmp_path / "runs")}
    subprocess.run(["bash", str(REPO / "models/experiments.sh"), "evaluate", "tables"], env=env, check=True)
    calls = log.read_text().splitlines()
    assert any(c.startswith("evaluate --weights") for c in calls), calls
    assert any(c.startswith("evaluate --compare") for c in calls), "the tables step did not run: " + repr(calls)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_experiments_ablation_tables_writes_the_ablation_table(tmp_path: Path) -> None:
    """MODEL_CARD.md: `bash models/experiments.sh ablation tables` -- before any architecture run is evaluated."""
    stub, log = _stub(tmp_path)
    env = {**os.environ, "MV": str(stub), "RUNS": str(tmp_path / "runs")}
    subprocess.run(["bash", str(REPO / "models/experiments.sh"), "ablation", "tables"], env=env, check=True)
    compares = [c for c in log.read_text().splitlines() if c.startswith("evaluate --compare")]
    assert len(compares) == 1 and "ablation/baseline/eval" in compares[0], compares


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_experiments_refuses_an_unknown_step_before_running_any(tmp_path: Path) -> None:
    stub, log = _stub(tmp_path)
    env = {**os.environ, "MV": str(stub), "RUNS": str(tmp_path / "runs"), "ARCHS": "vgg"}
    done = subprocess.run(["bash", str(REPO / "models/experiments.sh"), "evaluate", "tabels"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2, done
    assert "usage" in done.stderr
    assert not log.exists(), "a step ran before the typo was noticed"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("target", ["model", "experiments"])
def test_make_recipe_targets_use_the_makefile_venv(tmp_path: Path, target: str) -> None:
    """`make model VENV=DIR` builds DIR but the scripts ran .venv/bin/mammoview (another install, or none)."""
    venv = tmp_path / "venv"
    done = subprocess.run(["make", "-n", "-C", str(REPO), target, f"VENV={venv}"], capture_output=True, text=True,
                          check=True)  # fmt: skip
    script = "reproduce.sh" if target == "model" else "experiments.sh"
    line = next(x for x in done.stdout.splitlines() if script in x)
    assert f"MV={venv}/bin/mammoview" in line, line


def test_detections_of_another_data_folder_are_refused_not_silently_unused(tmp_path: Path) -> None:
    """`extract-patches --hard-negatives-from-detections runs/cand/*.json` (the verifier's patch set, and the model
    card's fp6x / fp10 / fp6c32 variants that reuse those JSONs) matches images by absolute path.  JSONs written on
    another data folder (the data moved, another mount, a copy) matched nothing: a patch set without a single hard
    negative, exit 0, no word -- the verifier then learns random tissue instead of the detector's false positives."""
    import json

    from mammoview.cad.preprocess import PreprocessConfig
    from mammoview.training import sources
    from mammoview.training.extract import extract_patch_set
    from mammoview.training.mining import DetectionMiner
    from mammoview.training.patches import ExtractConfig
    from tests.training.test_extract import SMALL, make_fake_data

    data = make_fake_data(tmp_path / "data")
    moved = shutil.copytree(data, tmp_path / "moved")  # the same images in another folder
    images = [{"path": str(s.path.resolve()), "findings": [{"kind": "mass", "score": 0.9, "center": [60.0, 80.0]}]}
              for s in sources.cbis_images(data)]  # fmt: skip
    (tmp_path / "cand.json").write_text(json.dumps({"images": images}))
    ecfg = ExtractConfig(**{**SMALL, "hard_negatives": 2, "normal_margin": 0.0})
    kw = {"pcfg": PreprocessConfig(pixel_size_mm=0.6), "ecfg": ecfg, "progress": False, "which": ("cbis",)}

    made = extract_patch_set(tmp_path / "ok", data_dir=data, miner=DetectionMiner([tmp_path / "cand.json"]), **kw)
    assert (tmp_path / "ok" / "index.csv").read_text().count(",hard") > 0, made["counts"]  # the road works
    with pytest.raises(ValueError, match="none of"):
        extract_patch_set(tmp_path / "moved-set", data_dir=moved, miner=DetectionMiner([tmp_path / "cand.json"]), **kw)
