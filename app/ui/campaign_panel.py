"""Campaign: build the matrix from the workload list (or open a suite file), set repeats, order, settling and
ranging, run it, and watch the comparison table fill in, its intervals narrowing as runs finish."""

from __future__ import annotations

import dataclasses
import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.bench.suite import ORDERS, Suite, load_suite, parse_suite
from app.report.numbers import format_value, with_uncertainty
from app.ui.run_names import entry_name
from workloads.spec import BUILTIN_DIR, builtin_workloads

MATRIX_TEXT = "the matrix below (or open a suite file)"
TABLE_COLUMNS = ("entry", "n", "E (J)", "± 95 %", "J/GOp", "± 95 %", "P (W)", "T (s)", "× best", "± 95 %", "p vs best")


class CampaignPanel(QWidget):
    run_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open suite…")
        self.unload_button = QPushButton("Unload suite")
        self.unload_button.setToolTip("Back to the matrix below and its settings")
        self.unload_button.hide()
        self.suite_label = QLabel(MATRIX_TEXT)
        self.suite_label.setWordWrap(True)
        row.addWidget(self.open_button)
        row.addWidget(self.unload_button)
        row.addWidget(self.suite_label, 1)
        lay.addLayout(row)
        self.matrix = QTableWidget(0, 3)
        self.matrix.setHorizontalHeaderLabels(("use", "workload", "parameters (NAME=VALUE …)"))
        self.matrix.horizontalHeader().setStretchLastSection(True)
        for w in builtin_workloads():
            r = self.matrix.rowCount()
            self.matrix.insertRow(r)
            use = QTableWidgetItem()
            use.setFlags(Qt.ItemIsUserCheckable | Qt.ItemIsEnabled)
            use.setCheckState(Qt.Unchecked)
            self.matrix.setItem(r, 0, use)
            name = QTableWidgetItem(w.name)
            name.setFlags(Qt.ItemIsEnabled)
            self.matrix.setItem(r, 1, name)
            self.matrix.setItem(r, 2, QTableWidgetItem(" ".join(f"{k}={v}" for k, v in w.params.items())))
        lay.addWidget(self.matrix, 2)
        form = QFormLayout()
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 100)
        self.repeats.setValue(3)
        self.order = QComboBox()
        self.order.addItems(ORDERS)
        self.settle = QComboBox()
        self.settle.addItems(("idle", "none", "seconds"))
        self.settle_s = QDoubleSpinBox()
        self.settle_s.setRange(0.1, 600.0)
        self.settle_s.setValue(5.0)
        self.settle_s.setSuffix(" s")
        self.ranging = QCheckBox("an unscored ranging run of each entry first")
        self.ranging.setChecked(True)
        form.addRow("Repeats per entry", self.repeats)
        form.addRow("Order", self.order)
        form.addRow("Settling", self.settle)
        form.addRow("Settle time", self.settle_s)
        form.addRow("Ranging", self.ranging)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.run_button = QPushButton("Run campaign")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        row.addWidget(self.run_button, 3)
        row.addWidget(self.cancel_button, 1)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.stage = QLabel("")
        lay.addWidget(self.progress)
        lay.addWidget(self.stage)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        lay.addWidget(self.table, 3)
        self.loaded: Suite | None = None
        self.open_button.clicked.connect(self._open)
        self.unload_button.clicked.connect(self.unload)
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)

    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open suite", str(BUILTIN_DIR.parent.parent / "resources" /
                                                                       "suites"), "Suite files (*.toml)")
        if path:
            self.load(path)

    def load(self, path: str) -> Suite:
        """Open a suite file: its entries run, and its own settings are shown here (and may be changed)."""
        self.loaded = load_suite(path)
        self._show_settings(self.loaded)
        self.matrix.setEnabled(False)
        entries = "; ".join(entry_name(e.label, e.workload.name, e.params) for e in self.loaded.entries)
        self.suite_label.setText(f"Suite “{self.loaded.name}” ({path}), {self.loaded.windows} window(s) a run: "
                                 f"{entries}")
        self.suite_label.setToolTip(path)
        self.unload_button.show()
        return self.loaded

    def unload(self) -> None:
        """Back to the matrix and the settings it had."""
        self.loaded = None
        self.matrix.setEnabled(True)
        self.suite_label.setText(MATRIX_TEXT)
        self.suite_label.setToolTip("")
        self.unload_button.hide()

    def _show_settings(self, suite: Suite) -> None:
        self.repeats.setValue(suite.repeats)
        self.order.setCurrentText(suite.order)
        if isinstance(suite.settle, str):
            self.settle.setCurrentText(suite.settle)
            self.settle_s.setValue(suite.settle_s)
        else:
            self.settle.setCurrentText("seconds")
            self.settle_s.setValue(max(self.settle_s.minimum(), float(suite.settle)))
        self.ranging.setChecked(suite.ranging == "first")

    def _settings(self) -> dict:
        settle = self.settle.currentText()
        return {"repeats": self.repeats.value(), "order": self.order.currentText(),
                "settle": self.settle_s.value() if settle == "seconds" else settle, "settle_s": self.settle_s.value(),
                "ranging": "first" if self.ranging.isChecked() else "none"}

    def suite(self) -> Suite:
        """The suite to run: the opened file with the settings shown here (its own, unless changed), else the
        checked rows of the matrix with the settings here."""
        if self.loaded is not None:
            return dataclasses.replace(self.loaded, **self._settings())
        entries = []
        for r in range(self.matrix.rowCount()):
            if self.matrix.item(r, 0).checkState() != Qt.Checked:
                continue
            name = self.matrix.item(r, 1).text()
            params = {}
            for pair in self.matrix.item(r, 2).text().split():
                key, _, value = pair.partition("=")
                params[key] = _value(value)
            entries.append({"label": name, "workload": name, "params": params})
        data = {"name": "campaign", **self._settings(), "entry": entries}
        return parse_suite(data, "the campaign matrix", BUILTIN_DIR)

    def show_table(self, doc: dict) -> None:
        self.table.setRowCount(0)
        for row in doc.get("entries", []):
            r = self.table.rowCount()
            self.table.insertRow(r)
            values = (row["label"], row["n"], *_pair(row["energy_j_mean"], row["energy_j_ci95"]),
                      *_pair(row["j_per_gop_mean"], row["j_per_gop_ci95"]), format_value(row["avg_power_w_mean"]),
                      format_value(row["duration_s_mean"]), *_pair(row["ratio_to_best"], row["ratio_to_best_ci95"]),
                      format_value(row["p_value_vs_best"], digits=2))
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(_cell(v) if v != "" else "—"))

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pair(value, ci) -> tuple[str, str]:
    """A mean and its interval in two cells, rounded together (app/report/numbers.py)."""
    text = with_uncertainty(value, ci)
    if " ± " in text and not text.startswith("("):
        mean, half = text.split(" ± ")
        return mean, half
    return text or "—", "—"


def _cell(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
