"""V, I and P of one saved window: honest bands, the measurement's context, dual markers with statistics.

Drawing. Whatever the record length, a redraw touches at most ~2 bins per pixel: the coarsest overview level
that still gives that many bins in view, drawn as a filled min/max band (every sample lies inside it, a
single-sample spike included, at every zoom) with the mean per bin; once the view holds fewer than
MAX_RAW_POINTS samples the samples themselves are drawn. The wheel zooms time only; each plot's vertical
range follows the data in view. The three plots share a time axis and their left axes have one width, so
their edges line up; units carry SI prefixes. A strip under them shows the whole window and the part in view.

Context and markers. The measurement's context (the region, idle span, trigger, phases, the run's timeline
and the marker GPIO) is drawn by app/ui/trace_context.py; the two markers and their statistics, the same
numbers as the core's, by app/ui/trace_markers.py.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal

from app.measure.energy import ChannelStats, IntervalStats, PowerTrace, TraceSummary
from app.session.reader import WindowView
from app.ui.trace_context import LegendRow, TraceContext
from app.ui.trace_markers import MarkerPair

MAX_RAW_POINTS = 6000
BINS_PER_PIXEL = 2
AXIS_WIDTH_PX = 76
Y_PAD = 0.06
AXIS_TEXT = (40, 40, 40)
PAN_FRACTION = 0.1                       # ← → move the view by a tenth of its span
NAV_KEYS = (Qt.Key_Left, Qt.Key_Right, Qt.Key_Plus, Qt.Key_Equal, Qt.Key_Minus, Qt.Key_Home)
CHANNELS = (("Voltage", "V", (31, 119, 180), ("v_min", "v_max")), ("Current", "A", (214, 39, 40), ("i_min", "i_max")),
            ("Power", "W", (44, 160, 44), ("p_min", "p_max")))


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
            for side in ("left", "bottom"):              # dark axis text: readable on screen and on paper
                p.getAxis(side).setTextPen(AXIS_TEXT)
                p.getAxis(side).setPen(AXIS_TEXT)
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
        for p, _ in self.plots[:-1]:              # one time scale, written once: under the power plot, with its unit
            p.getAxis("bottom").setStyle(showValues=False)
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
        self.strip_view.hide()                   # until a window is shown
        # the context (app/ui/trace_context.py): spans, events, the run's timeline and the marker GPIO strips
        self.overlay = TraceContext([p for p, _ in self.plots], self.addPlot(row=len(CHANNELS) + 1, col=0),
                                    self.addPlot(row=len(CHANNELS) + 2, col=0), AXIS_WIDTH_PX)
        self.timeline, self.marker_plot = self.overlay.timeline, self.overlay.marker_plot
        # the legend of the spans and lines, in its own row under the plots: it never covers a trace
        self.legend = LegendRow(colCount=6, brush=None, labelTextColor=AXIS_TEXT, labelTextSize="8pt")
        self.addItem(self.legend, row=len(CHANNELS) + 3, col=0)
        self.overlay.legend = self.legend
        self.marker_curve = self.overlay.marker_curve
        # markers A and B on the power plot, with their statistics (app/ui/trace_markers.py)
        self.markers = MarkerPair(self.plots[2][0])
        for strip in (self.strip, self.timeline, self.marker_plot):      # dark text on every axis
            for side in ("left", "bottom"):
                strip.getAxis(side).setTextPen(AXIS_TEXT)
        self.markers.mirror_on([p for p, _ in self.plots[:2]])
        self.markers.connect(self._markers_changed)
        self.setFocusPolicy(Qt.StrongFocus)         # the keys: ← → pan, + − zoom, Home fits all
        self.stats_box = self.markers.stats_box
        self.stats_box.setVisible(False)         # the statistics are in the readout under the plots (never over
                                                 # a trace or a marker's label); exports write them under the page
        self.plots[0][0].sigXRangeChanged.connect(self._range_changed)
        self.trace: PowerTrace | None = None
        self.summary: TraceSummary | None = None
        self.window: WindowView | None = None
        self._levels: dict[int, dict[str, np.ndarray]] = {}
        self._rows: list[int] = []
        self._redrawing = False
        self.mode = "empty"                  # "raw" | "band"
        self._as_strokes = False

    # -- data ---------------------------------------------------------------------
    def show_window(self, window: WindowView, context: dict | None = None) -> None:
        self.window = window
        self.trace = window.trace()
        self.summary = window.summary()
        self._levels = {}
        self._rows = window.overview_row_samples
        t0, t1 = self.trace.t_first, self.trace.t_last
        self._draw_strip()
        self.overlay.show_marker(window)
        self.markers.show()
        self.strip_view.show()
        self.set_context(context or {})
        self.plots[0][0].setXRange(t0, t1, padding=0)
        self.markers.place(t0, t1)
        self.redraw()
        self.markers.clear()
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

    # -- the measurement's context (app/ui/trace_context.py) ---------------------------
    @property
    def context(self) -> dict:
        return self.overlay.context

    def set_context(self, context: dict) -> None:
        self.overlay.set(context)

    def timeline_shown(self) -> tuple[float, list[tuple[float, float]]] | None:
        """(T, the windows' spans from begin) as the run strip draws them; None when it is hidden."""
        return self.overlay.timeline_shown()

    def shown_context(self) -> tuple[list[tuple[float, float]], list[float]]:
        """(the shaded spans, the context lines: trigger and phases) as drawn on the voltage plot."""
        return self.overlay.shown()

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

    def fit_all(self) -> None:
        """The whole window in view (the toolbar's Fit all, the Home key)."""
        if self.trace is not None:
            self.plots[0][0].setXRange(self.trace.t_first, self.trace.t_last, padding=0)

    def keyPressEvent(self, event) -> None:
        """← → pan a tenth of the view, + (or =) zooms in twice, − zooms out twice, Home shows the whole
        window; the view stays inside the window."""
        key = event.key()
        if self.trace is None or key not in NAV_KEYS:
            super().keyPressEvent(event)
            return
        event.accept()
        if key == Qt.Key_Home:
            self.fit_all()
            return
        t_first, t_last = self.trace.t_first, self.trace.t_last
        lo, hi = self.plots[0][0].viewRange()[0]
        span, centre = hi - lo, (lo + hi) / 2
        if key in (Qt.Key_Left, Qt.Key_Right):
            shift = PAN_FRACTION * span * (1 if key == Qt.Key_Right else -1)
            shift = min(max(shift, t_first - lo), t_last - hi) if span < t_last - t_first else 0.0
            lo, hi = lo + shift, hi + shift
        else:
            half = span / 4 if key in (Qt.Key_Plus, Qt.Key_Equal) else span
            lo, hi = max(t_first, centre - half), min(t_last, centre + half)
        self.plots[0][0].setXRange(lo, hi, padding=0)

    # -- markers (app/ui/trace_markers.py) ----------------------------------------
    @property
    def last_stats(self) -> IntervalStats | None:
        return self.markers.last_stats

    @property
    def last_channels(self) -> tuple[ChannelStats, ChannelStats] | None:
        return self.markers.last_channels

    def marker_times(self) -> tuple[float, float]:
        return self.markers.times()

    def set_markers(self, t0: float, t1: float) -> None:
        self.markers.set(t0, t1)

    def _markers_changed(self, *args) -> None:
        if self.trace is None:
            return
        self.markers_moved.emit(self.markers.measure(self.trace, self.summary))


def _fit_y(plot: pg.PlotItem, lo: float, hi: float) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return
    pad = (hi - lo) * Y_PAD or max(abs(hi) * 0.01, 1e-12)
    plot.setYRange(lo - pad, hi + pad, padding=0)
