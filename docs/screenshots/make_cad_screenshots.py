"""Regenerate docs/screenshots/cad.png and cad_export.png: the demo study with CAD shown, in a real X window.

Run from the repository root (Xvfb and ImageMagick's ``import`` grab the X screen;
without ``import`` the window grabs itself)::

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_cad_screenshots.py

``--marks-at RATE`` shows the marks at RATE false marks per image on the model's validation
curve (the dock's "Marks" choice) instead of the model's own threshold, and ``--out DIR``
writes the two pictures to DIR instead of this folder.

It uses the model ``load_model()`` finds (``models/`` or ``$MAMMOVIEW_MODELS``).  With
``--test-model`` and no usable model, it falls back to a TEST-ONLY hand-set network (local
brightness, after tests/cad/conftest.py) written to a temporary folder, and the pictures say so
through the model name ``TEST-ONLY-bright``: rerun without the flag once the trained model
is installed.

The reader marks are a demonstration of a first read (fixed positions on the demo's
L CC and L MLO, where the dense region is, and one on R CC), placed before "First read
done", as a reader would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Demonstration marks: view -> (stored x, stored y, kind) on resources/demo.
MARKS = {"LCC": (400.0, 1360.0, "mass"), "LMLO": (440.0, 1260.0, "mass"), "RCC": (1000.0, 900.0, "other")}


def test_model_dir() -> Path:
    """Write a TEST-ONLY hand-set network (mass logit rises with local brightness) to a temporary folder.

    The tests' ``bright_net`` with a smaller brightness offset and a steeper head, so that
    on real films a few dense spots (not the whole breast) pass the finding threshold.
    """
    sys.path.insert(0, str(ROOT))
    import torch
    from torch import nn

    from mammoview.cad.weights import ModelEntry, save_model
    from tests.cad.conftest import bright_net

    net = bright_net()
    with torch.no_grad():
        [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)][-1].bias.fill_(-0.8)
        net.head.weight.copy_(torch.tensor([[-6.0], [6.0], [0.0], [2.0]]))
        net.head.bias.copy_(torch.tensor([2.0, -2.0, -1.0, -1.0]))
    folder = Path(tempfile.mkdtemp(prefix="mammoview-test-model-"))
    entry = ModelEntry(name="TEST-ONLY-bright", arch="paper_cnn", arch_kwargs={"widths": [1, 1, 1, 1]},
                       version="0.0.0-test", patch_size=48, pixel_size_mm=0.5, finding_threshold=0.5,
                       licence="TEST ONLY: hand-set weights, not a trained model")  # fmt: skip
    save_model(net, entry, folder)
    return folder


def choose_model(allow_test: bool) -> str:
    from mammoview.cad.weights import ModelError, load_model

    try:
        model = load_model(device="cpu")
        return f"{model.info.name} {model.info.version}"
    except ModelError as exc:
        if not allow_test:
            raise SystemExit(f"no usable model ({exc}); install one or pass --test-model") from exc
        os.environ["MAMMOVIEW_MODELS"] = str(test_model_dir())
        return f"TEST-ONLY model (no trained model: {exc})"


def pump(app, seconds: float, until=None) -> None:  # type: ignore[no-untyped-def]
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not (until is not None and until()):
        app.processEvents()
        time.sleep(0.01)


def grab(app, window, out: Path) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("import") and app.platformName() == "xcb":
        subprocess.run(["import", "-window", "root", str(out)], check=True)
    else:
        window.grab().save(str(out))


def main() -> int:
    import argparse

    os.environ["MAMMOVIEW_APP_DATA"] = tempfile.mkdtemp(prefix="mammoview-cad-shot-")  # a fresh, unread study
    p = argparse.ArgumentParser(description="CAD screenshots of a study (default: resources/demo)")
    p.add_argument("folder", nargs="?", type=Path, default=ROOT / "resources" / "demo")
    p.add_argument("--test-model", action="store_true", help="fall back to a TEST-ONLY network without a model")
    p.add_argument("--marks-at", type=float, default=0.0, metavar="RATE", help="false marks per image (0: default)")
    p.add_argument("--out", type=Path, default=HERE, metavar="DIR", help="folder for cad.png and cad_export.png")
    opts = p.parse_args()
    folder, out = opts.folder, opts.out
    out.mkdir(parents=True, exist_ok=True)
    which = choose_model(opts.test_model)
    print(f"model: {which}")

    from mammoview.gui.app import create_app
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.read_state import MarkKind, image_key
    from mammoview.io.model import View

    app = create_app(["mammoview"])
    window = MainWindow()
    window.setGeometry(app.primaryScreen().geometry())
    window.show()
    shown: list[object] = []
    window.studyShown.connect(shown.append)
    window.open_paths([str(folder)])
    pump(app, 60, lambda: bool(shown))
    cad = window.cad
    pump(app, 60, lambda: cad.model_info is not None or cad.unavailable is not None)
    if cad.unavailable:
        raise SystemExit(f"CAD unavailable: {cad.unavailable}")
    # The reader's unaided first read: own marks, then "First read done" (Ctrl+D) reveals CAD.
    for view_name, (x, y, kind) in MARKS.items():
        panel = window.panels[View(view_name)]
        if panel.image is not None:
            cad.reader.add(panel.view, image_key(panel.image), x, y, MarkKind(kind))
    window.commands["cad_first_read_done"].trigger()
    pump(app, 300, lambda: cad.result is not None)
    if cad.result is None:
        raise SystemExit("CAD did not finish")
    if opts.marks_at:
        cad.set_operating_point(opts.marks_at)
    pump(app, 1.5)
    grab(app, window, out / "cad.png")

    from mammoview.gui.export import export_study

    out_dir = Path(tempfile.mkdtemp(prefix="mammoview-export-"))
    result = export_study(window, out_dir / "cad_export.png", anonymize=True)
    shutil.copyfile(result.png, out / "cad_export.png")
    n = sum(len(r.findings) for r in cad.result.images)
    print(f"wrote {out / 'cad.png'} and {out / 'cad_export.png'} ({app.platformName()}); "
          f"{n} CAD finding(s), {len(cad.reader.marks)} reader mark(s); JSON: {result.json}")  # fmt: skip
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
