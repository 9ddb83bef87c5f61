"""What every persona of the simulated scope shares: the command table over the Engine, the error queue,
message handling as IEEE 488.2 parsers do it, and the answers that do not depend on the dialect.

A message is executed unit by unit; at the first unit the parser cannot execute (an unknown header, a
refused value) the error goes on the queue and the rest of the message, with any replies it had produced,
is discarded: a client never gets a partial reply. Measurement queries answer from the simulated board's
own signal over the completed record, not from the codes a download would send, so a driver's misreading
of the download path shows up as a disagreement.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from instruments.sim.engine import Engine, Quantizer
from instruments.sim.scpi import (DATA_OUT_OF_RANGE, ILLEGAL_PARAMETER, SETTINGS_CONFLICT, UNDEFINED_HEADER,
                                  CommandTable, ScpiError, choice, parse_bool, parse_float, split_message)

CORRUPTIONS = ("offset_sign", "probe", "record_length")   # fault switches that break one field of a reply
MEAN_SAMPLES = 20_000


class Block:
    """A binary reply (the server adds the #8/#9 header and the newline); the codes are not copied."""

    def __init__(self, data) -> None:
        self.data = memoryview(data).cast("B")

    def __len__(self) -> int:
        return len(self.data)


class Persona:
    idn = ""
    block_digits = 9
    block_terminator = b"\n"
    no_error = '0,"No error"'
    horizontal_divisions = 10

    def __init__(self, engine: Engine):
        self.e = engine
        self.corrupt: str | None = None             # one of CORRUPTIONS: a field of the replies is wrong
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
                    return []                       # the rest of the message is discarded, no partial reply
                handler, suffixes = found
                try:
                    reply = handler(suffixes, arg, is_query)
                except ScpiError as exc:
                    self.push(exc.code, exc.message)
                    return []
                if reply is not None:
                    replies.append(reply)
        return replies

    # -- the board's signal, for measurement queries -----------------------------
    def record_mean_v(self, n: int) -> float:
        """Mean volts at the probe tip of channel n over the completed record, from the simulated board's own
        signal (not from the codes a download sends)."""
        ch = self.channel([n])
        if not ch.display or self.e.record is None:
            raise ScpiError(*SETTINGS_CONFLICT)
        rec = self.e.record
        idx = np.linspace(0, rec.points - 1, min(rec.points, MEAN_SAMPLES))
        t = rec.t_trigger + rec.x_origin + idx * rec.x_increment
        return float(np.mean(self.e.clean_volts(n, t)))

    def probe_error(self, n: int) -> float:
        """1, or the channel's probe factor when the `probe` corruption is on (a scaling that ignores it)."""
        return self.e.channels[n].probe if self.corrupt == "probe" else 1.0

    def offset_sign(self) -> float:
        return -1.0 if self.corrupt == "offset_sign" else 1.0

    def record_fraction(self) -> float:
        return 0.5 if self.corrupt == "record_length" else 1.0

    def _register_common(self) -> None:
        t = self.table
        t.add("*IDN", lambda s, a, q: self.idn if q else None)
        t.add("*CLS", lambda s, a, q: self.errors.clear())
        t.add("*RST", lambda s, a, q: self.reset())
        t.add("*WAI", lambda s, a, q: None)
        t.add("*OPC", lambda s, a, q: "1" if q else None)
        t.add(":SYSTem:ERRor", self._error)
        t.add(":RUN", lambda s, a, q: self.e.run())
        t.add(":STOP", lambda s, a, q: self.e.stop())
        t.add(":SINGle", lambda s, a, q: self.e.arm_single())

    def reset(self) -> None:
        """*RST: the persona's defaults (each persona that keeps state resets it)."""

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

    scale_range_v = (1e-3, 10.0)      # volts/div at the scope's input (each persona's front end)

    def _set_scale(self, s, a) -> None:
        """Volts/div within the front end's range at its input, times the probe ratio, as real scopes take it."""
        ch = self.channel(s)
        value = positive(a)
        lo, hi = self.scale_range_v
        if not lo * ch.probe * (1 - 1e-9) <= value <= hi * ch.probe * (1 + 1e-9):
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
                  lambda s, a: setattr(self.e, "trigger_channel", trigger_source_arg(a)))
        self.prop(":TRIGger:EDGE:LEVel", lambda s: f"{self.e.trigger_level_v:.6e}",
                  lambda s, a: setattr(self.e, "trigger_level_v", parse_float(a)))
        self.prop(":TRIGger:EDGE:SLOPe", lambda s: "POS", lambda s, a: choice(a, {"POSitive": "POS"}))
        self.prop(":WAVeform:SOURce", lambda s: f"CHAN{self.wav_source}",
                  lambda s, a: setattr(self, "wav_source", channel_arg(a, ("CHANnel",))))

    def _channel_props(self, offset_sign: float, bw_on: str) -> None:
        self.prop(":CHANnel#:DISPlay", lambda s: "1" if self.channel(s).display else "0",
                  lambda s, a: setattr(self.channel(s), "display", parse_bool(a)))
        self.prop(":CHANnel#:SCALe", lambda s: f"{self.channel(s).scale_v:.6e}", self._set_scale)
        self.prop(":CHANnel#:OFFSet", lambda s: f"{offset_sign * self.channel(s).centre_v:.6e}",
                  lambda s, a: setattr(self.channel(s), "centre_v", offset_sign * parse_float(a)))
        self.prop(":CHANnel#:PROBe", lambda s: f"{self.channel(s).probe:.6e}",
                  lambda s, a: setattr(self.channel(s), "probe", positive(a)))
        self.prop(":CHANnel#:COUPling", lambda s: self.channel(s).coupling,
                  lambda s, a: setattr(self.channel(s), "coupling",
                                       choice(a, {"DC": "DC", "AC": "AC", "GND": "GND"})))
        self.prop(":CHANnel#:BWLimit", lambda s: bw_on if self.channel(s).bwlimit else "OFF" if bw_on != "1" else "0",
                  lambda s, a: setattr(self.channel(s), "bwlimit", a.strip().upper() in ("1", "ON", "20M")))


def positive(arg: str) -> float:
    v = parse_float(arg)
    if v <= 0:
        raise ScpiError(*ILLEGAL_PARAMETER)
    return v


def trigger_source_arg(arg: str) -> int:
    """A channel, or the external trigger input (0 here: the engine feeds it the marker signal)."""
    if arg.strip().upper() in ("EXT", "EXTERNAL"):
        return 0
    return channel_arg(arg, ("CHANnel",))


def channel_arg(arg: str, words: tuple[str, ...]) -> int:
    a = arg.strip().upper()
    for w in words:
        for form in (w.upper(), "".join(c for c in w if c.isupper())):
            if a.startswith(form) and a[len(form):].isdigit():
                return int(a[len(form):])
    raise ScpiError(*ILLEGAL_PARAMETER)


def only(arg: str, options: dict[str, str]) -> None:
    if choice(arg, options) is None:
        raise ScpiError(*SETTINGS_CONFLICT)


def only_bool(arg: str, value: bool) -> None:
    if parse_bool(arg) != value:
        raise ScpiError(*SETTINGS_CONFLICT)


