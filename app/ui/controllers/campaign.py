"""Campaigns: start (the Campaign panel's suite on the bench in use), cancel, and the end of a campaign."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.bench.config import BenchConfig
from app.errors import JoulebenchError
from app.ui.campaign_panel import CampaignPanel
from app.ui.workers import CampaignWorker

METRIC_WORDS = {"j_per_gop": "energy per operation (J/GOp)", "energy_j": "energy per run (J)"}


class CampaignController(QObject):
    """bench_source() gives the bench (None: it has an error, already shown); busy() says a capture holds
    the scope; stop_live() frees it; sessions_changed() refreshes the session list."""

    done = Signal(object)           # the campaign document (None when it failed before any run)

    def __init__(self, panel: CampaignPanel, *, sessions_dir: Path, bench_source: Callable[[], BenchConfig | None],
                 busy: Callable[[], bool], stop_live: Callable[[], None], sessions_changed: Callable[[], None],
                 notices, session_saved: Callable[[str], None] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.sessions_dir = Path(sessions_dir)
        self.bench_source = bench_source
        self.busy = busy
        self.stop_live = stop_live
        self.sessions_changed = sessions_changed
        self.notices = notices
        self.session_saved = session_saved          # a campaign's session file, for the Results panel
        self.dialog_parent = parent
        self.worker: CampaignWorker | None = None
        self.worker_cancelled = False                # Cancel was pressed: its end is news, not an error
        panel.run_requested.connect(self.start)
        panel.cancel_requested.connect(self.cancel)

    def start(self) -> None:
        bench = self.bench_source()
        if bench is None or self.busy() or self.worker is not None:
            return
        try:
            suite = self.panel.suite()
        except JoulebenchError as exc:
            self.notices.show_error(str(exc))
            return
        self.stop_live()
        worker = CampaignWorker(bench, suite, self.sessions_dir)
        worker.progress.connect(lambda p: (self.panel.progress.setValue(int(p.fraction * 1000)),
                                           self.panel.stage.setText(p.message)))
        worker.table.connect(self.panel.show_table)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        self.worker = worker
        self.panel.set_running(True)
        worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker_cancelled = True
            self.worker.cancel.set()

    def _finished(self, doc) -> None:
        self.panel.show_table(doc)
        self.panel.set_running(False)
        self.worker = None
        self.sessions_changed()
        self._to_results(doc)
        runs = sum(int(e.get("n") or 0) for e in doc.get("entries", []))
        self.panel.progress.setValue(self.panel.progress.maximum())
        self.panel.stage.setText(f"done: {runs} scored run(s) saved in {Path(str(doc.get('session'))).name}")
        self.notices.show_info(f"campaign done: the best is {doc['best']} by {METRIC_WORDS.get(doc['metric'], doc['metric'])}"
                               f"; saved in {doc['session']}")
        self.done.emit(doc)

    def _to_results(self, doc) -> None:
        """The campaign's runs in the Results panel, each by its entry."""
        if doc is not None and doc.get("session") and self.session_saved is not None:
            self.session_saved(str(doc["session"]))

    def _failed(self, message, doc) -> None:
        if doc is not None:
            self.panel.show_table(doc)
            self._to_results(doc)
        self.panel.set_running(False)
        self.worker = None
        self.sessions_changed()
        cancelled = self.worker_cancelled
        self.worker_cancelled = False
        self.panel.stage.setText("cancelled: the finished runs are saved" if cancelled else "stopped (see the message)")
        if cancelled:                              # asked for: said plainly, not as an error
            self.notices.show_info(message)
        else:
            self.notices.show_error(message)
        self.done.emit(doc)

    def confirm_quit(self) -> bool:
        """Quitting during a campaign: ask, then cancel it (the finished runs are saved). False: keep running."""
        if self.worker is None:
            return True
        answer = QMessageBox.question(self.dialog_parent, "Campaign running",
                                      "A campaign is running. Cancel it (the finished runs are saved) and quit?")
        if answer != QMessageBox.Yes:
            return False
        self.worker.cancel.set()
        self.worker.thread.wait(60000)
        return True
