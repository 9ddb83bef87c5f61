"""A run's result from its windows (part of Capture): [begin, end] placed on the scope's axis (the launch edge
or the marker), the analysis, a cancelled run's partial estimate, and the finished run's record with its
telemetry beside the shunt. Works on Capture's state: req, applied, live and the windows' arrival facts. No Qt."""

from __future__ import annotations

import logging
import math

from app.capture.context import CaptureOutcome
from app.capture.live_run import RunLive
from app.errors import AnalysisError, JoulebenchError
from app.measure.analysis import (
    LAUNCH_GUARD_MIN_S,
    MIN_IDLE_S,
    ChannelSettings,
    RunTiming,
    WindowData,
    analyse_run,
)
from app.measure.region import Placement, marker_edges_s, place_by_launch
from workloads import telemetry as tele
from workloads.target import RunResult

log = logging.getLogger(__name__)


class RunAnalysis:
    """The analysis side of a run, mixed into Capture."""

    def _pretrigger_idle_ok(self, first: WindowData, result_box: dict) -> bool:
        res = result_box.get("r")
        if res is None or res.board_start_s is None:
            return True
        placement = self._placement_for(first, res.board_start_s)
        launch_scope = placement.scope_time(res.board_start_s)
        startup = res.board_start_s - (res.launcher_started_s or res.board_start_s)
        guard = max(LAUNCH_GUARD_MIN_S, 2 * startup)
        return launch_scope - guard - first.trace.t_first >= max(MIN_IDLE_S, 20 * first.trace.dx)

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
        self.report("analysing", self.run_fraction(n, 1.0),
                     f"run {n}: {result.energy_j:.4g} J ({result.energy_method}, {timing.duration_s:.4g} s)", n)
        return record
