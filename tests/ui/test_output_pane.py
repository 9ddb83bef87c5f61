"""The capture's output pane (issue 25): the workload's own lines; its @joulebench protocol events said as
progress above the pane (a "raw" toggle shows them as printed); one time estimate."""

from app.capture.context import Progress

PROGRESS = '@joulebench {"event": "progress", "t": 10.0, "fraction": 0.5024749587499949}'
PHASE = '@joulebench {"event": "phase", "t": 11.0, "name": "decode"}'


def test_protocol_events_become_progress_and_raw_shows_them(qtbot, make_window):
    w = make_window()
    panel = w.capture_panel
    panel.set_running(True)
    for stream, line in (("stdout", "trial 1 of 3"), ("stdout", PROGRESS), ("stdout", PHASE),
                         ("stderr", "cache cold"), ("stdout", PROGRESS.replace("0.5024749587499949", "0.75"))):
        panel.add_line(stream, line)
    assert panel.log.toPlainText().splitlines() == ["trial 1 of 3", "! cache cold"]
    # 0.75 of the work done, in the phase named last
    assert panel.events.text() == "phase decode · workload 75 % done"
    panel.raw_toggle.setChecked(True)
    raw = panel.log.toPlainText()
    assert PHASE in raw and "0.5024749587499949" in raw and "trial 1 of 3" in raw
    panel.raw_toggle.setChecked(False)
    assert "@joulebench" not in panel.log.toPlainText()
    panel.set_running(False)


def test_one_time_estimate(qtbot, make_window):
    w = make_window()
    panel = w.capture_panel
    panel.set_running(True)
    panel._started -= 10.0          # as if the capture began 10 s ago (the estimate needs 2 s of history)
    panel.show_progress(Progress("capture", 0.5, "run 1 of 2: about 3 s left"))
    assert panel.stage.text() == "run 1 of 2: about 3 s left"         # the core's estimate, alone
    panel.show_progress(Progress("capture", 0.5, "run 1 of 2: downloading"))
    assert panel.stage.text().count("left") == 1 and panel.stage.text().startswith("run 1 of 2: downloading — about")
    panel.set_running(False)


def test_parameters_are_typed_as_the_workload_declares_them(qtbot, make_window):
    import pytest

    from app.errors import JoulebenchError
    w = make_window()
    panel = w.capture_panel
    panel.workload_box.setCurrentText("heat-slab-numpy")     # declares trials = 5000, an integer
    assert isinstance(panel.workload().params["trials"], int)
    panel.params.setText("trials=300")
    assert panel.param_values() == {"trials": 300} and isinstance(panel.param_values()["trials"], int)
    panel.params.setText("trials=3x")
    with pytest.raises(JoulebenchError, match="trials: '3x' is not a number"):
        panel.param_values()
