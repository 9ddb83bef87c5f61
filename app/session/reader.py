"""Reading a session file lazily (docs/sessions.md).

Nothing is read until asked for: a window's codes are h5py datasets sliced on
demand, and its power summary comes from the stored overview, so opening a
session with a 100 Mpts window costs milliseconds. Every failure of the file
itself (not HDF5, truncated, damaged, not a Joulebench session, a newer
format) is a SessionError that says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from app.errors import AnalysisError, SessionError
from app.measure.energy import PowerTrace, TraceSummary
from app.session.format import FORMAT, FORMAT_VERSION, SUMMARY_COLUMNS, read_attrs
from instruments.waveform import Waveform


class _SafeCodes:
    """An h5py dataset whose read errors become SessionErrors."""

    def __init__(self, ds: h5py.Dataset, path: Path):
        self._ds = ds
        self._path = path
        self.shape = ds.shape
        self.dtype = ds.dtype

    def __getitem__(self, key):
        try:
            return self._ds[key]
        except (OSError, ValueError, RuntimeError) as exc:
            raise SessionError(f"{self._path}: {describe_dataset(self._ds.name)} cannot be read: a damaged block "
                               f"({exc}; its checksum does not match, or the file is truncated). The other runs "
                               "and windows can still be read.") from None

    def __array__(self, dtype=None, copy=None):
        arr = self[()]
        return arr if dtype is None else arr.astype(dtype)


def describe_dataset(name: str) -> str:
    """'/runs/002/windows/01/current' -> 'run 2, window 1, current'."""
    parts = name.strip("/").split("/")
    if len(parts) == 5 and parts[0] == "runs" and parts[2] == "windows":
        try:
            return f"run {int(parts[1])}, window {int(parts[3])}, {parts[4]}"
        except ValueError:
            pass
    return name


def _json_attr(attrs: dict, key: str, default: Any) -> Any:
    text = attrs.get(key)
    if not text:
        return default
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


class WindowView:
    def __init__(self, group: h5py.Group, path: Path, run: int, number: int):
        self.group = group
        self.path = path
        self.run = run
        self.number = number
        self.attrs = read_attrs(group)

    def _waveform(self, name: str) -> Waveform:
        try:
            ds = self.group[name]
            a = read_attrs(ds)
            return Waveform(codes=_SafeCodes(ds, self.path), y_increment=a["y_increment"], y_origin=a["y_origin"],
                            y_reference=a["y_reference"], x_increment=a["x_increment"], x_origin=a["x_origin"],
                            code_min=int(a["code_min"]), code_max=int(a["code_max"]), channel=int(a.get("channel", 0)),
                            units=a.get("units", "V"), vendor_preamble=_json_attr(a, "vendor_preamble", {}),
                            settings=_json_attr(a, "settings", {}))
        except KeyError as exc:
            raise SessionError(f"{self.path}: window {self.group.name} lacks {name} data or its scaling "
                               f"({exc}); the file is damaged or was not written by Joulebench.") from None
        except ValueError as exc:
            raise SessionError(f"{self.path}: window {self.group.name} has bad {name} scaling: {exc}") from None

    @property
    def voltage(self) -> Waveform:
        return self._waveform("voltage")

    @property
    def current(self) -> Waveform:
        return self._waveform("current")

    @property
    def marker(self) -> Waveform | None:
        """The begin/end marker GPIO as the scope recorded it, when the bench had one on a channel."""
        return self._waveform("marker") if "marker" in self.group else None

    def trace(self) -> PowerTrace:
        v, i = self.voltage, self.current
        va, ia = read_attrs(self.group["voltage"]), read_attrs(self.group["current"])
        try:
            return PowerTrace(v, i, shunt_ohm=ia.get("shunt_ohm"), amps_per_volt_=ia.get("amps_per_volt"),
                              measured_at=va.get("measured_at", "board"), deskew_s=float(ia.get("deskew_s", 0.0)),
                              current_zero_v=float(ia.get("zero_offset_v", 0.0) or 0.0))
        except AnalysisError as exc:
            raise SessionError(f"{self.path}: window {self.group.name}: {exc}") from None

    def overview_level(self, k: int) -> dict[str, np.ndarray]:
        try:
            g = self.group["overview"][f"level{k}"]
            if isinstance(g, h5py.Dataset):           # a table with a column per aggregate
                table = g[()]
                have = set(table.dtype.names or ())
                rows = len(table)
                return {name: table[name] if name in have else np.full(rows, np.nan) for name in SUMMARY_COLUMNS}
            rows = g["p_sum"].shape[0]                 # sessions written before 2026-11-24: a dataset per column,
            return {name: g[name][()] if name in g else np.full(rows, np.nan)     # no V and I sums
                    for name in SUMMARY_COLUMNS}
        except (KeyError, OSError) as exc:
            raise SessionError(f"{self.path}: the overview of {self.group.name} is missing or damaged "
                               f"({exc}).") from None

    @property
    def overview_row_samples(self) -> list[int]:
        return list(_json_attr(read_attrs(self.group["overview"]), "row_samples", []))

    def summary(self) -> TraceSummary:
        level = self.overview_level(0)
        n = int(read_attrs(self.group["overview"]).get("power_samples", 0))
        return TraceSummary(n=n, clip_voltage=float(self.attrs.get("clip_fraction_voltage", 0.0)),
                            clip_current=float(self.attrs.get("clip_fraction_current", 0.0)), **level)


class RunView:
    def __init__(self, group: h5py.Group, path: Path, number: int):
        self.group = group
        self.path = path
        self.number = number
        self.attrs = read_attrs(group)

    @property
    def status(self) -> str:
        return str(self.attrs.get("status", "incomplete"))

    @property
    def record(self) -> dict[str, Any] | None:
        if "results" not in self.group:
            return None
        return _json_attr(read_attrs(self.group["results"]), "record_json", None)

    @property
    def details(self) -> dict[str, Any]:
        if "results" not in self.group:
            return {}
        return _json_attr(read_attrs(self.group["results"]), "details_json", {})

    def window_numbers(self) -> list[int]:
        if "windows" not in self.group:
            return []
        return sorted(int(k) for k in self.group["windows"].keys() if k.isdigit())

    def window(self, number: int) -> WindowView:
        try:
            return WindowView(self.group["windows"][f"{number:02d}"], self.path, self.number, number)
        except KeyError:
            raise SessionError(f"{self.path}: run {self.number} has no window {number}; it has "
                               f"{self.window_numbers() or 'none'}.") from None

    def telemetry(self) -> np.ndarray | None:
        return self.group["telemetry"][()] if "telemetry" in self.group else None


class SessionReader:
    """Open a session file for reading; use as a context manager or call close()."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise SessionError(f"{self.path}: no such session file.")
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as exc:
            raise SessionError(f"{self.path}: not a readable HDF5 file ({exc}); it is truncated, damaged or "
                               "not a session. If a capture was interrupted, look for a .partial file "
                               "beside it.") from None
        try:
            self.attrs = read_attrs(self.file)
            if self.attrs.get("format") != FORMAT:
                raise SessionError(f"{self.path}: an HDF5 file, but not a Joulebench session (no "
                                   f'format="{FORMAT}" attribute).')
            version = self.attrs.get("format_version")
            if not isinstance(version, int) or version < 1:
                raise SessionError(f"{self.path}: format_version is {version!r}; the file is damaged.")
            if version > FORMAT_VERSION:
                raise SessionError(f"{self.path}: written in session format {version}, newer than this "
                                   f"Joulebench reads ({FORMAT_VERSION}); update Joulebench to open it.")
            for name in ("bench", "runs"):
                if name not in self.file:
                    raise SessionError(f"{self.path}: the /{name} group is missing; the file is damaged.")
        except SessionError:
            self.file.close()
            raise
        except (OSError, KeyError, RuntimeError) as exc:
            self.file.close()
            raise SessionError(f"{self.path}: the file is damaged ({exc}).") from None

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "SessionReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def status(self) -> str:
        return str(self.attrs.get("status", "incomplete"))

    def group_attrs(self, name: str) -> dict[str, Any]:
        return read_attrs(self.file[name]) if name in self.file else {}

    @property
    def workload_name(self) -> str:
        return str(self.group_attrs("workload").get("name", ""))

    def run_numbers(self) -> list[int]:
        return sorted(int(k) for k in self.file["runs"].keys() if k.isdigit())

    def run(self, number: int) -> RunView:
        try:
            return RunView(self.file["runs"][f"{number:03d}"], self.path, number)
        except KeyError:
            raise SessionError(f"{self.path}: there is no run {number}; the session has runs "
                               f"{self.run_numbers() or 'none'}.") from None

    def verify(self, block_samples: int = 1 << 22) -> list[str]:
        """Read every raw dataset once (HDF5 checks each chunk's Fletcher-32 as it reads); return what is damaged,
        as 'run N, window K, channel: reason'. A file written before checksums only shows truncation."""
        damaged = []
        for run in self.runs():
            for k in run.window_numbers():
                group = run.window(k).group
                for name in ("voltage", "current", "marker"):
                    if name not in group:
                        continue
                    ds = group[name]
                    try:
                        for start in range(0, ds.shape[0], block_samples):
                            ds[start:start + block_samples]
                    except (OSError, ValueError, RuntimeError) as exc:
                        damaged.append(f"{describe_dataset(ds.name)}: {exc}")
        return damaged

    def runs(self) -> list[RunView]:
        return [self.run(n) for n in self.run_numbers()]


def run_window(run: RunView) -> int | None:
    """The run's triggered window (role "run"), else its first."""
    numbers = run.window_numbers()
    for k in numbers:
        if str(run.window(k).attrs.get("role", "run")) == "run":
            return k
    return numbers[0] if numbers else None
