"""Joulescope JLS files (JLS v2, written by the Joulescope UI and by `pyjls`), read through `pyjls`.

The current, voltage and power signals are read where the file holds them (fixed-rate float32 signals named
`current`, `voltage`, `power`), each sliced from the file on demand; power is V·I sample by sample where the file
has both but no power signal. Time 0 is the first sample; the start's UTC is kept where the file has one.

What a JLS file lacks beside a Joulebench session: which workload ran and where it began and ended (no run
boundaries: the whole recording is one span), the bench and board facts, the instrument settings per window and
an uncertainty budget; voltage when only current was recorded.

A file that is not JLS v2, of a newer major version, truncated or not closed by its writer is one SessionError
naming the file and what is wrong.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import numpy as np

from app.errors import SessionError
from app.session.extra import require
from app.session.imports.recording import UNITS, Recording

log = logging.getLogger(__name__)

MAGIC = b"jlsfmt\r\n \n \x1a  \xb2\x1c"     # the JLS v2 file header's identification (16 bytes)
HEADER = struct.Struct("<16sQII")             # identification, file length, version (major << 24 | ...), crc32
READ_MAJOR = 1


def header_problem(path: Path) -> str | None:
    """What the file's 32-byte header says is wrong with it (None: nothing)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEADER.size)
    except OSError as exc:
        return f"it cannot be read ({exc})"
    if len(head) < HEADER.size:
        return f"it is {len(head)} bytes long, shorter than a JLS header: it is truncated or not a JLS file"
    magic, length, version, _ = HEADER.unpack(head)
    if magic != MAGIC:
        return ("it is not a JLS v2 file (its first bytes are not JLS's identification); JLS v1 files of the "
                "Joulescope UI before 1.0 are not read: open and save them again in a current Joulescope UI")
    major, minor, patch = version >> 24, (version >> 16) & 0xFF, version & 0xFFFF
    if major != READ_MAJOR:
        return (f"it is JLS format {major}.{minor}.{patch}; this import reads format {READ_MAJOR}.x: update "
                "pyjls (pip install -U pyjls), or export the recording from the Joulescope UI in format 1")
    size = path.stat().st_size
    if length != size:
        return (f"its header gives a length of {length} bytes but the file has {size}: it is truncated or was not "
                "closed by its writer (the recording stopped abnormally)")
    return None


def open_jls(path: str | Path) -> Recording:
    """A JLS file as a read-only Recording."""
    path = Path(path)
    if not path.is_file():
        raise SessionError(f"{path}: no such JLS file.")
    pyjls = require("pyjls", "reading a Joulescope JLS file")
    problem = header_problem(path)
    try:
        reader = pyjls.Reader(str(path))
    except (RuntimeError, OSError, ValueError) as exc:
        why = problem or f"pyjls cannot open it ({exc})"
        raise SessionError(f"{path}: not readable as a Joulescope recording: {why}.") from None
    if problem:
        log.warning("%s: %s; pyjls opened it, reading what it holds", path, problem)
    by_name = {}
    for signal in reader.signals.values():
        if signal.signal_type == 0 and signal.name in UNITS and signal.length > 0:
            by_name[signal.name] = signal
    if "current" not in by_name:
        reader.close()
        raise SessionError(f"{path}: the JLS file has no current signal (fixed-rate 'current' in A); it holds "
                           f"{sorted(s for s in by_name) or 'no fixed-rate signal'}. Record current in the "
                           "Joulescope UI's recording options.")
    current = by_name["current"]
    rate = float(current.sample_rate)
    signals, lacks = {}, []
    n = int(current.length)
    for name, signal in by_name.items():
        if float(signal.sample_rate) != rate:
            lacks.append(f"{name} at {signal.sample_rate} Hz beside current at {rate:g} Hz (left out: one grid)")
            continue
        if (signal.units or UNITS[name]) != UNITS[name]:
            raise SessionError(f"{path}: the {name} signal is in '{signal.units}', not {UNITS[name]}; this import "
                               "reads the Joulescope UI's units only")
        n = min(n, int(signal.length))
        signals[name] = _slicer(reader, signal.signal_id)
    if "power" not in signals and "voltage" in signals:
        v, i = signals["voltage"], signals["current"]
        signals["power"] = lambda j0, j1: v(j0, j1) * i(j0, j1)
    lacks += ["the workload and its run boundaries (begin, end): the recording is one span",
              "the bench, the board's facts and an uncertainty budget"]
    if "voltage" not in signals:
        lacks.append("voltage (only current was recorded): no power or energy")
    source = reader.sources.get(current.source_id)
    attrs = {"instrument": " ".join(x for x in (getattr(source, "vendor", ""), getattr(source, "model", ""),
                                                 getattr(source, "serial_number", "")) if x)}
    utc = _start_utc(pyjls, reader, current.signal_id)
    if utc:
        attrs["started_utc"] = utc
    if problem:
        attrs["warning"] = problem
    return Recording(path, "Joulescope JLS", rate, n, signals, lacks, attrs, closer=reader.close)


def _slicer(reader, signal_id: int):
    def read(j0: int, j1: int) -> np.ndarray:
        try:
            return np.asarray(reader.fsr(signal_id, j0, j1 - j0), dtype=np.float64)
        except (RuntimeError, ValueError) as exc:
            raise SessionError(f"samples {j0}..{j1} of signal {signal_id} cannot be read from the JLS file "
                               f"({exc}); the file is damaged there") from None
    return read


def _start_utc(pyjls, reader, signal_id: int) -> str:
    try:
        stamp = reader.sample_id_to_timestamp(signal_id, 0)
        if not stamp:
            return ""
        import datetime as dt
        return dt.datetime.fromtimestamp(pyjls.jls_to_utc(stamp), dt.timezone.utc).isoformat()
    except (RuntimeError, ValueError, TypeError, OverflowError, OSError):
        return ""
