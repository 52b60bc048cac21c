"""train-density (and models/analysis/density_eval.py) make each view's canvas as the viewer's density does: without
the black border beyond the chest wall that the CAD trims (mini-MIAS, its external test, centres every film on a
black square; its figures measured the border the viewer no longer reads)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from mammoview.training.density import DensityConfig, load_data
from tests.training.test_extract import make_fake_data


def test_a_mias_film_on_a_black_canvas_gives_the_film_alone_its_canvas(tmp_path):
    data = make_fake_data(tmp_path / "data", n_cbis=1, n_mias=1, n_magic=0)
    (data / "cbis-ddsm-mass" / "mass_case_description_train_set.csv").write_text(
        "patient_id,breast_density,left or right breast,image view\nP_00000,2,LEFT,MLO\n"
    )
    (tmp_path / "split.json").write_text('{"patients": {"train": ["cbis:P_00000"], "val": []}}')
    png = data / "mini-mias" / "images" / "mdb001.png"
    film = np.asarray(Image.open(png))
    cfg = DensityConfig()
    plain = load_data(cfg, tmp_path / "split.json", data, progress=False)
    Image.fromarray(np.pad(film, ((0, 0), (80, 0)))).save(png)  # 16 mm of black beyond the chest wall (left)
    framed = load_data(cfg, tmp_path / "split.json", data, progress=False)
    assert list(framed.split) == ["train", "test"] and framed.x[1].any()
    np.testing.assert_array_equal(framed.x[1], plain.x[1])
