"""Sessions as data (docs/python-api.md): runs as a pandas DataFrame, one session or a folder of them.

Built on the lazy reader (app/session/reader.py): `open_session` names a file and reads nothing until asked;
`Session.runs()` is one row per run with typed columns whose names carry their units; `runs_frame` is the same
over many sessions (a folder is walked for `*.h5`), leaving out each file that does not read with its reason
in `frame.attrs["skipped"]`; `runs_dask` is the same table as a dask DataFrame, one task per file, for a
folder too large for one process (run it on dask's local scheduler or on a cluster).

pandas, xarray, pyarrow and dask are an optional extra (`pip install -r requirements-data.txt`): the app runs
without them, and this module says so by name when one is missing (`DataExtraMissing`).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, Iterable

from app.errors import SessionError
from app.session.data_traces import WindowData
from app.session.extra import DataExtraMissing, require  # noqa: F401  (DataExtraMissing: part of the API)
from app.session.format import PARTIAL_SUFFIX
from app.session.reader import RunView, SessionReader

log = logging.getLogger(__name__)

SESSION_SUFFIX = ".h5"

# (column, pandas dtype, unit or "" for none); the order of the table. Energies are the record's; `_u_` columns
# are the expanded uncertainties (coverage factor in `coverage_k`).
RUN_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("session_file", "string", ""), ("session_uuid", "string", ""), ("session_created", "string", "ISO 8601 UTC"),
    ("session_label", "string", ""), ("session_status", "string", ""), ("run", "Int64", ""),
    ("status", "string", ""), ("reason", "string", ""), ("started", "string", "ISO 8601 UTC"),
    ("label", "string", ""), ("workload", "string", ""), ("params", "string", "JSON"),
    ("scored", "boolean", ""), ("energy_j", "float64", "J"), ("energy_u_j", "float64", "J"),
    ("dynamic_energy_j", "float64", "J"), ("dynamic_energy_u_j", "float64", "J"), ("duration_s", "float64", "s"),
    ("avg_power_w", "float64", "W"), ("idle_power_w", "float64", "W"), ("ops", "float64", "operations"),
    ("j_per_gop", "float64", "J/GOp"), ("j_per_gop_u", "float64", "J/GOp"), ("units", "string", ""),
    ("units_count", "float64", "units"), ("j_per_unit", "float64", "J/unit"), ("j_per_unit_u", "float64", "J/unit"),
    ("dynamic_j_per_unit", "float64", "J/unit"), ("units_per_s", "float64", "units/s"),
    ("latency_s", "float64", "s"), ("phases", "string", "JSON"), ("coverage_k", "float64", ""),
    ("energy_method", "string", ""), ("energy_source", "string", ""), ("windows", "Int64", ""),
    ("window_s", "float64", "s"), ("clipped", "boolean", ""), ("partial", "boolean", ""),
    ("alignment", "string", ""), ("idle_source", "string", ""), ("warnings", "string", "; -separated"),
    ("exit_status", "Int64", ""), ("telemetry_energy_j", "float64", "J"), ("scope_idn", "string", ""),
    ("scope_driver", "string", ""), ("resource", "string", ""), ("target_kind", "string", ""),
    ("target_host", "string", ""), ("board_facts", "string", "JSON"), ("operator", "string", ""),
    ("notes", "string", ""), ("problem", "string", ""),
)
UNITS = {name: unit for name, _, unit in RUN_COLUMNS if unit}
# record field -> column, where the names differ
RECORD_RENAMES = {"uncertainty_j": "energy_u_j", "dynamic_uncertainty_j": "dynamic_energy_u_j",
                  "j_per_gop_uncertainty": "j_per_gop_u", "j_per_unit_uncertainty": "j_per_unit_u"}


def _json(text: Any, default: Any) -> Any:
    if not isinstance(text, str) or not text:
        return default if text is None or isinstance(text, str) else text
    try:
        return json.loads(text)
    except ValueError:
        return default


def session_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """A folder (walked for *.h5, and *.h5.partial so that they are named), a file, or a list of either; sorted."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file() and
                          (q.name.endswith(SESSION_SUFFIX) or q.name.endswith(SESSION_SUFFIX + PARTIAL_SUFFIX)))
        else:
            out.append(p)
    return out


def partial_reason(path: Path) -> str | None:
    if path.name.endswith(PARTIAL_SUFFIX):
        return ("a capture still being written, or one whose process died (.partial): it is left out until it is "
                "closed; `report` reads it when asked by name")
    return None


# ---------------------------------------------------------------------------------------------------------------
# Rows

def session_context(s: SessionReader) -> dict[str, Any]:
    """The columns every run of a session shares."""
    bench, target = s.group_attrs("bench"), s.group_attrs("target")
    facts = target.get("facts")
    return {"session_file": str(s.path), "session_uuid": s.attrs.get("uuid"),
            "session_created": s.attrs.get("created"), "session_label": s.attrs.get("label"),
            "session_status": s.status, "workload": s.workload_name, "scope_idn": bench.get("scope_idn"),
            "scope_driver": bench.get("scope_driver"), "resource": bench.get("resource"),
            "target_kind": target.get("kind"), "target_host": target.get("host"),
            "board_facts": facts if isinstance(facts, str) else json.dumps(facts or {}),
            "operator": s.attrs.get("operator"), "notes": s.attrs.get("notes")}


def run_row(run: RunView, base: dict[str, Any]) -> dict[str, Any]:
    """One run's row: the session's columns, the run's own, and its record's (None where it has none)."""
    row = dict(base)
    params = _json(run.attrs.get("params"), {})
    row.update({"run": run.number, "status": run.status, "reason": run.attrs.get("reason"),
                "started": run.attrs.get("started"), "label": run.attrs.get("label") or "",
                "workload": run.attrs.get("workload") or base.get("workload"),
                "params": json.dumps(params if params is not None else {}, sort_keys=True),
                "scored": bool(run.attrs.get("scored", True)), "exit_status": run.attrs.get("exit_status")})
    record = run.record or {}
    for key, value in record.items():
        column = RECORD_RENAMES.get(key, key)
        if column == "warnings":
            continue
        if column in UNITS or column in ("energy_method", "energy_source", "windows", "clipped", "partial",
                                         "alignment", "idle_source", "units"):
            row[column] = value
    if record:
        row["warnings"] = "; ".join(str(w) for w in record.get("warnings") or [])
    if record and "energy_source" not in record:
        row["energy_source"] = "scope (shunt)" if base.get("scope_idn") else None
    return row


def reader_rows(s: SessionReader, base: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every undamaged run of an open session as a row on `base`, and what was left out ('run N: why').
    SessionError when the session's own metadata is damaged."""
    own = getattr(s, "session_damage", None)
    if own:
        raise SessionError(f"{s.path}: the session's own metadata is damaged: {own}")
    damaged = dict(getattr(s, "damaged_runs", {}))
    rows, left_out = [], [f"run {n}: {why}" for n, why in damaged.items()]
    for n in s.run_numbers():
        if n in damaged:
            continue
        try:
            rows.append(run_row(s.run(n), base))
        except SessionError as exc:
            left_out.append(f"run {n}: {exc}")
    return rows, left_out


def session_rows(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every undamaged run of one file as a row, and what was left out ('run N: why'). SessionError when the
    file itself does not read."""
    with SessionReader(path) as s:
        return reader_rows(s, session_context(s))


def _cell(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def typed_frame(rows: list[dict[str, Any]], expand: bool = True):
    """The rows as a DataFrame of RUN_COLUMNS' types; with `expand`, each parameter (and each scalar board fact)
    also gets a column of its own: `param_n`, `board_uname`."""
    pd = require("pandas")
    data = {name: pd.array([_cell(r.get(name)) for r in rows], dtype=dtype) for name, dtype, _ in RUN_COLUMNS}
    frame = pd.DataFrame(data)
    frame.attrs["units"] = dict(UNITS)
    return expand_columns(frame) if expand else frame


def expand_columns(frame):
    """The frame with a column for each parameter (`param_n`) and each scalar board fact (`board_uname`), taken
    from the JSON in `params` and `board_facts`."""
    pd = require("pandas")
    extra = {}
    for prefix, source in (("param_", "params"), ("board_", "board_facts")):
        dicts = [_json(None if v is pd.NA else v, {}) for v in frame[source]]
        keys = sorted({k for d in dicts if isinstance(d, dict) for k in d})
        for key in keys:
            values = [d.get(key) if isinstance(d, dict) else None for d in dicts]
            if prefix == "board_" and any(isinstance(v, (dict, list)) for v in values):
                continue                                # nested facts stay in board_facts (JSON)
            extra[prefix + key] = column_of(values)
    if not extra:
        return frame
    out = pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)
    out.attrs = dict(frame.attrs)
    return out


def column_of(values: list[Any]):
    """A typed column: numbers as float64, booleans as boolean, else text (JSON for containers)."""
    pd = require("pandas")
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.array([float("nan") if v is None else float(v) for v in values], dtype="float64")
    return pd.array([None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values],
                    dtype="string")


def runs_frame(paths: str | Path | Iterable[str | Path], expand: bool = True):
    """One row per run over every session in `paths` (a folder, a file, or a list). Files that do not read, and
    damaged runs, are left out with their reason in `frame.attrs["skipped"]` ({path: why}); the rest go on."""
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for path in session_files(paths):
        why = partial_reason(path)
        if why is not None:
            skipped[str(path)] = why
            continue
        try:
            got, left_out = session_rows(path)
        except SessionError as exc:
            skipped[str(path)] = str(exc)
            continue
        rows += got
        for line in left_out:
            skipped[f"{path}: {line.split(':')[0]}"] = line
    for path, why in skipped.items():
        log.warning("left out %s: %s", path, why)
    frame = typed_frame(rows, expand)
    frame.attrs["skipped"] = skipped
    return frame


def _file_frame(path: str):
    """One dask partition: a file's runs, or one row naming the file in `problem` when it does not read."""
    why = partial_reason(Path(path))
    if why is None:
        try:
            rows, _ = session_rows(path)
            return typed_frame(rows, expand=False)
        except SessionError as exc:
            why = str(exc)
    return typed_frame([{"session_file": path, "problem": why}], expand=False)


def runs_dask(paths: str | Path | Iterable[str | Path]):
    """The runs of every session as a dask DataFrame: one task per file, the columns of RUN_COLUMNS (parameters
    stay JSON in `params`). A file that does not read gives one row with its reason in `problem` and the other
    columns empty: `frame[frame.problem.isna()]` is the runs. Compute with any dask scheduler."""
    dd = require("dask.dataframe", "a dask frame of sessions")
    files = [str(p) for p in session_files(paths)]
    meta = typed_frame([], expand=False)
    if not files:
        raise SessionError(f"no session files (*.h5) in {paths}; point at a folder of sessions")
    return dd.from_map(_file_frame, files, meta=meta, enforce_metadata=False)


class Session:
    """A session file, opened on first use (nothing is read by `open_session`). Use as a context manager or call
    close(); `reader` is the underlying SessionReader for anything not wrapped here."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._reader: SessionReader | None = None

    @property
    def reader(self) -> SessionReader:
        if self._reader is None:
            self._reader = SessionReader(self.path)
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def runs(self, expand: bool = True):
        """One row per undamaged run (see RUN_COLUMNS); damaged runs named in `frame.attrs["skipped"]`."""
        s = self.reader
        own = getattr(s, "session_damage", None)
        if own:
            raise SessionError(f"{self.path}: the session's own metadata is damaged: {own}")
        base = session_context(s)
        damaged = dict(getattr(s, "damaged_runs", {}))
        rows = [run_row(s.run(n), base) for n in s.run_numbers() if n not in damaged]
        frame = typed_frame(rows, expand)
        frame.attrs["skipped"] = {f"{self.path}: run {n}": why for n, why in damaged.items()}
        return frame

    def window(self, run: int, window: int | None = None):
        """A window of a run (default: its triggered window) as a `WindowData` (app/session/data_traces.py)."""
        return WindowData(self.reader, run, window)


def open_session(path: str | Path) -> Session:
    """A session by path, read lazily; `SessionError` on first use when the file is not a readable session."""
    p = Path(path)
    if not p.exists():
        raise SessionError(f"{p}: no such session file.")
    return Session(p)
