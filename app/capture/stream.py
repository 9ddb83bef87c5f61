"""One window, analysed and saved while it arrives (the fetch path's consumer).

A driver announces each channel's scaling and its still-empty code array before the data comes
(`Scope.on_waveform`), and the transport reports every chunk that lands (`Transport.chunk_sink`). On a worker
thread this module then, chunk by chunk:

* writes the raw codes into the session in whole HDF5 chunks (so each chunk's checksum is written once),
  after each channel's scaling and the empty overview tables, which are known before the data,
* sums the codes and counts the ones at the rails (the self-check's mean and the clip fraction, with no
  second pass),
* scans the power rows (app/measure/energy.py) as soon as both channels hold them: the voltage channel arrives first,
  so the rows follow the current channel's download;
* for a run's first window, finds where the current left idle before the trigger (app/measure/region.py, the launch
  edge) as soon as the pre-trigger record is in, so placing the run costs nothing after the last byte.

When the last byte lands only the last chunk's rows, the last HDF5 chunk and the overview are left, so the
result is ready about when the transfer ends, whatever the record's length. A download that fails midway
leaves what arrived in the session, marked incomplete.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import numpy as np

from app.errors import AnalysisError
from app.measure import scan_kernel
from app.measure.energy import (
    ROW,
    SUMMARY_FIELDS,
    PowerTrace,
    TraceSummary,
    rail_count,
    scan_rows,
)
from app.measure.region import edge_search_samples, idle_band_exit_s
from app.session.writer import SessionWriter, WindowWriter
from instruments.errors import InstrumentError
from instruments.waveform import Waveform

log = logging.getLogger(__name__)


@dataclass
class _Channel:
    wave: Waveform
    codes: np.ndarray
    arrived: int = 0          # samples landed
    written: int = 0          # samples written to the session
    counted: int = 0          # samples summed and rail-counted
    code_sum: int = 0
    at_rails: int = 0
    scaled: bool = False      # its scaling attributes are in the session


class WindowStream:
    """Two workers share the chunks: one writes them into the session (HDF5), one counts and scans them
    (compiled, without the GIL). While the transfer runs they overlap it; once the last byte has landed, the
    rest of both jobs runs on two cores at once."""

    def __init__(self, window: WindowWriter, *, shunt_ohm: float | None, amps_per_volt: float | None,
                 measured_at: str, deskew_s: float, current_zero_v: float, find_launch_edge: bool = False):
        self.window = window
        # per channel: what the session stores beside its scaling (docs/sessions.md), from the same settings
        self._scaling_extra = {"voltage": {"measured_at": measured_at},
                               "current": {"shunt_ohm": shunt_ohm, "amps_per_volt": amps_per_volt,
                                           "deskew_s": deskew_s, "zero_offset_v": current_zero_v}}
        self._overview_ready = False
        self._find_edge = find_launch_edge
        self.launch_edge: tuple[float | None, str] | None = None   # idle_band_exit_s(trace), once found
        self._trace_kwargs = dict(shunt_ohm=shunt_ohm, amps_per_volt_=amps_per_volt, measured_at=measured_at,
                                  deskew_s=deskew_s, current_zero_v=current_zero_v)
        self.current: str | None = None            # the channel being downloaded now ("voltage" | "current")
        self.channels: dict[str, _Channel] = {}
        self.trace: PowerTrace | None = None
        self._rows: dict[str, np.ndarray] | None = None
        self._scanned = 0                           # trace samples whose rows are complete
        self._error: BaseException | None = None
        self._queues = {"write": queue.Queue(), "scan": queue.Queue()}
        self._threads = [threading.Thread(target=self._work, args=(job,), name=f"window-{job}", daemon=True)
                         for job in self._queues]
        for t in self._threads:
            t.start()

    # -- called on the download thread ----------------------------------------------------
    def announce(self, wave: Waveform) -> None:
        if self.current is None:
            return
        try:
            self._on_wave(self.current, wave)
        except BaseException as exc:  # noqa: BLE001 - handed to the capture thread in finish()
            self._error = self._error or exc

    def chunk(self, start_byte: int, stop_byte: int) -> None:
        ch = self.channels.get(self.current) if self.current is not None else None
        if ch is None:                    # a block before the record was announced (Siglent's WAVEDESC)
            return
        ch.arrived = max(ch.arrived, stop_byte // ch.codes.itemsize)
        for q in self._queues.values():
            q.put(self.current)

    # -- the workers ----------------------------------------------------------------------------
    def _work(self, job: str) -> None:
        q = self._queues[job]
        while True:
            name = q.get()
            if name is None:
                return
            if self._error is not None:
                continue
            try:
                if job == "write":
                    self._write(self.channels[name], name, final=False)
                else:
                    self._count(self.channels[name])
                    self._scan(final=False)
            except BaseException as exc:  # noqa: BLE001 - handed to the capture thread in finish()
                self._error = self._error or exc

    def _on_wave(self, name: str, wave: Waveform) -> None:
        codes = np.asarray(wave.codes)
        self.window.create_channel(name, codes.dtype, len(codes))
        if name in ("voltage", "current") and {"voltage", "current"} <= set(self.channels) | {name}:
            other = self.channels["current" if name == "voltage" else "voltage"].wave
            v, i = (wave, other) if name == "voltage" else (other, wave)
            try:
                self.trace = PowerTrace(v, i, **self._trace_kwargs)
            except AnalysisError as exc:
                raise InstrumentError(f"the scope's two channels do not line up: {exc}") from None
            rows = -(-self.trace.n // ROW)
            self._rows = {f: np.empty(rows) for f in SUMMARY_FIELDS}
        self.channels[name] = _Channel(wave, codes)     # last: the workers see a channel only when it is ready

    def _write(self, ch: _Channel, name: str, final: bool) -> None:
        # what is known before the data (the scaling, the overview's shape) is stored while the data arrives
        if not ch.scaled and name in self._scaling_extra:
            self.window.set_scaling(name, ch.wave, self._scaling_extra[name])
            ch.scaled = True
        if not self._overview_ready and self.trace is not None:
            self.window.prepare_overview(self.trace.n)
            self._overview_ready = True
        step = SessionWriter.raw_chunk_samples(len(ch.codes)) or 1
        upto = ch.arrived if final else (ch.arrived // step) * step
        if upto > ch.written:
            self.window.write_codes(name, ch.written, ch.codes[ch.written:upto])
            ch.written = upto

    def _count(self, ch: _Channel) -> None:
        upto = ch.arrived                 # read once: the download thread moves it on meanwhile
        seg = ch.codes[ch.counted:upto]
        if seg.size:
            if scan_kernel.AVAILABLE:
                total, rails = scan_kernel.code_sum_rails(seg, ch.wave.code_min, ch.wave.code_max)
            else:
                total, rails = seg.sum(dtype=np.int64), rail_count(seg, ch.wave.code_min, ch.wave.code_max)
            ch.code_sum += int(total)
            ch.at_rails += int(rails)
            ch.counted = upto

    def _scan(self, final: bool) -> None:
        t = self.trace
        if t is None:
            return
        v, i = self.channels["voltage"], self.channels["current"]
        need_after = 1 if t._shift_frac else 0
        available = min(v.arrived - t._k0, i.arrived - t._k0 - t._shift_int - need_after, t.n)
        stop = t.n if final else (available // ROW) * ROW
        if final and available < t.n:
            raise InstrumentError("the download ended before both channels were complete")
        if stop > self._scanned:
            scan_rows(t, self._scanned, stop, self._rows)
            self._scanned = stop
        if self._find_edge and self.launch_edge is None and self._scanned >= edge_search_samples(t):
            self._find_edge = False
            try:
                self.launch_edge = idle_band_exit_s(t)
            except (AnalysisError, ValueError, FloatingPointError) as exc:    # found again, and reported, later
                log.debug("launch edge not found while streaming: %s", exc)

    def _stop_worker(self) -> None:
        for q in self._queues.values():
            q.put(None)
        for t in self._threads:
            t.join()

    # -- called on the capture thread once the downloads are done ---------------------------------
    def finish(self) -> tuple[PowerTrace, TraceSummary, dict[str, float]]:
        """The rest of the rows, the last chunks; returns the trace, its summary and each channel's mean volts."""
        self._stop_worker()
        if self._error is not None:
            raise self._error
        if self.trace is None:
            raise InstrumentError("the scope announced no record for one of the channels")
        for name, ch in self.channels.items():
            self._write(ch, name, final=True)
            self._count(ch)
        self._scan(final=True)
        v, i = self.channels["voltage"], self.channels["current"]
        summary = TraceSummary(n=self.trace.n, clip_voltage=v.at_rails / max(len(v.codes), 1),
                               clip_current=i.at_rails / max(len(i.codes), 1), **self._rows)
        means = {name: (ch.code_sum / max(len(ch.codes), 1)) * ch.wave.gain_v + ch.wave.offset_v
                 for name, ch in self.channels.items()}
        return self.trace, summary, means

    def abandon(self, reason: str) -> None:
        """The download failed: keep the codes that arrived (a contiguous prefix of each channel)."""
        self._stop_worker()
        try:
            for name, ch in self.channels.items():
                self._write(ch, name, final=True)
        finally:
            self.window.abandon(reason, {name: ch.arrived for name, ch in self.channels.items()})
