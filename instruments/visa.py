"""Opening a scope through VISA (pyvisa with the pure-Python pyvisa-py backend by default).

Raw SOCKET resources get newline terminations; VXI-11, HiSLIP and USBTMC
resources end messages themselves. Timeouts come from the bench file. Block
payloads are read with termination-character detection off (a payload holds
0x0A bytes, and pyvisa-py rescans its buffer for the terminator on every
pass), straight into the caller's array.
"""

from __future__ import annotations

import logging
import select
import socket
import time

from instruments.errors import InstrumentError
from instruments.transport import Transport

log = logging.getLogger(__name__)

CONNECT_ADVICE = ("Is the scope on, is its LAN interface enabled, and is the address right? "
                  "(Keysight and most scopes listen on port 5025, Rigol on 5555.)")


def check_tcpip_resource(resource_name: str) -> None:
    """A TCPIP resource's port and host, checked before pyvisa-py sees them: its own errors for a typo in the
    port or an unknown host are a bare exception or an unrelated errno."""
    parts = resource_name.split("::")
    if not parts or not parts[0].upper().startswith("TCPIP") or len(parts) < 3:
        return
    host = parts[1]
    if parts[-1].upper() == "SOCKET":
        port = parts[2]
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise InstrumentError(f"cannot open {resource_name}: the port {port!r} is not a TCP port (1 to 65535). "
                                  "Write it as TCPIP::HOST::PORT::SOCKET, e.g. TCPIP::192.168.1.50::5025::SOCKET.")
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        raise InstrumentError(f"cannot open {resource_name}: the host name {host!r} does not resolve "
                              f"({getattr(exc, 'strerror', None) or exc}). Check scope.resource: the scope's IP "
                              "address, or a name your DNS or /etc/hosts knows.") from None


def _import_pyvisa():
    import pyvisa
    from pyvisa import constants, errors
    return pyvisa, constants, errors


class VisaTransport(Transport):
    """A Transport over one pyvisa resource."""

    def __init__(self, resource_name: str, *, timeout_s: float = 10.0, visa_library: str = "@py"):
        pyvisa, constants, errors = _import_pyvisa()
        self._constants = constants
        self._errors = errors
        self.name = resource_name
        self.timeout_s = timeout_s
        self._closed = False
        try:
            self._rm = pyvisa.ResourceManager(visa_library)
        except (OSError, ValueError) as exc:
            raise InstrumentError(f"cannot load the VISA library {visa_library!r}: {exc}. Leave it at \"@py\" "
                                  "(pyvisa-py) unless a vendor VISA is installed.") from None
        kwargs = {"timeout": int(timeout_s * 1000)}
        if resource_name.upper().endswith("::SOCKET"):
            kwargs.update(read_termination="\n", write_termination="\n")
        else:
            kwargs.update(write_termination="\n")
        check_tcpip_resource(resource_name)
        try:
            self._res = self._rm.open_resource(resource_name, **kwargs)
        except errors.VisaIOError as exc:
            raise InstrumentError(f"cannot open {resource_name}: {exc.description}. {CONNECT_ADVICE}") from None
        except (OSError, ValueError, errors.Error) as exc:
            raise InstrumentError(f"cannot open {resource_name}: {exc}. Check the resource string, e.g. "
                                  "TCPIP::192.168.1.50::5025::SOCKET or TCPIP::192.168.1.50::INSTR. "
                                  f"{CONNECT_ADVICE}") from None
        try:   # pyvisa-py reads sockets 4 KiB at a time; deep records want larger reads
            sess = self._rm.visalib.sessions[self._res.session]
            if hasattr(sess, "max_recv_size"):
                sess.max_recv_size = max(getattr(sess, "max_recv_size"), 1 << 20)
        except (AttributeError, KeyError, TypeError):
            pass
        sock, _ = self._raw_socket()
        if sock is not None:
            # commands are small writes answered at once: without TCP_NODELAY, Nagle's algorithm meets the
            # peer's delayed ACK and every write-write-read costs ~40 ms
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self._last_command = ""

    # -- text ----------------------------------------------------------------
    def write(self, command: str) -> None:
        self._last_command = command
        log.debug("%s <- %s", self.name, command)
        try:
            self._res.write(command)
        except self._errors.VisaIOError as exc:
            raise self._io_error(command, exc) from None
        except OSError as exc:
            raise InstrumentError(f"{self.name}: cannot send {command!r}: {exc.strerror or exc}. "
                                  f"{CONNECT_ADVICE}") from None

    def read_line(self) -> str:
        try:
            reply = self._res.read()
        except self._errors.VisaIOError as exc:
            raise self._io_error(self._last_command, exc) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InstrumentError(f"{self.name}: reading the reply to {self._last_command!r} failed: {exc}") from None
        reply = reply.rstrip("\r\n")
        log.debug("%s -> %s", self.name, reply[:200])
        return reply

    def _io_error(self, command: str, exc) -> InstrumentError:
        if exc.error_code == self._constants.StatusCode.error_timeout:
            return InstrumentError(f"{self.name}: no reply to {command!r} within {self.timeout_s:g} s. The scope may "
                                   "have refused the command, be busy, or the connection dropped; check the "
                                   "scope's front panel, or raise scope.timeout_s in the bench file.")
        return InstrumentError(f"{self.name}: {command!r} failed: {exc.description}. {CONNECT_ADVICE}")

    # -- bytes ---------------------------------------------------------------
    def _raw_socket(self):
        """The TCP socket of a pyvisa-py SOCKET session and its read-ahead buffer, or (None, None).

        pyvisa-py's read() gathers 4 KiB-1 MiB pieces in a bytearray, slices and copies them per call: about
        7x slower than the socket on loopback. For block payloads on raw sockets we take the bytes pyvisa-py
        already buffered, then recv_into the caller's array directly. Any other session type, or a pyvisa-py
        whose internals differ, takes the portable visalib.read() path.
        """
        try:
            sess = self._rm.visalib.sessions[self._res.session]
        except (AttributeError, KeyError, TypeError):
            return None, None
        sock = getattr(sess, "interface", None)
        pending = getattr(sess, "_pending_buffer", None)
        if isinstance(sock, socket.socket) and isinstance(pending, bytearray):
            return sock, pending
        return None, None

    def _read_exact_into(self, view: memoryview, what: str) -> None:
        sock, pending = self._raw_socket()
        if sock is not None:
            self._recv_exact_into(sock, pending, view, what)
            return
        visalib, session = self._res.visalib, self._res.session
        attr = self._constants.VI_ATTR_TERMCHAR_EN
        term_en = self._res.get_visa_attribute(attr)
        if term_en:
            self._res.set_visa_attribute(attr, False)
        pos, total = 0, len(view)
        deadline = time.monotonic() + self.timeout_s
        quiet = self._res.ignore_warning(self._constants.StatusCode.success_max_count_read)
        try:
            quiet.__enter__()
            while pos < total:
                try:
                    data, status = visalib.read(session, total - pos)
                except self._errors.VisaIOError as exc:
                    raise self._short(what, pos, total, exc.description) from None
                except OSError as exc:
                    raise self._short(what, pos, total, str(exc)) from None
                n = len(data)
                if n:
                    view[pos:pos + n] = data
                    pos += n
                    deadline = time.monotonic() + self.timeout_s
                elif status == self._constants.StatusCode.error_timeout or time.monotonic() > deadline:
                    raise self._short(what, pos, total, f"no data for {self.timeout_s:g} s")
        finally:
            quiet.__exit__(None, None, None)
            if term_en and not self._closed:
                try:
                    self._res.set_visa_attribute(attr, True)
                except Exception:  # noqa: BLE001 - the resource may already be broken; the first error wins
                    log.debug("could not restore the termination character on %s", self.name)

    def _recv_exact_into(self, sock, pending: bytearray, view: memoryview, what: str) -> None:
        total = len(view)
        pos = min(len(pending), total)
        if pos:
            view[:pos] = pending[:pos]
            del pending[:pos]
        while pos < total:
            ready, _, _ = select.select([sock], [], [], self.timeout_s)
            if not ready:
                raise self._short(what, pos, total, f"no data for {self.timeout_s:g} s")
            try:
                n = sock.recv_into(view[pos:], total - pos)
            except OSError as exc:
                raise self._short(what, pos, total, exc.strerror or str(exc)) from None
            if n == 0:
                raise self._short(what, pos, total, "the scope closed the connection")
            pos += n

    def _short(self, what: str, pos: int, total: int, why: str) -> InstrumentError:
        return InstrumentError(f"{self.name}: reading {what} stopped after {pos} of {total} bytes ({why}): the "
                               "connection dropped or the scope stalled. Check the cable/LAN, then reconnect and "
                               "capture again.")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._res.close()
        except (self._errors.Error, OSError, AttributeError):
            pass
        try:
            self._rm.close()
        except (self._errors.Error, OSError, AttributeError):
            pass


def list_resources(visa_library: str = "@py") -> list[str]:
    """VISA resources the library can see (USB, VXI-11 broadcast where supported)."""
    pyvisa, _, errors = _import_pyvisa()
    try:
        rm = pyvisa.ResourceManager(visa_library)
        try:
            return list(rm.list_resources())
        finally:
            rm.close()
    except (OSError, ValueError, errors.Error) as exc:
        raise InstrumentError(f"cannot list instruments with {visa_library!r}: {exc}") from None
