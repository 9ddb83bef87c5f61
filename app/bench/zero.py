"""Zeroing the current channel (docs/method.md "Uncertainty": a power analyzer's zero-cal, a DMM's REL).

With no current flowing (the board unpowered, or the probe's inputs shorted), the current channel's
mean reading is its DC offset. `measure_zero` takes one forced acquisition with the bench's settings and
returns that mean and its noise; `write_zero` stores it as `current.zero_offset_v` in the bench file,
changing only that line (comments and layout are kept). The analysis then subtracts it and carries only a
residual in the uncertainty budget.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.bench.config import BenchConfig, load_bench
from app.bench.connections import (
    acquisition_setup,
    channel_setup,
    open_bench_scope,
    trigger_level_v,
)
from app.errors import BenchError


@dataclass(frozen=True)
class ZeroReading:
    offset_v: float          # mean of the current channel, volts at the probe tip
    noise_v: float           # standard deviation of one sample
    samples: int
    volts_per_div: float

    def describe(self, amps_per_volt: float) -> str:
        return (f"current channel reads {self.offset_v * 1e3:+.4f} mV with no current flowing "
                f"({self.offset_v * amps_per_volt * 1e3:+.3f} mA; noise {self.noise_v * 1e3:.4f} mV rms over "
                f"{self.samples} samples)")


def measure_zero(bench: BenchConfig, cancel: threading.Event | None = None) -> ZeroReading:
    """One forced acquisition of the current channel with the bench's settings; its mean and noise."""
    scope = open_bench_scope(bench)
    try:
        applied = scope.configure(channel_setup(bench.voltage), channel_setup(bench.current),
                                  acquisition_setup(bench))
        scope.arm_single(bench.current.channel, trigger_level_v(bench))
        scope.force_trigger()
        scope.wait_complete(applied.acquisition.window_s * 2 + 10, cancel)
        wave = scope.fetch(bench.current.channel, cancel=cancel)
    finally:
        try:
            scope.stop()
        finally:
            scope.close()
    codes = np.asarray(wave.codes)
    mean_code = float(codes.mean(dtype=np.float64))
    std_code = float(codes.std(dtype=np.float64))
    return ZeroReading(mean_code * wave.gain_v + wave.offset_v, std_code * abs(wave.gain_v), int(codes.size),
                       applied.current.volts_per_div)


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*zero_offset_v\s*=")


def _line(offset_v: float) -> str:
    return f"zero_offset_v = {float(f'{offset_v:.6g}')!r}   # volts, measured by `python main.py zero`\n"


def write_zero(path: str | Path, offset_v: float) -> None:
    """Set current.zero_offset_v in the bench file, leaving every other line as it is; validate the result."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    section = None
    current_at = None
    replaced = False
    for k, line in enumerate(lines):
        m = _SECTION.match(line)
        if m:
            section = m.group(1).strip()
            if section == "current":
                current_at = k
            continue
        if section == "current" and _KEY.match(line):
            lines[k] = _line(offset_v)
            replaced = True
    if not replaced:
        if current_at is None:
            raise BenchError(f"{path}: has no [current] section to store zero_offset_v in")
        lines.insert(current_at + 1, _line(offset_v))
    text = "".join(lines)
    from app.bench.config import loads_bench
    loads_bench(text, str(path))              # never write a bench file that no longer loads
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    load_bench(path)
