"""CSV reports and trace export (docs/command-line.md: `report`, `trace`).

CSV conventions: UTF-8 with a byte-order mark (Excel detects the encoding;
pandas reads it as utf-8-sig), units in column names, ISO 8601 timestamps,
floats at full precision (Python's shortest round-trip repr, never 6
significant digits), empty cells for unknown values.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from app.bench.config import is_simulated
from app.errors import ReportError, SessionError
from app.measure.analysis import sample_stats
from app.session.reader import SessionReader

log = logging.getLogger(__name__)

RUN_FIELDS = ("run", "duration_s", "windows", "window_s", "avg_power_w", "idle_power_w", "energy_j",
              "dynamic_energy_j", "energy_method", "energy_source", "measurand", "fidelity", "ops", "j_per_gop",
              "uncertainty_j", "clipped", "warnings")
DETAIL_FIELDS = ("power_ci95_w", "clip_fraction_voltage", "clip_fraction_current")
SESSION_FIELDS = ("session_file", "session_created", "session_label", "session_uuid", "workload", "scope_idn",
                  "scope_driver", "scope_simulated", "target_kind", "target_host")
RUN_EXTRA = ("label", "params", "scored", "run_status", "run_reason", "run_started", "exit_status")
SUMMARY_STATS = ("energy_j", "dynamic_energy_j", "j_per_gop", "avg_power_w", "duration_s")
COLUMNS = (("row_type",) + SESSION_FIELDS + RUN_EXTRA + RUN_FIELDS + DETAIL_FIELDS + ("n_runs",)
           + tuple(f"{s}_{k}" for s in SUMMARY_STATS for k in ("mean", "std", "ci95")))


def cell(value: Any) -> str:
    """One CSV cell at full precision."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def session_run_rows(path: str | Path) -> list[dict[str, Any]]:
    """One row per run of one session file (runs without results still appear, marked)."""
    rows = []
    with SessionReader(path) as s:
        bench, target = s.group_attrs("bench"), s.group_attrs("target")
        base = {"row_type": "run", "session_file": str(path), "session_created": s.attrs.get("created"),
                "session_label": s.attrs.get("label"), "session_uuid": s.attrs.get("uuid"),
                "workload": s.workload_name, "scope_idn": bench.get("scope_idn"),
                "scope_driver": bench.get("scope_driver"),
                # the simulated scope says so in every row: its numbers are not measurements of a board
                "scope_simulated": is_simulated(str(bench.get("resource", ""))),
                "target_kind": target.get("kind"), "target_host": target.get("host")}
        for run in s.runs():
            row = dict(base)
            params = run.attrs.get("params")
            if isinstance(params, str):
                try:
                    params = json.loads(params)
                except ValueError:
                    pass
            row.update({"run": run.number, "run_status": run.status, "run_reason": run.attrs.get("reason"),
                        "run_started": run.attrs.get("started"), "exit_status": run.attrs.get("exit_status"),
                        "workload": run.attrs.get("workload") or base["workload"], "label": run.attrs.get("label") or "",
                        "params": params if params is not None else {},
                        "scored": bool(run.attrs.get("scored", True))})
            record = run.record or {}
            for key in RUN_FIELDS:
                if key in record:
                    row[key] = record[key]
            if "energy_source" not in record and record:
                row["energy_source"] = "scope (shunt)" if bench.get("scope_idn") else None
            details = run.details
            for key in DETAIL_FIELDS:
                row[key] = details.get(key)
            rows.append(row)
    return rows


def group_key(row: dict[str, Any]) -> tuple:
    """Runs are compared by their label, else by workload and parameters: gemm with n = 256 and n = 768 are
    different rows."""
    if row.get("label"):
        return ("label", row["label"])
    return ("workload", row.get("workload"), json.dumps(row.get("params") or {}, sort_keys=True))


def summary_rows(run_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per label (or workload and parameters) over its complete, scored runs: n, mean, std, 95 % CI."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in run_rows:
        if row.get("run_status") == "complete" and row.get("energy_j") is not None and row.get("scored", True):
            groups.setdefault(group_key(row), []).append(row)
    out = []
    for key, rows in groups.items():
        first = rows[0]
        summary: dict[str, Any] = {"row_type": "summary", "workload": first.get("workload"),
                                   "label": first.get("label") or "", "params": first.get("params") or {},
                                   "n_runs": len(rows)}
        for stat in SUMMARY_STATS:
            values = [float(r[stat]) for r in rows if r.get(stat) is not None]
            if not values:
                continue
            mean, std, ci = sample_stats(values)
            summary.update({f"{stat}_mean": mean, f"{stat}_std": std, f"{stat}_ci95": ci})
        out.append(summary)
    return out


def check_sessions(paths: Iterable[str | Path]) -> tuple[list[Path], dict[str, str]]:
    """The readable, undamaged sessions, and for each other one what is wrong (a file that does not open, or a
    raw block whose checksum does not match): the report goes on without them."""
    good: list[Path] = []
    bad: dict[str, str] = {}
    for p in paths:
        try:
            with SessionReader(p) as s:
                damaged = s.verify()
        except SessionError as exc:
            bad[str(p)] = str(exc)
            continue
        if damaged:
            bad[str(p)] = "damaged raw data: " + "; ".join(damaged[:5]) + (" …" if len(damaged) > 5 else "")
        else:
            good.append(Path(p))
    return good, bad


def build_report(paths: Iterable[str | Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    runs: list[dict[str, Any]] = []
    for p in paths:
        runs += session_run_rows(p)
    if not runs:
        raise ReportError("the sessions hold no runs; nothing to report")
    return runs, summary_rows(runs)


def write_report_csv(paths: Iterable[str | Path], out_csv: str | Path) -> tuple[int, int]:
    """Write the CSV report; returns (run rows, summary rows)."""
    runs, summaries = build_report(paths)
    out_csv = Path(out_csv)
    try:
        with open(out_csv, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            for row in runs + summaries:
                w.writerow([cell(row.get(c)) for c in COLUMNS])
    except OSError as exc:
        raise ReportError(f"cannot write {out_csv}: {exc}") from None
    log.info("report: %d runs, %d workloads -> %s", len(runs), len(summaries), out_csv)
    return len(runs), len(summaries)


# ---------------------------------------------------------------------------
# Trace export

TRACE_COLUMNS = ("time_s", "voltage_v", "current_a", "power_w")
TRACE_CHUNK = 1 << 16


@dataclass(frozen=True)
class TraceExport:
    rows: int
    t_first_s: float | None
    t_last_s: float | None


def export_trace(session: str | Path, run: int, window: int, out_csv: str | Path, *, start_s: float | None = None,
                 stop_s: float | None = None, every: int = 1,
                 progress: Callable[[float], None] | None = None) -> TraceExport:
    """Stream one window as CSV (time, V, I, P), in chunks: memory does not grow with the record."""
    if every < 1:
        raise ReportError(f"--every is {every}; it must be a whole number of samples, 1 or more")
    with SessionReader(session) as s:
        trace = s.run(run).window(window).trace()
        j0 = 0 if start_s is None else max(0, math.ceil((start_s - trace.x0) / trace.dx - 1e-9))
        j1 = trace.n if stop_s is None else min(trace.n, math.floor((stop_s - trace.x0) / trace.dx + 1e-9) + 1)
        if start_s is not None and stop_s is not None and stop_s < start_s:
            raise ReportError(f"--stop {stop_s} s comes before --start {start_s} s")
        rows, first, last = 0, None, None
        try:
            fh = open(out_csv, "w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ReportError(f"cannot write {out_csv}: {exc}") from None
        with fh:
            fh.write(",".join(TRACE_COLUMNS) + "\r\n")
            step = TRACE_CHUNK * every
            for c0 in range(j0, j1, step):
                c1 = min(j1, c0 + step)
                v, i, p = trace.arrays(c0, c1)
                idx = slice(0, c1 - c0, every)
                t = trace.x0 + (c0 + np.arange(0, c1 - c0, every)) * trace.dx
                # times as x0 + k·dx carry float noise in the last digits (0.00010000000000001674): 15 significant
                # digits keep every real digit of a scope's time axis and drop the noise
                lines = [f"{a:.15g},{b!r},{c!r},{d!r}" for a, b, c, d in
                         zip(t.tolist(), v[idx].tolist(), i[idx].tolist(), p[idx].tolist())]
                if lines:
                    first = lines[0] if first is None else first
                    last = lines[-1]
                    rows += len(lines)
                    fh.write("\r\n".join(lines) + "\r\n")
                if progress is not None:
                    progress((c1 - j0) / max(1, j1 - j0))
    if rows == 0:
        raise ReportError(f"no samples between --start and --stop; the window spans "
                          f"[{trace.t_first:.9g}, {trace.t_last:.9g}] s")
    return TraceExport(rows, float(first.split(",")[0]), float(last.split(",")[0]))

