"""The byte-level conversation with a scope, independent of how the bytes travel.

`Transport` is what every driver talks to. It writes commands, reads text
replies, and reads IEEE 488.2 definite-length blocks

    [text prefix] '#' n <n ASCII digits: byte count> <bytes> <terminator(s)>

straight into a preallocated NumPy array: the payload is copied once, from
the transport's read buffer into the array, never gathered in a list of
chunks. Subclasses provide `_read_exact_into` and `_read_some`; the block
parser here is shared by the VISA transport and the tests' scripted one, so
both exercise the same checks.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import Callable

import numpy as np

from instruments.errors import CancelledError, InstrumentError

log = logging.getLogger(__name__)

MAX_PREFIX_BYTES = 64            # text allowed before '#', e.g. Siglent's "C1:WF DAT2,"
MAX_BLOCK_BYTES = 4 << 30        # 4 GiB: no scope sends a larger record
BLOCK_CHUNK_BYTES = 1 << 20      # progress and cancel are checked this often

ProgressFn = Callable[[int, int], None]     # (bytes done, bytes total)


class Transport(ABC):
    """Commands and replies of one instrument connection."""

    name: str = "instrument"
    timeout_s: float = 10.0

    @abstractmethod
    def write(self, command: str) -> None: ...

    @abstractmethod
    def read_line(self) -> str:
        """One text reply, without its terminator."""

    @abstractmethod
    def _read_exact_into(self, view: memoryview, what: str) -> None:
        """Fill `view` completely or raise InstrumentError (connection dropped, timeout)."""

    @abstractmethod
    def close(self) -> None: ...

    def query(self, command: str) -> str:
        self.write(command)
        return self.read_line()

    # -- binary blocks ------------------------------------------------------
    def _read_bytes(self, n: int, what: str) -> bytes:
        buf = bytearray(n)
        self._read_exact_into(memoryview(buf), what)
        return bytes(buf)

    def read_block_header(self, command: str) -> int:
        """Consume an optional text prefix and the '#n<digits>' header; return the payload length."""
        prefix = bytearray()
        while True:
            b = self._read_bytes(1, f"the reply to {command}")
            if b == b"#":
                break
            prefix += b
            if len(prefix) > MAX_PREFIX_BYTES or b == b"\n":
                raise InstrumentError(f"{self.name}: the reply to {command} is not a binary block (it begins "
                                      f"{bytes(prefix[:40])!r}); check that the channel is on and the "
                                      "waveform format is supported")
        ndig = self._read_bytes(1, f"the block header of {command}")
        if not ndig.isdigit():
            raise InstrumentError(f"{self.name}: malformed block header in the reply to {command}: '#' followed "
                                  f"by {ndig!r} instead of a digit")
        if ndig == b"0":
            raise InstrumentError(f"{self.name}: the reply to {command} is an indefinite-length block (#0), which "
                                  "cannot be read safely; use a definite-length transfer")
        digits = self._read_bytes(int(ndig), f"the block header of {command}")
        if not digits.isdigit():
            raise InstrumentError(f"{self.name}: malformed block header in the reply to {command}: length field "
                                  f"{digits!r} is not a number")
        length = int(digits)
        if length > MAX_BLOCK_BYTES:
            raise InstrumentError(f"{self.name}: the reply to {command} announces {length} bytes, more than any "
                                  "scope record; the header is corrupt")
        return length

    def read_block(self, command: str, dtype: np.dtype | str, *, terminators: int = 1,
                   progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                   expect_bytes: int | None = None) -> np.ndarray:
        """Send `command` and read its binary block into a new array of `dtype`.

        terminators: newline bytes that follow the block (Siglent sends two).
        expect_bytes: if given, a block of another size is an error.
        """
        dtype = np.dtype(dtype)
        self.write(command)
        length = self.read_block_header(command)
        if expect_bytes is not None and length != expect_bytes:
            self._drain_after_error(length)
            raise InstrumentError(f"{self.name}: the reply to {command} holds {length} bytes where "
                                  f"{expect_bytes} were expected; the scope's record changed or the reply is "
                                  "corrupt — capture again")
        if length % dtype.itemsize:
            self._drain_after_error(length)
            raise InstrumentError(f"{self.name}: the reply to {command} holds {length} bytes, not a whole number "
                                  f"of {dtype.itemsize}-byte samples")
        out = np.empty(length // dtype.itemsize, dtype=dtype)
        self._read_payload(command, out, progress, cancel, 0, length)
        self._read_terminators(command, terminators)
        return out

    def read_block_into(self, command: str, out: np.ndarray, *, terminators: int = 1,
                        progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                        done_before: int = 0, total: int | None = None) -> None:
        """Send `command` and read its block into `out` (a contiguous slice of a preallocated array).

        The block must fill `out` exactly. `done_before`/`total` place this block's bytes in a larger
        paged download, for progress.
        """
        self.write(command)
        length = self.read_block_header(command)
        if length != out.nbytes:
            self._drain_after_error(length)
            raise InstrumentError(f"{self.name}: the reply to {command} holds {length} bytes where {out.nbytes} "
                                  "were asked for; the scope's record changed or the reply is corrupt — capture "
                                  "again")
        self._read_payload(command, out, progress, cancel, done_before, total or length)
        self._read_terminators(command, terminators)

    def _read_payload(self, command: str, out: np.ndarray, progress: ProgressFn | None,
                      cancel: threading.Event | None, done_before: int, total: int) -> None:
        view = memoryview(out).cast("B")
        length = len(view)
        done = 0
        while done < length:
            if cancel is not None and cancel.is_set():
                self._abandon()
                raise CancelledError(f"{self.name}: download cancelled after {done_before + done} of {total} bytes")
            n = min(BLOCK_CHUNK_BYTES, length - done)
            self._read_exact_into(view[done:done + n], f"the block of {command} ({done} of {length} bytes read)")
            done += n
            sink = getattr(self, "chunk_sink", None)
            if sink is not None:
                sink(done_before + done - n, done_before + done)      # these bytes of the record have landed
            if progress is not None:
                progress(done_before + done, total)

    def _read_terminators(self, command: str, count: int) -> None:
        for _ in range(count):
            b = self._read_bytes(1, f"the end of the block of {command}")
            if b == b"\r":
                b = self._read_bytes(1, f"the end of the block of {command}")
            if b != b"\n":
                raise InstrumentError(f"{self.name}: the block of {command} is longer than its header said "
                                      f"(found {b!r} where its end should be); the reply is corrupt — "
                                      "reconnect and capture again")

    def _drain_after_error(self, length: int) -> None:
        """Best effort: skip a block we will not use, so the connection stays in step."""
        try:
            left = length
            scratch = bytearray(min(length, BLOCK_CHUNK_BYTES) or 1)
            while left > 0:
                n = min(left, len(scratch))
                self._read_exact_into(memoryview(scratch)[:n], "a block being skipped")
                left -= n
        except InstrumentError:
            pass

    def _abandon(self) -> None:
        """A transfer was abandoned midway; the connection is out of step and must be reopened."""
        self.close()
