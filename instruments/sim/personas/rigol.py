"""Rigol personas: DS1000Z (MSO1000Z/DS1000Z programming guide) and DHO800/900 (DHO800/900 guide).

DS1000Z: centre of screen = −offset; 12 horizontal divisions; :ACQuire:MDEPth only while running, from the
legal depths for the channels on; :TRIGger:STATus? (TD not sticky); RAW pages of at most 250 000 BYTE points
between :WAVeform:STARt and :STOP; the RAW preamble's points field is the memory depth, as the guide's example
prints it (`raw_points_field = "range"` models firmware that reports the STARt/STOP range instead);
:MEASure:ITEM? VAVG,<source>.

DHO: the same tree with 10 divisions, 12-bit samples sent as WORD codes scaled to 16 bits (7 500 codes per
division around 32 768, as a published DHO824 capture shows), pages of 125 000 points, the preamble's points
field the page size, and :ACQuire:MDEPth? in NR3 ("1.0000E+06").

Reply forms (MSO1000Z/DS1000Z guide, each command's "Return Format" and example):
* :WAVeform:PREamble? — format, type, points, count, xreference, yorigin, yreference as integers, the rest in
  %e notation ("0,2,6000000,1,1.000000e-09,-3.000000e-03,0,4.132813e-01,0,122").
* reals (:CHANnel<n>:SCALe?, :OFFSet?, :PROBe?, :TIMebase:MAIN:SCALe?, :ACQuire:SRATe?,
  :TRIGger:EDGE:LEVel?) — scientific notation with six decimals ("1.000000e+00").
* integers (:ACQuire:MDEPth?, :WAVeform:STARt?, :STOP?) — NR1; words (:TRIGger:STATus? TD/WAIT/RUN/AUTO/STOP,
  :WAVeform:MODE? NORM/MAX/RAW, :TRIGger:SWEep? AUTO/NORM/SING, :WAVeform:SOURce? CHAN1) — upper-case short forms.
* :SYSTem:ERRor? — `0,"No error"`; :WAVeform:DATA? — `#9` definite-length block and one newline.
"""

from __future__ import annotations

from instruments.sim.engine import Quantizer
from instruments.sim.personas.base import Block, Persona, channel_arg, only, only_bool, positive
from instruments.sim.scpi import (DATA_OUT_OF_RANGE, ILLEGAL_PARAMETER, SETTINGS_CONFLICT, ScpiError, choice,
                                  parse_float)


class RigolPersona(Persona):
    idn = "RIGOL TECHNOLOGIES,DS1104Z,DS1ZJOULEBENCHSIM,00.04.04.SP4"
    block_digits = 9
    no_error = '0,"No error"'
    horizontal_divisions = 12
    screen_points = 1200
    page_limit = 250_000
    depths = {1: (12_000, 120_000, 1_200_000, 12_000_000, 24_000_000),
              2: (6_000, 60_000, 600_000, 6_000_000, 12_000_000),
              4: (3_000, 30_000, 300_000, 3_000_000, 6_000_000)}

    wav_format = "BYTE"
    codes_per_div = 25
    dtype = "u1"
    code_lo, code_hi, code_ref = 0, 255, 127

    def register(self) -> None:
        self.offset_s = 0.0
        self.wav_mode = "NORMAL"
        self.wav_start, self.wav_stop = 1, self.screen_points
        self._channel_props(-1.0, "20M")
        # guide, :MATH:DISPlay?: 1 or 0; the simulated scope has no math channel to show
        self.prop(":MATH:DISPlay", lambda s: "0", lambda s, a: only_bool(a, False))
        self.prop(":TIMebase:MODE", lambda s: "MAIN", lambda s, a: choice(a, {"MAIN": "MAIN"}))
        # guide, :TIMebase:MAIN:SCALe? / :OFFSet?: scientific notation, "1.000000e-06"
        self.prop(":TIMebase:MAIN:SCALe", lambda s: self.nr3(self.e.window_s / self.horizontal_divisions),
                  lambda s, a: self._scale(positive(a)))
        self.prop(":TIMebase:MAIN:OFFSet", lambda s: self.nr3(self.offset_s), lambda s, a: self._offset(parse_float(a)))
        self.prop(":ACQuire:MDEPth", lambda s: self._depth_reply(), self._mdepth)
        self._trigger_props()
        # guide, :TRIGger:SWEep?: AUTO, NORM or SING; :SINGle sets SING, as pressing SINGLE does
        self.sweep = "SING"
        self.prop(":TRIGger:SWEep", lambda s: self.sweep, lambda s, a: setattr(
            self, "sweep", choice(a, {"SINGle": "SING", "AUTO": "AUTO", "NORMal": "NORM"})))
        self.table.add(":SINGle", lambda s, a, q: self._single())
        self.table.add(":TRIGger:STATus", lambda s, a, q: self._status() if q else None)
        self.table.add(":TFORce", lambda s, a, q: self.e.force_trigger())
        self.prop(":WAVeform:MODE", lambda s: self.wav_mode[:4],
                  lambda s, a: setattr(self, "wav_mode", choice(a, {"NORMal": "NORMAL", "MAXimum": "MAXIMUM",
                                                                    "RAW": "RAW"})))
        self.prop(":WAVeform:FORMat", lambda s: self.wav_format, self._set_format)
        self.table.add(":MEASure:ITEM", self._measure_item)
        self.prop(":WAVeform:STARt", lambda s: str(self.wav_start), lambda s, a: setattr(self, "wav_start",
                                                                                       int(positive(a))))
        self.prop(":WAVeform:STOP", lambda s: str(self.wav_stop), lambda s, a: setattr(self, "wav_stop",
                                                                                     int(positive(a))))
        self.table.add(":WAVeform:PREamble", lambda s, a, q: self._preamble() if q else None)
        self.table.add(":WAVeform:DATA", lambda s, a, q: self._data() if q else None)

    def _single(self) -> None:
        self.sweep = "SING"
        self.arm_single()

    def _set_format(self, s, a) -> None:
        only(a, {"BYTE": "BYTE"})

    def _depth_reply(self) -> str:
        return str(int(self.e.points * self.record_fraction()))

    def _measure_item(self, s, a, q):
        if not q:
            raise ScpiError(*SETTINGS_CONFLICT)
        parts = [p.strip() for p in a.split(",")]
        if not parts or choice(parts[0], {"VAVG": "VAVG"}) != "VAVG":
            raise ScpiError(*ILLEGAL_PARAMETER)
        n = channel_arg(parts[1], ("CHANnel",)) if len(parts) > 1 else self.wav_source
        return f"{self.record_mean_v(n):.6e}"

    def _channels_on(self) -> int:
        return sum(1 for c in self.e.channels.values() if c.display)

    def _scale(self, scale_s: float) -> None:
        self.e.window_s = self.horizontal_divisions * scale_s
        self._update_pretrigger()

    def _offset(self, offset_s: float) -> None:
        self.offset_s = offset_s
        self._update_pretrigger()

    def _update_pretrigger(self) -> None:
        self.e.pretrigger = min(max(0.5 - self.offset_s / self.e.window_s, 0.0), 1.0)

    def _mdepth(self, s, a) -> None:
        if self.e.state != "RUN":
            raise ScpiError(*SETTINGS_CONFLICT)          # MDEPth is settable only while running
        on = self._channels_on()
        legal = self.depths[1 if on <= 1 else 2 if on == 2 else 4]
        if a.strip().upper() == "AUTO":
            self.e.points = legal[1]
            return
        value = int(parse_float(a))
        if value not in legal:
            raise ScpiError(*ILLEGAL_PARAMETER)
        self.e.points = value

    def _status(self) -> str:
        return {"ARMED": "WAIT", "TRIGGERED": "TD", "RUN": "AUTO"}.get(self.e.state, "STOP")

    def quantizer(self, n: int) -> Quantizer:
        """The offset is kept on the code grid: the preamble's yorigin is an integer number of codes (guide,
        :WAVeform:PREamble? and :WAVeform:YORigin?), so the codes are centred where that integer says."""
        ch = self.e.channels[n]
        y_inc = ch.scale_v / self.codes_per_div
        centre = round(ch.centre_v / y_inc) * y_inc
        return Quantizer(y_inc, self.code_ref, centre, self.code_lo, self.code_hi, self.dtype)

    # What the points field says in RAW mode. The MSO1000Z/DS1000Z guide's RAW example announces the memory depth
    # ("0,2,6000000,1,..."), and clients such as the ds1054z package page through that many points; some firmware
    # is reported to announce the :WAVeform:STARt/:STOP range instead (1 200 after a screen read). "depth" follows
    # the guide; "range" models that firmware for tests of a driver that must not trust the field.
    raw_points_field = "depth"

    def _preamble_points(self) -> int:
        if self.raw_points_field == "range":
            return max(0, self.wav_stop - self.wav_start + 1)
        return int(self.e.record.points * self.record_fraction())

    def _preamble(self) -> str:
        n = self.wav_source
        q = self.quantizer(n)
        if self.wav_mode == "RAW":
            if self.e.record is None or self.e.state != "STOP":
                raise ScpiError(*SETTINGS_CONFLICT)
            rec = self.e.record
            points, x0, dx = self._preamble_points(), rec.x_origin, rec.x_increment
        else:
            points, dx = self.screen_points, self.e.window_s / self.screen_points
            x0 = -self.e.pretrigger * self.e.window_s
        y_inc = q.y_increment / self.probe_error(n)
        y_origin_codes = round(-self.offset_sign() * q.centre_v / q.y_increment)
        # MSO1000Z/DS1000Z programming guide, :WAVeform:PREamble?: format (0 BYTE, 1 WORD, 2 ASC), type
        # (0 NORMal, 1 MAXimum, 2 RAW), points, count, xreference, yorigin and yreference are integers, the
        # increments and xorigin in %e form: the guide's example "0,2,6000000,1,1.000000e-09,-3.000000e-03,0,
        # 4.132813e-01,0,122"
        wav_type = {"NORMAL": 0, "MAXIMUM": 1, "RAW": 2}[self.wav_mode]
        return (f"{0 if q.dtype == 'u1' else 1},{wav_type},{points},1,{dx:.6e},{x0:.6e},0,"
                f"{y_inc:.6e},{y_origin_codes:d},{self.code_ref}")

    def _data(self) -> Block:
        n = self.wav_source
        try:
            if self.wav_mode != "RAW":
                if not self.channel([n]).display:
                    raise ScpiError(*SETTINGS_CONFLICT)
                codes, _, _ = self.e.screen_codes(n, self.quantizer(n), self.screen_points)
                return Block(memoryview(codes))
            codes = self.record_or_error(n)
            a, b = self.wav_start, min(self.wav_stop, len(codes))
            if b - a + 1 > self.page_limit or a > b:
                raise ScpiError(*DATA_OUT_OF_RANGE)
            return Block(memoryview(codes[a - 1:b]))
        except ScpiError as exc:
            self.push(exc.code, exc.message)
            return Block(b"")




class RigolDHOPersona(RigolPersona):
    idn = "RIGOL TECHNOLOGIES,DHO804,DHO8A000000001,00.01.02.00.03"
    horizontal_divisions = 10
    page_limit = 125_000
    wav_format = "WORD"
    codes_per_div = 7500
    dtype = "<u2"
    code_lo, code_hi, code_ref = 0, 65535, 32768
    depths = {k: (1_000, 10_000, 100_000, 1_000_000, 10_000_000, 25_000_000) for k in (1, 2, 4)}

    def _set_format(self, s, a) -> None:
        self.wav_format = choice(a, {"WORD": "WORD", "BYTE": "BYTE"})
        if self.wav_format != "WORD":
            raise ScpiError(*SETTINGS_CONFLICT)       # this persona sends its 12-bit samples as WORD only

    def _depth_reply(self) -> str:
        return f"{self.e.points * self.record_fraction():.4E}"

    def _preamble_points(self) -> int:
        """The DHO's points field is the page a read returns, not the depth."""
        return min(self.page_limit, max(0, self.wav_stop - self.wav_start + 1))
