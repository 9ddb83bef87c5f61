"""Siglent SDS2000X Plus / SDS800X HD.

Dialect (docs/scopes.md): channels `C<n>`; `:CHANnel<n>:SWITch ON`; probe
`:PROBe VALue,<x>`; the trace offset is taken like Rigol's (centre of screen =
−offset; verify on your model); `:TIMebase:DELay` is the time from the
trigger to the screen centre; memory depth as text ("10M"); single trigger
`:TRIGger:MODE SINGle`, polled until `:TRIGger:STATus?` says Stop after being
armed; `:WAVeform:PREamble?` returns a 346-byte binary WAVEDESC
(little-endian: vdiv f32 @0x9C, voffset f32 @0xA0, code_per_div f32 @0xA4,
adc_bit i16 @0xAC, interval f32 @0xB0, delay f64 @0xB4, probe f32 @0x148,
points i32 @0x74); signed codes; pages of `:WAVeform:MAXPoint?` from
`:WAVeform:STARt` (0-based); every block ends with two newlines.
Settings are verified by reading them back (the family's error queue is not
relied on).
"""

from __future__ import annotations

import math
import struct
import threading

import numpy as np

from instruments.errors import InstrumentError
from instruments.replies import fmt, number
from instruments.scope import (AcquisitionApplied, AcquisitionSetup, Applied, ChannelApplied, ChannelSetup,
                               NotStickyStatus, Scope)
from instruments.transport import ProgressFn
from instruments.waveform import Waveform

WAVEDESC_BYTES = 346
DEPTHS = (10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)
ARMED = ("ARM", "READY", "TRIG'D", "AUTO")


def depth_text(points: int) -> str:
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if points >= div and points % div == 0:
            return f"{points // div}{suffix}"
    return str(points)


def parse_depth(reply: str, source: str) -> int:
    text = reply.strip().upper().replace("PTS", "")
    mult = 1
    if text.endswith("K"):
        mult, text = 1_000, text[:-1]
    elif text.endswith("M"):
        mult, text = 1_000_000, text[:-1]
    elif text.endswith("G"):
        mult, text = 1_000_000_000, text[:-1]
    return int(round(number(text, ":ACQuire:MDEPth?", source) * mult))


def last_number(reply: str, what: str, source: str) -> float:
    """Siglent replies like 'VALue,10' or '10': the last comma field."""
    return number(reply.split(",")[-1], what, source)


def parse_wavedesc(desc: bytes, source: str) -> dict[str, float]:
    if len(desc) != WAVEDESC_BYTES:
        raise InstrumentError(f"{source}: the WAVEDESC preamble has {len(desc)} bytes, not {WAVEDESC_BYTES}")
    out = {
        "points": struct.unpack_from("<i", desc, 0x74)[0],
        "vdiv": struct.unpack_from("<f", desc, 0x9C)[0],
        "voffset": struct.unpack_from("<f", desc, 0xA0)[0],
        "code_per_div": struct.unpack_from("<f", desc, 0xA4)[0],
        "adc_bit": struct.unpack_from("<h", desc, 0xAC)[0],
        "interval": struct.unpack_from("<f", desc, 0xB0)[0],
        "delay": struct.unpack_from("<d", desc, 0xB4)[0],
        "probe": struct.unpack_from("<f", desc, 0x148)[0],
    }
    for key, value in out.items():
        if not math.isfinite(value):
            raise InstrumentError(f"{source}: WAVEDESC field {key} is {value}; the preamble is corrupt")
    if out["interval"] <= 0 or out["code_per_div"] <= 0 or out["vdiv"] <= 0 or out["points"] < 0:
        raise InstrumentError(f"{source}: WAVEDESC fields are unusable ({out}); the preamble is corrupt")
    return out


class SiglentSDS(Scope):
    driver_name = "siglent-sds"
    horizontal_divisions = 10

    def __init__(self, transport, idn: str = ""):
        super().__init__(transport, idn)
        self._status = NotStickyStatus(ARMED)

    def _q(self, command: str) -> float:
        return last_number(self.t.query(command), command, self.t.name)

    def _check(self, what: str, asked: float, got: float) -> None:
        if not math.isclose(asked, got, rel_tol=1e-3, abs_tol=1e-12):
            raise InstrumentError(f"{self.t.name}: the scope applied {what} = {got:g} where {asked:g} was asked; it "
                                  "does not support that value. Choose a supported one in the bench file.")

    def configure(self, voltage: ChannelSetup, current: ChannelSetup, acquisition: AcquisitionSetup,
                  extra: tuple[ChannelSetup, ...] = ()) -> Applied:
        self.t.write("*CLS")
        for ch in (voltage, current, *extra):
            self.check_channel(ch.channel)
            n = ch.channel
            self.t.write(f":CHANnel{n}:SWITch ON")
            self.t.write(f":CHANnel{n}:PROBe VALue,{fmt(ch.probe_ratio)}")
            self.t.write(f":CHANnel{n}:SCALe {fmt(ch.volts_per_div)}")
            self.t.write(f":CHANnel{n}:OFFSet {fmt(-ch.offset_v)}")
            self.t.write(f":CHANnel{n}:COUPling {ch.coupling}")
            self.t.write(f":CHANnel{n}:BWLimit {'ON' if ch.bandwidth_limit else 'OFF'}")
        w, p = acquisition.window_s, acquisition.pretrigger
        wanted = acquisition.sample_rate_hz * w
        depth = next((d for d in DEPTHS if d >= wanted * (1 - 1e-9)), DEPTHS[-1])
        self.t.write(":ACQuire:MDEPth " + depth_text(depth))
        self.t.write(f":TIMebase:SCALe {fmt(w / self.horizontal_divisions)}")
        self.t.write(f":TIMebase:DELay {fmt(w * (0.5 - p))}")
        applied = []
        for ch in (voltage, current, *extra):
            n = ch.channel
            a = ChannelApplied(channel=n, probe_ratio=self._q(f":CHANnel{n}:PROBe?"),
                               volts_per_div=self._q(f":CHANnel{n}:SCALe?"),
                               offset_v=-self._q(f":CHANnel{n}:OFFSet?"),
                               coupling=self.t.query(f":CHANnel{n}:COUPling?").strip().upper(),
                               bandwidth_limit=self.t.query(f":CHANnel{n}:BWLimit?").strip().upper() == "ON")
            self._check(f"CH{n} probe", ch.probe_ratio, a.probe_ratio)
            self._check(f"CH{n} volts/div", ch.volts_per_div, a.volts_per_div)
            applied.append(a)
        scale = self._q(":TIMebase:SCALe?")
        delay = self._q(":TIMebase:DELay?")
        rate = self._q(":ACQuire:SRATe?")
        points = parse_depth(self.t.query(":ACQuire:MDEPth?"), self.t.name)
        window = scale * self.horizontal_divisions
        self._window_s = window
        return Applied(applied[0], applied[1], AcquisitionApplied(sample_rate_hz=rate, points=points, window_s=window,
                                                                  pretrigger=0.5 - delay / window))

    def arm_single(self, trigger_channel: int, level_v: float) -> None:
        self.trigger_source(trigger_channel)            # a channel of this scope; "ext" is refused with advice
        self.t.write(":TRIGger:TYPE EDGE")
        self.t.write(f":TRIGger:EDGE:SOURce C{trigger_channel}")
        self.t.write(f":TRIGger:EDGE:LEVel {fmt(level_v)}")
        self.t.write(":TRIGger:EDGE:SLOPe RISing")
        self.t.write(":TRIGger:MODE SINGle")
        self._status.armed()

    def force_trigger(self) -> None:
        self.t.write(":TRIGger:MODE FTRIG")

    def acquisition_done(self) -> bool:
        status = self.t.query(":TRIGger:STATus?").strip().upper()
        return self._status.done(status, self._window_s, self.t.name, ":TRIGger:STATus?")

    def _preamble(self, channel: int) -> dict[str, float]:
        self.check_channel(channel)
        self.t.write(f":WAVeform:SOURce C{channel}")
        self.t.write(":WAVeform:WIDTh BYTE")
        desc = self.t.read_block(":WAVeform:PREamble?", np.uint8, terminators=2, expect_bytes=WAVEDESC_BYTES)
        return parse_wavedesc(desc.tobytes(), self.t.name)

    def _waveform(self, d: dict[str, float], codes: np.ndarray, channel: int, tdiv: float) -> Waveform:
        return Waveform(codes=codes, y_increment=d["vdiv"] / d["code_per_div"], y_origin=-d["voffset"],
                        y_reference=0.0, x_increment=d["interval"],
                        x_origin=-tdiv * self.horizontal_divisions / 2 + d["delay"],
                        code_min=-128, code_max=127, channel=channel,
                        vendor_preamble={**d, "tdiv": tdiv,
                                         "formula": "volts = code / code_per_div * vdiv - voffset; "
                                                    "time = -tdiv * 10 / 2 + i * interval + delay"})

    def fetch(self, channel: int, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> Waveform:
        d = self._preamble(channel)
        tdiv = self._q(":TIMebase:SCALe?")
        points = int(d["points"])
        if points <= 0:
            raise InstrumentError(f"{self.t.name}: channel {channel} holds no points; is it on and was it captured?")
        page = int(self._q(":WAVeform:MAXPoint?"))
        if page <= 0:
            raise InstrumentError(f"{self.t.name}: :WAVeform:MAXPoint? says {page}; cannot page the download")
        codes = np.empty(points, dtype=np.int8)
        self.t.write(f":WAVeform:POINt {min(page, points)}")
        for start in range(0, points, page):
            stop = min(points, start + page)
            self.t.write(f":WAVeform:STARt {start}")
            self.t.read_block_into(":WAVeform:DATA?", codes[start:stop], terminators=2, progress=progress,
                                   cancel=cancel, done_before=start, total=points)
        return self._waveform(d, codes, channel, tdiv)

    def live_frame(self, channel: int) -> Waveform:
        d = self._preamble(channel)
        tdiv = self._q(":TIMebase:SCALe?")
        points = max(1, int(d["points"]))
        every = max(1, points // 1000)
        self.t.write(f":WAVeform:INTerval {every}")
        self.t.write(f":WAVeform:POINt {min(1000, points)}")
        self.t.write(":WAVeform:STARt 0")
        codes = self.t.read_block(":WAVeform:DATA?", np.int8, terminators=2)
        self.t.write(":WAVeform:INTerval 1")
        d = dict(d, interval=d["interval"] * every)
        return self._waveform(d, codes, channel, tdiv)

    def run(self) -> None:
        self.t.write(":TRIGger:MODE AUTO")

    def stop(self) -> None:
        self.t.write(":TRIGger:MODE STOP")
