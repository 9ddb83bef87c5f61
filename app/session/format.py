"""Names and constants of the session file (docs/sessions.md), shared by the
writer and the reader."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from app.session.attrs import write_attr

FORMAT = "joulebench-session"
FORMAT_VERSION = 1
APP_VERSION = "0.1.0"
PARTIAL_SUFFIX = ".partial"
X_FORMULA_ATTR = "x_formula"

RAW_CHUNK_SAMPLES = 1 << 20
OVERVIEW_FACTOR = 8          # each overview level aggregates this many rows of the level below
OVERVIEW_MIN_ROWS = 256      # stop building levels below this many rows
SUMMARY_COLUMNS = ("p_sum", "p2_sum", "p_min", "p_max", "v_min", "v_max", "i_min", "i_max", "v_sum", "i_sum")
OVERVIEW_DTYPE = np.dtype([(name, np.float64 if name.endswith("_sum") else np.float32) for name in SUMMARY_COLUMNS])
SUMMARY_UNITS = {"p_sum": "W (sum over the row's samples)", "p2_sum": "W^2 (sum over the row's samples)",
                 "p_min": "W", "p_max": "W", "v_min": "V", "v_max": "V", "i_min": "A", "i_max": "A",
                 "v_sum": "V (sum over the row's samples)", "i_sum": "A (sum over the row's samples)"}

CHANNEL_UNITS = {
    "channel": "", "probe_ratio": "x", "volts_per_div": "V/div", "offset_v": "V", "coupling": "",
    "bandwidth_limit": "", "measured_at": "", "shunt_ohm": "ohm", "amps_per_volt": "A/V", "deskew_s": "s",
    "sample_rate_hz": "Hz", "points": "samples", "window_s": "s",
}


def run_name(number: int) -> str:
    return f"{number:03d}"


def window_name(number: int) -> str:
    return f"{number:02d}"


def attr_value(value: Any) -> Any:
    """A Python value as an HDF5 attribute any tool can show: None is left out by the caller,
    dicts and lists become JSON text."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return value


def set_attrs(node, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if value is None:
            continue
        write_attr(node, key, attr_value(value))


def read_attrs(node) -> dict[str, Any]:
    out = {}
    for key, value in node.attrs.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out
