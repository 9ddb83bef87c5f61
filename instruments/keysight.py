"""Keysight (Agilent) InfiniiVision 2000/3000/4000 X.

Dialect (docs/scopes.md): `:CHANnel<n>:OFFSet` is the centre-screen voltage; 10
horizontal divisions; the sample rate follows the timebase and is read back;
`:SINGle` then poll `:OPERegister:CONDition?` until the Run bit (8) clears;
download with `:WAVeform:POINts MAX` before `:POINts:MODE RAW`, BYTE unsigned,
the whole record in one `:DATA?` (#8 block).
"""

from __future__ import annotations

import threading

import numpy as np

from instruments.errors import InstrumentError
from instruments.replies import boolean, fmt, number, set_checked, ten_field_preamble
from instruments.scope import (AcquisitionApplied, AcquisitionSetup, Applied, ChannelApplied, ChannelSetup,
                               Scope)
from instruments.transport import ProgressFn
from instruments.waveform import Waveform, count_code

RUN_BIT = 8
LIVE_POINTS = 1000


def preamble_waveform(reply: str, codes: np.ndarray, channel: int, source: str) -> Waveform:
    """Keysight preamble: format, type, points, count, xinc, xorigin, xref, yinc, yorigin, yref."""
    p = ten_field_preamble(reply, source)
    if int(p["format"]) != 0:
        raise InstrumentError(f"{source}: waveform format {int(p['format'])} is not BYTE (0)")
    if int(p["points"]) != len(codes):
        raise InstrumentError(f"{source}: the preamble announces {int(p['points'])} points but {len(codes)} arrived; "
                              "capture again")
    return Waveform(codes=codes, y_increment=p["yincrement"], y_origin=p["yorigin"], y_reference=p["yreference"],
                    x_increment=p["xincrement"], x_origin=p["xorigin"] - p["xreference"] * p["xincrement"],
                    code_min=1, code_max=255, channel=channel,
                    vendor_preamble={**p, "formula": "volts = (code - yreference) * yincrement + yorigin; "
                                                     "time = (i - xreference) * xincrement + xorigin"})


class KeysightInfiniiVision(Scope):
    driver_name = "keysight-infiniivision"
    _points_wanted: int | None = None

    def _set(self, command: str) -> None:
        set_checked(self.t, command)

    def _configure_channel(self, ch: ChannelSetup) -> None:
        self.check_channel(ch.channel)
        n = ch.channel
        self._set(f":CHANnel{n}:DISPlay 1")
        self._set(f":CHANnel{n}:PROBe {fmt(ch.probe_ratio)}")
        self._set(f":CHANnel{n}:SCALe {fmt(ch.volts_per_div)}")
        self._set(f":CHANnel{n}:OFFSet {fmt(ch.offset_v)}")
        self._set(f":CHANnel{n}:COUPling {ch.coupling}")
        self._set(f":CHANnel{n}:BWLimit {1 if ch.bandwidth_limit else 0}")

    def _read_channel(self, n: int) -> ChannelApplied:
        q = self.t.query
        src = self.t.name
        return ChannelApplied(
            channel=n,
            probe_ratio=number(q(f":CHANnel{n}:PROBe?"), f":CHANnel{n}:PROBe?", src),
            volts_per_div=number(q(f":CHANnel{n}:SCALe?"), f":CHANnel{n}:SCALe?", src),
            offset_v=number(q(f":CHANnel{n}:OFFSet?"), f":CHANnel{n}:OFFSet?", src),
            coupling=q(f":CHANnel{n}:COUPling?").strip().upper(),
            bandwidth_limit=boolean(q(f":CHANnel{n}:BWLimit?"), f":CHANnel{n}:BWLimit?", src),
        )

    def configure(self, voltage: ChannelSetup, current: ChannelSetup, acquisition: AcquisitionSetup,
                  extra: tuple[ChannelSetup, ...] = ()) -> Applied:
        self.t.write("*CLS")
        self.t.write(":STOP")
        for ch in (voltage, current, *extra):
            self._configure_channel(ch)
        w, p = acquisition.window_s, acquisition.pretrigger
        self._set(":TIMebase:MODE MAIN")
        self._set(":TIMebase:REFerence CENTer")
        self._set(f":TIMebase:RANGe {fmt(w)}")
        self._set(f":TIMebase:POSition {fmt(w * (0.5 - p))}")
        self._set(":ACQuire:TYPE NORMal")
        src = self.t.name
        range_s = number(self.t.query(":TIMebase:RANGe?"), ":TIMebase:RANGe?", src)
        position_s = number(self.t.query(":TIMebase:POSition?"), ":TIMebase:POSition?", src)
        rate = number(self.t.query(":ACQuire:SRATe?"), ":ACQuire:SRATe?", src)
        memory = int(number(self.t.query(":ACQuire:POINts?"), ":ACQuire:POINts?", src))
        self._window_s = range_s
        # the timebase fixes the acquisition's own rate; the download asks for the bench's rate
        wanted = max(100, int(round(acquisition.sample_rate_hz * range_s)))
        self._points_wanted = wanted if wanted < memory else None
        points = min(memory, wanted)
        self.record_points = None            # the download decimates to about `points`: only the span is checked
        rate = min(rate, points / range_s) if range_s else rate
        return Applied(self._read_channel(voltage.channel), self._read_channel(current.channel),
                       AcquisitionApplied(sample_rate_hz=rate, points=points, window_s=range_s,
                                          pretrigger=0.5 - position_s / range_s if range_s else p))

    def arm_single(self, trigger_channel: int | str, level_v: float) -> None:
        source = self.trigger_source(trigger_channel)
        self._set(":TRIGger:MODE EDGE")
        self._set(f":TRIGger:EDGE:SOURce {source}")
        self._set(f":TRIGger:EDGE:LEVel {fmt(level_v)}")
        self._set(":TRIGger:EDGE:SLOPe POSitive")
        self._set(":TRIGger:SWEep NORMal")
        self.t.write(":SINGle")

    def force_trigger(self) -> None:
        self.t.write(":TRIGger:FORCe")

    def acquisition_done(self) -> bool:
        reply = self.t.query(":OPERegister:CONDition?")
        return not (int(number(reply, ":OPERegister:CONDition?", self.t.name)) & RUN_BIT)

    def _download(self, channel: int, progress: ProgressFn | None, cancel: threading.Event | None,
                  raw: bool) -> Waveform:
        self.check_channel(channel)
        self.t.write(f":WAVeform:SOURce CHANnel{channel}")
        self.t.write(":WAVeform:FORMat BYTE")
        self.t.write(":WAVeform:UNSigned 1")
        if raw:
            self.t.write(":WAVeform:POINts MAX")            # MAX switches the mode: set it before RAW
            self.t.write(":WAVeform:POINts:MODE RAW")
            if self._points_wanted:
                self.t.write(f":WAVeform:POINts {self._points_wanted}")
        else:
            self.t.write(":WAVeform:POINts:MODE NORMal")
            self.t.write(f":WAVeform:POINts {LIVE_POINTS}")
        pre = self.t.query(":WAVeform:PREamble?")
        if raw:
            points = int(ten_field_preamble(pre, self.t.name)["points"])
            codes = np.empty(max(points, 0), dtype=np.uint8)
            wave = preamble_waveform(pre, codes, channel, self.t.name)
            self._announce(wave)
            counted = [0, 0]         # holes so far, and up to which sample: counted as the chunks land

            def landed(done: int, total: int) -> None:
                counted[0] += count_code(codes[counted[1]:done], self.caps.hole_code)
                counted[1] = done
                if progress is not None:
                    progress(done, total)
            self.t.read_block_into(":WAVeform:DATA?", codes, progress=landed, cancel=cancel)
        else:
            codes = self.t.read_block(":WAVeform:DATA?", np.uint8, progress=progress, cancel=cancel)
            wave = preamble_waveform(pre, codes, channel, self.t.name)
        if raw:
            holes = counted[0] + count_code(codes[counted[1]:], self.caps.hole_code)
            if holes:
                # InfiniiVision guide, :WAVeform:FORMat BYTE: 0x00 is a hole (no data), 0x01 clipped low
                raise InstrumentError(f"{self.t.name}: {holes} of the {len(codes)} samples of CH{channel} are holes "
                                      "(code 0: no data was acquired there); the record is incomplete. Capture "
                                      "again, with the acquisition allowed to complete (no :STOP during it).")
        return wave

    def measured_mean_v(self, channel: int) -> float:
        """The scope's own average over the display (InfiniiVision guide, :MEASure:VAVerage? DISPlay,<source>)."""
        what = f":MEASure:VAVerage? DISPlay,CHANnel{channel}"
        return number(self.t.query(what), what, self.t.name)

    def fetch(self, channel: int, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> Waveform:
        return self._download(channel, progress, cancel, raw=True)

    def live_frame(self, channel: int) -> Waveform:
        return self._download(channel, None, None, raw=False)

    def run(self) -> None:
        self.t.write(":RUN")

    def stop(self) -> None:
        self.t.write(":STOP")
