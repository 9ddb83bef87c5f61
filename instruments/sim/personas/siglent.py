"""The Siglent SDS2000X Plus persona (SDS programming guide EN11C and its waveform-reading example).

Channels C<n>; :CHANnel<n>:SWITch; :PROBe VALue,<x>; centre of screen = −offset; :BWLimit FULL|20M|200M;
memory depth as text ("10M"); :TIMebase:DELay from the trigger to the screen centre; :TRIGger:MODE
SINGle|AUTO|NORMal|STOP|FTRIG and :TRIGger:STATus? (Arm, Ready, Trig'd, Stop, Auto); a 346-byte binary
WAVEDESC for :WAVeform:PREamble? with vdiv and the offset at the scope's input (the probe factor in its own
field); signed BYTE codes; pages of :WAVeform:MAXPoint? from :WAVeform:STARt (0-based), every
:WAVeform:INTerval-th point; blocks end with two newlines; :MEASure:SIMPle:VALue? MEAN.

    volts = code / code_per_div · vdiv · probe − voffset · probe
    time  = −tdiv · 10 / 2 + i · interval + delay

Reply forms (SDS programming guide):
* :WAVeform:PREamble? — the 346-byte WAVEDESC in a `#9` block followed by two newlines; the fields at the
  offsets the guide's waveform-reading example reads (vdiv 0x9C, offset 0xA0, code_per_div 0xA4, adc_bit 0xAC,
  interval 0xB0, delay 0xB4, timebase index 0x144 into its table starting at 200 ps/div, probe 0x148).
* :ACQuire:POINts?, :ACQuire:SRATe?, :WAVeform:MAXPoint?, :CHANnel<n>:SCALe? and the other reals — NR3 with
  three significant digits ("1.00E+04"; the digit count is this simulator's choice); :ACQuire:MDEPth? — the
  depth as a word ("10K", "10M").
* :CHANnel<n>:PROBe? — `VALue,<x>`; :TRIGger:STATus? — Arm, Ready, Trig'd, Stop, Auto.
* :WAVeform:DATA? — signed BYTE codes in a `#9` block followed by two newlines.
"""

from __future__ import annotations

import struct

import numpy as np

from instruments.sim.engine import Quantizer
from instruments.sim.personas.base import Block, Persona, channel_arg, positive
from instruments.sim.scpi import (DATA_OUT_OF_RANGE, ILLEGAL_PARAMETER, SETTINGS_CONFLICT, ScpiError, choice,
                                  parse_float)

CODES_PER_DIV = 25.0
WAVEDESC_BYTES = 346
DEPTHS = {"10K": 10_000, "100K": 100_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
PAGE_POINTS = 1_000_000
TDIV_STEPS = [m * 10.0 ** e for e in range(-10, 4) for m in (1, 2, 5)]
# programming guide, WAVEDESC "timebase" (i16 at 0x144) and its waveform-reading example's table: index 0 is
# 200 ps/div, then 1-2-5 steps up to 1000 s/div
TDIV_ENUM = [v for v in TDIV_STEPS if 200e-12 * (1 - 1e-9) <= v <= 1000 * (1 + 1e-9)]


def depth_word(points: int) -> str:
    return next((w for w, v in DEPTHS.items() if v == points), str(points))


class SiglentPersona(Persona):
    idn = "Siglent Technologies,SDS2504X Plus,SDS2PJOULEBENCHSIM,4.8.9.1.0.3.9"
    block_digits = 9
    block_terminator = b"\n\n"
    horizontal_divisions = 10
    scale_range_v = (5e-4, 10.0)

    def register(self) -> None:
        self.delay_s = 0.0
        self.wav_start, self.wav_points, self.wav_interval = 0, PAGE_POINTS, 1
        self.bw_word = {n: "FULL" for n in self.e.channels}
        self.meas_source = 1
        t, p = self.table, self.prop
        p(":CHANnel#:SWITch", lambda s: "ON" if self.channel(s).display else "OFF",
          lambda s, a: setattr(self.channel(s), "display", choice(a, {"ON": "ON", "OFF": "OFF"}) == "ON"))
        p(":CHANnel#:SCALe", lambda s: f"{self.channel(s).scale_v:.2E}", self._set_scale)
        p(":CHANnel#:OFFSet", lambda s: f"{-self.channel(s).centre_v:.2E}",
          lambda s, a: setattr(self.channel(s), "centre_v", -parse_float(a)))
        p(":CHANnel#:PROBe", lambda s: f"VALue,{self.channel(s).probe:.2E}", self._set_probe)
        p(":CHANnel#:COUPling", lambda s: self.channel(s).coupling,
          lambda s, a: setattr(self.channel(s), "coupling", choice(a, {"DC": "DC", "AC": "AC", "GND": "GND"})))
        p(":CHANnel#:BWLimit", lambda s: self.bw_word[s[0]], self._set_bw)
        p(":ACQuire:MDEPth", lambda s: depth_word(int(self.e.points)), self._set_depth)
        t.add(":ACQuire:SRATe", lambda s, a, q: f"{self.e.sample_rate_hz:.2E}" if q else None)
        # programming guide, :ACQuire:POINts?: the points of the acquired waveform in NR3 ("1.00E+06")
        t.add(":ACQuire:POINts", self._query_only(lambda: f"{self.e.points * self.record_fraction():.2E}"))
        p(":TIMebase:SCALe", lambda s: f"{self.e.window_s / 10:.2E}", self._set_tdiv)
        p(":TIMebase:DELay", lambda s: f"{self.delay_s:.2E}", self._set_delay)
        p(":TRIGger:TYPE", lambda s: "EDGE", lambda s, a: choice(a, {"EDGE": "EDGE"}))
        p(":TRIGger:EDGE:SOURce", lambda s: f"C{self.e.trigger_channel}",
          lambda s, a: setattr(self.e, "trigger_channel", channel_arg(a, ("C",))))
        p(":TRIGger:EDGE:LEVel", lambda s: f"{self.e.trigger_level_v:.2E}",
          lambda s, a: setattr(self.e, "trigger_level_v", parse_float(a)))
        p(":TRIGger:EDGE:SLOPe", lambda s: "RISing", lambda s, a: choice(a, {"RISing": "RISING"}))
        p(":TRIGger:MODE", lambda s: "SINGle", self._set_trigger_mode)
        t.add(":TRIGger:STATus", lambda s, a, q: self._status() if q else None)
        p(":WAVeform:SOURce", lambda s: f"C{self.wav_source}",
          lambda s, a: setattr(self, "wav_source", channel_arg(a, ("C",))))
        p(":WAVeform:WIDTh", lambda s: "BYTE", lambda s, a: choice(a, {"BYTE": "BYTE"}))
        t.add(":WAVeform:MAXPoint", lambda s, a, q: f"{PAGE_POINTS:.2E}" if q else None)
        p(":WAVeform:POINt", lambda s: str(self.wav_points), lambda s, a: setattr(self, "wav_points", int(positive(a))))
        p(":WAVeform:STARt", lambda s: str(self.wav_start), self._set_start)
        p(":WAVeform:INTerval", lambda s: str(self.wav_interval),
          lambda s, a: setattr(self, "wav_interval", int(positive(a))))
        t.add(":WAVeform:PREamble", lambda s, a, q: self._preamble() if q else None)
        t.add(":WAVeform:DATA", lambda s, a, q: self._data() if q else None)
        p(":MEASure", lambda s: "ON", lambda s, a: choice(a, {"ON": "ON", "OFF": "OFF"}))
        p(":MEASure:MODE", lambda s: "SIMPle", lambda s, a: choice(a, {"SIMPle": "SIMPLE", "ADVanced": "ADVANCED"}))
        p(":MEASure:SIMPle:SOURce", lambda s: f"CHANnel{self.meas_source}",
          lambda s, a: setattr(self, "meas_source", channel_arg(a, ("CHANnel", "C"))))
        t.add(":MEASure:SIMPle:ITEM", lambda s, a, q: None)
        t.add(":MEASure:SIMPle:VALue", self._measure)

    # -- settings ------------------------------------------------------------------
    def _set_probe(self, s, a) -> None:
        word, _, value = a.partition(",")
        self.channel(s).probe = positive(value if value else word)


    def _set_bw(self, s, a) -> None:
        word = choice(a, {"FULL": "FULL", "20M": "20M", "200M": "200M"})   # the SDS2000X Plus spelling
        self.bw_word[s[0]] = word
        self.channel(s).bwlimit = word != "FULL"

    def _set_depth(self, s, a) -> None:
        word = a.strip().upper().replace("PTS", "")
        if word not in DEPTHS:
            raise ScpiError(*ILLEGAL_PARAMETER)
        self.e.points = DEPTHS[word]

    def _set_tdiv(self, s, a) -> None:
        value = positive(a)
        if not any(abs(value - step) <= 1e-9 * step for step in TDIV_STEPS):
            raise ScpiError(*DATA_OUT_OF_RANGE)            # the timebase has 1-2-5 steps
        self.e.window_s = 10 * value
        self._update_pretrigger()

    def _set_delay(self, s, a) -> None:
        self.delay_s = parse_float(a)
        self._update_pretrigger()

    def _update_pretrigger(self) -> None:
        self.e.pretrigger = min(max(0.5 - self.delay_s / self.e.window_s, 0.0), 1.0)

    def _set_trigger_mode(self, s, a) -> None:
        mode = choice(a, {"SINGle": "SINGLE", "AUTO": "AUTO", "NORMal": "NORMAL", "STOP": "STOP", "FTRIG": "FTRIG"})
        if mode == "SINGLE":
            self.e.arm_single()
        elif mode in ("AUTO", "NORMAL"):
            self.e.run()
        elif mode == "STOP":
            self.e.stop()
        else:
            self.e.force_trigger()

    def _set_start(self, s, a) -> None:
        value = int(parse_float(a))
        if value < 0:
            raise ScpiError(*DATA_OUT_OF_RANGE)
        self.wav_start = value

    def _status(self) -> str:
        return {"ARMED": "Ready", "TRIGGERED": "Trig'd", "RUN": "Auto"}.get(self.e.state, "Stop")

    def _measure(self, s, a, q):
        if not q or choice(a, {"MEAN": "MEAN"}) != "MEAN":
            raise ScpiError(*ILLEGAL_PARAMETER)
        return f"{self.record_mean_v(self.meas_source):.6E}"

    # -- waveform transfer -----------------------------------------------------------
    def quantizer(self, n: int) -> Quantizer:
        ch = self.e.channels[n]
        return Quantizer(ch.scale_v / CODES_PER_DIV, 0.0, ch.centre_v, -128, 127, "i1")

    def _preamble(self) -> Block:
        n = self.wav_source
        ch = self.channel([n])
        rec = self.e.record
        if rec is None or self.e.state != "STOP" or not ch.display:
            self.push(*SETTINGS_CONFLICT)
            return Block(b"")
        desc = bytearray(WAVEDESC_BYTES)
        desc[0:8] = b"WAVEDESC"
        desc[16:23] = b"WAVEACE"
        probe = 1.0 if self.corrupt == "probe" else ch.probe
        struct.pack_into("<i", desc, 0x74, int(rec.points * self.record_fraction()))
        struct.pack_into("<f", desc, 0x9C, ch.scale_v / ch.probe)                    # at the scope's input
        struct.pack_into("<f", desc, 0xA0, self.offset_sign() * -ch.centre_v / ch.probe)
        struct.pack_into("<f", desc, 0xA4, CODES_PER_DIV)
        struct.pack_into("<h", desc, 0xAC, 8)
        struct.pack_into("<f", desc, 0xB0, rec.x_increment)
        struct.pack_into("<d", desc, 0xB4, self.delay_s)
        tdiv = self.e.window_s / 10
        struct.pack_into("<h", desc, 0x144, min(range(len(TDIV_ENUM)), key=lambda k: abs(TDIV_ENUM[k] - tdiv)))
        struct.pack_into("<f", desc, 0x148, probe)
        return Block(bytes(desc))

    def _data(self) -> Block:
        n = self.wav_source
        try:
            codes = self.record_or_error(n)
        except ScpiError as exc:
            self.push(exc.code, exc.message)
            return Block(b"")
        step = self.wav_interval
        a = self.wav_start
        count = min(self.wav_points, PAGE_POINTS)
        page = codes[a:a + count * step:step]
        return Block(memoryview(np.ascontiguousarray(page)))
