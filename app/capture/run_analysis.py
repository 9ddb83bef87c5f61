"""A run's result from its windows (part of Capture): [begin, end] placed on the scope's axis (the launch edge
or the marker), the analysis, a cancelled run's partial estimate, and the finished run's record with its
telemetry beside the shunt. Works on Capture's state: req, applied, live and the windows' arrival facts. No Qt."""

from __future__ import annotations

import logging
import math
from dataclasses import replace

from app.capture.context import NO_DURATION, CaptureOutcome
from app.capture.live_run import RunLive
from app.capture.windows import TriggerStamps
from app.errors import AnalysisError, JoulebenchError
from app.measure.alignment import (
    AlignmentInputError,
    BoardEvent,
    CoarseBound,
    check_events,
    place,
    trigger_bound,
)
from app.measure.analysis import (
    LAUNCH_GUARD_MIN_S,
    MIN_IDLE_S,
    ChannelSettings,
    RunTiming,
    WindowData,
    analyse_run,
)
from app.measure.region import Placement, marker_edges_s
from app.measure.telemetry_energy import compare_with_shunt
from app.measure.units import trace_energy_between, units_record
from workloads.target import MARKER_EVENT, RunResult

log = logging.getLogger(__name__)
MARKER_SHARE_WARN = 0.01       # a marker command longer than this share of the run is warned about
MARKER_EDGE_S = 1e-4           # slack on a marker-stamp bound (the edge's own sample and threshold)
LATENCY_WIDENING = 5.0         # with no confirmed placement, the completion-latency allowance is widened this much


def board_events(timing: RunTiming, live: RunLive) -> list[BoardEvent]:
    """The run's board events the placement can use: the exec, begin, end, the workload's phase events (each
    stamped at a change of load) and the process's exit."""
    events = []
    if timing.launch_s is not None:
        events.append(BoardEvent("exec", timing.launch_s, "exec"))
    if timing.duration_source.startswith("events"):
        if timing.begin_s is not None:
            events.append(BoardEvent("begin", timing.begin_s, "anchor"))
        if timing.end_s is not None:
            events.append(BoardEvent("end", timing.end_s, "anchor"))
    k = 0
    for _, ev in list(live.arrivals):
        if ev.event == "phase":
            k += 1
            events.append(BoardEvent(f"phase {k}", ev.t, "anchor"))
    if timing.exit_s is not None:
        events.append(BoardEvent("exit", timing.exit_s, "exit"))
    return events


def run_span_bound(timing: RunTiming) -> CoarseBound:
    """Without the clocks' bound: the trigger came while the run went on (from the launcher's first instant to
    the exit), the only thing known about it."""
    starts = [t for t in (timing.launcher_started_s, timing.launch_s, timing.begin_s) if t is not None]
    ends = [t for t in (timing.exit_s, timing.end_s, timing.begin_s) if t is not None]
    lo, hi = min(starts), max(ends)
    return CoarseBound(lo, max(hi, lo), {"run_span_s": max(hi, lo) - lo})


class RunAnalysis:
    """The analysis side of a run, mixed into Capture."""

    def _pretrigger_idle_ok(self, first: WindowData, result_box: dict) -> bool:
        res = result_box.get("r")
        if res is None or res.board_start_s is None or self.live is None:
            return True
        timing = self.timing(res, self.live)
        if timing is None or timing.launch_s is None:
            return True
        placement = self._placement_for(first, timing, self.live)
        launch_scope = placement.scope_time(res.board_start_s)
        startup = res.board_start_s - (res.launcher_started_s or res.board_start_s)
        guard = max(LAUNCH_GUARD_MIN_S, 2 * startup) + (placement.half_width_s or 0.0)
        return launch_scope - guard - first.trace.t_first >= max(MIN_IDLE_S, 20 * first.trace.dx)

    def _analyse(self, windows: list[WindowData], timing: RunTiming, ops, live: RunLive,
                 idle_window, partial: bool = False):
        bench = self.req.bench
        first = windows[0]
        marker_region = None
        marker_warnings: list[str] = []
        if bench.marker is not None:
            rise, fall = self._marker_region(first)
            if rise is None:
                raise AnalysisError("the marker channel shows no rising edge in the first window although the "
                                    "scope triggered on it; check marker.threshold_v and the wiring")
            placement, marker_warnings = self._marker_placement(first, timing, live, rise, fall)
            marker_region = (rise, fall)
        elif timing.launch_s is not None:
            placement = self._placement_for(first, timing, live)
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
        result = analyse_run(first, timing, ops=ops, unc=bench.uncertainty, steady=steady, placement=placement,
                             voltage=v_set, current=i_set, idle_window=idle_window, marker_region_s=marker_region,
                             partial=partial)
        result.warnings.extend(marker_warnings)
        if placement.method.endswith("clock-bound"):
            result.warnings.append(f"[begin, end] rests on no edge of the record: {placement.note}")
        elif placement.method.endswith("lone-edge"):
            result.warnings.append(f"[begin, end] rests on one unconfirmed edge: {placement.note}")
        result.warnings.extend(getattr(self, "_event_problems", []))
        bound = getattr(self, "_bound_parts", None)
        if bound is not None:
            result.alignment["bound_parts_s"] = dict(bound)
        return result

    def _placement_for(self, first: WindowData, timing: RunTiming, live: RunLive) -> Placement:
        """[begin, end] without a marker: the coarse bound from the clocks, then the record's edges inside it
        (app/measure/alignment.py); one search, however often it is asked for."""
        key = (id(first), timing.launch_s, timing.begin_s, timing.end_s)
        if getattr(self, "_placement_cache", (None,))[0] != key:
            events = board_events(timing, live)
            bound, why = self._coarse_bound(first, live)
            if bound is None:
                bound = run_span_bound(timing)
                placement = place(first.trace, events, bound)
                placement = replace(placement, note=f"{placement.note}; no clock bound ({why}): searched over the "
                                                    "run's own span")
            else:
                placement = place(first.trace, events, bound,
                                  self._coarse_bound(first, live, LATENCY_WIDENING)[0])
            problems = check_events(events)
            self._event_problems = [f"the run's board events are out of order: {p}" for p in problems]
            if problems:
                placement = replace(placement, note=f"{placement.note}; " + "; ".join(problems))
            log.info("placement: %s (%s)", placement.method, placement.note)
            self._placement_cache = (key, placement)
        return self._placement_cache[1]

    def _coarse_bound(self, first: WindowData, live: RunLive, widen: float = 1.0) -> tuple[CoarseBound | None, str]:
        """The first window's trigger on the board clock, from the desktop's stamps and the clock map (with the
        scope's completion-latency allowance times `widen`)."""
        stamps: TriggerStamps | None = getattr(self, "trigger_stamps", None)
        if widen == 1.0:
            self._bound_parts = None
        if stamps is None:
            return None, "the trigger's completion was not stamped"
        trace = first.trace
        window_s = trace.t_last - trace.t_first + trace.dx
        post_s = trace.t_last + trace.dx
        try:
            bound = trigger_bound(live.clock(), stamps.done_after_s(window_s), stamps.done_s, post_s,
                                  self.scope.completion_latency_s() * widen)
        except AlignmentInputError as exc:
            return None, str(exc)
        if widen == 1.0:
            self._bound_parts = {**bound.parts_s, "half_width_s": bound.half_width_s}
        return bound, ""

    def _marker_placement(self, first: WindowData, timing: RunTiming, live: RunLive, rise: float,
                          fall: float | None) -> tuple[Placement, list[str]]:
        """With a marker: its edges bound the region (each lies between its event and the end of the marker
        command the launcher ran for it, by the launcher's own stamps); the current's edges inside that bound
        place it, else its centre with its width carried."""
        res = self._result_box_markers(live)
        warnings = []
        bounds = []
        for edge, scope_t in (("begin", rise), ("end", fall)):
            m = res.get(edge)
            if m is None or scope_t is None:
                continue
            t_event, t_cmd, took = m
            if took > MARKER_SHARE_WARN * timing.duration_s:
                warnings.append(f"the marker command for {edge} took {took * 1e3:.1f} ms, "
                                f"{took / timing.duration_s:.1%} of the run (above {MARKER_SHARE_WARN:.0%}): its "
                                "edge lies somewhere in that time; use a faster GPIO command")
            bounds.append((min(t_event, t_cmd) - scope_t, t_cmd + took - scope_t))
        if not bounds or timing.begin_s is None:
            return Placement(timing.begin_s - rise, "marker", first.trace.dx / math.sqrt(3),
                             note="the marker's rise is begin (no marker stamps)"), warnings
        lo, hi = max(b[0] for b in bounds), min(b[1] for b in bounds)
        if hi < lo:                        # the two edges disagree: keep both spans, the union
            lo, hi = min(b[0] for b in bounds), max(b[1] for b in bounds)
            warnings.append("the marker's rise and fall disagree with the launcher's stamps by more than the "
                            "commands' durations; check the marker wiring")
        bound = CoarseBound(lo - MARKER_EDGE_S, hi + MARKER_EDGE_S, {"marker_s": hi - lo})
        placement = place(first.trace, board_events(timing, live), bound)
        return replace(placement, method=f"marker, {placement.method}"), warnings

    def _result_box_markers(self, live: RunLive) -> dict[str, tuple[float, float, float]]:
        """edge -> (event t, command start t, took_s) of the marker commands the launcher reported."""
        out = {}
        for _, ev in list(live.arrivals):
            f = ev.fields
            if ev.event == MARKER_EVENT and f.get("status") == 0:
                try:
                    out.setdefault(str(f.get("edge")), (float(f["t_event"]), float(ev.t), float(f["took_s"])))
                except (KeyError, TypeError, ValueError):
                    continue
        return out

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
        timing = self.timing(res, live, partial=True)
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

    def _finish_run(self, run, n: int, windows: list[WindowData], res: RunResult | None, outcome: CaptureOutcome,
                    live: RunLive, idle_window, label: str = ""):
        settled = self.settle_run(run, n, res, outcome, live)
        if settled is None:
            return None
        attrs, samples = settled
        timing = self.timing(res, live)
        try:
            if timing is None:
                raise AnalysisError(NO_DURATION)
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
        compare_with_shunt(record, details, samples, timing.begin_s, timing.end_s, result.energy_j,
                           result.uncertainty_j, scope_resource=self.req.bench.scope.resource)
        record.update(units_record(res.protocol, result.energy_j, result.uncertainty_j, timing.duration_s,
                                   coverage_k=result.coverage_k, spec=None if self.req.plan else self.req.workload,
                                   params=self.req.params, dynamic_energy_j=result.dynamic_energy_j,
                                   energy_between=trace_energy_between(windows[0], result, timing.begin_s)))
        run.finish(attrs, record=record, details=details)
        self.last_details = details
        self.last_attrs = attrs
        self.report("analysing", self.run_fraction(n, 1.0),
                     f"run {n}: {result.energy_j:.4g} J ({result.energy_method}, {timing.duration_s:.4g} s)", n)
        return record
