"""The real training data in ``$MAMMOVIEW_DATA`` (default ``../shared/data``), as typed records.

Three sources (see the data README for licences and quirks):

- CBIS-DDSM Mass-Training: 800x800 JPEGs *stretched* from ~4600x2800 films; rows are
  ~0.29 mm, columns ~0.29 * 488 / 800 mm, so the stored grid has anisotropic pixels and
  :func:`mammoview.cad.resample.resample` undoes the stretch.  Mass boxes in the
  stored 800x800 grid.  Split unit: the ``P_xxxxx`` patient.
- mini-MIAS: 1024x1024 PNG MLOs at 0.2 mm; lesion centre + radius (origin top-left).
  Split unit: the MIAS patient (mdb 2k-1 / 2k).
- MAGIC-5: 60x60 PGM patches (~0.085 mm assumed), label 1 = microcalcification cluster.
  Split unit: the 4-digit case prefix (stricter than the ROI the README names).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SourceName = Literal["cbis", "mias", "magic5"]
#: each source's folder in the data folder (the shared data's layout), in the order the split draws them
SOURCE_FOLDERS: dict[SourceName, str] = {"cbis": "cbis-ddsm-mass", "mias": "mini-mias", "magic5": "magic5-microcalc"}
LesionKind = Literal["mass", "calcification", "architectural_distortion", "asymmetry"]

CBIS_ROW_MM = 0.29
CBIS_COL_MM = 0.29 * 488 / 800  # undo the square stretch (rows/cols ~ 1.64)
MIAS_MM = 0.2
MAGIC5_MM = 0.085  # not documented; CALMA films were digitised at ~85 um


def default_data_dir() -> Path:
    """``$MAMMOVIEW_DATA`` or ``../shared/data`` next to the repository (or the working directory)."""
    env = os.environ.get("MAMMOVIEW_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    for cand in (repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if cand.is_dir():
            return cand
    return repo.parent / "shared" / "data"


@dataclass(frozen=True)
class Lesion:
    kind: LesionKind
    malignant: bool | None
    #: (x0, y0, x1, y1) in stored pixels, when the source gives a box or circle
    bbox: tuple[float, float, float, float] | None = None
    #: (x, y) centre in stored pixels
    center: tuple[float, float] | None = None
    #: circle radius in stored pixels (mini-MIAS)
    radius: float | None = None

    def contains(self, x: float, y: float) -> bool:
        """A detection at (x, y) hits this lesion: inside the box, or within the MIAS radius."""
        if self.radius is not None and self.center is not None:
            return (x - self.center[0]) ** 2 + (y - self.center[1]) ** 2 <= self.radius**2
        if self.bbox is not None:
            x0, y0, x1, y1 = self.bbox
            return x0 <= x <= x1 and y0 <= y <= y1
        return False


@dataclass(frozen=True)
class SourceImage:
    """One image (or MAGIC-5 patch) with its labels.

    ``patient`` is the split unit, prefixed by the source (``"cbis:P_00001"``).
    ``label`` is the image/patch class: ``"normal"``, ``"mass"``, ``"calcification"`` or
    ``"abnormal"`` (MIAS distortion/asymmetry).
    """

    source: SourceName
    image_id: str
    path: Path
    patient: str
    laterality: Literal["L", "R"] | None
    projection: Literal["CC", "MLO"] | None
    spacing: tuple[float, float]  # (row_mm, col_mm) of the stored grid
    label: str
    malignant: bool | None
    lesions: tuple[Lesion, ...] = ()
    is_patch: bool = False
    #: the image has findings whose position is not given here (a MIAS row without
    #: coordinates; a CBIS mass image whose breast/view also appears in the CBIS
    #: calcification set): no normal tissue may be sampled from it
    unlocated_findings: bool = False

    @property
    def abnormal(self) -> bool:
        return self.label != "normal"


_CBIS_PATIENT = re.compile(r"P_(\d+)", re.IGNORECASE)


def cbis_patient(raw: str) -> str:
    """The CBIS-DDSM patient ID ``P_xxxxx`` of a CSV cell.

    A hand-edited or re-exported CSV may spell one woman's ID as ``p_00004``, ``P_00004 `` or ``P_00004_1``: read
    as typed, they were different patients, and the split could put her views on both sides.
    """
    m = _CBIS_PATIENT.match(raw.strip())
    return f"P_{int(m.group(1)):05d}" if m else raw.strip()


def mias_patient(raw: str) -> str:
    """The mini-MIAS patient of a ``labels.csv`` cell (``mias001``), whatever its case and surrounding spaces."""
    return raw.strip().lower()


def read_label_rows(path: Path, columns: Iterable[str]) -> list[dict[str, str]]:
    """The rows of a label CSV, which must have ``columns`` (``ValueError`` naming the file and those missing).

    Read as ``utf-8-sig``: a spreadsheet's "CSV UTF-8" starts with a byte-order mark, which would otherwise hide
    the first column's name.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [c.strip() for c in reader.fieldnames or ()]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ValueError(f"{path}: no column {', '.join(map(repr, missing))} (its header: "
                                 f"{', '.join(header) or 'none'}); is it the data README's file?")  # fmt: skip
            reader.fieldnames = header
            return list(reader)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} not found (set MAMMOVIEW_DATA to the folder holding the data README)"
        ) from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text CSV ({exc.reason} at byte {exc.start})") from None


CBIS_CALC_COLUMNS = ("patient_id", "left or right breast", "image view")
CBIS_BOX_COLUMNS = ("file", "patient_id", "laterality", "view", "boxes_xywh_800", "pathologies", "image_pathology")
MIAS_COLUMNS = ("refnum", "patient", "lesion_type", "severity", "x", "y", "radius", "side")


def _check(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (set MAMMOVIEW_DATA to the folder holding the data README)")
    return path


def cbis_images(data_dir: Path | None = None) -> list[SourceImage]:
    """CBIS-DDSM Mass-Training images with their mass boxes (every image has >= 1 mass)."""
    root = _check((data_dir or default_data_dir()) / SOURCE_FOLDERS["cbis"])
    calc_views: set[tuple[str, str, str]] = set()
    for calc_csv in sorted(root.glob("calc_case_description_*.csv")):  # train_set here; test_set in a test folder
        for row in read_label_rows(calc_csv, CBIS_CALC_COLUMNS):
            calc_views.add((cbis_patient(row["patient_id"]), row["left or right breast"], row["image view"]))
    out: list[SourceImage] = []
    for line, row in enumerate(read_label_rows(root / "boxes.csv", CBIS_BOX_COLUMNS), start=2):
        malignant = row["image_pathology"] == "MALIGNANT"
        # BENIGN_WITHOUT_CALLBACK is benign: only malignant or not tells the boxes apart
        paths = [p == "MALIGNANT" for p in row["pathologies"].split("|")] if row["pathologies"] else []
        try:
            boxes = [tuple(float(v) for v in b) for b in json.loads(row["boxes_xywh_800"])]
            if any(len(b) != 4 or not all(map(math.isfinite, b)) or b[2] <= 0 or b[3] <= 0 for b in boxes):
                raise ValueError("each box is [x, y, width, height], numbers with a positive width and height")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{root / 'boxes.csv'} line {line} ({row.get('file')}): boxes_xywh_800 "
                             f"{row.get('boxes_xywh_800')!r}: {exc}") from None  # fmt: skip
        patient = cbis_patient(row["patient_id"])
        lesions = []
        for x, y, w, h in boxes:
            # box order vs CSV abnormality order is unknown when several: only trust a
            # per-box pathology when there is exactly one box
            mal: bool | None = paths[0] if len(boxes) == 1 and paths else None
            if mal is None and all(p == paths[0] for p in paths) and paths:
                mal = paths[0]
            lesions.append(Lesion("mass", mal, bbox=(x, y, x + w, y + h), center=(x + w / 2, y + h / 2)))
        out.append(
            SourceImage(
                source="cbis",
                image_id=Path(row["file"]).stem,
                path=root / row["file"],
                patient=f"cbis:{patient}",
                laterality="L" if row["laterality"] == "LEFT" else "R",
                projection="CC" if row["view"] == "CC" else "MLO",
                spacing=(CBIS_ROW_MM, CBIS_COL_MM),
                label="mass",
                malignant=malignant,
                lesions=tuple(lesions),
                unlocated_findings=(patient, row["laterality"], row["view"]) in calc_views,
            )
        )
    return out


_MIAS_KIND: dict[str, LesionKind] = {
    "mass": "mass",
    "calcification": "calcification",
    "architectural_distortion": "architectural_distortion",
    "asymmetry": "asymmetry",
}


def mias_images(data_dir: Path | None = None) -> list[SourceImage]:
    """mini-MIAS images (MLO, 0.2 mm); several label rows of one image are merged."""
    root = _check((data_dir or default_data_dir()) / SOURCE_FOLDERS["mias"])
    rows: dict[str, list[dict[str, str]]] = {}
    for row in read_label_rows(root / "labels.csv", MIAS_COLUMNS):
        rows.setdefault(row["refnum"], []).append(row)
    out: list[SourceImage] = []
    for ref, group in sorted(rows.items()):
        lesions = []
        kinds = []
        mal_flags = []
        for r in group:
            if r["lesion_type"] == "normal":
                continue
            if r["lesion_type"] not in _MIAS_KIND:
                raise ValueError(f"{root / 'labels.csv'} ({ref}): unknown lesion_type {r['lesion_type']!r} "
                                 f"(one of normal, {', '.join(_MIAS_KIND)})")  # fmt: skip
            kind = _MIAS_KIND[r["lesion_type"]]
            kinds.append(kind)
            mal = {"M": True, "B": False}.get(r["severity"])
            mal_flags.append(mal)
            if r["x"] and r["y"]:
                try:
                    x, y = float(r["x"]), float(r["y"])
                    rad = float(r["radius"]) if r["radius"] else 10.0
                    if not all(map(math.isfinite, (x, y, rad))):  # float() reads 'nan' and 'inf'
                        raise ValueError("not a number")
                    if not rad > 0:
                        raise ValueError(f"radius {rad:g} is not positive")
                except ValueError as exc:
                    raise ValueError(f"{root / 'labels.csv'} ({ref}): x {r['x']!r}, y {r['y']!r}, radius "
                                     f"{r['radius']!r}: {exc}") from None  # fmt: skip
                lesions.append(Lesion(kind, mal, bbox=(x - rad, y - rad, x + rad, y + rad), center=(x, y), radius=rad))
            else:
                lesions.append(Lesion(kind, mal))
        if not kinds:
            label = "normal"
        elif "mass" in kinds:
            label = "mass"
        elif "calcification" in kinds:
            label = "calcification"
        else:
            label = "abnormal"
        known = [m for m in mal_flags if m is not None]
        malignant = any(known) if known else None
        side = group[0]["side"]
        out.append(
            SourceImage(
                source="mias",
                image_id=ref,
                path=root / "images" / f"{ref}.png",
                patient=f"mias:{mias_patient(group[0]['patient'])}",
                laterality="R" if side == "right" else "L",
                projection="MLO",
                spacing=(MIAS_MM, MIAS_MM),
                label=label,
                malignant=malignant if label != "normal" else None,
                lesions=tuple(lesions),
                unlocated_findings=any(les.center is None for les in lesions),
            )
        )
    return out


_MAGIC_CASE = re.compile(r"^(\d{4})")


def magic5_patches(data_dir: Path | None = None) -> list[SourceImage]:
    """MAGIC-5 60x60 patches: 1 = microcalcification cluster, 0 = normal tissue."""
    root = _check((data_dir or default_data_dir()) / SOURCE_FOLDERS["magic5"] / "images")
    out: list[SourceImage] = []
    for cls in ("0", "1"):
        for p in sorted((root / cls).glob("*.pgm")):
            m = _MAGIC_CASE.match(p.stem)
            case = m.group(1) if m else p.stem.rsplit("_", 1)[0]
            out.append(
                SourceImage(
                    source="magic5",
                    image_id=p.stem,
                    path=p,
                    patient=f"magic5:{case}",
                    laterality=None,
                    projection=None,
                    spacing=(MAGIC5_MM, MAGIC5_MM),
                    label="calcification" if cls == "1" else "normal",
                    malignant=None,
                    is_patch=True,
                )
            )
    return out


def all_sources(
    data_dir: Path | None = None, which: Iterable[SourceName] = ("cbis", "mias", "magic5")
) -> list[SourceImage]:
    loaders = {"cbis": cbis_images, "mias": mias_images, "magic5": magic5_patches}
    out: list[SourceImage] = []
    for name in which:
        out.extend(loaders[name](data_dir))
    return out
