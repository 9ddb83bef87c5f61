"""Capture: workload, repeats, windows, label; a prominent Capture button, progress, live output, Cancel."""

from __future__ import annotations

import json
import re
import time

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import JoulebenchError
from workloads.protocol import PREFIX
from workloads.spec import builtin_workloads, load_workload

OTHER = "Other workload file…"
MAX_LOG_LINES = 5000


class CapturePanel(QWidget):
    capture_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.workloads = {w.name: w for w in builtin_workloads()}
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.workload_box = QComboBox()
        self.workload_box.addItems(list(self.workloads) + [OTHER])
        self.description = QLabel("")
        self.description.setWordWrap(True)
        self.params = QLineEdit()
        self.params.setPlaceholderText("NAME=VALUE … (workload parameters)")
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 1000)
        self.windows = QSpinBox()
        self.windows.setRange(0, 100)
        self.windows.setValue(3)
        self.label = QLineEdit()
        form.addRow("Workload", self.workload_box)
        form.addRow("", self.description)
        form.addRow("Parameters", self.params)
        form.addRow("Repeats", self.repeats)
        form.addRow("Sampled windows (long runs)", self.windows)
        form.addRow("Label", self.label)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.capture_button = QPushButton("Capture  (Ctrl+R)")
        f = QFont()
        f.setPointSize(14)
        f.setBold(True)
        self.capture_button.setFont(f)
        self.capture_button.setMinimumHeight(48)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        row.addWidget(self.capture_button, 3)
        row.addWidget(self.cancel_button, 1)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.stage = QLabel("ready")
        lay.addWidget(self.progress)
        lay.addWidget(self.stage)
        out_row = QHBoxLayout()
        self.events = QLabel("")                 # the workload's protocol events, as progress in words
        self.events.setWordWrap(True)
        self.raw_toggle = QCheckBox("raw")
        self.raw_toggle.setToolTip("Show every line as the workload printed it, its @joulebench protocol events "
                                   "included")
        out_row.addWidget(QLabel("Output"))
        out_row.addWidget(self.events, 1)
        out_row.addWidget(self.raw_toggle)
        lay.addLayout(out_row)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(MAX_LOG_LINES)
        self.log.setPlaceholderText("the workload's output appears here")
        self.log.setMaximumBlockCount(MAX_LOG_LINES)
        self._last_shape, self._repeats = None, 0
        self._lines: list[tuple[str, str]] = []  # every line as printed (the raw view redraws from it)
        lay.addWidget(self.log)
        self.raw_toggle.toggled.connect(self._redraw_log)
        self.workload_box.currentTextChanged.connect(self._chosen)
        self.capture_button.clicked.connect(self.capture_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self._started = 0.0
        self._other = None
        self._chosen(self.workload_box.currentText())

    def _chosen(self, name: str) -> None:
        if name == OTHER:
            path, _ = QFileDialog.getOpenFileName(self, "Workload file", "", "Workload files (*.toml)")
            if not path:
                self.workload_box.setCurrentIndex(0)
                return
            try:
                self._other = load_workload(path)
            except JoulebenchError as exc:
                self.description.setText(f"<span style='color:#b00020'>{exc}</span>")
                return
            self.description.setText(f"{self._other.name}: {self._other.description}")
            return
        w = self.workloads.get(name)
        if w is not None:
            params = ", ".join(f"{k}={v}" for k, v in w.params.items())
            self.description.setText(f"{w.description}" + (f"  [parameters: {params}]" if params else ""))

    def workload(self):
        name = self.workload_box.currentText()
        return self._other if name == OTHER else self.workloads[name]

    def param_values(self) -> dict[str, str | int | float]:
        """The parameters typed, each as the workload declares it: a parameter whose default is a number is
        stored as a number (trials=300 -> 300, not "300"); others as the text typed."""
        try:
            defaults = self.workload().params
        except (KeyError, AttributeError):
            defaults = {}
        out: dict[str, str | int | float] = {}
        for pair in self.params.text().split():
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise JoulebenchError(f"parameter {pair!r}: write it as NAME=VALUE")
            out[key] = typed_param(key, value, defaults.get(key))
        return out

    # -- state while capturing ------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.capture_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self._started = time.monotonic()
            self.progress.setValue(0)
            self.log.clear()
            self._lines.clear()
            self._last_shape, self._repeats = None, 0
            self.events.setText("")

    def show_progress(self, p) -> None:
        """The capture's stage; one time estimate: the core's own when its message has one, else ours."""
        self.progress.setValue(int(p.fraction * 1000))
        elapsed = time.monotonic() - self._started
        left = ""
        if 0.05 < p.fraction < 1.0 and elapsed > 2 and not ETA.search(p.message):
            left = f" — about {elapsed * (1 - p.fraction) / p.fraction:.0f} s left"
        self.stage.setText(f"{p.message}{left}")

    def add_line(self, stream: str, line: str) -> None:
        """A line of the workload's output: its own lines shown (those repeating with only their numbers
        changed collapse into one with a count), its @joulebench protocol events said as progress above the
        pane, and shown as printed only with "raw" ticked. The pane keeps the last MAX_LOG_LINES lines."""
        self._lines.append((stream, line))
        if len(self._lines) > MAX_LOG_LINES:
            del self._lines[: len(self._lines) - MAX_LOG_LINES]
        event = protocol_event(stream, line)
        if event is not None:
            self.events.setText(event_text(event, self.events.text()))
            if not self.raw_toggle.isChecked():
                return
        self._append(stream, line)

    def _append(self, stream: str, line: str) -> None:
        text = ("! " if stream == "stderr" else "") + line
        shape = re.sub(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", "#", text)
        if shape == self._last_shape and self.log.blockCount() > 0:
            self._repeats += 1
            cursor = self.log.textCursor()
            cursor.movePosition(QTextCursor.End)
            cursor.select(QTextCursor.BlockUnderCursor)
            cursor.removeSelectedText()
            self.log.appendPlainText(f"{text}   (×{self._repeats})")
            return
        self._last_shape, self._repeats = shape, 1
        self.log.appendPlainText(text)

    def _redraw_log(self) -> None:
        self.log.clear()
        self._last_shape, self._repeats = None, 0
        for stream, line in self._lines:
            if self.raw_toggle.isChecked() or protocol_event(stream, line) is None:
                self._append(stream, line)


def typed_param(key: str, text: str, default) -> str | int | float:
    """text as the type of the workload's declared default: a whole number for an integer default (a decimal
    number is kept as one), a number for a float default; text when the default is text or undeclared."""
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return text
    try:
        return int(text) if isinstance(default, int) and re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        raise JoulebenchError(f"parameter {key}: {text!r} is not a number (the workload declares "
                              f"{key} = {default!r})") from None


ETA = re.compile(r"\b(left|remaining|ETA)\b")


def protocol_event(stream: str, line: str) -> dict | None:
    """A @joulebench event line of the workload's stdout (workloads/protocol.py), parsed; None otherwise."""
    if stream != "stdout" or not line.startswith(PREFIX):
        return None
    try:
        obj = json.loads(line[len(PREFIX):])
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and "event" in obj else None


def event_text(event: dict, shown: str) -> str:
    """An event in words for the line above the output: begin, a phase, the workload's own progress, end."""
    name = str(event.get("event"))
    if name == "progress" and isinstance(event.get("fraction"), (int, float)):
        phase = shown.split(" · ")[0] if shown.startswith("phase ") else ""
        done = f"workload {min(100.0, max(0.0, float(event['fraction']) * 100)):.0f} % done"
        return f"{phase} · {done}" if phase else done
    if name == "phase":
        return f"phase {event.get('name', '?')}"
    if name == "begin":
        return "measured region begun"
    if name == "end":
        return "measured region ended"
    return f"event {name}"
