"""The window on a laptop (issue 25): it fits 1 366×768, and no toolbar label is cut short."""

from PySide6.QtWidgets import QToolButton

# a 1 366×768 laptop screen; the bound for the window's minimum width (below a 1 280 px screen)
LAPTOP_W, LAPTOP_H = 1366, 768
MAX_MIN_WIDTH = 1280


def test_the_window_fits_a_laptop_screen(qtbot, make_window):
    w = make_window()
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
