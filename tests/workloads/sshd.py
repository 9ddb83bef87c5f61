"""A real OpenSSH sshd on a free loopback port, with a throwaway host key and user key."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class SshServer:
    host: str
    port: int
    user: str
    user_key: Path
    known_hosts: Path          # trusts this server's host key
    host_key_pub: Path
    dir: Path
    proc: subprocess.Popen
    log: object = None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.log is not None:
            self.log.close()


def _keygen(path: Path, kind: str = "ed25519") -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "joulebench-test", "-f", str(path)],
                   check=True, capture_output=True)


def find_sshd() -> str | None:
    for candidate in (shutil.which("sshd"), "/usr/sbin/sshd", "/usr/local/sbin/sshd"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def start_sshd(base: Path, sftp: bool = True) -> SshServer:
    sshd = find_sshd()
    if sshd is None:
        raise RuntimeError("sshd is not installed: install openssh-server (tools/install-system-packages.sh)")
    base.mkdir(parents=True, exist_ok=True)
    host_key = base / "host_ed25519"
    user_key = base / "user_ed25519"
    _keygen(host_key)
    _keygen(user_key)
    (base / "authorized_keys").write_text((base / "user_ed25519.pub").read_text())
    os.chmod(base / "authorized_keys", 0o600)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    user = getpass.getuser()
    config = base / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {base}/sshd.pid
AuthorizedKeysFile {base}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin yes
StrictModes no
UsePAM no
{"Subsystem sftp internal-sftp" if sftp else ""}
LogLevel ERROR
""")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    log = open(base / "sshd.log", "w")
    proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sshd did not start: " + (base / "sshd.log").read_text())
            time.sleep(0.1)
    known = base / "known_hosts"
    pub = (base / "host_ed25519.pub").read_text().split()
    known.write_text(f"[127.0.0.1]:{port} {pub[0]} {pub[1]}\n")
    return SshServer("127.0.0.1", port, user, user_key, known, base / "host_ed25519.pub", base, proc, log)
