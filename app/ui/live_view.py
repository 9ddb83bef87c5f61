"""Live V, I and P from the scope's screen frames, with multimeter readouts and energy since Reset."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import AnalysisError
from app.measure.energy import PowerTrace

LIVE_AXIS_PX = 64


class LiveView(QWidget):
    run_toggled = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bench = None
        self.frames = 0
        self.energy_j = 0.0
        self._last_t: float | None = None
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.run_button = QPushButton("Run (Space)")
        self.run_button.setCheckable(True)
        self.reset_button = QPushButton("Reset energy")
        top.addWidget(self.run_button)
        top.addWidget(self.reset_button)
        top.addStretch()
        lay.addLayout(top)
        meters = QGridLayout()
        self.readouts = {}
        for col, (key, title) in enumerate((("v", "Voltage"), ("i", "Current"), ("p", "Power"), ("e", "Energy"))):
            head = QLabel(title)
            val = QLabel("—")
            val.setStyleSheet("font-size: 20pt; font-family: monospace;")
            meters.addWidget(head, 0, col)
            meters.addWidget(val, 1, col)
            self.readouts[key] = val
        lay.addLayout(meters)
        self.graphs = pg.GraphicsLayoutWidget()
        self.graphs.setBackground("w")
        self.curves = []
        first = None
        for row, (name, unit, color) in enumerate((("Voltage", "V", (31, 119, 180)), ("Current", "A", (214, 39, 40)),
                                                   ("Power", "W", (44, 160, 44)))):
            p = self.graphs.addPlot(row=row, col=0)
            p.setLabel("left", name, units=unit)
            p.getAxis("left").setWidth(LIVE_AXIS_PX)      # one width: the three plots' edges line up
            for side in ("left", "bottom"):
                p.getAxis(side).setTextPen((40, 40, 40))
            if first is not None:
                p.setXLink(first)
            first = first or p
            self.curves.append(p.plot(pen=pg.mkPen(color, width=1)))
        self.graphs.getItem(2, 0).setLabel("bottom", "Time", units="s")
        lay.addWidget(self.graphs)
        self.run_button.toggled.connect(self._toggled)
        self.reset_button.clicked.connect(self.reset)

    def _toggled(self, on: bool) -> None:
        self.run_button.setText("Stop (Space)" if on else "Run (Space)")
        self.run_toggled.emit(on)

    def reset(self) -> None:
        self.energy_j = 0.0
        self._last_t = None
        self.readouts["e"].setText(pg.siFormat(0.0, suffix="J"))

    def show_frame(self, v_wave, i_wave) -> None:
        c = self.bench.current
        try:
            trace = PowerTrace(v_wave, i_wave, shunt_ohm=c.shunt_ohm, amps_per_volt_=c.amps_per_volt,
                               measured_at=self.bench.voltage.measured_at, deskew_s=c.deskew_s,
                               current_zero_v=c.zero_offset_v or 0.0)
        except AnalysisError:
            return                      # a frame whose channels do not line up is skipped, not drawn wrong
        volts, amps, power = trace.arrays(0, trace.n)
        t = trace.x0 + np.arange(trace.n) * trace.dx
        for curve, y in zip(self.curves, (volts, amps, power)):
            curve.setData(t, y)
        mean_p = float(np.mean(power))
        now = time.monotonic()
        if self._last_t is not None:
            self.energy_j += mean_p * (now - self._last_t)     # the mean power of each frame over the time between
        self._last_t = now
        self.readouts["v"].setText(pg.siFormat(float(np.mean(volts)), precision=5, suffix="V"))
        self.readouts["i"].setText(pg.siFormat(float(np.mean(amps)), precision=4, suffix="A"))
        self.readouts["p"].setText(pg.siFormat(mean_p, precision=4, suffix="W"))
        self.readouts["e"].setText(pg.siFormat(self.energy_j, precision=4, suffix="J"))
        self.frames += 1
