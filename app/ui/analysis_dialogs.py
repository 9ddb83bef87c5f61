"""Two looks at saved traces beside the review: the distribution of P between the markers, and runs overlaid
aligned at `begin`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from app.errors import JoulebenchError
from app.measure.energy import PowerTrace, TraceSummary, power_histogram
from app.session.reader import SessionReader
from app.ui.run_names import entry_name, run_entry
from app.ui.trace_markers import si

COMPARE_MAX_BINS = 4000
PALETTE = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207),
           (140, 86, 75), (227, 119, 194)]


class HistogramDialog(QDialog):
    """P's histogram (samples per bin) and its cumulative distribution between the markers."""

    def __init__(self, trace: PowerTrace, summary: TraceSummary, t0_s: float, t1_s: float, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Power between the markers")
        self.hist = power_histogram(trace, summary, t0_s, t1_s)
        lay = QVBoxLayout(self)
        h = self.hist
        note = (f"{h.samples:,} samples from {si(t0_s, 's')} to {si(t1_s, 's')}" if h.samples == h.of_samples else
                f"{h.samples:,} of the {h.of_samples:,} samples (evenly spread blocks) from {si(t0_s, 's')} to "
                f"{si(t1_s, 's')}")
        self.note = QLabel(note)
        lay.addWidget(self.note)
        plots = pg.GraphicsLayoutWidget()
        plots.setBackground("w")
        hp = plots.addPlot(row=0, col=0)
        hp.setLabel("left", "samples")
        hp.plot(h.edges_w, h.counts, stepMode="center", fillLevel=0, brush=(44, 160, 44, 120),
                pen=pg.mkPen((44, 160, 44)))
        cp = plots.addPlot(row=1, col=0)
        cp.setXLink(hp)
        cp.setLabel("left", "fraction ≤ P")
        cp.setLabel("bottom", "Power", units="W")
        cp.plot(h.edges_w[1:], h.cdf(), pen=pg.mkPen((20, 20, 20), width=2))
        cp.setYRange(0, 1, padding=0.02)
        lay.addWidget(plots)
        self.resize(700, 520)


class CompareDialog(QDialog):
    """P of several runs (of this session and others) on one axis, t − begin: each run's region start is 0."""

    def __init__(self, reader: SessionReader, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Compare runs, aligned at begin")
        self.readers: list[SessionReader] = []          # extra sessions opened here (closed with the dialog)
        self.curves: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        lay = QHBoxLayout(self)
        side = QVBoxLayout()
        self.runs = QListWidget()
        side.addWidget(QLabel("Runs (tick to overlay)"))
        side.addWidget(self.runs, 1)
        add = QPushButton("Add a session…")
        side.addWidget(add)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        side.addWidget(self.problem)
        lay.addLayout(side)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("left", "Power (mean per bin)", units="W")
        self.plot.setLabel("bottom", "Time from begin", units="s")
        self.plot.addLegend()
        self.plot.setMouseEnabled(x=True, y=False)
        lay.addWidget(self.plot, 1)
        self._add_reader(reader, own=False)
        self.runs.itemChanged.connect(lambda *_: self.redraw())
        add.clicked.connect(self._ask_session)
        self.resize(1000, 520)
        self.redraw()

    def _add_reader(self, reader: SessionReader, own: bool) -> None:
        if own:
            self.readers.append(reader)
        for n in reader.run_numbers():
            run = reader.run(n)
            if not run.window_numbers():
                continue
            label = run.attrs.get("label")            # a campaign's entry names the curve, not the file alone
            entry = entry_name(label, run.attrs.get("workload"), with_params=False) if label else ""
            item = QListWidgetItem(f"{entry} · run {n} · {Path(reader.path).name}" if entry
                                   else f"{Path(reader.path).name} · run {n}")
            item.setToolTip(f"{reader.path}, run {n}" + (f": {run_entry(run.attrs)}" if entry else ""))
            item.setData(Qt.UserRole, (reader, n))
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked)
            self.runs.addItem(item)

    def add_session(self, path: str | Path) -> bool:
        try:
            self._add_reader(SessionReader(path), own=True)
        except JoulebenchError as exc:
            self.problem.setText(str(exc))
            return False
        self.problem.setText("")
        self.redraw()
        return True

    def _ask_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a session", "", "Sessions (*.h5)")
        if path:
            self.add_session(path)

    def redraw(self) -> None:
        from app.session.reader import run_window
        self.plot.clear()
        self.curves = {}
        k = 0
        for row in range(self.runs.count()):
            item = self.runs.item(row)
            if item.checkState() != Qt.Checked:
                continue
            reader, n = item.data(Qt.UserRole)
            run = reader.run(n)
            number = run_window(run)
            if number is None:
                continue
            try:
                x, y = run_power_from_begin(run, number)
            except JoulebenchError:
                continue
            self.curves[(str(reader.path), n)] = (x, y)
            self.plot.plot(x, y, pen=pg.mkPen(PALETTE[k % len(PALETTE)], width=1.5), name=item.text())
            k += 1

    def done(self, result: int) -> None:
        for r in self.readers:
            r.close()
        self.readers = []
        super().done(result)


def run_power_from_begin(run, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(t − begin, P's mean per bin) of a run's triggered window, from the coarsest overview level that still
    has COMPARE_MAX_BINS bins or fewer; begin is the run's region start on that window (the trigger if the
    session has none)."""
    win = run.window(window)
    rows_per = win.overview_row_samples
    trace = win.trace()
    k = next((i for i, r in enumerate(rows_per) if -(-trace.n // r) <= COMPARE_MAX_BINS), len(rows_per) - 1)
    level = win.overview_level(k)
    rows = rows_per[k]
    counts = np.full(len(level["p_sum"]), float(rows))
    counts[-1] = trace.n - (len(counts) - 1) * rows
    centres = trace.x0 + (np.arange(len(counts)) + 0.5) * rows * trace.dx
    region = (run.details or {}).get("region_s") or [0.0]
    return centres - float(region[0]), level["p_sum"] / counts
