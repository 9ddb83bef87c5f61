"""The session folder, and the review of one saved window: V/I/P, two markers, exports."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from app.errors import JoulebenchError
from app.report import export_trace, write_report_csv
from app.session_reader import SessionReader
from app.ui.trace_plot import TracePlot, format_stats

COLUMNS = ("Created (UTC)", "Label", "Workload", "Runs", "Energy (J)", "Status", "File")


def session_row(path: Path) -> tuple:
    try:
        with SessionReader(path) as s:
            runs = s.runs()
            energies = [r.record["energy_j"] for r in runs if r.record and r.record.get("energy_j") is not None]
            energy = f"{sum(energies) / len(energies):.5g}" if energies else ""
            return (s.attrs.get("created", ""), s.attrs.get("label", ""), s.workload_name, len(runs), energy,
                    s.status, path.name)
    except JoulebenchError as exc:
        return ("", "", "", "", "", f"unreadable: {exc}", path.name)


class SessionBrowser(QWidget):
    error = Signal(str)

    def __init__(self, folder: str | Path = "sessions", parent=None):
        super().__init__(parent)
        self.folder = Path(folder)
        self.paths: list[Path] = []
        self.reader: SessionReader | None = None
        self.current: Path | None = None
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.folder_label = QLabel()
        self.refresh_button = QPushButton("Refresh")
        self.folder_button = QPushButton("Folder…")
        self.open_button = QPushButton("Open (Ctrl+O)")
        top.addWidget(self.folder_label, 1)
        for b in (self.refresh_button, self.folder_button, self.open_button):
            top.addWidget(b)
        lay.addLayout(top)
        split = QSplitter(Qt.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        split.addWidget(self.table)
        review = QWidget()
        rl = QVBoxLayout(review)
        sel = QHBoxLayout()
        self.run_box = QComboBox()
        self.window_box = QComboBox()
        self.export_report_button = QPushButton("Export CSV report…")
        self.export_trace_button = QPushButton("Export marker range as CSV…")
        self.export_png_button = QPushButton("Export plot as PNG… (Ctrl+E)")
        sel.addWidget(QLabel("Run"))
        sel.addWidget(self.run_box)
        sel.addWidget(QLabel("Window"))
        sel.addWidget(self.window_box)
        sel.addStretch()
        for b in (self.export_report_button, self.export_trace_button, self.export_png_button):
            sel.addWidget(b)
        rl.addLayout(sel)
        self.plot = TracePlot()
        rl.addWidget(self.plot, 1)
        self.readout = QLabel(format_stats(None))
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.readout.setStyleSheet("font-family: monospace;")
        rl.addWidget(self.readout)
        split.addWidget(review)
        split.setSizes([150, 600])
        lay.addWidget(split)
        self.refresh_button.clicked.connect(self.refresh)
        self.folder_button.clicked.connect(self._choose_folder)
        self.open_button.clicked.connect(self.open_selected)
        self.table.doubleClicked.connect(lambda *_: self.open_selected())
        self.run_box.currentIndexChanged.connect(self._run_chosen)
        self.window_box.currentIndexChanged.connect(self._window_chosen)
        self.plot.markers_moved.connect(lambda st: self.readout.setText(format_stats(st)))
        self.export_report_button.clicked.connect(lambda: self._ask_export("report"))
        self.export_trace_button.clicked.connect(lambda: self._ask_export("trace"))
        self.export_png_button.clicked.connect(lambda: self._ask_export("png"))
        self.refresh()

    def set_folder(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.refresh()

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Session folder", str(self.folder))
        if path:
            self.set_folder(path)

    def refresh(self) -> None:
        self.folder_label.setText(f"Sessions in {self.folder.resolve()}")
        self.paths = sorted(self.folder.glob("*.h5"), reverse=True) if self.folder.is_dir() else []
        self.table.setRowCount(len(self.paths))
        for r, p in enumerate(self.paths):
            for c, v in enumerate(session_row(p)):
                self.table.setItem(r, c, QTableWidgetItem(str(v)))
        self.table.resizeColumnsToContents()

    def open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_path(self.paths[rows[0].row()])
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Open session", str(self.folder), "Sessions (*.h5)")
            if path:
                self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        try:
            self.reader = SessionReader(path)
        except JoulebenchError as exc:
            self.error.emit(str(exc))
            return False
        self.current = Path(path)
        self.run_box.blockSignals(True)
        self.run_box.clear()
        for n in self.reader.run_numbers():
            self.run_box.addItem(str(n), n)
        self.run_box.blockSignals(False)
        self._run_chosen()
        return True

    def _run_chosen(self, *args) -> None:
        if self.reader is None or self.run_box.count() == 0:
            return
        run = self.reader.run(self.run_box.currentData())
        self.window_box.blockSignals(True)
        self.window_box.clear()
        for k in run.window_numbers():
            self.window_box.addItem(str(k), k)
        self.window_box.blockSignals(False)
        self._window_chosen()

    def _window_chosen(self, *args) -> None:
        if self.reader is None or self.window_box.count() == 0:
            return
        try:
            win = self.reader.run(self.run_box.currentData()).window(self.window_box.currentData())
            self.plot.show_window(win)
        except JoulebenchError as exc:
            self.error.emit(str(exc))

    # -- exports ----------------------------------------------------------------------
    def _ask_export(self, what: str) -> None:
        if self.current is None:
            self.error.emit("open a session first (Ctrl+O)")
            return
        suffix = {"report": "csv", "trace": "csv", "png": "png"}[what]
        path, _ = QFileDialog.getSaveFileName(self, "Export", str(self.current.with_suffix(f".{what}.{suffix}")),
                                              f"*.{suffix}")
        if path:
            self.export(what, path)

    def export(self, what: str, path: str) -> bool:
        try:
            if what == "report":
                write_report_csv([self.current], path)
            elif what == "trace":
                t0, t1 = self.plot.marker_times()
                export_trace(self.current, self.run_box.currentData(), self.window_box.currentData(), path,
                             start_s=t0, stop_s=t1)
            else:
                import pyqtgraph.exporters
                exporter = pyqtgraph.exporters.ImageExporter(self.plot.scene())
                exporter.parameters()["width"] = max(800, self.plot.width())
                exporter.export(path)
        except (JoulebenchError, OSError) as exc:
            self.error.emit(f"export failed: {exc}")
            return False
        return True

    def close_reader(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
