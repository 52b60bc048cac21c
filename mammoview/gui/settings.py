"""Persistent viewer settings: recent studies, window geometry/state, view preferences.

With ``MAMMOVIEW_APP_DATA`` set (the test suite always sets it) the settings are an
INI file in that folder, so tests never touch the reader's real settings.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore

ORGANISATION = "mammoview"
APPLICATION = "mammoview"
MAX_RECENT = 10
#: the words a switch is saved as (QSettings writes true/false; a hand edit may write any of them)
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")

log = logging.getLogger(__name__)


def open_settings() -> QtCore.QSettings:
    """The application's QSettings (an INI file under ``$MAMMOVIEW_APP_DATA`` when set).

    A folder that cannot be made (read-only, under a file, a share not mounted) is no reason not to start: the
    settings are then this session's only (QSettings keeps them in memory), and the reads' saves say why they fail.
    The file is the user's only (0600), as the reads are: its recent studies name patients and their folders; so is
    the one where Qt's file dialogs keep the folders last opened (Linux: ``~/.config/QtProject.conf``, else beside
    this one under ``$MAMMOVIEW_APP_DATA``)."""
    app_data = os.environ.get("MAMMOVIEW_APP_DATA")
    if app_data:
        folder = Path(app_data)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("settings folder %s cannot be made (%s): settings of this session only", folder, exc)
        settings = QtCore.QSettings(str(folder / "mammoview.ini"), QtCore.QSettings.Format.IniFormat)
        # Qt's file dialogs keep their settings (below) there too: one folder for both, never the reader's own
        QtCore.QSettings.setPath(QtCore.QSettings.Format.NativeFormat, QtCore.QSettings.Scope.UserScope, str(folder))
    else:
        settings = QtCore.QSettings(
            QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, ORGANISATION, APPLICATION
        )
    _private(Path(settings.fileName()))
    if os.name == "posix" and sys.platform != "darwin":  # (an INI file there; the registry, a plist elsewhere)
        # Qt's file dialogs save the folders last opened (history, lastVisited: a PACS export's folder names name the
        # patient) in Qt's own settings file, ~/.config/QtProject.conf, written world-readable under the usual umask
        _private(Path(QtCore.QSettings(QtCore.QSettings.Scope.UserScope, "QtProject").fileName()))
    return settings


def _private(path: Path) -> None:
    """Make ``path`` (created empty when missing) readable by the user only; QSettings keeps the mode on rewrites."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        if os.name == "posix" and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # not writable: nothing is written there either


@dataclass(frozen=True)
class RecentStudy:
    """What "Recent studies" reopens: the paths the reader opened, and a title for the menu."""

    paths: tuple[str, ...]
    title: str

    def to_json(self) -> str:
        return json.dumps({"paths": list(self.paths), "title": self.title})

    @classmethod
    def from_json(cls, text: str) -> RecentStudy | None:
        try:
            data = json.loads(text)
            paths, title = data["paths"], data.get("title", "")
        except (ValueError, KeyError, TypeError):
            return None  # a damaged entry is dropped, not fatal
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
            return None  # (a string's letters are no paths; no path is nothing to reopen nor to name the entry)
        return cls(tuple(paths), title if isinstance(title, str) else "")


class ViewerSettings:
    """Typed access to the few values the viewer keeps between sessions."""

    def __init__(self, settings: QtCore.QSettings | None = None) -> None:
        self.qsettings = settings or open_settings()

    # -- recent studies --------------------------------------------------------------------
    def recent_studies(self) -> list[RecentStudy]:
        raw = self.qsettings.value("recent/studies", [])
        items = raw if isinstance(raw, list) else [raw] if raw else []
        out = [RecentStudy.from_json(str(text)) for text in items]
        return [r for r in out if r is not None]

    def add_recent(self, study: RecentStudy) -> None:
        recent = [r for r in self.recent_studies() if r.paths != study.paths]
        recent.insert(0, study)
        self.qsettings.setValue("recent/studies", [r.to_json() for r in recent[:MAX_RECENT]])

    def clear_recent(self) -> None:
        self.qsettings.remove("recent/studies")

    # -- the last worklist (a folder or files holding several studies) --------------------------
    def last_worklist(self) -> tuple[str, ...]:
        try:
            paths = json.loads(self.value("worklist/last", "[]"))
        except ValueError:
            return ()  # a damaged value is dropped, not fatal
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            return ()  # (a string's letters are no paths: its "/" would open the whole disk as a worklist)
        return tuple(paths)

    def set_last_worklist(self, paths: tuple[str, ...]) -> None:
        self.qsettings.setValue("worklist/last", json.dumps(list(paths)))

    # -- generic values ----------------------------------------------------------------------
    def value(self, key: str, default: str = "") -> str:
        v = self.qsettings.value(key, default)
        return str(v) if v is not None else default

    def flag(self, key: str, default: bool) -> bool:
        """A switch: ``default`` unless the value is a word for on or off (a hand edit's "maybe", an empty value or
        a list is no reason to turn the patient text, the scale bar or the heatmap off)."""
        v = self.qsettings.value(key, default)
        if isinstance(v, bool):
            return v
        word = v.strip().lower() if isinstance(v, str) else ""
        return True if word in _ON else False if word in _OFF else default

    def set_value(self, key: str, value: object) -> None:
        self.qsettings.setValue(key, value)

    def geometry(self) -> QtCore.QByteArray | None:
        v = self.qsettings.value("window/geometry")
        return v if isinstance(v, QtCore.QByteArray) else None

    def state(self) -> QtCore.QByteArray | None:
        v = self.qsettings.value("window/state")
        return v if isinstance(v, QtCore.QByteArray) else None

    def save_window(self, geometry: QtCore.QByteArray, state: QtCore.QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def sync(self) -> None:
        self.qsettings.sync()
