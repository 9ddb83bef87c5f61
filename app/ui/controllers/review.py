"""Review and export, the window's half: a run shown in the review (a result row, a finished capture), a
session opened (File ▸ Open: a file dialog; File ▸ Open recent; a .h5 dropped on the window), and the File
menu's exports, handed to the session browser's ExportController."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QUrl
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from app.ui.session_browser import SessionBrowser

RECENT_KEY = "recent_sessions"
MAX_RECENT = 8
SESSION_SUFFIX = ".h5"


def session_files(urls: list[QUrl]) -> list[Path]:
    """The session files (local .h5) among dropped URLs, in their order."""
    return [Path(u.toLocalFile()) for u in urls
            if u.isLocalFile() and u.toLocalFile().lower().endswith(SESSION_SUFFIX)]


class ReviewController(QObject):
    """show_panel(widget) brings a panel to the front; settings keeps the recent sessions."""

    def __init__(self, sessions: SessionBrowser, *, show_panel: Callable[[QWidget], None],
                 settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.sessions = sessions
        self.show_panel = show_panel
        self.settings = settings

    def review_run(self, path: str, run: int) -> None:
        """Show a run's trace in the review (a double-clicked result row, a finished capture)."""
        self.sessions.show_run(Path(path), run, defer_draw=True)

    def open_session(self) -> None:
        """File ▸ Open: any session file, wherever it is (the dialog starts in the browser's folder)."""
        path, _ = QFileDialog.getOpenFileName(self.parent(), "Open session", str(self.sessions.folder),
                                              "Joulebench sessions (*.h5);;All files (*)")
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        """Open a session in the review and remember it among the recent ones."""
        if not Path(path).is_file():
            self.sessions.error.emit(f"{path}: no such session file (moved or deleted?)")
            self.forget(path)
            return False
        if not self.sessions.open_path(Path(path)):
            return False
        self.remember(Path(path))
        return True

    def open_dropped(self, urls: list[QUrl]) -> bool:
        """Session files dropped on the window: the first is opened (the others are named)."""
        files = session_files(urls)
        if not files:
            self.sessions.error.emit("only Joulebench session files (.h5) can be dropped here")
            return False
        if len(files) > 1:
            self.sessions.info.emit(f"opened {files[0].name}; {len(files) - 1} more dropped file(s) not opened "
                                    "(the review shows one session at a time)")
        return self.open_path(files[0])

    # -- recent sessions -----------------------------------------------------------------------
    def recent(self) -> list[Path]:
        if self.settings is None:
            return []
        value = self.settings.value(RECENT_KEY, [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [Path(p) for p in items if p]

    def remember(self, path: Path) -> None:
        if self.settings is None:
            return
        path = Path(path).resolve()
        items = [path] + [p for p in self.recent() if p != path]
        self.settings.setValue(RECENT_KEY, [str(p) for p in items[:MAX_RECENT]])

    def forget(self, path: Path) -> None:
        if self.settings is not None:
            self.settings.setValue(RECENT_KEY, [str(p) for p in self.recent() if p != Path(path)])

    def fill_recent_menu(self, menu: QMenu) -> None:
        """File ▸ Open recent, rebuilt each time it opens."""
        menu.clear()
        items = self.recent()
        for p in items:
            act = menu.addAction(p.name, lambda p=p: self.open_path(p))
            act.setToolTip(str(p))
            act.setStatusTip(str(p))
        if not items:
            menu.addAction("(no session opened yet)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear the list", lambda: self.settings.setValue(RECENT_KEY, []))

    def ask_export(self, name: str) -> None:
        """Export what the review shows in a format of app/report/formats.py (asks where)."""
        self.sessions.exports.ask_export(name)
