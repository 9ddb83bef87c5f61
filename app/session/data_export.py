"""Exports in the ecosystem's forms (docs/python-api.md, "Exports"): a range of a window (or of another tool's
recording) at full resolution to CSV with a time column or to Parquet, streamed chunk by chunk so memory does not
grow with the range; the results table to Parquet.

Columns carry their units in their names (`time_s`, `voltage_v`, `current_a`, `power_w`); the CSV follows the
report's conventions (app/report/tables.py: UTF-8 with a byte-order mark, floats at full precision, times at 15
significant digits); the Parquet files keep the context (session, run, window, time origin, units) as JSON in
the file's key-value metadata under `joulebench`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import SessionError
from app.session.extra import require

log = logging.getLogger(__name__)

SUFFIX_UNITS = {"V": "v", "A": "a", "W": "w"}
FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class RangeExport:
    path: Path
    rows: int
    t_first_s: float | None
    t_last_s: float | None


def column_names(source) -> list[str]:
    return ["time_s"] + [f"{name}_{SUFFIX_UNITS[unit]}" for name, unit in source.columns()]


def export_range(source, path: str | Path, start_s: float | None = None, stop_s: float | None = None,
                 fmt: str | None = None, chunk: int = 1 << 16) -> RangeExport:
    """Write [start_s, stop_s] of `source` (a session window: Session.window(); or a Recording) to `path`, CSV
    or Parquet by `fmt` or the path's suffix."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise SessionError(f"{path}: export as {fmt!r} is not known; use a .csv or .parquet path (or fmt=)")
    names = column_names(source)
    chunks = source.iter_chunks(start_s, stop_s, chunk)
    try:
        if fmt == "csv":
            rows, first, last = _csv(path, names, chunks)
        else:
            rows, first, last = _parquet(path, names, chunks, source.context())
    except OSError as exc:
        raise SessionError(f"cannot write {path}: {exc}; check the folder and the free space") from None
    log.info("exported %d samples to %s", rows, path)
    return RangeExport(path, rows, first, last)


def _csv(path: Path, names: list[str], chunks) -> tuple[int, float | None, float | None]:
    rows, first, last = 0, None, None
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(",".join(names) + "\r\n")
        for t, values in chunks:
            cols = [t.tolist()] + [values[n.rsplit("_", 1)[0]].tolist() for n in names[1:]]
            lines = [",".join([f"{row[0]:.15g}"] + ["" if x != x else repr(x) for x in row[1:]])
                     for row in zip(*cols)]
            if lines:
                first = float(t[0]) if first is None else first
                last = float(t[-1])
                rows += len(lines)
                fh.write("\r\n".join(lines) + "\r\n")
    return rows, first, last


def _metadata(context: dict[str, Any], names: list[str]) -> dict[bytes, bytes]:
    units = {n: n.rsplit("_", 1)[1].upper() if n != "time_s" else "s" for n in names}
    return {b"joulebench": json.dumps({"context": context, "units": units}, default=str).encode()}


def _parquet(path: Path, names: list[str], chunks, context: dict[str, Any]):
    pa = require("pyarrow", "a Parquet export")
    pq = require("pyarrow.parquet", "a Parquet export")
    schema = pa.schema([(n, pa.float64()) for n in names], metadata=_metadata(context, names))
    rows, first, last = 0, None, None
    with pq.ParquetWriter(str(path), schema) as writer:
        for t, values in chunks:
            arrays = [pa.array(t)] + [pa.array(np.asarray(values[n.rsplit("_", 1)[0]], dtype=np.float64))
                                      for n in names[1:]]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            if len(t):
                first = float(t[0]) if first is None else first
                last = float(t[-1])
                rows += len(t)
    return rows, first, last


def parquet_ready(frame):
    """The frame with every object column made one Parquet type (text where values mix)."""
    pd = require("pandas")
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = pd.array([None if v is None or v is pd.NA else v if isinstance(v, str) else json.dumps(v)
                                  for v in out[name]], dtype="string")
    return out


def write_runs_parquet(frame, path: str | Path) -> Path:
    """The results table (Session.runs(), runs_frame()) to Parquet, its units in the file's metadata."""
    require("pyarrow", "a Parquet export")
    path = Path(path)
    table = parquet_ready(frame)
    table.attrs = {"units": frame.attrs.get("units", {})}
    try:
        table.to_parquet(path, index=False)
    except OSError as exc:
        raise SessionError(f"cannot write {path}: {exc}; check the folder and the free space") from None
    return path
