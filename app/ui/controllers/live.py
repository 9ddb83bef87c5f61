"""The live view: run (Space) and stop, frames from a LiveWorker drawn by the Live panel."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut

from app.bench.config import BenchConfig
from app.ui.live_view import LiveView
from app.ui.workers import LiveWorker


class LiveController(QObject):
    """bench_source() gives the bench to run on (None: not now); busy() says a capture holds the scope."""

    def __init__(self, view: LiveView, *, bench_source: Callable[[], BenchConfig | None], busy: Callable[[], bool],
                 notices, parent=None):
        super().__init__(parent)
        self.view = view
        self.bench_source = bench_source
        self.busy = busy
        self.notices = notices
        self.worker: LiveWorker | None = None
        view.run_toggled.connect(self.toggled)
        space = QShortcut(QKeySequence(Qt.Key_Space), view, activated=view.run_button.toggle)
        space.setContext(Qt.WidgetWithChildrenShortcut)

    def set_bench(self, bench: BenchConfig) -> None:
        self.view.bench = bench

    def toggled(self, on: bool) -> None:
        if on:
            bench = self.bench_source()
            if bench is None or self.busy():
                self.view.run_button.setChecked(False)
                return
            self.view.bench = bench
            self.worker = LiveWorker(bench)
            self.worker.frame.connect(self.view.show_frame)
            self.worker.failed.connect(self._failed)
            self.worker.start()
        else:
            self.stop()

    def _failed(self, message: str) -> None:
        self.notices.show_error(f"live view: {message}")
        self.view.run_button.setChecked(False)

    def stop(self) -> None:
        """Stop the live view (its worker and its Run button) before anything else uses the scope."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        button = self.view.run_button
        if button.isChecked():
            button.blockSignals(True)
            button.setChecked(False)
            button.setText("Run (Space)")
            button.blockSignals(False)
