"""The Tektronix 4/5/6 Series MSO persona (4/5/6 Series MSO programmer manual).

Headers without a leading colon; `HEADer OFF` for bare replies; the channel offset is the centre-screen
voltage with POSition 0; 10 vertical and 10 horizontal divisions; the record length set directly
(HORizontal:MODe MANual), the trigger at HORizontal:POSition per cent of the record; ACQuire:STOPAfter
SEQuence + ACQuire:STATE RUN arms, ACQuire:STATE? is 0 when done; CURVe? in SRIbinary (signed, LSB first) of
DATa:WIDth 1 or 2 bytes, or ASCii; the WFMOutpre fields asked by name:

    volts = (code − YOFf) · YMUlt + YZEro,   time = XZEro + XINcr · (i − PT_Off)

An attached TPP/TekVPI probe sets CH<x>:PROBe:GAIN (0.1 for 10X); CH<x>:PROBEFunc:EXTAtten is external
attenuation on top. Refusals set *ESR? bits and are listed by ALLEv?. MEASUrement:MEAS<x>:RESUlts:CURRentacq:MEAN?
answers the mean.

Reply forms (4/5/6 Series programmer manual), with HEADer OFF:
* WFMOutpre:<field>? — the bare value: NR3 reals ("4.000000E-03"; the digit count is this simulator's choice),
  NR1 integers for PT_Off and NR_Pt.
* CURVe? — a `#9` definite-length block of SRIbinary codes (DATa:WIDth 1 or 2, LSB first), or ASCII NR1 codes
  joined with ',' after DATa:ENCdg ASCii.
* DATa:SOUrce:AVAILable? — the channels that hold a waveform, comma separated ("CH1,CH2").
* ALLEv? — `<code>,"<message>"` for each event, `0,"No events to report - queue empty"` when none; EVMsg? one
  event; EVENT? its code; *ESR? NR1.
* ACQuire:STATE? — 1 while acquiring, 0 once the sequence is complete; VERBose? and DISplay:…:STATE? — 1 or 0.
"""

from __future__ import annotations

import numpy as np

from instruments.sim.engine import Quantizer
from instruments.sim.personas.base import AUTO_TRIGGER_S, Block, Persona, channel_arg, positive
from instruments.sim.scpi import (DATA_OUT_OF_RANGE, ILLEGAL_PARAMETER, SETTINGS_CONFLICT, ScpiError, choice,
                                  parse_bool, parse_float)

CODES_PER_DIV = 6250        # 16-bit transfers: 10 divisions span 62 500 codes


class TektronixPersona(Persona):
    idn = "TEKTRONIX,MSO54,C0JOULEBENCHSIM,CF:91.1CT FV:1.38.2.5"
    block_digits = 9
    horizontal_divisions = 10
    scale_range_v = (5e-4, 10.0)
    overlapped_single = True    # programmer manual, ACQuire:STATE: in single sequence *OPC waits for the acquisition

    def register(self) -> None:
        self.stop_after = "RUNSTOP"
        self.trigger_mode = "NORMAL"
        self.verbose = True
        self.probe_gain = {n: 1.0 for n in self.e.channels}     # an attached 10X TPP probe: 0.1
        self.ext_atten = {n: 1.0 for n in self.e.channels}
        self.position_pct = 50.0
        self.record_length = 10_000
        self.data_source, self.data_width, self.data_start, self.data_stop = 1, 1, 1, 10_000
        self.encoding = "SRIBINARY"
        self.meas_source = {1: 1}
        t, p = self.table, self.prop
        # programmer manual, HEADer and VERBose: replies are bare values once HEADer is OFF; VERBose? is 1 or 0
        t.add("HEADer", lambda s, a, q: "0" if q else None)
        p("VERBose", lambda s: "1" if self.verbose else "0", lambda s, a: setattr(self, "verbose", parse_bool(a)))
        # programmer manual, ALLEv? / EVMsg? / EVENT?: the event queue as <code>,"<message>" (ALLEv? every event)
        t.add("ALLEv", lambda s, a, q: self._allev() if q else None)
        t.add("EVMsg", self._query_only(self._evmsg))
        t.add("EVENT", self._query_only(self._event))
        t.add("ACQuire:NUMACq", self._query_only(lambda: str(self.e.record.number if self.e.record else 0)))
        # programmer manual, DATa:SOUrce:AVAILable?: the waveforms that can be transferred, comma separated
        t.add("DATa:SOUrce:AVAILable", self._query_only(self._available))
        p("DISplay:GLObal:CH#:STATE", lambda s: "1" if self.channel(s).display else "0",
          lambda s, a: setattr(self.channel(s), "display", parse_bool(a)))
        # programmer manual, DISplay:WAVEView<x>:CH<x>:STATE: the channel shown in the waveform view (NR1 1/0)
        p("DISplay:WAVEView#:CH#:STATE", lambda s: "1" if self.channel(s[1:]).display else "0",
          lambda s, a: setattr(self.channel(s[1:]), "display", parse_bool(a)))
        # programmer manual, CH<x>:PROBETYPE?: ANALOG for an analog probe (or none)
        t.add("CH#:PROBETYPE", self._query_only(lambda: "ANALOG"))
        # programmer manual, CH<x>:PROBE:ID:SERnumber? and :TYPE?: quoted strings naming the probe; the simulated
        # probes carry no identification: "N/A" and "1X", what tm_devices assumes for such a channel
        t.add("CH#:PROBE:ID:SERnumber", self._query_only(lambda: '"N/A"'))
        t.add("CH#:PROBE:ID:TYPE", self._query_only(lambda: '"1X"'))
        p("CH#:SCAle", lambda s: f"{self.channel(s).scale_v:.4E}", self._set_scale)
        p("CH#:OFFSet", lambda s: f"{self.channel(s).centre_v:.4E}",
          lambda s, a: setattr(self.channel(s), "centre_v", parse_float(a)))
        p("CH#:POSition", lambda s: "0.0E+0", lambda s, a: self._only_zero(a))
        p("CH#:COUPling", lambda s: self.channel(s).coupling,
          lambda s, a: setattr(self.channel(s), "coupling", choice(a, {"DC": "DC", "AC": "AC"})))
        p("CH#:BANdwidth", lambda s: "20.0000E+6" if self.channel(s).bwlimit else "1.0000E+9",
          lambda s, a: setattr(self.channel(s), "bwlimit", a.strip().upper() not in ("FUL", "FULL")
                               and parse_float(a) <= 250e6))
        p("CH#:PROBe:GAIN", lambda s: f"{self.probe_gain[s[0]]:.4E}", lambda s, a: self._refuse())
        p("CH#:PROBEFunc:EXTAtten", lambda s: f"{self.ext_atten[s[0]]:.4E}", self._set_ext_atten)
        p("HORizontal:MODe", lambda s: "MANUAL", lambda s, a: choice(a, {"MANual": "MANUAL", "AUTO": "AUTO"}))
        p("HORizontal:MODe:RECOrdlength", lambda s: str(int(self.record_length * self.record_fraction())),
          self._set_record_length)
        p("HORizontal:SCAle", lambda s: f"{self.e.window_s / 10:.4E}", self._set_hscale)
        p("HORizontal:DELay:MODe", lambda s: "0", lambda s, a: parse_bool(a) and self._refuse())
        p("HORizontal:POSition", lambda s: f"{self.position_pct:.4E}", self._set_position)
        t.add("HORizontal:MODe:SAMPLERate", lambda s, a, q: f"{self.e.sample_rate_hz:.4E}" if q else None)
        p("TRIGger:A:TYPe", lambda s: "EDGE", lambda s, a: choice(a, {"EDGE": "EDGE"}))
        p("TRIGger:A:EDGE:SOUrce", lambda s: f"CH{self.e.trigger_channel}",
          lambda s, a: setattr(self.e, "trigger_channel", channel_arg(a, ("CH",))))
        p("TRIGger:A:LEVel:CH#", lambda s: f"{self.e.trigger_level_v:.4E}", self._set_level)
        p("TRIGger:A:EDGE:SLOpe", lambda s: "RISE", lambda s, a: choice(a, {"RISe": "RISE"}))
        p("TRIGger:A:MODe", lambda s: self.trigger_mode, self._set_trigger_mode)
        t.add("TRIGger", lambda s, a, q: self._trigger(a))
        p("ACQuire:STOPAfter", lambda s: self.stop_after, lambda s, a: setattr(
            self, "stop_after", choice(a, {"SEQuence": "SEQUENCE", "RUNSTop": "RUNSTOP"})))
        p("ACQuire:STATE", lambda s: "1" if self.e.state in ("ARMED", "TRIGGERED", "RUN") else "0",
          self._set_state)
        p("DATa:SOUrce", lambda s: f"CH{self.data_source}",
          lambda s, a: setattr(self, "data_source", channel_arg(a, ("CH",))))
        p("DATa:ENCdg", lambda s: self.encoding, lambda s, a: setattr(
            self, "encoding", choice(a, {"SRIbinary": "SRIBINARY", "ASCii": "ASCII"})))
        p("DATa:WIDth", lambda s: str(self.data_width), self._set_width)
        p("DATa:RESOlution", lambda s: "FULL", lambda s, a: choice(a, {"FULL": "FULL", "REDUced": "REDUCED"}))
        p("DATa:STARt", lambda s: str(self.data_start), lambda s, a: setattr(self, "data_start", int(positive(a))))
        p("DATa:STOP", lambda s: str(self.data_stop), lambda s, a: setattr(self, "data_stop", int(positive(a))))
        for field in ("YMUlt", "YOFf", "YZEro", "XINcr", "XZEro", "PT_Off", "NR_Pt"):
            t.add(f"WFMOutpre:{field}", lambda s, a, q, f=field: self._wfmoutpre(f) if q else self._refuse())
        t.add("CURVe", lambda s, a, q: self._curve() if q else self._refuse())
        p("MEASUrement:MEAS#:TYPe", lambda s: "MEAN", lambda s, a: choice(a, {"MEAN": "MEAN"}))
        p("MEASUrement:MEAS#:SOUrce", lambda s: f"CH{self.meas_source.get(s[0], 1)}",
          lambda s, a: self.meas_source.__setitem__(s[0], channel_arg(a, ("CH",))))
        t.add("MEASUrement:MEAS#:RESUlts:CURRentacq:MEAN",
              lambda s, a, q: f"{self.record_mean_v(self.meas_source.get(s[0], 1)):.6E}" if q else self._refuse())

    # -- errors as the 4/5/6 Series report them ----------------------------------
    def _available(self) -> str:
        on = [f"CH{n}" for n, ch in sorted(self.e.channels.items()) if ch.display]
        return ",".join(on) if on and self.e.record is not None else "NONE"

    def _set_trigger_mode(self, s, a) -> None:
        self.trigger_mode = choice(a, {"NORMal": "NORMAL", "AUTO": "AUTO"})
        self.e.auto_trigger_s = AUTO_TRIGGER_S if self.trigger_mode == "AUTO" else None

    def _evmsg(self) -> str:
        if not self.errors:
            return '0,"No events to report - queue empty"'
        code, message = self.errors.popleft()
        return f'{code},"{message}"'

    def _event(self) -> str:
        return str(self.errors.popleft()[0]) if self.errors else "0"

    def _allev(self) -> str:
        if not self.errors:
            return '0,"No events to report - queue empty"'
        events = [f'{code},"{message}"' for code, message in self.errors]
        self.errors.clear()
        return ",".join(events)

    @staticmethod
    def _refuse():
        raise ScpiError(*SETTINGS_CONFLICT)

    def _only_zero(self, a: str) -> None:
        if parse_float(a) != 0:
            raise ScpiError(*SETTINGS_CONFLICT)

    # -- settings ------------------------------------------------------------------
    def _set_ext_atten(self, s, a) -> None:
        n = s[0]
        self.ext_atten[n] = positive(a)
        self.channel(s).probe = self.ext_atten[n] / self.probe_gain[n]


    def _set_record_length(self, s, a) -> None:
        value = int(positive(a))
        if not 1_000 <= value <= 62_500_000:
            raise ScpiError(*DATA_OUT_OF_RANGE)
        self.record_length = value
        self.e.points = value

    def _set_hscale(self, s, a) -> None:
        self.e.window_s = 10 * positive(a)
        self.e.points = self.record_length

    def _set_position(self, s, a) -> None:
        value = parse_float(a)
        if not 0 <= value <= 100:
            raise ScpiError(*DATA_OUT_OF_RANGE)
        self.position_pct = value
        self.e.pretrigger = value / 100.0

    def _set_level(self, s, a) -> None:
        self.e.trigger_level_v = parse_float(a)

    def _set_state(self, s, a) -> None:
        word = a.strip().upper()
        if word in ("RUN", "ON", "1"):
            if self.stop_after == "SEQUENCE":
                self.arm_single()
            else:
                self.e.run()
        elif word in ("STOP", "OFF", "0"):
            self.e.stop()
        else:
            raise ScpiError(*ILLEGAL_PARAMETER)

    def _trigger(self, a: str) -> None:
        if choice(a, {"FORCe": "FORCE"}) == "FORCE":
            self.e.force_trigger()

    def _set_width(self, s, a) -> None:
        width = int(parse_float(a))
        if width not in (1, 2):
            raise ScpiError(*ILLEGAL_PARAMETER)
        self.data_width = width

    # -- waveform transfer -----------------------------------------------------------
    def quantizer(self, n: int) -> Quantizer:
        ch = self.e.channels[n]
        per_div = CODES_PER_DIV if self.data_width == 2 else CODES_PER_DIV / 256
        lo, hi, dtype = (-32768, 32767, "<i2") if self.data_width == 2 else (-128, 127, "i1")
        return Quantizer(ch.scale_v / per_div, 0.0, ch.centre_v, lo, hi, dtype)

    def _range(self) -> tuple[int, int]:
        rec = self.e.record
        if rec is None or self.e.state != "STOP":
            raise ScpiError(*SETTINGS_CONFLICT)
        a = max(1, self.data_start)
        b = min(self.data_stop, int(rec.points * self.record_fraction()))
        if b < a:
            raise ScpiError(*DATA_OUT_OF_RANGE)
        return a, b

    def _wfmoutpre(self, field: str) -> str:
        n = self.data_source
        q = self.quantizer(n)
        rec = self.e.record
        if rec is None:
            raise ScpiError(*SETTINGS_CONFLICT)
        a, b = self._range()
        values = {"YMUlt": q.y_increment / self.probe_error(n), "YOFf": 0.0,
                  "YZEro": self.offset_sign() * q.centre_v / self.probe_error(n), "XINcr": rec.x_increment,
                  "XZEro": rec.x_origin + (a - 1) * rec.x_increment, "PT_Off": 0, "NR_Pt": b - a + 1}
        value = values[field]
        return str(value) if isinstance(value, int) else f"{value:.6E}"

    def _curve(self):
        n = self.data_source
        try:
            a, b = self._range()
            codes = self.record_or_error(n)[a - 1:b]
        except ScpiError as exc:
            self.push(exc.code, exc.message)
            return Block(b"")
        if self.encoding == "ASCII":
            return ",".join(str(int(c)) for c in codes)
        return Block(memoryview(np.ascontiguousarray(codes)))
