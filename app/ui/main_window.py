"""The main window, built around the waveform: the review plot of a saved window in the middle (always
visible, so a capture ends with its trace, context and result on screen together), the panels (Bench, Live,
Capture, Campaign, Results, Sessions) in a dock beside it, a menu bar, a message bar and a status bar.
The dock's place is remembered; View ▸ Reset layout puts it back."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.bench.config import BenchConfig
from app.errors import JoulebenchError
from app.ui.bench_panel import BenchPanel
from app.ui.campaign_panel import CampaignPanel
from app.ui.capture_panel import CapturePanel
from app.ui.live_view import LiveView
from app.ui.results_panel import ResultsPanel
from app.ui.session_browser import SessionBrowser
from app.ui.warmup import preload, warm_kernels
from app.ui.workers import CaptureWorker, LiveWorker, TaskWorker

log = logging.getLogger(__name__)
DEMO_TEXT = "Demo bench (simulated scope, this computer as target)"


class MessageBar(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = QPushButton("×")
        close.setFixedWidth(28)
        close.clicked.connect(self.clear)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()

    def show_message(self, text: str, error: bool = True) -> None:
        self.label.setText(text)
        self.setStyleSheet("background: #fde7e9; color: #8a0010;" if error else "background: #e6f4ea; color: #0b5e20;")
        self.show()

    def clear(self) -> None:
        self.label.setText("")
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text()


class DockTabs:
    """The panels' docks, tabbed together, used like a tab widget: which panel is in front, bring one to
    the front (a closed or floating dock is shown again)."""

    def __init__(self, docks: list[QDockWidget]):
        self.docks = docks
        self._current = docks[0]
        for d in docks:
            d.visibilityChanged.connect(lambda visible, d=d: self._seen(d, visible))

    def _seen(self, dock: QDockWidget, visible: bool) -> None:
        if visible:
            self._current = dock

    def _dock_of(self, widget) -> QDockWidget:
        return next(d for d in self.docks if d.widget() is widget)

    def setCurrentWidget(self, widget) -> None:
        dock = self._dock_of(widget)
        dock.show()
        dock.raise_()
        self._current = dock

    def currentWidget(self):
        return self._current.widget()

    def currentIndex(self) -> int:
        return self.docks.index(self._current)

    def setCurrentIndex(self, index: int) -> None:
        if 0 <= index < len(self.docks):
            self.setCurrentWidget(self.docks[index].widget())


class MainWindow(QMainWindow):
    capture_done = Signal(object)        # CaptureOutcome (for tests and the screenshot script)
    capture_failed = Signal(str)
    campaign_done = Signal(object)       # the campaign document (None when it failed before any run)

    def __init__(self, bench: BenchConfig, *, demo: bool = False, sessions_dir: str | Path = "sessions",
                 settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("Joulebench")
        self.settings = settings or QSettings("Joulebench", "Joulebench")
        self.demo = demo
        self.bench = bench
        self.sessions_dir = Path(sessions_dir)
        self.capture_worker: CaptureWorker | None = None
        self.live_worker: LiveWorker | None = None
        self.tasks: list[TaskWorker] = []
        self.scope_idn = ""
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        self.message = MessageBar()
        lay.addWidget(self.message)
        self.bench_panel = BenchPanel()
        self.live = LiveView()
        self.capture_panel = CapturePanel()
        self.results = ResultsPanel()
        self.sessions = SessionBrowser(self.sessions_dir)
        self.campaign_panel = CampaignPanel()
        self.campaign_worker = None
        lay.addWidget(self.sessions.review, 1)           # the waveform in the middle
        self.setCentralWidget(central)
        self.docks: list[QDockWidget] = []
        for w, name in ((self.bench_panel, "Bench"), (self.live, "Live"), (self.capture_panel, "Capture"),
                        (self.campaign_panel, "Campaign"), (self.results, "Results"), (self.sessions, "Sessions")):
            dock = QDockWidget(name, self)
            dock.setObjectName(f"dock_{name.lower()}")
            dock.setWidget(w)
            dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                             | QDockWidget.DockWidgetClosable)
            self.docks.append(dock)
        self.tabs = DockTabs(self.docks)
        self._place_docks()
        self._menus()
        self.status = QLabel("")
        self.statusBar().addWidget(self.status, 1)
        self.bench_panel.set_bench(bench)
        self.live.bench = bench
        preload()
        QTimer.singleShot(300, lambda: threading.Thread(target=warm_kernels, name="warm-kernels",
                                                        daemon=True).start())
        self._wire()
        self._restore()
        self._update_status()

    # -- wiring ----------------------------------------------------------------------
    def _wire(self) -> None:
        self.bench_panel.bench_changed.connect(self._bench_changed)
        self.bench_panel.find_requested.connect(self.find_instruments)
        self.bench_panel.test_requested.connect(self.test_connection)
        self.bench_panel.autorange_requested.connect(self.auto_range)
        self.bench_panel.zero_requested.connect(self.zero_current)
        self.capture_panel.capture_requested.connect(self.start_capture)
        self.capture_panel.cancel_requested.connect(self.cancel_capture)
        self.campaign_panel.run_requested.connect(self.start_campaign)
        self.campaign_panel.cancel_requested.connect(self.cancel_campaign)
        self.live.run_toggled.connect(self._live_toggled)
        self.sessions.error.connect(self.show_error)
        self.results.run_activated.connect(self.review_run)
        space = QShortcut(QKeySequence(Qt.Key_Space), self.live, activated=self.live.run_button.toggle)
        space.setContext(Qt.WidgetWithChildrenShortcut)

    def _menus(self) -> None:
        bar = self.menuBar()

        def action(menu, text, slot, shortcut=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            menu.addAction(a)
            return a
        file_menu = bar.addMenu("&File")
        action(file_menu, "&Open session…", self._open_session, "Ctrl+O")
        action(file_menu, "&Export plot as PNG…", lambda: self.sessions._ask_export("png"), "Ctrl+E")
        action(file_menu, "Export plot as S&VG…", lambda: self.sessions._ask_export("svg"))
        action(file_menu, "Export selection as &CSV…", lambda: self.sessions._ask_export("trace"))
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, "Ctrl+Q")
        cap = bar.addMenu("&Capture")
        action(cap, "&Capture", self.start_capture, "Ctrl+R")
        action(cap, "C&ancel", self.cancel_capture)
        view = bar.addMenu("&View")
        for dock in self.docks:
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        action(view, "&Reset layout", self.reset_layout)
        help_menu = bar.addMenu("&Help")
        action(help_menu, "&About Joulebench", self.show_about)

    def show_bench_file_problems(self, path: str, error: Exception) -> None:
        """A bench file that does not load: its values in the panel, each problem at its field."""
        import tomllib

        from app.bench.config import bench_problems
        problems = [error]
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = None
        if isinstance(data, dict):
            self.bench_panel.set_raw(data, str(path))
            problems = bench_problems(data, str(path)) or problems
            self.bench_panel.show_problems(problems)
        self.show_panel(self.bench_panel)
        n = len(problems)
        self.show_error(f"the bench file {path} has {n} problem{'s' if n != 1 else ''} (shown at the fields of "
                        f"the Bench panel): {problems[0]} Fix them and press Apply; until then the demo bench is "
                        "in use.")

    def show_panel(self, widget) -> None:
        self.tabs.setCurrentWidget(widget)

    def _place_docks(self) -> None:
        """Every panel docked left of the waveform, tabbed together, Bench in front."""
        first = self.docks[0]
        for dock in self.docks:
            dock.setFloating(False)
            self.addDockWidget(Qt.LeftDockWidgetArea, dock)
            dock.show()
        for dock in self.docks[1:]:
            self.tabifyDockWidget(first, dock)
        self.resizeDocks([first], [max(460, self.width() // 3)], Qt.Horizontal)
        first.raise_()

    def reset_layout(self) -> None:
        self._place_docks()

    def about_text(self) -> str:
        import platform

        import h5py
        import numpy
        import pyqtgraph
        import PySide6

        from app.session.format import APP_VERSION
        try:
            import pyvisa
            visa = pyvisa.__version__
        except ImportError:
            visa = "not installed"
        return (f"Joulebench {APP_VERSION}: the energy of a computation, measured with a shunt and an "
                f"oscilloscope (docs/method.md).\n\nPython {platform.python_version()}, PySide6 {PySide6.__version__}, "
                f"pyqtgraph {pyqtgraph.__version__}, NumPy {numpy.__version__}, h5py {h5py.__version__} "
                f"(HDF5 {h5py.version.hdf5_version}), pyvisa {visa}")

    def show_about(self) -> None:
        QMessageBox.about(self, "About Joulebench", self.about_text())

    def review_run(self, path: str, run: int) -> None:
        """Show a run's trace in the review (a double-clicked result row, a finished capture)."""
        self.sessions.show_run(Path(path), run, defer_draw=True)

    def _open_session(self) -> None:
        self.tabs.setCurrentWidget(self.sessions)
        self.sessions.open_selected()

    def _restore(self) -> None:
        geo = self.settings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1400, 860)
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state)
        self.tabs.setCurrentIndex(int(self.settings.value("tab", 2)))

    def _update_status(self) -> None:
        where = DEMO_TEXT if self.demo else (self.bench.source_path or "bench (edited, not saved)")
        target = "this computer" if self.bench.target.kind == "local" else \
            f"{self.bench.target.user + '@' if self.bench.target.user else ''}{self.bench.target.host}"
        scope = self.scope_idn or self.bench.scope.resource
        if not self.bench.has_scope:
            scope = "none: energy from the board's telemetry alone (lower fidelity)"
        self.status.setText(f"Bench: {where}   |   Scope: {scope}   |   Target: {target}")

    def show_error(self, text: str) -> None:
        self.message.show_message(text, error=True)

    def show_info(self, text: str) -> None:
        self.message.show_message(text, error=False)

    def _bench_changed(self, bench: BenchConfig) -> None:
        self.bench = bench
        self.live.bench = bench
        self.demo = self.demo and bench.scope.resource.startswith("sim")
        self.message.clear()
        self._update_status()

    def _current_bench(self) -> BenchConfig | None:
        bench = self.bench_panel.apply()
        if bench is None:
            self.show_error("the bench has an error (see the Bench tab): " + self.bench_panel.info.text())
            self.tabs.setCurrentWidget(self.bench_panel)
        return bench

    # -- background tasks ----------------------------------------------------------------
    def _task(self, fn, done, what: str) -> TaskWorker:
        worker = TaskWorker(fn)
        worker.done.connect(done)
        worker.failed.connect(lambda msg, exc: self._task_failed(what, msg, exc))
        worker.thread.finished.connect(lambda: self.tasks.remove(worker) if worker in self.tasks else None)
        self.tasks.append(worker)
        worker.start()
        return worker

    def _task_failed(self, what: str, message: str, exc) -> None:
        from workloads.errors import HostKeyError
        if isinstance(exc, HostKeyError):
            self.ask_trust_host_key(exc)
            return
        self.show_error(f"{what}: {message}")

    def find_instruments(self) -> None:
        from instruments.visa import list_resources
        visa = self.bench.scope.visa_library
        self._task(lambda: list_resources(visa),
                   lambda found: self.bench_panel.info.setText("Instruments found: " + (", ".join(found) or
                                                               "none (LAN scopes on raw sockets are not listed: "
                                                               "type TCPIP::address::port::SOCKET)")),
                   "Find instruments")

    def test_connection(self) -> None:
        bench = self._current_bench()
        if bench is None:
            return

        def probe():
            from app.bench.connections import probe_bench
            idn, driver, facts, _ = probe_bench(bench)
            return idn, driver, facts

        def done(result):
            idn, driver, facts = result
            self.scope_idn = idn
            self._update_status()
            lines = "".join(f"<br>&nbsp;&nbsp;{k}: {str(v)[:200]}" for k, v in facts.items())
            self.bench_panel.info.setText(f"<b>Scope</b>: {idn} (driver {driver})<br><b>Target</b>:{lines}")
            self.show_info("connection tested: scope and target answered")
        self.bench_panel.info.setText("testing the connection…")
        self._task(probe, done, "Test connection")

    def auto_range(self) -> None:
        bench = self._current_bench()
        if bench is None:
            return
        self._stop_live()

        def work():
            from app.bench.connections import (
                acquisition_setup,
                channel_setup,
                open_bench_scope,
            )
            from instruments.ranging import auto_range
            scope = open_bench_scope(bench)
            try:
                return auto_range(scope, channel_setup(bench.voltage), channel_setup(bench.current),
                                  acquisition_setup(bench))
            finally:
                scope.close()

        def done(r):
            import dataclasses

            c = bench.current
            level_a = None
            if r.trigger_level_v is not None:
                level_a = r.trigger_level_v * c.a_per_v
            new = dataclasses.replace(
                bench, voltage=dataclasses.replace(bench.voltage, volts_per_div=r.voltage.volts_per_div,
                                                   offset_v=r.voltage.offset_v),
                current=dataclasses.replace(c, volts_per_div=r.current.volts_per_div, offset_v=r.current.offset_v),
                acquisition=dataclasses.replace(bench.acquisition, trigger_level_a=level_a)
                if level_a is not None else bench.acquisition)
            self.bench_panel.set_bench(new)
            self._bench_changed(new)
            self.show_info(f"auto-range: {r.message}" + (f"; trigger level {level_a:.4g} A" if level_a else ""))
        self._task(work, done, "Auto-range")

    def zero_current(self) -> None:
        """Measure the current channel's offset (no current may flow) and put it in the bench's zero_offset_v;
        Save bench keeps it."""
        bench = self._current_bench()
        if bench is None:
            return
        self._stop_live()
        answer = QMessageBox.question(self, "Zero the current channel",
                                      "No current may flow now: power the board off or short the probe's inputs. "
                                      "Measure the current channel's offset?")
        if answer != QMessageBox.Yes:
            return

        def work():
            from app.bench.zero import measure_zero
            return measure_zero(bench)

        def done(reading):
            import dataclasses

            new = dataclasses.replace(bench, current=dataclasses.replace(bench.current,
                                                                         zero_offset_v=reading.offset_v))
            self.bench_panel.set_bench(new)
            self._bench_changed(new)
            self.show_info(reading.describe(bench.current.a_per_v)
                           + "; stored as zero_offset_v (Save bench to keep it)")
        self._task(work, done, "Zero")

    # -- campaigns ---------------------------------------------------------------------------
    def start_campaign(self) -> None:
        from app.errors import JoulebenchError
        from app.ui.workers import CampaignWorker
        bench = self._current_bench()
        if bench is None or self.capture_worker is not None or self.campaign_worker is not None:
            return
        try:
            suite = self.campaign_panel.suite()
        except JoulebenchError as exc:
            self.show_error(str(exc))
            return
        self._stop_live()
        worker = CampaignWorker(bench, suite, self.sessions_dir)
        worker.progress.connect(lambda p: (self.campaign_panel.progress.setValue(int(p.fraction * 1000)),
                                           self.campaign_panel.stage.setText(p.message)))
        worker.table.connect(self.campaign_panel.show_table)
        worker.finished.connect(self._campaign_finished)
        worker.failed.connect(self._campaign_failed)
        self.campaign_worker = worker
        self.campaign_panel.set_running(True)
        worker.start()

    def cancel_campaign(self) -> None:
        if self.campaign_worker is not None:
            self.campaign_worker.cancel.set()

    def _campaign_finished(self, doc) -> None:
        self.campaign_panel.show_table(doc)
        self.campaign_panel.set_running(False)
        self.campaign_worker = None
        self.sessions.refresh()
        self.show_info(f"campaign done: best {doc['best']} by {doc['metric']}; saved in {doc['session']}")
        self.campaign_done.emit(doc)

    def _campaign_failed(self, message, doc) -> None:
        if doc is not None:
            self.campaign_panel.show_table(doc)
        self.campaign_panel.set_running(False)
        self.campaign_worker = None
        self.sessions.refresh()
        self.show_error(message)
        self.campaign_done.emit(doc)

    def ask_trust_host_key(self, exc) -> None:
        if exc.changed or not exc.fingerprint:
            self.show_error(str(exc))
            return
        from app.ui.host_key_dialog import HostKeyDialog
        box = HostKeyDialog(exc.host, exc.port, exc.fingerprint, self)
        self.host_key_box = box
        if box.exec() == QDialog.Accepted:
            bench = self.bench
            typed = box.typed.text().strip()

            def trust_it():
                from app.bench.connections import make_target
                target = make_target(bench)
                try:
                    return target.trust_host_key(typed)
                finally:
                    target.close()
            self._task(trust_it, lambda fp: self.show_info(f"trusted {exc.host}'s host key {fp}; try again"),
                       "Trust host key")
        else:
            self.show_error(f"not connected: the host key of {exc.host} was not trusted")

    # -- live view -------------------------------------------------------------------------
    def _live_toggled(self, on: bool) -> None:
        if on:
            bench = self._current_bench()
            if bench is None or self.capture_worker is not None:
                self.live.run_button.setChecked(False)
                return
            self.live.bench = bench
            self.live_worker = LiveWorker(bench)
            self.live_worker.frame.connect(self.live.show_frame)
            self.live_worker.failed.connect(self._live_failed)
            self.live_worker.start()
        else:
            self._stop_live()

    def _live_failed(self, message: str) -> None:
        self.show_error(f"live view: {message}")
        self.live.run_button.setChecked(False)

    def _stop_live(self) -> None:
        if self.live_worker is not None:
            self.live_worker.stop()
            self.live_worker = None
        if self.live.run_button.isChecked():
            self.live.run_button.blockSignals(True)
            self.live.run_button.setChecked(False)
            self.live.run_button.setText("Run (Space)")
            self.live.run_button.blockSignals(False)

    # -- capture ------------------------------------------------------------------------------
    def start_capture(self) -> None:
        if self.capture_worker is not None:
            return
        bench = self._current_bench()
        if bench is None:
            return
        try:
            params = self.capture_panel.param_values()
            spec = self.capture_panel.workload()
            spec.render_command(params)
        except JoulebenchError as exc:
            self.show_error(str(exc))
            return
        self._stop_live()
        self.message.clear()
        from app.capture.procedure import CaptureRequest
        req = CaptureRequest(bench=bench, workload=spec, params=params, repeats=self.capture_panel.repeats.value(),
                             windows=self.capture_panel.windows.value(), out_dir=self.sessions_dir,
                             label=self.capture_panel.label.text())
        worker = CaptureWorker(req)
        worker.progress.connect(self.capture_panel.show_progress)
        worker.line.connect(self.capture_panel.add_line)
        worker.finished.connect(self._capture_finished)
        worker.failed.connect(self._capture_failed)
        worker.run_analysed.connect(self.sessions.show_memory)
        self.capture_worker = worker
        self.capture_panel.set_running(True)
        self.tabs.setCurrentWidget(self.capture_panel)
        worker.start()

    def cancel_capture(self) -> None:
        if self.capture_worker is not None:
            self.capture_panel.stage.setText("cancelling: stopping the workload and saving what was captured…")
            self.capture_worker.cancel.set()

    def _capture_ended(self) -> None:
        worker, self.capture_worker = self.capture_worker, None
        if worker is not None:
            worker.thread.wait(10000)
        self.capture_panel.set_running(False)
        self.sessions.refresh()

    def _capture_finished(self, outcome) -> None:
        self._capture_ended()
        self.results.add_session(str(outcome.session_path))
        self.tabs.setCurrentWidget(self.results)
        # the list and the review follow on later turns of the event loop, so no single step stalls the window
        def follow():
            self.sessions.follow(outcome.session_path)
            if outcome.runs:
                QTimer.singleShot(10, lambda: self.review_run(str(outcome.session_path),
                                                              int(outcome.runs[-1]["run"])))
        QTimer.singleShot(10, follow)
        failed = f"; run(s) {outcome.failed_runs} failed (see the session)" if outcome.failed_runs else ""
        (self.show_error if outcome.failed_runs else self.show_info)(
            f"captured {len(outcome.runs)} run(s) of {outcome.workload} into {outcome.session_path}{failed}")
        self.capture_panel.stage.setText("done")
        self.capture_done.emit(outcome)

    def _capture_failed(self, message: str, outcome, cause) -> None:
        self._capture_ended()
        from workloads.errors import HostKeyError
        if outcome is not None and outcome.session_path is not None:
            self.results.add_session(str(outcome.session_path))
            message += f" — what was captured is saved in {outcome.session_path} (marked incomplete)"
        self.capture_panel.stage.setText("stopped")
        if isinstance(cause, HostKeyError):
            self.ask_trust_host_key(cause)
        else:
            self.show_error(message)
        self.capture_failed.emit(message)

    # -- closing -------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self.capture_worker is not None:
            answer = QMessageBox.question(self, "Capture running",
                                          "A capture is running. Cancel it (what was captured is saved) and quit?")
            if answer != QMessageBox.Yes:
                event.ignore()
                return
            worker = self.capture_worker
            worker.cancel.set()
            worker.thread.wait(60000)
        if self.campaign_worker is not None:
            answer = QMessageBox.question(self, "Campaign running",
                                          "A campaign is running. Cancel it (the finished runs are saved) and quit?")
            if answer != QMessageBox.Yes:
                event.ignore()
                return
            self.campaign_worker.cancel.set()
            self.campaign_worker.thread.wait(60000)
        self._stop_live()
        for t in list(self.tasks):
            t.thread.wait(10000)
        self.sessions.close_reader()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("tab", self.tabs.currentIndex())
        event.accept()
