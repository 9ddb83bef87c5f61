"""Rohde & Schwarz RTB2000 / RTM3000.

Dialect (docs/scopes.md): `CHANnel<n>:STATe|SCALe|OFFSet|COUPling DCLimit|BANDwidth`,
probe attenuation under `PROBe<n>:SETup:ATTenuation:MANual`; the window is set
with `TIMebase:RANGe` (no division count to guess) and the trigger placed with
`TIMebase:POSition` against a centred reference; `SINGle`, then
`ACQuire:STATe?` until COMPlete; download as `FORMat UINT,8` with the scaling
asked by name (`…:DATA:XORigin? XINCrement? YORigin? YINCrement?`):
volts = YOR + YINC·code, time = XOR + i·XINC. Settings are checked with
`SYSTem:ERRor?`.
"""

from __future__ import annotations

import threading

import numpy as np

from instruments.errors import InstrumentError
from instruments.replies import fields, fmt, number, set_checked
from instruments.scope import (AcquisitionApplied, AcquisitionSetup, Applied, ChannelApplied, ChannelSetup,
                               Scope)
from instruments.transport import ProgressFn
from instruments.waveform import Waveform

DONE_STATES = ("COMP", "COMPLETE", "STOP", "STOPPED")


class RohdeSchwarzRTB(Scope):
    driver_name = "rs-rtb"

    def _set(self, command: str) -> None:
        set_checked(self.t, command, "SYSTem:ERRor?")

    def _q(self, command: str) -> float:
        return number(self.t.query(command), command, self.t.name)

    def configure(self, voltage: ChannelSetup, current: ChannelSetup, acquisition: AcquisitionSetup,
                  extra: tuple[ChannelSetup, ...] = ()) -> Applied:
        self.t.write("*CLS")
        for ch in (voltage, current, *extra):
            self.check_channel(ch.channel)
            n = ch.channel
            self._set(f"CHANnel{n}:STATe ON")
            self._set(f"PROBe{n}:SETup:ATTenuation:MANual {fmt(ch.probe_ratio)}")
            self._set(f"CHANnel{n}:SCALe {fmt(ch.volts_per_div)}")
            self._set(f"CHANnel{n}:POSition 0")
            self._set(f"CHANnel{n}:OFFSet {fmt(ch.offset_v)}")
            self._set(f"CHANnel{n}:COUPling {'DCLimit' if ch.coupling == 'DC' else 'ACLimit'}")
            self._set(f"CHANnel{n}:BANDwidth {'B20' if ch.bandwidth_limit else 'FULL'}")
        w, p = acquisition.window_s, acquisition.pretrigger
        self._set(f"TIMebase:RANGe {fmt(w)}")
        self._set("TIMebase:REFerence 50")
        self._set(f"TIMebase:POSition {fmt(w * (0.5 - p))}")
        self._set(f"ACQuire:POINts {int(round(acquisition.sample_rate_hz * w))}")
        window = self._q("TIMebase:RANGe?")
        position = self._q("TIMebase:POSition?")
        rate = self._q("ACQuire:SRATe?")
        points = int(self._q("ACQuire:POINts?"))
        self.record_points = points
        self._window_s = window
        return Applied(self._read_channel(voltage.channel), self._read_channel(current.channel),
                       AcquisitionApplied(sample_rate_hz=rate, points=points, window_s=window,
                                          pretrigger=0.5 - position / window))

    def _read_channel(self, n: int) -> ChannelApplied:
        coupling = self.t.query(f"CHANnel{n}:COUPling?").strip().upper()
        return ChannelApplied(channel=n, probe_ratio=self._q(f"PROBe{n}:SETup:ATTenuation:MANual?"),
                              volts_per_div=self._q(f"CHANnel{n}:SCALe?"), offset_v=self._q(f"CHANnel{n}:OFFSet?"),
                              coupling="DC" if coupling.startswith("DC") else "AC",
                              bandwidth_limit=self.t.query(f"CHANnel{n}:BANDwidth?").strip().upper() == "B20")

    def arm_single(self, trigger_channel: int, level_v: float) -> None:
        self.trigger_source(trigger_channel)            # a channel of this scope; "ext" is refused with advice
        self._set("TRIGger:A:MODE NORMal")
        self._set("TRIGger:A:TYPE EDGE")
        self._set(f"TRIGger:A:SOURce CH{trigger_channel}")
        self._set(f"TRIGger:A:LEVel{trigger_channel}:VALue {fmt(level_v)}")
        self._set("TRIGger:A:EDGE:SLOPe POSitive")
        self.t.write("SINGle")

    def force_trigger(self) -> None:
        self.t.write("*TRG")

    def acquisition_done(self) -> bool:
        state = self.t.query("ACQuire:STATe?").strip().upper()
        if state in DONE_STATES:
            return True
        if state in ("RUN", "RUNNING", "BRE", "BREAK"):
            return False
        raise InstrumentError(f"{self.t.name}: the reply to ACQuire:STATe? is {state!r}; expected RUN or COMPlete")

    def _download(self, channel: int, points: str, progress, cancel) -> Waveform:
        self.check_channel(channel)
        n = channel
        self.t.write("FORMat UINT,8")
        self.t.write("FORMat:BORDer LSBFirst")
        self.t.write(f"CHANnel{n}:DATA:POINts {points}")
        header = fields(self.t.query(f"CHANnel{n}:DATA:HEADer?"), 4, f"CHANnel{n}:DATA:HEADer?", self.t.name)
        xor = self._q(f"CHANnel{n}:DATA:XORigin?")
        xinc = self._q(f"CHANnel{n}:DATA:XINCrement?")
        yor = self._q(f"CHANnel{n}:DATA:YORigin?")
        yinc = self._q(f"CHANnel{n}:DATA:YINCrement?")
        if xinc <= 0 or yinc == 0:
            raise InstrumentError(f"{self.t.name}: unusable scaling (XINCrement {xinc}, YINCrement {yinc})")
        codes = np.empty(max(int(header[2]), 0), dtype=np.uint8)
        span = header[1] - header[0]
        if abs(span - len(codes) * xinc) > 0.01 * abs(span):
            raise InstrumentError(f"{self.t.name}: the header's span {span:.6g} s disagrees with {len(codes)} points of "
                                  f"XINCrement {xinc:.6g} s; the record length or the time base was misread")
        wave = Waveform(codes=codes, y_increment=yinc, y_origin=yor, y_reference=0.0, x_increment=xinc, x_origin=xor,
                        code_min=self.caps.code_min, code_max=self.caps.code_max, channel=n,
                        vendor_preamble={"header": header, "XORigin": xor, "XINCrement": xinc, "YORigin": yor,
                                         "YINCrement": yinc,
                                         "formula": "volts = YORigin + YINCrement * code; time = XORigin + i * XINCrement"})
        self._announce(wave)
        try:
            self.t.read_block_into(f"CHANnel{n}:DATA?", codes, progress=progress, cancel=cancel)
        except InstrumentError as exc:
            if "were asked for" in str(exc):
                raise InstrumentError(f"{self.t.name}: the header announces {len(codes)} points but CHANnel{n}:DATA? "
                                      "sent another number; capture again") from None
            raise
        return wave

    def fetch(self, channel: int, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> Waveform:
        return self._download(channel, "MAX", progress, cancel)

    def live_frame(self, channel: int) -> Waveform:
        return self._download(channel, "DEFault", None, None)

    def measured_mean_v(self, channel: int) -> float:
        """The scope's own mean (RTB2000 manual: MEASurement<m>:SOURce, :MAIN MEAN, :RESult:ACTual? MEAN)."""
        self.t.write(f"MEASurement1:SOURce CH{channel}")
        self.t.write("MEASurement1:MAIN MEAN")
        self.t.write("MEASurement1 ON")
        what = "MEASurement1:RESult:ACTual? MEAN"
        return self._q(what)

    def run(self) -> None:
        self.t.write("RUN")

    def stop(self) -> None:
        self.t.write("STOP")
