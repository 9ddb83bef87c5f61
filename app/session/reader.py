"""Reading a session file lazily (docs/sessions.md).

Nothing is read until asked for: a window's codes are h5py datasets sliced on
demand, and its power summary comes from the stored overview, so opening a
session with a 100 Mpts window costs milliseconds. Every failure of the file
itself (not HDF5, truncated, damaged, not a Joulebench session, a newer
format) is a SessionError that says so.

On opening, the SHA-256 digests of the metadata (app/session/integrity.py) are
recomputed: a run whose metadata (or one of whose windows) does not match is
named in `damaged_runs` with its reason and left out of `runs()`; asked for by
number it still opens, and its undamaged windows still export; a damaged
window refuses to give its scaled data or overview (SessionError).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from app.errors import AnalysisError, SessionError
from app.measure.energy import PowerTrace, TraceSummary
from app.session import integrity
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


def _attrs_and_damage(group: h5py.Group, damage: str | None) -> tuple[dict, str | None]:
    """A group's attributes, and its damage (the digest's verdict, else attributes that do not read)."""
    try:
        return read_attrs(group), damage
    except (OSError, KeyError, RuntimeError) as exc:
        return {}, damage or f"its attributes cannot be read ({exc})"


class WindowView:
    def __init__(self, group: h5py.Group, path: Path, run: int, number: int):
        self.group = group
        self.path = path
        self.run = run
        self.number = number
        self.attrs, self.damage = _attrs_and_damage(group, integrity.check(group, integrity.window_digest))

    def _trusted(self) -> None:
        if self.damage is not None:
            raise SessionError(f"{self.path}: run {self.run}, window {self.number} is damaged: {self.damage}. Its "
                               "scaling and overview cannot be trusted, so nothing is computed from them; the "
                               "session's other windows and runs still read.")

    def _waveform(self, name: str) -> Waveform:
        self._trusted()
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
        except (ValueError, TypeError, OSError, RuntimeError) as exc:
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
        self._trusted()
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
    def __init__(self, group: h5py.Group, path: Path, number: int, damage: str | None = None):
        self.group = group
        self.path = path
        self.number = number
        # the run's own metadata (its windows are checked each on its own)
        self.attrs, self.damage = _attrs_and_damage(group, damage)

    def _trusted(self) -> None:
        if self.damage is not None:
            raise SessionError(f"{self.path}: run {self.number} is damaged: {self.damage}. Its results are not "
                               "used; its windows can still be exported where they are undamaged (trace).")

    @property
    def status(self) -> str:
        return str(self.attrs.get("status", "incomplete"))

    @property
    def record(self) -> dict[str, Any] | None:
        self._trusted()
        if "results" not in self.group:
            return None
        return _json_attr(read_attrs(self.group["results"]), "record_json", None)

    @property
    def details(self) -> dict[str, Any]:
        self._trusted()
        if "results" not in self.group:
            return {}
        return _json_attr(read_attrs(self.group["results"]), "details_json", {})

    def window_numbers(self) -> list[int]:
        if "windows" not in self.group:
            return []
        return sorted(int(k) for k in self.group["windows"].keys() if k.isdigit())

    def window(self, number: int) -> WindowView:
        if number not in self.window_numbers():
            raise SessionError(f"{self.path}: run {self.number} has no window {number}; it has "
                               f"{self.window_numbers() or 'none'}.")
        try:
            return WindowView(self.group["windows"][f"{number:02d}"], self.path, self.number, number)
        except (KeyError, OSError, RuntimeError, ValueError) as exc:
            raise SessionError(f"{self.path}: run {self.number}, window {number} is damaged: it cannot be opened "
                               f"({type(exc).__name__}: {exc}).") from None

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
            if "unable to lock file" in str(exc):
                raise SessionError(f"{self.path}: the file is open for writing by another program (a capture still "
                                   "running, or the app's own writer); open it once that capture has finished, or "
                                   "copy it and open the copy.") from None
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
        self.session_damage = integrity.check(self.file, integrity.root_digest)
        self.damaged_runs: dict[int, str] = {}
        self._run_damage: dict[int, str | None] = {}
        try:
            numbers = self.run_numbers()
        except (OSError, KeyError, RuntimeError, ValueError) as exc:
            self.file.close()
            raise SessionError(f"{self.path}: the list of runs cannot be read; the file is damaged ({exc}).") \
                from None
        for n in numbers:
            why = self._check_run(n)
            if why is not None:
                self.damaged_runs[n] = why

    def _check_run(self, n: int) -> str | None:
        """What is wrong with run n's metadata or any of its windows' (None: nothing found)."""
        try:
            group = self.file["runs"][f"{n:03d}"]
        except (KeyError, OSError, RuntimeError, ValueError) as exc:
            self._run_damage[n] = f"its group cannot be opened ({type(exc).__name__}: {exc})"
            return self._run_damage[n]
        own = integrity.check(group, integrity.run_digest)
        self._run_damage[n] = own
        problems = [own] if own else []
        try:
            names = sorted(group["windows"].keys()) if "windows" in group else []
            for name in names:
                why = integrity.check(group["windows"][name], integrity.window_digest)
                if why:
                    problems.append(f"window {int(name) if name.isdigit() else name}: {why}")
        except (KeyError, OSError, RuntimeError, ValueError) as exc:
            problems.append(f"its windows cannot be listed ({type(exc).__name__}: {exc})")
        return "; ".join(problems) if problems else None

    def damage(self) -> list[str]:
        """Every metadata problem found on opening, as 'run N: why' (and the session's own)."""
        out = [f"the session's own metadata: {self.session_damage}"] if self.session_damage else []
        return out + [f"run {n}: {why}" for n, why in self.damaged_runs.items()]

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
        """Every run the file names, damaged or not."""
        return sorted(int(k) for k in self.file["runs"].keys() if k.isdigit())

    def run(self, number: int) -> RunView:
        """Run `number`, also when damaged (its `damage` says why; its record is then refused)."""
        if number not in self.run_numbers():
            raise SessionError(f"{self.path}: there is no run {number}; the session has runs "
                               f"{self.run_numbers() or 'none'}.")
        try:
            group = self.file["runs"][f"{number:03d}"]
        except (KeyError, OSError, RuntimeError, ValueError) as exc:
            raise SessionError(f"{self.path}: run {number} is damaged: its group cannot be opened "
                               f"({type(exc).__name__}: {exc}). The other runs can still be read.") from None
        return RunView(group, self.path, number, self._run_damage.get(number))

    def verify(self, block_samples: int = 1 << 22) -> list[str]:
        """The metadata damage found on opening (`damage`), then every raw dataset read once (HDF5 checks each
        chunk's Fletcher-32 as it reads): what is damaged, as 'run N: why' or 'run N, window K, channel: reason'.
        A file written before checksums only shows truncation."""
        return self.damage() + self.verify_raw(block_samples)

    def verify_raw(self, block_samples: int = 1 << 22) -> list[str]:
        """Every raw dataset of every run that opens, read once through its checksum."""
        damaged = []
        for n in self.run_numbers():
            try:
                run = self.run(n)
            except SessionError:
                continue                       # named by damage()
            for k in run.window_numbers():
                try:
                    group = run.window(k).group
                except SessionError:
                    continue                   # named by damage()
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
        """The undamaged runs (the damaged ones are in `damaged_runs`, with why)."""
        return [self.run(n) for n in self.run_numbers() if n not in self.damaged_runs]


def run_window(run: RunView) -> int | None:
    """The run's triggered window (role "run"), else its first."""
    numbers = run.window_numbers()
    for k in numbers:
        if str(run.window(k).attrs.get("role", "run")) == "run":
            return k
    return numbers[0] if numbers else None
