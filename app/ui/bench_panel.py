"""Bench setup: every key of the bench file as a field labelled in words with its unit, validated by
app/bench/config.py.

Every problem is shown beside the field it names, all at once. Quantities are shown with SI prefixes and
no float noise (2.5 mV/div, 10 mΩ, 50 kSa/s) and typed the same way (or as plain numbers). The mouse wheel
changes a choice only when that field has the keyboard focus, so scrolling the panel never changes the
bench. A small wiring diagram is drawn from the bench. Find instruments, Test connection and Auto-range run
on worker threads.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.bench.config import (
    DRIVERS,
    SCHEMA,
    BenchConfig,
    bench_problems,
    bench_to_dict,
    is_no_scope,
    parse_bench,
    save_bench,
)
from app.errors import BenchError
from app.ui.units import format_si, parse_si

TITLES = {"scope": "Oscilloscope", "voltage": "Voltage channel (board supply)",
          "current": "Current channel (shunt or current probe)", "acquisition": "Acquisition", "target": "Target board",
          "uncertainty": "Uncertainty (tolerances: bounds, divided by √3)",
          "marker": "Marker GPIO (optional: exact [begin, end])"}
OPTIONAL_SECTIONS = ("marker",)
SCOPE_SECTIONS = ("voltage", "current", "acquisition")     # optional when scope.resource = "none"
LABELS = {
    "scope.resource": "VISA resource", "scope.driver": "Driver", "scope.timeout_s": "Reply timeout",
    "scope.visa_library": "VISA library",
    "channel": "Scope channel", "probe_ratio": "Probe attenuation", "volts_per_div": "Vertical scale",
    "offset_v": "Offset (centre of screen)", "coupling": "Coupling", "bandwidth_limit": "20 MHz bandwidth limit",
    "voltage.measured_at": "Measured at", "current.shunt_ohm": "Shunt resistance",
    "current.amps_per_volt": "Current probe sensitivity", "current.deskew_s": "Deskew (current after voltage)",
    "current.zero_offset_v": "Zero offset (reading with no current)",
    "acquisition.window_s": "Window length", "acquisition.sample_rate_hz": "Sample rate",
    "acquisition.pretrigger": "Pre-trigger fraction", "acquisition.trigger_level_a": "Trigger level (current)",
    "acquisition.trigger_timeout_s": "Trigger timeout", "acquisition.idle": "Idle power from",
    "acquisition.settle_s": "Settle before an idle window",
    "target.kind": "Kind", "target.host": "Host (name, address or ssh alias)", "target.port": "SSH port",
    "target.user": "User", "target.identity_file": "Private key file", "target.known_hosts": "known_hosts file",
    "target.workdir": "Working folder on the board", "target.setup": "Setup commands (separated by ;)",
    "target.telemetry": "On-board telemetry", "target.upload_from": "Extra upload folders (separated by ;)",
    "uncertainty.shunt_tolerance": "Shunt tolerance (fraction)",
    "uncertainty.voltage_gain_error": "Voltage gain error (fraction)",
    "uncertainty.current_gain_error": "Current gain error (fraction)",
    "uncertainty.voltage_offset_error_v": "Voltage offset error (blank: data sheet)",
    "uncertainty.current_offset_error_v": "Current offset error (blank: data sheet)",
    "uncertainty.warn_above": "Warn above (fraction)",
    "marker.channel": "Scope channel (or ext)", "marker.threshold_v": "Logic threshold",
    "marker.high": "Board command: raise", "marker.low": "Board command: lower",
}
SI_UNITS = {"timeout_s": "s", "volts_per_div": "V/div", "offset_v": "V", "shunt_ohm": "Ω", "amps_per_volt": "A/V",
            "deskew_s": "s", "window_s": "s", "sample_rate_hz": "Sa/s", "trigger_level_a": "A",
            "trigger_timeout_s": "s", "settle_s": "s", "zero_offset_v": "V", "voltage_offset_error_v": "V",
            "current_offset_error_v": "V", "threshold_v": "V"}
SIG_DIGITS = 6
WIRING_PENDING = "The wiring is drawn here once the bench's fields are valid (Apply)."
LABEL_MAX_PX = 190              # the label column's width; longer labels wrap


def format_quantity(value: float, unit: str) -> str:
    """6 significant digits with an SI prefix: 0.36089583333334385 A -> 360.896 mA; 0.01 Ω -> 10 mΩ."""
    return format_si(value, unit, SIG_DIGITS, smallest_exp3=0 if unit == "Sa/s" else -4)


class _WheelOnlyWhenFocused(QObject):
    """Scrolling over the panel never changes a choice: a combo box takes the wheel only with the focus."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Wheel and not obj.hasFocus():
            event.ignore()
            return True
        return False


def wiring_text(bench: BenchConfig | None) -> str:
    """The bench as wired, in words and lines (drawn from the bench, so it shows what the app will assume)."""
    if bench is None or not bench.has_scope or bench.voltage is None or bench.current is None:
        return ("No scope: the energy comes from the board's own sensors "
                f"(telemetry = {bench.target.telemetry if bench else '?'}).")
    v, c = bench.voltage, bench.current
    sense = (f"shunt {format_quantity(c.shunt_ohm, 'Ω')}" if c.shunt_ohm
             else f"current probe {format_quantity(c.amps_per_volt, 'A/V')}")
    at = "board side of the shunt" if v.measured_at == "board" else "supply side (I·R subtracted)"
    marker = ""
    if bench.marker is not None:
        marker = f"\n  marker GPIO ──▶ CH{bench.marker.channel} (threshold {format_quantity(bench.marker.threshold_v, 'V')})"
    return (f"  supply ──[ {sense} ]── board input\n"
            f"  CH{c.channel} across the shunt (×{c.probe_ratio:g} probe), {format_quantity(c.volts_per_div, 'V/div')}\n"
            f"  CH{v.channel} on the {at} (×{v.probe_ratio:g} probe), {format_quantity(v.volts_per_div, 'V/div')}"
            f"{marker}")


CHOICES = {"driver": DRIVERS, "coupling": ("DC", "AC"), "measured_at": ("board", "supply"),
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
        buttons = QGridLayout()            # two rows: the panel fits a laptop's dock
        self.load_button = QPushButton("Load bench…")
        self.save_button = QPushButton("Save bench…")
        self.apply_button = QPushButton("Apply")
        self.find_button = QPushButton("Find instruments")
        self.test_button = QPushButton("Test connection")
        self.range_button = QPushButton("Auto-range")
        self.zero_button = QPushButton("Zero current")
        self.zero_button.setToolTip("With no current flowing (board unpowered or probe shorted): measure the "
                                    "current channel's offset and fill in zero_offset_v")
        for k, b in enumerate((self.load_button, self.save_button, self.apply_button, self.find_button,
                               self.test_button, self.range_button, self.zero_button)):
            buttons.addWidget(b, *((0, k) if k < 3 else (1, k - 3)))
        buttons.setColumnStretch(4, 1)
        outer.addLayout(buttons)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer.addWidget(self.info)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        inner = QWidget()
        grid = QVBoxLayout(inner)
        self._wheel_guard = _WheelOnlyWhenFocused(self)
        self.wiring = QLabel("")
        self.wiring.setStyleSheet("font-family: monospace; background: #f6f6f6; padding: 6px;")
        self.wiring.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.wiring.setWordWrap(True)             # a long line wraps rather than widening the panel
        grid.addWidget(self.wiring)
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
                    w.setFocusPolicy(Qt.StrongFocus)
                    w.installEventFilter(self._wheel_guard)
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
                words = LABELS.get(name) or LABELS.get(key) or key.replace("_", " ")
                unit = SI_UNITS.get(key) or ("×" if key == "probe_ratio" else "")
                label = words + (f" ({unit})" if unit and unit != "×" and key not in SI_UNITS else "")
                if key in SI_UNITS:
                    w.setToolTip(f"{spec.allowed}; type e.g. 2.5 m{SI_UNITS[key]} or 0.0025")
                form.addRow(label, cell)
                self.fields[name] = w
                self.errors[name] = err
            grid.addWidget(box)
        self._align_labels()
        scroll.setWidget(inner)
        outer.addWidget(scroll)
        self.load_button.clicked.connect(self._load)
        self.save_button.clicked.connect(self._save)
        self.apply_button.clicked.connect(self.apply)
        self.find_button.clicked.connect(self.find_requested)
        self.test_button.clicked.connect(self.test_requested)
        self.range_button.clicked.connect(self.autorange_requested)
        self.zero_button.clicked.connect(self.zero_requested)

    def _align_labels(self) -> None:
        """Every group's labels one width, so the fields line up from group to group."""
        labels = []
        for w in self.fields.values():
            cell = w.parentWidget()
            label = cell.parentWidget().layout().labelForField(cell)
            if isinstance(label, QLabel):
                labels.append(label)
        width = min(LABEL_MAX_PX, max((lab.sizeHint().width() for lab in labels), default=0))
        for lab in labels:
            lab.setWordWrap(True)                 # a long label takes two lines, not the fields' room
            lab.setFixedWidth(width)

    # -- values ------------------------------------------------------------------
    def set_bench(self, bench: BenchConfig) -> None:
        self.source_path = bench.source_path
        self.set_raw(bench_to_dict(bench), bench.source_path)
        self.wiring.setText(wiring_text(bench))

    def set_raw(self, data: dict, source_path: str = "") -> None:
        """Fill the fields from a bench document as read (valid or not: a bad file is shown to be fixed). The
        wiring is drawn again only from a valid bench (set_bench), never left showing the previous one."""
        self.source_path = source_path
        self.wiring.setText(WIRING_PENDING)
        for name, w in self.fields.items():
            section, key = name.split(".")
            value = data.get(section, {}).get(key)
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(value) if value is not None else w.itemText(0))
            else:
                key = name.split(".")[1]
                if value is None:
                    w.setText("")
                elif isinstance(value, (tuple, list)):
                    w.setText("; ".join(str(v) for v in value))
                elif isinstance(value, (int, float)) and not isinstance(value, bool) and key in SI_UNITS:
                    w.setText(format_quantity(float(value), SI_UNITS[key]))
                elif isinstance(value, float):
                    w.setText(f"{value:.{SIG_DIGITS}g}")
                else:
                    w.setText(str(value))
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
            elif key in SI_UNITS and spec.kind == "float":
                out[section][key] = parse_si(text, SI_UNITS[key])
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
        """The bench as the fields say, validated; every problem is shown beside its field, and the first
        raised."""
        self._clear_errors()
        raw = self.raw()
        source = self.source_path or "bench (edited)"
        problems = bench_problems(raw, source)
        if problems:
            self.show_problems(problems)
            raise problems[0]
        bench = parse_bench(raw, source)
        self.wiring.setText(wiring_text(bench))
        return bench

    def show_problems(self, problems: list) -> None:
        """Flag each problem at its field; the summary above lists them all."""
        first = None
        for p in problems:
            m = re.search(r"\[([a-z_]+\.[a-z_]+)\]", str(p))
            key = m.group(1) if m else None
            if key in self.errors:
                self.errors[key].setText(str(p).split("] ", 1)[-1])
                self.errors[key].show()
                first = first or key
        if first is not None:
            self.fields[first].setFocus()
        n = len(problems)
        lines = "".join(f"<br>• {p}" for p in problems)
        self.info.setText(f"<span style='color:#b00020'>{n} problem{'s' if n != 1 else ''} in the bench:{lines}</span>")

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
        from app.bench.config import load_bench
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
