"""Capture: start (the Capture panel's workload and parameters on the bench in use), cancel, and the end of
a capture: the results row, the session list following it, the last run in the review, the message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.bench.config import BenchConfig
from app.errors import JoulebenchError
from app.ui.capture_panel import CapturePanel
from app.ui.results_panel import ResultsPanel
from app.ui.session_browser import SessionBrowser
from app.ui.workers import CaptureWorker


class CaptureController(QObject):
    """bench_source() gives the bench (None: it has an error, already shown); stop_live() frees the scope;
    show_panel(widget) brings a panel to the front; review_run(path, run) shows a run in the review;
    on_host_key(exc) asks whether to trust a board's host key."""

    done = Signal(object)           # CaptureOutcome
    failed = Signal(str)

    def __init__(self, panel: CapturePanel, results: ResultsPanel, sessions: SessionBrowser, *,
                 sessions_dir: Path, bench_source: Callable[[], BenchConfig | None], stop_live: Callable[[], None],
                 notices, show_panel: Callable[[QWidget], None], review_run: Callable[[str, int], None],
                 on_host_key: Callable[[Exception], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.results = results
        self.sessions = sessions
        self.sessions_dir = Path(sessions_dir)
        self.bench_source = bench_source
        self.stop_live = stop_live
        self.notices = notices
        self.show_panel = show_panel
        self.review_run = review_run
        self.on_host_key = on_host_key
        self.dialog_parent = parent
        self.worker: CaptureWorker | None = None
        self.cancel_asked = False                 # Cancel was pressed: its end is said as news, not an error
        panel.capture_requested.connect(self.start)
        panel.cancel_requested.connect(self.cancel)

    def start(self) -> None:
        if self.worker is not None:
            return
        bench = self.bench_source()
        if bench is None:
            return
        try:
            params = self.panel.param_values()
            spec = self.panel.workload()
            spec.render_command(params)
        except JoulebenchError as exc:
            self.notices.show_error(str(exc))
            return
        self.stop_live()
        self.notices.clear()
        from app.capture.procedure import CaptureRequest
        req = CaptureRequest(bench=bench, workload=spec, params=params, repeats=self.panel.repeats.value(),
                             windows=self.panel.windows.value(), out_dir=self.sessions_dir,
                             label=self.panel.label.text())
        worker = CaptureWorker(req)
        worker.progress.connect(self.panel.show_progress)
        worker.line.connect(self.panel.add_line)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        worker.run_analysed.connect(self.sessions.show_memory)
        self.worker = worker
        self.panel.set_running(True)
        self.show_panel(self.panel)
        worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.panel.stage.setText("cancelling: stopping the workload and saving what was captured…")
            self.cancel_asked = True
            self.worker.cancel.set()

    def _ended(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.thread.wait(10000)
        self.panel.set_running(False)
        self.sessions.refresh()

    def _finished(self, outcome) -> None:
        self._ended()
        self.results.add_session(str(outcome.session_path))
        self.show_panel(self.results)
        # the list and the review follow on later turns of the event loop, so no single step stalls the window
        def follow():
            self.sessions.follow(outcome.session_path)
            if outcome.runs:
                QTimer.singleShot(10, lambda: self.review_run(str(outcome.session_path),
                                                              int(outcome.runs[-1]["run"])))
        QTimer.singleShot(10, follow)
        failed = f"; run(s) {outcome.failed_runs} failed (see the session)" if outcome.failed_runs else ""
        (self.notices.show_error if outcome.failed_runs else self.notices.show_info)(
            f"captured {len(outcome.runs)} run(s) of {outcome.workload} into {outcome.session_path}{failed}")
        self.panel.stage.setText("done")
        self.done.emit(outcome)

    def _failed(self, message: str, outcome, cause) -> None:
        self._ended()
        from workloads.errors import HostKeyError
        cancelled, self.cancel_asked = self.cancel_asked, False
        saved = ""
        if outcome is not None and outcome.session_path is not None:
            self.results.add_session(str(outcome.session_path))
            saved = f"what was captured is saved in {outcome.session_path} (marked incomplete)"
            message += f" — {saved}"
        self.panel.stage.setText("cancelled" if cancelled else "stopped")
        if isinstance(cause, HostKeyError):
            self.on_host_key(cause)
        elif cancelled:                     # the operator's own Cancel: news, in neutral words, not an error
            self.notices.show_info("Capture cancelled as asked" + (f"; {saved}." if saved else "; nothing was saved."))
        else:
            self.notices.show_error(message)
        self.failed.emit(message)

    def confirm_quit(self) -> bool:
        """Quitting during a capture: ask, then cancel it (what was captured is saved). False: keep running."""
        if self.worker is None:
            return True
        answer = QMessageBox.question(self.dialog_parent, "Capture running",
                                      "A capture is running. Cancel it (what was captured is saved) and quit?")
        if answer != QMessageBox.Yes:
            return False
        worker = self.worker
        self.cancel_asked = True
        worker.cancel.set()
        worker.thread.wait(60000)
        return True
