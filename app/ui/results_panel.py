"""Results: every run captured in this sitting, a per-workload summary, and workloads side by side."""

from __future__ import annotations

import json
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import JoulebenchError
from app.report.figures import comparison_metric
from app.report.tables import build_report
from app.session.reader import SessionReader

RUN_COLUMNS = ("Workload", "Run", "Status", "Energy ± U (J)", "Avg P (W)", "Idle P (W)", "Dynamic E (J)", "T (s)",
               "J/GOp", "Method", "Source", "Telemetry Δ (%)", "Warnings", "Parameters")
SUMMARY_COLUMNS = ("Workload", "Parameters", "Runs", "Energy mean ± 95 % CI (J)", "J/GOp mean ± 95 % CI",
                   "Ratio to best (95 % CI)")


def _f(x, spec=".5g"):
    return "" if x is None or x == "" else format(float(x), spec)


def with_uncertainty(value, u) -> str:
    """A value and its uncertainty, the value rounded where the uncertainty's second significant digit falls
    (71.1 ± 2.0, never 71.105 ± 2)."""
    if value is None or value == "":
        return ""
    value = float(value)
    if u is None or u == "" or not math.isfinite(float(u)) or float(u) <= 0:
        return format(value, ".5g")
    u = float(u)
    digits = 1 - int(math.floor(math.log10(u)))          # two significant digits of u
    if digits > 0:
        return f"{value:.{digits}f} ± {u:.{digits}f}"
    step = 10 ** (-digits)
    return f"{round(value / step) * step:.0f} ± {round(u / step) * step:.0f}"


def params_text(params) -> str:
    if not params:
        return ""
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return params
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) if isinstance(params, dict) else str(params)


def ratio_with_interval(mean: float, ci: float, best: float, best_ci: float, same: bool) -> tuple[float, float]:
    """mean / best and its 95 % half-width by the delta method (the ratio of the best to itself is 1 exactly)."""
    if same or not best:
        return 1.0, 0.0
    q = mean / best
    rel = math.hypot((ci or 0.0) / mean if mean else 0.0, (best_ci or 0.0) / best)
    return q, q * rel


def source_text(row: dict) -> str:
    """Where the energy came from, said plainly when it was not a scope."""
    if row.get("measurand"):
        return f"NO SCOPE: {row['measurand']}"
    return row.get("energy_source") or ""


class ResultsPanel(QWidget):
    run_activated = Signal(str, int)          # session file, run number (a double-clicked row)

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
        self.table.doubleClicked.connect(lambda index: self.activate_row(index.row()))
        self.table.itemSelectionChanged.connect(self._selection_changed)

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
                      with_uncertainty(row.get("energy_j"), row.get("uncertainty_j")),
                      _f(row.get("avg_power_w")), _f(row.get("idle_power_w")),
                      _f(row.get("dynamic_energy_j")), _f(row.get("duration_s")), _f(row.get("j_per_gop")),
                      row.get("energy_method") or "", source_text(row), _f(tele, ".3g"), "; ".join(warnings),
                      params_text(row.get("params")))
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem("" if v is None else str(v)))
        self.table.resizeColumnsToContents()
        metric = comparison_metric(summaries)
        means = [s.get(f"{metric}_mean") for s in summaries]
        cis = [s.get(f"{metric}_ci95") or 0.0 for s in summaries]
        best_k = min((k for k, m in enumerate(means) if m), key=lambda k: means[k], default=None)
        self.summary.setRowCount(len(summaries))
        for r, s in enumerate(summaries):
            ratio = ""
            if best_k is not None and s.get(f"{metric}_mean"):
                q, q_ci = ratio_with_interval(means[r], cis[r], means[best_k], cis[best_k], same=(r == best_k))
                ratio = f"×{q:.3g}" + (f" ({q - q_ci:.3g} – {q + q_ci:.3g})" if q_ci else "")
            values = (s.get("label") or s["workload"], params_text(s.get("params")), s["n_runs"],
                      with_uncertainty(s.get("energy_j_mean"), s.get("energy_j_ci95")),
                      with_uncertainty(s.get("j_per_gop_mean"), s.get("j_per_gop_ci95")), ratio)
            for c, v in enumerate(values):
                self.summary.setItem(r, c, QTableWidgetItem(str(v)))
        self.summary.resizeColumnsToContents()
        self.chart.clear()
        if summaries:
            xs = list(range(len(summaries)))
            heights = [float(m or 0) for m in means]
            width = 0.6 if len(xs) > 1 else 0.3
            self.chart.addItem(pg.BarGraphItem(x=xs, height=heights, width=width, brush=(70, 130, 180)))
            self.chart.addItem(pg.ErrorBarItem(x=np.array(xs, float), y=np.array(heights), height=2 * np.array(cis),
                                               beam=width / 3, pen=pg.mkPen((20, 20, 20), width=1.5)))
            self.chart.setXRange(-0.8, len(xs) - 0.2, padding=0)
            self.chart.getAxis("bottom").setTicks([[(x, (s.get("label") or s["workload"])
                                                     + (f"\n{params_text(s.get('params'))}" if s.get("params") else ""))
                                                    for x, s in zip(xs, summaries)]])
            self.chart.setLabel("left", "J/GOp (mean, 95 % CI)" if metric == "j_per_gop" else "energy (mean, 95 % CI)",
                                units=None if metric == "j_per_gop" else "J")
        self.note.setText(f"{len(runs)} run(s) in {len(self.sessions)} session(s)")

    def _selection_changed(self) -> None:
        """The review follows the selected run (a click, or the arrow keys)."""
        rows = self.table.selectionModel().selectedRows()
        if len(rows) == 1:
            self.activate_row(rows[0].row())

    def activate_row(self, row: int) -> None:
        if 0 <= row < len(self.run_rows):
            r = self.run_rows[row]
            self.run_activated.emit(str(r["session_file"]), int(r["run"]))

    def selected_run(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        idx = rows[0].row() if rows else (len(self.run_rows) - 1 if self.run_rows else None)
        return None if idx is None else self.run_rows[idx]

    def budget_text(self, row: dict) -> str:
        with SessionReader(row["session_file"]) as s:
            details = s.run(int(row["run"])).details
        lines = [f"{row['workload']} run {row['run']}: E = {_f(row.get('energy_j'))} J, "
                 f"U (k=2) = {_f(row.get('uncertainty_j'), '.3g')} J", ""]
        lines.append(f"  {'term':<44} {'u (relative)':>13} {'u (J)':>11} {'dof':>6}")
        for b in details.get("budget", []):
            dof = "∞" if b.get("dof") is None else f"{b['dof']:.3g}"
            lines.append(f"  {b['name']:<44} {b['relative_u'] * 100:11.4f} % {b['u_j']:11.4g} {dof:>6}")
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
