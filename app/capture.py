"""The capture procedure shared by the CLI and the GUI (docs/method.md "What a capture is").

For one bench, one workload and N repeats: connect and configure the scope,
connect the target and record its facts, upload the workload; then per run:
setup commands, arm single on the current's rising edge, start the workload,
wait for the trigger and the window, fetch both channels; for a run longer
than the window, take K more windows spread over the steady part of the run;
wait for the workload's end; analyse; append the run to the session.

Progress is reported for every step; cancel works at any point (workload
stopped on the board, scope stopped, what was captured saved and marked
incomplete). No Qt here.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from app.analysis import (LAUNCH_GUARD_MIN_S, MIN_IDLE_S, ChannelSettings, RunTiming, WindowData, analyse_run,
                          mean_ci95)
from app.bench import BenchConfig
from app.capture_telemetry import no_telemetry_advice, run_without_scope
from app.connections import acquisition_setup, channel_setup, marker_setup, make_target, open_bench_scope, trigger_level_v
from app.energy import amps_per_volt
from app.errors import AnalysisError, JoulebenchError, SessionError
from app.heap import release_free_memory
from app.region import Placement, marker_edges_s, place_by_launch
from app.run_live import RunLive, plan_window
from app.session import SessionWriter
from app.stream import WindowStream
from instruments.errors import CancelledError, InstrumentError, TriggerTimeoutError
from instruments.scope import Applied, Scope
from instruments.waveform import Waveform
from workloads import telemetry as tele
from workloads.errors import WorkloadError
from workloads.spec import WorkloadSpec
from workloads.target import RunResult, Target

log = logging.getLogger(__name__)
ARM_SETTLE_S = 0.05


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
    before_run: Callable[["Capture", int, PlannedRun], None] | None = None        # e.g. settling
    after_run: Callable[["Capture", int, PlannedRun, dict | None], None] | None = None   # e.g. ranging

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


def session_filename(workload: str, now: _dt.datetime | None = None) -> str:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", workload)
    return f"{now.strftime('%Y-%m-%dT%H-%M-%S')}_{safe}.h5"


class Capture:
    def __init__(self, request: CaptureRequest, *, progress: Callable[[Progress], None] | None = None,
                 on_line: Callable[[str, str], None] | None = None, cancel: threading.Event | None = None):
        self.req = request
        self._progress_cb = progress
        self._on_line = on_line
        self.cancel = cancel or threading.Event()
        self.scope: Scope | None = None
        self.target: Target | None = None
        self.applied: Applied | None = None
        self._forced_at: dict[int, float] = {}       # id(WindowData) -> desktop instant its trigger was forced
        self._launch_edges: dict[int, tuple] = {}     # id(WindowData) -> its launch edge, found while it arrived
        self._marker_wave: Waveform | None = None
        self._last_details: dict | None = None
        self._live: RunLive | None = None
        self.writer: SessionWriter | None = None
        self.last_windows: list[WindowData] = []    # the windows of the run just finished (a campaign's ranging)
        self.last_details: dict | None = None       # and its analysis details and attributes (the app's review)
        self.last_attrs: dict | None = None
        self._fraction = 0.0

    # -- progress ---------------------------------------------------------------
    def _report(self, stage: str, fraction: float, message: str, run: int | None = None) -> None:
        log.info("%s: %s", stage, message)
        # never backwards: estimates of the time left may shrink the planned share of a run
        self._fraction = max(getattr(self, "_fraction", 0.0), min(max(fraction, 0.0), 1.0))
        if self._progress_cb is not None:
            self._progress_cb(Progress(stage, self._fraction, message, run))

    def _run_fraction(self, run: int, within: float) -> float:
        return 0.1 + 0.9 * ((run - 1) + within) / max(1, len(getattr(self, "_plan", None) or self.req.runs()))

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise CancelledError("cancelled by the operator")

    # -- the procedure ------------------------------------------------------------
    def run(self) -> CaptureOutcome:
        req = self.req
        bench = req.bench
        plan = req.runs()
        self._plan = plan
        specs = list({id(item.workload): item.workload for item in plan}.values())
        outcome = CaptureOutcome(None, req.session_name or req.workload.name, [], complete=False)
        self.outcome = outcome
        writer: SessionWriter | None = None
        for spec in specs:
            outside = spec.files_outside(bench.target.upload_from)
            if outside:
                raise WorkloadError(f"{spec.source_path}: its files list names {outside[0]}, outside the workload "
                                    f"file's folder ({spec.base_dir}); nothing was uploaded. Move the file "
                                    "there, or list its folder in target.upload_from in the bench file.")
        check_output_dir(req.out_dir)
        try:
            if bench.has_scope:
                self._report("connecting scope", 0.0, f"opening {bench.scope.resource}")
                self.scope = open_bench_scope(bench)
                self._check_cancel()
                self._report("configuring", 0.03, f"{self.scope.idn} ({self.scope.driver_name})")
                self.applied = self.scope.configure(channel_setup(bench.voltage), channel_setup(bench.current),
                                                    acquisition_setup(bench), extra=marker_setup(bench))
                self._check_cancel()
            self._report("connecting target", 0.05, f"connecting to {bench.target.kind} target")
            self.target = make_target(bench, req.password)
            self.target.connect()
            facts = self.target.facts()
            files = list({f.name: f for spec in specs for f in spec.files}.values())
            self._report("uploading", 0.08, f"uploading {', '.join(p.name for p in files) or 'nothing'}")
            self.target.upload(files)
            telemetry = tele.options_for(bench.target.telemetry, facts)
            if telemetry is None and not bench.has_scope:
                raise AnalysisError(no_telemetry_advice(bench.target.telemetry, facts))
            req.out_dir.mkdir(parents=True, exist_ok=True)
            writer = self._open_session(facts, plan[0].command)
            self.writer = writer
            outcome.session_path = writer.path
            for n, item in enumerate(plan, 1):
                self._check_cancel()
                if req.before_run is not None:
                    req.before_run(self, n, item)
                one_run = self._one_run if bench.has_scope else self._one_run_telemetry
                record = one_run(writer, n, item, telemetry, outcome)
                if record is not None and item.scored:
                    outcome.runs.append(record)
                if req.after_run is not None:
                    req.after_run(self, n, item, record)
            outcome.complete = not outcome.failed_runs
            if outcome.failed_runs:
                writer.mark_incomplete("run(s) " + ", ".join(map(str, outcome.failed_runs)) + " did not complete: "
                                       + "; ".join(f"run {k}: {v}" for k, v in outcome.failures.items()))
            self._report("saving", 1.0, f"saving {writer.path.name}")
            writer.close()
            return outcome
        except (JoulebenchError, OSError) as exc:
            message = "cancelled by the operator; what was captured is saved" \
                if isinstance(exc, CancelledError) else str(exc)
            outcome.error = message
            if writer is not None:
                writer.mark_incomplete(message)
                try:
                    writer.close()
                except JoulebenchError as close_exc:
                    outcome.error += f" (and saving failed: {close_exc})"
            raise CaptureFailed(message, outcome) from exc
        finally:
            self._disconnect()
            release_free_memory()        # what the capture's threads freed goes back to the system (app/heap.py)

    def _disconnect(self) -> None:
        if self.scope is not None:
            try:
                self.scope.stop()
            except JoulebenchError:
                pass
            self.scope.close()
            self.scope = None
        if self.target is not None:
            self.target.close()
            self.target = None

    def _open_session(self, facts: dict[str, Any], command: str) -> SessionWriter:
        bench, req = self.req.bench, self.req
        a = self.applied
        path = req.out_dir / session_filename(req.session_name or req.workload.name)
        if a is None:            # no scope: nothing applied, and the session says so
            voltage_applied = current_applied = {"scope": "none: energy from the target's telemetry alone"}
        else:
            acq = a.acquisition.as_dict()
            voltage_applied = {**a.voltage.as_dict(), "measured_at": bench.voltage.measured_at, **acq}
            current_applied = {**a.current.as_dict(), "shunt_ohm": bench.current.shunt_ohm,
                               "amps_per_volt": bench.current.amps_per_volt, "deskew_s": bench.current.deskew_s,
                               **acq}
        return SessionWriter(
            path, bench_toml=bench.to_toml(), resource=bench.scope.resource,
            scope_idn=self.scope.idn if self.scope is not None else "",
            scope_driver=self.scope.driver_name if self.scope is not None else "none",
            voltage_applied=voltage_applied, current_applied=current_applied,
            target={"kind": bench.target.kind, "host": bench.target.host or "localhost", "facts": facts,
                    "description": self.target.description},
            workload={"name": req.workload.name, "toml": req.workload.toml_text, "command": command,
                      "params": {**req.workload.params, **req.params}},
            label=req.label, operator=req.operator, notes=req.notes, campaign=req.campaign)

    # -- one run ------------------------------------------------------------------
    def _one_run_telemetry(self, writer: SessionWriter, n: int, item: PlannedRun, telemetry,
                           outcome: CaptureOutcome):
        """A bench without a scope: app/capture_telemetry.py."""
        return run_without_scope(self, writer, n, item, telemetry, outcome)

    def _one_run(self, writer: SessionWriter, n: int, item: PlannedRun, telemetry, outcome: CaptureOutcome):
        bench, req, target = self.req.bench, self.req, self.target
        acq = bench.acquisition
        command, spec = item.command, item.workload
        run = writer.begin_run({"command": command, "label": item.label, "workload": spec.name,
                                "params": {**spec.params, **item.params}, "scored": item.scored})
        windows: list[WindowData] = []
        idle_window: tuple[WindowData, str] | None = None
        result_box: dict[str, RunResult] = {}
        run_cancel = threading.Event()
        worker: threading.Thread | None = None
        live = RunLive(spec.expected_duration_s)
        self._live = live
        try:
            if bench.target.setup:
                self._report("setup", self._run_fraction(n, 0.0), "running the setup commands", n)
                target.run_setup(bench.target.setup, cancel=self.cancel)
            if acq.idle == "window" or (acq.idle == "auto" and bench.marker is not None):
                idle_window = (self._idle_window(run, n, "before"), "before")
            self._report("arming", self._run_fraction(n, 0.02), f"run {n}: arming the scope", n)
            self._arm_for_run()
            time.sleep(acq.pretrigger * self.applied.acquisition.window_s + ARM_SETTLE_S)   # pre-trigger fills
            marker = (bench.marker.high, bench.marker.low) if bench.marker is not None else None

            def work():
                result_box["r"] = target.run(command, timeout_s=spec.timeout_s, on_line=live.tee(self._on_line),
                                             on_event=live.on_event, cancel=run_cancel, telemetry=telemetry,
                                             marker=marker)
            worker = threading.Thread(target=work, name=f"workload-run-{n}", daemon=True)
            worker.start()
            self._report("waiting for trigger", self._run_fraction(n, 0.05), f"run {n}: waiting for the trigger", n)
            self._wait_trigger(n, worker)
            windows.append(self._fetch_window(run, n, 1, 0.1, with_marker=True))
            if worker.is_alive() and req.windows > 0:
                self._sample_windows(run, n, windows, worker, live)
            while worker.is_alive():
                if self.cancel.is_set():
                    run_cancel.set()
                left = live.time_left_s()
                done = live.fraction_done()
                self._report("running", self._run_fraction(n, 0.3 + 0.5 * (done or 0.0)),
                             f"run {n}: waiting for the workload" + (f", about {left:.0f} s left" if left else ""), n)
                worker.join(0.2)
            if acq.idle == "auto" and idle_window is None and not self._pretrigger_idle_ok(windows[0], result_box):
                idle_window = (self._idle_window(run, n, "after"), "after")
        except BaseException as exc:
            run_cancel.set()
            if worker is not None:
                worker.join(30)
            res = result_box.get("r")
            reason = "cancelled by the operator" if isinstance(exc, CancelledError) else str(exc)
            record = self._partial_record(n, windows, res, live, idle_window) \
                if isinstance(exc, CancelledError) else None
            if record is not None:
                outcome.runs.append(record)
            run.finish(self._run_attrs(res), status="incomplete", reason=reason,
                       record=record, details=self._last_details)
            raise
        res = result_box.get("r")
        self.last_windows = windows
        return self._finish_run(run, n, windows, res, outcome, live, idle_window, label=item.label)

    def _arm_for_run(self) -> None:
        """Single acquisition on the current's rising edge, or on the marker's when the bench has one."""
        bench = self.req.bench
        if bench.marker is not None:
            self.scope.arm_single(bench.marker.channel, bench.marker.threshold_v)
        else:
            self.scope.arm_single(bench.current.channel, trigger_level_v(bench))

    def _idle_window(self, run, n: int, where: str) -> WindowData:
        """A dedicated idle capture: the board left quiet for settle_s, then a forced acquisition."""
        acq = self.req.bench.acquisition
        window_s = self.applied.acquisition.window_s
        self._report("idle", self._run_fraction(n, 0.01 if where == "before" else 0.9),
                     f"run {n}: letting the board settle {acq.settle_s:g} s, then an idle window ({where} the run)", n)
        deadline = time.monotonic() + acq.settle_s
        while time.monotonic() < deadline:
            self._check_cancel()
            time.sleep(0.05)
        self.scope.arm_single(self.req.bench.current.channel, trigger_level_v(self.req.bench))
        time.sleep(acq.pretrigger * window_s + ARM_SETTLE_S)
        self.scope.force_trigger()
        self.scope.wait_complete(window_s * 2 + 10, self.cancel)
        return self._fetch_window(run, n, 0, 0.0, attrs={"role": f"idle ({where} the run)"})

    def _pretrigger_idle_ok(self, first: WindowData, result_box: dict) -> bool:
        res = result_box.get("r")
        if res is None or res.board_start_s is None:
            return True
        placement = self._placement_for(first, res.board_start_s)
        launch_scope = placement.scope_time(res.board_start_s)
        startup = res.board_start_s - (res.launcher_started_s or res.board_start_s)
        guard = max(LAUNCH_GUARD_MIN_S, 2 * startup)
        return launch_scope - guard - first.trace.t_first >= max(MIN_IDLE_S, 20 * first.trace.dx)

    def _wait_trigger(self, n: int, worker: threading.Thread | None = None) -> None:
        try:
            self.scope.wait_complete(self.req.bench.acquisition.trigger_timeout_s, self.cancel)
        except TriggerTimeoutError:
            raise TriggerTimeoutError(self._no_trigger_advice()) from None

    def _no_trigger_advice(self) -> str:
        """What the current did while we waited, against the trigger level."""
        bench = self.req.bench
        level = bench.acquisition.trigger_level_a
        try:
            self.scope.force_trigger()
            self.scope.wait_complete(self.applied.acquisition.window_s * 2 + 5)
            w = self.scope.fetch(bench.current.channel)
            a_per_v = amps_per_volt(bench.current.shunt_ohm, bench.current.amps_per_volt)
            zero = bench.current.zero_offset_v or 0.0
            codes = np.asarray(w.codes)
            lo, hi, mean = (float(x) * w.gain_v + w.offset_v - zero for x in (codes.min(), codes.max(),
                                                                               codes.mean(dtype=np.float64)))
            lo, hi = sorted((lo * a_per_v, hi * a_per_v))
            seen = (f"the current stayed between {lo:.4g} A and {hi:.4g} A (mean {mean * a_per_v:.4g} A), "
                    f"never rising through the trigger level of {level:.4g} A")
        except JoulebenchError as exc:
            seen = f"the current could not be measured afterwards ({exc})"
        if bench.marker is not None:
            return (f"no trigger within {bench.acquisition.trigger_timeout_s:g} s on the marker (channel "
                    f"{bench.marker.channel}, {bench.marker.threshold_v:g} V): the marker never rose; check that "
                    f"marker.high ({bench.marker.high!r}) works on the board and the GPIO is wired to the scope. "
                    f"Meanwhile {seen}.")
        return (f"no trigger within {bench.acquisition.trigger_timeout_s:g} s: {seen}. Set "
                "acquisition.trigger_level_a between the idle and the busy current (Auto-range proposes one), and "
                "check that the workload loads the board.")

    def _fetch_window(self, run, n: int, k: int, base: float, *, with_marker: bool = False,
                      attrs: dict | None = None, forced_at: float | None = None) -> WindowData:
        """Download both channels (and the marker) into the session while they arrive, scanning the power rows
        as they land (app/stream.py); then the self-check and the window's summary."""
        bench = self.req.bench
        c, v = bench.current, bench.voltage
        waves: dict[str, Waveform] = {}
        chans = [("voltage", v.channel), ("current", c.channel)]
        if with_marker and bench.marker is not None and isinstance(bench.marker.channel, int):
            chans.append(("marker", bench.marker.channel))
        label = f"window {k}" if k else "idle window"
        window = run.begin_window()
        stream = WindowStream(window, shunt_ohm=c.shunt_ohm, amps_per_volt=c.amps_per_volt,
                              measured_at=v.measured_at, deskew_s=c.deskew_s, current_zero_v=c.zero_offset_v or 0.0,
                              find_launch_edge=k == 1 and bench.marker is None)
        # the scope's own means of this acquisition, asked before the download so that nothing but local work
        # is left when its last byte lands (a failed question is raised by the self-check, after the download)
        scope_means = self._scope_means()
        self.scope.on_waveform = stream.announce
        self.scope.t.chunk_sink = stream.chunk
        try:
            for j, (name, ch) in enumerate(chans):
                def prog(done, total, j=j, ch=ch):
                    pct = 100.0 * done / total if total else 100.0
                    self._report("downloading", self._run_fraction(n, base + 0.05 * (j + done / max(total, 1))),
                                 f"run {n} {label}: downloading CH{ch} {pct:.0f} %", n)
                self._report("downloading", self._run_fraction(n, base + 0.05 * j),
                             f"run {n} {label}: downloading CH{ch}", n)
                stream.current = name if name != "marker" else None
                waves[name] = self.scope.fetch(ch, progress=prog, cancel=self.cancel)
        except BaseException as exc:
            stream.abandon(f"the download stopped: {exc}")
            raise
        finally:
            self.scope.on_waveform = None
            self.scope.t.chunk_sink = None
        trace, summary, means = stream.finish()
        checks = self._self_check(waves, means, scope_means)
        self._report("analysing", self._run_fraction(n, base + 0.15), f"run {n} {label}: analysing", n)
        extra = {"captured_at_monotonic_s": time.monotonic(), "role": "run" if k == 1 else "sampled",
                 "self_check": checks, **(attrs or {})}
        if forced_at is not None:
            extra["forced_at_desktop_s"] = forced_at
        if "marker" in waves:
            window.write_channel("marker", waves["marker"], {"role": "begin/end marker GPIO"})
            self._marker_wave = waves["marker"]
        window.finish(summary, extra)
        data = WindowData(trace, summary)
        if stream.launch_edge is not None:
            self._launch_edges[id(data)] = stream.launch_edge
        if forced_at is not None:
            self._forced_at[id(data)] = forced_at
        return data

    def _scope_means(self) -> dict[str, float | InstrumentError]:
        a = self.applied
        out: dict[str, float | InstrumentError] = {}
        for name, applied in (("voltage", a.voltage), ("current", a.current)):
            try:
                out[name] = self.scope.measured_mean_v(applied.channel)
            except InstrumentError as exc:
                out[name] = exc
        return out

    def _self_check(self, waves: dict[str, Waveform], means: dict[str, float],
                    scope_means: dict[str, float | InstrumentError]) -> dict:
        """The downloaded records against the scope's own account of the same acquisition (docs/method.md,
        "Check against the instrument itself"); a disagreement stops the capture with both values named."""
        a = self.applied
        out = {}
        for name, applied in (("voltage", a.voltage), ("current", a.current)):
            full_scale = self.scope.vertical_divisions * applied.volts_per_div
            scope_mean = scope_means[name]
            if isinstance(scope_mean, InstrumentError):
                raise scope_mean
            out[name] = self.scope.self_check(applied.channel, waves[name], a.acquisition.window_s, full_scale,
                                              mean_downloaded_v=means[name], mean_scope_v=scope_mean)
        return out

    def _sample_windows(self, run, n: int, windows: list[WindowData], worker: threading.Thread,
                        live: RunLive) -> None:
        """More windows inside [begin, end]: none before `begin` is seen, none once `end` is; spread over the
        run by its expected length (progress events, else expected_duration_s), else at widening gaps."""
        k_total = self.req.windows
        window_s = self.applied.acquisition.window_s
        pre = self.req.bench.acquisition.pretrigger
        k = 1
        while worker.is_alive() and not live.end_seen:
            self._check_cancel()
            begin, clock = live.begin_s, live.clock()
            if begin is None or clock is None:
                live.changed.wait(0.05)
                live.changed.clear()
                continue
            t_est, basis = live.estimated_duration_s()
            plan = plan_window(k, k_total, begin, window_s, pre, t_est)
            if plan is None:
                return
            left = live.time_left_s()
            self._report("sampling window", self._run_fraction(n, 0.3 + 0.5 * (live.fraction_done() or 0.0)),
                         f"run {n}: sampled window {k} ({plan.basis})"
                         + (f", about {left:.0f} s left" if left is not None else ""), n)
            # the trigger is forced pretrigger·W after arming: arm that much before the planned instant
            arm_at = clock.offset_s + plan.board_time_s - pre * window_s - ARM_SETTLE_S
            if time.monotonic() < arm_at:
                live.changed.clear()
                live.changed.wait(min(0.1, arm_at - time.monotonic()))
                continue                     # re-plan: a progress event may have moved the estimate
            self.scope.arm_single(self.req.bench.current.channel, trigger_level_v(self.req.bench))
            time.sleep(pre * window_s + ARM_SETTLE_S)
            if live.end_seen or not worker.is_alive():
                log.info("run %d: the workload ended before sampled window %d; none is taken past the end", n, k)
                self.scope.stop()
                return
            forced_at = time.monotonic()
            self.scope.force_trigger()
            self.scope.wait_complete(window_s * 2 + 10, self.cancel)
            windows.append(self._fetch_window(run, n, k + 1, 0.3 + 0.5 * (live.fraction_done() or 0.0),
                                              forced_at=forced_at))
            k += 1

    @staticmethod
    def _run_attrs(res: RunResult | None) -> dict[str, Any]:
        if res is None:
            return {}
        duration, source = res.duration_s()
        return {"duration_s": duration, "duration_source": source, "ops": res.protocol.ops,
                "exit_status": res.exit_status, "stdout": res.stdout[-1_000_000:], "stderr": res.stderr[-1_000_000:],
                "events": res.events, "result": res.protocol.result, "board_start_s": res.board_start_s,
                "board_end_s": res.board_end_s, "launcher_reason": res.reason,
                "launcher_started_s": res.launcher_started_s, "markers": res.markers,
                "protocol_warnings": res.protocol.warnings + res.launcher_warnings}

    def _timing(self, res: RunResult | None, live: RunLive, partial: bool = False) -> RunTiming | None:
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

    def _analyse(self, windows: list[WindowData], timing: RunTiming, ops, live: RunLive,
                 idle_window, partial: bool = False):
        bench = self.req.bench
        first = windows[0]
        marker_region = None
        if bench.marker is not None:
            rise, fall = self._marker_region(first)
            if rise is None:
                raise AnalysisError("the marker channel shows no rising edge in the first window although the "
                                    "scope triggered on it; check marker.threshold_v and the wiring")
            placement = Placement(timing.begin_s - rise, "marker", first.trace.dx / math.sqrt(3))
            marker_region = (rise, fall)
        elif timing.launch_s is not None:
            placement = self._placement_for(first, timing.launch_s)
        else:
            raise AnalysisError("the launcher reported no start stamp, so the run cannot be placed on the scope's "
                                "time axis; check that the launcher runs on the board (python3 present)")
        clock = live.clock()
        steady = []
        for w in windows[1:]:
            forced = self._forced_at.get(id(w))
            at = clock.board(forced) if clock is not None and forced is not None else None
            steady.append(WindowData(w.trace, w.summary, at))
        a = self.applied
        v_set = ChannelSettings(a.voltage.volts_per_div, a.voltage.probe_ratio, a.voltage.offset_v)
        i_set = ChannelSettings(a.current.volts_per_div, a.current.probe_ratio, a.current.offset_v,
                                zeroed=bench.current.zero_offset_v is not None)
        return analyse_run(first, timing, ops=ops, unc=bench.uncertainty, steady=steady, placement=placement,
                           voltage=v_set, current=i_set, idle_window=idle_window, marker_region_s=marker_region,
                           partial=partial)

    def _placement_for(self, first: WindowData, launch_s: float) -> Placement:
        """The launch edge of the first window (one search, however often it is asked for)."""
        key = (id(first), launch_s)
        if getattr(self, "_placement_cache", (None,))[0] != key:
            edge = self._launch_edges.get(id(first))
            self._placement_cache = (key, place_by_launch(first.trace, launch_s, edge))
        return self._placement_cache[1]

    def _marker_region(self, first: WindowData) -> tuple[float | None, float | None]:
        wave = getattr(self, "_marker_wave", None)
        if wave is None:               # EXT: the trigger is the rise; the fall is not recorded
            return 0.0, None
        return marker_edges_s(wave.volts(), wave.x_origin, wave.x_increment, self.req.bench.marker.threshold_v)

    def _partial_record(self, n: int, windows, res, live: RunLive, idle_window) -> dict | None:
        """A cancelled run's estimate over what was captured, marked partial (None when nothing can be said)."""
        self._last_details = None
        if not windows:
            return None
        timing = self._timing(res, live, partial=True)
        if timing is None:
            return None
        try:
            result = self._analyse(windows, timing, None, live, idle_window, partial=True)
        except JoulebenchError as exc:
            log.info("run %d: no partial estimate: %s", n, exc)
            return None
        result.warnings.insert(0, f"cancelled by the operator after {timing.duration_s:.4g} s of the measured "
                                  "region: this is an estimate over what was captured")
        self._last_details = result.details()
        return {"run": n, **result.record()}

    def _settle_run(self, run, n: int, res: RunResult | None, outcome: CaptureOutcome, live: RunLive | None = None):
        """The run's attributes, output lines with their board times, and telemetry stored; (attrs, samples)
        when the workload succeeded, else the run is finished as incomplete or failed with its reason and None
        is returned."""
        attrs = self._run_attrs(res)
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

    def _finish_run(self, run, n: int, windows: list[WindowData], res: RunResult | None, outcome: CaptureOutcome,
                    live: RunLive, idle_window, label: str = ""):
        settled = self._settle_run(run, n, res, outcome, live)
        if settled is None:
            return None
        attrs, samples = settled
        timing = self._timing(res, live)
        try:
            if timing is None:
                raise AnalysisError("the run's duration is unknown: the workload printed no usable begin/end "
                                    "events and the launcher reported no stamps")
            result = self._analyse(windows, timing, res.protocol.ops, live, idle_window)
        except AnalysisError as exc:
            run.finish(attrs, status="failed", reason=str(exc))
            outcome.fail(n, str(exc))
            return None
        record = {"run": n, **result.record()}
        if label:
            record["label"] = label
        details = result.details()
        details["timing"] = {"begin_s": timing.begin_s, "end_s": timing.end_s, "launch_s": timing.launch_s,
                             "launcher_started_s": timing.launcher_started_s, "exit_s": timing.exit_s,
                             "duration_source": timing.duration_source}
        rail = tele.input_rail(samples)
        if rail and timing.begin_s is not None and timing.end_s is not None:
            e_tel = tele.energy_j(samples, rail, timing.begin_s, timing.end_s)
            if e_tel is not None:
                record["telemetry_energy_j"] = e_tel
                record["telemetry_vs_shunt_pct"] = 100.0 * (e_tel - result.energy_j) / result.energy_j \
                    if result.energy_j else None
                details["telemetry_rail"] = rail
            e_counter = tele.counter_energy_j(samples, rail, timing.begin_s, timing.end_s)
            if e_counter is not None:
                record["telemetry_counter_energy_j"] = e_counter
                record["telemetry_counter_vs_shunt_pct"] = 100.0 * (e_counter - result.energy_j) / result.energy_j \
                    if result.energy_j else None
        run.finish(attrs, record=record, details=details)
        self.last_details = details
        self.last_attrs = attrs
        self._report("analysing", self._run_fraction(n, 1.0),
                     f"run {n}: {result.energy_j:.4g} J ({result.energy_method}, {timing.duration_s:.4g} s)", n)
        return record
