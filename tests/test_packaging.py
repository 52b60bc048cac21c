"""packaging/: what the PyInstaller bundles leave out must not be what they need to start."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "mammoview.spec"


def viewer_only_excludes() -> list[str]:
    """The modules the spec leaves out of the viewer-only bundle (MAMMOVIEW_BUNDLE=viewer)."""
    excludes: list[str] = []
    for node in ast.walk(ast.parse(SPEC.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "VIEWER_ONLY":
            for stmt in node.body:
                if isinstance(stmt, ast.AugAssign) and getattr(stmt.target, "id", None) == "excludes":
                    excludes += [ast.literal_eval(e) for e in stmt.value.elts]  # type: ignore[attr-defined]
    assert excludes, "no viewer-only excludes found in the spec"
    return excludes


# Runs in a fresh interpreter in which the excluded modules cannot be imported, as in the frozen bundle.
_PROBE = """
import importlib.abc, json, sys
excluded = json.loads(sys.argv[1])

class LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if any(name == e or name.startswith(e + ".") for e in excluded):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, LeftOut())
from mammoview.cli import build_parser
build_parser()                                  # every subcommand registers (mammoview --help)
from mammoview.gui.app import run_viewer        # what `mammoview view` imports before its window opens
import mammoview.gui.main_window
print("ok")
"""


def test_viewer_only_bundle_can_open_the_viewer():
    import json

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(viewer_only_excludes())],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]
