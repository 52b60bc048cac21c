"""The pseudonym secret (``pseudonym.key`` in the app data folder) is the user's only: a key file others may read
(0644, e.g. copied in or restored from a backup) is made 0600 when read; one that cannot be is still used, and said."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
from pathlib import Path

import pytest

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
KEY = bytes(range(32))


def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAMMOVIEW_APP_DATA", str(tmp_path / "appdata"))
    path = tmp_path / "appdata" / "pseudonym.key"
    path.parent.mkdir()
    path.write_bytes(KEY)
    path.chmod(0o644)
    return path


def expected_pseudonym(study_key: str) -> str:
    return hmac.new(KEY, study_key.encode(), hashlib.sha256).hexdigest()


@posix_only
def test_a_key_others_can_read_is_made_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mammoview.gui.pseudonym import study_pseudonym

    path = key_file(tmp_path, monkeypatch)
    assert study_pseudonym("P_00820") == expected_pseudonym("P_00820")  # the key kept, not replaced
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == KEY


@posix_only
def test_a_key_that_cannot_be_made_owner_only_is_used_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mammoview.gui.pseudonym import study_pseudonym

    path = key_file(tmp_path, monkeypatch)

    def refused(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")  # another user's file, a read-only mount

    monkeypatch.setattr(os, "fchmod", refused)
    monkeypatch.setattr(os, "chmod", refused)
    with caplog.at_level(logging.WARNING, logger="mammoview.gui.pseudonym"):
        assert study_pseudonym("P_00820") == expected_pseudonym("P_00820")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    (record,) = [r for r in caplog.records if "pseudonym.key" in r.getMessage()]
    assert str(path) in record.getMessage() and "644" in record.getMessage(), record.getMessage()
