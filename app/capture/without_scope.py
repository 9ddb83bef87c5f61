"""One run of a bench without a scope (scope.resource = "none"): the workload runs with the board's telemetry
sampled by the launcher, and the energy over [begin, end] comes from that telemetry alone, labelled with its
source and fidelity (app/measure/telemetry_energy.py). No Qt here.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from app.capture.context import NO_DURATION, failure_message
from app.capture.live_run import RunLive
from app.errors import AnalysisError
from app.measure.telemetry_energy import IdleBaseline, estimate, idle_baseline
from app.measure.units import units_record
from instruments.errors import CancelledError
from workloads import telemetry as tele
from workloads.target import RunResult

if TYPE_CHECKING:
    from app.capture.context import CaptureOutcome, PlannedRun, RunContext
    from app.session.writer import RunWriter, SessionWriter

log = logging.getLogger(__name__)
IDLE_WINDOW_S = 3.0        # NVML read while nothing runs, before each launch: the GPUs' idle power


def read_idle(target, telemetry, cancel: threading.Event) -> IdleBaseline | None:
    """The GPUs' idle power: NVML sampled by the launcher around `sleep IDLE_WINDOW_S` (nothing of the
    workload runs). None when NVML is not sampled or gave too few readings."""
    if telemetry is None or not getattr(telemetry, "nvml", False) or IDLE_WINDOW_S <= 0:
        return None
    res = target.run(f"sleep {IDLE_WINDOW_S:g}", timeout_s=IDLE_WINDOW_S + 30, cancel=cancel, telemetry=telemetry)
    idle = idle_baseline(tele.samples_from_launcher(res.telemetry))
    if idle is None:
        log.warning("the NVML idle window gave too few readings; no idle power for this run")
    return idle


def no_telemetry_advice(mode: str, facts: dict[str, Any]) -> str:
    """Why a scope-less bench has nothing to measure with, from the board's facts."""
    seen = []
    if facts.get("ina3221_hwmon"):
        seen.append("INA3221 hwmon")
    if facts.get("tegrastats"):
        seen.append("tegrastats")
    if facts.get("nvidia_gpus"):
        seen.append("NVIDIA GPUs (" + ", ".join(facts["nvidia_gpus"]) + ")")
    found = ", ".join(seen) if seen else "no INA3221 hwmon tree, no tegrastats and no NVIDIA GPU (nvidia-smi)"
    return (f'scope.resource is "none", so the energy must come from the board\'s telemetry, but target.telemetry '
            f'= "{mode}" finds nothing to read: the board shows {found}. Set target.telemetry to a source the '
            "board has, or connect a scope.")


def run_without_scope(cap: "RunContext", writer: "SessionWriter", n: int, item: "PlannedRun", telemetry,
                      outcome: "CaptureOutcome") -> dict | None:
    """Run the workload, follow it to its end, and analyse its telemetry over [begin, end]."""
    spec = item.workload
    run = writer.begin_run({"command": item.command, "label": item.label, "workload": spec.name,
                            "params": {**spec.params, **item.params}, "scored": item.scored,
                            "energy_source": "telemetry"})
    live = RunLive(spec.expected_duration_s)
    cap.live = live
    result_box: dict[str, RunResult] = {}
    run_cancel = threading.Event()
    worker: threading.Thread | None = None
    target = cap.target
    try:
        if cap.req.bench.target.setup:
            cap.report("setup", cap.run_fraction(n, 0.0), "running the setup commands", n)
            target.run_setup(cap.req.bench.target.setup, cancel=cap.cancel)

        cap.report("setup", cap.run_fraction(n, 0.0), f"reading the GPUs' idle power ({IDLE_WINDOW_S:g} s)", n)
        idle = read_idle(target, telemetry, run_cancel)

        def work():
            result_box["r"] = target.run(item.command, timeout_s=spec.timeout_s, on_line=live.tee(cap.on_line),
                                         on_event=live.on_event, cancel=run_cancel, telemetry=telemetry)
        worker = threading.Thread(target=work, name=f"workload-run-{n}", daemon=True)
        worker.start()
        while worker.is_alive():
            if cap.cancel.is_set():
                run_cancel.set()
                raise CancelledError("cancelled by the operator")
            left = live.time_left_s()
            cap.report("running", cap.run_fraction(n, 0.05 + 0.9 * (live.fraction_done() or 0.0)),
                        f"run {n}: the workload runs (no scope: telemetry only)"
                        + (f", about {left:.0f} s left" if left else ""), n)
            worker.join(0.2)
    except BaseException as exc:
        run_cancel.set()
        if worker is not None:
            worker.join(30)
        res = result_box.get("r")
        if res is not None:
            run.set_telemetry(tele.samples_from_launcher(res.telemetry))
        reason = "cancelled by the operator" if isinstance(exc, CancelledError) \
            else failure_message(exc, cap.req.out_dir)
        run.finish(cap.run_attrs(res), status="incomplete", reason=reason)
        raise
    return _finish(cap, run, n, result_box.get("r"), outcome, live, item, idle)


def _finish(cap: "RunContext", run: "RunWriter", n: int, res: RunResult | None, outcome: "CaptureOutcome",
            live: RunLive, item: "PlannedRun", idle: IdleBaseline | None) -> dict | None:
    label = item.label
    settled = cap.settle_run(run, n, res, outcome, live)
    if settled is None:
        return None
    attrs, samples = settled
    timing = cap.timing(res, live)
    try:
        if timing is None or timing.begin_s is None or timing.end_s is None:
            raise AnalysisError(NO_DURATION)
        est = estimate(samples, timing.begin_s, timing.end_s, launch_s=timing.launch_s, exit_s=timing.exit_s,
                       info=tele.nvml_info(res.telemetry), idle=idle)
        record = {"run": n, **est.record(res.protocol.ops)}
        record.update(units_record(res.protocol, est.energy_j, est.uncertainty_j, est.duration_s,
                                   coverage_k=est.coverage_k, spec=item.workload, params=item.params,
                                   energy_between=est.between, dynamic_energy_j=record["dynamic_energy_j"]))
    except AnalysisError as exc:
        warnings = "; ".join(res.launcher_warnings)
        reason = str(exc) + (f" (launcher: {warnings})" if warnings else "")
        run.finish(attrs, status="failed", reason=reason)
        outcome.fail(n, reason)
        return None
    if timing.duration_source != "events":
        record["warnings"].append("timed by the launcher around the whole command (the workload printed no "
                                  "begin/end events): start-up and teardown are included")
    warn_above = cap.req.bench.uncertainty.warn_above
    if est.uncertainty_j > warn_above * est.energy_j:
        record["warnings"].append(f"the expanded uncertainty is {100 * est.uncertainty_j / est.energy_j:.2g} % "
                                  f"(above uncertainty.warn_above = {100 * warn_above:g} %)")
    if label:
        record["label"] = label
    details = est.details()
    details["timing"] = {"begin_s": timing.begin_s, "end_s": timing.end_s, "launch_s": timing.launch_s,
                         "launcher_started_s": timing.launcher_started_s, "exit_s": timing.exit_s,
                         "duration_source": timing.duration_source}
    run.finish(attrs, record=record, details=details)
    cap.report("analysing", cap.run_fraction(n, 1.0),
                f"run {n}: {est.energy_j:.4g} J from {est.measurand} (no scope; {est.duration_s:.4g} s)", n)
    return record
