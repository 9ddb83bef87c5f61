"""What every persona of the simulated scope shares: the command table over the Engine, the error queue,
message handling as IEEE 488.2 parsers do it, and the answers that do not depend on the dialect.

A message is executed unit by unit; at the first unit the parser cannot execute (an unknown header, a
refused value) the error goes on the queue and the rest of the message, with any replies it had produced,
is discarded: a client never gets a partial reply.

Every persona keeps the IEEE 488.2 status model (IEEE 488.2-1992 §11, and each family's guide under "Status
reporting"/"Common commands"): the Standard Event Status Register (*ESR?, read and cleared; bit 0 OPC, 2 query
error, 3 device-dependent error, 4 execution error, 5 command error) with its enable mask (*ESE), the status
byte (*STB?: bit 4 MAV, bit 5 ESB = ESR & ESE, bit 6 MSS = STB & SRE, and on the families that use it the
error-queue bit 2) with its enable mask (*SRE), the error queue, *CLS, and the operation-complete machinery:
an acquisition armed by a family's overlapped single command is a pending operation, so *OPC sets the OPC bit,
*OPC? answers "1" and *WAI lets the next command run only once it is complete. Measurement queries answer from the simulated board's
own signal over the completed record, not from the codes a download would send, so a driver's misreading
of the download path shows up as a disagreement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

import numpy as np

from instruments.sim.engine import Engine, Quantizer
from instruments.sim.scpi import (DATA_OUT_OF_RANGE, ILLEGAL_PARAMETER, SETTINGS_CONFLICT, UNDEFINED_HEADER,
                                  CommandTable, ScpiError, choice, parse_bool, parse_float, split_message)

log = logging.getLogger(__name__)
CORRUPTIONS = ("offset_sign", "probe", "record_length")   # fault switches that break one field of a reply
MEAN_SAMPLES = 20_000

# IEEE 488.2 §11.5.1: the Standard Event Status Register's bits
ESR_OPC, ESR_QUERY, ESR_DEVICE, ESR_EXECUTION, ESR_COMMAND, ESR_PON = 1, 4, 8, 16, 32, 128
# IEEE 488.2 §11.2: the status byte's bits (bit 2 is the SCPI error/event-queue summary where a family uses it)
STB_ERROR_QUEUE, STB_MAV, STB_ESB, STB_MSS = 4, 16, 32, 64
AUTO_TRIGGER_S = 0.05        # an AUTO sweep triggers by itself this long after the pre-trigger part has filled


def esr_bit_for(code: int) -> int:
    """The ESR bit an SCPI error number sets (SCPI-99 vol. 2 §21.8: -1xx command, -2xx execution,
    -3xx device-specific, -4xx query errors)."""
    if -199 <= code <= -100:
        return ESR_COMMAND
    if -299 <= code <= -200:
        return ESR_EXECUTION
    if -499 <= code <= -400:
        return ESR_QUERY
    return ESR_DEVICE


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
    options = "0"                   # *OPT?: no options installed (the families' guides print 0 for none)
    stb_error_queue_bit = False     # bit 2 of *STB? summarises the error queue (R&S, SCPI-99 §9)
    overlapped_single = False       # the single command is an overlapped command: *OPC/*OPC?/*WAI wait for it

    def __init__(self, engine: Engine):
        self.e = engine
        self.corrupt: str | None = None             # one of CORRUPTIONS: a field of the replies is wrong
        self.errors: deque[tuple[int, str]] = deque(maxlen=30)
        self.table = CommandTable()
        self.wav_source = 1
        self.esr = 0
        self.ese = 0
        self.sre = 0
        self.opc_armed = False          # *OPC sent: set the OPC bit once the pending operations are complete
        self.pending = False            # an overlapped acquisition is in progress
        self.closing = threading.Event()
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
        log.debug("%s queues %d,%r", type(self).__name__, code, message)
        self.errors.append((code, message))
        self.esr |= esr_bit_for(code)

    def handle(self, line: str) -> list[str | Block]:
        """Execute one message line; return its replies in order."""
        replies: list[str | Block] = []
        log.debug("%s <- %r", type(self).__name__, line[:200])
        self.e.lock.acquire()                       # a message runs whole, as one parser executes it ...
        try:
            for tokens, arg, is_query in split_message(line):
                head = tokens[0].upper() if len(tokens) == 1 else ""
                if head == "*WAI" or (head == "*OPC" and is_query):
                    self.e.lock.release()           # ... except while *WAI/*OPC? wait: the acquisition goes on
                    try:
                        self.wait_for_operations()
                    finally:
                        self.e.lock.acquire()
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
        finally:
            self.e.lock.release()
        return replies

    # -- IEEE 488.2 status model ---------------------------------------------------
    def arm_single(self, overlapped: bool | None = None) -> None:
        """The family's single command: arm one acquisition (a pending operation where it is overlapped)."""
        self.e.arm_single()
        self.pending = self.overlapped_single if overlapped is None else overlapped

    def operations_complete(self) -> bool:
        if self.pending and self.e.state in ("ARMED", "TRIGGERED"):
            return False
        self.pending = False
        return True

    def wait_for_operations(self) -> None:
        """*OPC? and *WAI: hold the message until the pending operations are complete (a real scope holds the
        reply for as long as the acquisition takes; a client's timeout is the client's business)."""
        while not self.closing.is_set():
            with self.e.lock:
                if self.operations_complete():
                    return
            time.sleep(0.002)

    def _update_opc(self) -> None:
        if self.opc_armed and self.operations_complete():
            self.esr |= ESR_OPC
            self.opc_armed = False

    def status_byte(self) -> int:
        self._update_opc()
        stb = 0
        if self.stb_error_queue_bit and self.errors:
            stb |= STB_ERROR_QUEUE
        if self.esr & self.ese:
            stb |= STB_ESB
        if stb & self.sre & ~STB_MSS:
            stb |= STB_MSS
        return stb

    def nr1(self, value: int) -> str:
        """An integer reply in the family's NR1 form (Keysight prints the sign: "+0")."""
        return str(int(value))

    def nr3(self, value: float) -> str:
        """A real-valued reply in the family's form. Default: the Rigol guides' scientific notation
        ("1.000000e+00", e.g. MSO1000Z/DS1000Z guide, :CHANnel<n>:SCALe?)."""
        return f"{value:.6e}"

    def _common_query_or_set(self, attr: str):
        def handler(s, a, q):
            if q:
                return self.nr1(getattr(self, attr))
            value = int(parse_float(a))
            if not 0 <= value <= 255:
                raise ScpiError(*DATA_OUT_OF_RANGE)
            setattr(self, attr, value)
            return None
        return handler

    def _esr_query(self, s, a, q):
        if not q:
            raise ScpiError(*UNDEFINED_HEADER)
        self._update_opc()
        value, self.esr = self.esr, 0
        return self.nr1(value)

    def _opc(self, s, a, q):
        if q:
            return "1"                  # reached only once wait_for_operations has returned
        self.opc_armed = True
        self._update_opc()
        return None

    def _cls(self) -> None:
        """*CLS: the error queue and the event register are cleared, and a pending *OPC forgotten."""
        self.errors.clear()
        self.esr = 0
        self.opc_armed = False

    def _query_only(self, reply):
        def handler(s, a, q):
            if not q:
                raise ScpiError(*UNDEFINED_HEADER)
            return reply() if callable(reply) else reply
        return handler

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
        # IEEE 488.2 §10 common commands, which every family's guide lists
        t.add("*IDN", self._query_only(lambda: self.idn))
        t.add("*CLS", lambda s, a, q: self._cls())
        t.add("*RST", lambda s, a, q: self.reset())
        t.add("*WAI", lambda s, a, q: None)          # the wait happened in handle()
        t.add("*OPC", self._opc)
        t.add("*ESR", self._esr_query)
        t.add("*ESE", self._common_query_or_set("ese"))
        t.add("*SRE", self._common_query_or_set("sre"))
        t.add("*STB", self._query_only(lambda: self.nr1(self.status_byte())))
        t.add("*TST", self._query_only(lambda: self.nr1(0)))        # 0: the self-test passed
        t.add("*OPT", self._query_only(lambda: self.options))
        t.add("*TRG", lambda s, a, q: self.e.force_trigger())
        t.add(":SYSTem:ERRor", self._error)
        t.add(":RUN", lambda s, a, q: self.e.run())
        t.add(":STOP", lambda s, a, q: self.e.stop())
        t.add(":SINGle", lambda s, a, q: self.arm_single())

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
        self.table.add(":ACQuire:SRATe", lambda s, a, q: self.nr3(self.e.sample_rate_hz) if q else None)
        self.prop(":TRIGger:MODE", lambda s: "EDGE", lambda s, a: choice(a, {"EDGE": "EDGE"}))
        self.prop(":TRIGger:EDGE:SOURce", lambda s: f"CHAN{self.e.trigger_channel}" if self.e.trigger_channel else "EXT",
                  lambda s, a: setattr(self.e, "trigger_channel", trigger_source_arg(a)))
        self.prop(":TRIGger:EDGE:LEVel", lambda s: self.nr3(self.e.trigger_level_v),
                  lambda s, a: setattr(self.e, "trigger_level_v", parse_float(a)))
        self.prop(":TRIGger:EDGE:SLOPe", lambda s: "POS", lambda s, a: choice(a, {"POSitive": "POS"}))
        self.prop(":WAVeform:SOURce", lambda s: f"CHAN{self.wav_source}",
                  lambda s, a: setattr(self, "wav_source", channel_arg(a, ("CHANnel",))))

    def _channel_props(self, offset_sign: float, bw_on: str) -> None:
        self.prop(":CHANnel#:DISPlay", lambda s: "1" if self.channel(s).display else "0",
                  lambda s, a: setattr(self.channel(s), "display", parse_bool(a)))
        self.prop(":CHANnel#:SCALe", lambda s: self.nr3(self.channel(s).scale_v), self._set_scale)
        self.prop(":CHANnel#:OFFSet", lambda s: self.nr3(offset_sign * self.channel(s).centre_v),
                  lambda s, a: setattr(self.channel(s), "centre_v", offset_sign * parse_float(a)))
        self.prop(":CHANnel#:PROBe", lambda s: self.nr3(self.channel(s).probe),
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


