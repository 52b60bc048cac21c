"""a wheel installed with pip install --user (or --prefix, --target, or a distro pip into /usr/local) finds its models.

pip puts the wheel's data files under the install scheme's data folder (the user base, the --prefix, /usr/local,
the --target folder), which is not sys.prefix there: mammoview models said "no such folder" and detect "no models
installed".
"""

from __future__ import annotations

import sys

import pytest

#: (data folder holding share/mammoview/models, the package's folder below it), relative to tmp_path
LAYOUTS = {
    # pip install --user: <user base>/lib/python3.X/site-packages
    "posix-user": ("home/.local", "home/.local/lib/python3.11/site-packages"),
    # Windows' user scheme (sysconfig nt_user) puts the data files in the user base itself, one level above
    # <user base>\Python311\site-packages: the folder's name starts with "python", as posix's lib/python3.11 does,
    # but the base is its parent, not its grandparent
    "windows-user": ("AppData/Roaming/Python", "AppData/Roaming/Python/Python311/site-packages"),
    # pip install --target DIR puts the data files in DIR/share, beside the package
    "target": ("vendor", "vendor"),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_models_of_a_user_prefix_or_target_install_are_found(tmp_path, monkeypatch, layout):
    from mammoview.cad import manifest

    data, site = (tmp_path / p for p in LAYOUTS[layout])
    monkeypatch.delenv("MAMMOVIEW_MODELS", raising=False)
    models = data / "share" / "mammoview" / "models"
    models.mkdir(parents=True)
    (models / "manifest.json").write_text('{"models": []}')
    monkeypatch.setattr(manifest, "__file__", str(site / "mammoview" / "cad" / "manifest.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "usr"))  # the interpreter's own prefix holds none
    assert manifest.default_models_dir() == models


def test_the_interpreters_prefix_is_still_said_when_no_models_are_anywhere(tmp_path, monkeypatch):
    from mammoview.cad import manifest

    monkeypatch.delenv("MAMMOVIEW_MODELS", raising=False)
    fake_pkg = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "mammoview" / "cad" / "manifest.py"
    monkeypatch.setattr(manifest, "__file__", str(fake_pkg))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert manifest.default_models_dir() == tmp_path / "venv" / "share" / "mammoview" / "models"
