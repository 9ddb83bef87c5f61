"""Where the workload runs: the Target interface, what a run returns, and LocalTarget.

Every run goes through the launcher (`scripts/jb_launcher.py`), uploaded to
`<workdir>/.joulebench/`: it puts the command in its own process group,
stamps its start and end with the board's monotonic clock, and kills the
group on cancel, on timeout and when the connection drops.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from workloads.errors import TargetError
from workloads.protocol import Event, ProtocolState

log = logging.getLogger(__name__)

LAUNCHER = Path(__file__).resolve().parent / "scripts" / "jb_launcher.py"
LAUNCHER_PREFIX = "@joulebench-launcher "
SUPPORT_DIR = ".joulebench"
LineCallback = Callable[[str, str], None]       # (stream "stdout"|"stderr", line)


@dataclass
class TelemetryOptions:
    """How the launcher samples on-board sensors during a run."""
    hwmon_dirs: tuple[str, ...] = ()      # INA3221 hwmon directories on the board
    tegrastats: bool = False
    nvml: bool = False                    # NVIDIA GPUs through NVML (nvidia-ml-py on the board)
    interval_s: float = 0.05


@dataclass
class RunResult:
    exit_status: int | None
    stdout: str
    stderr: str
    protocol: ProtocolState
    board_start_s: float | None          # launcher stamps, board monotonic clock
    board_end_s: float | None
    reason: str | None = None            # None, "timeout", "cancelled", "connection lost", …
    telemetry: list[dict[str, Any]] = field(default_factory=list)   # raw launcher samples
    launcher_warnings: list[str] = field(default_factory=list)
    launcher_started_s: float | None = None       # the launcher's own first instant, board clock
    markers: list[dict[str, Any]] = field(default_factory=list)     # marker commands the launcher ran

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.protocol.as_json()

    @property
    def wrapper_duration_s(self) -> float | None:
        if self.board_start_s is None or self.board_end_s is None:
            return None
        return self.board_end_s - self.board_start_s

    def duration_s(self) -> tuple[float | None, str]:
        """T from the workload's begin/end events, else the launcher's stamps; and which it was."""
        d = self.protocol.duration_s()
        if d is not None:
            return d, "events"
        return self.wrapper_duration_s, "launcher"

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and self.reason is None


LAUNCH_EVENT = "@launch"      # the launcher's own events, passed to on_event beside the workload's
EXIT_EVENT = "@exit"
MARKER_EVENT = "@marker"
SYNC_EVENT = "@sync"
SYNC_AFTER_S = (0.05, 0.15, 0.3, 0.6, 1.0)    # the local target sends a sync line this long after the start


class LauncherOutput:
    """Splits the launcher's stdout into its own messages, workload events and the log.

    on_event gets every workload event as it arrives, and the launcher's own as Events named
    "@launch" (the exec stamp), "@marker" (a marker command ran) and "@exit".
    """

    def __init__(self, on_line: LineCallback | None = None, on_event: Callable[[Any], None] | None = None,
                 nonce: str = ""):
        self.protocol = ProtocolState()
        self._prefix = LAUNCHER_PREFIX + (nonce + " " if nonce else "")
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.telemetry: list[dict[str, Any]] = []
        self.start_s: float | None = None
        self.end_s: float | None = None
        self.exit_status: int | None = None
        self.reason: str | None = None
        self.warnings: list[str] = []
        self.markers: list[dict[str, Any]] = []
        self.launcher_t0: float | None = None
        self._on_line = on_line
        self._on_event = on_event
        self._lock = threading.Lock()

    def feed(self, stream: str, line: str) -> None:
        line = line.rstrip("\r\n")
        with self._lock:
            if stream == "stdout" and line.startswith(self._prefix):
                ev = self._launcher(line[len(self._prefix):])
                line = None
            else:
                (self.stdout if stream == "stdout" else self.stderr).append(line)
                ev = self.protocol.feed(line) if stream == "stdout" else None
        if line is not None and self._on_line is not None:
            self._on_line(stream, line)
        if ev is not None and self._on_event is not None:
            self._on_event(ev)

    def _launcher(self, body: str) -> Event | None:
        try:
            msg = json.loads(body)
        except ValueError:
            self.warnings.append(f"unreadable launcher message: {body[:100]!r}")
            return None
        kind = msg.get("event")
        t = msg.get("t")
        if kind == "start":
            self.start_s = t
            self.launcher_t0 = msg.get("t0") if _is_time(msg.get("t0")) else None
            return Event(LAUNCH_EVENT, float(t), {"pid": msg.get("pid"), "t0": self.launcher_t0}) \
                if _is_time(t) else None
        if kind == "exit":
            self.end_s, self.exit_status, self.reason = t, msg.get("status"), msg.get("reason")
            if self.start_s is None:
                self.start_s = msg.get("start")
            return Event(EXIT_EVENT, float(t), {"status": msg.get("status")}) if _is_time(t) else None
        if kind == "sync":          # a round trip: the desktop's instant sent, the board's when it arrived
            sent = msg.get("sent")
            return Event(SYNC_EVENT, float(t), {"sent": float(sent)}) if _is_time(t) and _is_time(sent) else None
        if kind == "marker":
            self.markers.append(msg)
            if msg.get("status") != 0:
                self.warnings.append(f"the marker command for {msg.get('edge')} failed (status "
                                     f"{msg.get('status')}): {msg.get('stderr') or 'no message'}")
            return Event(MARKER_EVENT, float(t), {k: v for k, v in msg.items() if k not in ("event", "t")}) \
                if _is_time(t) else None
        if kind in ("telemetry", "tegrastats"):
            self.telemetry.append(msg)
        elif kind == "warning":
            self.warnings.append(str(msg.get("message")))
        return None

    def result(self, fallback_status: int | None = None, reason: str | None = None) -> RunResult:
        status = self.exit_status if self.exit_status is not None else fallback_status
        return RunResult(exit_status=status, stdout="\n".join(self.stdout) + ("\n" if self.stdout else ""),
                         stderr="\n".join(self.stderr) + ("\n" if self.stderr else ""), protocol=self.protocol,
                         board_start_s=self.start_s, board_end_s=self.end_s, reason=self.reason or reason,
                         telemetry=self.telemetry, launcher_warnings=self.warnings, markers=self.markers,
                         launcher_started_s=self.launcher_t0)


def _is_time(t: Any) -> bool:
    return isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)


def new_nonce() -> str:
    return secrets.token_hex(8)


def launcher_command(command: str, timeout_s: float | None, telemetry: TelemetryOptions | None,
                     python: str = "python3", marker: tuple[str, str] | None = None, nonce: str = "") -> str:
    """The shell command line that runs `command` under the launcher, from the workdir.
    marker: (high, low) commands the launcher runs at the workload's begin and end events; nonce: marks the
    launcher's own messages for this run."""
    parts = [python, "-u", f"{SUPPORT_DIR}/{LAUNCHER.name}"]
    if nonce:
        parts += ["--nonce", nonce]
    if marker is not None:
        parts += ["--marker-high", marker[0], "--marker-low", marker[1]]
    if timeout_s is not None:
        parts += ["--timeout", repr(float(timeout_s))]
    if telemetry is not None:
        for d in telemetry.hwmon_dirs:
            parts += ["--hwmon", d]
        if telemetry.tegrastats:
            parts.append("--tegrastats")
        if telemetry.nvml:
            parts.append("--nvml")
        parts += ["--interval", repr(float(telemetry.interval_s))]
    parts += ["--", command]
    return " ".join(shlex.quote(p) for p in parts)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Target(ABC):
    """A board that runs workloads."""

    kind = "target"
    description = ""

    @abstractmethod
    def connect(self, prepare: bool = True) -> None:
        """Connect; with prepare, create the workdir and put the launcher there (check does not: it changes
        nothing on the board)."""

    @abstractmethod
    def facts(self) -> dict[str, Any]: ...

    @abstractmethod
    def upload(self, files: list[Path]) -> list[str]:
        """Copy files into the workdir (only those whose content changed); returns the names copied."""

    @abstractmethod
    def run(self, command: str, *, timeout_s: float | None = None, on_line: LineCallback | None = None,
            on_event: Callable[[Any], None] | None = None, cancel: threading.Event | None = None,
            telemetry: TelemetryOptions | None = None, marker: tuple[str, str] | None = None) -> RunResult:
        """Run a shell command in the workdir under the launcher; on_event gets events as they arrive."""

    @abstractmethod
    def close(self) -> None: ...

    def run_setup(self, commands: tuple[str, ...] | list[str], timeout_s: float = 120.0,
                  cancel: threading.Event | None = None) -> None:
        """The bench's setup commands, each must succeed."""
        for cmd in commands:
            res = self.run(cmd, timeout_s=timeout_s, cancel=cancel)
            if not res.ok:
                why = res.reason or f"exit status {res.exit_status}"
                raise TargetError(f"setup command {cmd!r} failed on {self.description} ({why}): "
                                  f"{(res.stderr or res.stdout).strip()[-400:]}. Fix it or remove it from "
                                  "target.setup in the bench file.")

    def __enter__(self) -> "Target":
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalTarget(Target):
    """This computer, through subprocess, with the same launcher and semantics as a board."""

    kind = "local"

    def __init__(self, workdir: str | Path = "~/joulebench", python: str | None = None):
        self.workdir = Path(os.path.expanduser(str(workdir)))
        self.python = python or sys.executable
        self.description = f"this computer ({self.workdir})"

    def connect(self, prepare: bool = True) -> None:
        self._prepared = prepare
        if not prepare:
            return
        try:
            (self.workdir / SUPPORT_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TargetError(f"cannot create the workdir {self.workdir}: {exc}. Choose another target.workdir.") \
                from None
        self._copy_if_changed(LAUNCHER, self.workdir / SUPPORT_DIR / LAUNCHER.name)

    def facts(self) -> dict[str, Any]:
        from workloads.facts import FACTS_SCRIPT, parse_facts
        out = subprocess.run(["/bin/sh", "-c", FACTS_SCRIPT], capture_output=True, text=True, timeout=60,
                             cwd=self.workdir if self.workdir.is_dir() else None)
        return parse_facts(out.stdout)

    @staticmethod
    def _copy_if_changed(src: Path, dst: Path) -> bool:
        if dst.exists() and sha256_file(dst) == sha256_file(src):
            return False
        tmp = dst.with_name(dst.name + ".part")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
        return True

    def upload(self, files: list[Path]) -> list[str]:
        copied = []
        for f in files:
            if not Path(f).is_file():
                raise TargetError(f"cannot upload {f}: no such file. Check the workload's files list.")
            if self._copy_if_changed(Path(f), self.workdir / Path(f).name):
                copied.append(Path(f).name)
        return copied

    def run(self, command: str, *, timeout_s: float | None = None, on_line: LineCallback | None = None,
            on_event: Callable[[Any], None] | None = None, cancel: threading.Event | None = None,
            telemetry: TelemetryOptions | None = None, marker: tuple[str, str] | None = None) -> RunResult:
        nonce = new_nonce()
        line = launcher_command(command, timeout_s, telemetry, python=shlex.quote(self.python), marker=marker,
                                nonce=nonce)
        out = LauncherOutput(on_line, on_event, nonce)
        try:
            proc = subprocess.Popen(["/bin/sh", "-c", line], cwd=self.workdir, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0, env=self._env())
        except OSError as exc:
            raise TargetError(f"cannot start {command!r} on this computer: {exc}") from None
        readers = [threading.Thread(target=_pump_lines, args=(proc.stdout, "stdout", out), daemon=True),
                   threading.Thread(target=_pump_lines, args=(proc.stderr, "stderr", out), daemon=True)]
        for r in readers:
            r.start()
        cancelled = False
        started = time.monotonic()
        syncs = list(SYNC_AFTER_S)
        while proc.poll() is None:
            if cancel is not None and cancel.is_set() and not cancelled:
                cancelled = True
                _tell(proc, b"cancel\n")
            if syncs and time.monotonic() - started >= syncs[0]:
                syncs.pop(0)
                _tell(proc, f"sync {time.monotonic()!r}\n".encode())
            time.sleep(0.02)
        for r in readers:
            r.join(10)
        try:
            proc.stdin.close()
        except OSError:
            pass
        return out.result(proc.returncode, "cancelled" if cancelled else None)

    def _env(self) -> dict[str, str]:
        """This computer as the board: `python3` in a workload command is the interpreter Joulebench runs in
        (its virtual environment, with NumPy and the rest), not whatever comes first on PATH."""
        env = dict(os.environ)
        here = str(Path(self.python).parent)
        env["PATH"] = here + os.pathsep + env.get("PATH", "")
        return env

    def close(self) -> None:
        pass


def _tell(proc: subprocess.Popen, data: bytes) -> None:
    try:
        proc.stdin.write(data)
        proc.stdin.flush()
    except (BrokenPipeError, OSError):
        pass


def _pump_lines(stream, name: str, out: LauncherOutput) -> None:
    for raw in iter(stream.readline, b""):
        out.feed(name, raw.decode("utf-8", "replace"))
    stream.close()
