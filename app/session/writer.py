"""Writing a session file (docs/sessions.md), atomically.

The file is created exclusively under `NAME.h5.partial` (never over an existing file) and renamed to `NAME.h5`
when it is closed, by a rename that refuses to replace a file of that name (app/system/no_replace.py), so a
reader never sees half a file under the final name and no session is ever overwritten. Before each channel is
written the free space of the disk is checked (`ensure_space`): a capture that would fill the disk stops with a
clear error while there is still room to close the file, which then holds every finished run. At each window's
and run's end, and again at close, SHA-256 digests of the metadata are stored (app/session/integrity.py). A run or
a whole session that fails midway is still closed and renamed with what was
captured, marked `status = "incomplete"` with the reason; if the process
itself dies, the `.partial` file stays on disk with every window that was
flushed.

Raw codes are stored exactly as received (int8/uint8/int16), chunked; the
per-row summary of the power trace (app/measure/energy.py) is stored beside them as
the first level of a min/max overview pyramid, so a long record draws and its
markers integrate without reading the codes.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import shutil
import uuid as _uuid
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from h5py import h5s

from app.errors import SessionError
from app.measure import scan_kernel
from app.measure.energy import ROW, TraceSummary
from app.session import integrity
from app.session.format import (
    APP_VERSION,
    CHANNEL_UNITS,
    FORMAT,
    FORMAT_VERSION,
    OVERVIEW_DTYPE,
    OVERVIEW_FACTOR,
    PARTIAL_SUFFIX,
    RAW_CHUNK_SAMPLES,
    SUMMARY_COLUMNS,
    SUMMARY_UNITS,
    X_FORMULA_ATTR,
    run_name,
    set_attrs,
    window_name,
)
from app.session.overview import overview_rows, overview_tables
from app.system import writeback
from app.system.no_replace import rename_no_replace
from instruments.waveform import X_FORMULA, Y_FORMULA, Waveform

log = logging.getLogger(__name__)
COMPRESSIONS = ("none", "deflate")
DIRECT_CHUNKS = True       # tests switch it to compare with HDF5's own filter
RESERVE_BYTES = 8 << 20    # left free on the disk at every write: room to finish the run and close the file


def utc_now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RunWriter:
    """One run being written; windows are flushed to disk as they arrive."""

    def __init__(self, session: "SessionWriter", group: h5py.Group, number: int):
        self._session = session
        self.group = group
        self.number = number
        self.windows = 0

    def add_window(self, voltage: Waveform, current: Waveform, summary: TraceSummary,
                   current_scaling: dict[str, Any], voltage_extra: dict[str, Any] | None = None,
                   attrs: dict[str, Any] | None = None, marker: Waveform | None = None) -> int:
        """Store one window's raw codes of both channels (and the marker channel, if any) and the power summary."""
        w = self.begin_window()
        w.write_channel("voltage", voltage, voltage_extra or {})
        w.write_channel("current", current, current_scaling)
        if marker is not None:
            w.write_channel("marker", marker, {"role": "begin/end marker GPIO"})
        w.finish(summary, attrs)
        return w.number

    def begin_window(self) -> "WindowWriter":
        """A window whose channels are written as they arrive (`WindowWriter`)."""
        self.windows += 1
        g = self.group.require_group("windows").create_group(window_name(self.windows))
        set_attrs(g, {"row_samples": ROW, "status": "incomplete", "reason": "still being downloaded"})
        return WindowWriter(self._session, g, self.windows)

    def set_telemetry(self, samples: list[dict[str, Any]]) -> None:
        """On-board sensor samples: time_s (board clock), rail, volts, amps, watts, counter_j, time_span_s
        (NaN: not given)."""
        if not samples:
            return
        dt = np.dtype([("time_s", "f8"), ("rail", h5py.string_dtype()), ("volts", "f8"),
                       ("amps", "f8"), ("watts", "f8"), ("counter_j", "f8"), ("time_span_s", "f8")])
        arr = np.array([(s["time_s"], s["rail"], s["volts"], s["amps"], s["watts"], s.get("counter_j", np.nan),
                         s.get("time_span_s", np.nan)) for s in samples], dtype=dt)
        ds = self.group.create_dataset("telemetry", data=arr)
        ds.attrs["units"] = ('{"time_s": "s (board monotonic)", "volts": "V", "amps": "A", "watts": "W", '
                             '"counter_j": "J (cumulative energy counter, NVML)", '
                             '"time_span_s": "s (width of the timed bracket around the reading; time_s is its '
                             'middle)"}')
        if any(str(s["rail"]).startswith("NVML_") for s in samples):
            ds.attrs["nvml_note"] = ("NVML power is the driver's running average (about 1 s on recent GPUs), "
                                     "sampled every launcher interval; the energy counter has mJ resolution. "
                                     "NVML covers the GPU only, not the whole board.")

    def finish(self, attrs: dict[str, Any], record: dict[str, Any] | None = None,
               details: dict[str, Any] | None = None, status: str = "complete", reason: str = "") -> None:
        set_attrs(self.group, {**attrs, "status": status, "reason": reason, "windows": self.windows})
        if record is not None:
            res = self.group.require_group("results")
            set_attrs(res, record)
            set_attrs(res, {"record_json": record, "details_json": details or {}})
        integrity.seal(self.group, integrity.run_digest(self.group))
        self._session.flush()


def write_chunks_direct(ds: h5py.Dataset, start: int, codes: np.ndarray) -> None:
    """Write whole chunks straight to the file with their Fletcher-32 appended, as HDF5's filter would (the
    last chunk padded to the chunk size); a piece that does not cover a whole chunk goes through HDF5."""
    chunk = ds.chunks[0]
    n = ds.shape[0]
    itemsize = codes.dtype.itemsize
    size = chunk * itemsize
    buf = None                  # one buffer for every chunk of this piece: fresh pages would fault on each
    pos = 0
    while pos < len(codes):
        at = start + pos
        c0 = (at // chunk) * chunk
        c1 = min(c0 + chunk, n)
        take = min(len(codes) - pos, c1 - at)
        if at != c0 or at + take != c1:                     # a partial chunk: let HDF5 merge it
            ds[at:at + take] = codes[pos:pos + take]
        else:
            if buf is None:
                buf = np.empty(size + 4, dtype=np.uint8)
            buf[:take * itemsize] = codes[pos:pos + take].view(np.uint8)
            buf[take * itemsize:size] = 0                      # the last chunk is padded, as HDF5 pads it
            buf[size:] = np.frombuffer(int(scan_kernel.fletcher32(buf[:size])).to_bytes(4, "little"), np.uint8)
            ds.id.write_direct_chunk((c0,), buf, 0)
        pos += take


class WindowWriter:
    """One window of a run: channels created with their length, codes written in whole HDF5 chunks as they
    arrive (`create_channel` + `write_codes`), or at once (`write_channel`); `finish` adds the scaling, the
    power summary and its overview pyramid."""

    def __init__(self, session: "SessionWriter", group: h5py.Group, number: int):
        self._session = session
        self.group = group
        self.number = number
        self._channels: dict[str, h5py.Dataset] = {}          # opened once: a lookup by name costs ~0.1 ms
        self._overview_levels: list[h5py.Dataset] | None = None

    def create_channel(self, name: str, dtype, n: int) -> h5py.Dataset:
        self._session.ensure_space(int(n) * np.dtype(dtype).itemsize, f"{name} of window {self.number}")
        self._channels[name] = self._session._create_codes(self.group, name, np.dtype(dtype), n)
        return self._channels[name]

    def _channel(self, name: str) -> h5py.Dataset:
        return self._channels[name] if name in self._channels else self.group[name]

    def write_codes(self, name: str, start: int, codes: np.ndarray) -> None:
        ds = self._channel(name)
        if self._session.direct_chunks and ds.fletcher32 and ds.compression is None:
            write_chunks_direct(ds, start, np.ascontiguousarray(codes))
        elif len(codes):
            ds[start:start + len(codes)] = codes
        self._session.start_writeback()

    def set_scaling(self, name: str, wave: Waveform, extra: dict[str, Any]) -> None:
        self._session._channel_attrs(self._channel(name), wave, extra)

    def write_channel(self, name: str, wave: Waveform, extra: dict[str, Any]) -> None:
        codes = np.asarray(wave.codes)
        self.create_channel(name, codes.dtype, len(codes))
        self.write_codes(name, 0, codes)
        self.set_scaling(name, wave, extra)

    def finish(self, summary: TraceSummary, attrs: dict[str, Any] | None = None) -> None:
        set_attrs(self.group, {"clip_fraction_voltage": summary.clip_voltage,
                               "clip_fraction_current": summary.clip_current, "status": "complete", "reason": "",
                               **(attrs or {})})
        tables = overview_tables(summary)
        levels = self._overview_levels
        if levels is None or [ds.shape[0] for ds in levels] != [len(t) for t in tables]:
            levels = self.prepare_overview(summary.n)
        for ds, table in zip(levels, tables):
            ds.id.write(h5s.ALL, h5s.ALL, table)          # the whole table, as it is in the file
        integrity.seal_window(self.group)
        self._session.flush()
        self._session.start_writeback()       # the disk takes the window's last pieces while the run is analysed

    def prepare_overview(self, power_samples: int) -> list[h5py.Dataset]:
        """The overview group and its empty tables, whose shapes the record's length fixes (done while the record
        arrives, so that `finish` only fills them): one table per level, a named column per aggregate (HDFView
        and h5dump show it as a table)."""
        if "overview" in self.group:
            del self.group["overview"]
        self._overview_levels = None
        rows = overview_rows(power_samples)
        ov = self.group.create_group("overview")
        set_attrs(ov, {"row_samples": [ROW * OVERVIEW_FACTOR ** k for k in range(len(rows))],
                       "columns": list(SUMMARY_COLUMNS), "units": SUMMARY_UNITS, "power_samples": power_samples,
                       "description": "per-row aggregates of P = V*I; level k covers row_samples[k] samples a row"})
        unfilled = np.full((), np.nan, dtype=[(name, "f8") for name in SUMMARY_COLUMNS]).astype(OVERVIEW_DTYPE)
        # NaN until filled: a crash before `finish` leaves no fake zeros
        self._overview_levels = [ov.create_dataset(f"level{k}", shape=(count,), dtype=OVERVIEW_DTYPE,
                                                   fillvalue=unfilled) for k, count in enumerate(rows)]
        return self._overview_levels

    def abandon(self, reason: str, arrived: dict[str, int]) -> None:
        """The download stopped: keep what arrived, and say how much (and no overview: it was never computed)."""
        if "overview" in self.group:
            del self.group["overview"]
        self._overview_levels = None
        set_attrs(self.group, {"status": "incomplete", "reason": reason, "samples_arrived": arrived})
        integrity.seal_window(self.group)
        self._session.flush()


class SessionWriter:
    """Create a session file; use as a context manager so that it is always closed and renamed."""

    def __init__(self, path: str | Path, *, bench_toml: str, resource: str, scope_idn: str = "",
                 scope_driver: str = "", voltage_applied: dict | None = None,
                 current_applied: dict | None = None, target: dict | None = None,
                 workload: dict | None = None, label: str = "", operator: str = "", notes: str = "",
                 compression: str = "none", campaign: dict | None = None):
        if compression not in COMPRESSIONS:
            raise SessionError(f'compression "{compression}" is not known; use one of {", ".join(COMPRESSIONS)}')
        self.path = Path(path)
        self.partial_path = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        self.compression = compression
        # raw chunks written directly with a compiled Fletcher-32 (numba), else through HDF5's own filter
        self.direct_chunks = scan_kernel.AVAILABLE and DIRECT_CHUNKS
        self._runs = 0
        self._status, self._reason = "complete", ""
        self.file = None
        if self.path.exists():
            raise SessionError(f"{self.path} already exists; a session is never written over another. Choose "
                               "another name (captures name their sessions uniquely).")
        existed = self.partial_path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.ensure_space(0, "session file")
            self.file = h5py.File(self.partial_path, "x", libver=("earliest", "v110"))    # exclusive create
        except OSError as exc:
            if existed or isinstance(exc, FileExistsError):
                raise SessionError(f"cannot create the session file {self.partial_path}: a file of that name "
                                   "exists (another capture is writing it); nothing was overwritten.") from None
            self._remove_partial()
            raise SessionError(f"cannot create the session file {self.partial_path}: {one_line(exc)}. "
                               f"Check that the folder is writable and the disk is not full"
                               f"{free_space_note(self.path.parent)}.") from None
        try:
            self._write_header(bench_toml, resource, scope_idn, scope_driver, voltage_applied, current_applied,
                               target, workload, label, operator, notes, campaign)
        except (OSError, RuntimeError, ValueError, SessionError) as exc:
            self._abandon_file()
            raise SessionError(f"cannot write the session file {self.partial_path}: {one_line(exc)}. Nothing was "
                               f"captured yet; free some disk space{free_space_note(self.path.parent)}.") from None
        try:
            self._fd: int | None = int(self.file.id.get_vfd_handle())
        except (ValueError, TypeError, RuntimeError):       # a driver without one file descriptor
            self._fd = None

    def _write_header(self, bench_toml, resource, scope_idn, scope_driver, voltage_applied, current_applied,
                      target, workload, label, operator, notes, campaign) -> None:
        f = self.file
        self.uuid = str(_uuid.uuid4())
        set_attrs(f, {"format": FORMAT, "format_version": FORMAT_VERSION, "created": utc_now_iso(),
                      "app_version": APP_VERSION, "uuid": self.uuid, "label": label, "operator": operator,
                      "notes": notes, "status": "incomplete", "reason": "still being written"})
        b = f.create_group("bench")
        set_attrs(b, {"toml": bench_toml, "scope_idn": scope_idn, "scope_driver": scope_driver,
                      "resource": resource})
        for name, applied in (("voltage", voltage_applied), ("current", current_applied)):
            g = b.create_group(name)
            applied = applied or {}
            set_attrs(g, applied)
            g.attrs["units"] = _units_json(applied)
        set_attrs(f.create_group("target"), target or {})
        set_attrs(f.create_group("workload"), workload or {})
        if campaign is not None:
            set_attrs(f.create_group("campaign"), campaign)
        f.create_group("runs")
        self.flush()

    def _remove_partial(self) -> None:
        """Ours (created exclusively) and holding nothing: no 0-byte leftover."""
        try:
            self.partial_path.unlink()
        except OSError:
            pass

    def _abandon_file(self) -> None:
        try:
            if self.file is not None:
                self.file.close()
        except (OSError, RuntimeError, ValueError):
            pass
        self.file = None
        self._remove_partial()

    def ensure_space(self, nbytes: int, what: str) -> None:
        """Refuse to write `nbytes` more when that would leave less than RESERVE_BYTES free: the capture stops
        while the file can still be closed with every finished run (HDF5 itself does not recover from a full
        disk mid-write)."""
        try:
            free = shutil.disk_usage(self.partial_path.parent).free
        except OSError:
            return
        if free - nbytes < RESERVE_BYTES:
            raise SessionError(f"the disk holding {self.partial_path.parent} is nearly full: {free / 2**20:.1f} MiB "
                               f"free, and the {what} needs {nbytes / 2**20:.1f} MiB plus "
                               f"{RESERVE_BYTES / 2**20:.0f} MiB kept to close the file. The capture stopped; "
                               "every finished run is saved. Free some space or choose another --out folder")

    def add_campaign_attrs(self, attrs: dict[str, Any]) -> None:
        set_attrs(self.file.require_group("campaign"), attrs)
        self.flush()

    # -- runs -----------------------------------------------------------------
    def begin_run(self, attrs: dict[str, Any] | None = None) -> RunWriter:
        self._runs += 1
        g = self.file["runs"].create_group(run_name(self._runs))
        set_attrs(g, {"started": utc_now_iso(), "status": "incomplete", "reason": "still being captured",
                      **(attrs or {})})
        return RunWriter(self, g, self._runs)

    def _create_codes(self, group: h5py.Group, name: str, dtype: np.dtype, n: int) -> h5py.Dataset:
        if dtype not in (np.int8, np.uint8, np.int16, np.uint16, np.int32):
            raise SessionError(f"the {name} codes arrived as {dtype}; raw codes must be integers as the scope sent "
                               "them")
        # equal chunks of at most RAW_CHUNK_SAMPLES: the last chunk is not padded out to full size on disk;
        # Fletcher-32 on every chunk (docs/sessions.md): a damaged block is an error for any HDF5 reader
        chunk = self.raw_chunk_samples(n)
        kwargs: dict[str, Any] = {"chunks": (chunk,), "fletcher32": True} if n else {}
        if self.compression == "deflate" and n:
            kwargs.update(compression="gzip", compression_opts=1, shuffle=dtype.itemsize > 1)
        return group.create_dataset(name, shape=(n,), dtype=dtype, **kwargs)

    @staticmethod
    def raw_chunk_samples(n: int) -> int:
        return -(-n // -(-n // RAW_CHUNK_SAMPLES)) if n else 0

    @staticmethod
    def _channel_attrs(ds: h5py.Dataset, wave: Waveform, extra: dict[str, Any]) -> None:
        set_attrs(ds, {
            "y_increment": wave.y_increment, "y_origin": wave.y_origin, "y_reference": wave.y_reference,
            "y_formula": Y_FORMULA, "x_increment": wave.x_increment, "x_origin": wave.x_origin,
            X_FORMULA_ATTR: X_FORMULA, "units": wave.units, "code_min": wave.code_min,
            "code_max": wave.code_max, "channel": wave.channel, "vendor_preamble": wave.vendor_preamble,
            "settings": wave.settings, **extra,
        })

    # -- closing --------------------------------------------------------------
    def mark_incomplete(self, reason: str) -> None:
        self._status, self._reason = "incomplete", reason

    def flush(self) -> None:
        try:
            self.file.flush()
        except (OSError, RuntimeError) as exc:
            raise SessionError(f"cannot write {self.partial_path}: {one_line(exc)}. Check the free disk space.") from None

    def start_writeback(self) -> None:
        """Have the disk start on the raw codes written so far (app/system/writeback.py), so the fsync at close waits
        only for what came last."""
        if self._fd is not None and self.file is not None:
            writeback.start_writeback(self._fd)

    def close(self) -> Path:
        """Close, sync to disk and rename to the final name. Returns the final path."""
        if self.file is None:
            return self.path
        try:
            set_attrs(self.file, {"status": self._status, "reason": self._reason, "runs": self._runs})
            for name in sorted(self.file["runs"].keys()):
                integrity.seal_run(self.file["runs"][name])
            integrity.seal(self.file, integrity.root_digest(self.file))
            self.file.close()
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            try:                        # HDF5 closes what it can on a first failed close; a second one ends it
                self.file.close()
            except (OSError, RuntimeError, ValueError):
                pass
            self.file = None
            raise SessionError(f"cannot finish the session file {self.partial_path}: {one_line(exc)}. Every run finished "
                               f"before is in {self.partial_path}; `report` reads it"
                               f"{free_space_note(self.path.parent)}.") from None
        self.file = None
        try:
            with open(self.partial_path, "rb+") as fh:
                os.fsync(fh.fileno())
            rename_no_replace(self.partial_path, self.path)
        except FileExistsError:
            raise SessionError(f"{self.path} appeared while this session was written; it is left as it was and "
                               f"this session stays in {self.partial_path}.") from None
        except OSError as exc:
            raise SessionError(f"cannot finish the session file {self.partial_path}: {one_line(exc)}. The data "
                               f"written so far is in {self.partial_path}.") from None
        log.info("session saved: %s (%s)", self.path, self._status)
        return self.path

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None and self._status == "complete":
            self.mark_incomplete(_reason_of(exc))
        self.close()


def one_line(exc: BaseException) -> str:
    """An error's text on one line (HDF5's messages span several), at most 300 characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:300] + " …"


def free_space_note(folder: Path) -> str:
    """'; 1.2 MiB free on that disk' (empty when it cannot be told)."""
    try:
        return f" ({shutil.disk_usage(folder).free / 2**20:.1f} MiB free on that disk)"
    except OSError:
        return ""


def _reason_of(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted by the operator (Ctrl-C)"
    return f"{type(exc).__name__}: {exc}"


def _units_json(applied: dict[str, Any]) -> str:
    return json.dumps({k: CHANNEL_UNITS.get(k, "") for k in applied})
