"""detect / density / classify as an overnight batch over a whole folder: memory that does not grow with the number
of images, interruption by a job scheduler, outputs a script relies on."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from mammoview.cli import main
from tests.cad import test_cli

models_dir, study_dir = test_cli.models_dir, test_cli.study_dir


def _live(kind: type) -> int:
    gc.collect()
    return sum(type(o) is kind for o in gc.get_objects())  # (isinstance: torch modules warn)


def test_detect_keeps_no_maps_of_the_images_it_has_done(models_dir, study_dir, tmp_path, monkeypatch):
    """Over 200 CBIS-DDSM films the resident memory of `detect DIR --json OUT --heatmaps DIR` grew with each image
    (397 -> 462 MB after malloc_trim between image 50 and 400): every image's result was kept to the end, with its
    probability maps and heatmaps, for --sr, even when no --sr was asked; an overnight run of 10,000 files holds
    them all. Only the SR needs results, and only their findings and scores."""
    import mammoview.cli.detect as detect
    from mammoview.cad.maps_findings import MapsFindings
    from mammoview.cad.types import Heatmap

    (study_dir / "broken.dcm").unlink()
    live: dict[str, tuple[int, int]] = {}
    write = detect.write_json_out

    def counting(out: Path, doc: object) -> None:  # the batch is done; what is still held is held per image
        live[str(out)] = (_live(MapsFindings), _live(Heatmap))
        write(out, doc)

    monkeypatch.setattr(detect, "write_json_out", counting)
    plain, with_sr = tmp_path / "plain.json", tmp_path / "sr.json"
    assert main(["detect", str(study_dir), "--json", str(plain), "--heatmaps", str(tmp_path / "h"), "--quiet"]) == 0
    assert main(["detect", str(study_dir), "--json", str(with_sr), "--sr", str(tmp_path / "sr"), "--quiet"]) == 0
    # (the last image's result is still in the loop's variables: one image's maps, not one per image)
    assert live[str(plain)][0] <= 1 and live[str(with_sr)][0] <= 1, live
    assert live[str(plain)][1] <= 4 and live[str(with_sr)][1] <= 4, live  # abnormal, mass, calcification, malignant


#: `detect` in a child process that a job scheduler stops (SIGTERM) while it writes its first heatmap file
_TERMINATED_MID_WRITE = """
import os, signal, sys
from mammoview.cli import main

fsync = os.fsync

def stopped(fd):  # the file is written, not yet in place: the scheduler's SIGTERM comes now
    os.kill(os.getpid(), signal.SIGTERM)
    fsync(fd)

os.fsync = stopped
sys.exit(main(sys.argv[1:]))
"""


def test_detect_stopped_by_sigterm_leaves_no_temporary_files(models_dir, study_dir, tmp_path):
    """A job scheduler ends a job with SIGTERM (`scancel`, `qdel`, a time limit): Python's default action kills at
    once, so a picture, map or JSON being written stayed behind as its temporary `.NAME.xxxxxxxx.tmp` file, in the
    heatmaps folder and beside the JSON, for every run so stopped; Ctrl-C (exit 130) removes it."""
    import subprocess
    import sys

    (study_dir / "broken.dcm").unlink()
    heat = tmp_path / "heat"
    cmd = [sys.executable, "-c", _TERMINATED_MID_WRITE, "detect", str(study_dir), "--json", str(tmp_path / "d.json"),
           "--heatmaps", str(heat), "--quiet", "--device", "cpu"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert sorted(p.name for p in tmp_path.rglob("*.tmp")) == []
    assert done.returncode == 143, done.stderr  # 128 + SIGTERM, as a shell reports a job so ended
    assert sorted(p.name for p in tmp_path.rglob("*.tmp")) == []
    assert not (tmp_path / "d.json").exists()
    assert "terminated" in done.stderr


def test_a_rerun_after_an_interrupted_heatmap_write_keeps_the_image_name(models_dir, study_dir, tmp_path, monkeypatch):
    """Ctrl-C (or SIGTERM) between an image's overlay `lcc.png` and its map `lcc.npy` left the overlay alone; the next
    run took that overlay for a picture that is not its own (an overlay is a PNG with its .npy beside it), so it
    wrote `lcc_2.png` and kept the stray `lcc.png` forever (and a run over that folder read it as a mammogram)."""
    import json

    import mammoview.io.files as files

    (study_dir / "broken.dcm").unlink()
    heat, out = tmp_path / "heat", tmp_path / "d.json"
    write = files.atomic_write_bytes

    def interrupted_at_the_map(path: Path, data: bytes, *args: object, **kw: object) -> None:
        if path.suffix == ".npy":
            raise KeyboardInterrupt
        write(path, data, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "atomic_write_bytes", interrupted_at_the_map)
    assert main(["detect", str(study_dir), "--json", str(out), "--heatmaps", str(heat), "--quiet"]) == 130
    monkeypatch.setattr(files, "atomic_write_bytes", write)
    assert main(["detect", str(study_dir), "--json", str(out), "--heatmaps", str(heat), "--quiet"]) == 0
    names = [f"{s}.{e}" for s in ("lcc", "rcc") for e in ("json", "npy", "png")]
    assert sorted(p.name for p in heat.iterdir()) == names
    assert {json.loads((heat / f"{s}.json").read_text())["image"] for s in ("lcc", "rcc")} == {
        str(study_dir / "lcc.dcm"), str(study_dir / "sub" / "rcc.dcm")}  # fmt: skip


def test_json_out_that_is_an_input_is_refused_before_it_replaces_the_image(models_dir, study_dir, tmp_path, capsys):
    """`detect a.png --json a.png` (a slip in a script's arguments) wrote the JSON over the mammogram it had just
    read, exit 0: the image was lost. The same for classify (and density, which shares the check), and through a
    link to the image."""
    (study_dir / "broken.dcm").unlink()
    image = study_dir / "lcc.dcm"
    before = image.read_bytes()
    link = tmp_path / "link.dcm"
    os.symlink(image, link)
    for command in ("detect", "classify"):
        for out in (image, link):
            assert main([command, str(image), "--json", str(out), "--quiet"]) == 1
            assert "is the input" in capsys.readouterr().err
    assert image.read_bytes() == before


@pytest.mark.parametrize("target", ["sub/rcc.dcm", "broken.dcm"])
def test_json_out_that_a_scanned_folder_holds_is_refused_before_it_replaces_the_file(models_dir, study_dir, capsys,
                                                                                     target):  # fmt: skip
    """`detect FOLDER --json FOLDER/sub/rcc.dcm`: the check looked only at the paths named, so the JSON was written
    over a mammogram found in the folder (an unreadable one too, which the reader may still want), exit 0."""
    victim = study_dir / target
    before = victim.read_bytes()
    for command in ("detect", "classify"):
        assert main([command, str(study_dir), "--json", str(victim), "--quiet"]) == 1
        assert "is the input" in capsys.readouterr().err
    assert victim.read_bytes() == before
