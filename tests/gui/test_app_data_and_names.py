"""The app data folder (unwritable, private), and exports to long, odd paths."""

from __future__ import annotations

import os
import sys

import pydicom
import pytest

from mammoview.gui.export import export_study
from mammoview.gui.settings import RecentStudy, ViewerSettings
from tests.gui import cad_support
from tests.synthetic import write_dataset

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
marked_study = cad_support.marked_study  # the fixture `study`


def test_the_viewer_starts_when_its_app_data_folder_cannot_be_made(qtbot, tmp_path, monkeypatch):
    """$MAMMOVIEW_APP_DATA on a read-only disk, a share not mounted, under a file: the viewer starts anyway (its saves
    then say why they fail), instead of ``mammoview view: error: [Errno 13] Permission denied`` and no viewer."""
    from mammoview.gui.main_window import MainWindow

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(blocker / "appdata"))  # mkdir fails here, even for root
    window = MainWindow()
    qtbot.addWidget(window)
    window.jobs.shutdown()
    window.prefetch.shutdown()
    window.priors.shutdown()
    window.frames.shutdown()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_the_settings_file_naming_recent_patients_is_the_users_only(tmp_path, monkeypatch):
    """The recent studies (patient name, ID, date and folders) are in the settings file: 0600 like the reads, not
    world-readable beside them."""
    monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(tmp_path / "appdata"))
    os.umask(0o022)
    settings = ViewerSettings()
    settings.add_recent(RecentStudy(("/data/Mueller Juergen PID-778899/1.dcm",), "Mueller Juergen | ID PID-778899"))
    settings.sync()
    ini = tmp_path / "appdata" / "mammoview.ini"
    assert "PID-778899" in ini.read_text()
    assert ini.stat().st_mode & 0o077 == 0, oct(ini.stat().st_mode)
    settings.add_recent(RecentStudy(("/data/other/1.dcm",), "Other"))  # rewritten: still private
    settings.sync()
    assert ini.stat().st_mode & 0o077 == 0, oct(ini.stat().st_mode)


def test_export_to_a_long_legal_file_name(study, tmp_path):
    """A 240-byte name is a legal file name; the export's temporary files beside it must not be over 255 bytes."""
    name = "Müller Jürgen " + "x" * 220 + ".png"  # 240 bytes in UTF-8
    assert len(name.encode()) == 240
    out = export_study(study, tmp_path / "exports" / name)
    assert out.png.exists() and out.json.exists()


def test_the_reads_folder_is_the_users_only(tmp_path):
    """The reads are 0600; their folder lists hashes of study keys (for a patient-number key, found by trying them
    all), so it is the user's only too, also when it was made before."""
    import stat

    from mammoview.gui.read_state import ReadState
    from mammoview.gui.read_store import ReadStore

    folder = tmp_path / "reads"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    ReadStore(folder).save("1.2.3", ReadState())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    fresh = tmp_path / "fresh" / "reads"
    ReadStore(fresh).save("1.2.3", ReadState())
    assert stat.S_IMODE(fresh.stat().st_mode) & 0o077 == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's own settings file: an INI file on Linux")
@pytest.mark.parametrize("app_data", [True, False], ids=["MAMMOVIEW_APP_DATA", "default folders"])
def test_the_folders_a_file_dialog_opened_are_the_users_only(qtbot, tmp_path, monkeypatch, app_data):
    """Qt's file dialogs save the folders last opened in Qt's own settings file (``~/.config/QtProject.conf``:
    history, lastVisited), which a PACS export's folder names fill with patients' names and IDs: it was written
    world-readable (0644 under the usual umask) beside the settings file made 0600 for that very reason."""
    from PySide6 import QtCore, QtWidgets

    from mammoview.gui.dialogs import ask_paths

    native, user = QtCore.QSettings.Format.NativeFormat, QtCore.QSettings.Scope.UserScope
    config = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.GenericConfigLocation)
    QtCore.QSettings.setPath(native, user, str(tmp_path / "config"))  # the reader's ~/.config for this test
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, user, str(tmp_path / "config"))
    if app_data:
        monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(tmp_path / "appdata"))
    else:
        monkeypatch.delenv("MAMMOVIEW_APP_DATA", raising=False)
    umask = os.umask(0o022)
    closer = QtCore.QTimer()  # accepts the dialog once it is up (a single shot could fire before it, under load)
    try:
        settings = ViewerSettings()
        patient = tmp_path / "Mueller^Juergen_PID-778899" / "20240315"
        patient.mkdir(parents=True)
        settings.set_value("file/last_dir", str(patient))

        def accept() -> None:
            for w in QtWidgets.QApplication.topLevelWidgets():
                if isinstance(w, QtWidgets.QFileDialog) and w.isVisible():
                    w.accept()

        closer.timeout.connect(accept)
        closer.start(50)
        assert ask_paths(None, settings, folder=True) == [str(patient)]
        settings.sync()
    finally:
        closer.stop()
        os.umask(umask)
        QtCore.QSettings.setPath(native, user, config)
        QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, user, config)
    naming = [p for p in tmp_path.rglob("*") if p.is_file() and b"778899" in p.read_bytes()]
    assert any(p.name == "QtProject.conf" for p in naming), naming  # (the dialog saved the folder: checked)
    readable = [f"{p} {oct(p.stat().st_mode)}" for p in naming if p.stat().st_mode & 0o077]
    assert not readable, readable


@pytest.mark.skipif(sys.platform == "win32", reason="Windows names are UTF-16: every name has a UTF-8 form")
def test_a_study_in_a_folder_whose_name_is_not_utf8_opens_and_keeps_its_read(main_window, load, tmp_path):
    """Images without a Study Instance UID are a study by their folder, keyed by its path; in a folder named in
    Latin-1 bytes (an old share or CD: ``lecture_\\xe9``) hashing that key for its saved read raised
    UnicodeEncodeError when the study went up: an unexpected-error dialog, and no read kept."""
    from mammoview.io.study import read_key
    from tests.gui.conftest import SYNTHETIC_VIEWS, write_view

    folder = tmp_path / os.fsdecode(b"lecture_\xe9")
    for view in SYNTHETIC_VIEWS:
        ds = pydicom.dcmread(write_view(tmp_path / "made", f"{view}.dcm", view))
        del ds.StudyInstanceUID
        write_dataset(ds, folder / f"{view}.dcm")
    loaded = load(main_window, [folder])
    assert loaded.study.info.key == str(folder) and all(p.image is not None for p in main_window.panels.values())
    main_window.cad.reader.set_first_read_done()
    assert main_window.worklist.store.peek(read_key(loaded.study.info)).first_read_done
