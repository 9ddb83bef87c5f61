"""Tektronix 4/5/6 Series MSO.

Dialect (docs/scopes.md): `HEADer OFF` first so replies are bare values; channel
offset is the centre-screen voltage with POSition 0; `HORizontal:MODe MANual`
with scale and record length; trigger position in percent of the record;
`ACQuire:STOPAfter SEQuence; ACQuire:STATE RUN` arms a single acquisition,
`ACQuire:STATE?` 0 means done; signed 16-bit LSB-first `CURVe?` with the
scale fields asked by name (their positions in `WFMOutpre?` differ across
families). Settings are checked through the event status register and the
event queue (`*ESR?`, `ALLEv?`).
"""

from __future__ import annotations

import threading

import numpy as np

from instruments.errors import InstrumentError
from instruments.replies import fmt, number
from instruments.scope import (AcquisitionApplied, AcquisitionSetup, Applied, ChannelApplied, ChannelSetup,
                               Scope)
from instruments.transport import ProgressFn
from instruments.waveform import Waveform

ESR_ERROR_BITS = 4 | 8 | 16 | 32          # query, device, execution, command errors
SCALE_FIELDS = ("YMUlt", "YOFf", "YZEro", "XINcr", "XZEro", "PT_Off", "NR_Pt")


class TektronixMSO(Scope):
    driver_name = "tektronix-mso"

    def _set(self, command: str) -> None:
        self.t.write(command)
        esr = int(number(self.t.query("*ESR?"), "*ESR?", self.t.name))
        if esr & ESR_ERROR_BITS:
            events = self.t.query("ALLEv?").strip()
            raise InstrumentError(f"{self.t.name}: the scope refused {command!r}: {events}. Change that setting in "
                                  "the bench file to one the scope supports.")

    def _q(self, command: str) -> float:
        return number(self.t.query(command), command, self.t.name)

    def configure(self, voltage: ChannelSetup, current: ChannelSetup, acquisition: AcquisitionSetup,
                  extra: tuple[ChannelSetup, ...] = ()) -> Applied:
        self.t.write("HEADer OFF")
        self.t.write("*CLS")
        for ch in (voltage, current, *extra):
            self.check_channel(ch.channel)
            n = ch.channel
            self._set(f"DISplay:GLObal:CH{n}:STATE 1")
            self._set(f"CH{n}:PROBEFunc:EXTAtten {fmt(self._external_attenuation(ch))}")
            self._set(f"CH{n}:SCAle {fmt(ch.volts_per_div)}")
            self._set(f"CH{n}:POSition 0")
            self._set(f"CH{n}:OFFSet {fmt(ch.offset_v)}")
            self._set(f"CH{n}:COUPling {ch.coupling}")
            self._set(f"CH{n}:BANdwidth {'20.0000E+06' if ch.bandwidth_limit else 'FULl'}")
        w, p = acquisition.window_s, acquisition.pretrigger
        self._set("HORizontal:MODe MANual")
        self._set(f"HORizontal:MODe:RECOrdlength {int(round(acquisition.sample_rate_hz * w))}")
        self._set(f"HORizontal:SCAle {fmt(w / self.horizontal_divisions)}")
        self._set("HORizontal:DELay:MODe OFF")
        self._set(f"HORizontal:POSition {fmt(100.0 * p)}")
        scale = self._q("HORizontal:SCAle?")
        rate = self._q("HORizontal:MODe:SAMPLERate?")
        points = int(self._q("HORizontal:MODe:RECOrdlength?"))
        self.record_points = points
        position = self._q("HORizontal:POSition?")
        window = scale * self.horizontal_divisions
        self._window_s = window
        return Applied(self._read_channel(voltage.channel), self._read_channel(current.channel),
                       AcquisitionApplied(sample_rate_hz=rate, points=points, window_s=window,
                                          pretrigger=position / 100.0))

    def _external_attenuation(self, ch: ChannelSetup) -> float:
        """EXTAtten is applied on top of what the scope knows of the attached probe (a TPP/TekVPI probe sets its
        own gain, e.g. 0.1 for 10X: 4/5/6 Series programmer manual, CH<x>:PROBe:GAIN?). Only the rest of the
        bench's probe_ratio goes into EXTAtten; setting the whole ratio would count a 10X probe twice."""
        gain = self._q(f"CH{ch.channel}:PROBe:GAIN?")
        if not gain > 0:
            raise InstrumentError(f"{self.t.name}: CH{ch.channel}:PROBe:GAIN? says {gain}; the probe is not usable")
        external = ch.probe_ratio * gain
        if external < 1 - 1e-6:
            raise InstrumentError(f"{self.t.name}: CH{ch.channel} has a {1 / gain:g}X probe attached but the bench "
                                  f"says probe_ratio = {ch.probe_ratio:g}; set probe_ratio to {1 / gain:g} (or more, "
                                  "with an external attenuator)")
        return external

    def _read_channel(self, n: int) -> ChannelApplied:
        bw = self.t.query(f"CH{n}:BANdwidth?").strip().upper()
        try:
            limited = float(bw) < 1e9 and float(bw) <= 250e6
        except ValueError:
            limited = bw not in ("FUL", "FULL")
        ratio = self._q(f"CH{n}:PROBEFunc:EXTAtten?") / self._q(f"CH{n}:PROBe:GAIN?")
        return ChannelApplied(channel=n, probe_ratio=ratio,
                              volts_per_div=self._q(f"CH{n}:SCAle?"), offset_v=self._q(f"CH{n}:OFFSet?"),
                              coupling=self.t.query(f"CH{n}:COUPling?").strip().upper(), bandwidth_limit=limited)

    def arm_single(self, trigger_channel: int, level_v: float) -> None:
        self.trigger_source(trigger_channel)            # a channel of this scope; "ext" is refused with advice
        self._set("TRIGger:A:TYPe EDGE")
        self._set(f"TRIGger:A:EDGE:SOUrce CH{trigger_channel}")
        self._set(f"TRIGger:A:LEVel:CH{trigger_channel} {fmt(level_v)}")
        self._set("TRIGger:A:EDGE:SLOpe RISe")
        self._set("TRIGger:A:MODe NORMal")
        self._set("ACQuire:STOPAfter SEQuence")
        self.t.write("ACQuire:STATE RUN")

    def force_trigger(self) -> None:
        self.t.write("TRIGger FORCe")

    def acquisition_done(self) -> bool:
        return int(self._q("ACQuire:STATE?")) == 0

    def _download(self, channel: int, progress, cancel, reduced: bool) -> Waveform:
        self.check_channel(channel)
        points = int(self._q("HORizontal:MODe:RECOrdlength?"))
        self.t.write(f"DATa:SOUrce CH{channel}")
        self.t.write("DATa:ENCdg SRIbinary")
        self.t.write("DATa:WIDth 2")
        self.t.write(f"DATa:RESOlution {'REDUced' if reduced else 'FULL'}")
        self.t.write("DATa:STARt 1")
        self.t.write(f"DATa:STOP {points}")
        scale = {f: self._q(f"WFMOutpre:{f}?") for f in SCALE_FIELDS}
        if scale["XINcr"] <= 0 or scale["YMUlt"] == 0:
            raise InstrumentError(f"{self.t.name}: unusable scale (XINcr {scale['XINcr']}, YMUlt {scale['YMUlt']})")
        codes = np.empty(max(int(scale["NR_Pt"]), 0), dtype="<i2")
        wave = Waveform(codes=codes, y_increment=scale["YMUlt"], y_origin=scale["YZEro"], y_reference=scale["YOFf"],
                        x_increment=scale["XINcr"], x_origin=scale["XZEro"] - scale["PT_Off"] * scale["XINcr"],
                        code_min=self.caps.code_min, code_max=self.caps.code_max, channel=channel,
                        vendor_preamble={**scale, "formula": "volts = (code - YOFf) * YMUlt + YZEro; "
                                                             "time = XZEro + XINcr * (i - PT_Off)"})
        self._announce(wave)
        try:
            self.t.read_block_into("CURVe?", codes, progress=progress, cancel=cancel)
        except InstrumentError as exc:
            if "were asked for" in str(exc):
                raise InstrumentError(f"{self.t.name}: WFMOutpre:NR_Pt? says {len(codes)} points but CURVe? sent "
                                      f"another number; capture again") from None
            raise
        return wave

    def fetch(self, channel: int, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> Waveform:
        return self._download(channel, progress, cancel, reduced=False)

    def live_frame(self, channel: int) -> Waveform:
        return self._download(channel, None, None, reduced=True)

    def measured_mean_v(self, channel: int) -> float:
        """The scope's own mean (4/5/6 Series programmer manual: MEASUrement:MEAS<x>:TYPe MEAN, :SOUrce,
        :RESUlts:CURRentacq:MEAN?)."""
        self.t.write("MEASUrement:MEAS1:TYPe MEAN")
        self.t.write(f"MEASUrement:MEAS1:SOUrce CH{channel}")
        what = "MEASUrement:MEAS1:RESUlts:CURRentacq:MEAN?"
        return self._q(what)

    def run(self) -> None:
        self.t.write("ACQuire:STOPAfter RUNSTop")
        self.t.write("ACQuire:STATE RUN")

    def stop(self) -> None:
        self.t.write("ACQuire:STATE STOP")

