"""A campaign's runs can be told apart (issue 25): the suite's own settings shown and used, Unload, the entry
names in the run list, Results, Sessions and the compare legend; the done banner says the metric in words."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

SUITE = """name = "two entries"
repeats = 1
order = "blocked"
settle = "none"
ranging = "none"
windows = 1

[[entry]]
label = "busy"
workload = "cpu-burn"
params = { seconds = 0.3 }

[[entry]]
label = "rest"
workload = "idle"
params = { seconds = 0.3 }
"""


def test_a_suites_entries_are_named_everywhere(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window()
    panel = w.campaign_panel
    suite = tmp_path / "two.toml"
    suite.write_text(SUITE)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(suite), "")))
    panel.open_button.click()
    # the suite's own settings are on show (not the panel's defaults of 3 repeats, idle settling, ranging on)
    assert panel.repeats.value() == 1 and panel.order.currentText() == "blocked"
    assert panel.settle.currentText() == "none" and not panel.ranging.isChecked()
    assert "busy · cpu-burn" in panel.suite_label.text() and not panel.matrix.isEnabled()
    assert not panel.unload_button.isHidden()
    with qtbot.waitSignal(w.campaign_done, timeout=120_000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    doc = blocker.args[0]
    assert doc is not None and [e["label"] for e in doc["entries"]] == ["busy", "rest"]
    # the banner says the metric in words; the stage is not left on "saving…"
    assert "by energy per run (J)" in w.message.text and not w.message.is_error
    assert panel.stage.text().startswith("done: 2 scored run(s)")
    # Results: the campaign's runs, each by its entry
    names = [w.results.table.item(r, 0).text() for r in range(w.results.table.rowCount())]
    assert names == ["busy · cpu-burn", "rest · idle"]
    summary = [w.results.summary.item(r, 0).text() for r in range(w.results.summary.rowCount())]
    assert sorted(summary) == ["busy · cpu-burn", "rest · idle"]
    # Sessions: one row per entry, each with its own runs
    w.sessions.refresh()
    rows = [(w.sessions.table.item(r, 2).text(), w.sessions.table.item(r, 3).text())
            for r in range(w.sessions.table.rowCount())]
    assert rows == [("busy · cpu-burn", "1"), ("rest · idle", "1")]
    # the review's run list and the compare legend name the entry
    w.sessions.open_path(w.sessions.paths[0])
    items = [w.sessions.run_box.itemText(k) for k in range(w.sessions.run_box.count())]
    assert items == ["1 · busy · cpu-burn (seconds=0.3)", "2 · rest · idle (seconds=0.3)"]
    w.sessions.compare_button.click()
    runs = w.sessions.compare_dialog.runs
    assert [runs.item(k).text().split(" · run ")[0] for k in range(runs.count())] == ["busy · cpu-burn",
                                                                                      "rest · idle"]
    # Unload: back to the matrix and its settings
    panel.unload_button.click()
    assert panel.loaded is None and panel.matrix.isEnabled() and panel.unload_button.isHidden()


def test_a_changed_setting_of_a_loaded_suite_is_the_one_used(qtbot, make_window, tmp_path):
    w = make_window()
    panel = w.campaign_panel
    suite = tmp_path / "two.toml"
    suite.write_text(SUITE)
    panel.load(str(suite))
    assert panel.suite().repeats == 1 and panel.suite().settle == "none"
    panel.repeats.setValue(4)
    panel.settle.setCurrentText("seconds")
    panel.settle_s.setValue(2.0)
    s = panel.suite()
    assert (s.repeats, s.settle, s.windows, [e.label for e in s.entries]) == (4, 2.0, 1, ["busy", "rest"])
