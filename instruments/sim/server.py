"""The simulated scope as a real SCPI server on a TCP socket.

One Engine (the acquisition system) is shared by every connection, like a
real scope's. Messages end with a newline; replies to several queries in one
message are joined with ';'; binary blocks go out as #8 (Keysight) or #9
(Rigol) definite-length blocks followed by a newline.

Fault switches (`Faults`) let client tests provoke what real networks and
scopes do: replies split into small writes, the connection dropped partway
through a block, a reply delayed.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from dataclasses import dataclass

from instruments.sim.engine import Engine
from instruments.sim.personas import PERSONAS, Block, Persona
from instruments.sim.sources import Source, make_source
from instruments.sim.vxi11 import Vxi11Listener

log = logging.getLogger(__name__)
MAX_LINE_BYTES = 1 << 16


@dataclass
class Faults:
    split_bytes: int = 0                  # send every reply in pieces of this many bytes
    drop_after_block_bytes: int | None = None   # close the connection after this many payload bytes (once)
    delay_s: float = 0.0                  # wait before every reply
    corrupt: str | None = None            # a field of the replies made wrong: offset_sign | probe | record_length
    link_mbps: float | None = None        # the link's rate in Mbit/s (a real scope's LAN: 8-1000); None: loopback


class _Handler(socketserver.BaseRequestHandler):
    server: "_TcpServer"

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray()
        while not self.server.closing:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while True:
                idx = buf.find(b"\n")
                if idx < 0:
                    if len(buf) > MAX_LINE_BYTES:
                        buf.clear()
                    break
                line = bytes(buf[:idx]).decode("ascii", "replace").strip()
                del buf[:idx + 1]
                if line and not self._respond(sock, line):
                    return

    def _respond(self, sock: socket.socket, line: str) -> bool:
        sim: SimScope = self.server.sim
        sim.persona.corrupt = sim.faults.corrupt
        replies = sim.persona.handle(line)
        if not replies:
            return True
        faults = sim.faults
        if faults.delay_s:
            time.sleep(faults.delay_s)
        try:
            texts = [r for r in replies if isinstance(r, str)]
            if texts:
                self._send(sock, (";".join(texts) + "\n").encode("ascii"), faults)
            for r in replies:
                if isinstance(r, Block):
                    header = f"#{sim.persona.block_digits}{len(r):0{sim.persona.block_digits}d}".encode()
                    self._send(sock, header, faults)
                    drop = faults.drop_after_block_bytes
                    if drop is not None:
                        faults.drop_after_block_bytes = None
                        self._send(sock, r.data[:drop], faults)
                        sock.shutdown(socket.SHUT_RDWR)
                        sock.close()
                        return False
                    self._send(sock, r.data, faults)
                    self._send(sock, sim.persona.block_terminator, faults)
        except OSError:
            return False
        return True

    @staticmethod
    def _send(sock: socket.socket, data, faults: Faults) -> None:
        if faults.link_mbps:
            # paced like a link of that rate: 64 KiB at a time, each sent once its last byte would have crossed
            # the link (so the last byte of a reply lands when the link allows it, not one piece early)
            view = memoryview(data)
            bytes_per_s = faults.link_mbps * 1e6 / 8
            start = time.perf_counter()
            for k in range(0, len(view), 1 << 16):
                piece = view[k:k + (1 << 16)]
                wait = start + (k + len(piece)) / bytes_per_s - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                sock.sendall(piece)
            return
        if faults.split_bytes:
            view = memoryview(data)
            for k in range(0, len(view), faults.split_bytes):
                sock.sendall(view[k:k + faults.split_bytes])
                time.sleep(0.0005)
        else:
            sock.sendall(data)


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sim: "SimScope"):
        self.sim = sim
        self.closing = False
        super().__init__(address, _Handler)


def render(persona: Persona, replies: list) -> bytes:
    """The bytes of a message's replies, as the raw socket sends them: the text replies joined with ';' and a
    newline, then each block with its definite-length header and the family's terminator."""
    out = bytearray()
    texts = [r for r in replies if isinstance(r, str)]
    if texts:
        out += (";".join(texts) + "\n").encode("ascii")
    for r in replies:
        if isinstance(r, Block):
            out += f"#{persona.block_digits}{len(r):0{persona.block_digits}d}".encode()
            out += r.data
            out += persona.block_terminator
    return bytes(out)


class SimScope:
    """A simulated scope serving one persona on host:port (port 0 picks a free one), and with `vxi11` also over
    VXI-11 (a portmapper on `portmapper_port`, 111 for clients that cannot be told another; 0 picks a free one)."""

    def __init__(self, persona: str = "keysight", source: Source | str = "demo", host: str = "127.0.0.1",
                 port: int = 0, max_points: int = 4_000_000, link_mbps: float | None = None,
                 vxi11: bool = False, portmapper_port: int = 0):
        if persona not in PERSONAS:
            raise ValueError(f"unknown persona {persona!r}: use one of {', '.join(PERSONAS)}")
        self.source = make_source(source) if isinstance(source, str) else source
        self.engine = Engine(self.source, max_points=max_points)
        self.persona: Persona = PERSONAS[persona](self.engine)
        self.persona_name = persona
        self.faults = Faults(link_mbps=link_mbps)
        self._server = _TcpServer((host, port), self)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"sim-scope-{self.port}",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        self.vxi11: Vxi11Listener | None = None
        if vxi11:
            self.vxi11 = Vxi11Listener(self._respond_bytes, self._status_byte, self.engine.force_trigger,
                                       host, portmapper_port)
        log.info("simulated %s scope on %s:%d", persona, self.host, self.port)

    def _status_byte(self) -> int:
        with self.engine.lock:
            return self.persona.status_byte()

    def _respond_bytes(self, line: str) -> bytes:
        self.persona.corrupt = self.faults.corrupt
        return render(self.persona, self.persona.handle(line))

    @property
    def vxi11_resource(self) -> str:
        """The VISA resource of the VXI-11 listener (its portmapper must be where the client looks: port 111)."""
        return f"TCPIP::{self.host}::inst0::INSTR"

    @property
    def resource(self) -> str:
        return f"TCPIP::{self.host}::{self.port}::SOCKET"

    def close(self) -> None:
        self.persona.closing.set()
        if self.vxi11 is not None:
            self.vxi11.close()
        self._server.closing = True
        self._server.shutdown()
        self._server.server_close()
        self.engine.close()

    def serve_forever(self) -> None:
        """Block until interrupted (the `sim-scope` command)."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.close()

    def __enter__(self) -> "SimScope":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
