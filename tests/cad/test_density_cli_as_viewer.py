"""`mammoview density` reads each view as the viewer's CAD job (``analyse_study``) does: upright, without its black
border.  The command read a view whose header says it is stored upside down as stored, so the same file got another
density there than in the viewer (the demo R MLO stored head down: p(d) 0.434 against the viewer's 0.456)."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from mammoview.cad.cad_input import estimate_spacing
from mammoview.io import read_image
from tests.synthetic import mammo_dataset, write_dataset


def test_mammoview_density_reads_an_upside_down_and_a_framed_view_as_the_viewer(demo_dir, tmp_path) -> None:
    from mammoview.cad.density import TASK
    from mammoview.cad.pipeline import analyse_study, drain
    from mammoview.cad.weights import default_models_dir, list_installed, load_model
    from mammoview.cli import main

    root = default_models_dir()
    if not {"detection", TASK} <= {r.entry.task for r in list_installed(root)}:
        pytest.skip(f"no detection and density models installed in {root}")
    rmlo = pydicom.dcmread(demo_dir / "1-283.dcm").pixel_array  # R MLO, stored as hung
    lcc = pydicom.dcmread(demo_dir / "1-280.dcm").pixel_array  # L CC, chest wall on the left
    width = round(10 / estimate_spacing(*lcc.shape).col_mm)  # 10 mm of black beyond the chest wall
    framed = np.pad(lcc, ((0, 0), (width, 0)), constant_values=lcc.min())
    d = tmp_path / "study"
    head_down = mammo_dataset(np.ascontiguousarray(rmlo[::-1]), "R", "MLO", pixel_spacing=None,
                              patient_orientation="P\\HR", study_uid="1.2.3")  # fmt: skip
    down = write_dataset(head_down, d / "RMLO_down.dcm")
    boxed = write_dataset(mammo_dataset(framed, "L", "CC", pixel_spacing=None, study_uid="1.2.3"), d / "LCC_framed.dcm")
    images = [read_image(down), read_image(boxed)]
    assert images[0].display.flip_vertical and not images[0].display.quarter_turn  # the viewer turns it upright

    out = tmp_path / "density.json"
    assert main(["density", str(d), "--json", str(out), "--models-dir", str(root), "--device", "cpu"]) == 0
    doc = json.loads(out.read_text())
    cli = {e["path"].rsplit("/", 1)[1]: e["density"]["probabilities"] for e in doc["images"]}

    detector = load_model(models_dir=root, device="cpu")
    density = load_model(models_dir=root, device="cpu", task=TASK)
    viewer = drain(analyse_study(detector, images, density=density))
    for image, name in zip(images, ("RMLO_down.dcm", "LCC_framed.dcm"), strict=True):
        breast = viewer.breasts[image.view.laterality].density  # the breast's one view
        assert breast is not None and breast.n_views == 1
        assert cli[name] == pytest.approx(breast.probabilities, abs=1e-4), name
        (study,) = doc["studies"]
        assert study["breasts"][image.view.laterality.value]["probabilities"] == pytest.approx(
            breast.probabilities, abs=1e-4
        )
