"""The review plot's two markers and the statistics box beside them.

Δt, mean/min/max/p2p of V and I, mean/min/max/p2p/std of P, energy and charge between the markers come from
app.measure.energy.interval_stats and channel_stats on the same trace and summary, so the GUI and the core
give the same numbers.
"""

from __future__ import annotations

import pyqtgraph as pg

from app.errors import JoulebenchError
from app.measure.energy import (
    ChannelStats,
    IntervalStats,
    PowerTrace,
    TraceSummary,
    channel_stats,
    interval_stats,
)
from app.ui.units import format_si

MARKER_COLOR = (120, 0, 160)


class MarkerPair:
    """Markers A and B on one plot (the power plot, labelled), mirrored on others (mirror_on), and the box
    of their statistics."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.m0 = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(MARKER_COLOR, width=2), label="A",
                                  labelOpts={"position": 0.95, "color": MARKER_COLOR})
        self.m1 = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(MARKER_COLOR, width=2), label="B",
                                  labelOpts={"position": 0.95, "color": MARKER_COLOR})
        for m in (self.m0, self.m1):
            plot.addItem(m)
            m.hide()                             # until a window is shown
        self.stats_box = pg.TextItem("", color=(20, 20, 20), fill=pg.mkBrush(255, 255, 255, 225),
                                     border=pg.mkPen(MARKER_COLOR), anchor=(0, 0))
        self.stats_box.setZValue(50)
        plot.addItem(self.stats_box, ignoreBounds=True)
        self.last_stats: IntervalStats | None = None
        self.last_channels: tuple[ChannelStats, ChannelStats] | None = None
        self.mirrors: list[tuple[pg.InfiniteLine, pg.InfiniteLine]] = []     # A and B on other plots

    def mirror_on(self, plots: list[pg.PlotItem]) -> None:
        """Markers A and B drawn on other plots too (the voltage and current), moving together: drag any of
        them and all follow, with one readout."""
        for plot in plots:
            pair = []
            for main in (self.m0, self.m1):
                line = pg.InfiniteLine(main.value(), angle=90, movable=True, pen=pg.mkPen(MARKER_COLOR, width=2))
                plot.addItem(line, ignoreBounds=True)
                line.hide()
                line.sigPositionChanged.connect(lambda ln, main=main: self._moved_mirror(ln, main))
                pair.append(line)
            self.mirrors.append((pair[0], pair[1]))
        for m in (self.m0, self.m1):
            m.sigPositionChanged.connect(self._sync)

    def _moved_mirror(self, line: pg.InfiniteLine, main: pg.InfiniteLine) -> None:
        if abs(line.value() - main.value()) > 0:
            main.setValue(line.value())          # the statistics and the other plots follow

    def _sync(self, *args) -> None:
        for a, b in self.mirrors:
            for line, main in ((a, self.m0), (b, self.m1)):
                line.blockSignals(True)
                line.setValue(main.value())
                line.blockSignals(False)

    def connect(self, slot) -> None:
        """slot() whenever either marker moves."""
        for m in (self.m0, self.m1):
            m.sigPositionChanged.connect(slot)

    def show(self) -> None:
        for m in (self.m0, self.m1, *(ln for pair in self.mirrors for ln in pair)):
            m.show()

    def place(self, t0: float, t1: float) -> None:
        """The markers on a newly shown window [t0, t1]: A at the trigger (or a quarter in), B half the window
        later; quietly (the statistics follow once the window is drawn) and the old statistics cleared."""
        span = t1 - t0
        for m in (self.m0, self.m1):
            m.blockSignals(True)
        self.m0.setValue(max(t0, 0.0) if t0 < 0 < t1 else t0 + 0.25 * span)
        self.m1.setValue(min(t1, self.m0.value() + 0.5 * span))
        for m in (self.m0, self.m1):
            m.blockSignals(False)
        self._sync()

    def clear(self) -> None:
        self.last_stats = self.last_channels = None
        self.stats_box.setText("")

    def times(self) -> tuple[float, float]:
        a, b = sorted((self.m0.value(), self.m1.value()))
        return a, b

    def set(self, t0: float, t1: float) -> None:
        """Both markers moved; the statistics once, when B lands."""
        self.m0.blockSignals(True)
        self.m0.setValue(t0)
        self.m0.blockSignals(False)
        self.m1.setValue(t1)
        self._sync()

    def measure(self, trace: PowerTrace, summary: TraceSummary) -> IntervalStats | None:
        """The statistics between the markers (clipped to the trace), shown in the box placed beside them."""
        t0, t1 = self.times()
        t0, t1 = max(t0, trace.t_first), min(t1, trace.t_last)
        try:
            self.last_stats = interval_stats(trace, summary, t0, t1) if t1 > t0 else None
            self.last_channels = channel_stats(trace, summary, t0, t1) if t1 > t0 else None
        except (JoulebenchError, OSError):         # an empty span, or the file closed meanwhile
            self.last_stats = self.last_channels = None
        self.stats_box.setText(stats_box_text(self.last_stats, self.last_channels))
        self._place_box()
        return self.last_stats

    def _place_box(self) -> None:
        (x_lo, x_hi), (_, y_hi) = self.plot.viewRange()
        a, b = self.times()
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
        (f"P  mean {si(st.mean_w, 'W')}  min {si(st.min_w, 'W')}  max {si(st.max_w, 'W')}  "
         f"p2p {si(st.max_w - st.min_w, 'W')}  std {si(st.std_w, 'W')}"),
        f"E  {si(st.energy_j, 'J')}   Q  {si(i.mean * st.duration_s, 'C')}",
    ])


def format_stats(st: IntervalStats | None) -> str:
    if st is None:
        return "Markers: place them inside the window, apart"
    return (f"Δt {si(st.duration_s, 's')}   mean P {si(st.mean_w, 'W')}   min {si(st.min_w, 'W')}   "
            f"max {si(st.max_w, 'W')}   energy {si(st.energy_j, 'J')}")


def readout_text(st: IntervalStats | None, ch: tuple[ChannelStats, ChannelStats] | None) -> str:
    """The statistics between the markers for the readout beside the plots (two lines, never over a trace)."""
    if st is None or ch is None:
        return format_stats(st)
    v, i = ch
    return (f"{format_stats(st)}   Q {si(i.mean * st.duration_s, 'C')}\n"
            f"V  mean {si(v.mean, 'V')}  min {si(v.min, 'V')}  max {si(v.max, 'V')}  p2p {si(v.p2p, 'V')}\n"
            f"I  mean {si(i.mean, 'A')}  min {si(i.min, 'A')}  max {si(i.max, 'A')}  p2p {si(i.p2p, 'A')}      "
            f"P  p2p {si(st.max_w - st.min_w, 'W')}  std {si(st.std_w, 'W')}")
