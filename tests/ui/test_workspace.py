"""The review and bench panel as a bench operator meets them (issue: the operator's instrument).

Expected values come from the test signals themselves (a known spike, known idle and busy powers) and from
app/measure/energy.py on the same interval, never from the drawing code.
"""

import dataclasses
import hashlib
import tomllib

import h5py
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QWheelEvent

from app.bench.config import DEMO_BENCH, UncertaintyConfig
from app.measure.analysis import WindowData, analyse_run
from app.measure.energy import PowerTrace, channel_stats, interval_stats, summarise
from app.session.integrity import seal_run
from app.session.reader import SessionReader
from app.session.writer import SessionWriter
from instruments.waveform import Waveform
from tests.session_factory import write_session

N = 400_000                 # 2 000 ms at 5 µs: long enough that the wide view draws the overview bands
SPIKE_AT = 123_457          # one sample, not on a row boundary
DX = 5e-6
PRE = 40_000                # 0.2 s of pre-trigger (idle)


def spike_session(path):
    """20 V (100 codes of 0.2 V); the current (codes of 1 mV across 0.01 Ω: 0.1 A each) idles at 3 A (60 W)
    before the trigger, is busy at 6 A (120 W) after, with one sample at 12 A (240 W) at SPIKE_AT; region [0.05, 1.55] s and idle span [-0.2, -0.01] s recorded in the details."""
    v = np.full(N, 100, np.int8)                                 # 100 × 0.2 V = 20 V
    i = np.full(N, 30, np.int8)                                  # 30 × 1 mV / 0.01 Ω = 3 A
    i[PRE:] = 60
    i[SPIKE_AT] = 120
    vw = Waveform(codes=v, y_increment=0.2, y_origin=0.0, y_reference=0.0, x_increment=DX, x_origin=-PRE * DX,
                  code_min=-128, code_max=127, channel=1)
    iw = Waveform(codes=i, y_increment=1e-3, y_origin=0.0, y_reference=0.0, x_increment=DX, x_origin=-PRE * DX,
                  code_min=-128, code_max=127, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=0.01)
    summary = summarise(trace)
    with SessionWriter(path, bench_toml='[scope]\nresource = "sim"\n', resource="sim", scope_idn="SIM") as w:
        run = w.begin_run()
        run.add_window(vw, iw, summary, current_scaling={"shunt_ohm": 0.01}, attrs={"role": "run"})
        res = analyse_run(WindowData(trace, summary), 1.5, ops=1e9, unc=UncertaintyConfig())
        details = res.details()
        details.update({"region_s": [0.05, 1.55], "idle_span_s": [-0.2, -0.01],
                        "timing": {"begin_s": 100.05, "end_s": 101.55, "launch_s": 99.9}})
        record = {"run": 1, **res.record(), "idle_source": "pretrigger"}
        logs = [[100.2, "stdout", "trial 1 of 3"], [100.3, "stdout", "trial 2 of 3"], [100.9, "stderr", "slow"]]
        run.finish({"events": [{"event": "phase", "t": 100.8, "name": "reverse pass"}], "log_lines": logs},
                   record=record, details=details)
    return path


def test_the_marker_gpio_is_drawn_under_the_trace(make_window, tmp_path):
    # a 3.3 V GPIO high from 0.05 s to 1.55 s (the recorded region): the strip shows it, its edges where they are
    path = spike_session(tmp_path / "m.h5")
    t = -PRE * DX + np.arange(N) * DX
    codes = np.where((t >= 0.05) & (t < 1.55), 33, 0).astype(np.int8)        # 0.1 V a code
    marker = Waveform(codes=codes, y_increment=0.1, y_origin=0.0, y_reference=0.0, x_increment=DX,
                      x_origin=-PRE * DX, code_min=-128, code_max=127, channel=3)
    with h5py.File(path, "r+") as f:
        ds = f.create_dataset("runs/001/windows/01/marker", data=codes)
        for k, v in {"y_increment": 0.1, "y_origin": 0.0, "y_reference": 0.0, "x_increment": DX,
                     "x_origin": -PRE * DX, "code_min": -128, "code_max": 127, "channel": 3, "units": "V"}.items():
            ds.attrs[k] = v
        seal_run(f["runs/001"])          # sealed as the writer seals what it writes (docs/sessions.md)
    w = make_window()
    w.sessions.open_path(path)
    plot = w.sessions.plot
    assert plot.marker_plot.isVisible()
    x, y = plot.marker_curve.getData()
    high = x[y > 1.65]
    step = N // 4000 * DX
    assert high.min() == pytest.approx(0.05, abs=step) and high.max() == pytest.approx(1.55, abs=step)
    assert y.max() == pytest.approx(3.3) and len(marker.codes) == N


def raw_digest(path):
    """The stored bytes of every raw chunk of every window (read with HDF5's direct chunk read)."""
    h = hashlib.sha256()
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.chunks and name.split("/")[-1] in ("voltage", "current"):
                for k in range(obj.id.get_num_chunks()):
                    info = obj.id.get_chunk_info(k)
                    h.update(name.encode() + obj.id.read_direct_chunk(info.chunk_offset)[1])
        f.visititems(visit)
    return h.hexdigest()


def test_band_holds_every_sample_and_the_spike_at_every_zoom(make_window, tmp_path):
    w = make_window()
    w.sessions.open_path(spike_session(tmp_path / "spike.h5"))
    plot = w.sessions.plot
    t_spike = -PRE * DX + SPIKE_AT * DX
    for span in (2.0, 0.5, 0.08, 0.01, 0.002):        # wide (coarse levels) down to raw samples
        plot.plots[0][0].setXRange(t_spike - span / 3, t_spike + 2 * span / 3, padding=0)
        x, lo, hi = plot.visible_band(2)
        assert len(x) and np.nanmax(hi) == pytest.approx(240.0, rel=1e-6), (span, plot.mode)
        assert np.nanmin(lo) >= 60.0 * (1 - 1e-6)        # never below the idle 60 W, nor a stray zero
        assert np.nanmax(plot.visible_band(1)[2]) == pytest.approx(12.0, rel=1e-6)    # I's band: the 12 A spike
    assert plot.mode == "raw"


def test_wheel_over_the_plot_zooms_time_only(make_window, tmp_path, qtbot):
    w = make_window()
    w.sessions.open_path(spike_session(tmp_path / "spike.h5"))
    p = w.sessions.plot.plots[1][0]
    (x0, x1), (y0, y1) = p.viewRange()
    vb = p.vb
    centre = vb.mapViewToScene(QPointF((x0 + x1) / 2, (y0 + y1) / 2))
    view = w.sessions.plot
    pos = view.mapFromScene(centre)
    ev = QWheelEvent(QPointF(pos), QPointF(view.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 240), Qt.NoButton,
                     Qt.NoModifier, Qt.NoScrollPhase, False)
    from PySide6.QtWidgets import QApplication
    QApplication.sendEvent(view.viewport(), ev)
    qtbot.wait(50)
    (nx0, nx1), (ny0, ny1) = p.viewRange()
    assert (nx1 - nx0) < 0.9 * (x1 - x0)                          # time zoomed in
    # the vertical range is set by the data in view, not by the wheel: it spans what is in view
    x, lo, hi = w.sessions.plot.visible_band(1)
    assert ny0 <= np.nanmin(lo) and ny1 >= np.nanmax(hi)


def test_region_idle_and_phase_drawn_at_the_session_times(make_window, tmp_path):
    w = make_window()
    w.sessions.open_path(spike_session(tmp_path / "spike.h5"))
    plot = w.sessions.plot
    spans, lines = plot.shown_context()
    regions = [tuple(round(v, 9) for v in span) for span in spans]
    # idle span; the start-up tax from the launch (board 99.9 s, so −0.1 s) to begin; the measured region
    assert regions == [(-0.2, -0.01), (-0.1, 0.05), (0.05, 1.55)]
    lines = [round(v, 9) for v in lines]
    # the trigger at 0; begin (board 100.05 s) sits at 0.05 s, so board 100 s is the trigger: the phase at
    # board 100.8 s is at 0.8 s, the first "trial" line (board 100.2 s) at 0.2 s (the second has the same
    # shape: marked once), the stderr line (board 100.9 s) at 0.9 s
    assert lines == [0.0, pytest.approx(0.2), pytest.approx(0.8), pytest.approx(0.9)]


def test_marker_statistics_equal_the_core(make_window, tmp_path):
    w = make_window()
    path = spike_session(tmp_path / "spike.h5")
    w.sessions.open_path(path)
    plot = w.sessions.plot
    plot.set_markers(0.1, 0.9)
    with SessionReader(path) as s:
        win = s.run(1).window(1)
        core = interval_stats(win.trace(), win.summary(), 0.1, 0.9)
        v, i = channel_stats(win.trace(), win.summary(), 0.1, 0.9)
    assert plot.last_stats == core and plot.last_channels == (v, i)
    # by hand: 20 V × 6 A = 120 W for 0.8 s, and the one spike sample (240 W) adds 120 W × 5 µs (the
    # trapezoid gives a lone sample its own width)
    assert core.energy_j == pytest.approx(120 * 0.8 + 120 * DX, rel=1e-9)
    assert i.max == pytest.approx(12.0) and i.min == pytest.approx(6.0) and v.mean == pytest.approx(20.0)
    text = plot.stats_box.textItem.toPlainText()
    assert "Δt 800 ms" in text and "E  96 J" in text and "max 12 A" in text


def test_annotation_survives_reopen_and_leaves_raw_data_identical(make_window, tmp_path):
    w = make_window()
    path = spike_session(tmp_path / "spike.h5")
    before = raw_digest(path)
    w.sessions.open_path(path)
    w.sessions.plot.set_markers(0.2, 0.4)
    assert w.sessions.add_note("warm cache")
    assert raw_digest(path) == before
    w.sessions.close_reader()
    w2 = make_window()
    w2.sessions.open_path(path)
    labels = [getattr(item, "_label", None) or getattr(item, "label", None) for item in w2.sessions.annotation_items]
    assert [lab.format for lab in labels] == ["warm cache"]
    region = w2.sessions.annotation_items[0].getRegion()
    assert region == pytest.approx((0.2, 0.4))
    with SessionReader(path) as s:
        assert s.verify() == []                                        # checksums still good


def test_double_clicking_a_result_row_opens_that_run(make_window, tmp_path, qtbot):
    w = make_window()
    path = tmp_path / "sessions" / "two.h5"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_session(path, [(4.0, 10.0, 0.5), (5.0, 16.0, 0.5)], workload="two")
    w.results.add_session(str(path))
    assert w.results.table.rowCount() == 2
    with qtbot.waitSignal(w.results.run_activated):
        w.results.activate_row(1)
    assert w.sessions.current == path and w.sessions.run_box.currentData() == 2
    qtbot.waitUntil(lambda: w.sessions.plot.trace is not None and w.sessions.plot.window.run == 2, timeout=5000)
    x, y = w.sessions.plot.plots[2][1].getData()
    assert max(y) == pytest.approx(16.0)                              # run 2's busy power, not run 1's 10 W
    w.results.table.selectRow(0)                                      # a plain click: the review follows too
    qtbot.waitUntil(lambda: w.sessions.plot.window is not None and w.sessions.plot.window.run == 1, timeout=5000)
    assert max(w.sessions.plot.plots[2][1].getData()[1]) == pytest.approx(10.0)


def test_wheel_over_an_unfocused_bench_field_changes_nothing(make_window, qtbot):
    w = make_window()
    w.tabs.setCurrentWidget(w.bench_panel)
    box = w.bench_panel.fields["target.telemetry"]
    before = box.currentText()
    w.bench_panel.load_button.setFocus()
    pos = QPointF(box.width() / 2, box.height() / 2)
    for delta in (-120, 120, -120):
        ev = QWheelEvent(pos, QPointF(box.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, delta),
                         Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
        from PySide6.QtWidgets import QApplication
        QApplication.sendEvent(box, ev)
    assert box.currentText() == before


def test_a_bench_with_three_errors_flags_three_fields(make_window, tmp_path):
    w = make_window()
    data = tomllib.loads(open(DEMO_BENCH, encoding="utf-8").read())
    data["voltage"]["probe_ratio"] = -10.0
    data["current"]["shunt_ohm"] = "ten milliohm"
    data["acquisition"]["pretrigger"] = 1.5
    w.bench_panel.set_raw(data, "three.toml")
    assert w.bench_panel.apply() is None
    flagged = sorted(k for k, e in w.bench_panel.errors.items() if not e.isHidden())
    assert flagged == ["acquisition.pretrigger", "current.shunt_ohm", "voltage.probe_ratio"]
    assert "3 problems" in w.bench_panel.info.text()


def test_bench_fields_show_units_without_float_noise(make_window):
    w = make_window()
    bench = dataclasses.replace(w.bench, acquisition=dataclasses.replace(w.bench.acquisition,
                                                                         trigger_level_a=0.36089583333334385))
    w.bench_panel.set_bench(bench)
    assert w.bench_panel.fields["acquisition.trigger_level_a"].text() == "360.896 mA"
    assert w.bench_panel.fields["current.shunt_ohm"].text() == "10 mΩ"
    again = w.bench_panel.bench()
    assert again.current.shunt_ohm == 0.01 and again.acquisition.trigger_level_a == 0.360896


def test_a_bad_bench_file_at_start_up_opens_the_app_with_its_problems_shown(qtbot, tmp_path):
    from app.ui.startup import make_main_window
    text = open(DEMO_BENCH, encoding="utf-8").read()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("probe_ratio = 10.0", "probe_ratio = -10.0").replace('kind = "local"',
                                                                                    'kind = "telnet"'),
                   encoding="utf-8")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    w = make_main_window(str(bad), sessions_dir=tmp_path / "sessions", settings=settings)
    qtbot.addWidget(w)
    flagged = sorted(k for k, e in w.bench_panel.errors.items() if not e.isHidden())
    assert flagged == ["target.kind", "voltage.probe_ratio"]
    assert w.tabs.currentWidget() is w.bench_panel and "2 problems" in w.message.text
    assert w.bench_panel.fields["voltage.probe_ratio"].text() == "-10"


def test_repeated_workload_lines_collapse_with_a_count(make_window):
    w = make_window()
    panel = w.capture_panel
    panel.add_line("stdout", "warm-up")
    for k in range(200):
        panel.add_line("stdout", f"trial {k}: slab 70.5418 in {0.1 + k / 1000:.3f} s")
    panel.add_line("stderr", "done")
    lines = panel.log.toPlainText().splitlines()
    assert lines == ["warm-up", "trial 199: slab 70.5418 in 0.299 s   (×200)", "! done"]


def test_power_histogram_of_the_selection(make_window, tmp_path):
    from app.ui.analysis_dialogs import HistogramDialog
    w = make_window()
    w.sessions.open_path(spike_session(tmp_path / "spike.h5"))
    plot = w.sessions.plot
    plot.set_markers(0.1, 0.9)
    d = HistogramDialog(plot.trace, plot.summary, 0.1, 0.9)
    h = d.hist
    # 0.8 s at 5 µs: 160 001 samples, all at 120 W but the one spike at 240 W (the bins span 120 – 240 W)
    assert h.samples == h.of_samples == 160_001
    assert h.counts[0] == 160_000 and h.counts[-1] == 1 and h.counts[1:-1].sum() == 0
    assert h.edges_w[0] == pytest.approx(120.0) and h.edges_w[-1] == pytest.approx(240.0)
    assert h.cdf()[-1] == 1.0
    d.close()


def test_compare_overlays_runs_aligned_at_begin(make_window, tmp_path):
    from app.ui.analysis_dialogs import CompareDialog
    w = make_window()
    first = spike_session(tmp_path / "a.h5")
    second = spike_session(tmp_path / "b.h5")
    w.sessions.open_path(first)
    d = CompareDialog(w.sessions.reader)
    assert d.add_session(second)
    assert len(d.curves) == 2
    for x, y in d.curves.values():
        # the current steps from idle to busy at the trigger, 0.05 s before begin (region [0.05, 1.55] s):
        # on the begin-aligned axis the step sits at −0.05 s, within one bin (512 samples × 5 µs)
        step = x[np.argmax(y > 90.0)]
        assert step == pytest.approx(-0.05, abs=512 * DX)
        assert np.nanmax(y) < 240.0                  # means per bin, not the extremes
    d.done(0)


def test_panels_are_docks_with_a_remembered_layout_and_a_reset(make_window, qtbot, tmp_path):
    w = make_window()
    names = [d.windowTitle() for d in w.docks]
    assert names == ["Bench", "Live", "Capture", "Campaign", "Results", "Sessions"]
    results = w.docks[4]
    results.setFloating(True)                             # the operator pulls Results out
    w.close()                                             # the layout is saved with the window
    w2 = make_window()                                    # same settings file
    assert w2.docks[4].isFloating()
    w2.reset_layout()
    assert not any(d.isFloating() for d in w2.docks) and w2.tabs.currentWidget() is w2.bench_panel
    assert "Joulebench" in w2.about_text() and "PySide6" in w2.about_text()
    quit_actions = [a for m in w2.menuBar().actions() for a in m.menu().actions() if a.shortcut().toString() == "Ctrl+Q"]
    assert len(quit_actions) == 1


def test_a_long_runs_windows_on_the_run_strip(make_window, tmp_path):
    # a session whose run was extrapolated from three windows: the strip shows [0, T] and each window where
    # the analysis placed it (details window_spans_s), the one in view highlighted
    path = spike_session(tmp_path / "long.h5")
    with h5py.File(path, "r+") as f:
        res = f["runs/001/results"]
        import json
        details = json.loads(res.attrs["details_json"])
        details["window_spans_s"] = [[-0.25, 1.75], [40.0, 42.0], [80.0, 82.0]]
        record = json.loads(res.attrs["record_json"])
        record.update({"duration_s": 120.0, "energy_method": "extrapolated"})
        res.attrs["details_json"] = json.dumps(details)
        res.attrs["record_json"] = json.dumps(record)
        seal_run(f["runs/001"])          # sealed as the writer seals what it writes (docs/sessions.md)
    w = make_window()
    w.sessions.open_path(path)
    shown = w.sessions.plot.timeline_shown()
    assert shown is not None
    T, spans = shown
    assert T == 120.0 and spans == [(-0.25, 1.75), (40.0, 42.0), (80.0, 82.0)]


def test_v_and_i_mean_lines_and_old_sessions_without_sums(make_window, tmp_path):
    w = make_window()
    path = spike_session(tmp_path / "spike.h5")
    w.sessions.open_path(path)
    plot = w.sessions.plot
    plot.plots[0][0].setXRange(0.3, 1.3, padding=0)          # busy only: 20 V, 6 A on every sample but one
    x, v = plot.plots[0][1].getData()
    _, i = plot.plots[1][1].getData()
    assert plot.mode == "band" and len(x) > 100
    assert np.allclose(v, 20.0, rtol=1e-9)
    # the 12 A spike raises its one bin's mean by 6 A / 512 samples; every other bin's mean is 6 A
    assert np.allclose(i[i <= 6.0 + 1e-9], 6.0, rtol=1e-9)
    assert set(np.round(i[i > 6.0 + 1e-9], 9)) == {round(6.0 + 6.0 / 512, 9)}
    # a session written before V and I sums were kept: the bands as before, no made-up mean line
    w.sessions.close_reader()
    with h5py.File(path, "r+") as f:
        for k in list(f["runs/001/windows/01/overview"].keys()):
            ds = f[f"runs/001/windows/01/overview/{k}"]
            old = ds[()]
            keep = [n for n in old.dtype.names if n not in ("v_sum", "i_sum")]
            del f[f"runs/001/windows/01/overview/{k}"]
            f.create_dataset(f"runs/001/windows/01/overview/{k}", data=old[keep])
    w.sessions.open_path(path)
    plot.plots[0][0].setXRange(0.3, 1.3, padding=0)
    assert len(plot.plots[0][1].getData()[0] or []) == 0 and np.nanmax(plot.visible_band(2)[2]) > 0


def test_si_quantities_as_the_operator_reads_and_types_them():
    from app.ui.units import format_si, parse_si
    # worked by hand: 0.999 99 s at 4 digits rounds to 1000 ms, which is said as 1 s; 50 000 Sa/s is 50 kSa/s
    assert format_si(0.99999, "s") == "1 s" and format_si(0.3, "s") == "300 ms"
    assert format_si(50000.0, "Sa/s", 6, smallest_exp3=0) == "50 kSa/s" and format_si(0.0, "V") == "0 V"
    assert format_si(-0.002, "A") == "-2 mA" and format_si(1234.5, "J") == "1.234 kJ"
    assert parse_si("2.5 mV/div", "V/div") == 0.0025 and parse_si("10mΩ", "Ω") == 0.01
    assert parse_si("1e-3", "s") == 0.001 and parse_si("ten", "Ω") == "ten"


def test_each_run_is_shown_as_soon_as_it_is_analysed(make_window, qtbot):
    # two runs: the first run's trace and result are on screen while the second is still being captured
    w = make_window()
    w.capture_panel.workload_box.setCurrentText("cpu-burn")
    w.capture_panel.params.setText("seconds=1")
    w.capture_panel.repeats.setValue(2)
    shown = []
    with qtbot.waitSignal(w.capture_done, timeout=120_000) as blocker:
        w.capture_panel.capture_button.click()
        qtbot.waitUntil(lambda: w.sessions.plot.trace is not None and "capturing" in w.sessions.run_box.currentText(),
                        timeout=90_000)
        shown.append((w.sessions.run_box.currentText(), w.capture_worker is not None,
                      w.sessions.result_label.text()))
    outcome = blocker.args[0]
    label, running, result = shown[0]
    assert label == "1 (capturing)" and running
    r = outcome.runs[0]
    value, u = (float(x) for x in result.split("E = ")[1].split(" J")[0].split(" ± "))
    assert result.startswith("run 1: ") and value == pytest.approx(r["energy_j"], abs=u / 10)
    assert w.sessions.plot.context.get("region_s") is not None
