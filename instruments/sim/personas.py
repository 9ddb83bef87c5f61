"""The dialects the simulated scope speaks: Keysight InfiniiVision and Rigol DS1000Z.

Each persona is a command table over the shared Engine, with its vendor's
offset convention, horizontal divisions, preamble and conversion semantics,
block header width, paging limit and error-queue format (docs/scopes.md).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from instruments.sim.engine import Engine, Quantizer
from instruments.sim.scpi import (DATA_OUT_OF_RANGE, ILLEGAL_PARAMETER, SETTINGS_CONFLICT, UNDEFINED_HEADER,
                                  CommandTable, ScpiError, choice, parse_bool, parse_float, split_message)

CODES_PER_DIV = 32          # 8 divisions of 256 byte codes (Keysight); Rigol uses 25


class Block:
    """A binary reply (the server adds the #8/#9 header and the newline); the codes are not copied."""

    def __init__(self, data) -> None:
        self.data = memoryview(data).cast("B")

    def __len__(self) -> int:
        return len(self.data)


class Persona:
    idn = ""
    block_digits = 9
    no_error = '0,"No error"'
    horizontal_divisions = 10

    def __init__(self, engine: Engine):
        self.e = engine
        self.errors: deque[tuple[int, str]] = deque(maxlen=30)
        self.table = CommandTable()
        self.wav_source = 1
        self._register_common()
        self.register()
        engine.prepare = self._prepare

    def _prepare(self) -> None:
        """Generate the completed record of every channel that is on (when the engine is eager)."""
        for n, ch in self.e.channels.items():
            if ch.display:
                self.e.record_codes(n, self.quantizer(n))

    # -- plumbing ---------------------------------------------------------------
    def register(self) -> None:
        raise NotImplementedError

    def push(self, code: int, message: str) -> None:
        self.errors.append((code, message))

    def handle(self, line: str) -> list[str | Block]:
        """Execute one message line; return its replies in order."""
        replies: list[str | Block] = []
        with self.e.lock:
            for tokens, arg, is_query in split_message(line):
                found = self.table.find(tokens)
                if found is None:
                    self.push(*UNDEFINED_HEADER)
                    continue
                handler, suffixes = found
                try:
                    reply = handler(suffixes, arg, is_query)
                except ScpiError as exc:
                    self.push(exc.code, exc.message)
                    continue
                if reply is not None:
                    replies.append(reply)
        return replies

    def _register_common(self) -> None:
        t = self.table
        t.add("*IDN", lambda s, a, q: self.idn if q else None)
        t.add("*CLS", lambda s, a, q: self.errors.clear())
        t.add("*RST", lambda s, a, q: None)
        t.add("*WAI", lambda s, a, q: None)
        t.add("*OPC", lambda s, a, q: "1" if q else None)
        t.add(":SYSTem:ERRor", self._error)
        t.add(":RUN", lambda s, a, q: self.e.run())
        t.add(":STOP", lambda s, a, q: self.e.stop())
        t.add(":SINGle", lambda s, a, q: self.e.arm_single())

    def _error(self, s, a, q):
        if not q:
            raise ScpiError(*UNDEFINED_HEADER)
        if not self.errors:
            return self.no_error
        code, message = self.errors.popleft()
        return self.format_error(code, message)

    def format_error(self, code: int, message: str) -> str:
        return f'{code},"{message}"'

    def channel(self, s: list[int]):
        n = s[0]
        if n not in self.e.channels:
            raise ScpiError(*UNDEFINED_HEADER)
        return self.e.channels[n]

    def prop(self, pattern: str, get, put) -> None:
        """A settable property: `get(suffixes)` for the query, `put(suffixes, arg)` to set."""
        def handler(s, a, q):
            if q:
                return get(s)
            put(s, a)
            return None
        self.table.add(pattern, handler)

    def quantizer(self, n: int) -> Quantizer:
        raise NotImplementedError

    def _set_scale(self, s, a) -> None:
        """1 mV/div to 10 V/div at the scope's input, times the probe ratio, like the real front ends."""
        ch = self.channel(s)
        value = _positive(a)
        if not 1e-3 * ch.probe * (1 - 1e-9) <= value <= 10.0 * ch.probe * (1 + 1e-9):
            raise ScpiError(*DATA_OUT_OF_RANGE)
        ch.scale_v = value

    def record_or_error(self, n: int, step: int = 1) -> np.ndarray:
        ch = self.channel([n])
        if not ch.display:
            raise ScpiError(*SETTINGS_CONFLICT)
        if self.e.record is None or self.e.state != "STOP":
            raise ScpiError(*SETTINGS_CONFLICT)
        return self.e.record_codes(n, self.quantizer(n), step)

    def _trigger_props(self) -> None:
        """The edge trigger, the sample-rate query and the waveform source, spelled alike in both dialects."""
        self.table.add(":ACQuire:SRATe", lambda s, a, q: f"{self.e.sample_rate_hz:.6e}" if q else None)
        self.prop(":TRIGger:MODE", lambda s: "EDGE", lambda s, a: choice(a, {"EDGE": "EDGE"}))
        self.prop(":TRIGger:EDGE:SOURce", lambda s: f"CHAN{self.e.trigger_channel}" if self.e.trigger_channel else "EXT",
                  lambda s, a: setattr(self.e, "trigger_channel", _trigger_source_arg(a)))
        self.prop(":TRIGger:EDGE:LEVel", lambda s: f"{self.e.trigger_level_v:.6e}",
                  lambda s, a: setattr(self.e, "trigger_level_v", parse_float(a)))
        self.prop(":TRIGger:EDGE:SLOPe", lambda s: "POS", lambda s, a: choice(a, {"POSitive": "POS"}))
        self.prop(":WAVeform:SOURce", lambda s: f"CHAN{self.wav_source}",
                  lambda s, a: setattr(self, "wav_source", _channel_arg(a, ("CHANnel",))))

    def _channel_props(self, offset_sign: float, bw_on: str) -> None:
        self.prop(":CHANnel#:DISPlay", lambda s: "1" if self.channel(s).display else "0",
                  lambda s, a: setattr(self.channel(s), "display", parse_bool(a)))
        self.prop(":CHANnel#:SCALe", lambda s: f"{self.channel(s).scale_v:.6e}", self._set_scale)
        self.prop(":CHANnel#:OFFSet", lambda s: f"{offset_sign * self.channel(s).centre_v:.6e}",
                  lambda s, a: setattr(self.channel(s), "centre_v", offset_sign * parse_float(a)))
        self.prop(":CHANnel#:PROBe", lambda s: f"{self.channel(s).probe:.6e}",
                  lambda s, a: setattr(self.channel(s), "probe", _positive(a)))
        self.prop(":CHANnel#:COUPling", lambda s: self.channel(s).coupling,
                  lambda s, a: setattr(self.channel(s), "coupling",
                                       choice(a, {"DC": "DC", "AC": "AC", "GND": "GND"})))
        self.prop(":CHANnel#:BWLimit", lambda s: bw_on if self.channel(s).bwlimit else "OFF" if bw_on != "1" else "0",
                  lambda s, a: setattr(self.channel(s), "bwlimit", a.strip().upper() in ("1", "ON", "20M")))


def _positive(arg: str) -> float:
    v = parse_float(arg)
    if v <= 0:
        raise ScpiError(*ILLEGAL_PARAMETER)
    return v


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
        self.prop(":TIMebase:RANGe", lambda s: f"{self.e.window_s:.8e}", lambda s, a: self._timebase(_positive(a)))
        self.prop(":TIMebase:SCALe", lambda s: f"{self.e.window_s / 10:.8e}",
                  lambda s, a: self._timebase(10 * _positive(a)))
        self.prop(":TIMebase:POSition", lambda s: f"{self.position_s:.8e}", lambda s, a: self._position(parse_float(a)))
        self.prop(":TIMebase:REFerence", lambda s: {0.1: "LEFT", 0.5: "CENT", 0.9: "RIGH"}[self.reference],
                  lambda s, a: self._reference(choice(a, {"LEFT": "0.1", "CENTer": "0.5", "RIGHt": "0.9"})))
        self.prop(":TIMebase:MODE", lambda s: "MAIN", lambda s, a: choice(a, {"MAIN": "MAIN"}))
        self.prop(":ACQuire:TYPE", lambda s: "NORM", lambda s, a: choice(a, {"NORMal": "NORM", "HRESolution": "HRES"}))
        self.table.add(":ACQuire:POINts", lambda s, a, q: f"{self.e.points:d}" if q else None)
        self._trigger_props()
        self.prop(":TRIGger:SWEep", lambda s: "NORM", lambda s, a: choice(a, {"NORMal": "NORM", "AUTO": "AUTO"}))
        self.table.add(":TRIGger:FORCe", lambda s, a, q: self.e.force_trigger())
        self.table.add(":OPERegister:CONDition", lambda s, a, q: str(self._condition()) if q else None)
        self.prop(":WAVeform:FORMat", lambda s: "BYTE", lambda s, a: _only(a, {"BYTE": "BYTE"}))
        self.prop(":WAVeform:UNSigned", lambda s: "1", lambda s, a: _only_bool(a, True))
        self.prop(":WAVeform:BYTeorder", lambda s: "LSBF", lambda s, a: None)
        self.prop(":WAVeform:POINts:MODE", lambda s: self.wav_points_mode[:4],
                  lambda s, a: setattr(self, "wav_points_mode",
                                       choice(a, {"NORMal": "NORMAL", "MAXimum": "MAXIMUM", "RAW": "RAW"})))
        self.prop(":WAVeform:POINts", lambda s: str(self._points()), self._set_points)
        self.table.add(":WAVeform:PREamble", lambda s, a, q: self._preamble() if q else None)
        self.table.add(":WAVeform:DATA", lambda s, a, q: self._data() if q else None)

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
            self.wav_points = int(_positive(a))

    def _raw_step(self) -> int:
        """Decimation of the record so that at most wav_points are sent."""
        return max(1, -(-self.e.record.points // self.wav_points))

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
        ch = self.e.channels[self.wav_source]
        q = self.quantizer(self.wav_source)
        mode = 2 if self.wav_points_mode == "RAW" else 0
        return (f"+0,+{mode},+{len(codes)},+1,{dx:+.6E},{x0:+.6E},+0,{q.y_increment:+.6E},"
                f"{ch.centre_v:+.6E},+128")

    def _data(self) -> Block:
        try:
            codes, _, _ = self._frame()
        except ScpiError as exc:
            self.push(exc.code, exc.message)
            return Block(b"")
        return Block(memoryview(codes))

    def format_error(self, code: int, message: str) -> str:
        return f'{code:+d},"{message}"'


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

    def register(self) -> None:
        self.offset_s = 0.0
        self.wav_mode = "NORMAL"
        self.wav_start, self.wav_stop = 1, self.screen_points
        self._channel_props(-1.0, "20M")
        self.prop(":TIMebase:MODE", lambda s: "MAIN", lambda s, a: choice(a, {"MAIN": "MAIN"}))
        self.prop(":TIMebase:MAIN:SCALe", lambda s: f"{self.e.window_s / 12:.6e}",
                  lambda s, a: self._scale(_positive(a)))
        self.prop(":TIMebase:MAIN:OFFSet", lambda s: f"{self.offset_s:.6e}", lambda s, a: self._offset(parse_float(a)))
        self.prop(":ACQuire:MDEPth", lambda s: str(self.e.points), self._mdepth)
        self._trigger_props()
        self.prop(":TRIGger:SWEep", lambda s: "SING", lambda s, a: choice(a, {"SINGle": "SING", "AUTO": "AUTO",
                                                                                "NORMal": "NORM"}))
        self.table.add(":TRIGger:STATus", lambda s, a, q: self._status() if q else None)
        self.table.add(":TFORce", lambda s, a, q: self.e.force_trigger())
        self.prop(":WAVeform:MODE", lambda s: self.wav_mode[:4],
                  lambda s, a: setattr(self, "wav_mode", choice(a, {"NORMal": "NORMAL", "MAXimum": "MAXIMUM",
                                                                    "RAW": "RAW"})))
        self.prop(":WAVeform:FORMat", lambda s: "BYTE", lambda s, a: _only(a, {"BYTE": "BYTE"}))
        self.prop(":WAVeform:STARt", lambda s: str(self.wav_start), lambda s, a: setattr(self, "wav_start",
                                                                                       int(_positive(a))))
        self.prop(":WAVeform:STOP", lambda s: str(self.wav_stop), lambda s, a: setattr(self, "wav_stop",
                                                                                     int(_positive(a))))
        self.table.add(":WAVeform:PREamble", lambda s, a, q: self._preamble() if q else None)
        self.table.add(":WAVeform:DATA", lambda s, a, q: self._data() if q else None)

    def _channels_on(self) -> int:
        return sum(1 for c in self.e.channels.values() if c.display)

    def _scale(self, scale_s: float) -> None:
        self.e.window_s = 12 * scale_s
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
        ch = self.e.channels[n]
        return Quantizer(ch.scale_v / 25, 127, ch.centre_v, 0, 255, "u1")

    def _preamble(self) -> str:
        n = self.wav_source
        q = self.quantizer(n)
        if self.wav_mode == "RAW":
            if self.e.record is None or self.e.state != "STOP":
                raise ScpiError(*SETTINGS_CONFLICT)
            rec = self.e.record
            points, x0, dx = rec.points, rec.x_origin, rec.x_increment
        else:
            points, dx = self.screen_points, self.e.window_s / self.screen_points
            x0 = -self.e.pretrigger * self.e.window_s
        y_origin_codes = -q.centre_v / q.y_increment
        return (f"0,{2 if self.wav_mode == 'RAW' else 0},{points},1,{dx:.6e},{x0:.6e},0,{q.y_increment:.6e},"
                f"{y_origin_codes:.6e},127")

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


def _trigger_source_arg(arg: str) -> int:
    """A channel, or the external trigger input (0 here: the engine feeds it the marker signal)."""
    if arg.strip().upper() in ("EXT", "EXTERNAL"):
        return 0
    return _channel_arg(arg, ("CHANnel",))


def _channel_arg(arg: str, words: tuple[str, ...]) -> int:
    a = arg.strip().upper()
    for w in words:
        for form in (w.upper(), "".join(c for c in w if c.isupper())):
            if a.startswith(form) and a[len(form):].isdigit():
                return int(a[len(form):])
    raise ScpiError(*ILLEGAL_PARAMETER)


def _only(arg: str, options: dict[str, str]) -> None:
    if choice(arg, options) is None:
        raise ScpiError(*SETTINGS_CONFLICT)


def _only_bool(arg: str, value: bool) -> None:
    if parse_bool(arg) != value:
        raise ScpiError(*SETTINGS_CONFLICT)


PERSONAS = {"keysight": KeysightPersona, "rigol": RigolPersona}
