"""`mammoview info`: real studies, JSON, bad files (exit code, one line each), and a light import path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mammoview.cli import main
from mammoview.cli.info import parse_spacing
from tests.io.conftest import MALIGN_VIEWS, MakeFile
from tests.synthetic import synthetic_breast


def view_lines(out: str) -> dict[str, str]:
    """{file name: "L CC"} from the text output's image lines."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].endswith(".dcm"):
            found[Path(parts[2]).name] = f"{parts[0]} {parts[1]}"
    return found


def test_info_on_the_malignant_case(malign_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(malign_dir)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert view_lines(out) == {"1-280.dcm": "L CC", "1-281.dcm": "L MLO", "1-282.dcm": "R CC", "1-283.dcm": "R MLO"}
    assert out.count("laterality:  L from Laterality (0020,0060) (L)") == 2
    assert "projection:  MLO from PatientOrientation (0020,0020) (MLO)" in out
    assert "spacing:     spacing unknown" in out
    assert "MONOCHROME2, 16 bits stored, RLE Lossless" in out
    assert "4736 rows x 2624 columns" in out
    assert "grouped by CBIS-DDSM patient id P_xxxxx" in out


def test_info_json(malign_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json", str(malign_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    (study,) = data["studies"]
    assert study["key"] == "P_00820" and data["errors"] == []
    views = {Path(i["path"]).name: i["view"] for i in study["images"]}
    assert views == MALIGN_VIEWS
    first = study["images"][0]
    assert first["laterality"]["source"] == "Laterality (0020,0060)"
    assert first["projection"] == {"value": "CC", "source": "PatientOrientation (0020,0020)", "detail": "CC"}
    assert first["pixel_spacing"] is None and first["transfer_syntax"] == "RLE Lossless"


def test_bad_files_exit_non_zero_one_line_each(
    malign_dir: Path, write_dcm: MakeFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_dcm("broken.dcm")
    bad.write_bytes(bad.read_bytes()[:-500])
    text = tmp_path / "notes.txt"
    text.write_text("x")
    rc = main(["info", str(malign_dir / "1-280.dcm"), str(bad), str(text)])
    out, err = capsys.readouterr()
    assert rc == 1
    assert view_lines(out) == {"1-280.dcm": "L CC"}  # the good file still prints
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith(f"{bad}: truncated")
    assert lines[1].startswith(f"{text}: not an image")


def test_pixel_spacing_option(write_raster: MakeFile, capsys: pytest.CaptureFixture[str]) -> None:
    png = write_raster("00001_LEFT_CC.png", synthetic_breast(40, 30, max_value=255, dtype=np.uint8))
    assert main(["info", "--pixel-spacing", "0.29,0.18", str(png)]) == 0
    out = capsys.readouterr().out
    assert "spacing:     0.29 x 0.18 mm (--pixel-spacing option)" in out
    assert "L CC" in out and "file name pattern _LEFT_CC" in out
    assert parse_spacing("0.2") == 0.2
    # DICOM's own separator, as a header dump shows PixelSpacing (it was refused as "not a number")
    assert parse_spacing("0.29\\0.18") == (0.29, 0.18) == parse_spacing("0.29x0.18")
    from mammoview.io.reader import format_spacing

    for text in ("0.2", "0.29,0.177"):  # what the viewer's spacing dialog shows is what it reads back
        assert format_spacing(parse_spacing(text)) == text
    assert format_spacing(None) == "" and format_spacing((0.29, 0.177), " x ") == "0.29 x 0.177"
    for bad in ("0", "a", "1,2,3", "-1"):
        with pytest.raises(Exception, match=r"must be MM or ROW,COL|not a number"):
            parse_spacing(bad)


def test_info_import_path_has_no_torch_or_qt(malign_dir: Path) -> None:
    code = (
        "import sys; from mammoview.cli import main; rc = main(['info', sys.argv[1]]);"
        "heavy = [m for m in ('torch', 'PySide6', 'pyqtgraph', 'mammoview.cad', 'mammoview.gui') if m in sys.modules];"
        "print('HEAVY', heavy); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(malign_dir)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout


def test_a_fresh_process_prints_one_line_per_bad_file_not_pydicoms_log() -> None:
    """pydicom logs every warning it raises; in a real process (its own stderr handler) only ours shows."""
    from pydicom.data import get_testdata_file

    bad = str(get_testdata_file("badVR.dcm"))  # Number of Frames '1A': pydicom warns, the reader refuses
    proc = subprocess.run([sys.executable, "-m", "mammoview", "info", bad], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"{bad}: (0028,0008) NumberOfFrames '1A' is not an integer"]
    debug = subprocess.run([sys.executable, "-m", "mammoview", "--debug", "info", bad], capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert "WARNING pydicom" in debug.stderr  # --debug keeps it


def test_info_names_view_modifiers_close_ups_and_implants(write_dcm: MakeFile, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from pydicom.dataset import Dataset

    from tests.synthetic import code_item

    def magnified_implant(ds: Dataset) -> None:
        ds.ViewModifierCodeSequence = [code_item("SRT", "R-102D6", "Magnification")]
        ds.EstimatedRadiographicMagnificationFactor = "1.8"
        ds.BreastImplantPresent = "YES"
        ds.PartialView = "YES"

    write_dcm("mag.dcm", laterality="L", view="CC", edit=magnified_implant)
    write_dcm("plain.dcm", laterality="R", view="CC")
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("modifiers:") == 1 and "modifiers:   magnification; breast implant present; partial view" in out
    assert main(["info", str(tmp_path), "--json"]) == 0
    images = {Path(i["path"]).name: i for s in json.loads(capsys.readouterr().out)["studies"] for i in s["images"]}
    assert images["mag.dcm"]["view_modifiers"] == ["magnification"] and images["mag.dcm"]["breast_implant"]
    assert images["mag.dcm"]["magnification_factor"] == 1.8 and images["mag.dcm"]["partial_view"]
    assert images["mag.dcm"]["close_up"] == "magnification view (ViewModifierCodeSequence (0054,0222))"
    assert images["plain.dcm"]["view_modifiers"] == [] and images["plain.dcm"]["close_up"] == ""


def test_info_names_a_synthesized_2d_view(write_dcm: MakeFile, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """A synthesized 2-D image (Image Type GENERATED_2D) hangs behind the exposure and gets the CAD's warning; info
    said nothing of it, in text or JSON."""
    from pydicom.dataset import Dataset

    def generated(ds: Dataset) -> None:
        ds.ImageType = ["DERIVED", "PRIMARY", "TOMOSYNTHESIS", "GENERATED_2D"]

    write_dcm("c-view.dcm", laterality="L", view="CC", edit=generated)
    write_dcm("plain.dcm", laterality="R", view="CC")
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("synthesized 2-D") == 1
    assert main(["info", str(tmp_path), "--json"]) == 0
    images = {Path(i["path"]).name: i for s in json.loads(capsys.readouterr().out)["studies"] for i in s["images"]}
    assert images["c-view.dcm"]["synthesized_2d"] and not images["plain.dcm"]["synthesized_2d"]


def test_info_lists_each_studys_priors(write_dcm: MakeFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, uid, date in (("new", "1.2.3.1", "20240601"), ("old", "1.2.3.2", "20230401")):
        write_dcm(f"{name}/LCC.dcm", study_uid=uid, study_date=date, patient_id="PAT-9")
    write_dcm("other/LCC.dcm", study_uid="1.2.3.3", study_date="20200101", patient_id="PAT-8")
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("priors:") == 1 and "  priors:  2023-04-01 (14 months before) 1.2.3.2" in out
    assert main(["info", "--json", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {s["key"]: s["priors"] for s in data["studies"]} == {"1.2.3.1": ["1.2.3.2"], "1.2.3.2": [], "1.2.3.3": []}


@pytest.mark.skipif(sys.platform != "linux", reason="macOS and Windows refuse file names that are not valid Unicode")
def test_a_file_name_that_is_not_utf8_is_printed_escaped(write_dcm: MakeFile, tmp_path: Path) -> None:
    import os

    good = write_dcm("LCC.dcm")
    odd = os.path.join(os.fsencode(tmp_path), b"\xff\xfe_RCC.dcm")  # a name from another system's encoding
    os.rename(os.fsencode(write_dcm("other.dcm")), odd)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}  # strict, as on a UTF-8 desktop
    proc = subprocess.run([sys.executable, "-m", "mammoview", "info", str(tmp_path)], capture_output=True,
                          env=env, timeout=60)  # fmt: skip
    out = proc.stdout.decode("utf-8")
    assert proc.returncode == 0, proc.stderr
    assert str(good) in out and "\\udcff\\udcfe_RCC.dcm" in out


def test_a_reader_that_stops_reading_gets_no_error_message(malign_dir: Path, capsys, monkeypatch) -> None:
    """`mammoview info ... | head -1` printed "mammoview info: error: [Errno 32] Broken pipe" on standard error."""

    class GoneReader:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", GoneReader())
    assert main(["info", str(malign_dir)]) == 1
    assert capsys.readouterr().err == ""


def test_the_header_listing_shows_every_element_nested_and_cuts_long_values(malign_dir: Path, tmp_path) -> None:
    import pydicom

    from mammoview.io.header_dump import MAX_VALUE_CHARS, dicom_rows
    from mammoview.io.model import LoadError

    path = sorted(malign_dir.glob("*.dcm"))[0]
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    rows = dicom_rows(path)
    by_tag = {r.tag: r for r in rows if r.depth == 0}
    assert by_tag["(0002,0010)"].name == "Transfer Syntax UID"  # the file meta come first
    assert by_tag["(0028,0010)"].value == str(ds.Rows) and by_tag["(0028,0010)"].vr == "US"
    assert by_tag["(0010,0020)"].value == str(ds.PatientID)
    assert "(7FE0,0010)" not in by_tag  # the pixel data are never read
    ds.ReferencedImageSequence = [pydicom.Dataset(), pydicom.Dataset()]
    ds.ReferencedImageSequence[1].ReferencedSOPInstanceUID = "1.2.3.4"
    ds.ImageComments = "x" * 5000
    ds.PixelSpacing = [0.07, 0.05]
    edited = tmp_path / "edited.dcm"
    ds.save_as(edited, enforce_file_format=True)
    rows = dicom_rows(edited)
    i = next(k for k, r in enumerate(rows) if r.tag == "(0008,1140)")
    assert rows[i].vr == "SQ" and rows[i].value == "2 items"
    assert [(r.name, r.depth) for r in rows[i + 1 : i + 4]] == [
        ("Item 1", 1),
        ("Item 2", 1),
        ("Referenced SOP Instance UID", 2),
    ]
    assert rows[i + 3].value == "1.2.3.4"
    comment = next(r for r in rows if r.tag == "(0020,4000)")
    assert len(comment.value) < MAX_VALUE_CHARS + 40 and comment.value.endswith("(5000 characters)")
    assert next(r for r in rows if r.tag == "(0028,0030)").value == "0.07\\0.05"
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(LoadError, match="not DICOM"):
        dicom_rows(tmp_path / "notes.txt")
    with pytest.raises(LoadError, match="cannot read"):
        dicom_rows(tmp_path / "missing.dcm")


def test_json_paths_are_absolute_as_detects_are(
    malign_dir: Path, write_dcm: MakeFile, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """A script joins info's JSON with detect's by path: both absolute, as named (a link is not resolved)."""
    bad = write_dcm("broken.dcm")
    bad.write_bytes(bad.read_bytes()[:-500])
    link = tmp_path / "case"
    link.symlink_to(malign_dir)
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--json", "case", bad.name]) == 1
    data = json.loads(capsys.readouterr().out)
    paths = [i["path"] for i in data["studies"][0]["images"]]
    assert paths and all(Path(p).is_absolute() and Path(p).parent == link for p in paths)
    (error,) = data["errors"]
    assert Path(error["path"]).is_absolute() and Path(error["path"]).name == "broken.dcm"


def test_control_characters_from_a_file_reach_the_terminal_escaped(
    write_dcm: MakeFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A header or a file name handed over with terminal control sequences (ESC ]0;...BEL sets the window title,
    ESC [2J clears the screen, ESC [8m hides what follows) must not drive the reader's terminal: `info` printed them
    raw. They are printed escaped, as Python writes them (``\\x1b``); the JSON escapes them already."""

    def hostile(ds: Any) -> None:
        ds.PatientName = "Doe\x1b]0;owned\x07^Jane"
        ds.PatientID = "PID\x1b[2J\x1b[8m7\x9b31m"

    write_dcm("LCC.dcm", laterality="L", view="CC", edit=hostile)
    bad = tmp_path / "bad\x1b[2J.dcm"
    bad.write_bytes(b"not an image at all")
    assert main(["info", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    controls = [c for c in out + err if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0]
    assert not controls, controls
    assert "Doe\\x1b]0;owned\\x07^Jane" in out and "PID\\x1b[2J\\x1b[8m7\\x9b31m" in out
    assert "bad\\x1b[2J.dcm" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["detect", "classify", "density"])
def test_the_batch_commands_print_a_files_control_characters_escaped(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The per-file error lines of detect / classify / density, and the one-line error of any command, printed a
    file name's ESC sequences raw to the terminal (info's own lines were escaped already)."""
    folder = tmp_path / "in\x1b]0;owned\x07"
    folder.mkdir()
    (folder / "bad\x1b[2J.dcm").write_bytes(b"DICM" * 10)
    quiet = [] if command == "density" else ["--quiet"]  # (density draws no progress bar)
    main([command, str(folder), "--json", str(tmp_path / "out.json"), *quiet])
    main([command, str(folder / "missing\x1b[8m.dcm"), "--json", str(folder / "bad\x1b[2J.dcm"), *quiet])
    err = capsys.readouterr().err
    controls = [c for c in err if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0]
    assert not controls, err
    assert "bad\\x1b[2J.dcm" in err
