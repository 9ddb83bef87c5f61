"""A recording from another power tool, read-only: its own sample rate and units, as an xarray Dataset.

A `Recording` has a uniform sample grid (`sample_rate_hz`, time 0 at its first sample), one reader per signal
(`current`, and `voltage` and `power` where the tool gave them) and the list of what the format lacks beside a
Joulebench session (`lacks`). It reads like a session's window (app/session/data_traces.py): `dataset(start_s,
stop_s, points)` and `iter_chunks` for the exports (app/session/data_export.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from app.errors import SessionError
from app.session.extra import require

UNITS = {"current": "A", "voltage": "V", "power": "W"}
Reader = Callable[[int, int], np.ndarray]


@dataclass
class Recording:
    path: Path
    source: str                              # "Joulescope JLS", "Nordic Power Profiler CSV"
    sample_rate_hz: float
    samples: int
    signals: dict[str, Reader]               # name -> read(j0, j1) as float64, in UNITS[name]
    lacks: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    closer: Callable[[], None] | None = None
    read_only: bool = True

    def close(self) -> None:
        if self.closer is not None:
            self.closer()
            self.closer = None

    def __enter__(self) -> "Recording":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def dx(self) -> float:
        return 1.0 / self.sample_rate_hz

    @property
    def duration_s(self) -> float:
        return self.samples * self.dx

    def columns(self) -> list[tuple[str, str]]:
        return [(name, UNITS[name]) for name in ("voltage", "current", "power") if name in self.signals]

    def sample_range(self, start_s: float | None, stop_s: float | None) -> tuple[int, int]:
        if start_s is not None and stop_s is not None and stop_s < start_s:
            raise SessionError(f"the slice stops at {stop_s} s, before it starts at {start_s} s; swap them")
        j0 = 0 if start_s is None else max(0, math.ceil(start_s / self.dx - 1e-9))
        j1 = self.samples if stop_s is None else min(self.samples, math.floor(stop_s / self.dx + 1e-9) + 1)
        if j1 <= j0:
            raise SessionError(f"{self.path}: no samples in [{start_s}, {stop_s}] s; the recording spans "
                               f"[0, {(self.samples - 1) * self.dx:.9g}] s")
        return j0, j1

    def read(self, name: str, j0: int, j1: int) -> np.ndarray:
        return np.asarray(self.signals[name](j0, j1), dtype=np.float64)

    def iter_chunks(self, start_s: float | None = None, stop_s: float | None = None,
                    chunk: int = 1 << 16) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        j0, j1 = self.sample_range(start_s, stop_s)
        for c0 in range(j0, j1, chunk):
            c1 = min(j1, c0 + chunk)
            yield np.arange(c0, c1) * self.dx, {name: self.read(name, c0, c1) for name, _ in self.columns()}

    def context(self) -> dict[str, Any]:
        return {"source": self.source, "file": str(self.path), "sample_rate_hz": self.sample_rate_hz,
                "sample_interval_s": self.dx, "time_reference": "the recording's first sample",
                "read_only": 1, "lacks": "; ".join(self.lacks), **self.attrs}

    def dataset(self, start_s: float | None = None, stop_s: float | None = None, points: int | None = None):
        """The signals over [start_s, stop_s] (seconds from the first sample), at full resolution or, with
        `points`, as at most that many rows of mean, minimum and maximum (computed from the samples read)."""
        xr = require("xarray", "reading another tool's recording")
        j0, j1 = self.sample_range(start_s, stop_s)
        if points is not None and points < 1:
            raise SessionError(f"points is {points}; ask for 1 or more, or None for full resolution")
        if points is None or j1 - j0 <= points:
            t = np.arange(j0, j1) * self.dx
            data = {name: ("time", self.read(name, j0, j1), {"units": unit}) for name, unit in self.columns()}
            return xr.Dataset(data, coords={"time": ("time", t, {"units": "s"})},
                              attrs={**self.context(), "resolution": "full", "first_sample": j0})
        per = -(-(j1 - j0) // points)
        starts = np.arange(j0, j1, per)
        counts = np.minimum(starts + per, j1) - starts
        data = {}
        for name, unit in self.columns():
            values = self.read(name, j0, j1)
            pad = len(starts) * per - len(values)
            padded = np.concatenate([values, np.full(pad, np.nan)]).reshape(len(starts), per)
            data[name] = ("time", np.nansum(padded, axis=1) / counts, {"units": unit, "statistic": "mean"})
            data[f"{name}_min"] = ("time", np.nanmin(padded, axis=1), {"units": unit})
            data[f"{name}_max"] = ("time", np.nanmax(padded, axis=1), {"units": unit})
        data["samples"] = ("time", counts, {"units": "samples"})
        t = (starts + (counts - 1) / 2.0) * self.dx
        return xr.Dataset(data, coords={"time": ("time", t, {"units": "s"})},
                          attrs={**self.context(), "resolution": f"{per} samples a row", "row_samples": per})

    def totals(self, block: int = 1 << 20) -> dict[str, float | None]:
        """Charge (C) and, where there is power, energy (J) by the rectangle rule (each sample holds for one
        interval), and the mean current and power."""
        charge, energy = 0.0, 0.0
        for j in range(0, self.samples, block):
            k = min(self.samples, j + block)
            charge += float(np.nansum(self.read("current", j, k))) * self.dx
            if "power" in self.signals:
                energy += float(np.nansum(self.read("power", j, k))) * self.dx
        has_p = "power" in self.signals
        return {"duration_s": self.duration_s, "charge_c": charge, "mean_current_a": charge / self.duration_s,
                "energy_j": energy if has_p else None, "avg_power_w": energy / self.duration_s if has_p else None}
