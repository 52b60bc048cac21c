"""Bad input: each case is a LoadError naming the file with a one-line reason; other files still load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import RLELossless

from mammoview.io import LoadError, load_study, open_paths, read_image, read_info, scan_paths
from mammoview.io.pixels import to_presentation
from tests.io.conftest import MakeFile
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def assert_one_line(err: LoadError, path: Path, *words: str) -> None:
    text = str(err)
    assert text.startswith(f"{path}: ")
    assert "\n" not in text and "Traceback" not in text
    for w in words:
        assert w in err.reason, err.reason


def truncate(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def test_truncated_native_dicom(write_dcm: MakeFile) -> None:
    path = truncate(write_dcm("t.dcm"), 0.6)
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "truncated", "Pixel Data")


def test_truncated_rle_dicom(tmp_path: Path) -> None:
    px = synthetic_breast(80, 60)
    ds = mammo_dataset(px)
    ds.compress(RLELossless, px)
    path = truncate(write_dataset(ds, tmp_path / "rle.dcm"), 0.7)
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "truncated")


def test_truncated_in_the_header(write_dcm: MakeFile) -> None:
    path = write_dcm("h.dcm")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path)


def test_corrupt_compressed_pixels_fail_at_decode(tmp_path: Path) -> None:
    ds = mammo_dataset(synthetic_breast(40, 30))
    ds.PixelData = encapsulate([b"\x01\x00\x00\x00" + b"\xff" * 200])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = RLELossless
    path = write_dataset(ds, tmp_path / "bad_rle.dcm")
    read_info(path)  # the header is fine
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "cannot decode pixel data")


def test_a_decoder_panic_is_a_load_error_not_a_hang(tmp_path: Path) -> None:
    """pylibjpeg-rle (Rust) panics on some corrupt RLE data: pyo3's PanicException is a BaseException, which an
    ``except Exception`` misses (the viewer's decode job then never ended)."""
    ds = mammo_dataset(synthetic_breast(64, 64))
    ds.compress(RLELossless, encoding_plugin="pydicom")
    path = write_dataset(ds, tmp_path / "rle.dcm")
    data = bytearray(path.read_bytes())
    data[data.find(b"\xe0\x7f\x10\x00") + 41] = 0  # the RLE header's third segment offset: out of bounds
    path.write_bytes(bytes(data))
    read_info(path)
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "cannot decode pixel data (PanicException")


def test_keyboard_interrupt_while_decoding_is_not_a_load_error(write_dcm: MakeFile, monkeypatch) -> None:
    from mammoview.io import dicom

    path = write_dcm("k.dcm")

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(dicom, "pixel_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_image(path)


def test_a_deflated_file_decodes(tmp_path: Path) -> None:
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    px = synthetic_breast(40, 30)
    ds = mammo_dataset(px)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = write_dataset(ds, tmp_path / "deflated.dcm")
    image = read_image(path)
    assert image.info.transfer_syntax == "Deflated Explicit VR Little Endian"
    np.testing.assert_array_equal(image.stored, px)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda ds: setattr(ds, "Columns", ds.Columns - 1), "80 rows x 59 columns"),
        (lambda ds: (setattr(ds, "BitsAllocated", 8), setattr(ds, "BitsStored", 8), setattr(ds, "HighBit", 7)),
         "x 8 bits"),
        (lambda ds: setattr(ds, "PixelData", ds.PixelData * 2), "2 frames' worth"),
    ],
    ids=["columns-one-short", "bits-allocated-8-over-16-bit-data", "a-second-frame-not-counted"],
)  # fmt: skip
def test_pixel_data_the_header_does_not_describe_is_refused(tmp_path: Path, edit, words: str) -> None:  # type: ignore[no-untyped-def]
    """More data than Rows x Columns x bits x frames is a wrong header, not padding: shown, it would be a sheared or
    garbled picture (and the CAD would score it)."""
    ds = mammo_dataset(synthetic_breast(80, 60))
    edit(ds)
    path = write_dataset(ds, tmp_path / "wrong.dcm")
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "Pixel Data holds", words, "is wrong")


def test_zero_padding_after_the_pixels_is_accepted_and_named(tmp_path: Path) -> None:
    """Older writers pad Pixel Data (a real 8975 x 1897 file had 19 kB more); PS3.5 8.1.1 asks readers to accept it."""
    px = synthetic_breast(80, 60)
    ds = mammo_dataset(px)
    ds.PixelData = ds.PixelData + bytes(5 * 60 * 2)  # five rows of zeros
    path = write_dataset(ds, tmp_path / "padded.dcm")
    info = read_info(path)
    assert any("bytes of zero padding after the 9600 the header describes" in w for w in info.warnings)
    np.testing.assert_array_equal(read_image(path).stored, px)


def test_padding_the_file_does_not_hold_is_truncation_not_padding(tmp_path: Path) -> None:
    ds = mammo_dataset(synthetic_breast(80, 60))
    ds.PixelData = ds.PixelData + bytes(5 * 60 * 2)
    path = write_dataset(ds, tmp_path / "cut.dcm")
    path.write_bytes(path.read_bytes()[:-300])  # cut inside the padding: the image is whole, the element is not
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "truncated: Pixel Data declares 10200 bytes, the file holds 9900")


def test_padding_and_subsampled_colour_are_no_size_error() -> None:
    from pydicom.data import get_testdata_file

    for name in ("MR_small_padded.dcm", "SC_ybr_full_422_uncompressed.dcm"):  # 128 bytes of padding; YBR 4:2:2
        read_info(get_testdata_file(name))


def test_a_frame_count_below_one_is_named(write_dcm: MakeFile) -> None:
    path = write_dcm("f.dcm", edit=lambda ds: setattr(ds, "NumberOfFrames", -1))
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "NumberOfFrames -1 is not a count of frames")


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_or_device_named_explicitly_is_refused_not_read(tmp_path: Path) -> None:
    import os

    from tests.conftest import error_of_a_read_that_ends

    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    for path in (fifo, Path("/dev/zero")):  # and this one never ends
        err = error_of_a_read_that_ends(lambda p=path: read_info(p), fifo, LoadError)
        assert isinstance(err, LoadError)
        assert_one_line(err, path, "is not a regular file")


def test_garbage_after_dicom_prefix(tmp_path: Path) -> None:
    path = tmp_path / "garbage.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + bytes(range(256)) * 8)
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path)


def test_dicom_without_pixel_data(tmp_path: Path) -> None:
    ds = mammo_dataset(synthetic_breast(20, 20))
    del ds.PixelData
    path = write_dataset(ds, tmp_path / "sr.dcm")
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "no Pixel Data (7FE0,0010)")


def test_unsupported_transfer_syntax(tmp_path: Path) -> None:
    ds = mammo_dataset(synthetic_breast(20, 20))
    ds.PixelData = encapsulate([b"\x00" * 64])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2 Main Profile / Main Level
    path = write_dataset(ds, tmp_path / "mpeg.dcm")
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "unsupported transfer syntax", "MPEG2")


def test_a_non_integer_image_attribute_is_named() -> None:
    """pydicom keeps an IS value it cannot parse as text: its own badVR.dcm has Number of Frames '1A'."""
    from pydicom.data import get_testdata_file

    path = Path(str(get_testdata_file("badVR.dcm")))
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "(0028,0008) NumberOfFrames '1A' is not an integer")


def test_palette_colour_is_refused(pydicom_data: Path) -> None:
    with pytest.raises(LoadError) as exc:
        read_info(pydicom_data / "OBXXXX1A.dcm")
    assert_one_line(exc.value, pydicom_data / "OBXXXX1A.dcm", "PALETTE COLOR")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("notes.txt", b"hello", ("not an image",)),
        ("blob", b"just some bytes, no DICOM here" * 10, ("not an image (neither DICOM",)),
        ("zeros", b"\x00" * 100_000, ("not an image (neither DICOM",)),  # said at once, not parsed to its end
        ("fake.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, ()),
        # a copy that never got its bytes (a full disk, a transfer stopped): said as such, not as a foreign format
        ("RCC.dcm", b"", ("empty file (0 bytes)",)),
    ],
)
def test_non_image_files(tmp_path: Path, name: str, content: bytes, words: tuple[str, ...]) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, *words)


def test_truncated_png_fails_at_decode(write_raster: MakeFile) -> None:
    path = write_raster("cut.png", synthetic_breast(200, 150, max_value=255, dtype=np.uint8))
    truncate(path, 0.5)
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path)


def test_folder_with_bad_files_still_loads_the_good_ones(write_dcm: MakeFile, tmp_path: Path) -> None:
    good = [write_dcm(f"{v}.dcm", laterality=v[0], view=v[1:], study_uid="1.2.3") for v in ("RCC", "LCC")]
    bad = truncate(write_dcm("RMLO.dcm", laterality="R", view="MLO", study_uid="1.2.3"), 0.5)
    (tmp_path / "report.txt").write_text("ignored")
    studies, errors = open_paths([tmp_path])
    assert [e.path for e in errors] == [bad]
    assert len(studies) == 1 and [i.path for i in studies[0].images] == good


def test_file_damaged_between_scan_and_load(write_dcm: MakeFile, tmp_path: Path) -> None:
    a = write_dcm("a.dcm", laterality="R", view="CC", study_uid="1.2.3")
    b = write_dcm("b.dcm", laterality="L", view="CC", study_uid="1.2.3")
    (study,), _ = open_paths([tmp_path])
    b.write_bytes(b"")  # gone bad after the scan
    loaded = load_study(study)
    assert [i.path for i in loaded.images] == [a]
    assert len(loaded.errors) == 1 and loaded.errors[0].path == b


def test_explicit_irrelevant_file_is_an_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# notes")
    result = scan_paths([notes])
    assert result.images == () and [e.path for e in result.errors] == [notes]


def test_dicom_objects_without_pixels_skipped_in_folders_named_when_asked(write_dcm: MakeFile, tmp_path: Path) -> None:
    """A PACS export puts structured reports and presentation states beside the images of a study."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from mammoview.io import NotAnImage

    def non_image(name: str, sop_class: str) -> Path:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = sop_class, meta.MediaStorageSOPInstanceUID, "SR"
        path = tmp_path / name
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        return path

    image = write_dcm("lcc.dcm")
    sr = non_image("report.dcm", "1.2.840.10008.5.1.4.1.1.88.33")  # Comprehensive SR
    pr = non_image("state.dcm", "1.2.840.10008.5.1.4.1.1.11.1")  # Grayscale Softcopy Presentation State
    non_image("plan.dcm", "1.2.840.10008.5.1.4.1.1.481.5")  # RT Plan (a hospital export's odd neighbour)
    scan = scan_paths([tmp_path])
    assert [i.path for i in scan.images] == [image] and scan.errors == ()
    scan = scan_paths([sr, pr])  # named explicitly: each says what it is
    assert not scan.images and all(isinstance(e, NotAnImage) for e in scan.errors)
    assert_one_line(scan.errors[0], sr, "not an image: a DICOM structured report", "1.2.840.10008.5.1.4.1.1.88.33")
    assert_one_line(scan.errors[1], pr, "not an image: a DICOM presentation state")
    # named by itself after a folder holding it (`detect folder/ folder/report.dcm`): still said (it was dropped,
    # the folder having marked it as read); the folder's images as before
    scan = scan_paths([tmp_path, sr])
    assert [i.path for i in scan.images] == [image] and [e.path for e in scan.errors] == [sr]
    scan = scan_paths([sr, tmp_path])  # the other order: the same
    assert [i.path for i in scan.images] == [image] and [e.path for e in scan.errors] == [sr]
    image.unlink()
    (err,) = scan_paths([tmp_path]).errors
    assert err.path == tmp_path and err.reason == "no image files in this folder"


def test_an_image_far_larger_than_a_mammogram_is_refused_at_its_header(tmp_path: Path) -> None:
    """20000 x 20000 px would take ~4 GB in the viewer: said in one line before any decoding."""
    path = tmp_path / "huge.pgm"
    path.write_bytes(b"P5\n20000 20000\n65535\n")  # a header, no pixels: only the header is read
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "20000 x 20000 px (400 Mpx) is far larger than a mammogram", "~4 GB")
    ok = tmp_path / "ok.pgm"
    ok.write_bytes(b"P5\n4000 3000\n255\n" + bytes(4000 * 3000))  # 12 Mpx: a mammogram's size
    assert read_info(ok).rows == 3000


def test_ascii_pgm_samples_outside_its_maxval_are_named(tmp_path: Path) -> None:
    path = tmp_path / "odd.pgm"
    path.write_text("P2\n3 1\n255\n-2 100 300\n")  # -2 and 300 would wrap round to 254 and 44
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "PGM/PPM samples -2..300 outside 0..255")


def test_binary_pgm_samples_above_its_maxval_are_named_as_the_ascii_forms_are(tmp_path: Path) -> None:
    path = tmp_path / "odd.pgm"
    path.write_bytes(b"P5\n3 1\n100\n" + bytes([0, 100, 200]))  # 7 bits said, 200 stored
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "PGM/PPM samples 0..200 outside 0..100")
    path.write_bytes(b"P5\n3 1\n100\n" + bytes([0, 50, 100]))
    assert read_image(path).stored.max() == 100


def test_a_float_raster_is_read_as_16_bit_steps_with_its_values(tmp_path: Path) -> None:
    px = synthetic_breast(80, 60, max_value=4095).astype(np.float32) / 4095.0
    path = tmp_path / "norm.tif"
    Image.fromarray(px).save(path)
    image = read_image(path)
    assert image.stored.dtype == np.uint16
    assert any("floating-point pixels" in w for w in image.info.warnings)
    # modality values are the file's floats again (to 1/65535 of the range), and the CAD sees the same picture
    from mammoview.io.pixels import apply_modality

    np.testing.assert_allclose(apply_modality(image.stored, image.info.chain), px, atol=1.0 / 65535)
    lo, hi = px.min(), px.max()
    np.testing.assert_allclose(to_presentation(image.stored, image.info.chain), (px - lo) / (hi - lo), atol=1e-4)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda ds: setattr(ds, "Laterality", "R"), "ImageLaterality (0020,0062) L but Laterality (0020,0060) R"),
        (lambda ds: setattr(ds, "PatientID", "Mass-Test_P_00001_RIGHT_CC"),
         "ImageLaterality (0020,0062) L but PatientID (0010,0020) names R"),
        (lambda ds: setattr(ds, "ViewPosition", "MLO"),
         "ViewCodeSequence (0054,0220) CC but ViewPosition (0018,5101) MLO"),
    ],
    ids=["image-vs-series-laterality", "tag-vs-cbis-patient-id", "view-code-vs-view-position"],
)  # fmt: skip
def test_contradicting_view_tags_are_named(write_dcm: MakeFile, edit, words: str) -> None:  # type: ignore[no-untyped-def]
    """A file whose own tags disagree about the side (or the projection) hung silently by the first tag: a wrong
    side shown as right, with nothing to make the reader look twice."""
    from pydicom.dataset import Dataset

    def setup(ds):  # type: ignore[no-untyped-def]
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "399162004", "SCT", "cranio-caudal"
        ds.ViewCodeSequence = [code]
        edit(ds)

    info = read_info(write_dcm("x.dcm", laterality="L", view="CC", edit=setup))
    assert info.view is not None and info.view.value == "LCC"  # the first rule still decides
    assert any(words in w for w in info.warnings), info.warnings


def test_consistent_view_tags_give_no_warning(write_dcm: MakeFile) -> None:
    info = read_info(write_dcm("ok.dcm", laterality="L", view="CC", edit=lambda ds: setattr(ds, "Laterality", "L")))
    assert not any("but" in w for w in info.warnings), info.warnings


def test_a_raster_far_larger_than_a_mammogram_gets_the_readers_own_message(tmp_path: Path) -> None:
    """Above Pillow's bomb limit (179 Mpx) the user read Pillow's "could be decompression bomb DOS attack"."""
    from mammoview.io import LoadError

    path = tmp_path / "huge.png"
    Image.new("L", (14000, 14000)).save(path)  # 196 Mpx, a few hundred kB of zeros
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert "far larger than a mammogram" in exc.value.reason, exc.value.reason


def test_a_pixel_spacing_that_makes_no_mammograms_size_is_said(write_dcm: MakeFile, tmp_path: Path) -> None:
    """PixelSpacing 1000 (micrometres written as mm) or 1e-9 mm gave no word in `info` or the viewer while every
    length and position in mm used it (only the CAD refused the image)."""
    from mammoview.io.model import StudyInfo
    from mammoview.io.reader import with_spacing

    px = synthetic_breast(400, 300)
    ok = read_info(write_dcm("ok.dcm", px, pixel_spacing=(0.1, 0.1)))
    assert not any("no mammogram's size" in w for w in ok.warnings)
    for spacing in ((1000.0, 1000.0), (1e-9, 1e-9)):
        info = read_info(write_dcm("odd.dcm", px, pixel_spacing=spacing))
        (said,) = [w for w in info.warnings if "no mammogram's size" in w]
        assert f"{spacing[0]:.4g} x {spacing[1]:.4g} mm" in said and "PixelSpacing" in said
    png = tmp_path / "x.png"
    Image.fromarray((synthetic_breast(400, 300) // 16).astype(np.uint8)).save(png)
    assert not any("no mammogram's size" in w for w in read_info(png).warnings)  # no spacing: nothing to check
    typo = read_info(png, pixel_spacing=100.0)  # --pixel-spacing in um
    assert any("no mammogram's size" in w and "--pixel-spacing" in w for w in typo.warnings)
    # Image > Pixel spacing on a study: the warning follows the spacing given, not the one before
    study = StudyInfo("k", "folder", (read_info(png),))
    wrong = with_spacing(study, 100.0).images[0]
    assert sum("no mammogram's size" in w for w in wrong.warnings) == 1
    fixed = with_spacing(StudyInfo("k", "folder", (wrong,)), 0.1).images[0]
    assert not any("no mammogram's size" in w for w in fixed.warnings)


def test_a_whole_file_whose_rows_say_more_than_its_pixel_data_is_not_called_truncated(write_dcm: MakeFile) -> None:
    """Pixel Data whole (its declared length all in the file) but shorter than Rows x Columns make: the header is
    wrong, not the file cut off; "truncated" sent the reader to copy a file again that was whole."""
    path = write_dcm("rows.dcm", edit=lambda ds: setattr(ds, "Rows", ds.Rows + 2))
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "Rows, Columns, Bits Allocated or Number of Frames is wrong")
    assert "truncated" not in exc.value.reason, exc.value.reason


@pytest.mark.parametrize("allocated", [0, 12, 128])
def test_a_bits_allocated_that_is_no_sample_size_is_named(write_dcm: MakeFile, allocated: int) -> None:
    """A Bits Allocated of 0 read as 16 (``int(0 or 16)``) without a word; 12 and 128 failed at decode in pydicom's
    words."""
    path = write_dcm("bits.dcm", edit=lambda ds: setattr(ds, "BitsAllocated", allocated))
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, f"(0028,0100) Bits Allocated {allocated} is no size of a pixel sample")
