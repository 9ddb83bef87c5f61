"""SshTarget: a board over SSH, with asyncssh on its own event-loop thread so callers stay synchronous.

asyncssh reads ~/.ssh/config (Host aliases, HostName, User, Port,
IdentityFile, ProxyJump), uses the agent, and has SFTP. Host keys are checked
against the bench's known_hosts and never accepted silently: an unknown key is
refused with its SHA256 fingerprint and how to trust it; a changed key is
refused louder and never overwritten. A password is used only when the
operator types it, and never stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shlex
import threading
import time
from pathlib import Path
from typing import Any, Callable

from workloads.errors import HostKeyError, TargetError
from workloads.target import (LAUNCHER, SUPPORT_DIR, SYNC_AFTER_S, LauncherOutput, LineCallback, RunResult, Target,
                              TelemetryOptions, launcher_command, new_nonce, sha256_file)

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 15.0
KEEPALIVE_S = 15.0          # a link silent this long is declared dead (the bench's target.keepalive_s)
KEEPALIVE_PROBES = 3        # keepalive requests left unanswered before that


def _asyncssh():
    import asyncssh
    return asyncssh


def known_hosts_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


class SshTarget(Target):
    kind = "ssh"

    def __init__(self, host: str, *, port: int | None = None, user: str = "", identity_file: str = "",
                 known_hosts: str = "~/.ssh/known_hosts", workdir: str = "~/joulebench", password: str | None = None,
                 ssh_config: list[str] | None = None, keepalive_s: float = KEEPALIVE_S):
        self.host = host
        self.keepalive_s = float(keepalive_s)
        self.port = port
        self.user = user or None
        self.identity_file = os.path.expanduser(identity_file) if identity_file else ""
        self.known_hosts = os.path.expanduser(known_hosts)
        self.workdir_spec = workdir
        self._password = password
        self._config = ssh_config
        self.description = f"{self.user + '@' if self.user else ''}{host}{':' + str(port) if port else ''}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"ssh-{host}", daemon=True)
        self._thread.start()
        self._conn = None
        self.workdir = ""
        self.upload_note = ""

    # -- the event-loop thread ------------------------------------------------
    def _call(self, awaitable, timeout: float | None = None):
        async def wrap():
            return await awaitable
        fut = asyncio.run_coroutine_threadsafe(wrap(), self._loop)
        started = time.monotonic()
        try:
            return fut.result(timeout)
        except TimeoutError:
            waited = time.monotonic() - started
            if not fut.done():                 # our own limit ran out
                fut.cancel()
                raise TargetError(f"{self.description}: no answer within {timeout:g} s. Is the board on and "
                                  "reachable (ping it), and is its sshd running?") from None
            # the SSH library's own connect timeout fired first
            raise TargetError(f"{self.description}: the SSH connection timed out after {waited:.1f} s. Is the board "
                              "on and reachable (ping it), is the host name or ~/.ssh/config alias right, and is "
                              "its sshd running?") from None

    def _options(self) -> dict[str, Any]:
        # keepalives: a link whose far end stops answering (the board hung, a cable pulled, its sshd stopped) is
        # declared dead after about keepalive_s instead of waiting out the workload's timeout
        opts: dict[str, Any] = {"known_hosts": self._known_hosts_arg(), "connect_timeout": CONNECT_TIMEOUT_S,
                                "keepalive_interval": self.keepalive_s / (KEEPALIVE_PROBES + 1),
                                "keepalive_count_max": KEEPALIVE_PROBES}
        if self.port:
            opts["port"] = self.port
        if self.user:
            opts["username"] = self.user
        if self.identity_file:
            opts["client_keys"] = [self.identity_file]
        if self._password is not None:
            opts["password"] = self._password
        if self._config is not None:
            opts["config"] = self._config
        return opts

    def _endpoint(self):
        """The endpoint the connection really uses, as asyncssh resolves it from ~/.ssh/config (HostName, Port,
        ProxyJump, ProxyCommand, HostKeyAlias): host keys are fetched from there and filed under its name."""
        asyncssh = _asyncssh()
        kwargs: dict[str, Any] = {"host": self.host}
        if self.port:
            kwargs["port"] = self.port
        if self._config is not None:
            kwargs["config"] = self._config
        async def resolve():
            return asyncssh.SSHClientConnectionOptions(**kwargs)
        return self._call(resolve(), 10)

    def _host_is_known(self) -> bool:
        """Whether known_hosts holds any key for this host (of any type)."""
        asyncssh = _asyncssh()
        if not os.path.exists(self.known_hosts):
            return False
        try:
            endpoint = self._endpoint()
            name = endpoint.host_key_alias or endpoint.host
            return bool(asyncssh.read_known_hosts(self.known_hosts).match(name, "", endpoint.port)[0])
        except (OSError, ValueError, asyncssh.Error, TargetError):
            return False

    def _known_hosts_arg(self):
        if not os.path.exists(self.known_hosts):
            return ([], [], [])              # nothing trusted yet: every key is unknown
        return self.known_hosts

    # -- host keys ----------------------------------------------------------------
    def _fetch_host_key(self, endpoint):
        asyncssh = _asyncssh()
        kwargs: dict[str, Any] = {"port": endpoint.port}
        if endpoint.tunnel:
            kwargs["tunnel"] = endpoint.tunnel
        if endpoint.proxy_command:
            kwargs["proxy_command"] = endpoint.proxy_command
        return self._call(asyncssh.get_server_host_key(endpoint.host, **kwargs), CONNECT_TIMEOUT_S + 5)

    def _host_key_error(self) -> HostKeyError:
        asyncssh = _asyncssh()
        endpoint = self._endpoint()
        port = endpoint.port
        name = endpoint.host_key_alias or endpoint.host
        try:
            key = self._fetch_host_key(endpoint)
        except (OSError, asyncssh.Error, TargetError) as exc:
            return HostKeyError(f"{self.description}: the host key could not be verified and could not be read "
                                f"({exc}).", self.host, port, "", False)
        if key is None:
            return HostKeyError(f"{self.description}: the server offered no host key.", self.host, port, "", False)
        fp = key.get_fingerprint("sha256")
        line = f"{known_hosts_name(name, port)} {key.export_public_key('openssh').decode().strip()}"
        changed = False
        if os.path.exists(self.known_hosts):
            try:
                trusted = asyncssh.read_known_hosts(self.known_hosts).match(name, "", port)[0]
            except (OSError, ValueError, asyncssh.Error):
                trusted = []
            changed = bool(trusted)
        if changed:
            return HostKeyError(
                f"WARNING: the SSH host key of {self.host} (port {port}) HAS CHANGED: it now presents {fp}, which is "
                f"not the key recorded in {self.known_hosts}. This can mean someone is intercepting the connection, "
                "or the board was reinstalled. Joulebench will not connect and will not replace the recorded key; "
                f"if you know the board was reinstalled, remove its old line from {self.known_hosts} yourself.",
                self.host, port, fp, True, line)
        return HostKeyError(
            f"{self.description}: the board's host key is not trusted yet (not in {self.known_hosts}). Its "
            f"fingerprint is {fp}. Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the board; "
            "if they match, trust it (command line: --trust-host-key; the app asks).",
            self.host, port, fp, False, line)

    def trust_host_key(self, expected_fingerprint: str) -> str:
        """Append the board's host key to known_hosts, only if it is the key whose fingerprint the operator
        read on the board itself (its console: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`)."""
        if not expected_fingerprint or not expected_fingerprint.startswith("SHA256:"):
            raise TargetError(f"{self.description}: give the fingerprint you read on the board's console "
                              "(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`), e.g. --trust-host-key "
                              "SHA256:…; nothing was trusted")
        err = self._host_key_error()
        if err.changed:
            raise err
        if not err.key_line:
            raise err
        if expected_fingerprint != err.fingerprint:
            raise TargetError(f"{self.description}: the board presents {err.fingerprint}, not the {expected_fingerprint} "
                              "you gave. Nothing was trusted. Compare again on the board's own console; a "
                              "mismatch can mean the connection is being intercepted.")
        path = Path(self.known_hosts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(err.key_line + "\n")
        log.info("trusted %s host key %s in %s", self.host, err.fingerprint, path)
        return err.fingerprint

    # -- connection -----------------------------------------------------------------
    def connect(self, prepare: bool = True) -> None:
        asyncssh = _asyncssh()
        try:
            self._conn = self._call(asyncssh.connect(self.host, **self._options()), CONNECT_TIMEOUT_S + 10)
        except asyncssh.HostKeyNotVerifiable:
            raise self._host_key_error() from None
        except asyncssh.PermissionDenied as exc:
            raise TargetError(f"{self.description}: the board refused our login ({exc.reason}). Check target.user "
                              "and target.identity_file (or that your key is in the agent), and that the public key "
                              "is in ~/.ssh/authorized_keys on the board.") from None
        except (asyncssh.DisconnectError, ConnectionResetError) as exc:
            # a server that finds no host key algorithm in common closes the connection; depending on timing
            # the close arrives as an SSH disconnect or as a TCP reset
            if self._host_is_known():
                # a recorded key of one type and a server offering another: no host key algorithm in common,
                # which is a changed key as far as the operator is concerned (the interception warning)
                err = self._host_key_error()
                if err.changed:
                    raise err from None
            why = exc.reason if isinstance(exc, asyncssh.DisconnectError) else "reset"
            raise TargetError(f"{self.description}: the SSH server closed the connection ({why}).") from None
        except (OSError, asyncssh.Error) as exc:
            raise TargetError(f"{self.description}: cannot connect ({exc}). Is the board on and reachable, is the "
                              "host name or ~/.ssh/config alias right, is sshd running?") from None
        except ValueError as exc:                # asyncssh parses known_hosts (and keys) into ValueErrors
            raise TargetError(f"{self.description}: {self.known_hosts} (target.known_hosts) or the key files "
                              f"cannot be read: {exc}. Fix or remove that line; nothing was trusted.") from None
        home = self._exec("printf %s \"$HOME\"").strip()
        wd = self.workdir_spec
        self.workdir = home + wd[1:] if wd.startswith("~") else wd
        if prepare:
            self._exec(f"mkdir -p {shlex.quote(self.workdir)}/{SUPPORT_DIR}")
            self._put_if_changed([LAUNCHER], f"{self.workdir}/{SUPPORT_DIR}")

    def _exec(self, command: str, timeout: float = 60.0) -> str:
        async def go():
            return await self._conn.run(command, check=False)
        try:
            res = self._call(go(), timeout)
        except (OSError, _asyncssh().Error) as exc:
            raise TargetError(f"{self.description}: {command!r} failed: {exc}") from None
        if res.exit_status != 0:
            raise TargetError(f"{self.description}: {command!r} failed (exit {res.exit_status}): "
                              f"{(res.stderr or '').strip()[-300:]}")
        return res.stdout or ""

    def facts(self) -> dict[str, Any]:
        from workloads.facts import FACTS_SCRIPT, parse_facts

        async def go():
            return await self._conn.run(FACTS_SCRIPT, check=False)
        return parse_facts(self._call(go(), 120).stdout or "")

    def _remote_hashes(self, names: list[str], folder: str) -> dict[str, str]:
        if not names:
            return {}
        cmd = f"cd {shlex.quote(folder)} && sha256sum -- " + " ".join(shlex.quote(n) for n in names) + " 2>/dev/null"

        async def go():
            return await self._conn.run(cmd, check=False)
        out = {}
        for line in (self._call(go(), 60).stdout or "").splitlines():
            parts = line.split(None, 1)
            if len(parts) == 2:
                out[parts[1].lstrip("*")] = parts[0]
        return out

    def _put_if_changed(self, files: list[Path], folder: str) -> list[str]:
        for f in files:
            if not Path(f).is_file():
                raise TargetError(f"cannot upload {f}: no such file. Check the workload's files list.")
        remote = self._remote_hashes([Path(f).name for f in files], folder)
        todo = [Path(f) for f in files if remote.get(Path(f).name) != sha256_file(Path(f))]
        if not todo:
            return []

        async def go():
            async with self._conn.start_sftp_client() as sftp:
                for f in todo:
                    await sftp.put(str(f), f"{folder}/{f.name}")
        try:
            self._call(go(), 600)
        except (OSError, _asyncssh().Error) as sftp_exc:
            # dropbear images and hardened servers offer no SFTP subsystem: pipe the bytes through `cat`
            log.warning("%s: no SFTP (%s); uploading through a pipe instead", self.description, sftp_exc)
            try:
                for f in todo:
                    self._pipe_upload(f, folder)
            except (OSError, _asyncssh().Error, TargetError) as exc:
                raise TargetError(f"{self.description}: uploading to {folder} failed: SFTP is not offered "
                                  f"({sftp_exc}) and a piped upload through the shell failed too ({exc}). Enable "
                                  "the sftp subsystem in the board's sshd_config, or check that the workdir is "
                                  "writable.") from None
            self.upload_note = "uploaded through a pipe (the board's SSH server offers no SFTP)"
        return [f.name for f in todo]

    def _pipe_upload(self, f: Path, folder: str) -> None:
        """Upload over exec: `cat` into a temporary name, then rename; the hash is checked afterwards."""
        dest = f"{folder}/{f.name}"
        tmp = f"{dest}.part"
        data = Path(f).read_bytes()

        async def go():
            return await self._conn.run(f"cat > {shlex.quote(tmp)} && mv -f {shlex.quote(tmp)} {shlex.quote(dest)}",
                                        input=data, encoding=None, check=False)
        res = self._call(go(), 600)
        if res.exit_status != 0:
            raise TargetError(f"exit status {res.exit_status}: {(res.stderr or b'').decode('utf-8', 'replace')[-300:]}")
        if self._remote_hashes([f.name], folder).get(f.name) != sha256_file(f):
            raise TargetError(f"{f.name} arrived damaged (its SHA-256 differs)")

    def upload(self, files: list[Path]) -> list[str]:
        return self._put_if_changed(list(files), self.workdir)

    def run(self, command: str, *, timeout_s: float | None = None, on_line: LineCallback | None = None,
            on_event: Callable[[Any], None] | None = None, cancel: threading.Event | None = None,
            telemetry: TelemetryOptions | None = None, marker: tuple[str, str] | None = None) -> RunResult:
        if self._conn is None:
            raise TargetError(f"{self.description}: not connected")
        nonce = new_nonce()
        line = f"cd {shlex.quote(self.workdir)} && " + launcher_command(command, timeout_s, telemetry,
                                                                         marker=marker, nonce=nonce)
        out = LauncherOutput(on_line, on_event, nonce)
        state = {"cancelled": False, "lost": False}

        async def pump(stream, name):
            async for text in stream:
                if text:                     # asyncssh ends with an empty read at EOF
                    out.feed(name, text)

        async def go():
            proc = await self._conn.create_process(line, encoding="utf-8", errors="replace")
            readers = asyncio.gather(pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr"))
            started, syncs = time.monotonic(), list(SYNC_AFTER_S)
            while not readers.done():
                if cancel is not None and cancel.is_set() and not state["cancelled"]:
                    state["cancelled"] = True
                    try:
                        proc.stdin.write("cancel\n")
                    except (OSError, _asyncssh().Error):
                        pass
                if syncs and time.monotonic() - started >= syncs[0]:
                    # a round trip for the clock map: the launcher answers with its board stamp at once, so
                    # the map's lower bound no longer rests on the exec's round trip (which holds the SSH
                    # session's start)
                    syncs.pop(0)
                    try:
                        proc.stdin.write(f"sync {time.monotonic()!r}\n")
                    except (OSError, _asyncssh().Error):
                        pass
                await asyncio.wait([readers], timeout=0.02)
            await readers
            await proc.wait_closed()
            if proc.exit_status is None and proc.exit_signal is None and not state["cancelled"]:
                state["lost"] = True                 # the channel ended without a status: the link went down
                log.warning("%s: connection lost during the run (no answer for %g s)", self.description,
                            self.keepalive_s)
            return proc.exit_status

        budget = None if timeout_s is None else timeout_s + 30
        try:
            status = self._call(go(), budget)
        except (OSError, _asyncssh().Error, ConnectionError) as exc:
            state["lost"] = True
            log.warning("%s: connection lost during the run: %s", self.description, exc)
            status = None
        return out.result(status, "cancelled" if state["cancelled"] else "connection lost" if state["lost"]
                          else None)

    def drop_connection(self) -> None:
        """Cut the connection abruptly, as a network fault would (tests, and cancel of last resort)."""
        if self._conn is not None:
            self._loop.call_soon_threadsafe(self._conn.abort)

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None

            async def go():
                conn.close()
                await conn.wait_closed()
            try:
                self._call(go(), 10)
            except (OSError, TargetError, _asyncssh().Error):
                pass
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()


def fingerprint_of_public_key_line(line: str) -> str:
    """SHA256 fingerprint of an OpenSSH public key line, as ssh-keygen -lf prints it."""
    import base64
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
