"""The measurement's context on the review plot, at the times the session records: the measured region
[begin, end], the idle span, the start-up tax, the trigger (t = 0), the workload's `phase` events and output
lines (through the run's board ↔ scope placement), a long run's timeline of its windows, and the begin/end
marker GPIO when the bench recorded one on a scope channel."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from app.errors import JoulebenchError

REGION_BRUSH = (44, 160, 44, 38)
IDLE_BRUSH = (120, 120, 120, 40)
STARTUP_BRUSH = (255, 160, 0, 45)
MARKER_MAX_POINTS = 4000
SPANS = (("region_s", REGION_BRUSH, "measured [begin, end]"),
         ("idle_span_s", IDLE_BRUSH, "idle"),
         ("startup_s", STARTUP_BRUSH, "start-up tax: launch → begin (reported, not counted)"))


class TraceContext:
    """Draws a window's context over the V/I/P plots, on the run's timeline strip and on the marker strip.

    plots: the V, I, P plot items (the first carries the trigger and the event lines); timeline and
    marker_plot: the two strips' plot items, set up here."""

    def __init__(self, plots: list[pg.PlotItem], timeline: pg.PlotItem, marker_plot: pg.PlotItem,
                 axis_width_px: int):
        self.plots = plots
        self.items: list[tuple[pg.PlotItem, object]] = []     # phase and log lines (made per window)
        self._spans: list[tuple[pg.PlotItem, str, pg.LinearRegionItem]] = []
        self._trigger: pg.InfiniteLine | None = None
        self.context: dict = {}
        self.legend: pg.LegendItem | None = None                # set by the plot that lays it out
        self.notes_shown = 0
        # a long run's timeline: [begin, end] and where each captured window lies in it (shown for such runs)
        self.timeline = timeline
        timeline.setMaximumHeight(56)
        timeline.getAxis("left").setWidth(axis_width_px)
        timeline.setLabel("left", "run")
        timeline.setLabel("bottom", "time from begin", units="s")
        timeline.setMouseEnabled(x=False, y=False)
        timeline.hideAxis("left")
        self.timeline_bars = pg.BarGraphItem(x0=[0.0], x1=[1.0], y0=[0.0], height=[1.0], brush=(44, 160, 44, 60))
        self.timeline_windows = pg.BarGraphItem(x0=[0.0], x1=[0.0], y0=[0.15], height=[0.7], brush=(70, 130, 180))
        timeline.addItem(self.timeline_bars)
        timeline.addItem(self.timeline_windows)
        timeline.hide()
        # the begin/end marker GPIO, when the bench recorded one on a scope channel
        self.marker_plot = marker_plot
        marker_plot.setMaximumHeight(60)
        marker_plot.getAxis("left").setWidth(axis_width_px)
        marker_plot.setLabel("left", "marker", units="V")
        marker_plot.setMouseEnabled(x=False, y=False)
        marker_plot.setXLink(plots[0])
        self.marker_curve = marker_plot.plot(pen=pg.mkPen((120, 0, 160)))
        marker_plot.hide()

    def set(self, context: dict) -> None:
        """context: region_s [b0, e0], idle_span_s [a, b] (scope time of this window), board_at_zero_s and
        phases [(board t, name)] (drawn where they fall in this window). The shaded spans are made once and
        moved (building pyqtgraph region items costs ~15 ms each)."""
        for plot, item in self.items:
            plot.removeItem(item)
        self.items = []
        self.context = dict(context)
        if not self._spans:
            for p in self.plots:
                for key, brush, tip in SPANS:
                    item = _region((0.0, 1.0), brush, tip)
                    p.addItem(item, ignoreBounds=True)
                    self._spans.append((p, key, item))
            self._trigger = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen((80, 80, 80), style=Qt.DashLine))
            self.plots[0].addItem(self._trigger, ignoreBounds=True)
        for p, key, item in self._spans:
            span = context.get(key)
            ok = bool(span) and len(span) == 2 and None not in span
            if ok:
                item.setRegion(tuple(span))
            item.setVisible(ok)
        self._show_timeline(context.get("run_timeline"))
        self.update_legend()
        zero = context.get("board_at_zero_s")
        if zero is not None:
            p0 = self.plots[0]
            for t_board, text in context.get("logs", []):       # the workload's output lines, in grey
                line = pg.InfiniteLine(t_board - zero, angle=90, movable=False,
                                       pen=pg.mkPen((150, 150, 150), style=Qt.DotLine), label=text,
                                       labelOpts={"position": 0.12, "color": (110, 110, 110), "rotateAxis": (1, 0)})
                p0.addItem(line, ignoreBounds=True)
                self.items.append((p0, line))
            for t_board, name in context.get("phases", []):
                line = pg.InfiniteLine(t_board - zero, angle=90, movable=False,
                                       pen=pg.mkPen((200, 120, 0), style=Qt.DotLine), label=name,
                                       labelOpts={"position": 0.85, "color": (160, 90, 0)})
                p0.addItem(line, ignoreBounds=True)
                self.items.append((p0, line))

    def update_legend(self, notes: int | None = None) -> None:
        """The legend under the plots: a swatch for each kind of span and line on show (notes hatched, so a
        note over the region never reads as idle)."""
        if notes is not None:
            self.notes_shown = notes
        legend = self.legend
        if legend is None:
            return
        legend.clear()
        shown = {key for p, key, item in self._spans if p is self.plots[0] and item.isVisible()}
        for key, brush, tip in SPANS:
            if key in shown:
                legend.addItem(_swatch(pg.mkBrush(*brush)), LEGEND_NAMES.get(key, tip))
        if self.notes_shown:
            legend.addItem(_swatch(note_brush()), "note (saved in the session)")
        legend.addItem(pg.PlotDataItem(pen=pg.mkPen((80, 80, 80), style=Qt.DashLine)), "trigger (t = 0)")
        if self.context.get("phases"):
            legend.addItem(pg.PlotDataItem(pen=pg.mkPen((200, 120, 0), style=Qt.DotLine)), "phase")
        legend.addItem(pg.PlotDataItem(pen=pg.mkPen((120, 0, 160), width=2)), "markers A, B")

    def show_marker(self, window) -> None:
        """The window's marker GPIO on its strip (hidden when the window has none)."""
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

    def shown(self) -> tuple[list[tuple[float, float]], list[float]]:
        """(the shaded spans, the context lines: trigger and phases) as drawn on the voltage plot."""
        p0 = self.plots[0]
        spans = [tuple(item.getRegion()) for p, _, item in self._spans if p is p0 and item.isVisible()]
        lines = [self._trigger.value()] + [item.value() for _, item in self.items]
        return sorted(spans), sorted(lines)


def _region(span, brush, tip: str) -> pg.LinearRegionItem:
    r = pg.LinearRegionItem(values=tuple(span), movable=False, brush=pg.mkBrush(*brush))
    r.setToolTip(tip)
    r.setZValue(-10)
    return r


NOTE_COLOR = (120, 0, 160)
LEGEND_NAMES = {"region_s": "measured [begin, end]", "idle_span_s": "idle", "startup_s": "start-up tax"}


def note_brush() -> QBrush:
    """Notes are hatched: over the region's green they still read as a note, never as idle's grey."""
    return QBrush(QColor(*NOTE_COLOR, 150), Qt.BDiagPattern)


def _swatch(brush) -> pg.PlotDataItem:
    """A legend sample filled with a span's brush."""
    return pg.PlotDataItem(pen=pg.mkPen((90, 90, 90), width=0.5), fillLevel=0, fillBrush=brush)


class LegendRow(pg.LegendItem):
    """A legend laid out as a row of the plots' layout (under them): pyqtgraph's own legend moves itself to its
    parent's corner on every change (over the voltage trace); this one takes the height of its lines and
    leaves its place to the layout."""

    LINE_PX = 20

    def updateSize(self) -> None:
        lines = max(1, self.layout.rowCount())
        height = lines * self.LINE_PX + 6
        self.setMinimumHeight(height)
        self.setMaximumHeight(height)
        self.layout.invalidate()                 # its samples and labels placed again, at their new sizes
        self.layout.activate()
