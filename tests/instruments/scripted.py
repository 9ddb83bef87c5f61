"""A scripted Transport for protocol tests (in the spirit of PyMeasure's expected_protocol).

The script is the exact conversation: (command the driver must send, reply or None). A str
reply is a text line; a bytes reply is sent as is (binary blocks with their terminators).
"""

from __future__ import annotations

from instruments.errors import InstrumentError
from instruments.transport import Transport


def block(payload: bytes, digits: int = 9, prefix: bytes = b"", terminators: bytes = b"\n") -> bytes:
    """An IEEE 488.2 definite-length block as a scope sends it."""
    return prefix + b"#" + str(digits).encode() + str(len(payload)).zfill(digits).encode() + payload + terminators


class ScriptedTransport(Transport):
    def __init__(self, script, name: str = "scripted"):
        self.script = list(script)
        self.pos = 0
        self.name = name
        self.timeout_s = 1.0
        self._buffer = bytearray()
        self.closed = False

    def write(self, command: str) -> None:
        if self.pos >= len(self.script):
            raise AssertionError(f"unexpected command {command!r} after the end of the script")
        expected, reply = self.script[self.pos]
        if command != expected:
            raise AssertionError(f"command {self.pos + 1}: expected {expected!r}, the driver sent {command!r}")
        self.pos += 1
        if reply is not None:
            self._buffer += reply if isinstance(reply, bytes) else reply.encode() + b"\n"

    def read_line(self) -> str:
        idx = self._buffer.find(b"\n")
        if idx < 0:
            raise InstrumentError(f"{self.name}: no reply (the script gives none)")
        line = bytes(self._buffer[:idx])
        del self._buffer[:idx + 1]
        return line.decode()

    def _read_exact_into(self, view: memoryview, what: str) -> None:
        n = len(view)
        if len(self._buffer) < n:
            got = len(self._buffer)
            raise InstrumentError(f"{self.name}: reading {what} stopped after {got} of {n} bytes: the connection "
                                  "dropped")
        view[:] = self._buffer[:n]
        del self._buffer[:n]

    def close(self) -> None:
        self.closed = True

    def assert_done(self) -> None:
        assert self.pos == len(self.script), f"the driver stopped at command {self.pos + 1} of {len(self.script)}: " \
                                             f"{self.script[self.pos][0]!r} was never sent"
        assert not self._buffer, f"unread reply bytes left: {bytes(self._buffer[:40])!r}"


def ok(command: str, error_query: str = ":SYSTem:ERRor?", no_error: str = '+0,"No error"'):
    """A setting followed by its error-queue check."""
    return [(command, None), (error_query, no_error)]
