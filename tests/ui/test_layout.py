"""The window on a laptop (issue 25): it fits 1 366×768, and no toolbar label is cut short."""

from PySide6.QtWidgets import QToolButton

# a 1 366×768 laptop screen; the bound for the window's minimum width (below a 1 280 px screen)
LAPTOP_W, LAPTOP_H = 1366, 768
MAX_MIN_WIDTH = 1280


def test_the_window_fits_a_laptop_screen(qtbot, make_window, tmp_path):
    from tests.session_factory import write_session
    w = make_window()
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])
    w.sessions.open_path(path)                    # a window on show, with the markers' long readout
    with qtbot.waitSignal(w.sessions.plot.markers_moved, timeout=5000):
        w.sessions.plot.set_markers(0.05, 0.35)
    assert "Δt 300 ms" in w.sessions.readout.text()
    hint = w.minimumSizeHint()
    assert hint.width() <= MAX_MIN_WIDTH and hint.height() <= LAPTOP_H
    assert w.minimumSize().width() <= MAX_MIN_WIDTH
    for dock in w.docks:                        # no panel alone wider than half the laptop's screen
        assert dock.minimumSizeHint().width() <= LAPTOP_W // 2, dock.windowTitle()


def test_toolbar_labels_are_whole_or_in_the_overflow_menu(qtbot, make_window):
    w = make_window()
    w.resize(LAPTOP_W, LAPTOP_H)
    qtbot.waitUntil(lambda: w.width() == LAPTOP_W)
    bar = w.sessions.toolbar
    shown = [b for b in bar.findChildren(QToolButton) if b.defaultAction() is not None and b.isVisible()]
    assert shown, "no review action on show at 1 366 px"
    for b in shown:
        # a button narrower than its own size hint would cut its label ("note at marke")
        assert b.width() >= b.sizeHint().width(), b.text()
        assert b.toolTip()
    hidden = [a for a in bar.actions() if not a.isSeparator() and not bar.widgetForAction(a).isVisible()]
    # everything not on show is reachable through the tool bar's overflow button
    if hidden:
        ext = [b for b in bar.findChildren(QToolButton) if b.objectName() == "qt_toolbar_ext_button"]
        assert ext and ext[0].isVisible()
    # the session browser's actions are all there, in words
    texts = [a.iconText() for a in bar.actions() if not a.isSeparator()]
    assert "Add note at markers…" in texts and "Compare runs…" in texts and "Fit all" in texts


def test_fit_all_shows_the_whole_window(qtbot, make_window, tmp_path):
    from tests.session_factory import write_session
    w = make_window()
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])       # 1 000 samples 1 ms apart from -0.1 s: -0.1 s to 0.899 s
    w.sessions.open_path(path)
    plot = w.sessions.plot
    plot.plots[0][0].setXRange(0.2, 0.3, padding=0)
    w.sessions.fit_button.click()
    lo, hi = plot.plots[0][0].viewRange()[0]
    assert abs(lo - -0.1) < 1e-9 and abs(hi - 0.899) < 1e-9


def test_the_reviews_legend_names_every_span_on_show(qtbot, make_window, tmp_path):
    from tests.session_factory import write_session
    w = make_window()
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])       # a run with its measured region and idle before the trigger
    w.sessions.open_path(path)
    plot = w.sessions.plot
    names = [label.text for _, label in plot.legend.items]
    assert names == ["measured [begin, end]", "idle", "trigger (t = 0)", "markers A, B"]
    plot.set_markers(0.05, 0.35)
    assert w.sessions.add_note("warm cache")
    names = [label.text for _, label in w.sessions.plot.legend.items]
    assert "note (saved in the session)" in names
    # the upper plots' time ticks carry no numbers: the one time scale, with its unit, is under the power plot
    assert not plot.plots[0][0].getAxis("bottom").style["showValues"]
    assert plot.plots[2][0].getAxis("bottom").style["showValues"]


def test_keys_pan_and_zoom_and_markers_show_on_every_plot(qtbot, make_window, tmp_path):
    from PySide6.QtCore import Qt

    from tests.session_factory import write_session
    w = make_window()
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])       # the window spans -0.1 s to 0.899 s
    w.sessions.open_path(path)
    plot = w.sessions.plot
    vb = plot.plots[0][0]
    vb.setXRange(0.2, 0.4, padding=0)
    qtbot.keyClick(plot, Qt.Key_Right)            # a tenth of 0.2 s to the right
    lo, hi = vb.viewRange()[0]
    assert abs(lo - 0.22) < 1e-9 and abs(hi - 0.42) < 1e-9
    qtbot.keyClick(plot, Qt.Key_Plus)             # twice as close, around the centre 0.32 s
    lo, hi = vb.viewRange()[0]
    assert abs(lo - 0.27) < 1e-9 and abs(hi - 0.37) < 1e-9
    qtbot.keyClick(plot, Qt.Key_Minus)
    lo, hi = vb.viewRange()[0]
    assert abs(lo - 0.22) < 1e-9 and abs(hi - 0.42) < 1e-9
    qtbot.keyClick(plot, Qt.Key_Home)
    lo, hi = vb.viewRange()[0]
    assert abs(lo - -0.1) < 1e-9 and abs(hi - 0.899) < 1e-9
    # the markers on the voltage and current plots move with those on the power plot, and back
    with qtbot.waitSignal(plot.markers_moved, timeout=5000):
        plot.set_markers(0.05, 0.35)
    for a, b in plot.markers.mirrors:
        assert (a.value(), b.value()) == (0.05, 0.35) and a.isVisible()
    with qtbot.waitSignal(plot.markers_moved, timeout=5000):
        plot.markers.mirrors[0][1].setValue(0.45)   # B dragged on the voltage plot
    assert plot.marker_times() == (0.05, 0.45) and plot.markers.mirrors[1][1].value() == 0.45
    # 10 W from 0.05 s to 0.45 s: 4 J, by hand
    assert abs(plot.last_stats.energy_j - 4.0) < 1e-9


def test_a_bad_bench_file_does_not_keep_the_previous_wiring(qtbot, make_window, tmp_path):
    from app.bench.config import DEMO_BENCH
    from app.ui.bench_panel import WIRING_PENDING
    w = make_window()
    assert "shunt 10 mΩ" in w.bench_panel.wiring.text()          # the demo bench's 0.01 ohm
    bad = tmp_path / "bad.toml"
    bad.write_text(DEMO_BENCH.read_text().replace("shunt_ohm = 0.01", "shunt_ohm = -1"))
    w.show_bench_file_problems(str(bad), ValueError("shunt_ohm must be above 0"))
    assert w.bench_panel.wiring.text() == WIRING_PENDING
