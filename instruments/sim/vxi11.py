"""A VXI-11 listener for the simulated scope, so clients that speak VXI-11 (`TCPIP::host::inst0::INSTR` in
pyvisa, python-vxi11 and the packages built on it) reach the same persona as the raw socket.

Two ONC RPC programs over TCP (RFC 5531, record marking §11): a portmapper (program 100000 version 2, RFC 1833:
NULL and GETPORT) that names the core channel's port, and the VXI-11 core channel (program 0x0607AF version 1,
VXI-11 specification rev. 1.0, §B.6): create_link, device_write, device_read, device_readstb, device_trigger,
device_clear, device_remote/local, device_lock/unlock, device_enable_srq, destroy_link. There is no abort channel
and no interrupt channel (create_intr_chan answers "operation not supported", as instruments without service
requests over LAN do).

A message is the bytes of device_write calls up to the one with the END flag; it is executed line by line, and
the replies wait in the output buffer, as the raw socket would send them, until device_read calls take them
(END on the last byte).
"""

from __future__ import annotations

import logging
import socket
import socketserver
import struct
import threading

log = logging.getLogger(__name__)

PORTMAPPER_PROG, PORTMAPPER_VERS = 100000, 2
CORE_PROG, CORE_VERS = 0x0607AF, 1
IPPROTO_TCP = 6
MAX_RECV_SIZE = 1 << 20

# VXI-11 §B.5: procedure numbers, flags, read reasons and error codes
CREATE_LINK, DEVICE_WRITE, DEVICE_READ, DEVICE_READSTB, DEVICE_TRIGGER, DEVICE_CLEAR = 10, 11, 12, 13, 14, 15
DEVICE_REMOTE, DEVICE_LOCAL, DEVICE_LOCK, DEVICE_UNLOCK, DEVICE_ENABLE_SRQ, DEVICE_DOCMD = 16, 17, 18, 19, 20, 22
DESTROY_LINK, CREATE_INTR_CHAN, DESTROY_INTR_CHAN = 23, 25, 26
FLAG_END, FLAG_TERMCHRSET = 8, 128
REASON_REQCNT, REASON_CHR, REASON_END = 1, 2, 4
ERR_NONE, ERR_NOT_SUPPORTED, ERR_INVALID_LINK, ERR_IO_TIMEOUT = 0, 8, 4, 15
STB_MAV = 16


class _Xdr:
    """Just enough XDR (RFC 4506) to read the calls and write the replies."""

    def __init__(self, data: bytes = b""):
        self.data, self.pos = data, 0

    def u32(self) -> int:
        (value,) = struct.unpack_from(">I", self.data, self.pos)
        self.pos += 4
        return value

    def i32(self) -> int:
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def opaque(self) -> bytes:
        n = self.u32()
        value = self.data[self.pos:self.pos + n]
        self.pos += n + (-n % 4)
        return bytes(value)


def _pack(*values: int) -> bytes:
    return b"".join(struct.pack(">i" if v < 0 else ">I", v) for v in values)


def _pack_opaque(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + bytes(data) + b"\0" * (-len(data) % 4)


def _read_record(sock: socket.socket) -> bytes | None:
    """One RPC record: fragments until the one whose header has the last-fragment bit (RFC 5531 §11)."""
    out = bytearray()
    while True:
        header = _recv_exact(sock, 4)
        if header is None:
            return None
        (word,) = struct.unpack(">I", header)
        frag = _recv_exact(sock, word & 0x7FFFFFFF)
        if frag is None:
            return None
        out += frag
        if word & 0x80000000:
            return bytes(out)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except OSError:
            return None
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _send_record(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">I", 0x80000000 | len(payload)) + payload)


def _accepted(xid: int, results: bytes, accept_stat: int = 0) -> bytes:
    """An accepted reply: REPLY, MSG_ACCEPTED, a null verifier, the status and the results."""
    return _pack(xid, 1, 0, 0, 0, accept_stat) + results


class _RpcHandler(socketserver.BaseRequestHandler):
    server: _RpcServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while not self.server.listener.closing:
            record = _read_record(sock)
            if record is None:
                return
            x = _Xdr(record)
            xid, msg_type, rpc_vers, prog, vers, proc = (x.u32() for _ in range(6))
            x.u32(), x.opaque()            # credential
            x.u32(), x.opaque()            # verifier
            if msg_type != 0 or rpc_vers != 2:
                continue
            if prog != self.server.prog:
                _send_record(sock, _accepted(xid, b"", 1))          # PROG_UNAVAIL
                continue
            if vers != self.server.vers:
                _send_record(sock, _accepted(xid, _pack(vers, vers), 2))   # PROG_MISMATCH
                continue
            try:
                results = self.server.call(proc, x)
            except (struct.error, IndexError):
                _send_record(sock, _accepted(xid, b"", 4))          # GARBAGE_ARGS
                continue
            if results is None:
                _send_record(sock, _accepted(xid, b"", 3))          # PROC_UNAVAIL
                continue
            try:
                _send_record(sock, _accepted(xid, results))
            except OSError:
                return


class _RpcServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, listener: Vxi11Listener, prog: int, vers: int, call):
        self.listener, self.prog, self.vers, self.call = listener, prog, vers, call
        super().__init__(address, _RpcHandler)


class _Link:
    def __init__(self):
        self.inbox = bytearray()          # a message being written (no END yet)
        self.outbox = bytearray()         # replies not yet read


class Vxi11Listener:
    """The portmapper and the core channel of one simulated scope; `respond(line) -> bytes` executes a message
    line on the persona and renders its replies exactly as the raw socket sends them."""

    def __init__(self, respond, status_byte, trigger, host: str = "127.0.0.1", portmapper_port: int = 0):
        self.respond, self.status_byte, self.trigger = respond, status_byte, trigger
        self.closing = False
        self._links: dict[int, _Link] = {}
        self._next_link = 1
        self._lock = threading.Lock()
        self._core = _RpcServer((host, 0), self, CORE_PROG, CORE_VERS, self._core_call)
        self._pmap = _RpcServer((host, portmapper_port), self, PORTMAPPER_PROG, PORTMAPPER_VERS, self._pmap_call)
        self.core_port = self._core.server_address[1]
        self.portmapper_port = self._pmap.server_address[1]
        self._threads = [threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                                          name=f"sim-vxi11-{name}")
                         for srv, name in ((self._core, "core"), (self._pmap, "portmapper"))]
        for t in self._threads:
            t.start()
        log.info("VXI-11: portmapper on %d, core channel on %d", self.portmapper_port, self.core_port)

    def close(self) -> None:
        self.closing = True
        for srv in (self._core, self._pmap):
            srv.shutdown()
            srv.server_close()

    # -- portmapper (RFC 1833 §3.2) --------------------------------------------------
    def _pmap_call(self, proc: int, x: _Xdr) -> bytes | None:
        if proc == 0:                                   # PMAPPROC_NULL
            return b""
        if proc == 3:                                   # PMAPPROC_GETPORT(prog, vers, prot, port)
            prog, vers, prot, _ = (x.u32() for _ in range(4))
            found = prog == CORE_PROG and vers == CORE_VERS and prot == IPPROTO_TCP
            return _pack(self.core_port if found else 0)
        return None

    # -- core channel (VXI-11 §B.6) ------------------------------------------------------
    def _link(self, lid: int) -> _Link | None:
        with self._lock:
            return self._links.get(lid)

    def _core_call(self, proc: int, x: _Xdr) -> bytes | None:
        if proc == 0:
            return b""
        if proc == CREATE_LINK:
            x.i32(), x.u32(), x.u32()                   # client id, lockDevice, lock_timeout
            x.opaque()                                  # device name ("inst0"): one device here
            with self._lock:
                lid = self._next_link
                self._next_link += 1
                self._links[lid] = _Link()
            return _pack(ERR_NONE, lid, 0, MAX_RECV_SIZE)
        if proc == DESTROY_LINK:
            lid = x.u32()
            with self._lock:
                gone = self._links.pop(lid, None)
            return _pack(ERR_NONE if gone else ERR_INVALID_LINK)
        if proc == DEVICE_WRITE:
            lid, _io_timeout, _lock_timeout, flags = x.u32(), x.u32(), x.u32(), x.u32()
            data = x.opaque()
            link = self._link(lid)
            if link is None:
                return _pack(ERR_INVALID_LINK, 0)
            link.inbox += data
            if flags & FLAG_END:
                message, link.inbox = bytes(link.inbox), bytearray()
                for line in message.decode("ascii", "replace").splitlines():
                    if line.strip():
                        link.outbox += self.respond(line.strip())
            return _pack(ERR_NONE, len(data))
        if proc == DEVICE_READ:
            lid, request, _io_timeout, _lock_timeout, flags, term = (x.u32() for _ in range(6))
            link = self._link(lid)
            if link is None:
                return _pack(ERR_INVALID_LINK, 0) + _pack_opaque(b"")
            if not link.outbox:
                return _pack(ERR_IO_TIMEOUT, 0) + _pack_opaque(b"")   # nothing to read: the client's timeout
            n = min(request, len(link.outbox))
            reason = 0
            if flags & FLAG_TERMCHRSET:
                idx = link.outbox.find(bytes([term & 0xFF]), 0, n)
                if idx >= 0:
                    n, reason = idx + 1, REASON_CHR
            chunk = bytes(link.outbox[:n])
            del link.outbox[:n]
            if not link.outbox:
                reason |= REASON_END
            elif not reason:
                reason = REASON_REQCNT
            return _pack(ERR_NONE, reason) + _pack_opaque(chunk)
        if proc == DEVICE_READSTB:
            lid = x.u32()
            link = self._link(lid)
            if link is None:
                return _pack(ERR_INVALID_LINK, 0)
            return _pack(ERR_NONE, self.status_byte() | (STB_MAV if link.outbox else 0))
        if proc in (DEVICE_TRIGGER, DEVICE_CLEAR, DEVICE_REMOTE, DEVICE_LOCAL):
            link = self._link(x.u32())
            if link is None:
                return _pack(ERR_INVALID_LINK)
            if proc == DEVICE_TRIGGER:
                self.trigger()                          # the group execute trigger, as *TRG
            elif proc == DEVICE_CLEAR:
                link.inbox.clear()                      # device clear: input and output buffers emptied
                link.outbox.clear()
            return _pack(ERR_NONE)
        if proc in (DEVICE_LOCK, DEVICE_UNLOCK, DEVICE_ENABLE_SRQ):
            return _pack(ERR_NONE if self._link(x.u32()) else ERR_INVALID_LINK)
        if proc in (DEVICE_DOCMD, CREATE_INTR_CHAN, DESTROY_INTR_CHAN):
            return _pack(ERR_NOT_SUPPORTED) + (_pack(0) if proc == DEVICE_DOCMD else b"")
        return None
