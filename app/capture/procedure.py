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

import logging
import threading
import time
from typing import Any, Callable

from app.bench.connections import (
    acquisition_setup,
    channel_setup,
    make_target,
    marker_setup,
    open_bench_scope,
)
from app.capture.context import (
    CaptureFailed,
    CaptureOutcome,
    CaptureRequest,
    PlannedRun,
    Progress,
    RunContext,
    check_free_space,
    check_output_dir,
    failure_message,
    session_filename,
)
from app.capture.live_run import RunLive
from app.capture.run_analysis import RunAnalysis
from app.capture.windows import ARM_SETTLE_S, WindowTaking
from app.capture.without_scope import no_telemetry_advice, run_without_scope
from app.errors import AnalysisError, JoulebenchError
from app.measure.analysis import (
    WindowData,
)
from app.session.writer import SessionWriter
from app.system.heap import release_free_memory
from instruments.errors import CancelledError
from instruments.scope import Applied, Scope
from instruments.waveform import Waveform
from workloads import telemetry as tele
from workloads.errors import WorkloadError
from workloads.target import RunResult

__all__ = ["Capture", "CaptureFailed", "CaptureOutcome", "CaptureRequest", "PlannedRun", "Progress"]

log = logging.getLogger(__name__)


class Capture(RunContext, WindowTaking, RunAnalysis):
    """A capture of one bench: the scope and target connected, each planned run captured and analysed, the
    session saved."""


    def __init__(self, request: CaptureRequest, *, progress: Callable[[Progress], None] | None = None,
                 on_line: Callable[[str, str], None] | None = None, cancel: threading.Event | None = None):
        super().__init__(request, progress=progress, on_line=on_line, cancel=cancel)
        self.scope: Scope | None = None
        self.applied: Applied | None = None
        self._forced_at: dict[int, float] = {}       # id(WindowData) -> desktop instant its trigger was forced
        self._marker_wave: Waveform | None = None
        self._last_details: dict | None = None
        self.writer: SessionWriter | None = None
        self.last_windows: list[WindowData] = []    # the windows of the run just finished (a campaign's ranging)
        self.last_details: dict | None = None       # and its analysis details and attributes (the app's review)
        self.last_attrs: dict | None = None

    # -- the procedure ------------------------------------------------------------
    def run(self) -> CaptureOutcome:
        req = self.req
        bench = req.bench
        plan = req.runs()
        self.plan = plan
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
        for item in plan:
            _ = item.command             # an unknown --param name is refused here, before anything is connected
        check_output_dir(req.out_dir)
        check_free_space(req.out_dir, bench, plan, req.windows)
        try:
            if bench.has_scope:
                self.report("connecting scope", 0.0, f"opening {bench.scope.resource}")
                self.scope = open_bench_scope(bench)
                self.check_cancel()
                self.report("configuring", 0.03, f"{self.scope.idn} ({self.scope.driver_name})")
                self.applied = self.scope.configure(channel_setup(bench.voltage), channel_setup(bench.current),
                                                    acquisition_setup(bench), extra=marker_setup(bench))
                self.check_cancel()
            self.report("connecting target", 0.05, f"connecting to {bench.target.kind} target")
            self.target = make_target(bench, req.password)
            self.target.connect()
            self.check_cancel()                    # each phase honours a cancel as soon as it returns
            facts = self.target.facts()
            files = list({f.name: f for spec in specs for f in spec.files}.values())
            self.report("uploading", 0.08, f"uploading {', '.join(p.name for p in files) or 'nothing'}")
            self.target.upload(files)
            self.check_cancel()
            telemetry = tele.options_for(bench.target.telemetry, facts)
            if telemetry is None and not bench.has_scope:
                raise AnalysisError(no_telemetry_advice(bench.target.telemetry, facts))
            req.out_dir.mkdir(parents=True, exist_ok=True)
            writer = self._open_session(facts, plan[0].command)
            self.writer = writer
            outcome.session_path = writer.path
            for n, item in enumerate(plan, 1):
                self.check_cancel()
                if req.before_run is not None:
                    req.before_run(self, n, item)
                if bench.has_scope:
                    record = self._one_run(writer, n, item, telemetry, outcome)
                else:
                    record = run_without_scope(self, writer, n, item, telemetry, outcome)
                if record is not None and item.scored:
                    outcome.runs.append(record)
                if req.after_run is not None:
                    req.after_run(self, n, item, record)
            outcome.complete = not outcome.failed_runs
            if outcome.failed_runs:
                writer.mark_incomplete("run(s) " + ", ".join(map(str, outcome.failed_runs)) + " did not complete: "
                                       + "; ".join(f"run {k}: {v}" for k, v in outcome.failures.items()))
            self.report("saving", 1.0, f"saving {writer.path.name}")
            writer.close()
            return outcome
        except BaseException as exc:
            # any failure, ours or not (an h5py error on a full disk, a bug), closes the session with what was
            # captured; a second Ctrl-C (KeyboardInterrupt) too, and then goes on as an interrupt
            message = failure_message(exc, req.out_dir)
            outcome.error = message
            if writer is not None:
                writer.mark_incomplete(message)
                try:
                    writer.close()
                except JoulebenchError as close_exc:
                    outcome.error += f" (and saving failed: {close_exc})"
            if not isinstance(exc, Exception):
                raise
            raise CaptureFailed(outcome.error, outcome) from exc
        finally:
            self._disconnect()
            release_free_memory()        # what the capture's threads freed goes back to the system (app/system/heap.py)

    def _disconnect(self) -> None:
        """Stop and close both ends whatever state they are in: a download cancelled midway leaves the VISA
        session closed, and its library's own error must not replace the capture's outcome."""
        scope, self.scope = self.scope, None
        target, self.target = self.target, None
        for what, step in (("stop the scope", scope and scope.stop), ("close the scope", scope and scope.close),
                           ("close the target", target and target.close)):
            if step:
                try:
                    step()
                except Exception as exc:       # noqa: BLE001 - the capture's own outcome is what is reported
                    log.info("could not %s: %s: %s", what, type(exc).__name__, exc)

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
        self.live = live
        try:
            if bench.target.setup:
                self.report("setup", self.run_fraction(n, 0.0), "running the setup commands", n)
                target.run_setup(bench.target.setup, cancel=self.cancel)
            if acq.idle == "window" or (acq.idle == "auto" and bench.marker is not None):
                idle_window = (self._idle_window(run, n, "before"), "before")
            self.report("arming", self.run_fraction(n, 0.02), f"run {n}: arming the scope", n)
            self._arm_for_run()
            time.sleep(acq.pretrigger * self.applied.acquisition.window_s + ARM_SETTLE_S)   # pre-trigger fills
            marker = (bench.marker.high, bench.marker.low) if bench.marker is not None else None

            def work():
                live.exec_sent_s = time.monotonic()        # the clock map's lower bound (docs/method.md)
                result_box["r"] = target.run(command, timeout_s=spec.timeout_s, on_line=live.tee(self.on_line),
                                             on_event=live.on_event, cancel=run_cancel, telemetry=telemetry,
                                             marker=marker)
            worker = threading.Thread(target=work, name=f"workload-run-{n}", daemon=True)
            worker.start()
            self.report("waiting for trigger", self.run_fraction(n, 0.05), f"run {n}: waiting for the trigger", n)
            self._wait_trigger(n, worker)
            windows.append(self._fetch_window(run, n, 1, 0.1, with_marker=True))
            if worker.is_alive() and req.windows > 0:
                self._sample_windows(run, n, windows, worker, live)
            while worker.is_alive():
                if self.cancel.is_set():          # stop the board's process, then keep what was captured
                    run_cancel.set()
                    raise CancelledError("cancelled by the operator")
                left = live.time_left_s()
                done = live.fraction_done()
                self.report("running", self.run_fraction(n, 0.3 + 0.5 * (done or 0.0)),
                             f"run {n}: waiting for the workload" + (f", about {left:.0f} s left" if left else ""), n)
                worker.join(0.2)
            if acq.idle == "auto" and idle_window is None and not self._pretrigger_idle_ok(windows[0], result_box):
                idle_window = (self._idle_window(run, n, "after"), "after")
        except BaseException as exc:
            run_cancel.set()
            if worker is not None:
                worker.join(30)
            res = result_box.get("r")
            reason = "cancelled by the operator" if isinstance(exc, CancelledError) \
                else failure_message(exc, req.out_dir)
            record = self._partial_record(n, windows, res, live, idle_window) \
                if isinstance(exc, CancelledError) else None
            if record is not None:
                outcome.runs.append(record)
            run.finish(self.run_attrs(res), status="incomplete", reason=reason,
                       record=record, details=self._last_details)
            raise
        res = result_box.get("r")
        self.last_windows = windows
        return self._finish_run(run, n, windows, res, outcome, live, idle_window, label=item.label)
