"""The main window, built around the waveform: the review plot of a saved window in the middle (always
visible, so a capture ends with its trace, context and result on screen together), the panels (Bench, Live,
Capture, Campaign, Results, Sessions) in a dock beside it, a menu bar, a message bar and a status bar.
The dock's place is remembered; View ▸ Reset layout puts it back.

The window only lays out the panels and builds the menus; each group of actions (bench and connection,
live view, capture, campaign, review and export, host keys) is a controller in app/ui/controllers/."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
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
from app.report.formats import menu_formats
from app.ui.bench_panel import BenchPanel
from app.ui.campaign_panel import CampaignPanel
from app.ui.capture_panel import CapturePanel
from app.ui.controllers.bench import BenchController
from app.ui.controllers.campaign import CampaignController
from app.ui.controllers.capture import CaptureController
from app.ui.controllers.host_keys import HostKeyController
from app.ui.controllers.live import LiveController
from app.ui.controllers.review import ReviewController, session_files
from app.ui.controllers.tasks import TaskRunner
from app.ui.live_view import LiveView
from app.ui.results_panel import ResultsPanel
from app.ui.session_browser import SessionBrowser
from app.ui.warmup import preload, warm_kernels

log = logging.getLogger(__name__)
DEMO_TEXT = "Demo bench (simulated scope, this computer as target)"
SIMULATED_TITLE = "SIMULATED bench (demo, not a measurement)"


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
        self.is_error = False
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()

    def show_message(self, text: str, error: bool = True) -> None:
        self.label.setText(text)
        self.is_error = error
        self.setStyleSheet("background: #fde7e9; color: #8a0010;" if error else "background: #e6f4ea; color: #0b5e20;")
        self.show()

    def show_error(self, text: str) -> None:
        self.show_message(text, error=True)

    def show_info(self, text: str) -> None:
        self.show_message(text, error=False)

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
    """The layout (the review in the middle, the panels docked beside it), the menus, the message and status
    bars, and the controllers (app/ui/controllers/) that carry out each group of actions."""

    capture_done = Signal(object)        # CaptureOutcome (for tests and the screenshot script)
    capture_failed = Signal(str)
    campaign_done = Signal(object)       # the campaign document (None when it failed before any run)

    def __init__(self, bench: BenchConfig, *, demo: bool = False, sessions_dir: str | Path = "sessions",
                 settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("Joulebench")
        self.setAcceptDrops(True)                         # a session file (.h5) dropped here opens in the review
        self.settings = settings or QSettings("Joulebench", "Joulebench")
        self.sessions_dir = Path(sessions_dir)
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
        self._controllers(bench, demo)
        self._menus()
        self.status = QLabel("")
        self.statusBar().addWidget(self.status, 1)
        self.bench_panel.set_bench(bench)
        self.live_control.set_bench(bench)
        preload()
        QTimer.singleShot(300, lambda: threading.Thread(target=warm_kernels, name="warm-kernels",
                                                        daemon=True).start())
        self._restore()
        self._update_status()

    def _controllers(self, bench: BenchConfig, demo: bool) -> None:
        """One controller per group of actions, each given its panels and what it needs of the others."""
        m = self.message
        self.tasks = TaskRunner(m, parent=self)
        self.bench_control = BenchController(self.bench_panel, bench, demo=demo, notices=m, tasks=self.tasks,
                                             show_panel=self.show_panel, stop_live=lambda: self.live_control.stop(),
                                             parent=self)
        current = self.bench_control.current
        self.live_control = LiveController(self.live, bench_source=current, notices=m, parent=self,
                                           busy=lambda: self.capture_control.worker is not None)
        self.host_keys = HostKeyController(bench_source=lambda: self.bench_control.bench, tasks=self.tasks,
                                           notices=m, parent=self)
        self.tasks.on_host_key = self.host_keys.ask_trust
        self.review_control = ReviewController(self.sessions, show_panel=self.show_panel, settings=self.settings,
                                               parent=self)
        self.capture_control = CaptureController(
            self.capture_panel, self.results, self.sessions, sessions_dir=self.sessions_dir, bench_source=current,
            stop_live=self.live_control.stop, notices=m, show_panel=self.show_panel,
            review_run=self.review_control.review_run, on_host_key=self.host_keys.ask_trust, parent=self)
        self.campaign_control = CampaignController(
            self.campaign_panel, sessions_dir=self.sessions_dir, bench_source=current,
            busy=lambda: self.capture_control.worker is not None, stop_live=self.live_control.stop,
            sessions_changed=self.sessions.refresh, notices=m, session_saved=self.results.add_session, parent=self)
        self.bench_control.changed.connect(self._bench_changed)
        self.capture_control.done.connect(self.capture_done)
        self.capture_control.failed.connect(self.capture_failed)
        self.campaign_control.done.connect(self.campaign_done)
        self.sessions.error.connect(self.show_error)
        self.sessions.info.connect(self.show_info)
        self.results.run_activated.connect(self.review_control.review_run)

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
        action(file_menu, "&Open session…", self.review_control.open_session, "Ctrl+O")
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(lambda: self.review_control.fill_recent_menu(self.recent_menu))
        for fmt in menu_formats():           # the export formats the menu offers (app/report/formats.py)
            action(file_menu, fmt.menu, lambda *_, name=fmt.name: self.review_control.ask_export(name), fmt.shortcut)
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, "Ctrl+Q")
        cap = bar.addMenu("&Capture")
        action(cap, "&Capture", self.capture_control.start, "Ctrl+R")
        action(cap, "C&ancel", self.capture_control.cancel)
        view = bar.addMenu("&View")
        for dock in self.docks:
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        action(view, "&Reset layout", self.reset_layout)
        help_menu = bar.addMenu("&Help")
        action(help_menu, "&About Joulebench", self.show_about)

    # -- what the controllers hold, as the window's own -------------------------------------
    @property
    def bench(self) -> BenchConfig:
        return self.bench_control.bench

    @property
    def demo(self) -> bool:
        return self.bench_control.demo

    @property
    def capture_worker(self):
        return self.capture_control.worker

    @property
    def campaign_worker(self):
        return self.campaign_control.worker

    @property
    def live_worker(self):
        return self.live_control.worker

    @property
    def host_key_box(self):
        return self.host_keys.box

    def show_bench_file_problems(self, path: str, error: Exception) -> None:
        """A bench file that does not load: its values in the panel, each problem at its field."""
        self.bench_control.show_file_problems(path, error)

    # -- layout ---------------------------------------------------------------------------------
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

    def _restore(self) -> None:
        geo = self.settings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:                                      # at most the screen's free area (a 1 366×768 laptop)
            free = self.screen().availableGeometry()
            self.resize(min(1400, free.width()), min(860, free.height()))
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state)
        self.tabs.setCurrentIndex(int(self.settings.value("tab", 2)))

    # -- messages and status ----------------------------------------------------------------------
    def _bench_changed(self, bench: BenchConfig) -> None:
        self.live_control.set_bench(bench)
        self._update_status()

    def _update_status(self) -> None:
        bench = self.bench
        simulated = bench.has_scope and bench.scope.resource.strip().lower().startswith("sim")
        self.setWindowTitle(f"Joulebench — {SIMULATED_TITLE}" if simulated else "Joulebench")
        where = DEMO_TEXT if self.demo else (bench.source_path or "bench (edited, not saved)")
        target = "this computer" if bench.target.kind == "local" else \
            f"{bench.target.user + '@' if bench.target.user else ''}{bench.target.host}"
        scope = self.bench_control.scope_idn or bench.scope.resource
        if not bench.has_scope:
            scope = "none: energy from the board's telemetry alone (lower fidelity)"
        if simulated:
            scope = f"SIMULATED ({bench.scope.resource}; its numbers are not measurements)"
        self.status.setText(f"Bench: {where}   |   Scope: {scope}   |   Target: {target}")

    def show_error(self, text: str) -> None:
        self.message.show_error(text)

    def show_info(self, text: str) -> None:
        self.message.show_info(text)

    # -- a session file dropped on the window ------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if session_files(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        if session_files(event.mimeData().urls()):
            event.acceptProposedAction()
            self.review_control.open_dropped(event.mimeData().urls())
        else:
            event.ignore()

    # -- closing -------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if not self.capture_control.confirm_quit() or not self.campaign_control.confirm_quit():
            event.ignore()
            return
        self.live_control.stop()
        self.tasks.wait(10000)
        self.sessions.close_reader()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("tab", self.tabs.currentIndex())
        event.accept()
