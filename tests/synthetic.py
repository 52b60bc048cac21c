"""Synthetic test images: a breast-shaped phantom with blob lesions, and mammography DICOMs.

For unit tests only; never a training source for the shipped model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

DIGITAL_MG_STORAGE = "1.2.840.10008.5.1.4.1.1.1.2"  # Digital Mammography X-Ray Image Storage - For Presentation


@dataclass(frozen=True)
class Blob:
    x: float  # column
    y: float  # row
    radius: float
    amplitude: float = 0.35


def synthetic_breast(
    rows: int = 600,
    cols: int = 400,
    chest_wall: str = "left",
    blobs: tuple[Blob, ...] = (),
    seed: int = 0,
    max_value: int = 4095,
    dtype: type = np.uint16,
) -> np.ndarray:
    """A half-ellipse 'breast' against the chest wall on ``chest_wall`` side, with texture and blobs.

    Returns an integer image in [0, max_value]; background is ~0 (MONOCHROME2: tissue bright).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    cy, ry = rows / 2.0, rows * 0.42
    rx = cols * 0.8
    x_from_wall = xx if chest_wall == "left" else (cols - 1 - xx)
    inside = (x_from_wall / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
    # tissue density falls towards the skin line
    d = np.clip(1.0 - np.sqrt((x_from_wall / rx) ** 2 + ((yy - cy) / ry) ** 2), 0, 1)
    img = np.where(inside, 0.35 + 0.25 * d, 0.0).astype(np.float32)
    # low-frequency texture
    noise = rng.normal(0, 1, (rows // 8 + 1, cols // 8 + 1)).astype(np.float32)
    noise = np.kron(noise, np.ones((8, 8), np.float32))[:rows, :cols]
    img += np.where(inside, 0.04 * noise, 0.0)
    for b in blobs:
        r2 = (xx - b.x) ** 2 + (yy - b.y) ** 2
        img += b.amplitude * np.exp(-r2 / (2 * (b.radius / 1.5) ** 2)) * inside
    img += rng.normal(0, 0.005, img.shape).astype(np.float32)
    img = np.clip(img, 0, 1) * max_value
    return img.astype(dtype)


def mammo_dataset(
    pixels: np.ndarray,
    laterality: str | None = "L",
    view: str | None = "CC",
    *,
    where: str = "ImageLaterality",
    photometric: str = "MONOCHROME2",
    pixel_spacing: tuple[float, float] | None = (0.1, 0.1),
    imager_spacing: tuple[float, float] | None = None,
    window: tuple[float, float] | None = None,
    patient_orientation: str | None = None,
    study_uid: str | None = None,
    patient_id: str = "SYN-0001",
    patient_name: str = "Synthetic^Patient",
    modality: str = "MG",
    study_date: str = "20240102",
) -> FileDataset:
    """An in-memory mammography DICOM dataset (uncompressed) with the usual tags."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DIGITAL_MG_STORAGE if modality == "MG" else SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.StudyDate = study_date
    ds.BodyPartExamined = "BREAST"
    if laterality is not None:
        setattr(ds, where if where in ("ImageLaterality", "Laterality") else "ImageLaterality", laterality)
    if view is not None:
        ds.ViewPosition = view
    if patient_orientation is not None:
        ds.PatientOrientation = patient_orientation.split("\\")
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    signed = pixels.dtype.kind == "i"
    bits = 8 if pixels.dtype.itemsize == 1 else 16
    ds.BitsAllocated = bits
    ds.BitsStored = bits if bits == 8 else 12 if pixels.max() < 4096 and not signed else 16
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if pixel_spacing is not None:
        ds.PixelSpacing = [f"{pixel_spacing[0]:g}", f"{pixel_spacing[1]:g}"]
    if imager_spacing is not None:
        ds.ImagerPixelSpacing = [f"{imager_spacing[0]:g}", f"{imager_spacing[1]:g}"]
    if window is not None:
        ds.WindowCenter = f"{window[0]:g}"
        ds.WindowWidth = f"{window[1]:g}"
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    return ds


def code_item(designator: str, value: str, meaning: str = "") -> Dataset:
    """A coded item (Code Value, Coding Scheme Designator, Code Meaning), e.g. of a View Code Sequence."""
    item = Dataset()
    item.CodingSchemeDesignator, item.CodeValue, item.CodeMeaning = designator, value, meaning
    return item


def write_dataset(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path
