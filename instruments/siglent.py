"""Siglent SDS2000X Plus / SDS800X HD / SDS1000X HD.

Dialect (docs/scopes.md): channels `C<n>`; `:CHANnel<n>:SWITch ON`; probe
`:PROBe VALue,<x>`; the trace offset is taken like Rigol's (centre of screen =
−offset); `:TIMebase:DELay` is the time from the trigger to the screen centre;
memory depth as text ("10M"); single trigger `:TRIGger:MODE SINGle`, polled
until `:TRIGger:STATus?` says Stop after being armed; `:WAVeform:PREamble?`
returns a 346-byte binary WAVEDESC (little-endian: points i32 @0x74, vdiv f32
@0x9C, voffset f32 @0xA0, code_per_div f32 @0xA4, adc_bit i16 @0xAC,
interval f32 @0xB0, delay f64 @0xB4, probe f32 @0x148); signed codes; pages
of `:WAVeform:MAXPoint?` from `:WAVeform:STARt` (0-based); every block ends
with two newlines.

Conversion, as the vendor's reference waveform script in the SDS programming
guide (EN11C, "Reading waveform data") does it:

    volts = code / code_per_div · (vdiv · probe) − voffset · probe
    time  = −tdiv · 10 / 2 + i · interval + delay

vdiv and voffset in WAVEDESC are at the scope's input: they are multiplied by
the probe factor (a 10:1 probe otherwise reads 10× low); the trigger delay is
added. Settings are checked against the error queue and read back; the
bandwidth-limit argument depends on the model (SDS2000X Plus: `20M`/`FULL`,
SDS800X HD and SDS1000X HD: `ON`/`OFF`).
"""

from __future__ import annotations

import math
import struct
import threading

import numpy as np

from instruments.errors import InstrumentError
from instruments.capabilities import model_of
from instruments.replies import fmt, number, set_checked
from instruments.scope import (AcquisitionApplied, AcquisitionSetup, Applied, ChannelApplied, ChannelSetup,
                               NotStickyStatus, Scope)
from instruments.transport import ProgressFn
from instruments.waveform import Waveform

WAVEDESC_BYTES = 346
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

    def __init__(self, transport, idn: str = ""):
        super().__init__(transport, idn)
        self._status = NotStickyStatus(ARMED)
        self.record_points: int | None = None

    def _set(self, command: str) -> None:
        set_checked(self.t, command)

    @property
    def _bw_words(self) -> tuple[str, str]:
        """(limited, full) as this model spells them."""
        model = model_of(self.idn)
        if model.startswith("SDS8") or (model.startswith("SDS1") and "HD" in model):
            return "ON", "OFF"                      # SDS800X HD / SDS1000X HD programming guide
        return "20M", "FULL"                        # SDS2000X Plus (and SDS5000/6000)

    def _q(self, command: str) -> float:
        return last_number(self.t.query(command), command, self.t.name)

    def _check(self, what: str, asked: float, got: float) -> None:
        if not math.isclose(asked, got, rel_tol=1e-3, abs_tol=1e-12):
            raise InstrumentError(f"{self.t.name}: the scope applied {what} = {got:g} where {asked:g} was asked; it "
                                  "does not support that value. Choose a supported one in the bench file.")

    def configure(self, voltage: ChannelSetup, current: ChannelSetup, acquisition: AcquisitionSetup,
                  extra: tuple[ChannelSetup, ...] = ()) -> Applied:
        self.t.write("*CLS")
        limited, full = self._bw_words
        for ch in (voltage, current, *extra):
            self.check_channel(ch.channel)
            n = ch.channel
            self._set(f":CHANnel{n}:SWITch ON")
            self._set(f":CHANnel{n}:PROBe VALue,{fmt(ch.probe_ratio)}")
            self._set(f":CHANnel{n}:SCALe {fmt(ch.volts_per_div)}")
            self._set(f":CHANnel{n}:OFFSet {fmt(-ch.offset_v)}")
            self._set(f":CHANnel{n}:COUPling {ch.coupling}")
            self._set(f":CHANnel{n}:BWLimit {limited if ch.bandwidth_limit else full}")
        w, p = acquisition.window_s, acquisition.pretrigger
        wanted = acquisition.sample_rate_hz * w
        depth = self.caps.depth_for(wanted, 2 + len(extra))
        self._set(":ACQuire:MDEPth " + depth_text(depth))
        self._set(f":TIMebase:SCALe {fmt(w / self.horizontal_divisions)}")
        self._set(f":TIMebase:DELay {fmt(w * (0.5 - p))}")
        applied = []
        for ch in (voltage, current, *extra):
            n = ch.channel
            a = ChannelApplied(channel=n, probe_ratio=self._q(f":CHANnel{n}:PROBe?"),
                               volts_per_div=self._q(f":CHANnel{n}:SCALe?"),
                               offset_v=-self._q(f":CHANnel{n}:OFFSet?"),
                               coupling=self.t.query(f":CHANnel{n}:COUPling?").strip().upper(),
                               bandwidth_limit=self.t.query(f":CHANnel{n}:BWLimit?").strip().upper() in
                               ("ON", "20M", "200M"))
            self._check(f"CH{n} probe", ch.probe_ratio, a.probe_ratio)
            self._check(f"CH{n} volts/div", ch.volts_per_div, a.volts_per_div)
            if a.bandwidth_limit != ch.bandwidth_limit:
                raise InstrumentError(f"{self.t.name}: CH{n} bandwidth limit reads back "
                                      f"{'on' if a.bandwidth_limit else 'off'} where {'on' if ch.bandwidth_limit else 'off'} "
                                      "was asked; set bandwidth_limit to what this model supports")
            applied.append(a)
        scale = self._q(":TIMebase:SCALe?")
        delay = self._q(":TIMebase:DELay?")
        rate = self._q(":ACQuire:SRATe?")
        points = parse_depth(self.t.query(":ACQuire:MDEPth?"), self.t.name)
        self.record_points = points
        window = scale * self.horizontal_divisions
        self._window_s = window
        return Applied(applied[0], applied[1], AcquisitionApplied(sample_rate_hz=rate, points=points, window_s=window,
                                                                  pretrigger=0.5 - delay / window))

    def arm_single(self, trigger_channel: int, level_v: float) -> None:
        self.trigger_source(trigger_channel)            # a channel of this scope; "ext" is refused with advice
        self._set(":TRIGger:TYPE EDGE")
        self._set(f":TRIGger:EDGE:SOURce C{trigger_channel}")
        self._set(f":TRIGger:EDGE:LEVel {fmt(level_v)}")
        self._set(":TRIGger:EDGE:SLOPe RISing")
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
        probe = d["probe"]
        return Waveform(codes=codes, y_increment=d["vdiv"] * probe / d["code_per_div"], y_origin=-d["voffset"] * probe,
                        y_reference=0.0, x_increment=d["interval"],
                        x_origin=-tdiv * self.horizontal_divisions / 2 + d["delay"],
                        code_min=self.caps.code_min, code_max=self.caps.code_max, channel=channel,
                        vendor_preamble={**d, "tdiv": tdiv,
                                         "formula": "volts = code / code_per_div * vdiv * probe - voffset * probe; "
                                                    "time = -tdiv * 10 / 2 + i * interval + delay"})

    def fetch(self, channel: int, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> Waveform:
        self.t.write(":WAVeform:INTerval 1")       # a live frame (ours or another client's) may have left it at N
        d = self._preamble(channel)
        tdiv = self._q(":TIMebase:SCALe?")
        points = int(d["points"])
        if points <= 0:
            raise InstrumentError(f"{self.t.name}: channel {channel} holds no points; is it on and was it captured?")
        page = int(self._q(":WAVeform:MAXPoint?"))
        if page <= 0:
            raise InstrumentError(f"{self.t.name}: :WAVeform:MAXPoint? says {page}; cannot page the download")
        codes = np.empty(points, dtype=np.int8)
        wave = self._waveform(d, codes, channel, tdiv)
        self._announce(wave)
        self.t.write(f":WAVeform:POINt {min(page, points)}")
        for start in range(0, points, page):
            stop = min(points, start + page)
            self.t.write(f":WAVeform:STARt {start}")
            self.t.read_block_into(":WAVeform:DATA?", codes[start:stop], terminators=2, progress=progress,
                                   cancel=cancel, done_before=start, total=points)
        return wave

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

    def measured_mean_v(self, channel: int) -> float:
        """The scope's own mean of the channel (SDS programming guide, :MEASure:SIMPle:VALue? MEAN)."""
        self.t.write(":MEASure ON")
        self.t.write(":MEASure:MODE SIMPle")
        self.t.write(f":MEASure:SIMPle:SOURce CHANnel{channel}")
        self.t.write(":MEASure:SIMPle:ITEM MEAN,ON")
        what = ":MEASure:SIMPle:VALue? MEAN"
        return number(self.t.query(what), what, self.t.name)

    def run(self) -> None:
        self.t.write(":TRIGger:MODE AUTO")

    def stop(self) -> None:
        self.t.write(":TRIGger:MODE STOP")
