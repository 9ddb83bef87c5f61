"""The session folder, and the review of one saved window: V/I/P, two markers, notes, exports.

The review's actions have their own controllers: exports (app/ui/controllers/export.py, the formats of
app/report/formats.py) and notes at the markers (app/ui/controllers/notes.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.errors import JoulebenchError
from app.report.formats import browser_formats
from app.report.numbers import format_value, with_uncertainty
from app.session.reader import RunView, SessionReader, run_window
from app.ui.controllers.export import ExportController
from app.ui.controllers.notes import NoteController
from app.ui.run_names import entry_name, run_entry
from app.ui.trace_markers import format_stats, readout_text, si
from app.ui.trace_plot import TracePlot

COLUMNS = ("Created (UTC)", "Label", "Workload", "Runs", "Energy (J)", "Status", "File")


def session_rows(path: Path) -> list[tuple]:
    """The Sessions table's rows of one file: one row, or for a campaign (runs with several labels) one row per
    entry, each with its own runs and mean energy."""
    try:
        with SessionReader(path) as s:
            runs = s.runs()
            groups: dict[str, list] = {}
            for r in runs:
                groups.setdefault(str(r.attrs.get("label") or ""), []).append(r)
            if len(groups) <= 1:
                groups = {"": runs}
            rows = []
            for label, members in groups.items():
                energies = [r.record["energy_j"] for r in members
                            if r.record and r.record.get("energy_j") is not None and r.attrs.get("scored", True)]
                energy = format_value(sum(energies) / len(energies)) if energies else ""
                workload = (entry_name(label, members[0].attrs.get("workload"), with_params=False) if label
                            else s.workload_name)
                rows.append((s.attrs.get("created", ""), s.attrs.get("label", ""), workload, len(members), energy,
                             s.status, path.name))
            return rows
    except JoulebenchError as exc:
        return [("", "", "", "", "", f"unreadable: {exc}", path.name)]


def session_row(path: Path) -> tuple:
    """The first of a file's rows (one per campaign entry)."""
    return session_rows(path)[0]


MAX_LOG_MARKS = 40


def result_text(record: dict) -> str:
    """E ± U (rounded to its uncertainty), the method, T and J/GOp of a run record."""
    text = f"E = {with_uncertainty(record.get('energy_j'), record.get('uncertainty_j'), 'J')} ({record.get('energy_method')})"
    if record.get("duration_s"):
        text += f", T = {si(record['duration_s'], 's')}"
    if record.get("j_per_gop") is not None:
        text += f", {format_value(record['j_per_gop'])} J/GOp"
    if record.get("measurand"):
        text += f"; NO SCOPE: {record['measurand']}"
    return text


def log_marks(raw) -> list[tuple[float, str]]:
    """The workload's output lines worth marking on the trace, at their board times: a line that repeats
    with only its numbers changed is marked once (its first), at most MAX_LOG_MARKS in all."""
    try:
        lines = json.loads(raw) if isinstance(raw, str) else (raw or [])
    except ValueError:
        return []
    marks, shapes = [], set()
    for item in lines:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], (int, float))):
            continue
        text = ("! " if item[1] == "stderr" else "") + str(item[2])
        shape = re.sub(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", "#", text)
        if shape in shapes or not text.strip():
            continue
        shapes.add(shape)
        marks.append((float(item[0]), text[:60]))
        if len(marks) >= MAX_LOG_MARKS:
            break
    return marks


def window_context(run: RunView, window: int) -> dict:
    """What the session records about the measurement, for drawing on this window: the region [begin, end]
    and the idle span (on the triggered window's axis; the idle span on a dedicated idle window's own),
    and the workload's phase events through the board ↔ scope placement."""
    details = run.details
    role = str(run.window(window).attrs.get("role", "run"))
    ctx: dict = {}
    region = details.get("region_s")
    timing = details.get("timing") or {}
    if role == "run":
        ctx["region_s"] = region
        if run.record and run.record.get("idle_source") == "pretrigger":
            ctx["idle_span_s"] = details.get("idle_span_s")
    elif role.startswith("idle"):
        ctx["idle_span_s"] = details.get("idle_span_s")
    spans = details.get("window_spans_s") or []
    record = run.record or {}
    duration = record.get("duration_s")
    if duration and spans and (len(spans) > 1 or record.get("energy_method") == "extrapolated"):
        scope_windows = [k for k in run.window_numbers()
                         if str(run.window(k).attrs.get("role", "run")) in ("run", "sampled")]
        ctx["run_timeline"] = {"duration_s": float(duration), "spans": spans,
                               "current": scope_windows.index(window) if window in scope_windows else None}
    if role == "run" and region and timing.get("begin_s") is not None:
        ctx["board_at_zero_s"] = float(timing["begin_s"]) - float(region[0])
        if timing.get("launch_s") is not None and timing["launch_s"] < timing["begin_s"]:
            ctx["startup_s"] = [float(timing["launch_s"]) - ctx["board_at_zero_s"], float(region[0])]
        events = run.attrs.get("events")
        try:
            events = json.loads(events) if isinstance(events, str) else (events or [])
        except ValueError:
            events = []
        ctx["phases"] = [(float(e["t"]), str(e.get("name", "phase"))) for e in events
                         if isinstance(e, dict) and e.get("event") == "phase" and isinstance(e.get("t"), (int, float))]
        ctx["logs"] = log_marks(run.attrs.get("log_lines"))
    return ctx


class SessionBrowser(QWidget):
    error = Signal(str)
    info = Signal(str)             # what was done (an export written), for the window's message bar

    def __init__(self, folder: str | Path = "sessions", parent=None):
        super().__init__(parent)
        self.folder = Path(folder)
        self.paths: list[Path] = []
        self.reader: SessionReader | None = None
        self.current: Path | None = None
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.folder_label = QLabel()
        self.refresh_button = QPushButton("Refresh")
        self.folder_button = QPushButton("Folder…")
        self.open_button = QPushButton("Open selected")
        self.folder_label.setMinimumWidth(40)          # a long path is cut here, not the panel widened
        top.addWidget(self.folder_label, 1)
        for b in (self.refresh_button, self.folder_button, self.open_button):
            top.addWidget(b)
        lay.addLayout(top)
        split = QSplitter(Qt.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        split.addWidget(self.table)
        review = QWidget()
        rl = QVBoxLayout(review)
        sel = QHBoxLayout()
        self.run_box = QComboBox()
        self.window_box = QComboBox()
        self.run_box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.run_box.setMinimumContentsLength(14)          # an entry's long name does not widen the window
        sel.addWidget(QLabel("Run"))
        sel.addWidget(self.run_box)
        sel.addWidget(QLabel("Window"))
        sel.addWidget(self.window_box)
        # the review's actions in a tool bar: icons with their words, a tooltip each, and those that do not fit
        # in an overflow menu (») rather than labels cut short
        self.toolbar = QToolBar("Review")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.toolbar.setIconSize(QSize(16, 16))
        style = self.style()

        def tool(text: str, icon, tip: str):
            act = self.toolbar.addAction(style.standardIcon(icon), text)
            act.setIconText(text)                    # Qt would drop the "…" that says a dialog follows
            act.setToolTip(tip)
            return self.toolbar.widgetForAction(act)
        self.fit_button = tool("Fit all", QStyle.SP_TitleBarMaxButton,
                               "Show the whole window (Home); the wheel zooms time, drag pans")
        self.note_button = tool("Add note at markers…", QStyle.SP_FileDialogInfoView,
                                "Save a note over the markers' span into the session (the data stay untouched)")
        self.histogram_button = tool("P histogram…", QStyle.SP_FileDialogListView,
                                     "The distribution of power between the markers")
        self.compare_button = tool("Compare runs…", QStyle.SP_FileDialogContentsView,
                                   "Every run of this session, overlaid or side by side")
        self.toolbar.addSeparator()
        # one button per export format the browser offers (app/report/formats.py), in the table's order
        self.export_buttons = {fmt.name: tool(fmt.label, QStyle.SP_DialogSaveButton,
                                              f"{fmt.label.rstrip('…')} ({fmt.suffix.upper()} file)")
                               for fmt in browser_formats()}
        sel.addWidget(self.toolbar, 1)
        rl.addLayout(sel)
        self.result_label = QLabel("")             # the run on show and its result
        self.result_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.result_label.setWordWrap(True)
        rl.addWidget(self.result_label)
        self.plot = TracePlot()
        rl.addWidget(self.plot, 1)
        self.readout = QLabel(format_stats(None))
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.readout.setStyleSheet("font-family: monospace;")
        self.readout.setWordWrap(True)            # a long readout wraps; it never widens the window
        rl.addWidget(self.readout)
        self.review = review             # the main window shows it in the middle; here when used alone
        split.addWidget(review)
        split.setSizes([150, 600])
        lay.addWidget(split)
        self.refresh_button.clicked.connect(self.refresh)
        self.folder_button.clicked.connect(self._choose_folder)
        self.open_button.clicked.connect(self.open_selected)
        self.table.doubleClicked.connect(lambda *_: self.open_selected())
        self.run_box.currentIndexChanged.connect(self._run_chosen)
        self.window_box.currentIndexChanged.connect(self._window_chosen)
        self.plot.markers_moved.connect(
            lambda st: self.readout.setText(readout_text(st, self.plot.last_channels if st is not None else None)))
        self.exports = ExportController(self)
        self.notes = NoteController(self)
        for name, button in self.export_buttons.items():
            button.clicked.connect(lambda *_, name=name: self.exports.ask_export(name))
        self.note_button.clicked.connect(self.notes.ask_note)
        self.fit_button.clicked.connect(self.plot.fit_all)
        self.histogram_button.clicked.connect(self.show_histogram)
        self.compare_button.clicked.connect(self.show_compare)
        self._memory_run: int | None = None        # the run shown from a capture's memory, until its file opens
        self.refresh()

    def set_folder(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.refresh()

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Session folder", str(self.folder))
        if path:
            self.set_folder(path)

    def refresh(self) -> None:
        self.folder_label.setText(f"Sessions in {self.folder.resolve()}")
        files = sorted(self.folder.glob("*.h5"), reverse=True) if self.folder.is_dir() else []
        rows = [(p, row) for p in files for row in session_rows(p)]     # a campaign: a row per entry
        self.paths = [p for p, _ in rows]
        self.table.setRowCount(len(rows))
        for r, (_, row) in enumerate(rows):
            for c, v in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(str(v)))
        self.table.resizeColumnsToContents()

    def follow(self, path) -> None:
        """Refresh and select a (new) session's row, so the list follows the capture just made."""
        self.refresh()
        for r, p in enumerate(self.paths):
            if Path(p) == Path(path):
                self.table.selectRow(r)
                self.table.scrollToItem(self.table.item(r, 0))
                return

    def open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_path(self.paths[rows[0].row()])
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Open session", str(self.folder), "Sessions (*.h5)")
            if path:
                self.open_path(Path(path))

    def open_path(self, path: Path, draw: bool = True) -> bool:
        if self.plot.window is not None and not getattr(self.plot.window, "in_memory", False):
            self.plot.forget_window()               # it reads from the file about to be closed
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        try:
            self.reader = SessionReader(path)
        except JoulebenchError as exc:
            self.error.emit(str(exc))
            return False
        self.current = Path(path)
        self.run_box.blockSignals(True)
        self.run_box.clear()
        for n in self.reader.run_numbers():
            if n in self.reader.damaged_runs:          # named, so the operator sees it was left out and why
                self.run_box.addItem(f"{n} · damaged", n)
                continue
            entry = run_entry(self.reader.run(n).attrs) if self.reader.group_attrs("campaign") else ""
            self.run_box.addItem(f"{n} · {entry}" if entry else str(n), n)
        self.run_box.blockSignals(False)
        damage = self.reader.damage()
        if damage:
            self.error.emit(f"{Path(path).name}: damaged metadata, left out of the results: " + "; ".join(damage))
        if draw:
            self._run_chosen()
        return True

    def _run_chosen(self, *args, draw: bool = True) -> None:
        if self.reader is None or self.run_box.count() == 0:
            return
        run = self.reader.run(self.run_box.currentData())
        self.window_box.blockSignals(True)
        self.window_box.clear()
        for k in run.window_numbers():
            self.window_box.addItem(str(k), k)
        self.window_box.blockSignals(False)
        if draw:
            self._window_chosen()

    def _window_chosen(self, *args) -> None:
        if self.reader is None or self.window_box.count() == 0:
            return
        try:
            run = self.reader.run(self.run_box.currentData())
            number = self.window_box.currentData()
            win = run.window(number)
            self.plot.show_window(win, window_context(run, number))
            self._show_result(run)
            self.notes.show(run, number)
        except JoulebenchError as exc:
            self.error.emit(str(exc))

    def show_run(self, path: Path, run: int, window: int | None = None, defer_draw: bool = False) -> bool:
        """Open a session at one run (and window; else the run's triggered window), drawing it once."""
        if self.current is None or Path(path) != self.current or self.reader is None:
            if not self.open_path(Path(path), draw=False):
                return False
        idx = self.run_box.findData(run)
        if idx < 0:
            self.error.emit(f"{path}: it has no run {run}")
            return False
        self.run_box.blockSignals(True)
        self.run_box.setCurrentIndex(idx)
        self.run_box.blockSignals(False)
        self._run_chosen(draw=False)
        if window is None:
            window = run_window(self.reader.run(run))
        widx = self.window_box.findData(window)
        self.window_box.blockSignals(True)
        self.window_box.setCurrentIndex(max(widx, 0))
        self.window_box.blockSignals(False)
        shown = self.plot.window
        if self._memory_run == run and shown is not None and getattr(shown, "run", None) == run:
            # the capture's own copy of this run is on screen already: keep it, now backed by the file
            self._memory_run = None
            self._show_result(self.reader.run(run))
            return True
        if defer_draw:                   # opened on this turn of the event loop, drawn on a later one
            QTimer.singleShot(10, self._window_chosen)
        else:
            self._window_chosen()
        return True

    def show_memory(self, run) -> None:
        """A run just analysed, from memory, while its capture goes on (app/ui/memory_run.py); the file opens
        here when the capture ends."""
        self.close_reader()
        self.current = None
        for box in (self.run_box, self.window_box):
            box.blockSignals(True)
            box.clear()
            box.blockSignals(False)
        self.run_box.addItem(f"{run.number} (capturing)", run.number)
        self._memory_run = run.number
        self.plot.show_window(run.window(1), window_context(run, 1))
        self.notes.clear()
        r = run.record
        self.result_label.setText(f"run {run.number}: {result_text(r)}; saved when the capture ends")

    def _show_result(self, run: RunView) -> None:
        entry = run_entry(run.attrs) if run.attrs.get("label") else ""
        self.result_label.setText(f"{self.current.name} · run {run.number}{' · ' + entry if entry else ''}: "
                                  + (result_text(run.record) if run.record else f"no result ({run.status})"))

    # -- distribution and comparison ----------------------------------------------------
    def show_histogram(self) -> None:
        from app.ui.analysis_dialogs import HistogramDialog
        if self.plot.trace is None:
            self.error.emit("open a session first (Ctrl+O)")
            return
        t0, t1 = self.plot.marker_times()
        try:
            self.histogram_dialog = HistogramDialog(self.plot.trace, self.plot.summary, t0, t1, self)
        except JoulebenchError as exc:
            self.error.emit(str(exc))
            return
        self.histogram_dialog.show()

    def show_compare(self) -> None:
        from app.ui.analysis_dialogs import CompareDialog
        if self.reader is None:
            self.error.emit("open a session first (Ctrl+O)")
            return
        self.compare_dialog = CompareDialog(self.reader, self)
        self.compare_dialog.show()

    # -- what is on show, for the review's controllers ----------------------------------
    def shown(self) -> tuple[int | None, int | None]:
        """The run and window on show (None before a session is open)."""
        return self.run_box.currentData(), self.window_box.currentData()

    @property
    def annotation_items(self) -> list:
        """The notes drawn on the window on show."""
        return self.notes.items

    def add_note(self, text: str) -> bool:
        """Save the markers' span with a note into the session (append-only) and show it again."""
        return self.notes.add_note(text)

    def export(self, what: str, path: str) -> bool:
        """Export the session on show in the format named `what` (app/report/formats.py) to path."""
        return self.exports.export(what, path)

    def close_reader(self) -> None:
        self.plot.forget_window()
        if self.reader is not None:
            self.reader.close()
            self.reader = None
