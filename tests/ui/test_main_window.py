"""The real main window, offscreen: click, wait for signals, read what is shown."""

import dataclasses

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from app.bench.config import DEMO_BENCH, load_bench, loads_bench
from app.measure.energy import interval_stats
from app.session.reader import SessionReader
from app.ui.main_window import DEMO_TEXT
from tests.session_factory import write_session


def choose(window, workload, params):
    panel = window.capture_panel
    panel.workload_box.setCurrentText(workload)
    panel.params.setText(params)


def test_demo_capture_clicked_through_to_a_results_row(qtbot, make_window):
    w = make_window()
    assert DEMO_TEXT in w.status.text()
    choose(w, "cpu-burn", "seconds=1")
    with qtbot.waitSignal(w.capture_done, timeout=90_000) as blocker:
        qtbot.mouseClick(w.capture_panel.capture_button, Qt.LeftButton)
    outcome = blocker.args[0]
    assert w.results.table.rowCount() == 1
    energy_cell = w.results.table.item(0, 3).text()
    r = outcome.runs[0]
    value, u = (float(x) for x in energy_cell.split(" ± "))
    # rounded where the uncertainty's second significant digit falls
    assert value == pytest.approx(r["energy_j"], abs=u / 10) and u == pytest.approx(r["uncertainty_j"], rel=0.05)
    # the run's trace and its measured region are on screen beside the result, without switching tabs
    plot = w.sessions.plot
    qtbot.waitUntil(lambda: plot.trace is not None and w.sessions.current == outcome.session_path, timeout=5000)
    assert plot.context.get("region_s") is not None and w.sessions.review.isVisible()
    assert w.sessions.table.selectionModel().selectedRows()
    assert w.results.table.item(0, 0).text() == "cpu-burn"
    assert w.tabs.currentWidget() is w.results
    assert "captured 1 run(s)" in w.message.text
    assert "shunt tolerance" in w.results.budget_text(w.results.run_rows[0])


def test_cancel_mid_capture(qtbot, make_window):
    w = make_window()
    choose(w, "idle", "seconds=30")              # idle never reaches the trigger: the capture waits
    seen = []
    with qtbot.waitSignal(w.capture_failed, timeout=60_000) as blocker:
        w.capture_panel.capture_button.click()
        qtbot.waitUntil(lambda: "waiting for the trigger" in w.capture_panel.stage.text(), timeout=30_000)
        seen.append(w.capture_panel.cancel_button.isEnabled())
        qtbot.mouseClick(w.capture_panel.cancel_button, Qt.LeftButton)
    assert seen == [True]
    assert "cancelled" in blocker.args[0] and "marked incomplete" in w.message.text
    sessions = list(w.sessions_dir.glob("*.h5"))
    with SessionReader(sessions[0]) as s:
        assert s.status == "incomplete"
    assert w.capture_panel.capture_button.isEnabled()


def test_live_frames_arrive_and_readouts_update(qtbot, make_window):
    w = make_window()
    w.tabs.setCurrentWidget(w.live)
    w.live.run_button.click()
    qtbot.waitUntil(lambda: w.live.frames >= 5, timeout=30_000)
    volts = w.live.readouts["v"].text()
    assert volts.endswith("V") and volts.startswith("18.9") or volts.startswith("19")
    assert w.live.readouts["p"].text().endswith("W") and w.live.readouts["e"].text().endswith("J")
    w.live.run_button.click()
    assert w.live_worker is None


def test_review_markers_match_the_core_and_exports(qtbot, make_window, tmp_path):
    w = make_window()
    path = tmp_path / "sessions" / "2026-01-01T00-00-00_known.h5"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_session(path, [(4.0, 10.0, 0.5)], workload="known")     # 4 W idle, 10 W after the trigger
    w.sessions.refresh()
    assert w.sessions.table.rowCount() == 1 and w.sessions.table.item(0, 2).text() == "known"
    w.sessions.table.selectRow(0)
    w.tabs.setCurrentWidget(w.sessions)
    w.sessions.open_selected()
    plot = w.sessions.plot
    with qtbot.waitSignal(plot.markers_moved, timeout=5000):
        plot.set_markers(0.05, 0.35)
    # 10 W for 0.3 s = 3 J, by hand; and the same as app/measure/energy.py for that interval
    assert plot.last_stats.energy_j == pytest.approx(3.0, rel=1e-9)
    with SessionReader(path) as s:
        win = s.run(1).window(1)
        core = interval_stats(win.trace(), win.summary(), 0.05, 0.35)
    assert plot.last_stats == core
    assert "energy 3 J" in w.sessions.readout.text() and "Δt 300 ms" in w.sessions.readout.text()
    out = tmp_path / "exports"
    out.mkdir()
    assert w.sessions.export("report", str(out / "r.csv"))
    assert w.sessions.export("trace", str(out / "t.csv"))
    assert w.sessions.export("png", str(out / "p.png"))
    rows = (out / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "time_s,voltage_v,current_a,power_w" and len(rows) == 1 + 301
    assert (out / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "known" in (out / "r.csv").read_text(encoding="utf-8-sig")


def test_zoomed_view_draws_raw_samples_and_wide_view_the_overview(qtbot, make_window, tmp_path):
    w = make_window()
    path = tmp_path / "sessions" / "x.h5"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_session(path, [(4.0, 10.0, 0.5)])
    w.sessions.open_path(path)
    plot = w.sessions.plot
    x, y = plot.plots[2][1].getData()
    assert len(x) == 1000 and max(y) == pytest.approx(10.0)       # 1 000 samples: drawn raw
    plot.plots[0][0].setXRange(0.0, 0.01, padding=0)
    x, y = plot.plots[2][1].getData()
    assert len(x) <= 20


def test_refused_setting_shows_the_scopes_message(qtbot, make_window):
    bench = load_bench(DEMO_BENCH)
    bad = dataclasses.replace(bench, voltage=dataclasses.replace(bench.voltage, volts_per_div=500.0))
    w = make_window(bad)
    choose(w, "idle", "seconds=0.1")
    with qtbot.waitSignal(w.capture_failed, timeout=60_000):
        w.capture_panel.capture_button.click()
    assert "refused ':CHANnel1:SCALe 500'" in w.message.text and "Data out of range" in w.message.text


def test_invalid_bench_field_shows_its_error_beside_it(qtbot, make_window):
    w = make_window()
    w.bench_panel.fields["current.shunt_ohm"].setText("-1")
    w.capture_panel.capture_button.click()
    err = w.bench_panel.errors["current.shunt_ohm"]
    assert not err.isHidden() and "above 0" in err.text()
    assert w.tabs.currentWidget() is w.bench_panel and w.capture_worker is None


def test_unknown_host_key_dialog_trusts_on_request(qtbot, make_window, sshd, tmp_path):
    known = tmp_path / "known_hosts"
    text = DEMO_BENCH.read_text().replace('[target]\nkind = "local"', f'''[target]
kind = "ssh"
host = "{sshd.host}"
port = {sshd.port}
user = "{sshd.user}"
identity_file = "{sshd.user_key}"
known_hosts = "{known}"''')
    bench = loads_bench(text, "ssh-bench.toml")
    w = make_window(bench, demo=False)
    from tests.workloads.test_ssh_target import fingerprint_of_public_key_line
    expected = fingerprint_of_public_key_line(sshd.host_key_pub.read_text())
    import workloads.ssh_target as st
    original = st.SshTarget.__init__

    def no_user_config(self, *a, **kw):
        kw["ssh_config"] = []
        original(self, *a, **kw)
    st.SshTarget.__init__ = no_user_config
    shown = []

    def click_trust():
        box = getattr(w, "host_key_box", None)
        if box is None or not box.isVisible():
            QTimer.singleShot(50, click_trust)
            return
        shown.append(box.text())
        box.typed.setText("SHA256:not-what-the-board-said")
        shown.append(box.trust_button.isEnabled())          # a wrong fingerprint: no trust offered
        box.typed.setText(expected)                          # as read on the board's console
        box.trust_button.click()
    try:
        QTimer.singleShot(50, click_trust)
        w.bench_panel.test_button.click()
        qtbot.waitUntil(lambda: "trusted" in w.message.text, timeout=30_000)
    finally:
        st.SshTarget.__init__ = original
    assert expected in shown[0] and str(sshd.port) in shown[0] and shown[1] is False
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519" in known.read_text()


def test_closing_during_a_capture_asks_then_cancels_cleanly(qtbot, make_window, monkeypatch):
    w = make_window()
    asked = []

    def answer(*args, **kwargs):
        asked.append(args[2] if len(args) > 2 else "")
        return QMessageBox.Yes
    monkeypatch.setattr(QMessageBox, "question", answer)
    choose(w, "idle", "seconds=30")
    w.capture_panel.capture_button.click()
    qtbot.waitUntil(lambda: "waiting for the trigger" in w.capture_panel.stage.text(), timeout=30_000)
    w.close()
    assert asked and "A capture is running" in asked[0]
    qtbot.waitUntil(lambda: w.capture_worker is None or not w.capture_worker.thread.isRunning(), timeout=30_000)
    sessions = list(w.sessions_dir.glob("*.h5"))
    with SessionReader(sessions[0]) as s:
        assert s.status == "incomplete" and "cancelled" in s.attrs["reason"]


def test_zero_button_fills_in_the_measured_offset(qtbot, make_window, monkeypatch):
    # the demo board draws 0.25 A at rest through 0.01 ohm: with current flowing, "zero" reads 2.5 mV (a bench
    # operator would have powered the board off; here the reading only has to reach the field)
    w = make_window()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    qtbot.mouseClick(w.bench_panel.zero_button, Qt.LeftButton)
    field = w.bench_panel.fields["current.zero_offset_v"]
    qtbot.waitUntil(lambda: field.text() != "", timeout=30_000)
    assert field.text().endswith(" mV")                               # shown with its SI prefix
    assert float(field.text().split()[0]) * 1e-3 == pytest.approx(0.0025, abs=0.0002)
    assert "stored as zero_offset_v" in w.message.text


def test_a_campaign_built_from_the_workload_list_fills_its_table(qtbot, make_window):
    from PySide6.QtCore import Qt as _Qt
    w = make_window()
    panel = w.campaign_panel
    rows = {panel.matrix.item(r, 1).text(): r for r in range(panel.matrix.rowCount())}
    for name, params in (("cpu-burn", "seconds=0.4"), ("idle", "seconds=0.3")):
        panel.matrix.item(rows[name], 0).setCheckState(_Qt.Checked)
        panel.matrix.item(rows[name], 2).setText(params)
    panel.repeats.setValue(1)
    panel.settle.setCurrentText("none")
    panel.ranging.setChecked(False)
    with qtbot.waitSignal(w.campaign_done, timeout=120_000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    doc = blocker.args[0]
    assert doc is not None and {r["label"] for r in doc["entries"]} == {"cpu-burn", "idle"}
    assert panel.table.rowCount() == 2 and panel.table.item(0, 1).text() == "1"
    assert doc["metric"] == "energy_j" and doc["best"] in ("cpu-burn", "idle")
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
