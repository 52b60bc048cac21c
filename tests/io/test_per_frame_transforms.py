"""A tomosynthesis volume whose frames are rescaled or windowed each on its own: the Pixel Value Transformation
(0028,9145) and Frame VOI LUT (0028,9132) items of the Per-Frame Functional Groups Sequence (5200,9230), PS3.3
C.7.6.16.2.9 and C.7.6.16.2.10.  Each slice is read with its own frame's, not frame 1's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mammoview.io import read_image
from mammoview.io.chain_model import VoiWindow
from mammoview.io.pixels import apply_modality, resolve_voi
from mammoview.io.reader import decode_frame
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

TOMO_CLASS = "1.2.840.10008.5.1.4.1.1.13.1.3"  # Breast Tomosynthesis Image Storage
STORED = synthetic_breast(120, 80, seed=3)  # unsigned 12-bit, the same stored values in every frame


def volume(tmp_path: Path, per_frame: list[Callable[[Dataset], None]]) -> Path:
    """A Breast Tomosynthesis image of ``len(per_frame)`` frames, each frame's functional group filled by its edit."""
    ds = mammo_dataset(STORED)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = TOMO_CLASS
    ds.NumberOfFrames = len(per_frame)
    ds.PixelData = ds.PixelData * len(per_frame)
    groups = []
    for edit in per_frame:
        group = Dataset()
        edit(group)
        groups.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    return write_dataset(ds, tmp_path / "volume.dcm")


def rescale(intercept: int, slope: int = 1) -> Callable[[Dataset], None]:
    def edit(group: Dataset) -> None:
        item = Dataset()
        item.RescaleSlope, item.RescaleIntercept, item.RescaleType = str(slope), str(intercept), "US"
        group.PixelValueTransformationSequence = Sequence([item])

    return edit


def window(center: int, width: int = 1500) -> Callable[[Dataset], None]:
    def edit(group: Dataset) -> None:
        item = Dataset()
        item.WindowCenter, item.WindowWidth = center, width
        group.FrameVOILUTSequence = Sequence([item])

    return edit


def test_each_slice_has_its_own_frames_rescale(tmp_path: Path) -> None:
    image = read_image(volume(tmp_path, [rescale(0), rescale(100), rescale(200)]))
    for frame in range(3):
        sliced = decode_frame(image, frame)
        values = np.asarray(apply_modality(sliced.stored, sliced.info.chain))
        np.testing.assert_array_equal(values, STORED.astype(np.int64) + 100 * frame)  # the values, not just the look
    said = [w for w in image.info.warnings if w.startswith("per-frame")]
    assert said == ["per-frame RescaleIntercept differ between frames: each frame is read with its own"]
    third = decode_frame(image, 2)
    back = decode_frame(third, 0)  # stepping back from another slice: frame 1's again
    assert back.info.chain.modality.intercept == 0 and back.info.chain is image.info.chain


def test_each_slice_has_its_own_frames_default_window(tmp_path: Path) -> None:
    image = read_image(volume(tmp_path, [window(1000), window(2000), window(3000)]))
    assert image.info.chain.windows == (VoiWindow(1000, 1500),)
    for frame in (1, 2):
        chain = decode_frame(image, frame).info.chain
        assert chain.windows == (VoiWindow(1000 * (frame + 1), 1500),)
        assert resolve_voi(chain, "default") == VoiWindow(1000 * (frame + 1), 1500)
    assert [w for w in image.info.warnings if w.startswith("per-frame")] == [
        "per-frame WindowCenter differ between frames: each frame is read with its own"
    ]


def test_frames_that_agree_share_frame_1s_header(tmp_path: Path) -> None:
    """The usual volume (one rescale for all frames) keeps one header for all its slices: nothing is built per frame."""
    image = read_image(volume(tmp_path, [rescale(100), rescale(100), rescale(100)]))
    assert image.info.frame_chains == () and not [w for w in image.info.warnings if w.startswith("per-frame")]
    assert decode_frame(image, 2).info is image.info
    mixed = read_image(volume(tmp_path / "mixed", [rescale(0), rescale(100), rescale(0)]))
    assert decode_frame(mixed, 2).info.chain is mixed.info.chain  # frame 3 is rescaled as frame 1


def test_a_top_level_rescale_comes_first_and_is_said(tmp_path: Path) -> None:
    path = volume(tmp_path, [rescale(0), rescale(100), rescale(200)])
    from pydicom import dcmread

    ds = dcmread(path)
    ds.RescaleSlope, ds.RescaleIntercept = "1", "-50"
    write_dataset(ds, path)
    image = read_image(path)
    assert image.info.frame_chains == () and decode_frame(image, 2).info.chain.modality.intercept == -50
    assert [w for w in image.info.warnings if w.startswith("per-frame")] == [
        "per-frame RescaleIntercept differ between frames but read no frame differently (a top-level Modality LUT, "
        "rescale or window comes first)"
    ]


def test_a_slices_header_is_the_same_image_as_its_volumes(tmp_path: Path) -> None:
    """A slice read with its own frame's chain, or decoded in the helper process (a copy), is the same image."""
    import pickle

    from mammoview.io.model import View

    image = read_image(volume(tmp_path, [rescale(0), rescale(100), rescale(200)]))
    third = decode_frame(image, 2).info
    assert third is not image.info and image.info.same_image(third) and third.same_image(image.info)
    assert image.info.same_image(pickle.loads(pickle.dumps(third)))
    assert not image.info.same_image(image.info.with_view(View.RMLO))  # the reader assigned it another view
    other = read_image(volume(tmp_path / "other", [rescale(0), rescale(100), rescale(200)]))
    assert not image.info.same_image(other.info) and not image.info.same_image(None)
