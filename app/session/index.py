"""A lab's results index (docs/python-api.md, "The lab index"; `python main.py index FOLDER`).

One Parquet table of every run of every session under a folder (app/session/data.py's columns, plus a column
per parameter and per scalar board fact), and beside it a table of the files seen: each with its size, mtime,
checksum, what became of it and why. Indexing again only re-reads what changed:

- a file whose size and mtime (ns) are those of the last index is not opened; its rows are kept;
- a file whose size or mtime changed is opened and its checksum read (the session's SHA-256 metadata digest,
  app/session/integrity.py; a session written before digests: its uuid and creation time): the same checksum
  keeps the rows (a `touch`, a copy, an annotation added), another one re-reads the runs;
- a new file is read; a file gone is dropped.

Files named *.h5, *.hdf5 or *.partial are candidates; a damaged, partial (.partial), foreign HDF5 or non-HDF5 one
is listed with its reason in the files table and the walk goes on; other files are not looked at.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import h5py

from app.errors import SessionError
from app.session.data import (
    RUN_COLUMNS,
    expand_columns,
    partial_reason,
    reader_rows,
    session_context,
    typed_frame,
)
from app.session.data_export import parquet_ready
from app.session.extra import require
from app.session.format import FORMAT, read_attrs
from app.session.reader import SessionReader

log = logging.getLogger(__name__)

INDEX_NAME = "joulebench-index.parquet"
FILES_SUFFIX = ".files.parquet"
CANDIDATE_SUFFIXES = (".h5", ".hdf5", ".partial")
FILE_COLUMNS = (("path", "string"), ("size_bytes", "Int64"), ("mtime_ns", "Int64"), ("checksum", "string"),
                ("status", "string"), ("reason", "string"), ("runs", "Int64"), ("indexed_at", "string"))


@dataclass
class IndexResult:
    out: Path
    files_out: Path
    runs: Any                                   # the runs table (pandas DataFrame)
    files: Any                                  # the files table (pandas DataFrame)
    read: list[str] = field(default_factory=list)        # runs read (new, or checksum changed)
    checked: list[str] = field(default_factory=list)     # opened for the checksum only: unchanged
    unchanged: list[str] = field(default_factory=list)   # same size and mtime: not opened
    removed: list[str] = field(default_factory=list)
    bad: dict[str, str] = field(default_factory=dict)    # path -> why (also in the files table)

    @property
    def opened(self) -> list[str]:
        return self.read + self.checked


def files_path(out: Path) -> Path:
    return out.with_name(out.name[:-len(".parquet")] + FILES_SUFFIX if out.name.endswith(".parquet")
                         else out.name + FILES_SUFFIX)


def candidates(folder: Path, skip: set[Path]) -> list[Path]:
    out = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            p = Path(root) / name
            if name.lower().endswith(CANDIDATE_SUFFIXES) and p not in skip:
                out.append(p)
    return out


def checksum_of(s: SessionReader) -> str:
    digest = s.attrs.get("sha256")
    return f"sha256:{digest}" if digest else f"uuid:{s.attrs.get('uuid', '')}@{s.attrs.get('created', '')}"


def _previous(out: Path, fpath: Path):
    """The last index's runs (one frame, RUN_COLUMNS only) and files (by path); (None, {}) when there is none or
    it does not read."""
    pd = require("pandas", "the lab index")
    if not (out.exists() and fpath.exists()):
        return None, {}
    try:
        runs = pd.read_parquet(out)
        files = pd.read_parquet(fpath)
    except (OSError, ValueError) as exc:
        log.warning("the last index %s does not read (%s); indexing from scratch", out, exc)
        return None, {}
    runs = runs[[name for name, _, _ in RUN_COLUMNS if name in runs.columns]]
    return runs, {row["path"]: row for row in files.to_dict("records")}


def _read_session(path: Path, rel: str) -> tuple[str, list[dict[str, Any]], str, str | None]:
    """(checksum, rows, status, reason) of one session; SessionError when it does not read at all."""
    with SessionReader(path) as s:
        checksum = checksum_of(s)
        rows, left = reader_rows(s, {**session_context(s), "session_file": rel})
    return checksum, rows, ("ok" if not left else "runs left out"), ("; ".join(left) or None)


def _checksum_only(path: Path) -> str:
    """The checksum from the root's attributes alone (h5py, no digest recomputed): cheap for a touched file."""
    try:
        with h5py.File(path, "r") as f:
            attrs = read_attrs(f)
    except OSError as exc:
        raise SessionError(f"{path}: not a readable HDF5 file ({exc}); it is truncated, damaged or not a "
                           "session.") from None
    if attrs.get("format") != FORMAT:
        raise SessionError(f'{path}: an HDF5 file, but not a Joulebench session (no format="{FORMAT}" attribute).')
    digest = attrs.get("sha256")
    return f"sha256:{digest}" if digest else f"uuid:{attrs.get('uuid', '')}@{attrs.get('created', '')}"


def build_index(folder: str | Path, out: str | Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> IndexResult:
    """Index every session under `folder` into `out` (default FOLDER/joulebench-index.parquet), reading only what
    changed since the last index there."""
    pd = require("pandas", "the lab index")
    folder = Path(folder)
    if not folder.is_dir():
        raise SessionError(f"{folder}: not a folder; give the folder of sessions to index")
    out = Path(out) if out is not None else folder / INDEX_NAME
    fpath = files_path(out)
    prev_frame, prev_files = _previous(out, fpath)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    result = IndexResult(out, fpath, None, None)
    kept: set[str] = set()                      # files whose rows of the last index are kept
    new_rows: list[dict[str, Any]] = []
    file_rows: list[dict[str, Any]] = []
    found = candidates(folder, {out.resolve(), fpath.resolve()})
    for k, path in enumerate(found):
        rel = path.relative_to(folder).as_posix()
        try:
            st = path.stat()
        except OSError as exc:
            result.bad[rel] = f"cannot be read ({exc})"
            file_rows.append({"path": rel, "status": "bad", "reason": result.bad[rel], "indexed_at": now})
            continue
        entry = {"path": rel, "size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "indexed_at": now}
        before = prev_files.get(rel)
        same_stat = before is not None and before["size_bytes"] == st.st_size and before["mtime_ns"] == st.st_mtime_ns
        if same_stat:
            result.unchanged.append(rel)
            entry.update({key: before[key] for key in ("checksum", "status", "reason", "runs", "indexed_at")})
            if before["status"] == "bad":
                result.bad[rel] = before["reason"]
            else:
                kept.add(rel)
            file_rows.append(entry)
            continue
        entry.update(_index_one(path, rel, before, kept, new_rows, result))
        file_rows.append(entry)
        if progress is not None:
            progress(k + 1, len(found))
    result.removed = sorted(set(prev_files) - {row["path"] for row in file_rows})
    base = typed_frame(new_rows, expand=False)
    if prev_frame is not None and kept:
        old = prev_frame[prev_frame["session_file"].isin(kept)]
        base = pd.concat([old, base], ignore_index=True) if len(base) else old.reset_index(drop=True)
    base = base.sort_values(["session_file", "run"], kind="stable", ignore_index=True)
    result.runs = expand_columns(base.astype({name: dtype for name, dtype, _ in RUN_COLUMNS}))
    files = pd.DataFrame({name: pd.array([r.get(name) for r in file_rows], dtype=dtype)
                          for name, dtype in FILE_COLUMNS})
    result.files = files
    _write(result, folder)
    return result


def _index_one(path: Path, rel: str, before, kept: set[str], new_rows: list,
               result: IndexResult) -> dict[str, Any]:
    """Open one new or changed file: its file-table fields; its path added to `kept` (checksum unchanged: the
    last index's rows stay) or its rows read into `new_rows`."""
    why = partial_reason(path)
    if why is not None:
        result.bad[rel] = why
        return {"status": "bad", "reason": why, "runs": 0}
    try:
        if before is not None and before["status"] != "bad":
            checksum = _checksum_only(path)
            if checksum == before["checksum"]:
                result.checked.append(rel)
                kept.add(rel)
                return {"checksum": checksum, "status": before["status"], "reason": before["reason"],
                        "runs": before["runs"]}
        checksum, rows, status, reason = _read_session(path, rel)
    except SessionError as exc:
        result.bad[rel] = str(exc)
        return {"status": "bad", "reason": str(exc), "runs": 0}
    result.read.append(rel)
    new_rows += rows
    return {"checksum": checksum, "status": status, "reason": reason, "runs": len(rows)}


def _write(result: IndexResult, folder: Path) -> None:
    """Both tables, each written beside its final name and renamed over it (a reader never sees half a file)."""
    require("pyarrow", "the lab index")
    meta = json.dumps({"folder": str(folder.resolve()), "units": result.runs.attrs.get("units", {})})
    for frame, path in ((result.runs, result.out), (result.files, result.files_out)):
        tmp = path.with_name(path.name + ".tmp")
        table = parquet_ready(frame)
        table.attrs = {"joulebench_index": meta}
        try:
            table.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        except OSError as exc:
            raise SessionError(f"cannot write the index {path}: {exc}; check that the folder is writable "
                               "(or give --out elsewhere)") from None
