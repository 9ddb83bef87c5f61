"""Campaign: build the matrix from the workload list (or open a suite file), set repeats, order, settling and
ranging, run it, and watch the comparison table fill in, its intervals narrowing as runs finish."""

from __future__ import annotations

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
from workloads.spec import BUILTIN_DIR, builtin_workloads

TABLE_COLUMNS = ("entry", "n", "E (J)", "± 95 %", "J/GOp", "± 95 %", "P (W)", "T (s)", "× best", "± 95 %", "p vs best")


class CampaignPanel(QWidget):
    run_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open suite…")
        self.suite_label = QLabel("the matrix below")
        row.addWidget(self.open_button)
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
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)

    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open suite", str(BUILTIN_DIR.parent.parent / "resources" /
                                                                       "suites"), "Suite files (*.toml)")
        if path:
            self.load(path)

    def load(self, path: str) -> Suite:
        self.loaded = load_suite(path)
        self.suite_label.setText(f"{self.loaded.name} ({path})")
        return self.loaded

    def suite(self) -> Suite:
        """The suite to run: the opened file, else the checked rows of the matrix with the settings here."""
        if self.loaded is not None:
            return self.loaded
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
        settle = self.settle.currentText()
        data = {"name": "campaign", "repeats": self.repeats.value(), "order": self.order.currentText(),
                "settle": self.settle_s.value() if settle == "seconds" else settle, "settle_s": self.settle_s.value(),
                "ranging": "first" if self.ranging.isChecked() else "none", "entry": entries}
        return parse_suite(data, "the campaign matrix", BUILTIN_DIR)

    def show_table(self, doc: dict) -> None:
        self.table.setRowCount(0)
        for row in doc.get("entries", []):
            r = self.table.rowCount()
            self.table.insertRow(r)
            values = (row["label"], row["n"], row["energy_j_mean"], row["energy_j_ci95"], row["j_per_gop_mean"],
                      row["j_per_gop_ci95"], row["avg_power_w_mean"], row["duration_s_mean"], row["ratio_to_best"],
                      row["ratio_to_best_ci95"], row["p_value_vs_best"])
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(_cell(v)))

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _cell(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
