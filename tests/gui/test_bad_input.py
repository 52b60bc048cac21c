"""Bad input never stops the viewer: corrupt files, odd modalities, duplicates, unknown views."""

from __future__ import annotations

import numpy as np
import pydicom
from PIL import Image
from PySide6 import QtCore, QtWidgets

from mammoview.io.model import View
from tests.gui.conftest import failing_for, grab_gray, write_view
from tests.gui.test_hanging import assert_faces_chest_wall
from tests.synthetic import synthetic_breast


def test_corrupt_files_are_named_and_the_other_views_load(main_window, load, synthetic_study):
    (synthetic_study / "garbage.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x13\x37" * 200)
    ds = pydicom.dcmread(write_view(synthetic_study.parent / "tmp", "x.dcm", "LMLO"))
    ds.PixelData = ds.PixelData[:1000]  # written short: all its 1000 bytes in the file, the header asking for more
    ds.save_as(synthetic_study / "truncated.dcm", enforce_file_format=True)
    reports: list[tuple[str, str]] = []
    main_window.problemsReported.connect(lambda title, text: reports.append((title, text)))
    load(main_window, [synthetic_study])
    text = "\n".join(t for _, t in reports)
    assert "garbage.dcm: no Pixel Data" in text
    assert "truncated.dcm: Pixel Data holds 1000 bytes where" in text
    boxes = [b for b in main_window.findChildren(QtWidgets.QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "garbage.dcm" in boxes[0].text() and "truncated.dcm" in boxes[0].text()
    for view, panel in main_window.panels.items():
        assert panel.image is not None and panel.image.view is view
        assert_faces_chest_wall(panel)


def test_an_image_failing_to_decode_leaves_the_others(main_window, load, synthetic_study, monkeypatch):
    import mammoview.io.study as study_module

    monkeypatch.setattr(study_module, "decode", failing_for("LCC.dcm", study_module.decode, "RLE segment 1 is corrupt"))
    loaded = load(main_window, [synthetic_study])
    assert [e.path.name for e in loaded.study.errors] == ["LCC.dcm"]
    title, text = main_window.last_message
    assert title == "Study opened with problems" and "LCC.dcm: RLE segment 1 is corrupt" in text
    assert "LCC.dcm" in main_window.statusBar().currentMessage()
    lcc = main_window.panels[View.LCC]
    assert lcc.image is None and lcc.labels.empty_text().startswith("L CC — its image could not be read")
    for view in (View.RCC, View.RMLO, View.LMLO):
        assert_faces_chest_wall(main_window.panels[view])


def test_an_unreadable_file_and_the_view_it_leaves_empty_are_one_report(main_window, load, synthetic_study):
    """The file the scan could not read and the study's missing view it explains come in one dialog, not two
    stacked; the empty panel says why it is empty, and before any study the panels say how to open one."""
    assert main_window.panels[View.LMLO].labels.empty_text().startswith("L MLO — no study open")
    assert main_window.cad.findings.note.text().startswith("No study open")
    tools = [main_window.commands[name] for name in ("cad_run", "cad_mark_mode", "measure")]
    assert not any(a.isEnabled() for a in tools) and all("Open a study first" in a.toolTip() for a in tools)
    data = (synthetic_study / "LMLO.dcm").read_bytes()
    (synthetic_study / "LMLO.dcm").write_bytes(data[: len(data) // 2])
    reports: list[tuple[str, str]] = []
    main_window.problemsReported.connect(lambda title, text: reports.append((title, text)))
    load(main_window, [synthetic_study])
    assert len(reports) == 1
    title, text = reports[0]
    assert title == "Study opened with problems" and "LMLO.dcm" in text and "no image for L MLO" in text
    assert len([b for b in main_window.findChildren(QtWidgets.QMessageBox) if b.isVisible()]) == 1
    assert main_window.panels[View.LMLO].labels.empty_text() == "L MLO — no image"
    assert main_window.panels[View.RCC].labels.empty_text() == ""
    assert all(a.isEnabled() for a in tools)


def test_a_thumbnail_in_a_views_place_is_named(main_window, load, synthetic_study):
    from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

    ds = mammo_dataset(synthetic_breast(40, 30, chest_wall="left", seed=1), laterality="R", view="CC",
                       study_uid=pydicom.dcmread(synthetic_study / "LCC.dcm").StudyInstanceUID)  # fmt: skip
    write_dataset(ds, synthetic_study / "RCC.dcm")
    load(main_window, [synthetic_study])
    title, text = main_window.last_message
    assert title == "Study opened with problems" and "RCC.dcm: only 30 x 40 pixels: a thumbnail or icon" in text
    assert not any(name in text for name in ("LCC.dcm", "RMLO.dcm", "LMLO.dcm"))


def test_non_mammography_modality_loads_with_a_warning(main_window, load, tmp_path):
    folder = tmp_path / "ct"
    for view in ("RCC", "LCC"):
        write_view(folder, f"{view}.dcm", view, modality="CT")
    load(main_window, [folder])
    assert main_window.panels[View.RCC].image is not None
    assert "not MG" in main_window.last_message[1]


def test_duplicates_are_kept_warned_and_selectable(main_window, load, synthetic_study):
    write_view(synthetic_study, "RCC-again.dcm", "RCC", patient_orientation=None)
    load(main_window, [synthetic_study])
    assert "2 images claim R CC" in main_window.last_message[1]
    rcc = main_window.panels[View.RCC]
    options = main_window.choices[View.RCC]
    assert len(options) == 2 and rcc.display is options[0]
    assert "(1 of 2)" in rcc.labels.title.text()
    main_window.menus["Duplicates"].aboutToShow.emit()  # the menu lists both files
    sub = main_window.menus["Duplicates"].actions()[0].menu()
    assert [a.text() for a in sub.actions()] == [d.image.path.name for d in options]
    sub.actions()[1].trigger()
    assert rcc.display is options[1] and "(2 of 2)" in rcc.labels.title.text()
    main_window.commands["next_duplicate"].trigger()  # acts on the active panel (R CC)
    assert rcc.display is options[0]


def test_unknown_view_is_assigned_by_the_reader(main_window, load, tmp_path):
    folder = tmp_path / "unknown"
    for view in ("RCC", "LCC", "RMLO"):
        write_view(folder, f"{view}.dcm", view)
    write_view(folder, "mystery.dcm", "LMLO", laterality=None, projection=None)
    load(main_window, [folder])
    assert (
        "view unknown" in main_window.last_message[1]
        and "right-click the panel of its view" in main_window.last_message[1]
    )
    assert [d.image.path.name for d in main_window.unplaced] == ["mystery.dcm"]
    lmlo = main_window.panels[View.LMLO]
    assert lmlo.image is None
    main_window.menus["Unplaced"].aboutToShow.emit()
    sub = main_window.menus["Unplaced"].actions()[0].menu()
    next(a for a in sub.actions() if a.text() == "Show as L MLO").trigger()
    assert lmlo.image is not None and lmlo.image.view is View.LMLO
    assert lmlo.image.info.laterality.source == "assigned by reader"
    assert not main_window.unplaced
    assert_faces_chest_wall(lmlo)  # flips were recomputed for the assigned view


def test_a_failing_job_reports_and_the_viewer_keeps_working(main_window, load, synthetic_study, qtbot, monkeypatch):
    load(main_window, [synthetic_study])
    import mammoview.gui.loader as loader

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(loader, "open_paths", boom)
    with qtbot.waitSignal(main_window.problemsReported, timeout=10_000):
        main_window.open_paths([str(synthetic_study)])
    assert "disk on fire" in main_window.last_message[1]
    assert grab_gray(main_window.panels[View.RCC]).max() > 0  # the old study is still shown


def test_drop_files_on_the_window_opens_them(main_window, qtbot, synthetic_study):
    from PySide6 import QtGui

    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(synthetic_study))])
    pos = QtCore.QPointF(100, 100)
    args = (QtCore.Qt.DropAction.CopyAction, mime, QtCore.Qt.MouseButton.LeftButton,
            QtCore.Qt.KeyboardModifier.NoModifier)  # fmt: skip
    # QDragEnterEvent takes an integer QPoint (its C++ signature); QDropEvent a QPointF.
    enter = QtGui.QDragEnterEvent(pos.toPoint(), *args)
    main_window.dragEnterEvent(enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(main_window.studyShown, timeout=20_000):
        main_window.dropEvent(QtGui.QDropEvent(pos, *args))
    assert all(p.image is not None and p.image.view is v for v, p in main_window.panels.items())


def test_a_float_tiff_normalised_to_0_1_is_shown_not_black(main_window, load, tmp_path):
    """ML pipelines save float32 TIFFs in [0, 1]; the pyramid truncated them to the integers 0 and 1, so the
    panel showed a black image (the CAD, on the float values, saw the breast)."""
    px = synthetic_breast(400, 300, max_value=4095).astype(np.float32) / 4095.0
    folder = tmp_path / "float"
    folder.mkdir()
    Image.fromarray(px).save(folder / "scan_LCC.tif")
    loaded = load(main_window, [folder])
    display = loaded.displays[main_window.panels[View.LCC].image]
    assert len(np.unique(display.pyramid.levels[0])) > 100  # the breast's grey levels, not 0 and 1
    assert display.stats.tissue_high > display.stats.tissue_low  # a window over the tissue


def test_one_image_that_cannot_be_prepared_does_not_lose_the_study(main_window, load, synthetic_study, monkeypatch):
    """prepare_display failing on one image (e.g. a float TIFF with values ~1e30: OverflowError in the pyramid)
    raised through pool.map: the whole load job failed ("Could not open") and the good views were not shown."""
    import mammoview.gui.loader as loader

    real = loader.prepare_display

    def flaky(image):  # type: ignore[no-untyped-def]
        if image.info.path.name == "LCC.dcm":
            raise OverflowError("Python int too large to convert to C long")
        return real(image)

    monkeypatch.setattr(loader, "prepare_display", flaky)
    loaded = load(main_window, [synthetic_study])
    assert [e.path.name for e in loaded.study.errors] == ["LCC.dcm"]
    assert "LCC.dcm: cannot be prepared for display" in main_window.last_message[1]
    for view in (View.RCC, View.RMLO, View.LMLO):
        assert main_window.panels[view].image is not None
    assert main_window.panels[View.LCC].labels.empty_text().startswith("L CC — its image could not be read")


def test_a_corrupt_file_is_reported_with_its_own_study_in_a_worklist(main_window, load, qtbot, tmp_path):
    """A worklist of two studies where a file of the SECOND one is corrupt: it was reported in the first study's
    dialog (a study it has nothing to do with) and the second study said only "no image for L CC"."""
    first, second = tmp_path / "batch" / "a", tmp_path / "batch" / "b"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(first, f"{view}.dcm", view, study_uid="1.2.3.1", patient_id="A")
        write_view(second, f"{view}.dcm", view, study_uid="1.2.3.2", patient_id="B")
    data = (second / "LCC.dcm").read_bytes()
    (second / "LCC.dcm").write_bytes(data[: len(data) // 2])
    reports: list[tuple[str, str]] = []
    main_window.problemsReported.connect(lambda title, text: reports.append((title, text)))
    load(main_window, [tmp_path / "batch"])
    assert len(main_window.worklist) == 2
    assert not any("LCC.dcm" in text for _, text in reports), reports  # study A is fine: no dialog about B's file
    reports.clear()
    with qtbot.waitSignal(main_window.studyShown, timeout=30_000):
        main_window.step_study(+1)
    text = "\n".join(t for _, t in reports)
    assert "LCC.dcm: truncated" in text, text  # said with the study it belongs to
