"""The command-line outputs of detect / classify / density as a script uses them: heatmaps beside PNG inputs, linked
files, symlink loops, a reader that goes away, concurrent SR writers, thread counts."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from matplotlib.image import imsave

from mammoview.cli import main
from tests.cad import test_cli, test_density

models_dir, study_dir = test_cli.models_dir, test_cli.study_dir
density_dir = test_density.density_dir


def test_heatmaps_beside_png_mammograms_do_not_overwrite_them(models_dir, breast_with_blob, tmp_path):
    """`detect . --heatmaps .` in a folder of PNG mammograms (a supported use: test_detect_heatmaps_same_folder)
    wrote each overlay as `<stem>.png`, i.e. over the mammogram it was made of: the input image is lost, and the
    next run skips it as one of its own overlays."""
    folder = tmp_path / "png"
    folder.mkdir()
    mammo = folder / "a_L_CC.png"
    imsave(mammo, breast_with_blob, cmap="gray")
    before = hashlib.sha256(mammo.read_bytes()).hexdigest()
    out = tmp_path / "d.json"
    assert main(["detect", str(folder), "--json", str(out), "--heatmaps", str(folder), "--quiet"]) == 0
    assert hashlib.sha256(mammo.read_bytes()).hexdigest() == before, "the input mammogram was overwritten"
    # and a second run still reads the mammogram
    assert main(["detect", str(folder), "--json", str(out), "--heatmaps", str(folder), "--quiet"]) == 0
    names = sorted(Path(e["path"]).name for e in json.loads(out.read_text())["images"])
    assert names == ["a_L_CC.png"], names


def test_density_with_a_symlink_loop_among_its_arguments_writes_its_json(density_dir, tmp_path, capsys):
    """`density a.dcm loop --json OUT` (a link to itself, e.g. among `density /data/*`) ended the whole run with
    'error: Symlink loop from ...' and no JSON: density.py resolves each scan error's path with Path.resolve, which
    raises RuntimeError on a loop before Python 3.13 (detect and classify use os.path.realpath for this)."""
    from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

    good = tmp_path / "lcc.dcm"
    write_dataset(mammo_dataset(synthetic_breast(400, 260, seed=1), "L", "CC", pixel_spacing=(0.25, 0.25)), good)
    loop = tmp_path / "loop.dcm"
    os.symlink(loop.name, loop)
    out = tmp_path / "d.json"
    code = main(["density", str(good), str(loop), "--json", str(out), "--models-dir", str(density_dir),
                 "--device", "cpu"])  # fmt: skip
    assert out.exists(), capsys.readouterr().err
    by_name = {Path(e["path"]).name: e for e in json.loads(out.read_text())["images"]}
    assert code == 1 and "error" in by_name["loop.dcm"] and "density" in by_name["lcc.dcm"]


def test_a_reader_that_goes_away_does_not_cost_the_dicom_srs(models_dir, study_dir, tmp_path, monkeypatch, capsys):
    """`detect STUDY --json - --sr OUTBOX | head -c 100`: the BrokenPipeError of writing the JSON ended the run in
    main(), before write_srs: no SR in the outbox, exit 1 without a word (the CAD work was done and thrown away)."""
    import io
    import sys

    (study_dir / "broken.dcm").unlink()

    class GoneReader(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", GoneReader())
    sr_dir = tmp_path / "sr"
    code = main(["detect", str(study_dir), "--json", "-", "--sr", str(sr_dir), "--quiet", "--threshold", "0.05"])
    assert code == 1  # the JSON did not reach its reader
    assert list(sr_dir.glob("*.dcm")), "no SR written"


def test_detect_names_a_linked_file_by_the_name_it_was_given(models_dir, study_dir, tmp_path):
    """A PACS export or worklist folder of links (`ACC123_LCC.dcm -> /store/ab/cd/9f3e...`): the JSON's `path` was
    the link's target (Path.resolve), a name the caller never passed and cannot match to its input; the issue asks
    for an absolute path, not a dereferenced one. The heatmaps were named after the target too."""
    (study_dir / "broken.dcm").unlink()
    links = tmp_path / "links"
    links.mkdir()
    link = links / "ACC123_LCC.dcm"
    os.symlink(study_dir / "lcc.dcm", link)
    out, heat = tmp_path / "d.json", tmp_path / "heat"
    assert main(["detect", str(link), "--json", str(out), "--heatmaps", str(heat), "--quiet"]) == 0
    (entry,) = json.loads(out.read_text())["images"]
    assert entry["path"] == str(link)
    assert (heat / "ACC123_LCC.png").is_file()


def test_a_thread_count_below_one_is_refused(tmp_path, monkeypatch, capsys):
    """--threads 0 or -3 was silently taken as 'the default' (one thread per core)."""
    import pytest

    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tmp_path / "none"))
    for n in ("0", "-3"):
        with pytest.raises(SystemExit) as exc:
            main(["detect", str(tmp_path / "x.dcm"), "--json", str(tmp_path / "y.json"), "--threads", n])
        assert exc.value.code == 2 and "--threads" in capsys.readouterr().err


def test_two_runs_writing_one_studys_sr_into_one_folder_keep_both(models_dir, study_dir, tmp_path, monkeypatch):
    """write_srs picks `cad-sr-<hash>.dcm` (or -2, -3...) when no file has that name, then replaces whatever is
    there: a second detect of the same study into the same --sr folder at the same time (another threshold, a
    retry, parallel workers of a PACS outbox) that wrote that name in between had its SR silently replaced, though
    'an earlier run's SR of this study is kept'."""
    import mammoview.cad.sr as sr_mod

    (study_dir / "broken.dcm").unlink()
    real = sr_mod.write_sr
    other = b"the other run's SR"

    raced = []

    def racing(sr, path, **kw):  # the other run writes the same name between the exists() check and this write
        if not raced:
            raced.append(path)
            path.write_bytes(other)
        return real(sr, path, **kw)

    monkeypatch.setattr(sr_mod, "write_sr", racing)
    sr_dir = tmp_path / "sr"
    assert main(["detect", str(study_dir), "--json", str(tmp_path / "d.json"), "--sr", str(sr_dir), "--quiet"]) == 0
    contents = [p.read_bytes() for p in sorted(sr_dir.iterdir())]
    assert other in contents, "the other run's SR was replaced"
    assert any(c != other for c in contents), "this run's SR is missing"


def test_classify_passes_on_the_readers_warnings_as_detect_does(models_dir, breast_with_blob, tmp_path, capsys):
    """`classify` kept quiet about what the readers warned of (a colour file converted to grey, a DICOM patch that is
    no mammogram), which `detect` says on standard error: the probabilities came with no hint of the doubt."""
    from tests.synthetic import mammo_dataset, write_dataset

    patch = breast_with_blob[250:350, 100:200]
    rgb = tmp_path / "rgb.png"
    imsave(rgb, patch, cmap="viridis")  # a colour picture
    ct = tmp_path / "ct.dcm"
    ds = mammo_dataset(patch.copy(), "L", "CC", pixel_spacing=(0.25, 0.25))
    ds.Modality = "CT"
    write_dataset(ds, ct)
    assert main(["classify", str(rgb), str(ct), "--json", str(tmp_path / "c.json"), "--quiet"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert any(str(rgb) in ln and "warning: colour image" in ln for ln in lines), lines
    assert any(str(ct) in ln and "warning:" in ln and "not MG" in ln for ln in lines), lines


def test_a_header_value_in_a_warning_cannot_drive_the_terminal(models_dir, breast_with_blob, tmp_path, capsys):
    """The warning line of detect / classify / density printed the readers' warnings raw: a Modality of `X ESC [2J`
    from another site's header cleared the reader's terminal (terminal_text escapes the other lines that quote a
    file)."""
    import warnings

    from tests.synthetic import mammo_dataset, write_dataset

    ds = mammo_dataset(breast_with_blob[250:350, 100:200].copy(), "L", "CC", pixel_spacing=(0.25, 0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom: not a valid CS value (the point of the test)
        ds.Modality = "X\x1b[2J"
    dcm = tmp_path / "esc.dcm"
    write_dataset(ds, dcm)
    assert main(["classify", str(dcm), "--json", str(tmp_path / "c.json"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "Modality is X\\x1b[2J, not MG" in err and "\x1b" not in err, repr(err)


def _controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0]


@pytest.mark.parametrize("command", ["detect", "classify", "density"])
def test_a_file_that_fails_after_the_scan_is_named_escaped(command, models_dir, density_dir, tmp_path, capsys):
    """A file the scan took that the command then refused (a close-up for detect and density, a patch smaller than
    the network reads for classify) was said in a line that printed its name raw (`mammoview detect: /in/a ESC[2J
    b.dcm: ...`): a name from another site cleared the reader's terminal. The JSON keeps the exact path."""
    import numpy as np

    from tests.synthetic import mammo_dataset, write_dataset

    ds = mammo_dataset(np.full((6, 6), 1000, dtype=np.uint16), "L", "CC", pixel_spacing=(0.25, 0.25))
    ds.EstimatedRadiographicMagnificationFactor = 2.0  # a close-up: refused by the CAD, read by the scan
    dcm = tmp_path / "a\x1b[2Jb.dcm"
    write_dataset(ds, dcm)
    out = tmp_path / "out.json"
    models = ["--models-dir", str(density_dir if command == "density" else models_dir)]
    assert main([command, str(dcm), "--json", str(out), "--device", "cpu", *models]) == 1
    err = capsys.readouterr().err
    assert not _controls(err), repr(err)
    assert f"mammoview {command}: {tmp_path}/a\\x1b[2Jb.dcm: " in err, repr(err)
    doc = json.loads(out.read_text())
    entries = doc["images"] if "images" in doc else doc["patches"]
    ((entry,),) = [[e for e in entries if "error" in e]]
    assert entry["path"] == str(dcm), entry


def test_detects_other_lines_name_files_and_studies_escaped(models_dir, breast_with_blob, tmp_path, capsys):
    """Beside the per-file lines, detect printed a file's name raw in its pixel-spacing warning (`no pixel spacing
    in PATH`) and a study's key (here its folder's name; a Patient ID where a study is split by woman) in its SR
    lines (`no SR for study KEY: ...`)."""
    folder = tmp_path / "in\x1b]0;owned\x07"
    folder.mkdir()
    imsave(folder / "a\x1b[2J_L_CC.png", breast_with_blob, cmap="gray")  # a PNG: no spacing, and no SR
    code = main(["detect", str(folder), "--json", str(tmp_path / "d.json"), "--sr", str(tmp_path / "sr")])
    err = capsys.readouterr().err
    assert code == 1 and not _controls(err), repr(err)
    assert "warning: no pixel spacing in " in err and "a\\x1b[2J_L_CC.png" in err, repr(err)
    assert "no SR for study " in err and "in\\x1b]0;owned\\x07" in err, repr(err)
    assert json.loads((tmp_path / "d.json").read_text())["images"][0]["path"] == str(folder / "a\x1b[2J_L_CC.png")


def test_detects_progress_bar_names_the_file_escaped(models_dir, breast_with_blob, tmp_path, monkeypatch):
    """On a terminal detect's progress bar shows the file at work: its name went there raw."""
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    dcm = tmp_path / "a\x1b[2Jb.png"
    imsave(dcm, breast_with_blob, cmap="gray")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["detect", str(dcm), "--json", str(tmp_path / "d.json")]) == 0
    shown = terminal.getvalue()
    assert "a\\x1b[2Jb.png" in shown and "\x1b[2J" not in shown, repr(shown)


def test_why_a_second_stage_is_not_used_is_escaped_on_stderr(monkeypatch, capsys, tmp_path):
    """The reason an installed verifier or malignancy model is not used quotes its file, under a models folder whose
    name may hold control characters: it reached the terminal raw."""
    from mammoview.cad import verification, weights
    from mammoview.cli import detect

    raw = f"{tmp_path}/models\x1b[2J/x.safetensors: SHA-256 mismatch"
    monkeypatch.setattr(verification, "verified_or_alone", lambda model, _d, _dev: (model, raw))
    assert detect.verified_or_not("model", tmp_path, "cpu") == "model"

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise weights.ModelError(f"{tmp_path}/models\x1b[2J/x.safetensors", "SHA-256 mismatch")

    monkeypatch.setattr(weights, "load_optional", broken)
    assert detect.malignancy_or_none(tmp_path, "cpu") is None
    err = capsys.readouterr().err
    assert err.count("is not used") == 2
    assert "\x1b" not in err and "models\\x1b[2J" in err
