"""Results: every run captured in this sitting, a per-workload summary, and workloads side by side."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import JoulebenchError
from app.report.figures import comparison_metric
from app.report.numbers import format_percent, format_value
from app.report.numbers import with_uncertainty as number_with_uncertainty
from app.report.tables import build_report
from app.session.reader import SessionReader
from app.ui.budget_dialog import BudgetDialog, budget_rows, budget_summary
from app.ui.run_names import entry_name, params_text

CHART_MAX_PX = 240
CHART_TICKS_PX = 44               # one run's bar should not take half the dock
RUN_COLUMNS = ("Workload", "Run", "Status", "Energy ± U (J)", "Avg P (W)", "Idle P (W)", "Dynamic E (J)", "T (s)",
               "J/GOp", "Method", "Source", "Telemetry Δ (%)", "Warnings", "Parameters")
SUMMARY_COLUMNS = ("Workload", "Parameters", "Runs", "Energy mean ± 95 % CI (J)", "J/GOp mean ± 95 % CI",
                   "Ratio to best (95 % CI)")


def _f(x, digits: int = 4) -> str:
    """A value alone, for a table cell under a header that names its unit (app/report/numbers.py)."""
    return format_value(x, digits=digits)


def with_uncertainty(value, u) -> str:
    """A value and its uncertainty, the value rounded where the uncertainty's second significant digit falls
    (71.1 ± 2.0, never 71.105 ± 2): app/report/numbers.py's rule, for a cell whose header names the unit."""
    return number_with_uncertainty(value, u)


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
        split.setStretchFactor(0, 3)              # the tables first; the chart a strip under them
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 2)
        self.chart.setMaximumHeight(CHART_MAX_PX)
        for side in ("left", "bottom"):
            self.chart.getAxis(side).setTextPen((40, 40, 40))
        self.chart.getAxis("bottom").setHeight(CHART_TICKS_PX)   # two lines: the entry and its parameters
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
            values = (entry_name(row.get("label"), row.get("workload"), with_params=False), row.get("run"), row.get("run_status"),
                      with_uncertainty(row.get("energy_j"), row.get("uncertainty_j")),
                      _f(row.get("avg_power_w")), _f(row.get("idle_power_w")),
                      _f(row.get("dynamic_energy_j")), _f(row.get("duration_s")), _f(row.get("j_per_gop")),
                      row.get("energy_method") or "", source_text(row), _f(tele, 3), "; ".join(warnings),
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
                ratio = f"×{format_value(q, digits=3)}" + (
                    f" ({format_value(q - q_ci, digits=3)} – {format_value(q + q_ci, digits=3)})" if q_ci else "")
            values = (entry_name(s.get("label"), s["workload"], with_params=False), params_text(s.get("params")),
                      s["n_runs"],
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

    def budget_of(self, row: dict) -> tuple[list[dict], list[str]]:
        """The run's budget terms and the notes under them (no scope; the window means)."""
        with SessionReader(row["session_file"]) as s:
            details = s.run(int(row["run"])).details
        notes = []
        if row.get("fidelity"):
            notes.append(f"No scope: {row.get('measurand')}, {row.get('energy_source')}. {row['fidelity']}")
        if details.get("window_means_w"):
            notes.append("Window mean powers: " + ", ".join(format_value(m, "W") for m in details["window_means_w"]))
        return list(details.get("budget", [])), notes

    def budget_text(self, row: dict) -> str:
        """The budget as aligned plain text (what Copy shows; the dialog is a table)."""
        budget, notes = self.budget_of(row)
        rows = budget_rows(budget)
        width = max([len(r[0]) for r in rows] + [4])
        lines = [f"{row['workload']} run {row['run']}: {budget_summary(row, budget)}", "",
                 f"  {'term':<{width}}  {'u':>10}  {'u (rel)':>9}  {'dof':>6}  {'share of u_c²':>13}"]
        for name, u, rel, dof, _, share in rows:
            lines.append(f"  {name:<{width}}  {format_value(u, 'J', 3):>10}  {format_percent(rel):>9}  "
                         f"{'inf' if dof is None else format_value(dof, digits=3):>6}  {format_percent(share):>13}")
        lines.append(f"  {'total':<{width}}  {'':>10}  {'':>9}  {'':>6}  "
                     f"{format_percent(math.fsum(r[-1] for r in rows)):>13}")
        return "\n".join(lines + [""] + notes)

    def show_budget(self) -> None:
        row = self.selected_run()
        if row is None or row.get("energy_j") is None:
            return
        budget, notes = self.budget_of(row)
        self.budget_dialog = BudgetDialog(f"{row['workload']} run {row['run']}", row, budget, notes, self)
        self.budget_dialog.show()
