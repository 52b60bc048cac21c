"""Helpers and fixtures for the CAD GUI tests: test-only models in tmp_path, planted results, pixel grabs.

The models here are TEST-ONLY (random or hand-set weights written to ``tmp_path``), never
shipped.  Test modules import the fixtures they use from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mammoview.cad.types import (
    BreastScore,
    Finding,
    FindingKind,
    Heatmap,
    ImageCadResult,
    ModelInfo,
    StudyCadResult,
)
from mammoview.gui.read_state import MarkKind, image_key
from mammoview.io.model import Laterality, View

TINY = {"widths": [4, 8, 8, 8]}
PLANTED_MODEL = ModelInfo(name="planted-test", version="0.0.0-test", sha256="f" * 64)


def save_tiny_model(folder: Path, pixel_size_mm: float = 0.5, patch_size: int = 64, seed: int = 0) -> Path:
    """A randomly initialised tiny paper_cnn saved with ``save_model`` to ``folder`` (TEST ONLY)."""
    import torch

    from mammoview.cad.registry import create_model
    from mammoview.cad.weights import ModelEntry, save_model

    torch.manual_seed(seed)
    net = create_model("paper_cnn", **TINY)
    entry = ModelEntry(name="test-tiny", arch="paper_cnn", arch_kwargs=dict(TINY), version="0.0.0-test",
                       patch_size=patch_size, pixel_size_mm=pixel_size_mm, finding_threshold=0.5,
                       licence="TEST ONLY: random weights")  # fmt: skip
    save_model(net, entry, folder)
    return folder


def save_tiny_verifier(folder: Path, threshold: float = 0.3, seed: int = 1) -> Path:
    """A random tiny verifier of the folder's default detector, saved beside it (TEST ONLY)."""
    import torch

    from mammoview.cad.registry import create_model
    from mammoview.cad.verification import VerificationSettings
    from mammoview.cad.weights import ModelEntry, load_model, save_model

    det = load_model(None, folder, "cpu").entry
    settings = VerificationSettings(detector={"name": det.name, "version": det.version, "sha256": det.sha256})
    torch.manual_seed(seed)
    entry = ModelEntry(name="test-verifier", arch="paper_cnn", task="verification", arch_kwargs=dict(TINY),
                       version="0.0.1-test", patch_size=32, pixel_size_mm=1.0, finding_threshold=threshold,
                       licence="TEST ONLY: random weights", extra={"verification": settings.to_dict()})  # fmt: skip
    save_model(create_model("paper_cnn", **TINY), entry, folder)
    return folder


@pytest.fixture()
def cad_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$MAMMOVIEW_MODELS`` -> a folder holding the tiny test model."""
    folder = save_tiny_model(tmp_path / "models")
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(folder))
    return folder


@pytest.fixture()
def cad_window(cad_models: Path, main_window, qtbot) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The shown main window with the tiny model found (its start-up probe has finished)."""
    qtbot.waitUntil(
        lambda: main_window.cad.model_info is not None or bool(main_window.cad.unavailable), timeout=30_000
    )  # (a callback returning None ends the wait at once)
    assert main_window.cad.unavailable is None, main_window.cad.unavailable
    yield main_window
    main_window.cad.shutdown()


@pytest.fixture(name="study")
def marked_study(cad_window, load, synthetic_study):  # type: ignore[no-untyped-def]
    """``study``: the synthetic study in the CAD window, a reader mark on R CC and planted CAD findings (a
    calcification under the mark, a mass on L MLO) -- what the export tests picture."""
    load(cad_window, [synthetic_study])
    w = cad_window
    w.cad.reader.add(View.RCC, image_key(w.panels[View.RCC].image), 90, 200, MarkKind.MASS)
    w.cad.set_result(planted_result(w, {View.RCC: [finding(FindingKind.CALCIFICATION, 90, 200)],
                                        View.LMLO: [finding(FindingKind.MASS, 220, 150, half=15)]}))  # fmt: skip
    return w


def blob_heatmap(rows: int, cols: int, cx: float, cy: float, radius: float, cell: int = 8) -> Heatmap:
    """A coarse uint8 map (cells of ``cell`` stored px) that is 1.0 inside a disc, 0 elsewhere."""
    h, w = -(-rows // cell), -(-cols // cell)
    yy, xx = (np.mgrid[0:h, 0:w] + 0.5) * cell
    data = np.where((xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2, 255, 0).astype(np.uint8)
    return Heatmap(name="abnormal", data=data, x0=0.0, y0=0.0, scale_x=float(cell), scale_y=float(cell))


def planted_result(  # type: ignore[no-untyped-def]
    window, findings: dict[View, list[Finding]], heat_radius: float = 30.0
) -> StudyCadResult:
    """A StudyCadResult for the shown images: the given findings, and a heatmap disc under each."""
    images = []
    for view, panel in window.panels.items():
        if panel.image is None:
            continue
        rows, cols = panel.image.shape
        mine = findings.get(view, [])
        maps = {}
        for name in ("abnormal", "mass", "calcification", "malignant"):
            if mine:
                hm = blob_heatmap(rows, cols, *mine[0].center, heat_radius)
                maps[name] = Heatmap(name, hm.data, hm.x0, hm.y0, hm.scale_x, hm.scale_y)
        score = max((f.score for f in mine), default=0.05)
        images.append(ImageCadResult(path=str(panel.image.path), width=cols, height=rows, view=view,
                                     pixel_spacing=(0.1, 0.1), spacing_source="test", abnormal=score,
                                     malignant=score / 2, findings=tuple(mine), heatmaps=maps))  # fmt: skip
    breasts = {}
    for lat in Laterality:
        mine = [r for r in images if r.view is not None and r.view.laterality is lat]
        if mine:
            breasts[lat] = BreastScore(lat, max(r.abnormal for r in mine), max(r.malignant for r in mine), len(mine))
    return StudyCadResult(model=PLANTED_MODEL, images=tuple(images), breasts=breasts,
                          abnormal=max(r.abnormal for r in images),
                          malignant=max(r.malignant for r in images))  # fmt: skip


def finding(kind: FindingKind, x: float, y: float, score: float = 0.87, malignancy: float = 0.62,
            half: float = 20.0) -> Finding:  # fmt: skip
    """A square finding of half-size ``half`` px centred on (x, y), with a contour."""
    t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    contour = np.stack([x + half * np.cos(t), y + half * np.sin(t)], axis=1)
    return Finding(kind=kind, score=score, malignancy=malignancy, center=(x, y),
                   bbox=(x - half, y - half, x + half, y + half), contour=contour)  # fmt: skip


def grab_rgb(panel) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The panel's viewport as rendered, (h, w, 3) uint8 RGB."""
    from tests.gui.conftest import image_array

    return image_array(panel.graphics.viewport().grab().toImage())


def colourful(rgb: np.ndarray, min_saturation: int = 90) -> np.ndarray:
    """Mask of strongly coloured pixels (the grey mammogram has none)."""
    c = rgb.astype(np.int16)
    return (c.max(axis=-1) - c.min(axis=-1)) >= min_saturation


def magenta(rgb: np.ndarray) -> np.ndarray:
    """Mask of the CAD-mark colour (#ff3df2): red and blue high, green low."""
    c = rgb.astype(np.int16)
    return (c[..., 0] > 180) & (c[..., 2] > 170) & (c[..., 1] < 120)


def corner_texts(panel) -> list[object]:  # type: ignore[no-untyped-def]
    """The panel's own text drawn over the image (view label, study lines, read-out line, breast scores): their
    QRectF boxes in viewport pixels."""
    from PySide6 import QtCore, QtWidgets

    viewport = panel.graphics.viewport()
    direct = QtCore.Qt.FindChildOption.FindDirectChildrenOnly
    return [QtCore.QRectF(QtCore.QRect(viewport.mapFrom(panel, t.pos()), t.size()))
            for t in panel.findChildren(QtWidgets.QLabel, options=direct) if t.isVisible() and t.text()]  # fmt: skip


def written_sr(window, qtbot, path: Path | None = None) -> Path | None:  # type: ignore[no-untyped-def]
    """File ▸ Export CAD as DICOM SR, waited for (it writes in a worker thread): the first file written, or None
    (refused at once, or its problem reported)."""
    from mammoview.gui.sr_export import export_sr

    if not export_sr(window.cad, path):
        return None
    blocker = qtbot.waitSignal(window.cad.sr_export.done, timeout=30_000)
    blocker.wait()
    written = blocker.args[0]
    return written[0] if written else None
