"""V, I and P of one saved window: honest bands, the measurement's context, dual markers with statistics.

Drawing. Whatever the record length, a redraw touches at most ~2 bins per pixel: the coarsest overview level
that still gives that many bins in view, drawn as a filled min/max band (every sample lies inside it, a
single-sample spike included, at every zoom) with the mean per bin; once the view holds fewer than
MAX_RAW_POINTS samples the samples themselves are drawn. The wheel zooms time only; each plot's vertical
range follows the data in view. The three plots share a time axis and their left axes have one width, so
their edges line up; units carry SI prefixes. A strip under them shows the whole window and the part in view.

Context. The session's measured region [begin, end], the idle span, the trigger (t = 0) and the workload's
`phase` events are drawn at the times the session records (the region and idle span on the first window's
axis; phases through the run's board ↔ scope placement).

Markers. Two markers; the box beside them gives Δt, mean/min/max/p2p of V and I, mean/min/max/p2p/std of P,
energy and charge: app.measure.energy.interval_stats and channel_stats on the same trace and summary, so the GUI and
the core give the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal

from app.errors import JoulebenchError
from app.measure.energy import (
    ChannelStats,
    IntervalStats,
    PowerTrace,
    TraceSummary,
    channel_stats,
    interval_stats,
)
from app.session.reader import WindowView
from app.ui.units import format_si

MAX_RAW_POINTS = 6000
BINS_PER_PIXEL = 2
AXIS_WIDTH_PX = 76
Y_PAD = 0.06
CHANNELS = (("Voltage", "V", (31, 119, 180), ("v_min", "v_max")), ("Current", "A", (214, 39, 40), ("i_min", "i_max")),
            ("Power", "W", (44, 160, 44), ("p_min", "p_max")))
REGION_BRUSH = (44, 160, 44, 38)
IDLE_BRUSH = (120, 120, 120, 40)
STARTUP_BRUSH = (255, 160, 0, 45)
MARKER_MAX_POINTS = 4000


def band_x(r0: int, r1: int, rows: int, x0: float, dx: float) -> np.ndarray:
    """Each bin drawn across its whole span (its start and its end), so a band covers every sample's time."""
    edges = x0 + np.arange(r0, r1 + 1) * rows * dx
    return np.repeat(edges, 2)[1:-1]


def band_y(values: np.ndarray) -> np.ndarray:
    return np.repeat(values, 2)


class TracePlot(pg.GraphicsLayoutWidget):
    markers_moved = Signal(object)          # IntervalStats or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.plots = []                      # (PlotItem, line): the line is the mean per bin or the samples
        self.bands = []                      # (lo curve, hi curve, fill) per plot: bins wider than a pixel
        self.strokes = []                    # one min–max stroke per bin: bins at a pixel or narrower
        for row, (name, unit, color, _) in enumerate(CHANNELS):
            p = self.addPlot(row=row, col=0)
            p.setLabel("left", name, units=unit)
            p.getAxis("left").setWidth(AXIS_WIDTH_PX)
            p.setDownsampling(auto=False)
            p.setClipToView(True)
            p.setMouseEnabled(x=True, y=False)          # the wheel zooms time; y follows the data in view
            p.enableAutoRange(x=False, y=False)
            if self.plots:
                p.setXLink(self.plots[0][0])
            lo = pg.PlotCurveItem(pen=pg.mkPen(color, width=1))
            hi = pg.PlotCurveItem(pen=pg.mkPen(color, width=1))
            fill = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(*color, 110))
            # at two or more bins a pixel the band is one vertical stroke per bin (min to max), which fills
            # each pixel column exactly and draws fast; wider bins are filled between their min and max lines
            strokes = pg.PlotCurveItem(pen=pg.mkPen(*color, 160, width=1), connect="pairs")
            for item in (fill, lo, hi, strokes):
                p.addItem(item)
            line = p.plot(pen=pg.mkPen(tuple(int(c * 0.55) for c in color), width=1))
            self.plots.append((p, line))
            self.bands.append((lo, hi, fill))
            self.strokes.append(strokes)
        self.plots[-1][0].setLabel("bottom", "Time from trigger", units="s")
        # the whole window, for navigation
        self.strip = self.addPlot(row=len(CHANNELS), col=0)
        self.strip.setMaximumHeight(70)
        self.strip.getAxis("left").setWidth(AXIS_WIDTH_PX)
        self.strip.setMouseEnabled(x=False, y=False)
        self.strip.hideAxis("bottom")
        self.strip.setLabel("left", "whole")
        self.strip_lo = pg.PlotCurveItem(pen=pg.mkPen((90, 90, 90)))
        self.strip_hi = pg.PlotCurveItem(pen=pg.mkPen((90, 90, 90)))
        self.strip.addItem(pg.FillBetweenItem(self.strip_lo, self.strip_hi, brush=pg.mkBrush(150, 150, 150, 120)))
        self.strip.addItem(self.strip_lo)
        self.strip.addItem(self.strip_hi)
        self.strip_view = pg.LinearRegionItem(movable=True, brush=pg.mkBrush(70, 130, 180, 60))
        self.strip.addItem(self.strip_view)
        self.strip_view.sigRegionChanged.connect(self._strip_moved)
        # a long run's timeline: [begin, end] and where each captured window lies in it (shown for such runs)
        self.timeline = self.addPlot(row=len(CHANNELS) + 1, col=0)
        self.timeline.setMaximumHeight(56)
        self.timeline.getAxis("left").setWidth(AXIS_WIDTH_PX)
        self.timeline.setLabel("left", "run")
        self.timeline.setLabel("bottom", "time from begin", units="s")
        self.timeline.setMouseEnabled(x=False, y=False)
        self.timeline.hideAxis("left")
        self.timeline_bars = pg.BarGraphItem(x0=[0.0], x1=[1.0], y0=[0.0], height=[1.0], brush=(44, 160, 44, 60))
        self.timeline_windows = pg.BarGraphItem(x0=[0.0], x1=[0.0], y0=[0.15], height=[0.7], brush=(70, 130, 180))
        self.timeline.addItem(self.timeline_bars)
        self.timeline.addItem(self.timeline_windows)
        self.timeline.hide()
        # the begin/end marker GPIO, when the bench recorded one on a scope channel
        self.marker_plot = self.addPlot(row=len(CHANNELS) + 2, col=0)
        self.marker_plot.setMaximumHeight(60)
        self.marker_plot.getAxis("left").setWidth(AXIS_WIDTH_PX)
        self.marker_plot.setLabel("left", "marker", units="V")
        self.marker_plot.setMouseEnabled(x=False, y=False)
        self.marker_plot.setXLink(self.plots[0][0])
        self.marker_curve = self.marker_plot.plot(pen=pg.mkPen((120, 0, 160)))
        self.marker_plot.hide()
        pp = self.plots[2][0]
        self.m0 = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((120, 0, 160), width=2), label="A",
                                  labelOpts={"position": 0.95, "color": (120, 0, 160)})
        self.m1 = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((120, 0, 160), width=2), label="B",
                                  labelOpts={"position": 0.95, "color": (120, 0, 160)})
        for m in (self.m0, self.m1):
            pp.addItem(m)
            m.sigPositionChanged.connect(self._markers_changed)
        for item in (self.m0, self.m1, self.strip_view):
            item.hide()                          # until a window is shown
        self.stats_box = pg.TextItem("", color=(20, 20, 20), fill=pg.mkBrush(255, 255, 255, 225),
                                     border=pg.mkPen((120, 0, 160)), anchor=(0, 0))
        self.stats_box.setZValue(50)
        pp.addItem(self.stats_box, ignoreBounds=True)
        self.plots[0][0].sigXRangeChanged.connect(self._range_changed)
        self.context_items: list[tuple[pg.PlotItem, object]] = []     # phase lines (made per window)
        self._spans: list[tuple[pg.PlotItem, str, pg.LinearRegionItem]] = []
        self._trigger: pg.InfiniteLine | None = None
        self.context: dict = {}
        self.trace: PowerTrace | None = None
        self.summary: TraceSummary | None = None
        self.window: WindowView | None = None
        self._levels: dict[int, dict[str, np.ndarray]] = {}
        self._rows: list[int] = []
        self._redrawing = False
        self.mode = "empty"                  # "raw" | "band"
        self._as_strokes = False
        self.last_stats: IntervalStats | None = None
        self.last_channels: tuple[ChannelStats, ChannelStats] | None = None

    # -- data ---------------------------------------------------------------------
    def show_window(self, window: WindowView, context: dict | None = None) -> None:
        self.window = window
        self.trace = window.trace()
        self.summary = window.summary()
        self._levels = {}
        self._rows = window.overview_row_samples
        t0, t1 = self.trace.t_first, self.trace.t_last
        self._draw_strip()
        self._draw_marker(window)
        for item in (self.m0, self.m1, self.strip_view):
            item.show()
        self.set_context(context or {})
        self.plots[0][0].setXRange(t0, t1, padding=0)
        span = t1 - t0
        for m in (self.m0, self.m1):
            m.blockSignals(True)
        self.m0.setValue(max(t0, 0.0) if t0 < 0 < t1 else t0 + 0.25 * span)
        self.m1.setValue(min(t1, self.m0.value() + 0.5 * span))
        for m in (self.m0, self.m1):
            m.blockSignals(False)
        self.redraw()
        self.last_stats = self.last_channels = None
        self.stats_box.setText("")
        # the markers' statistics on the next turn of the event loop: the window is drawn first
        QTimer.singleShot(0, self._markers_changed)

    def forget_window(self) -> None:
        """The window's file is being closed: nothing may read from it any more."""
        self.trace = self.summary = self.window = None
        self._levels = {}

    def level(self, k: int) -> dict[str, np.ndarray]:
        if k not in self._levels:
            self._levels[k] = self.window.overview_level(k)
        return self._levels[k]

    # -- the measurement's context ----------------------------------------------------
    def set_context(self, context: dict) -> None:
        """context: region_s [b0, e0], idle_span_s [a, b] (scope time of this window), board_at_zero_s and
        phases [(board t, name)] (drawn where they fall in this window). The shaded spans are made once and
        moved (building pyqtgraph region items costs ~15 ms each)."""
        for plot, item in self.context_items:
            plot.removeItem(item)
        self.context_items = []
        self.context = dict(context)
        if not self._spans:
            for p, _ in self.plots:
                for key, brush, tip in (("region_s", REGION_BRUSH, "measured [begin, end]"),
                                        ("idle_span_s", IDLE_BRUSH, "idle"),
                                        ("startup_s", STARTUP_BRUSH, "start-up tax: launch → begin (reported, "
                                                                     "not counted)")):
                    item = _region((0.0, 1.0), brush, tip)
                    p.addItem(item, ignoreBounds=True)
                    self._spans.append((p, key, item))
            self._trigger = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen((80, 80, 80), style=Qt.DashLine))
            self.plots[0][0].addItem(self._trigger, ignoreBounds=True)
        for p, key, item in self._spans:
            span = context.get(key)
            ok = bool(span) and len(span) == 2 and None not in span
            if ok:
                item.setRegion(tuple(span))
            item.setVisible(ok)
        self._show_timeline(context.get("run_timeline"))
        zero = context.get("board_at_zero_s")
        if zero is not None:
            p0 = self.plots[0][0]
            for t_board, text in context.get("logs", []):       # the workload's output lines, in grey
                line = pg.InfiniteLine(t_board - zero, angle=90, movable=False,
                                       pen=pg.mkPen((150, 150, 150), style=Qt.DotLine), label=text,
                                       labelOpts={"position": 0.12, "color": (110, 110, 110), "rotateAxis": (1, 0)})
                p0.addItem(line, ignoreBounds=True)
                self.context_items.append((p0, line))
            for t_board, name in context.get("phases", []):
                line = pg.InfiniteLine(t_board - zero, angle=90, movable=False,
                                       pen=pg.mkPen((200, 120, 0), style=Qt.DotLine), label=name,
                                       labelOpts={"position": 0.85, "color": (160, 90, 0)})
                p0.addItem(line, ignoreBounds=True)
                self.context_items.append((p0, line))

    def _draw_marker(self, window) -> None:
        wave = getattr(window, "marker", None)
        if wave is None:
            self.marker_plot.hide()
            self.marker_curve.setData([], [])
            return
        n = len(wave)
        step = max(1, n // MARKER_MAX_POINTS)
        # a GPIO held high over [begin, end]: every step-th sample places its edges to 1/4000 of the window
        try:
            codes = np.asarray(wave.codes[0:n:step], dtype=np.float64)
        except (JoulebenchError, OSError):
            self.marker_plot.hide()
            return
        xs = wave.x_origin + np.arange(0, n, step)[:len(codes)] * wave.x_increment
        self.marker_curve.setData(xs, codes * wave.gain_v + wave.offset_v)
        self.marker_plot.show()

    def _show_timeline(self, tl: dict | None) -> None:
        """tl: duration_s (T), spans [[a, b], …] (s from begin) of the run's windows, current (index)."""
        if not tl or not tl.get("spans"):
            self.timeline.hide()
            return
        spans = np.array(tl["spans"], dtype=float).reshape(-1, 2)
        current = tl.get("current")
        brushes = [pg.mkBrush(120, 0, 160) if k == current else pg.mkBrush(70, 130, 180) for k in range(len(spans))]
        self.timeline_bars.setOpts(x0=[0.0], x1=[float(tl["duration_s"])], y0=[0.0], height=[1.0])
        self.timeline_windows.setOpts(x0=spans[:, 0], x1=spans[:, 1], y0=[0.15] * len(spans),
                                      height=[0.7] * len(spans), brushes=brushes)
        lo = min(0.0, float(spans[:, 0].min()))
        hi = max(float(tl["duration_s"]), float(spans[:, 1].max()))
        self.timeline.setXRange(lo, hi, padding=0.02)
        self.timeline.setYRange(0, 1, padding=0.05)
        self.timeline.show()

    def timeline_shown(self) -> tuple[float, list[tuple[float, float]]] | None:
        """(T, the windows' spans from begin) as the run strip draws them; None when it is hidden."""
        if not self.timeline.isVisible():
            return None
        o = self.timeline_windows.opts
        return float(self.timeline_bars.opts["x1"][0]), [(float(a), float(b)) for a, b in zip(o["x0"], o["x1"])]

    def shown_context(self) -> tuple[list[tuple[float, float]], list[float]]:
        """(the shaded spans, the context lines: trigger and phases) as drawn on the voltage plot."""
        p0 = self.plots[0][0]
        spans = [tuple(item.getRegion()) for p, _, item in self._spans if p is p0 and item.isVisible()]
        lines = [self._trigger.value()] + [item.value() for _, item in self.context_items]
        return sorted(spans), sorted(lines)

    # -- drawing ------------------------------------------------------------------
    def _range_changed(self, *args) -> None:
        if not self._redrawing:
            self.redraw()

    def _strip_moved(self) -> None:
        if self._redrawing or self.trace is None:
            return
        lo, hi = self.strip_view.getRegion()
        if hi > lo:
            self.plots[0][0].setXRange(lo, hi, padding=0)

    def _draw_strip(self) -> None:
        k = len(self._rows) - 1
        rows = self._rows[k]
        lv = self.level(k)
        n = len(lv["p_min"])
        xs = band_x(0, n, rows, self.trace.x0, self.trace.dx)
        self.strip_lo.setData(xs, band_y(lv["p_min"]))
        self.strip_hi.setData(xs, band_y(lv["p_max"]))
        self.strip.setXRange(self.trace.t_first, self.trace.t_last, padding=0)
        finite = np.isfinite(lv["p_min"]) & np.isfinite(lv["p_max"])
        if finite.any():
            self.strip.setYRange(float(lv["p_min"][finite].min()), float(lv["p_max"][finite].max()), padding=0.05)

    def redraw(self) -> None:
        if self.trace is None:
            return
        self._redrawing = True
        try:
            self._redraw()
        finally:
            self._redrawing = False

    def _redraw(self) -> None:
        tr = self.trace
        (x_lo, x_hi) = self.plots[0][0].viewRange()[0]
        self.strip_view.setRegion((max(x_lo, tr.t_first), min(x_hi, tr.t_last)))
        j0 = max(0, int(math.floor((x_lo - tr.x0) / tr.dx)))
        j1 = min(tr.n, int(math.ceil((x_hi - tr.x0) / tr.dx)) + 1)
        if j1 <= j0:
            return
        width_px = max(200, int(self.plots[0][0].vb.width()) or 800)
        if j1 - j0 <= MAX_RAW_POINTS:
            self.mode = "raw"
            v, i, p = tr.arrays(j0, j1)
            x = tr.x0 + np.arange(j0, j1) * tr.dx
            for (plot, line), (lo, hi, _), strokes, y in zip(self.plots, self.bands, self.strokes, (v, i, p)):
                lo.setData([], [])
                hi.setData([], [])
                strokes.setData([], [])
                line.setData(x, y)
                _fit_y(plot, float(y.min()), float(y.max()))
            return
        self.mode = "band"
        k = 0
        want_bins = BINS_PER_PIXEL * width_px
        while k + 1 < len(self._rows) and (j1 - j0) / self._rows[k + 1] >= want_bins:
            k += 1
        if (j1 - j0) / self._rows[k] > 4 * want_bins and k + 1 < len(self._rows):
            k += 1
        rows = self._rows[k]
        lv = self.level(k)
        r0, r1 = j0 // rows, min(len(lv["p_min"]), -(-j1 // rows))
        as_strokes = (r1 - r0) >= width_px
        self._as_strokes = as_strokes
        xs = band_x(r0, r1, rows, tr.x0, tr.dx)
        centres = tr.x0 + (np.arange(r0, r1) + 0.5) * rows * tr.dx
        counts = np.full(r1 - r0, float(rows))           # samples in each bin (the last may be short)
        if r1 * rows > tr.n:
            counts[-1] = tr.n - (r1 - 1) * rows
        for idx, ((plot, line), (lo, hi, _), strokes, (_, _, _, (lo_name, hi_name))) in enumerate(
                zip(self.plots, self.bands, self.strokes, CHANNELS)):
            lo_v, hi_v = lv[lo_name][r0:r1], lv[hi_name][r0:r1]
            if as_strokes:
                lo.setData([], [])
                hi.setData([], [])
                strokes.setData(np.repeat(centres, 2), np.column_stack([lo_v, hi_v]).ravel())
            else:
                strokes.setData([], [])
                lo.setData(xs, band_y(lo_v))
                hi.setData(xs, band_y(hi_v))
            sums = lv.get(("v_sum", "i_sum", "p_sum")[idx])
            mean = sums[r0:r1] / counts if sums is not None else None
            if mean is None or not np.isfinite(mean).all():    # sessions from before V and I sums were kept
                line.setData([], [])
            elif as_strokes:
                line.setData(centres, mean)                    # the mean per bin
            else:
                line.setData(xs, band_y(mean))
            if len(lo_v):
                _fit_y(plot, float(np.min(lo_v)), float(np.max(hi_v)))

    def visible_band(self, which: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, lo, hi) as drawn for plot `which` (0 V, 1 I, 2 P); in raw mode lo = hi = the samples."""
        lo, hi, _ = self.bands[which]
        if self.mode == "raw":
            x, y = self.plots[which][1].getData()
            return x, y, y
        if self._as_strokes:
            x, y = self.strokes[which].getData()
            return x[::2], y[::2], y[1::2]
        x, ylo = lo.getData()
        _, yhi = hi.getData()
        return x, ylo, yhi

    # -- markers ------------------------------------------------------------------
    def marker_times(self) -> tuple[float, float]:
        a, b = sorted((self.m0.value(), self.m1.value()))
        return a, b

    def set_markers(self, t0: float, t1: float) -> None:
        self.m0.blockSignals(True)
        self.m0.setValue(t0)
        self.m0.blockSignals(False)
        self.m1.setValue(t1)

    def _markers_changed(self, *args) -> None:
        if self.trace is None:
            return
        t0, t1 = self.marker_times()
        t0, t1 = max(t0, self.trace.t_first), min(t1, self.trace.t_last)
        try:
            self.last_stats = interval_stats(self.trace, self.summary, t0, t1) if t1 > t0 else None
            self.last_channels = channel_stats(self.trace, self.summary, t0, t1) if t1 > t0 else None
        except (JoulebenchError, OSError):         # an empty span, or the file closed meanwhile
            self.last_stats = self.last_channels = None
        self.stats_box.setText(stats_box_text(self.last_stats, self.last_channels))
        (x_lo, x_hi), (_, y_hi) = self.plots[2][0].viewRange()
        a, b = self.marker_times()
        span = x_hi - x_lo
        if b < x_lo + 0.55 * span:                 # right of marker B when there is room
            self.stats_box.setAnchor((0, 0))
            self.stats_box.setPos(max(x_lo, b), y_hi)
        elif a > x_lo + 0.45 * span:               # else left of marker A
            self.stats_box.setAnchor((1, 0))
            self.stats_box.setPos(min(a, x_hi), y_hi)
        else:                                      # markers far apart: the box in the plot's top-right corner
            self.stats_box.setAnchor((1, 0))
            self.stats_box.setPos(x_hi, y_hi)
        self.markers_moved.emit(self.last_stats)


def _region(span, brush, tip: str) -> pg.LinearRegionItem:
    r = pg.LinearRegionItem(values=tuple(span), movable=False, brush=pg.mkBrush(*brush))
    r.setToolTip(tip)
    r.setZValue(-10)
    return r


def _fit_y(plot: pg.PlotItem, lo: float, hi: float) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return
    pad = (hi - lo) * Y_PAD or max(abs(hi) * 0.01, 1e-12)
    plot.setYRange(lo - pad, hi + pad, padding=0)


def si(value: float | None, unit: str) -> str:
    """4 significant digits with an SI prefix (app/ui/units.py)."""
    return format_si(value, unit)


def stats_box_text(st: IntervalStats | None, ch: tuple[ChannelStats, ChannelStats] | None) -> str:
    if st is None or ch is None:
        return ""
    v, i = ch
    return "\n".join([
        f"Δt {si(st.duration_s, 's')}",
        f"V  mean {si(v.mean, 'V')}  min {si(v.min, 'V')}  max {si(v.max, 'V')}  p2p {si(v.p2p, 'V')}",
        f"I  mean {si(i.mean, 'A')}  min {si(i.min, 'A')}  max {si(i.max, 'A')}  p2p {si(i.p2p, 'A')}",
        f"P  mean {si(st.mean_w, 'W')}  min {si(st.min_w, 'W')}  max {si(st.max_w, 'W')}  "
        f"p2p {si(st.max_w - st.min_w, 'W')}  std {si(st.std_w, 'W')}",
        f"E  {si(st.energy_j, 'J')}   Q  {si(i.mean * st.duration_s, 'C')}",
    ])


def format_stats(st: IntervalStats | None) -> str:
    if st is None:
        return "Markers: place them inside the window, apart"
    return (f"Δt {si(st.duration_s, 's')}   mean P {si(st.mean_w, 'W')}   min {si(st.min_w, 'W')}   "
            f"max {si(st.max_w, 'W')}   energy {si(st.energy_j, 'J')}")
