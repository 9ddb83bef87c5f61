"""Bench setup: every key of the bench file as a field with its unit, validated by app/bench.py.

A validation error is shown beside the field it names. Find instruments, Test
connection and Auto-range run on worker threads.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from app.bench import SCHEMA, BenchConfig, bench_to_dict, is_no_scope, parse_bench, save_bench
from app.errors import BenchError

TITLES = {"scope": "Oscilloscope", "voltage": "Voltage channel (board supply)",
          "current": "Current channel (shunt or current probe)", "acquisition": "Acquisition", "target": "Target board",
          "uncertainty": "Uncertainty (tolerances: bounds, divided by √3)",
          "marker": "Marker GPIO (optional: exact [begin, end])"}
OPTIONAL_SECTIONS = ("marker",)
SCOPE_SECTIONS = ("voltage", "current", "acquisition")     # optional when scope.resource = "none"
UNITS = {"timeout_s": "s", "probe_ratio": "×", "volts_per_div": "V/div", "offset_v": "V at centre", "shunt_ohm": "Ω",
         "amps_per_volt": "A/V", "deskew_s": "s", "window_s": "s", "sample_rate_hz": "Sa/s", "pretrigger": "fraction",
         "trigger_level_a": "A", "trigger_timeout_s": "s", "settle_s": "s", "zero_offset_v": "V",
         "voltage_offset_error_v": "V", "current_offset_error_v": "V", "threshold_v": "V"}
CHOICES = {"driver": ("auto", "keysight-infiniivision", "rigol-ds1000z", "rigol-mso5000", "tektronix-mso",
                      "siglent-sds", "rs-rtb"), "coupling": ("DC", "AC"), "measured_at": ("board", "supply"),
           "kind": ("local", "ssh"), "telemetry": ("auto", "off", "ina3221", "tegrastats", "nvml"),
           "idle": ("auto", "pretrigger", "window")}


class BenchPanel(QWidget):
    bench_changed = Signal(object)              # BenchConfig
    find_requested = Signal()
    test_requested = Signal()
    autorange_requested = Signal()
    zero_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.source_path = ""
        outer = QVBoxLayout(self)
        buttons = QHBoxLayout()
        self.load_button = QPushButton("Load bench…")
        self.save_button = QPushButton("Save bench…")
        self.apply_button = QPushButton("Apply")
        self.find_button = QPushButton("Find instruments")
        self.test_button = QPushButton("Test connection")
        self.range_button = QPushButton("Auto-range")
        self.zero_button = QPushButton("Zero current")
        self.zero_button.setToolTip("With no current flowing (board unpowered or probe shorted): measure the "
                                    "current channel's offset and fill in zero_offset_v")
        for b in (self.load_button, self.save_button, self.apply_button, self.find_button, self.test_button,
                  self.range_button, self.zero_button):
            buttons.addWidget(b)
        buttons.addStretch()
        outer.addLayout(buttons)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer.addWidget(self.info)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        inner = QWidget()
        grid = QVBoxLayout(inner)
        for section, keys in SCHEMA.items():
            box = QGroupBox(TITLES[section])
            form = QFormLayout(box)
            for key, spec in keys.items():
                name = f"{section}.{key}"
                if spec.kind == "bool":
                    w = QCheckBox()
                elif key in CHOICES:
                    w = QComboBox()
                    w.addItems(CHOICES[key])
                else:
                    w = QLineEdit()
                    w.setPlaceholderText(spec.allowed[:60])
                w.setToolTip(spec.allowed)
                w.setObjectName(name)
                err = QLabel("")
                err.setStyleSheet("color: #b00020;")
                err.setWordWrap(True)
                err.hide()
                cell = QWidget()
                lay = QVBoxLayout(cell)
                lay.setContentsMargins(0, 0, 0, 0)
                lay.addWidget(w)
                lay.addWidget(err)
                label = key.replace("_", " ") + (f" ({UNITS[key]})" if key in UNITS else "")
                form.addRow(label, cell)
                self.fields[name] = w
                self.errors[name] = err
            grid.addWidget(box)
        scroll.setWidget(inner)
        outer.addWidget(scroll)
        self.load_button.clicked.connect(self._load)
        self.save_button.clicked.connect(self._save)
        self.apply_button.clicked.connect(self.apply)
        self.find_button.clicked.connect(self.find_requested)
        self.test_button.clicked.connect(self.test_requested)
        self.range_button.clicked.connect(self.autorange_requested)
        self.zero_button.clicked.connect(self.zero_requested)

    # -- values ------------------------------------------------------------------
    def set_bench(self, bench: BenchConfig) -> None:
        self.source_path = bench.source_path
        data = bench_to_dict(bench)
        for name, w in self.fields.items():
            section, key = name.split(".")
            value = data.get(section, {}).get(key)
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(value) if value is not None else w.itemText(0))
            else:
                if value is None:
                    w.setText("")
                elif isinstance(value, tuple):
                    w.setText("; ".join(value))
                else:
                    w.setText(repr(value) if isinstance(value, float) else str(value))
        self._clear_errors()

    def raw(self) -> dict[str, dict]:
        out: dict[str, dict] = {s: {} for s in SCHEMA}
        for name, w in self.fields.items():
            section, key = name.split(".")
            spec = SCHEMA[section][key]
            if isinstance(w, QCheckBox):
                out[section][key] = w.isChecked()
                continue
            text = w.currentText() if isinstance(w, QComboBox) else w.text().strip()
            if text == "":
                continue
            if spec.kind == "strlist":
                out[section][key] = [p.strip() for p in text.split(";") if p.strip()]
            elif spec.kind in ("float", "int", "channel"):
                out[section][key] = _number(text)
            else:
                out[section][key] = text
        for section in OPTIONAL_SECTIONS:
            if not out[section]:
                del out[section]
        if is_no_scope(str(out["scope"].get("resource", ""))):
            for section in SCOPE_SECTIONS:        # no scope: channel sections left blank are not needed
                if not any(not isinstance(v, bool) for v in out[section].values()):
                    del out[section]
        return out

    def bench(self) -> BenchConfig:
        """The bench as the fields say, validated; errors are shown beside their field and raised."""
        self._clear_errors()
        try:
            return parse_bench(self.raw(), self.source_path or "bench (edited)")
        except BenchError as exc:
            self.show_error(str(exc))
            raise

    def apply(self) -> BenchConfig | None:
        try:
            bench = self.bench()
        except BenchError:
            return None
        self.bench_changed.emit(bench)
        return bench

    def show_error(self, message: str) -> None:
        m = re.search(r"\[([a-z_]+\.[a-z_]+)\]", message)
        key = m.group(1) if m else None
        if key in self.errors:
            self.errors[key].setText(message.split("] ", 1)[-1])
            self.errors[key].show()
            self.fields[key].setFocus()
        self.info.setText(f"<span style='color:#b00020'>{message}</span>")

    def _clear_errors(self) -> None:
        for e in self.errors.values():
            e.hide()
            e.setText("")
        self.info.setText("")

    # -- files -----------------------------------------------------------------------
    def _load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load bench file", "", "Bench files (*.toml)")
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> BenchConfig | None:
        from app.bench import load_bench
        try:
            bench = load_bench(path)
        except BenchError as exc:
            self.show_error(str(exc))
            return None
        self.set_bench(bench)
        self.bench_changed.emit(bench)
        return bench

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save bench file", self.source_path or "bench.toml",
                                              "Bench files (*.toml)")
        if path:
            self.save_file(path)

    def save_file(self, path: str) -> bool:
        try:
            bench = self.bench()
            save_bench(bench, path)
        except BenchError:
            return False
        except OSError as exc:
            self.info.setText(f"<span style='color:#b00020'>cannot save {path}: {exc}</span>")
            return False
        self.source_path = str(Path(path))
        self.info.setText(f"saved {path}")
        return True


def _number(text: str):
    try:
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        return text             # let the validator name the field and what is allowed
