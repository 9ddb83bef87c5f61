"""Nordic Power Profiler (PPK2) CSV exports: `Timestamp(ms),Current(uA)[,D0-D7][,D0,D1,…,D7]`.

The Power Profiler app writes one row per sample: the time in milliseconds from the start of the recording, the
current in microamperes, and, when chosen, the eight digital inputs (each `0`, `1`, or `-`/`X` where the sample
averaged several states). The app leaves out samples it has no value for, so the rows are put back on the sample
grid (the median step of the timestamps) with NaN where a sample is missing (`attrs["missing_samples"]`).

What a PPK2 export lacks beside a Joulebench session: voltage (in ampere-meter mode the PPK2 does not measure
it; in source-meter mode it is a setting, not in the export): pass `supply_v` to get power and energy from the
set voltage, marked as set, not measured; also the workload and run boundaries, the bench and board facts, the
instrument's range switching and an uncertainty budget.

A file whose header is not the Power Profiler's, or that ends in the middle of a row (an export that did not
finish), is one SessionError naming the file and what is wrong.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from app.errors import SessionError
from app.session.extra import require
from app.session.imports.recording import Recording

TIME, CURRENT, BITS = "Timestamp(ms)", "Current(uA)", "D0-D7"
DIGITAL = tuple(f"D{k}" for k in range(8))
KNOWN = {TIME, CURRENT, BITS, *DIGITAL}
UA = 1e-6            # A per µA
MS = 1e-3            # s per ms


def _header(path: Path) -> list[str]:
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
            fh.seek(0, 2)
            size = fh.tell()
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"{path}: cannot be read as a Power Profiler CSV export ({exc}).") from None
    columns = [c.strip() for c in first.strip().split(",")] if first else []
    if not columns or not set(columns) <= KNOWN or CURRENT not in columns:
        raise SessionError(f"{path}: not a Power Profiler CSV export, or one of a version this import does not "
                           f"know: its header is {first.strip()[:80]!r}, expected '{TIME},{CURRENT}' (optionally "
                           f"with '{BITS}' or 'D0,…,D7'). Export again from the Power Profiler app with the "
                           "timestamp and current selected.")
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 1))
        if size and fh.read(1) not in (b"\n", b"\r"):
            raise SessionError(f"{path}: the last row has no line end: the export is truncated (it did not "
                               "finish). Export the range again from the Power Profiler app.")
    return columns


def open_ppk_csv(path: str | Path, *, supply_v: float | None = None,
                 sample_rate_hz: float | None = None) -> Recording:
    """A PPK2 CSV export as a read-only Recording (current in A; power only when `supply_v` is given).
    `sample_rate_hz` is needed only for an export without its timestamp column."""
    path = Path(path)
    if not path.is_file():
        raise SessionError(f"{path}: no such Power Profiler export.")
    pd = require("pandas", "reading a Power Profiler export")
    columns = _header(path)
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", usecols=[c for c in columns if c in (TIME, CURRENT, BITS)],
                            dtype={TIME: "float64", CURRENT: "float64", BITS: "string"}, skip_blank_lines=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise SessionError(f"{path}: a row does not parse as the Power Profiler's numbers ({exc}); the export is "
                           "damaged. Export it again.") from None
    needed = [c for c in (TIME, CURRENT) if c in columns]
    bad = np.flatnonzero(frame[needed].isna().to_numpy().any(axis=1))
    if len(bad):
        raise SessionError(f"{path}: line {int(bad[0]) + 2} is incomplete ({len(bad)} such rows): the export is "
                           "truncated or damaged. Export the range again from the Power Profiler app.")
    if len(frame) < 2:
        raise SessionError(f"{path}: the export holds {len(frame)} sample(s); at least 2 are needed.")
    amps = frame[CURRENT].to_numpy(dtype=np.float64) * UA
    attrs: dict = {"instrument": "Nordic PPK2", "current_as_exported": "µA, 3 decimals"}
    if TIME in columns:
        t_s = frame[TIME].to_numpy(dtype=np.float64) * MS
        amps, rate, missing = _on_grid(path, t_s, amps)
        attrs.update({"start_s_in_export": float(t_s[0]), "missing_samples": missing})
    elif sample_rate_hz and sample_rate_hz > 0:
        rate = float(sample_rate_hz)
    else:
        raise SessionError(f"{path}: the export has no {TIME} column; pass sample_rate_hz (the Power Profiler's "
                           "rate, 100000 Hz at full rate) or export again with the timestamp selected.")
    signals = {"current": _slicer(amps)}
    lacks = ["voltage: the PPK2 measures none in ampere-meter mode, and its export holds none in source-meter "
             "mode" + ("" if supply_v is None else f" (power from the supply_v given, {supply_v} V, not measured)"),
             "the workload and its run boundaries (begin, end): the export is one span",
             "the bench, the board's facts, the range switching and an uncertainty budget"]
    if supply_v is not None:
        if not (math.isfinite(supply_v) and supply_v > 0):
            raise SessionError(f"supply_v is {supply_v}; give the source-meter voltage in volts (above 0)")
        signals["voltage"] = _slicer(np.full(len(amps), float(supply_v)))
        signals["power"] = _slicer(amps * float(supply_v))
        attrs["voltage_source"] = "set (supply_v), not measured"
    if BITS in columns:
        attrs["digital_note"] = "D0-D7 are in the export; read them with pandas if needed (not imported)"
    return Recording(path, "Nordic Power Profiler CSV", rate, len(amps), signals, lacks, attrs)


def _on_grid(path: Path, t_s: np.ndarray, amps: np.ndarray) -> tuple[np.ndarray, float, int]:
    steps = np.diff(t_s)
    if np.any(steps <= 0):
        k = int(np.flatnonzero(steps <= 0)[0])
        raise SessionError(f"{path}: the timestamps go back or repeat at line {k + 3}; the export is damaged.")
    dt = float(np.median(steps))
    index = np.rint((t_s - t_s[0]) / dt).astype(np.int64)
    if np.max(np.abs((t_s - t_s[0]) / dt - index)) > 0.25:
        raise SessionError(f"{path}: the timestamps are not on one sample grid (median step {dt * 1e6:.6g} µs); "
                           "this import reads fixed-rate exports only")
    grid = np.full(int(index[-1]) + 1, np.nan)
    grid[index] = amps
    return grid, 1.0 / dt, int(len(grid) - len(amps))


def _slicer(values: np.ndarray):
    return lambda j0, j1: values[j0:j1]
