"""The Rohde & Schwarz RTB2000 persona (RTB2000 user manual, remote control commands).

CHANnel<m>:STATe|SCALe|POSition|OFFSet|COUPling DCLimit|ACLimit|BANDwidth FULL|B20; probe attenuation under
PROBe<m>:SETup:ATTenuation:MANual; TIMebase:RANGe/REFerence (per cent)/POSition (trigger to reference);
ACQuire:POINts; SINGle, *TRG, ACQuire:STATe? (RUN, COMPlete, BREak); FORMat UINT,8 | REAL | ASCii;
CHANnel<m>:DATA:HEADer? (xstart, xstop, points, values per sample), :XORigin? :XINCrement? :YORigin?
:YINCrement? and CHANnel<m>:DATA?:

    volts = YORigin + YINCrement · code,   time = XORigin + i · XINCrement

10 vertical divisions; MEASurement<n>:RESult:ACTual? MEAN answers the mean.

Reply forms (RTB2000/RTM3000 user manual, each command's example):
* CHANnel<m>:DATA:HEADer? — "-9.477E-008,9.477E-008,120000,1": xstart and xstop with four significant digits
  and a three-digit exponent, the record length and the values per sample as NR1.
* CHANnel<m>:DATA? — a `#9` block after FORMat UINT,8 or REAL,32; after FORMat ASCii the volts as fixed-point
  numbers with six decimals, comma separated ("-0.125000,-0.123016,…").
* FORMat? — UINT,8 / REAL,32 / ASC,0; ACQuire:STATe? — RUN or COMP; SYSTem:ERRor? — `0,"No error"`.
* *STB? — NR1 with bit 2 set while the error queue holds an entry (the manual's status reporting system).
"""

from __future__ import annotations

import numpy as np

from instruments.sim.engine import Quantizer
from instruments.sim.personas.base import AUTO_TRIGGER_S, Block, Persona, channel_arg, positive
from instruments.sim.scpi import (DATA_OUT_OF_RANGE, ILLEGAL_PARAMETER, SETTINGS_CONFLICT, ScpiError, choice,
                                  parse_float)

CODES_PER_DIV = 25          # 10 divisions over 250 of the 256 byte codes, centred on 128


def rs_nr3(value: float) -> str:
    """A float as the RTB2000 prints it in CHANnel<m>:DATA:HEADer?: 4 significant digits, 3-digit exponent."""
    mantissa, exponent = f"{value:.3E}".split("E")
    return f"{mantissa}E{int(exponent):+04d}"


class RohdeSchwarzPersona(Persona):
    idn = "Rohde&Schwarz,RTB2004,1333.1005k04/JOULEBENCHSIM,02.300"
    block_digits = 9
    horizontal_divisions = 10
    scale_range_v = (1e-3, 5.0)
    # user manual, "Status reporting system": bit 2 of the status byte is set while the error queue is not empty
    stb_error_queue_bit = True
    # user manual, SINGle / RUNSingle: "use *OPC to wait for the acquisition", so the single is overlapped
    overlapped_single = True

    def register(self) -> None:
        self.trigger_mode = "NORM"
        self.position_s = 0.0
        self.reference_pct = 50.0
        self.data_format = "UINT"
        self.meas_source = {1: 1}
        t, p = self.table, self.prop
        p("CHANnel#:STATe", lambda s: "1" if self.channel(s).display else "0",
          lambda s, a: setattr(self.channel(s), "display", choice(a, {"ON": "ON", "OFF": "OFF", "1": "ON",
                                                                      "0": "OFF"}) == "ON"))
        p("CHANnel#:SCALe", lambda s: f"{self.channel(s).scale_v:.6E}", self._set_scale)
        p("CHANnel#:POSition", lambda s: "0", lambda s, a: self._zero(a))
        p("CHANnel#:OFFSet", lambda s: f"{self.channel(s).centre_v:.6E}",
          lambda s, a: setattr(self.channel(s), "centre_v", parse_float(a)))
        p("CHANnel#:COUPling", lambda s: "DCL" if self.channel(s).coupling == "DC" else "ACL",
          lambda s, a: setattr(self.channel(s), "coupling", choice(a, {"DCLimit": "DC", "ACLimit": "AC"})))
        p("CHANnel#:BANDwidth", lambda s: "B20" if self.channel(s).bwlimit else "FULL",
          lambda s, a: setattr(self.channel(s), "bwlimit", choice(a, {"FULL": "FULL", "B20": "B20"}) == "B20"))
        p("PROBe#:SETup:ATTenuation:MANual", lambda s: f"{self.channel(s).probe:.6E}",
          lambda s, a: setattr(self.channel(s), "probe", positive(a)))
        p("TIMebase:RANGe", lambda s: f"{self.e.window_s:.6E}", self._set_range)
        # user manual, TIMebase:ACQTime: the acquisition time, the same window as TIMebase:RANGe
        p("TIMebase:ACQTime", lambda s: f"{self.e.window_s:.6E}", self._set_range)
        # user manual, CHANnel<m>:RANGe: the vertical range, 10 divisions of the scale
        p("CHANnel#:RANGe", lambda s: f"{10 * self.channel(s).scale_v:.6E}",
          lambda s, a: self._set_scale(s, str(positive(a) / 10)))
        t.add("RUNSingle", lambda s, a, q: self.arm_single())
        # user manual, SYSTem:ERRor:ALL?: every queued error, comma separated, then the queue is empty
        t.add("SYSTem:ERRor:ALL", self._query_only(self._all_errors))
        t.add("SYSTem:ERRor:NEXT", self._error)
        p("TIMebase:REFerence", lambda s: f"{self.reference_pct:g}", self._set_reference)
        p("TIMebase:POSition", lambda s: f"{self.position_s:.6E}", self._set_position)
        p("ACQuire:POINts", lambda s: str(int(self.e.points * self.record_fraction())), self._set_points)
        t.add("ACQuire:SRATe", lambda s, a, q: f"{self.e.sample_rate_hz:.6E}" if q else None)
        t.add("ACQuire:STATe", lambda s, a, q: self._state() if q else None)
        p("TRIGger:A:MODE", lambda s: self.trigger_mode, self._set_trigger_mode)
        p("TRIGger:A:TYPE", lambda s: "EDGE", lambda s, a: choice(a, {"EDGE": "EDGE"}))
        p("TRIGger:A:SOURce", lambda s: f"CH{self.e.trigger_channel}",
          lambda s, a: setattr(self.e, "trigger_channel", channel_arg(a, ("CH",))))
        p("TRIGger:A:LEVel#:VALue", lambda s: f"{self.e.trigger_level_v:.6E}",
          lambda s, a: setattr(self.e, "trigger_level_v", parse_float(a)))
        p("TRIGger:A:EDGE:SLOPe", lambda s: "POS", lambda s, a: choice(a, {"POSitive": "POS"}))
        # user manual, FORMat[:DATA]: the query answers the type and its bit width, e.g. UINT,8 / REAL,32 / ASC,0
        for pattern in ("FORMat", "FORMat:DATA"):
            p(pattern, lambda s: {"UINT": "UINT,8", "REAL": "REAL,32", "ASC": "ASC,0"}[self.data_format],
              self._set_format)
        p("FORMat:BORDer", lambda s: "LSBF", lambda s, a: choice(a, {"LSBFirst": "LSBF", "MSBFirst": "MSBF"}))
        p("CHANnel#:DATA:POINts", lambda s: str(self._points()), lambda s, a: choice(
            a, {"MAXimum": "MAX", "DEFault": "DEF", "DMAXimum": "DMAX"}))
        t.add("CHANnel#:DATA:HEADer", lambda s, a, q: self._header(s[0]) if q else self._refuse())
        for field in ("XORigin", "XINCrement", "YORigin", "YINCrement"):
            t.add(f"CHANnel#:DATA:{field}", lambda s, a, q, f=field: self._scaling(s[0], f) if q else self._refuse())
        t.add("CHANnel#:DATA", lambda s, a, q: self._data(s[0]) if q else self._refuse())
        p("MEASurement#:SOURce", lambda s: f"CH{self.meas_source.get(s[0], 1)}",
          lambda s, a: self.meas_source.__setitem__(s[0], channel_arg(a, ("CH",))))
        p("MEASurement#:MAIN", lambda s: "MEAN", lambda s, a: choice(a, {"MEAN": "MEAN"}))
        p("MEASurement#", lambda s: "1", lambda s, a: choice(a, {"ON": "ON", "OFF": "OFF"}))
        t.add("MEASurement#:RESult:ACTual",
              lambda s, a, q: f"{self.record_mean_v(self.meas_source.get(s[0], 1)):.6E}" if q else self._refuse())

    def _set_trigger_mode(self, s, a) -> None:
        self.trigger_mode = choice(a, {"NORMal": "NORM", "AUTO": "AUTO"})
        self.e.auto_trigger_s = AUTO_TRIGGER_S if self.trigger_mode == "AUTO" else None

    def _all_errors(self) -> str:
        if not self.errors:
            return self.no_error
        out = ",".join(f'{code},"{message}"' for code, message in self.errors)
        self.errors.clear()
        return out

    @staticmethod
    def _refuse():
        raise ScpiError(*SETTINGS_CONFLICT)

    @staticmethod
    def _zero(a: str) -> None:
        if parse_float(a) != 0:
            raise ScpiError(*SETTINGS_CONFLICT)


    def _set_range(self, s, a) -> None:
        self.e.window_s = positive(a)
        self._update_pretrigger()

    def _set_reference(self, s, a) -> None:
        value = parse_float(a)
        if not 0 <= value <= 100:
            raise ScpiError(*DATA_OUT_OF_RANGE)
        self.reference_pct = value
        self._update_pretrigger()

    def _set_position(self, s, a) -> None:
        self.position_s = parse_float(a)
        self._update_pretrigger()

    def _update_pretrigger(self) -> None:
        self.e.pretrigger = min(max(self.reference_pct / 100 - self.position_s / self.e.window_s, 0.0), 1.0)

    def _set_points(self, s, a) -> None:
        value = int(positive(a))
        if not 10_000 <= value <= 20_000_000:
            raise ScpiError(*DATA_OUT_OF_RANGE)
        self.e.points = value

    def _set_format(self, s, a) -> None:
        word, _, bits = a.partition(",")
        fmt = choice(word, {"UINT": "UINT", "REAL": "REAL", "ASCii": "ASC"})
        if bits.strip() and bits.strip() != {"UINT": "8", "REAL": "32", "ASC": "0"}[fmt]:
            raise ScpiError(*ILLEGAL_PARAMETER)      # UINT,16 is not modelled: refused, not sent as 8 bits
        self.data_format = fmt

    def _state(self) -> str:
        return {"ARMED": "RUN", "TRIGGERED": "RUN", "RUN": "RUN"}.get(self.e.state, "COMP")

    # -- waveform transfer -----------------------------------------------------------
    def quantizer(self, n: int) -> Quantizer:
        ch = self.e.channels[n]
        return Quantizer(ch.scale_v / CODES_PER_DIV, 128.0, ch.centre_v, 0, 255, "u1")

    def _points(self) -> int:
        rec = self.e.record
        return 0 if rec is None else int(rec.points * self.record_fraction())

    def _header(self, n: int) -> str:
        rec = self.e.record
        if rec is None or self.e.state != "STOP":
            raise ScpiError(*SETTINGS_CONFLICT)
        # user manual, CHANnel<m>:DATA:HEADer?: xstart and xstop in s, record length, values per sample;
        # the manual's example "-9.477E-008,9.477E-008,120000,1": four digits, a three-digit exponent, NR1 integers
        return (f"{rs_nr3(rec.x_origin)},{rs_nr3(rec.x_origin + rec.points * rec.x_increment)},"
                f"{self._points()},1")

    def _scaling(self, n: int, field: str) -> str:
        rec = self.e.record
        if rec is None:
            raise ScpiError(*SETTINGS_CONFLICT)
        q = self.quantizer(n)
        yinc = q.y_increment / self.probe_error(n)
        values = {"XORigin": rec.x_origin, "XINCrement": rec.x_increment,
                  "YORigin": (self.offset_sign() * q.centre_v - 128 * q.y_increment) / self.probe_error(n),
                  "YINCrement": yinc}
        return f"{values[field]:.9E}"

    def _data(self, n: int):
        try:
            codes = self.record_or_error(n)[:self._points()]
        except ScpiError as exc:
            self.push(exc.code, exc.message)
            return Block(b"")
        if self.data_format == "UINT":
            return Block(memoryview(np.ascontiguousarray(codes)))
        q = self.quantizer(n)
        volts = (codes.astype(np.float64) - 128) * q.y_increment + q.centre_v
        if self.data_format == "REAL":
            return Block(volts.astype("<f4").tobytes())
        # RTM3000/RTB2000 user manual, CHANnel<m>:DATA? example after FORM ASC: "-0.125000,-0.123016,..."
        return ",".join(f"{v:.6f}" for v in volts)
