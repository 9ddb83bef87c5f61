"""A simulated bench says so (issue 25: window title, status bar), and a deliberate Cancel is news in neutral
words, not a red error."""

from PySide6.QtCore import Qt

from app.session.reader import SessionReader


def test_the_demo_bench_says_simulated_in_title_and_status(qtbot, make_window):
    w = make_window()
    assert "SIMULATED" in w.windowTitle()
    assert "SIMULATED" in w.status.text() and "not measurements" in w.status.text()


def test_cancel_is_a_neutral_message(qtbot, make_window):
    w = make_window()
    w.capture_panel.workload_box.setCurrentText("idle")
    w.capture_panel.params.setText("seconds=30")               # idle never trips the trigger: the capture waits
    with qtbot.waitSignal(w.capture_failed, timeout=60_000):
        w.capture_panel.capture_button.click()
        qtbot.waitUntil(lambda: "waiting for the trigger" in w.capture_panel.stage.text(), timeout=30_000)
        qtbot.mouseClick(w.capture_panel.cancel_button, Qt.LeftButton)
    assert not w.message.is_error and w.message.text.startswith("Capture cancelled as asked")
    assert w.message.text.count("cancelled") == 1                 # said once
    assert w.capture_panel.stage.text() == "cancelled"
    with SessionReader(next(w.sessions_dir.glob("*.h5"))) as s:
        assert s.status == "incomplete"
