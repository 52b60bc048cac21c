"""`mammoview detect` JSON read back (evaluate --detections, extract-patches --hard-negatives-from-detections) that a
hand or another program edited: refused naming the file and the image. A missing key ended as "error: 'scores'", a
centre of one number as "error: list index out of range", naming no file; a NaN score was scored."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mammoview.training.eval_inputs import load_detections

GOOD = {
    "model": {"name": "m", "version": "1.0.0", "sha256": "0" * 64},
    "images": [
        {"path": "/data/cbis-ddsm-mass/images/00001_LEFT_CC.jpg", "scores": {"abnormal": 0.6, "malignant": 0.3},
         "findings": [{"kind": "mass", "score": 0.6, "malignancy": 0.4, "center": [10.0, 20.0]}]},
        {"path": "/data/cbis-ddsm-mass/images/00002_LEFT_CC.jpg", "error": "truncated JPEG"},
    ],
}  # fmt: skip


def _edited(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(GOOD)
    edit(doc["images"][0])
    path = tmp_path / "detections.json"
    path.write_text(json.dumps(doc))
    return path


EDITS = [
    (lambda e: e.pop("scores"), "scores"),
    (lambda e: e["scores"].pop("malignant"), "malignant"),
    (lambda e: e["scores"].update(abnormal=float("nan")), "abnormal"),
    (lambda e: e["scores"].update(abnormal="high"), "abnormal"),
    (lambda e: e.pop("path"), "path"),
    (lambda e: e.update(findings={"score": 1}), "findings"),
    (lambda e: e["findings"][0].pop("score"), "score"),
    (lambda e: e["findings"][0].update(center=[1.0]), "center"),
    (lambda e: e["findings"][0].update(center=[1.0, None]), "center"),
    (lambda e: e["findings"][0].update(malignancy=float("inf")), "malignancy"),
]


@pytest.mark.parametrize("edit, says", EDITS)
def test_a_detect_json_edited_out_of_shape_is_refused_naming_file_and_image(tmp_path, edit, says):
    path = _edited(tmp_path, edit)
    with pytest.raises(ValueError, match=says) as err:
        load_detections([path])
    said = str(err.value)
    assert str(path) in said and ("00001_LEFT_CC.jpg" in said or "image 1:" in said), said


def test_detects_own_json_is_read_with_its_failed_images(tmp_path):
    path = _edited(tmp_path, lambda e: None)
    assert load_detections([path])[0]["images"][1]["error"] == "truncated JPEG"


def test_the_miner_refuses_it_too(tmp_path):
    from mammoview.training.mining import DetectionMiner

    path = _edited(tmp_path, lambda e: e["findings"][0].update(center=[1.0]))
    with pytest.raises(ValueError, match="center") as err:
        DetectionMiner([path])
    assert str(path) in str(err.value)


def test_the_miner_reads_findings_only(tmp_path):
    """Mining reads each finding's centre and score, not the scores evaluate needs."""
    from mammoview.training.mining import DetectionMiner

    path = tmp_path / "candidates.json"
    path.write_text(json.dumps({"images": [{"path": "/a.png", "findings": [{"score": 0.9, "center": [6.0, 8.0]}]}]}))
    assert DetectionMiner([path]).candidates == {"/a.png": [(6.0, 8.0, 0.9)]}
