"""A window's V, I and P as an xarray Dataset (docs/python-api.md), read slice by slice.

Time is in seconds from the run's `begin` (the start of the measured region, `details.region_s[0]`, which lies on
the run's first window's axis); a window without a region on its axis (the other windows of a long run, a run
without results) keeps seconds from its own trigger, and the Dataset's `time_reference` attribute says which.

`dataset(start_s, stop_s)` reads only the raw chunks holding [start_s, stop_s] (h5py slices the codes); with
`points=N` it reads instead the finest level of the stored overview pyramid that gives at most N rows over the
range (full resolution when the range holds N samples or fewer): each row's mean (from the stored sums), minimum
and maximum of P, V and I, its time the middle of the row.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from app.errors import SessionError
from app.session.annotations import read_annotations
from app.session.extra import require
from app.session.format import SUMMARY_COLUMNS, read_attrs
from app.session.reader import SessionReader, run_window

VARIABLES = (("voltage", "V", "v"), ("current", "A", "i"), ("power", "W", "p"))


class WindowData:
    """One window of one run; reads nothing until `dataset` (or `trace`) is asked for."""

    def __init__(self, reader: SessionReader, run: int, window: int | None = None):
        self.reader = reader
        self.run = reader.run(run)
        number = run_window(self.run) if window is None else window
        if number is None:
            raise SessionError(f"{reader.path}: run {run} has no windows (a run without a scope); its results are "
                               "in Session.runs()")
        self.view = self.run.window(number)
        self.number = number
        self._trace = None

    @property
    def trace(self):
        if self._trace is None:
            self._trace = self.view.trace()
        return self._trace

    # -- the time axis ----------------------------------------------------------------------------------------
    def begin_s(self) -> tuple[float, str]:
        """Where time 0 lies on this window's axis, and what it is."""
        details = self.run.details if getattr(self.run, "damage", None) is None else {}
        region = details.get("region_s")
        first = min(self.run.window_numbers())
        if region and self.number == first and region[0] is not None:
            return float(region[0]), "begin (the start of the measured region)"
        return 0.0, "this window's trigger (no measured region on its axis)"

    def sample_range(self, start_s: float | None, stop_s: float | None) -> tuple[int, int]:
        """Trace samples [j0, j1) whose times (from begin) lie in [start_s, stop_s]."""
        tr = self.trace
        origin, _ = self.begin_s()
        if start_s is not None and stop_s is not None and stop_s < start_s:
            raise SessionError(f"the slice stops at {stop_s} s, before it starts at {start_s} s; swap them")
        j0 = 0 if start_s is None else max(0, math.ceil((start_s + origin - tr.x0) / tr.dx - 1e-9))
        j1 = tr.n if stop_s is None else min(tr.n, math.floor((stop_s + origin - tr.x0) / tr.dx + 1e-9) + 1)
        if j1 <= j0:
            t0, t1 = tr.t_first - origin, tr.t_last - origin
            raise SessionError(f"{self.reader.path}: run {self.run.number}, window {self.number} has no samples "
                               f"in [{start_s}, {stop_s}] s; it spans [{t0:.9g}, {t1:.9g}] s from its time origin")
        return j0, j1

    # -- context ----------------------------------------------------------------------------------------------
    def context(self) -> dict[str, Any]:
        """The session's context as netCDF-safe attributes (numbers, text, lists of numbers; JSON for the rest)."""
        origin, reference = self.begin_s()
        details = self.run.details if getattr(self.run, "damage", None) is None else {}
        record = (self.run.record or {}) if getattr(self.run, "damage", None) is None else {}
        s = self.reader
        notes = [{"window": a.window, "t0_s": a.t0_s - origin if a.window == self.number else a.t0_s,
                  "t1_s": a.t1_s - origin if a.window == self.number else a.t1_s, "text": a.text,
                  "created": a.created} for a in read_annotations(self.run.group)]
        attrs: dict[str, Any] = {
            "session_file": str(s.path), "session_uuid": str(s.attrs.get("uuid", "")),
            "session_label": str(s.attrs.get("label", "")), "session_notes": str(s.attrs.get("notes", "")),
            "workload": str(self.run.attrs.get("workload") or s.workload_name), "run": self.run.number,
            "window": self.number, "role": str(self.view.attrs.get("role", "run")),
            "time_reference": reference, "time_origin_on_window_axis_s": origin,
            "sample_interval_s": self.trace.dx, "markers": json.dumps(_json(self.run.attrs.get("markers"), [])),
            "annotations": json.dumps(notes), "run_status": self.run.status,
        }
        phases = self.phases(details, origin, reference)
        if phases is not None:
            attrs["phases"] = json.dumps(phases)
        for key in ("region_s", "idle_span_s"):
            span = details.get(key)
            if span and None not in span:
                attrs[key] = [float(span[0]) - origin, float(span[1]) - origin]
        for key in ("energy_j", "uncertainty_j", "avg_power_w", "idle_power_w", "duration_s", "alignment"):
            if record.get(key) is not None:
                attrs[key] = record[key]
        return attrs

    def phases(self, details: dict, origin: float, reference: str) -> list[dict[str, Any]] | None:
        """The workload's phase stretches on this time axis ([{name, t0_s, t1_s}]): each `phase` event lasts
        until the next one or `end` (docs/workloads.md), placed by the board's `begin` (details.timing). None when
        the run has no phases or the window's time is not counted from begin."""
        events = _json(self.run.attrs.get("events"), [])
        begin = (details.get("timing") or {}).get("begin_s")
        if not reference.startswith("begin") or begin is None or not isinstance(events, list):
            return None
        marks = [e for e in events if isinstance(e, dict) and e.get("event") in ("phase", "end") and "t" in e]
        marks.sort(key=lambda e: float(e["t"]))
        out = []
        for k, e in enumerate(marks):
            if e["event"] == "phase" and k + 1 < len(marks):
                out.append({"name": str(e.get("name", "")), "t0_s": float(e["t"]) - float(begin),
                            "t1_s": float(marks[k + 1]["t"]) - float(begin)})
        return out or None

    # -- data ---------------------------------------------------------------------------------------------------
    def columns(self) -> list[tuple[str, str]]:
        return [(name, unit) for name, unit, _ in VARIABLES]

    def iter_chunks(self, start_s: float | None = None, stop_s: float | None = None, chunk: int = 1 << 16):
        """(time from the origin, {voltage, current, power}) over [start_s, stop_s], `chunk` samples at a time."""
        j0, j1 = self.sample_range(start_s, stop_s)
        tr = self.trace
        origin, _ = self.begin_s()
        for c0 in range(j0, j1, chunk):
            c1 = min(j1, c0 + chunk)
            v, i, p = tr.arrays(c0, c1)
            yield tr.x0 - origin + np.arange(c0, c1, dtype=np.float64) * tr.dx, {"voltage": v, "current": i,
                                                                                  "power": p}

    def dataset(self, start_s: float | None = None, stop_s: float | None = None, points: int | None = None):
        """V, I and P over [start_s, stop_s] (seconds from begin; None: the window's edge), at full resolution, or
        from the overview at most `points` rows."""
        xr = require("xarray")
        j0, j1 = self.sample_range(start_s, stop_s)
        if points is not None and points < 1:
            raise SessionError(f"points is {points}; ask for 1 or more, or None for full resolution")
        if points is None or j1 - j0 <= points:
            return self._full(xr, j0, j1)
        return self._overview(xr, j0, j1, points)

    def _full(self, xr, j0: int, j1: int):
        tr = self.trace
        origin, _ = self.begin_s()
        v, i, p = tr.arrays(j0, j1)
        t = tr.x0 - origin + np.arange(j0, j1, dtype=np.float64) * tr.dx
        coords = {"time": ("time", t, {"units": "s", "long_name": "time from the time origin"})}
        data = {name: ("time", arr, {"units": unit}) for (name, unit, _), arr in zip(VARIABLES, (v, i, p))}
        attrs = {**self.context(), "resolution": "full", "first_sample": j0}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def _overview(self, xr, j0: int, j1: int, points: int):
        group = self.view.group
        if getattr(self.view, "damage", None) is not None:
            raise SessionError(f"{self.reader.path}: run {self.run.number}, window {self.number} is damaged: "
                               f"{self.view.damage}; its overview is not used")
        if "overview" not in group:
            raise SessionError(f"{self.reader.path}: run {self.run.number}, window {self.number} has no overview "
                               "(its download failed); ask for full resolution (points=None)")
        ov = read_attrs(group["overview"])
        row_samples = list(_json(ov.get("row_samples"), []))
        n = int(ov.get("power_samples", self.trace.n))
        level = len(row_samples) - 1
        for k, rs in enumerate(row_samples):           # the finest level with at most `points` rows in range
            if (j1 - 1) // rs - j0 // rs + 1 <= points:
                level = k
                break
        rs = row_samples[level]
        r0, r1 = j0 // rs, (j1 - 1) // rs + 1
        table = _level_rows(group["overview"][f"level{level}"], r0, r1)
        counts = np.minimum((np.arange(r0, r1) + 1) * rs, n) - np.arange(r0, r1) * rs
        tr = self.trace
        origin, _ = self.begin_s()
        t = tr.x0 - origin + (np.arange(r0, r1) * rs + (counts - 1) / 2.0) * tr.dx
        data = {}
        for name, unit, key in VARIABLES:
            data[name] = ("time", table[f"{key}_sum"] / counts, {"units": unit, "statistic": "mean over the row"})
            data[f"{name}_min"] = ("time", table[f"{key}_min"].astype(np.float64), {"units": unit})
            data[f"{name}_max"] = ("time", table[f"{key}_max"].astype(np.float64), {"units": unit})
        data["samples"] = ("time", counts, {"units": "samples", "long_name": "samples in the row"})
        coords = {"time": ("time", t, {"units": "s", "long_name": "middle of the row, from the time origin"})}
        attrs = {**self.context(), "resolution": f"overview level {level}: {rs} samples a row",
                 "row_samples": rs, "first_row": r0}
        return xr.Dataset(data, coords=coords, attrs=attrs)


def _level_rows(node, r0: int, r1: int) -> dict[str, np.ndarray]:
    """Rows [r0, r1) of one overview level: a table, or (sessions before 2026-11-24) a group of columns."""
    try:
        if hasattr(node, "dtype"):
            table = node[r0:r1]
            have = set(table.dtype.names or ())
            return {c: table[c] if c in have else np.full(r1 - r0, np.nan) for c in SUMMARY_COLUMNS}
        return {c: node[c][r0:r1] if c in node else np.full(r1 - r0, np.nan) for c in SUMMARY_COLUMNS}
    except (OSError, KeyError, ValueError) as exc:
        raise SessionError(f"the overview {node.name} cannot be read ({exc}); ask for full resolution "
                           "(points=None)") from None


def _json(text: Any, default: Any) -> Any:
    if not isinstance(text, str):
        return default if text is None else text
    try:
        return json.loads(text)
    except ValueError:
        return default
