"""The IEEE 488.2 status model and message framing of every simulated persona, through a bare TCP socket.

Values worked out from IEEE 488.2-1992: *ESR? bit 5 (32) is a command error (an undefined header, -113), bit 4
(16) an execution error (-2xx), bit 0 (1) operation complete after *OPC; *STB? bit 5 (32) is ESR & ESE, bit 6
(64) MSS = STB & SRE; *ESR? clears the register, *CLS clears it and the error queue.
"""

from __future__ import annotations

import socket
import time

import pytest

from instruments.sim.personas import PERSONAS
from instruments.sim.server import SimScope

NO_ERROR = {"keysight": '+0,"No error"', "rigol": '0,"No error"', "rigol-dho": '0,"No error"',
            "siglent": '0,"No error"', "rs": '0,"No error"'}


class Raw:
    """A raw-socket client (port 5025 style): writes what it is given, reads one reply line."""

    def __init__(self, sim: SimScope):
        self.sock = socket.create_connection((sim.host, sim.port), timeout=3)
        self.buf = b""

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def line(self) -> str:
        while b"\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def ask(self, text: str) -> str:
        self.send(text + "\n")
        return self.line()

    def nothing_pending(self) -> bool:
        self.sock.settimeout(0.2)
        try:
            return not (self.buf or self.sock.recv(1))
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(3)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=sorted(PERSONAS))
def raw(request):
    sim = SimScope(persona=request.param, source="demo")
    client = Raw(sim)
    yield request.param, sim, client
    client.close()
    sim.close()


def n(reply: str) -> int:
    return int(reply)                     # NR1, with or without the sign Keysight prints


def test_common_queries_answer(raw):
    _, sim, c = raw
    assert c.ask("*IDN?") == sim.persona.idn
    assert n(c.ask("*TST?")) == 0          # self-test passed
    assert c.ask("*OPT?") == "0"           # no options
    assert c.ask("*OPC?") == "1"           # nothing pending
    assert n(c.ask("*ESR?")) == 0 and n(c.ask("*STB?")) == 0


def test_a_command_error_sets_esr_bit_5_and_the_status_byte_through_ese_and_sre(raw):
    name, _, c = raw
    c.send("*ESE 32;*SRE 32\n")
    c.send("NOSUCH:HEADer 1\n")
    assert n(c.ask("*ESE?")) == 32 and n(c.ask("*SRE?")) == 32
    stb = n(c.ask("*STB?"))
    assert stb & 32 and stb & 64                             # ESB, and MSS since SRE enables ESB
    assert bool(stb & 4) == (name == "rs")                   # R&S: bit 2 while the error queue holds an entry
    assert n(c.ask("*ESR?")) == 32                           # command error
    assert n(c.ask("*ESR?")) == 0                            # read and cleared
    c.send("*CLS\n")
    assert n(c.ask("*STB?")) == 0
    if name in NO_ERROR:
        assert c.ask(":SYSTem:ERRor?") == NO_ERROR[name]     # *CLS emptied the queue too
    else:
        assert c.ask("ALLEv?") == '0,"No events to report - queue empty"'


def test_opc_after_an_overlapped_single_waits_for_the_acquisition():
    # R&S: SINGle is overlapped; *OPC sets ESR bit 0 only once the acquisition is complete, *OPC? answers then
    with SimScope(persona="rs", source="demo") as sim:
        c = Raw(sim)
        try:
            c.send("TIMebase:RANGe 0.2;:TRIGger:A:MODE NORMal\n")
            c.send("*ESE 1;SINGle;*OPC\n")
            assert n(c.ask("*ESR?")) & 1 == 0                # armed, waiting for an edge the demo may not give
            c.send("*TRG\n")                                 # force it (after the 0.1 s pre-trigger has filled)
            deadline = time.monotonic() + 3
            while not n(c.ask("*STB?")) & 32:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert n(c.ask("*ESR?")) == 1
            started = time.monotonic()
            c.send("SINGle;*OPC?\n")                        # the parser of this connection now waits
            other = Raw(sim)
            time.sleep(0.15)
            other.send("*TRG\n")                            # a second connection forces the trigger
            assert c.line() == "1"
            assert c.ask("ACQuire:STATe?") == "COMP" and time.monotonic() - started >= 0.15
            other.close()
        finally:
            c.close()


def test_framing_newlines_semicolons_and_no_partial_reply(raw):
    _, sim, c = raw
    c.send("*CLS\n*IDN?\n*OPC?\n")                          # three messages in one segment
    assert c.line() == sim.persona.idn and c.line() == "1"
    assert c.ask("*IDN?;*OPC?") == sim.persona.idn + ";1"   # replies of one message joined with ';'
    c.send("*IDN?;NOSUCH?\n")                               # the message is dropped: no partial reply
    assert c.nothing_pending()
    c.send("*I")                                             # a message split across segments
    time.sleep(0.05)
    c.send("DN?\n")
    assert c.line() == sim.persona.idn
