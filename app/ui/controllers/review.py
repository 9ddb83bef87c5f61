"""Review and export, the window's half: a run shown in the review (a result row, a finished capture), a
session opened (File ▸ Open), and the File menu's exports, handed to the session browser's ExportController."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.ui.session_browser import SessionBrowser


class ReviewController(QObject):
    """show_panel(widget) brings a panel to the front."""

    def __init__(self, sessions: SessionBrowser, *, show_panel: Callable[[QWidget], None], parent=None):
        super().__init__(parent)
        self.sessions = sessions
        self.show_panel = show_panel

    def review_run(self, path: str, run: int) -> None:
        """Show a run's trace in the review (a double-clicked result row, a finished capture)."""
        self.sessions.show_run(Path(path), run, defer_draw=True)

    def open_session(self) -> None:
        self.show_panel(self.sessions)
        self.sessions.open_selected()

    def ask_export(self, name: str) -> None:
        """Export what the review shows in a format of app/report/formats.py (asks where)."""
        self.sessions.exports.ask_export(name)
