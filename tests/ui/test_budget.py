"""The uncertainty budget as a table (issue 25): one row per term, its share of the combined variance, the
shares adding to 100 %; its CSV keeps full precision."""

import math

import pytest

from app.session.reader import SessionReader
from app.ui.budget_dialog import BUDGET_COLUMNS
from tests.session_factory import write_session


def test_the_budget_table_adds_to_100_percent(qtbot, make_window, tmp_path):
    w = make_window()
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)], workload="known")
    w.results.add_session(str(path))
    w.results.table.selectRow(0)
    w.results.budget_button.click()
    dialog = w.results.budget_dialog
    assert dialog.isVisible()
    with SessionReader(path) as s:
        budget = s.run(1).details["budget"]
    table = dialog.table
    assert table.rowCount() == len(budget) + 1 and table.columnCount() == len(BUDGET_COLUMNS)
    assert [table.item(r, 0).text() for r in range(len(budget))] == [b["name"] for b in budget]
    # the share of each term, by hand from the stored u_j: u_i² / Σ u_j²
    total = sum(b["u_j"] ** 2 for b in budget)
    shares = [float(table.item(r, 5).text().rstrip(" %")) for r in range(len(budget))]
    for b, shown in zip(budget, shares):
        assert shown == pytest.approx(100 * b["u_j"] ** 2 / total, abs=0.06 + 0.01 * shown)
    assert table.item(len(budget), 5).text() == "100 %"
    assert "k = " in dialog.summary.text() and "adds to 100 %" in dialog.summary.text()
    # Copy as CSV: full precision, one line per term
    dialog.copy_button.click()
    from PySide6.QtWidgets import QApplication
    lines = QApplication.clipboard().text().splitlines()
    assert lines[0] == "term,u_j,relative_u,dof,kind,variance_share" and len(lines) == 1 + len(budget)
    assert math.isclose(sum(float(line.split(",")[-1]) for line in lines[1:]), 1.0, rel_tol=1e-12)
    assert float(lines[1].split(",")[1]) == budget[0]["u_j"]
