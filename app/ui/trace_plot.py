"""V, I and P of one saved window, drawn from the overview pyramid, with two markers.

Whatever the record length, a redraw touches at most ~2 bins per pixel: the
coarsest overview level that still gives that many bins in view, or the raw
samples once the view holds fewer than MAX_RAW_POINTS. The markers' readout
(Δt, mean/min/max P, energy) is app.energy.interval_stats on the same trace
and summary, so the GUI and the core give the same number.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from app.energy import IntervalStats, PowerTrace, TraceSummary, interval_stats
from app.errors import AnalysisError
from app.session_reader import WindowView

MAX_RAW_POINTS = 6000
BINS_PER_PIXEL = 2


def envelope(lo: np.ndarray, hi: np.ndarray, x0: float, dx_bin: float) -> tuple[np.ndarray, np.ndarray]:
    """min/max pairs as one connected line: x repeated, y alternating min and max."""
    xs = x0 + (np.arange(len(lo)) + 0.5) * dx_bin
    return np.repeat(xs, 2), np.column_stack([lo, hi]).ravel()


class TracePlot(pg.GraphicsLayoutWidget):
    markers_moved = Signal(object)          # IntervalStats or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.plots = []
        for row, (name, unit, color) in enumerate((("Voltage", "V", (31, 119, 180)), ("Current", "A", (214, 39, 40)),
                                                   ("Power", "W", (44, 160, 44)))):
            p = self.addPlot(row=row, col=0)
            p.setLabel("left", name, units=unit)
            p.setDownsampling(auto=False)
            p.setClipToView(True)
            if self.plots:
                p.setXLink(self.plots[0][0])
            curve = p.plot(pen=pg.mkPen(color, width=1))
            self.plots.append((p, curve))
        self.plots[-1][0].setLabel("bottom", "Time from trigger", units="s")
        pp = self.plots[2][0]
        self.m0 = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((120, 0, 160), width=2))
        self.m1 = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((120, 0, 160), width=2))
        for m in (self.m0, self.m1):
            pp.addItem(m)
            m.sigPositionChanged.connect(self._markers_changed)
        self.plots[0][0].sigXRangeChanged.connect(self._range_changed)
        self.trace: PowerTrace | None = None
        self.summary: TraceSummary | None = None
        self.window: WindowView | None = None
        self._levels: dict[int, dict[str, np.ndarray]] = {}
        self._rows: list[int] = []
        self._redrawing = False
        self.last_stats: IntervalStats | None = None

    # -- data ---------------------------------------------------------------------
    def show_window(self, window: WindowView) -> None:
        self.window = window
        self.trace = window.trace()
        self.summary = window.summary()
        self._levels = {}
        self._rows = window.overview_row_samples
        t0, t1 = self.trace.t_first, self.trace.t_last
        self.plots[0][0].setXRange(t0, t1, padding=0)
        span = t1 - t0
        self.m0.blockSignals(True)
        self.m0.setValue(max(t0, 0.0) if t0 < 0 < t1 else t0 + 0.25 * span)
        self.m0.blockSignals(False)
        self.m1.setValue(min(t1, self.m0.value() + 0.5 * span))
        self.redraw()
        self._markers_changed()

    def level(self, k: int) -> dict[str, np.ndarray]:
        if k not in self._levels:
            self._levels[k] = self.window.overview_level(k)
        return self._levels[k]

    # -- drawing ------------------------------------------------------------------
    def _range_changed(self, *args) -> None:
        if not self._redrawing:
            self.redraw()

    def redraw(self) -> None:
        if self.trace is None:
            return
        self._redrawing = True
        try:
            tr = self.trace
            (x_lo, x_hi) = self.plots[0][0].viewRange()[0]
            j0 = max(0, int(math.floor((x_lo - tr.x0) / tr.dx)))
            j1 = min(tr.n, int(math.ceil((x_hi - tr.x0) / tr.dx)) + 1)
            if j1 <= j0:
                return
            width_px = max(200, int(self.plots[0][0].vb.width()) or 800)
            if j1 - j0 <= MAX_RAW_POINTS:
                v, i, p = tr.arrays(j0, j1)
                x = tr.x0 + np.arange(j0, j1) * tr.dx
                for (plot, curve), y in zip(self.plots, (v, i, p)):
                    curve.setData(x, y)
                return
            k = 0
            want_bins = BINS_PER_PIXEL * width_px
            while k + 1 < len(self._rows) and (j1 - j0) / self._rows[k + 1] >= want_bins:
                k += 1
            if (j1 - j0) / self._rows[k] > 4 * want_bins and k + 1 < len(self._rows):
                k += 1
            rows = self._rows[k]
            lv = self.level(k)
            r0, r1 = j0 // rows, min(len(lv["p_min"]), -(-j1 // rows))
            x0 = tr.x0 + r0 * rows * tr.dx
            for (plot, curve), (lo, hi) in zip(self.plots, (("v_min", "v_max"), ("i_min", "i_max"),
                                                            ("p_min", "p_max"))):
                xs, ys = envelope(lv[lo][r0:r1], lv[hi][r0:r1], x0, rows * tr.dx)
                curve.setData(xs, ys)
        finally:
            self._redrawing = False

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
        except AnalysisError:
            self.last_stats = None
        self.markers_moved.emit(self.last_stats)


def format_stats(st: IntervalStats | None) -> str:
    if st is None:
        return "Markers: place them inside the window, apart"
    return (f"Δt {pg.siFormat(st.duration_s, suffix='s')}   mean P {pg.siFormat(st.mean_w, suffix='W')}   "
            f"min {pg.siFormat(st.min_w, suffix='W')}   max {pg.siFormat(st.max_w, suffix='W')}   "
            f"energy {st.energy_j:.6g} J")

