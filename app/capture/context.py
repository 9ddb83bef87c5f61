"""What every kind of capture shares: the request and its planned runs, the outcome, progress and cancel, and
the run's board timing and attributes (RunContext). The capture with a scope (procedure), the capture without
one (without_scope) and campaigns all work through RunContext's public members. No Qt here."""

from __future__ import annotations

import datetime as _dt
import errno
import logging
import re
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from app.bench.config import BenchConfig
from app.capture.live_run import RunLive
from app.errors import JoulebenchError, SessionError
from app.measure.analysis import RunTiming, mean_ci95
from app.session.writer import RESERVE_BYTES
from instruments.errors import CancelledError
from workloads import telemetry as tele
from workloads.spec import WorkloadSpec
from workloads.target import RunResult, Target

log = logging.getLogger(__name__)
NO_DURATION = ("the run's duration is unknown: the workload printed no usable begin/end events and the launcher "
               "reported no stamps")


@dataclass(frozen=True)
class Progress:
    stage: str
    fraction: float            # of the whole capture, 0..1
    message: str
    run: int | None = None


@dataclass(frozen=True)
class PlannedRun:
    """One run of a capture: a workload with its parameters, the entry's label, and whether it is scored (a
    campaign's ranging runs are not)."""
    workload: WorkloadSpec
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    scored: bool = True

    @property
    def command(self) -> str:
        return self.workload.render_command(self.params)


@dataclass
class CaptureRequest:
    bench: BenchConfig
    workload: WorkloadSpec
    params: dict[str, Any] = field(default_factory=dict)
    repeats: int = 1
    windows: int = 3           # steady windows per run when the run is longer than the window
    out_dir: Path = Path("sessions")
    label: str = ""
    operator: str = ""
    notes: str = ""
    password: str | None = field(default=None, repr=False)     # typed by the operator; never shown or stored
    plan: list[PlannedRun] | None = None      # several workloads in one session (a campaign); else repeats
    session_name: str = ""                     # the session file's name part (default: the workload's)
    campaign: dict[str, Any] | None = None     # stored under /campaign (the suite, the order)
    before_run: Callable[["RunContext", int, PlannedRun], None] | None = None        # e.g. settling
    after_run: Callable[["RunContext", int, PlannedRun, dict | None], None] | None = None   # e.g. ranging

    def runs(self) -> list[PlannedRun]:
        return list(self.plan) if self.plan else [PlannedRun(self.workload, dict(self.params), self.label)
                                                  for _ in range(self.repeats)]


@dataclass
class CaptureOutcome:
    session_path: Path | None
    workload: str
    runs: list[dict[str, Any]]
    complete: bool
    error: str | None = None
    failed_runs: list[int] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)     # run -> its own reason

    def fail(self, run: int, reason: str) -> None:
        self.failed_runs.append(run)
        self.failures[run] = reason

    def summary(self) -> dict[str, Any]:
        energies = [r["energy_j"] for r in self.runs if r.get("energy_j") is not None]
        jg = [r["j_per_gop"] for r in self.runs if r.get("j_per_gop") is not None]
        mean, ci = mean_ci95(energies) if energies else (None, None)
        return {"runs": len(self.runs), "energy_j_mean": mean, "energy_j_ci95": ci,
                "j_per_gop_mean": (sum(jg) / len(jg)) if jg else None}

    def document(self) -> dict[str, Any]:
        """The `capture --json` document of docs/command-line.md."""
        return {"session": str(self.session_path) if self.session_path else None, "workload": self.workload,
                "runs": self.runs, "summary": self.summary()}


class CaptureFailed(JoulebenchError):
    """The capture stopped; what was captured is saved (see .outcome)."""

    def __init__(self, message: str, outcome: CaptureOutcome):
        super().__init__(message)
        self.outcome = outcome


def check_output_dir(out_dir: Path) -> None:
    """The session folder must be writable before anything is connected or uploaded."""
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        probe = Path(out_dir) / ".joulebench-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SessionError(f"cannot write sessions to {out_dir}: {exc.strerror or exc}. Choose another --out "
                           "folder (nothing was connected or uploaded).") from None


def capture_bytes(bench: BenchConfig, plan: list[PlannedRun], windows: int) -> tuple[int, int]:
    """(most, least) bytes a capture writes: every planned window of every run at 2 bytes a sample (the first,
    a possible idle window and `windows` sampled ones), and the first run's triggered window alone at 1 byte a
    sample. Each window holds two channels (three with a marker channel) and an overview of about 1/8 byte a
    sample; a bench without a scope writes only telemetry."""
    if not bench.has_scope:
        return len(plan) << 20, 0
    acq = bench.acquisition
    points = min(acq.window_s * acq.sample_rate_hz, 1e12)
    channels = 2 + (bench.marker is not None and isinstance(bench.marker.channel, int))
    per_run = 1 + windows + (acq.idle != "pretrigger")
    most = len(plan) * per_run * points * (2 * channels + 0.125)
    least = points * (channels + 0.125)
    return int(most), int(least)


def check_free_space(out_dir: Path, bench: BenchConfig, plan: list[PlannedRun], windows: int) -> None:
    """Refuse a capture whose first run cannot fit on the disk (keeping the writer's reserve), warn when the
    whole capture may not: before anything is connected."""
    most, least = capture_bytes(bench, plan, windows)
    try:
        free = shutil.disk_usage(out_dir).free
    except OSError:
        return
    mib = 2 ** 20
    if free < RESERVE_BYTES + least:
        raise SessionError(f"the disk holding {out_dir} has {free / mib:.1f} MiB free; one run of this bench needs "
                           f"at least {least / mib:.1f} MiB plus {RESERVE_BYTES / mib:.0f} MiB kept free. Free some "
                           "space or choose another --out folder (nothing was connected or uploaded).")
    if free < RESERVE_BYTES + most:
        log.warning("the disk holding %s has %.1f MiB free and this capture may write up to %.1f MiB: it stops, "
                    "with every finished run saved, if the disk fills", out_dir, free / mib, most / mib)


def failure_message(exc: BaseException, out_dir: Path) -> str:
    """One line for what stopped a capture, whatever raised it."""
    if isinstance(exc, CancelledError):
        return "cancelled by the operator; what was captured is saved"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted by the operator (Ctrl-C twice); what was captured is saved"
    text = " ".join(str(exc).split())
    if isinstance(exc, JoulebenchError):
        return text
    if len(text) > 300:
        text = text[:300] + " …"
    if getattr(exc, "errno", None) == errno.ENOSPC or "No space left on device" in text:
        return (f"the disk holding {out_dir} is full ({type(exc).__name__}: {text}). The capture stopped; the runs "
                "finished before are kept. Free some space or choose another --out folder")
    if isinstance(exc, OSError):
        return text
    log.debug("the capture stopped on an unexpected error", exc_info=exc)
    return (f"an unexpected error stopped the capture ({type(exc).__name__}: {text}); what was captured is saved. "
            "Run with -v to see where it came from")


def session_filename(workload: str, now: _dt.datetime | None = None) -> str:
    """`2026-12-03T18-55-01.123456_3f9a2c_gemm.h5`: the UTC instant to the microsecond and six random hex digits,
    so that two captures started in the same microsecond (two processes, one folder) still get different names.
    The writer creates the file exclusively and never renames over an existing one besides (docs/sessions.md)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", workload)
    return f"{now.strftime('%Y-%m-%dT%H-%M-%S.%f')}_{secrets.token_hex(3)}_{safe}.h5"


class RunContext:
    """One capture's shared state: the request, progress (never backwards), cancel, the target and the live
    run; and what turns a finished workload into the run's attributes and board timing."""

    def __init__(self, request: CaptureRequest, *, progress: Callable[[Progress], None] | None = None,
                 on_line: Callable[[str, str], None] | None = None, cancel: threading.Event | None = None):
        self.req = request
        self.progress_cb = progress
        self.on_line = on_line
        self.cancel = cancel or threading.Event()
        self.target: Target | None = None
        self.live: RunLive | None = None
        self.plan: list[PlannedRun] = []
        self.fraction = 0.0

    # -- progress ---------------------------------------------------------------
    def report(self, stage: str, fraction: float, message: str, run: int | None = None) -> None:
        log.info("%s: %s", stage, message)
        # never backwards: estimates of the time left may shrink the planned share of a run
        self.fraction = max(self.fraction, min(max(fraction, 0.0), 1.0))
        if self.progress_cb is not None:
            self.progress_cb(Progress(stage, self.fraction, message, run))

    def run_fraction(self, run: int, within: float) -> float:
        return 0.1 + 0.9 * ((run - 1) + within) / max(1, len(self.plan or self.req.runs()))

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise CancelledError("cancelled by the operator")

    @staticmethod
    def run_attrs(res: RunResult | None) -> dict[str, Any]:
        if res is None:
            return {}
        duration, source = res.duration_s()
        return {"duration_s": duration, "duration_source": source, "ops": res.protocol.ops,
                "exit_status": res.exit_status, "stdout": res.stdout[-1_000_000:], "stderr": res.stderr[-1_000_000:],
                "events": res.events, "result": res.protocol.result, "board_start_s": res.board_start_s,
                "board_end_s": res.board_end_s, "launcher_reason": res.reason,
                "launcher_started_s": res.launcher_started_s, "markers": res.markers,
                "protocol_warnings": res.protocol.warnings + res.launcher_warnings}

    def timing(self, res: RunResult | None, live: RunLive, partial: bool = False) -> RunTiming | None:
        """The run's board instants: events (as they arrived, or from the result), else the launcher's stamps."""
        begin = end = None
        if res is not None:
            b, e = res.protocol.begin, res.protocol.end
            duration, source = res.duration_s()
            if duration is not None and source == "events":
                begin, end = b.t, e.t
            launch, started, exit_s = res.board_start_s, res.launcher_started_s, res.board_end_s
        else:
            launch, started, exit_s, duration, source = live.launch_s, None, None, None, "events"
        if partial:
            begin = begin if begin is not None else live.begin_s
            now = live.board_now()
            stop = end if end is not None else (exit_s if exit_s is not None else now)
            if begin is None or stop is None or stop <= begin:
                return None
            return RunTiming(stop - begin, "events (cut short)", begin, stop, launch or live.launch_s, started,
                             exit_s)
        if duration is None:
            return None
        if begin is None:                     # timed by the launcher around the whole command
            begin, end = launch, exit_s
        return RunTiming(duration, source, begin, end, launch, started, exit_s)

    def settle_run(self, run, n: int, res: RunResult | None, outcome: CaptureOutcome, live: RunLive | None = None):
        """The run's attributes, output lines with their board times, and telemetry stored; (attrs, samples)
        when the workload succeeded, else the run is finished as incomplete or failed with its reason and None
        is returned."""
        attrs = self.run_attrs(res)
        if live is not None:
            attrs["log_lines"] = live.log_lines()
        if res is None:
            run.finish(attrs, status="incomplete", reason="the workload produced no result")
            outcome.fail(n, "the workload produced no result")
            return None
        samples = tele.samples_from_launcher(res.telemetry)
        run.set_telemetry(samples)
        if not res.ok:
            why = res.reason or f"exit status {res.exit_status}"
            tail = (res.stderr.strip() or res.stdout.strip())[-500:]
            reason = f"the workload failed ({why}): {tail}" if tail else f"the workload failed ({why})"
            run.finish(attrs, status="failed", reason=reason)
            outcome.fail(n, reason)
            return None
        return attrs, samples
