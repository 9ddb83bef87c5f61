"""The uncertainty budget of one run as a table: each term's standard uncertainty (J and relative), its
degrees of freedom, whether it scales with the energy, and its share of the combined variance (u_i² / Σu², so
the column adds to 100 %), with the combined and expanded uncertainty and k under it. Copy as CSV exports it."""

from __future__ import annotations

import csv
import io
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.report.numbers import format_percent, format_value, with_uncertainty

BUDGET_COLUMNS = ("Term", "u (J)", "u (relative)", "Degrees of freedom", "Kind", "Share of the variance")


def budget_rows(budget: list[dict]) -> list[tuple[str, float, float, float | None, str, float]]:
    """(term, u in J, relative u, dof or None for a bound, kind, share of Σu² as a fraction) per term."""
    total = math.fsum(float(b["u_j"]) ** 2 for b in budget)
    return [(str(b["name"]), float(b["u_j"]), float(b["relative_u"]), b.get("dof"),
             "scale (kept in E dyn)" if b.get("scales", True) else "offset (cancels in E dyn)",
             float(b["u_j"]) ** 2 / total if total > 0 else 0.0) for b in budget]


def budget_summary(record: dict, budget: list[dict]) -> str:
    """E ± U, u_c, k and the effective degrees of freedom, in words."""
    u_c = math.sqrt(math.fsum(float(b["u_j"]) ** 2 for b in budget))
    k = record.get("coverage_k")
    dof = record.get("effective_dof")
    return (f"E = {with_uncertainty(record.get('energy_j'), record.get('uncertainty_j'), 'J')} "
            f"(expanded, k = {format_value(k, digits=3, missing='?')}"
            f"{', ν_eff = ' + format_value(dof, digits=3) if dof else ', every term a bound (ν_eff = ∞)'}); "
            f"combined standard uncertainty u_c = {format_value(u_c, 'J', 3)}, the square root of the sum of "
            "the terms' squares: the last column is each term's share of u_c², so it adds to 100 %.")


def budget_csv(rows) -> str:
    """The table as CSV, full precision (for a notebook or a spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("term", "u_j", "relative_u", "dof", "kind", "variance_share"))
    for name, u, rel, dof, kind, share in rows:
        writer.writerow((name, repr(u), repr(rel), "" if dof is None else repr(float(dof)), kind, repr(share)))
    return out.getvalue()


class BudgetDialog(QDialog):
    def __init__(self, title: str, record: dict, budget: list[dict], notes: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Uncertainty budget: {title}")
        self.rows = budget_rows(budget)
        lay = QVBoxLayout(self)
        self.summary = QLabel(budget_summary(record, budget))
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.summary)
        self.table = QTableWidget(len(self.rows) + 1, len(BUDGET_COLUMNS))
        self.table.setHorizontalHeaderLabels(BUDGET_COLUMNS)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.verticalHeader().hide()
        for r, (name, u, rel, dof, kind, share) in enumerate(self.rows):
            cells = (name, format_value(u, "J", 3), format_percent(rel), "∞ (a bound)" if dof is None
                     else format_value(dof, digits=3), kind, format_percent(share))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c not in (0, 4):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        total = QTableWidgetItem(format_percent(math.fsum(s for *_, s in self.rows)))
        total.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.table.setItem(len(self.rows), 0, QTableWidgetItem("total"))
        self.table.setItem(len(self.rows), len(BUDGET_COLUMNS) - 1, total)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        lay.addWidget(self.table, 1)
        for note in notes:
            label = QLabel(note)
            label.setWordWrap(True)
            lay.addWidget(label)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.copy_button = QPushButton("Copy as CSV")
        buttons.addButton(self.copy_button, QDialogButtonBox.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(lambda: QApplication.clipboard().setText(budget_csv(self.rows)))
        lay.addWidget(buttons)
        self.resize(820, 420)
