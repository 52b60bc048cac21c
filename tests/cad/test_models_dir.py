"""a wheel installed with pip install --user (or --prefix, or a distro pip into /usr/local) finds its models.

pip puts the wheel's data files under the install scheme's data folder (the user base, the --prefix, /usr/local),
which is not sys.prefix there: mammoview models said "no such folder" and detect "no models installed".
"""

from __future__ import annotations

import sys


def test_models_of_a_user_or_prefix_install_are_found(tmp_path, monkeypatch):
    from mammoview.cad import manifest

    monkeypatch.delenv("MAMMOVIEW_MODELS", raising=False)
    base = tmp_path / "home" / ".local"  # pip install --user: <user base>/lib/python3.X/site-packages
    fake_pkg = base / "lib" / "python3.11" / "site-packages" / "mammoview" / "cad" / "manifest.py"
    models = base / "share" / "mammoview" / "models"
    models.mkdir(parents=True)
    (models / "manifest.json").write_text('{"models": []}')
    monkeypatch.setattr(manifest, "__file__", str(fake_pkg))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "usr"))  # the interpreter's own prefix holds none
    assert manifest.default_models_dir() == models


def test_the_interpreters_prefix_is_still_said_when_no_models_are_anywhere(tmp_path, monkeypatch):
    from mammoview.cad import manifest

    monkeypatch.delenv("MAMMOVIEW_MODELS", raising=False)
    fake_pkg = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "mammoview" / "cad" / "manifest.py"
    monkeypatch.setattr(manifest, "__file__", str(fake_pkg))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert manifest.default_models_dir() == tmp_path / "venv" / "share" / "mammoview" / "models"


def test_models_of_a_windows_user_install_are_found(tmp_path, monkeypatch):
    """Windows' user scheme (sysconfig nt_user) puts the data files in the user base itself, one level above
    <user base>\\Python311\\site-packages: the folder's name starts with "python", as posix's lib/python3.11 does,
    but the base is its parent, not its grandparent."""
    from mammoview.cad import manifest

    monkeypatch.delenv("MAMMOVIEW_MODELS", raising=False)
    base = tmp_path / "AppData" / "Roaming" / "Python"  # %APPDATA%\Python
    fake_pkg = base / "Python311" / "site-packages" / "mammoview" / "cad" / "manifest.py"
    models = base / "share" / "mammoview" / "models"
    models.mkdir(parents=True)
    (models / "manifest.json").write_text('{"models": []}')
    monkeypatch.setattr(manifest, "__file__", str(fake_pkg))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "Python311"))  # the interpreter's own prefix holds none
    assert manifest.default_models_dir() == models


def test_models_of_a_target_install_are_found(tmp_path, monkeypatch):
    """pip install --target DIR puts the data files in DIR/share, beside the package."""
    from mammoview.cad import manifest

    monkeypatch.delenv("MAMMOVIEW_MODELS", raising=False)
    target = tmp_path / "vendor"
    fake_pkg = target / "mammoview" / "cad" / "manifest.py"
    models = target / "share" / "mammoview" / "models"
    models.mkdir(parents=True)
    (models / "manifest.json").write_text('{"models": []}')
    monkeypatch.setattr(manifest, "__file__", str(fake_pkg))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "usr"))
    assert manifest.default_models_dir() == models
