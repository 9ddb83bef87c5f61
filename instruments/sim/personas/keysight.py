"""The Keysight InfiniiVision 3000T X persona (InfiniiVision 3000T X programmer's guide).

Offset is the centre-screen voltage; 10 horizontal divisions; :TIMebase:RANGe/POSition/REFerence; the Run
bit (8) of :OPERegister:CONDition?; :WAVeform:POINts MAX switches the points mode; preamble of ten fields
with yreference 128 for BYTE; #8 blocks; BYTE (unsigned, 0 = hole, 1 and 255 the rails) or ASCii (volts as
NR3 in a block); compound queries such as `:TIMebase?`; `:MEASure:VAVerage? [DISPlay,]<source>`.

Reply forms (the guide's "Return Format" of each query, and what a real InfiniiVision prints):
* :WAVeform:PREamble? — format, type, points, count, xreference, yreference NR1, the rest NR3, all signed
  ("+0,+0,+1000,+1,+2.00000000E-010,-1.00000000E-007,+0,+3.12500000E-002,+1.25000000E-002,+128", a published
  capture); type is the :ACQuire:TYPE (0 NORMal, 3 HRESolution), not the points mode.
* integers (:OPERegister:CONDition?, :WAVeform:POINts?, :ACQuire:POINts?, *ESR?, *STB?) — signed NR1 ("+8").
* reals (:TIMebase:RANGe?, :CHANnel<n>:SCALe? …) — signed NR3, upper-case exponent ("+1.20000000E+00"); the
  number of digits a real scope prints varies with the value, this persona always prints nine.
* :SYSTem:ERRor? — `+0,"No error"`, `-113,"Undefined header"`; *OPC? — `1`; :TIMebase? and :CHANnel<n>? —
  the compound replies ":TIM:MODE MAIN;REF CENT;MAIN:RANG …;POS …".
* :WAVeform:DATA? — `#8` definite-length block and one newline.
"""

from __future__ import annotations

import numpy as np

from instruments.sim.engine import Quantizer
from instruments.sim.personas.base import AUTO_TRIGGER_S, Block, Persona, channel_arg, only_bool, positive
from instruments.sim.scpi import SETTINGS_CONFLICT, ScpiError, choice, parse_float

CODES_PER_DIV = 32          # 8 divisions of 256 byte codes


def ks_nr3(value: float) -> str:
    """A preamble float in the InfiniiVision's NR3 form: sign, 9 significant digits, 3-digit exponent."""
    mantissa, exponent = f"{value:+.8E}".split("E")
    return f"{mantissa}E{int(exponent):+04d}"


class KeysightPersona(Persona):
    idn = "KEYSIGHT TECHNOLOGIES,DSO-X 3024T,JOULEBENCHSIM,07.50.2021102830"
    block_digits = 8
    no_error = '+0,"No error"'
    horizontal_divisions = 10
    screen_points = 1000

    def register(self) -> None:
        self.reference = 0.5            # CENTer
        self.position_s = 0.0
        self.wav_points_mode = "NORMAL"
        self.wav_points = self.screen_points
        self._channel_props(1.0, "1")
        self.prop(":TIMebase:RANGe", lambda s: self.nr3(self.e.window_s), lambda s, a: self._timebase(positive(a)))
        self.prop(":TIMebase:SCALe", lambda s: self.nr3(self.e.window_s / 10),
                  lambda s, a: self._timebase(10 * positive(a)))
        self.prop(":TIMebase:POSition", lambda s: self.nr3(self.position_s), lambda s, a: self._position(parse_float(a)))
        self.prop(":TIMebase:REFerence", lambda s: {0.1: "LEFT", 0.5: "CENT", 0.9: "RIGH"}[self.reference],
                  lambda s, a: self._reference(choice(a, {"LEFT": "0.1", "CENTer": "0.5", "RIGHt": "0.9"})))
        self.prop(":TIMebase:MODE", lambda s: "MAIN", lambda s, a: choice(a, {"MAIN": "MAIN"}))
        self.acq_type = "NORM"
        self.prop(":ACQuire:TYPE", lambda s: self.acq_type, lambda s, a: setattr(
            self, "acq_type", choice(a, {"NORMal": "NORM", "HRESolution": "HRES"})))
        self.table.add(":ACQuire:POINts", lambda s, a, q: self.nr1(self.e.points) if q else None)
        self._trigger_props()
        self.prop(":TRIGger:SWEep", lambda s: "AUTO" if self.e.auto_trigger_s is not None else "NORM",
                  self._set_sweep)
        # programmer's guide, :DIGitize [<source>[,..,<source>]]: one acquisition, then stopped; it is the
        # command *OPC? and *WAI wait for (the guide's "ensure the acquisition is complete" examples)
        self.table.add(":DIGitize", lambda s, a, q: self.arm_single(overlapped=True))
        self.table.add(":TRIGger:FORCe", lambda s, a, q: self.e.force_trigger())
        self.table.add(":OPERegister:CONDition", lambda s, a, q: self.nr1(self._condition()) if q else None)
        self.wav_format = "BYTE"
        self.prop(":WAVeform:FORMat", lambda s: self.wav_format[:4],
                  lambda s, a: setattr(self, "wav_format", choice(a, {"BYTE": "BYTE", "ASCii": "ASCII"})))
        self.table.add(":TIMebase", self._timebase_compound)
        # programmer's guide, :CHANnel<n>:RANGe: the full scale of the 8 vertical divisions
        self.prop(":CHANnel#:RANGe", lambda s: f"{8 * self.channel(s).scale_v:+.8E}",
                  lambda s, a: self._set_scale(s, str(positive(a) / 8)))
        self.table.add(":CHANnel#", self._channel_compound)
        self.table.add(":MEASure:VAVerage", self._vaverage)

        self.prop(":WAVeform:UNSigned", lambda s: "1", lambda s, a: only_bool(a, True))
        self.prop(":WAVeform:BYTeorder", lambda s: "LSBF", lambda s, a: None)
        self.prop(":WAVeform:POINts:MODE", lambda s: self.wav_points_mode[:4],
                  lambda s, a: setattr(self, "wav_points_mode",
                                       choice(a, {"NORMal": "NORMAL", "MAXimum": "MAXIMUM", "RAW": "RAW"})))
        self.prop(":WAVeform:POINts", lambda s: self.nr1(self._points()), self._set_points)
        self.table.add(":WAVeform:PREamble", lambda s, a, q: self._preamble() if q else None)
        self.table.add(":WAVeform:DATA", lambda s, a, q: self._data() if q else None)

    def _set_sweep(self, s, a) -> None:
        auto = choice(a, {"NORMal": "NORM", "AUTO": "AUTO"}) == "AUTO"
        self.e.auto_trigger_s = AUTO_TRIGGER_S if auto else None

    def nr1(self, value: int) -> str:
        """Integers come back as NR1 with an explicit sign ("+0", "+1000": the preamble's points and
        yreference, :OPERegister:CONDition?, :WAVeform:POINts?)."""
        return f"{int(value):+d}"

    def nr3(self, value: float) -> str:
        """Reals come back as signed NR3 with an upper-case exponent ("+1.20000000E+00", :TIMebase:RANGe?)."""
        return f"{value:+.8E}"

    def _timebase_compound(self, s, a, q):
        """`:TIMebase?` answers with every timebase setting, as the instrument does."""
        if not q:
            raise ScpiError(*SETTINGS_CONFLICT)
        ref = {0.1: "LEFT", 0.5: "CENT", 0.9: "RIGH"}[self.reference]
        return f":TIM:MODE MAIN;REF {ref};MAIN:RANG {self.e.window_s:+.8E};POS {self.position_s:+.8E}"

    def _channel_compound(self, s, a, q):
        """`:CHANnel<n>?` answers with the channel's settings in one reply, as the instrument does."""
        if not q:
            raise ScpiError(*SETTINGS_CONFLICT)
        ch = self.channel(s)
        return (f":CHAN{s[0]}:RANG {8 * ch.scale_v:+.8E};OFFS {ch.centre_v:+.8E};COUP {ch.coupling};IMP ONEM;"
                f"DISP {int(ch.display)};BWL {int(ch.bwlimit)};INV 0;LAB \"{s[0]}\";UNIT VOLT;"
                f"PROB {ch.probe:+.8E};PROB:SKEW +0.00000000E+00;STYP SING")

    def _vaverage(self, s, a, q):
        if not q:
            raise ScpiError(*SETTINGS_CONFLICT)
        parts = [p.strip() for p in a.split(",") if p.strip()]
        if parts and parts[0].upper() in ("DISP", "DISPLAY", "CYC", "CYCLE"):
            parts = parts[1:]
        n = channel_arg(parts[0], ("CHANnel",)) if parts else self.wav_source
        return f"{self.record_mean_v(n):+.6E}"

    def reset(self) -> None:
        self.e.stop()
        self.e.run()
        self.reference, self.position_s = 0.5, 0.0
        self.acq_type = "NORM"
        self.e.auto_trigger_s = AUTO_TRIGGER_S       # the default setup's trigger sweep is AUTO
        self.wav_format, self.wav_points_mode, self.wav_points = "BYTE", "NORMAL", self.screen_points
        self._timebase(1e-3)

    def _timebase(self, window_s: float) -> None:
        self.e.window_s = window_s
        rate = min(self.e.max_rate_hz, self.e.max_points / window_s)
        self.e.points = max(100, int(round(rate * window_s)))
        self._update_pretrigger()

    def _position(self, position_s: float) -> None:
        self.position_s = position_s
        self._update_pretrigger()

    def _reference(self, ref: str) -> None:
        self.reference = float(ref)
        self._update_pretrigger()

    def _update_pretrigger(self) -> None:
        self.e.pretrigger = min(max(self.reference - self.position_s / self.e.window_s, 0.0), 1.0)

    def _condition(self) -> int:
        return {"ARMED": 8 + 32, "TRIGGERED": 8, "RUN": 8}.get(self.e.state, 0)

    def _set_points(self, s, a) -> None:
        if a.strip().upper() in ("MAX", "MAXIMUM"):
            self.wav_points_mode = "MAXIMUM"        # like the real scope: MAX switches the points mode
            self.wav_points = 1 << 62
        else:
            self.wav_points = int(positive(a))

    def _raw_step(self) -> int:
        """Decimation of the record so that at most wav_points are sent."""
        step = max(1, -(-self.e.record.points // self.wav_points))
        return step * (2 if self.corrupt == "record_length" else 1)

    def _points(self) -> int:
        if self._raw():
            return -(-self.e.record.points // self._raw_step())
        return min(self.wav_points, self.screen_points)

    def _raw(self) -> bool:
        return self.wav_points_mode in ("RAW", "MAXIMUM") and self.e.state == "STOP" and self.e.record is not None

    def quantizer(self, n: int) -> Quantizer:
        ch = self.e.channels[n]
        return Quantizer(ch.scale_v / CODES_PER_DIV, 128, ch.centre_v, 1, 255, "u1")

    def _frame(self):
        n = self.wav_source
        if self._raw():
            rec, step = self.e.record, self._raw_step()
            return self.record_or_error(n, step), rec.x_origin, rec.x_increment * step
        if not self.channel([n]).display:
            raise ScpiError(*SETTINGS_CONFLICT)
        return self.e.screen_codes(n, self.quantizer(n), self._points())

    def _preamble(self) -> str:
        codes, x0, dx = self._frame()
        n = self.wav_source
        ch = self.e.channels[n]
        q = self.quantizer(n)
        if self.corrupt == "record_length":
            dx /= 2                               # the halved record claims the full record's sample interval
        # programmer's guide, :WAVeform:PREamble?: format (0 BYTE, 1 WORD, 4 ASCii), type (the :ACQuire:TYPE:
        # 0 NORMal, 1 PEAK, 2 AVERage, 3 HRESolution), points, count, xreference and yreference are NR1 integers;
        # xincrement, xorigin, yincrement and yorigin NR3
        fmt = 4 if self.wav_format == "ASCII" else 0
        acq_type = {"NORM": 0, "HRES": 3}[self.acq_type]
        # the floats as a real InfiniiVision prints them, nine significant digits and a three-digit exponent:
        # "+0,+0,+1000,+1,+2.00000000E-010,-1.00000000E-007,+0,+3.12500000E-002,+1.25000000E-002,+128"
        return (f"{fmt:+d},{acq_type:+d},{len(codes):+d},+1,{ks_nr3(dx)},{ks_nr3(x0)},+0,"
                f"{ks_nr3(q.y_increment / self.probe_error(n))},"
                f"{ks_nr3(self.offset_sign() * ch.centre_v / self.probe_error(n))},+128")

    def _data(self) -> Block:
        try:
            codes, _, _ = self._frame()
        except ScpiError as exc:
            self.push(exc.code, exc.message)
            return Block(b"")
        if self.wav_format == "ASCII":
            q = self.quantizer(self.wav_source)
            volts = (codes.astype(np.float64) - q.y_reference) * q.y_increment + q.centre_v
            return Block(",".join(f"{v:+.6E}" for v in volts).encode("ascii"))
        return Block(memoryview(codes))

    def format_error(self, code: int, message: str) -> str:
        return f'{code:+d},"{message}"'


