"""Rigol DS1000Z, MSO5000 and DHO800/900.

Dialect traps (docs/scopes.md): `:CHANnel<n>:OFFSet` shifts the trace, so the
centre of the screen is −offset; DS1000Z shows 12 horizontal divisions,
MSO5000/DHO 10; `:ACQuire:MDEPth` is settable only while running and its
legal values depend on the channels on; `:TRIGger:STATus?` TD is not sticky,
so armed-then-STOP means done; downloads come in pages of at most 250 000
BYTE (125 000 WORD) points, `:WAVeform:STARt` 1-based, #9 blocks; volts =
(code − yorigin − yreference)·yincrement with yorigin in codes.
"""

from __future__ import annotations

import threading

import numpy as np

from instruments.errors import InstrumentError
from instruments.replies import fields, fmt, number, set_checked, ten_field_preamble
from instruments.scope import (AcquisitionApplied, AcquisitionSetup, Applied, ChannelApplied, ChannelSetup,
                               NotStickyStatus, Scope)
from instruments.transport import ProgressFn
from instruments.waveform import Waveform

ARMED_STATES = ("WAIT", "RUN", "TD")


def rigol_waveform(reply: str, codes: np.ndarray, channel: int, source: str, code_min: int, code_max: int) -> Waveform:
    """Rigol preamble: format, type, points, count, xinc, xorigin, xref, yinc, yorigin (codes), yref."""
    p = ten_field_preamble(reply, source)
    return Waveform(codes=codes, y_increment=p["yincrement"], y_origin=0.0,
                    y_reference=p["yorigin"] + p["yreference"], x_increment=p["xincrement"], x_origin=p["xorigin"],
                    code_min=code_min, code_max=code_max, channel=channel,
                    vendor_preamble={**p, "formula": "volts = (code - yorigin - yreference) * yincrement; "
                                                     "time = xorigin + i * xincrement"})


class RigolDS1000Z(Scope):
    driver_name = "rigol-ds1000z"

    def __init__(self, transport, idn: str = ""):
        super().__init__(transport, idn)
        self._status = NotStickyStatus(ARMED_STATES, ("AUTO",))
        self.record_points: int | None = None      # the depth read back with :ACQuire:MDEPth?

    @property
    def word(self) -> bool:
        return self.caps.adc_bits > 8

    @property
    def page_points(self) -> int | None:
        return self.caps.page_points

    def _set(self, command: str) -> None:
        set_checked(self.t, command)

    def memory_depth(self, points_wanted: float, channels_on: int) -> int:
        """The smallest legal depth that holds the window; the largest if none does."""
        return self.caps.depth_for(points_wanted, channels_on)

    def _configure_channel(self, ch: ChannelSetup) -> None:
        self.check_channel(ch.channel)
        n = ch.channel
        self._set(f":CHANnel{n}:DISPlay 1")
        self._set(f":CHANnel{n}:PROBe {fmt(ch.probe_ratio)}")
        self._set(f":CHANnel{n}:SCALe {fmt(ch.volts_per_div)}")
        self._set(f":CHANnel{n}:OFFSet {fmt(-ch.offset_v)}")      # Rigol: centre of screen = −offset
        self._set(f":CHANnel{n}:COUPling {ch.coupling}")
        self._set(f":CHANnel{n}:BWLimit {'20M' if ch.bandwidth_limit else 'OFF'}")

    def _read_channel(self, n: int) -> ChannelApplied:
        q, src = self.t.query, self.t.name
        return ChannelApplied(
            channel=n,
            probe_ratio=number(q(f":CHANnel{n}:PROBe?"), f":CHANnel{n}:PROBe?", src),
            volts_per_div=number(q(f":CHANnel{n}:SCALe?"), f":CHANnel{n}:SCALe?", src),
            offset_v=-number(q(f":CHANnel{n}:OFFSet?"), f":CHANnel{n}:OFFSet?", src),
            coupling=q(f":CHANnel{n}:COUPling?").strip().upper(),
            bandwidth_limit=q(f":CHANnel{n}:BWLimit?").strip().upper() != "OFF",
        )

    def configure(self, voltage: ChannelSetup, current: ChannelSetup, acquisition: AcquisitionSetup,
                  extra: tuple[ChannelSetup, ...] = ()) -> Applied:
        self.t.write("*CLS")
        self.t.write(":RUN")                                    # MDEPth is settable only while running
        used = {voltage.channel, current.channel, *(ch.channel for ch in extra)}
        for n in range(1, self.max_channels + 1):
            if n not in used:
                self._set(f":CHANnel{n}:DISPlay 0")              # more memory for the two we use
        for ch in (voltage, current, *extra):
            self._configure_channel(ch)
        w, p = acquisition.window_s, acquisition.pretrigger
        self._set(":TIMebase:MODE MAIN")
        self._set(f":TIMebase:MAIN:SCALe {fmt(w / self.horizontal_divisions)}")
        self._set(f":TIMebase:MAIN:OFFSet {fmt(w * (0.5 - p))}")   # trigger → screen centre
        depth = self.memory_depth(acquisition.sample_rate_hz * w, len(used))
        self._set(f":ACQuire:MDEPth {depth}")
        src = self.t.name
        scale = number(self.t.query(":TIMebase:MAIN:SCALe?"), ":TIMebase:MAIN:SCALe?", src)
        offset = number(self.t.query(":TIMebase:MAIN:OFFSet?"), ":TIMebase:MAIN:OFFSet?", src)
        rate = number(self.t.query(":ACQuire:SRATe?"), ":ACQuire:SRATe?", src)
        points = int(round(number(self.t.query(":ACQuire:MDEPth?"), ":ACQuire:MDEPth?", src)))
        self.record_points = points
        window = scale * self.horizontal_divisions
        self._window_s = window
        return Applied(self._read_channel(voltage.channel), self._read_channel(current.channel),
                       AcquisitionApplied(sample_rate_hz=rate, points=points, window_s=window,
                                          pretrigger=0.5 - offset / window))

    def arm_single(self, trigger_channel: int | str, level_v: float) -> None:
        source = self.trigger_source(trigger_channel)
        self._set(":TRIGger:MODE EDGE")
        self._set(f":TRIGger:EDGE:SOURce {source}")
        self._set(":TRIGger:EDGE:SLOPe POSitive")
        self._set(f":TRIGger:EDGE:LEVel {fmt(level_v)}")
        self._set(":TRIGger:SWEep SINGle")
        self.t.write(":SINGle")
        self._status.armed()

    def force_trigger(self) -> None:
        self.t.write(":TFORce")

    def acquisition_done(self) -> bool:
        status = self.t.query(":TRIGger:STATus?").strip().upper()
        return self._status.done(status, self._window_s, self.t.name, ":TRIGger:STATus?")

    @property
    def _dtype(self):
        return np.dtype("<u2") if self.word else np.dtype(np.uint8)

    def _start_download(self, channel: int, mode: str) -> str:
        self.check_channel(channel)
        self.t.write(f":WAVeform:SOURce CHANnel{channel}")
        self.t.write(f":WAVeform:MODE {mode}")
        self.t.write(f":WAVeform:FORMat {'WORD' if self.word else 'BYTE'}")
        return self.t.query(":WAVeform:PREamble?")

    def fetch(self, channel: int, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> Waveform:
        """The RAW record. Its length comes from :ACQuire:MDEPth? (the guide's memory depth), never from the
        preamble: in RAW mode the preamble's points field reports the current :WAVeform:STARt/:STOP range
        (1 200 after a screen read) on some firmware, and on the DHO the page size."""
        self.t.write(":STOP")
        depth = int(round(number(self.t.query(":ACQuire:MDEPth?"), ":ACQuire:MDEPth?", self.t.name)))
        if depth <= 0:
            raise InstrumentError(f"{self.t.name}: :ACQuire:MDEPth? says {depth}; nothing was captured")
        self.record_points = depth
        pre = self._start_download(channel, "RAW")
        announced = int(fields(pre, 10, ":WAVeform:PREamble?", self.t.name)[2])
        codes = np.empty(depth, dtype=self._dtype)
        wave = rigol_waveform(pre, codes, channel, self.t.name, self.caps.code_min, self.caps.code_max)
        wave.vendor_preamble["points_announced"] = announced
        wave.vendor_preamble["record_points_source"] = ":ACQuire:MDEPth?"
        self._announce(wave)
        self._read_record(codes, progress, cancel)
        return wave

    def _read_record(self, codes: np.ndarray, progress: ProgressFn | None, cancel: threading.Event | None) -> None:
        total = codes.nbytes
        page = self.page_points
        if page is None:                          # MSO5000: the whole record in one read after *WAI
            self.t.write(":WAVeform:STARt 1")
            self.t.write(f":WAVeform:STOP {len(codes)}")
            self.t.write("*WAI")
            self.t.read_block_into(":WAVeform:DATA?", codes, progress=progress, cancel=cancel)
            return
        for start in range(0, len(codes), page):
            stop = min(len(codes), start + page)
            self.t.write(f":WAVeform:STARt {start + 1}")
            self.t.write(f":WAVeform:STOP {stop}")
            self.t.read_block_into(":WAVeform:DATA?", codes[start:stop], progress=progress, cancel=cancel,
                                   done_before=start * codes.itemsize, total=total)

    def measured_mean_v(self, channel: int) -> float:
        """The scope's own average of the channel (MSO1000Z/DS1000Z guide, :MEASure:ITEM? VAVG,<source>)."""
        what = f":MEASure:ITEM? VAVG,CHANnel{channel}"
        return number(self.t.query(what), what, self.t.name)

    def live_frame(self, channel: int) -> Waveform:
        pre = self._start_download(channel, "NORMal")
        codes = self.t.read_block(":WAVeform:DATA?", self._dtype)
        return rigol_waveform(pre, codes, channel, self.t.name, self.caps.code_min, self.caps.code_max)

    def run(self) -> None:
        self.t.write(":RUN")

    def stop(self) -> None:
        self.t.write(":STOP")


class RigolMSO5000(RigolDS1000Z):
    """MSO5000 (BYTE, the whole record in one read after *WAI) and DHO800/900 (12-bit, WORD pages of 125 000
    points); which one comes from *IDN? through the capability table."""

    driver_name = "rigol-mso5000"
