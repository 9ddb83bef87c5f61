"""The capture procedure shared by the CLI and the GUI (METHOD.md "What a capture is").

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
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from app.analysis import WindowData, analyse_run, mean_ci95
from app.bench import BenchConfig
from app.connections import acquisition_setup, channel_setup, make_target, open_bench_scope, trigger_level_v
from app.energy import PowerTrace, amps_per_volt, summarise
from app.errors import AnalysisError, JoulebenchError
from app.session import SessionWriter
from instruments.errors import CancelledError, InstrumentError, TriggerTimeoutError
from instruments.scope import Applied, Scope
from instruments.waveform import Waveform
from workloads import telemetry as tele
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
    password: str | None = None


@dataclass
class CaptureOutcome:
    session_path: Path | None
    workload: str
    runs: list[dict[str, Any]]
    complete: bool
    error: str | None = None
    failed_runs: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        energies = [r["energy_j"] for r in self.runs if r.get("energy_j") is not None]
        jg = [r["j_per_gop"] for r in self.runs if r.get("j_per_gop") is not None]
        mean, ci = mean_ci95(energies) if energies else (None, None)
        return {"runs": len(self.runs), "energy_j_mean": mean, "energy_j_ci95": ci,
                "j_per_gop_mean": (sum(jg) / len(jg)) if jg else None}

    def document(self) -> dict[str, Any]:
        """The `capture --json` document of CONTRACTS.md §1."""
        return {"session": str(self.session_path) if self.session_path else None, "workload": self.workload,
                "runs": self.runs, "summary": self.summary()}


class CaptureFailed(JoulebenchError):
    """The capture stopped; what was captured is saved (see .outcome)."""

    def __init__(self, message: str, outcome: CaptureOutcome):
        super().__init__(message)
        self.outcome = outcome


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

    # -- progress ---------------------------------------------------------------
    def _report(self, stage: str, fraction: float, message: str, run: int | None = None) -> None:
        log.info("%s: %s", stage, message)
        if self._progress_cb is not None:
            self._progress_cb(Progress(stage, min(max(fraction, 0.0), 1.0), message, run))

    def _run_fraction(self, run: int, within: float) -> float:
        return 0.1 + 0.9 * ((run - 1) + within) / max(1, self.req.repeats)

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise CancelledError("cancelled by the operator")

    # -- the procedure ------------------------------------------------------------
    def run(self) -> CaptureOutcome:
        req = self.req
        bench = req.bench
        command = req.workload.render_command(req.params)
        outcome = CaptureOutcome(None, req.workload.name, [], complete=False)
        writer: SessionWriter | None = None
        try:
            self._report("connecting scope", 0.0, f"opening {bench.scope.resource}")
            self.scope = open_bench_scope(bench)
            self._check_cancel()
            self._report("configuring", 0.03, f"{self.scope.idn} ({self.scope.driver_name})")
            self.applied = self.scope.configure(channel_setup(bench.voltage), channel_setup(bench.current),
                                                acquisition_setup(bench))
            self._check_cancel()
            self._report("connecting target", 0.05, f"connecting to {bench.target.kind} target")
            self.target = make_target(bench, req.password)
            self.target.connect()
            facts = self.target.facts()
            self._report("uploading", 0.08, f"uploading {', '.join(p.name for p in req.workload.files) or 'nothing'}")
            self.target.upload(list(req.workload.files))
            telemetry = tele.options_for(bench.target.telemetry, facts)
            req.out_dir.mkdir(parents=True, exist_ok=True)
            writer = self._open_session(facts, command)
            outcome.session_path = writer.path
            for n in range(1, req.repeats + 1):
                self._check_cancel()
                record = self._one_run(writer, n, command, telemetry, outcome)
                if record is not None:
                    outcome.runs.append(record)
            outcome.complete = not outcome.failed_runs
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
        acq = a.acquisition.as_dict()
        path = req.out_dir / session_filename(req.workload.name)
        return SessionWriter(
            path, bench_toml=bench.to_toml(), resource=bench.scope.resource, scope_idn=self.scope.idn,
            scope_driver=self.scope.driver_name,
            voltage_applied={**a.voltage.as_dict(), "measured_at": bench.voltage.measured_at, **acq},
            current_applied={**a.current.as_dict(), "shunt_ohm": bench.current.shunt_ohm,
                             "amps_per_volt": bench.current.amps_per_volt, "deskew_s": bench.current.deskew_s,
                             **acq},
            target={"kind": bench.target.kind, "host": bench.target.host or "localhost", "facts": facts,
                    "description": self.target.description},
            workload={"name": req.workload.name, "toml": req.workload.toml_text, "command": command,
                      "params": {**req.workload.params, **req.params}},
            label=req.label, operator=req.operator, notes=req.notes)

    # -- one run ------------------------------------------------------------------
    def _one_run(self, writer: SessionWriter, n: int, command: str, telemetry, outcome: CaptureOutcome):
        bench, req, scope, target = self.req.bench, self.req, self.scope, self.target
        acq = bench.acquisition
        run = writer.begin_run({"command": command})
        windows: list[WindowData] = []
        result_box: dict[str, RunResult] = {}
        run_cancel = threading.Event()
        worker: threading.Thread | None = None
        try:
            if bench.target.setup:
                self._report("setup", self._run_fraction(n, 0.0), "running the setup commands", n)
                target.run_setup(bench.target.setup, cancel=self.cancel)
            self._report("arming", self._run_fraction(n, 0.02), f"run {n}: arming the scope", n)
            scope.arm_single(bench.current.channel, trigger_level_v(bench))
            time.sleep(acq.pretrigger * self.applied.acquisition.window_s + ARM_SETTLE_S)   # pre-trigger fills

            def work():
                result_box["r"] = target.run(command, timeout_s=req.workload.timeout_s, on_line=self._on_line,
                                             cancel=run_cancel, telemetry=telemetry)
            worker = threading.Thread(target=work, name=f"workload-run-{n}", daemon=True)
            started = time.monotonic()
            worker.start()
            self._report("waiting for trigger", self._run_fraction(n, 0.05), f"run {n}: waiting for the trigger", n)
            self._wait_trigger(n)
            windows.append(self._fetch_window(run, n, 1, 0.1))
            expected = req.workload.expected_duration_s
            if worker.is_alive() and req.windows > 0:
                self._sample_windows(run, n, windows, worker, started, expected)
            self._report("waiting for workload", self._run_fraction(n, 0.8), f"run {n}: waiting for the workload", n)
            while worker.is_alive():
                if self.cancel.is_set():
                    run_cancel.set()
                worker.join(0.1)
        except BaseException as exc:
            run_cancel.set()
            if worker is not None:
                worker.join(30)
            res = result_box.get("r")
            reason = "cancelled by the operator" if isinstance(exc, CancelledError) else str(exc)
            run.finish(self._run_attrs(res), status="incomplete", reason=reason)
            raise
        res = result_box.get("r")
        return self._finish_run(run, n, windows, res, outcome)

    def _wait_trigger(self, n: int) -> None:
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
            codes = np.asarray(w.codes)
            lo, hi, mean = (float(x) * w.gain_v + w.offset_v for x in (codes.min(), codes.max(),
                                                                        codes.mean(dtype=np.float64)))
            lo, hi = sorted((lo * a_per_v, hi * a_per_v))
            seen = (f"the current stayed between {lo:.4g} A and {hi:.4g} A (mean {mean * a_per_v:.4g} A), "
                    f"never rising through the trigger level of {level:.4g} A")
        except JoulebenchError as exc:
            seen = f"the current could not be measured afterwards ({exc})"
        return (f"no trigger within {bench.acquisition.trigger_timeout_s:g} s: {seen}. Set "
                "acquisition.trigger_level_a between the idle and the busy current (Auto-range proposes one), and "
                "check that the workload loads the board.")

    def _fetch_window(self, run, n: int, k: int, base: float) -> WindowData:
        bench = self.req.bench
        waves: dict[str, Waveform] = {}
        for j, (name, ch) in enumerate((("voltage", bench.voltage.channel), ("current", bench.current.channel))):
            def prog(done, total, j=j, ch=ch):
                pct = 100.0 * done / total if total else 100.0
                self._report("downloading", self._run_fraction(n, base + 0.05 * (j + done / max(total, 1))),
                             f"run {n} window {k}: downloading CH{ch} {pct:.0f} %", n)
            self._report("downloading", self._run_fraction(n, base + 0.05 * j),
                         f"run {n} window {k}: downloading CH{ch}", n)
            waves[name] = self.scope.fetch(ch, progress=prog, cancel=self.cancel)
        self._report("analysing", self._run_fraction(n, base + 0.15), f"run {n} window {k}: analysing", n)
        c, v = bench.current, bench.voltage
        try:
            trace = PowerTrace(waves["voltage"], waves["current"], shunt_ohm=c.shunt_ohm, amps_per_volt_=c.amps_per_volt,
                               measured_at=v.measured_at, deskew_s=c.deskew_s)
        except AnalysisError as exc:
            raise InstrumentError(f"the scope's two channels do not line up: {exc}") from None
        summary = summarise(trace)
        run.add_window(waves["voltage"], waves["current"], summary,
                       current_scaling={"shunt_ohm": c.shunt_ohm, "amps_per_volt": c.amps_per_volt,
                                        "deskew_s": c.deskew_s},
                       voltage_extra={"measured_at": v.measured_at},
                       attrs={"captured_at_monotonic_s": time.monotonic()})
        return WindowData(trace, summary)

    def _sample_windows(self, run, n: int, windows: list[WindowData], worker: threading.Thread, started: float,
                        expected_s: float | None) -> None:
        """K more windows over the steady part: spread by the expected duration, else back to back."""
        k_total = self.req.windows
        window_s = self.applied.acquisition.window_s
        for k in range(1, k_total + 1):
            if expected_s:
                usable = max(0.0, expected_s - 2 * window_s)
                t_plan = started + window_s + usable * k / (k_total + 1)
                while time.monotonic() < t_plan and worker.is_alive():
                    self._check_cancel()
                    time.sleep(0.05)
            if not worker.is_alive():
                break
            self._check_cancel()
            self._report("sampling window", self._run_fraction(n, 0.3 + 0.4 * k / (k_total + 1)),
                         f"run {n}: sampled window {k} of {k_total}", n)
            self.scope.arm_single(self.req.bench.current.channel, trigger_level_v(self.req.bench))
            time.sleep(self.req.bench.acquisition.pretrigger * window_s + ARM_SETTLE_S)
            self.scope.force_trigger()
            self.scope.wait_complete(window_s * 2 + 10, self.cancel)
            if not worker.is_alive():
                log.info("run %d: the workload ended during sampled window %d; the window is not used", n, k)
                break
            windows.append(self._fetch_window(run, n, k + 1, 0.3 + 0.4 * k / (k_total + 1)))

    @staticmethod
    def _run_attrs(res: RunResult | None) -> dict[str, Any]:
        if res is None:
            return {}
        duration, source = res.duration_s()
        return {"duration_s": duration, "duration_source": source, "ops": res.protocol.ops,
                "exit_status": res.exit_status, "stdout": res.stdout[-1_000_000:], "stderr": res.stderr[-1_000_000:],
                "events": res.events, "result": res.protocol.result, "board_start_s": res.board_start_s,
                "board_end_s": res.board_end_s, "launcher_reason": res.reason,
                "protocol_warnings": res.protocol.warnings + res.launcher_warnings}

    def _finish_run(self, run, n: int, windows: list[WindowData], res: RunResult | None, outcome: CaptureOutcome):
        attrs = self._run_attrs(res)
        if res is None:
            run.finish(attrs, status="incomplete", reason="the workload produced no result")
            outcome.failed_runs.append(n)
            return None
        samples = tele.samples_from_launcher(res.telemetry)
        run.set_telemetry(samples)
        duration, _ = res.duration_s()
        if not res.ok:
            why = res.reason or f"exit status {res.exit_status}"
            run.finish(attrs, status="failed", reason=f"the workload failed ({why}): {res.stderr.strip()[-500:]}")
            outcome.failed_runs.append(n)
            return None
        try:
            result = analyse_run(windows[0], duration, ops=res.protocol.ops, unc=self.req.bench.uncertainty,
                                 steady=windows[1:])
        except AnalysisError as exc:
            run.finish(attrs, status="failed", reason=str(exc))
            outcome.failed_runs.append(n)
            return None
        record = {"run": n, **result.record()}
        details = result.details()
        rail = tele.input_rail(samples)
        b, e = res.protocol.begin, res.protocol.end
        t0, t1 = (b.t, e.t) if b and e and e.t > b.t else (res.board_start_s, res.board_end_s)
        if rail and t0 is not None and t1 is not None:
            e_tel = tele.energy_j(samples, rail, t0, t1)
            if e_tel is not None:
                record["telemetry_energy_j"] = e_tel
                record["telemetry_vs_shunt_pct"] = 100.0 * (e_tel - result.energy_j) / result.energy_j
                details["telemetry_rail"] = rail
        run.finish(attrs, record=record, details=details)
        self._report("analysing", self._run_fraction(n, 1.0),
                     f"run {n}: {result.energy_j:.4g} J ({result.energy_method}, {duration:.4g} s)", n)
        return record
