"""An anonymised export of a PACS-named study (name and ID in its folder and file names too) names nobody: not in
the JSON, the PNG's bytes (no text chunks) or the default file name, with the real CAD, a reader mark and both
layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom

from mammoview.gui.export import export_study
from mammoview.gui.export_dialog import default_name
from mammoview.gui.read_state import MarkKind, image_key
from mammoview.io.model import View

SECRETS = ("Doe", "Jane", "PID12345", "ACC999", "19600101", "20240315")


def pacs_study(src: Path, dst: Path) -> Path:
    folder = dst / "Doe^Jane_PID12345" / "20240315_ACC999"
    folder.mkdir(parents=True)
    for i, f in enumerate(sorted(src.glob("*.dcm"))):
        ds = pydicom.dcmread(f)
        ds.ImageLaterality, ds.ViewPosition = ds.Laterality, ds.PatientOrientation  # (the demo's only record of them)
        ds.PatientName = "Doe^Jane"
        ds.PatientID = "PID12345"
        ds.AccessionNumber = "ACC999"
        ds.PatientBirthDate = "19600101"
        ds.StudyDate = "20240315"
        ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.777"
        ds.save_as(folder / f"PID12345_Doe_Jane_{i}.dcm")
    return folder


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk of a PNG file."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        out.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]))
        pos += 12 + n
    return out


def test_an_anonymised_export_names_nobody(main_window, load, qtbot, demo_dir, tmp_path):
    w = main_window
    folder = pacs_study(demo_dir, tmp_path)
    load(w, [folder])
    qtbot.waitUntil(lambda: w.cad.model_info is not None or bool(w.cad.unavailable), timeout=60_000)
    assert w.cad.unavailable is None
    w.cad.reader.add(View.RCC, image_key(w.panels[View.RCC].image), 300, 600, MarkKind.MASS)
    with qtbot.waitSignal(w.cad.runner.resultReady, timeout=120_000):
        w.cad.run()
    w.commands["cad_first_read_done"].trigger()
    qtbot.wait(200)
    out = export_study(w, tmp_path / "out" / "x.png", anonymize=True)
    out2 = export_study(w, tmp_path / "out" / "y.png", anonymize=True, active_only=True)
    text = out.json.read_text() + out2.json.read_text()
    # every chunk but the compressed pixels (IDAT: its bytes hold any 3-byte string by chance now and then, as
    # b"Doe" did once in CI), and no text chunk at all
    chunks = png_chunks(out.png.read_bytes()) + png_chunks(out2.png.read_bytes())
    assert not [kind for kind, _ in chunks if kind in (b"tEXt", b"zTXt", b"iTXt", b"eXIf")]
    raw = b"".join(kind + body for kind, body in chunks if kind != b"IDAT")
    leaks = [s for s in SECRETS if s in text or s.encode() in raw]
    uids = [str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in folder.glob("*.dcm")]
    uids += [str(pydicom.dcmread(f, stop_before_pixels=True).StudyInstanceUID) for f in folder.glob("*.dcm")]
    leaks += [u for u in uids if u in text]
    leaks += [s for s in SECRETS if s in default_name(w)]
    assert not leaks, leaks
    assert json.loads(out.json.read_text())["images"], "the export has its images (the check read something)"
