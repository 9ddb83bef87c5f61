"""Results: every run captured in this sitting, a per-workload summary, and workloads side by side."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMessageBox, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)
from PySide6.QtCore import Qt

from app.errors import JoulebenchError
from app.report import build_report
from app.ui.figures import comparison_metric
from app.session_reader import SessionReader

RUN_COLUMNS = ("Workload", "Run", "Status", "Energy ± U (J)", "Avg P (W)", "Idle P (W)", "Dynamic E (J)", "T (s)",
               "J/GOp", "Method", "Source", "Telemetry Δ (%)", "Warnings")
SUMMARY_COLUMNS = ("Workload", "Runs", "Energy mean (J)", "95 % CI (J)", "J/GOp mean", "Ratio to best")


def _f(x, spec=".5g"):
    return "" if x is None or x == "" else format(float(x), spec)


def source_text(row: dict) -> str:
    """Where the energy came from, said plainly when it was not a scope."""
    if row.get("measurand"):
        return f"NO SCOPE: {row['measurand']}"
    return row.get("energy_source") or ""


class ResultsPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.sessions: list[str] = []
        self.run_rows: list[dict] = []
        lay = QVBoxLayout(self)
        split = QSplitter(Qt.Vertical)
        self.table = QTableWidget(0, len(RUN_COLUMNS))
        self.table.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        split.addWidget(self.table)
        self.summary = QTableWidget(0, len(SUMMARY_COLUMNS))
        self.summary.setHorizontalHeaderLabels(SUMMARY_COLUMNS)
        self.summary.setEditTriggers(QTableWidget.NoEditTriggers)
        split.addWidget(self.summary)
        self.chart = pg.PlotWidget(background="w")
        self.chart.setLabel("left", "energy per run")
        split.addWidget(self.chart)
        lay.addWidget(split)
        row = QHBoxLayout()
        self.budget_button = QPushButton("Uncertainty budget of the selected run…")
        self.note = QLabel("")
        row.addWidget(self.budget_button)
        row.addWidget(self.note)
        row.addStretch()
        lay.addLayout(row)
        self.budget_button.clicked.connect(self.show_budget)

    def add_session(self, path: str) -> None:
        if path not in self.sessions:
            self.sessions.append(path)
        self.refresh()

    def refresh(self) -> None:
        if not self.sessions:
            return
        try:
            runs, summaries = build_report(self.sessions)
        except JoulebenchError as exc:
            self.note.setText(str(exc))
            return
        self.run_rows = runs
        self.table.setRowCount(len(runs))
        for r, row in enumerate(runs):
            tele = row.get("telemetry_vs_shunt_pct")
            warnings = row.get("warnings") or []
            if row.get("clipped"):
                warnings = ["CLIPPED"] + list(warnings)
            values = (row.get("workload"), row.get("run"), row.get("run_status"),
                      f"{_f(row.get('energy_j'))} ± {_f(row.get('uncertainty_j'), '.2g')}" if row.get("energy_j")
                      is not None else "", _f(row.get("avg_power_w")), _f(row.get("idle_power_w")),
                      _f(row.get("dynamic_energy_j")), _f(row.get("duration_s")), _f(row.get("j_per_gop")),
                      row.get("energy_method") or "", source_text(row), _f(tele, ".3g"), "; ".join(warnings))
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem("" if v is None else str(v)))
        self.table.resizeColumnsToContents()
        metric = comparison_metric(summaries)
        means = [s.get(f"{metric}_mean") for s in summaries]
        best = min((m for m in means if m), default=None)
        self.summary.setRowCount(len(summaries))
        for r, s in enumerate(summaries):
            ratio = f"×{s[f'{metric}_mean'] / best:.3g}" if best and s.get(f"{metric}_mean") else ""
            values = (s["workload"], s["n_runs"], _f(s.get("energy_j_mean")), _f(s.get("energy_j_ci95"), ".3g"),
                      _f(s.get("j_per_gop_mean")), ratio)
            for c, v in enumerate(values):
                self.summary.setItem(r, c, QTableWidgetItem(str(v)))
        self.summary.resizeColumnsToContents()
        self.chart.clear()
        if summaries:
            xs = list(range(len(summaries)))
            heights = [float(m or 0) for m in means]
            self.chart.addItem(pg.BarGraphItem(x=xs, height=heights, width=0.6, brush=(70, 130, 180)))
            self.chart.getAxis("bottom").setTicks([[(x, s["workload"]) for x, s in zip(xs, summaries)]])
            self.chart.setLabel("left", "J/GOp" if metric == "j_per_gop" else "energy", units=None if metric ==
                                "j_per_gop" else "J")
        self.note.setText(f"{len(runs)} run(s) in {len(self.sessions)} session(s)")

    def selected_run(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        idx = rows[0].row() if rows else (len(self.run_rows) - 1 if self.run_rows else None)
        return None if idx is None else self.run_rows[idx]

    def budget_text(self, row: dict) -> str:
        with SessionReader(row["session_file"]) as s:
            details = s.run(int(row["run"])).details
        lines = [f"{row['workload']} run {row['run']}: E = {_f(row.get('energy_j'))} J, "
                 f"U (k=2) = {_f(row.get('uncertainty_j'), '.3g')} J", ""]
        for b in details.get("budget", []):
            lines.append(f"  {b['name']:<26} u = {b['relative_u'] * 100:8.4f} %   {b['u_j']:.4g} J")
        if row.get("fidelity"):
            lines += ["", f"No scope: {row.get('measurand')}, {row.get('energy_source')}.", row["fidelity"]]
        if details.get("window_means_w"):
            lines.append("")
            lines.append("window mean powers (W): " + ", ".join(f"{m:.5g}" for m in details["window_means_w"]))
        return "\n".join(lines)

    def show_budget(self) -> None:
        row = self.selected_run()
        if row is None or row.get("energy_j") is None:
            return
        QMessageBox.information(self, "Uncertainty budget", self.budget_text(row))
