"""From captured windows to a run's result (docs/method.md "What a capture is").

Only [begin, end] is measured. Its place on the first window's axis comes
from the placement (`app/measure/alignment.py`: the clocks' bound and the
record's edges inside it; `app/measure/region.py`: the Placement record and
the marker's edges), with its alignment term.

* integrated: [begin, end] fits in the first window; E = ∫ P dt over it.
* extrapolated: it does not; each window's part inside [begin, end] (a
  window that straddles an edge counts only its inside part) gives a mean
  power; E = P̄ · T, with the spread of the window means as a confidence
  interval.

Idle power comes from before the launch (the launcher's stamp on the scope
axis, minus a guard that covers the launcher's own start), or from a
dedicated idle window. Also: dynamic energy, the start-up tax (launch →
begin, end → exit), J/GOp, the uncertainty budget (`app/measure/uncertainty.py`) for
E, the dynamic energy and J/GOp, and clipping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from app.bench.config import UncertaintyConfig
from app.errors import AnalysisError
from app.measure import uncertainty as unc_mod
from app.measure.energy import (
    CLIP_WARN_FRACTION,
    PowerTrace,
    TraceSummary,
    channel_means,
    interval_stats,
)
from app.measure.region import Placement
from app.measure.uncertainty import BudgetItem, ChannelErrors, RegionMeans

MIN_IDLE_S = 0.01               # at least this much quiet time before the launch for a pre-trigger idle
LAUNCH_GUARD_MIN_S = 0.05       # idle ends at least this long before the exec stamp
MIN_WINDOW_PART = 0.5           # a sampled window counts when at least this fraction of it is inside the region


@dataclass(frozen=True)
class WindowData:
    """One captured window: its power trace, the row summary of one scan, and where it sits on the board clock."""
    trace: PowerTrace
    summary: TraceSummary
    board_at_zero_s: float | None = None      # the board time of this window's t = 0, when known


@dataclass(frozen=True)
class RunTiming:
    """The run's board-clock instants (seconds, board monotonic clock)."""
    duration_s: float                     # T: end − begin, or the launcher's stamps around the command
    duration_source: str = "events"       # "events" | "launcher"
    begin_s: float | None = None
    end_s: float | None = None
    launch_s: float | None = None         # the launcher's stamp immediately before the exec
    launcher_started_s: float | None = None   # the launcher's own first instant (its start-up precedes the exec)
    exit_s: float | None = None
    resolution_s: float = 1e-6


@dataclass(frozen=True)
class ChannelSettings:
    """A channel's applied settings, for the offset and quantisation terms."""
    volts_per_div: float
    probe_ratio: float
    offset_v: float
    zeroed: bool = False


@dataclass
class RunAnalysis:
    duration_s: float
    windows: int
    window_s: float
    avg_power_w: float
    idle_power_w: float | None
    energy_j: float
    dynamic_energy_j: float | None
    energy_method: str
    ops: float | None
    j_per_gop: float | None
    uncertainty_j: float
    clipped: bool
    warnings: list[str] = field(default_factory=list)
    power_ci95_w: float | None = None
    window_means_w: list[float] = field(default_factory=list)
    window_parts_s: list[list[float]] = field(default_factory=list)
    budget: list[BudgetItem] = field(default_factory=list)
    dynamic_budget: list[BudgetItem] = field(default_factory=list)
    clip_fraction_voltage: float = 0.0
    clip_fraction_current: float = 0.0
    coverage_k: float = 2.0
    effective_dof: float | None = None
    dynamic_uncertainty_j: float | None = None
    j_per_gop_uncertainty: float | None = None
    idle_source: str | None = None
    idle_span_s: list[float] | None = None
    launch_to_begin_j: float | None = None
    end_to_exit_j: float | None = None
    region_s: list[float] | None = None       # [begin, end] on the first window's axis
    window_spans_s: list[list[float]] = field(default_factory=list)   # each window's span, seconds from begin
    alignment: dict = field(default_factory=dict)
    partial: bool = False

    def record(self) -> dict:
        """The JSON run record of docs/command-line.md (without the run number), with the added fields."""
        return {
            "duration_s": self.duration_s, "windows": self.windows, "window_s": self.window_s,
            "avg_power_w": self.avg_power_w, "idle_power_w": self.idle_power_w,
            "energy_j": self.energy_j, "dynamic_energy_j": self.dynamic_energy_j,
            "energy_method": self.energy_method, "ops": self.ops, "j_per_gop": self.j_per_gop,
            "uncertainty_j": self.uncertainty_j, "clipped": self.clipped, "warnings": list(self.warnings),
            "dynamic_uncertainty_j": self.dynamic_uncertainty_j, "j_per_gop_uncertainty": self.j_per_gop_uncertainty,
            "coverage_k": self.coverage_k, "idle_source": self.idle_source,
            "launch_to_begin_j": self.launch_to_begin_j, "end_to_exit_j": self.end_to_exit_j,
            "alignment": self.alignment.get("method"), "partial": self.partial,
            "alignment_u_j": self.alignment.get("alignment_u_j"),
            "alignment_events": list(self.alignment.get("events") or []),
        }

    def details(self) -> dict:
        """Everything beyond the record: CI, window means and parts, budgets, spans, clip fractions."""
        return {
            "power_ci95_w": self.power_ci95_w, "window_means_w": list(self.window_means_w),
            "window_parts_s": [list(p) for p in self.window_parts_s],
            "budget": [b.as_dict() for b in self.budget],
            "dynamic_budget": [b.as_dict() for b in self.dynamic_budget],
            "effective_dof": self.effective_dof, "idle_span_s": self.idle_span_s, "region_s": self.region_s,
            "alignment": dict(self.alignment), "window_spans_s": [list(w) for w in self.window_spans_s],
            "clip_fraction_voltage": self.clip_fraction_voltage,
            "clip_fraction_current": self.clip_fraction_current,
        }


def j_per_gop(energy_j: float, ops: float | None) -> float | None:
    """Energy per 10⁹ operations; None when the operation count is unknown."""
    if ops is None:
        return None
    if not ops > 0:
        raise AnalysisError(f"the workload reported ops = {ops}; an operation count must be above 0")
    return energy_j / (ops / 1e9)


def sample_stats(values: list[float]) -> tuple[float, float | None, float | None]:
    """Mean, sample standard deviation and the half-width of the mean's 95 % interval (Student t);
    the last two are None for a single value."""
    if not values:
        raise AnalysisError("no values to average")
    k = len(values)
    mean = math.fsum(values) / k
    if k < 2:
        return mean, None, None
    s = math.sqrt(math.fsum((x - mean) ** 2 for x in values) / (k - 1))
    return mean, s, float(stats.t.ppf(0.975, k - 1)) * s / math.sqrt(k)


def mean_ci95(values: list[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95 % interval (Student t); None for one value."""
    mean, _, ci = sample_stats(values)
    return mean, ci


def idle_power_w(window: WindowData, t_end_s: float = 0.0) -> float | None:
    """Mean power over [t_first, t_end_s]; None when that holds fewer than two samples."""
    t_end = min(t_end_s, window.trace.t_last)
    if t_end - window.trace.t_first < 2 * window.trace.dx:
        return None
    return interval_stats(window.trace, window.summary, window.trace.t_first, t_end).mean_w


def _clip_warnings(windows: list[WindowData]) -> tuple[bool, float, float, list[str]]:
    cv = max(w.summary.clip_voltage for w in windows)
    ci = max(w.summary.clip_current for w in windows)
    warnings = []
    for name, frac in (("voltage", cv), ("current", ci)):
        if frac > CLIP_WARN_FRACTION:
            warnings.append(f"{name} channel clipped: {frac:.3%} of its codes sit at the ADC rails, so the energy "
                            f"is wrong; widen volts_per_div or adjust offset_v (or run Auto-range)")
    return bool(warnings), cv, ci, warnings


def _channel_errors(settings: ChannelSettings | None, gain: float, offset_bound_v: float | None, lsb_v: float,
                    zeroable: bool) -> ChannelErrors:
    if offset_bound_v is not None:           # given at the scope's input: times the probe ratio at the tip
        return ChannelErrors(gain, offset_bound_v * (settings.probe_ratio if settings else 1.0), "bench", lsb_v)
    if settings is None:
        return ChannelErrors(gain, 0.0, "not given", lsb_v)
    if zeroable and settings.zeroed:
        return ChannelErrors(gain, unc_mod.ZEROED_RESIDUAL_DIV * settings.volts_per_div, "zeroed, residual", lsb_v)
    return ChannelErrors(gain, unc_mod.datasheet_offset_v(settings.volts_per_div, settings.probe_ratio,
                                                           settings.offset_v), "data sheet", lsb_v)


def _in_region_part(w: WindowData, begin_s: float, end_s: float, margin_s: float = 0.0) -> tuple[float, float] | None:
    """The part of a window inside the region, on the window's own axis; None when it holds none. margin_s: how
    far the window's place on the board clock is uncertain (only what is inside the region wherever it lies)."""
    if w.board_at_zero_s is None:
        return w.trace.t_first, w.trace.t_last
    a = max(w.trace.t_first, begin_s - w.board_at_zero_s + margin_s)
    b = min(w.trace.t_last, end_s - w.board_at_zero_s - margin_s)
    return (a, b) if b - a >= 2 * w.trace.dx else None


def _shifted_energy(first: WindowData, b0: float, e0: float, shift: float) -> float | None:
    t = first.trace
    a, b = b0 + shift, e0 + shift
    if a < t.t_first or b > t.t_last:
        return None
    return interval_stats(t, first.summary, a, b).energy_j


ALIGN_SCAN_POINTS = 41          # shifts tried across a carried half-width


def alignment_u_j(first: WindowData, b0: float, e0: float, u_s: float, half_width_s: float | None = None) -> float:
    """The alignment's standard uncertainty in joules.

    With half_width_s (a placement known only to lie within ± it, rectangular): the largest change of E when
    [begin, end] moves anywhere in that span, divided by √3, so that the expanded term (k ≈ 2) covers the
    worst placement in the span. Otherwise: the larger change of E when [begin, end] moves by + u_s or by − u_s
    together (not half their difference: a region that fits a busy stretch exactly loses energy either way, so
    that difference is 0 while a misplacement by u_s costs ΔP·u_s)."""
    if half_width_s is not None and half_width_s > 0:
        e_0 = _shifted_energy(first, b0, e0, 0.0)
        slope = first.trace.power_at(min(max(e0, first.trace.t_first), first.trace.t_last)) \
            - first.trace.power_at(min(max(b0, first.trace.t_first), first.trace.t_last))
        worst = 0.0
        for shift in np.linspace(-half_width_s, half_width_s, ALIGN_SCAN_POINTS):
            e_s = _shifted_energy(first, b0, e0, float(shift))
            change = abs(e_s - e_0) if e_s is not None and e_0 is not None else abs(slope * shift)
            worst = max(worst, change)
        return worst / math.sqrt(3.0)
    if u_s <= 0:
        return 0.0
    e_0 = _shifted_energy(first, b0, e0, 0.0)
    hi = _shifted_energy(first, b0, e0, u_s)
    lo = _shifted_energy(first, b0, e0, -u_s)
    if hi is None or lo is None or e_0 is None:
        # at the window's edge: take P at the ends of the region as the sensitivity
        p_b, p_e = first.trace.power_at(b0), first.trace.power_at(e0)
        return abs(p_e - p_b) * u_s
    return max(abs(hi - e_0), abs(lo - e_0))


def _idle(first: WindowData, timing: RunTiming, placement: Placement, idle_window, b0: float, T: float,
          warnings: list[str]) -> tuple[float | None, str | None, list[float] | None, float]:
    """Idle power, where it came from, its span on the first window's axis, and its energy uncertainty over T."""
    trace = first.trace
    idle = idle_source = idle_span = None
    idle_u_j = 0.0
    if idle_window is not None:
        iw, where = idle_window
        st_idle = interval_stats(iw.trace, iw.summary, iw.trace.t_first, iw.trace.t_last)
        idle, idle_source = st_idle.mean_w, f"window ({where} the run)"
        idle_span = [iw.trace.t_first, iw.trace.t_last]
        idle_u_j = T * st_idle.std_w / math.sqrt(max(iw.trace.n, 1))
    elif timing.launch_s is not None and placement.method == "launch-stamp":
        # the record does not show the current leaving idle, so the launch may lie anywhere before the trigger
        # (or before the record): its pre-trigger part may hold the start-up, and is not taken as idle
        warnings.append(f"the launch is not visible in the record ({placement.note}), so its pre-trigger part "
                        "may hold the start-up and is not taken as idle")
    elif timing.launch_s is not None:
        launch_scope = placement.scope_time(timing.launch_s)
        startup = (timing.launch_s - timing.launcher_started_s) if timing.launcher_started_s is not None else 0.0
        # a placement known only within ± half_width_s may put the launch that much later
        guard = max(LAUNCH_GUARD_MIN_S, 2.0 * max(startup, 0.0)) + (placement.half_width_s or 0.0)
        t_end = min(launch_scope - guard, b0)
        if t_end - trace.t_first >= max(MIN_IDLE_S, 20 * trace.dx):
            st_idle = interval_stats(trace, first.summary, trace.t_first, t_end)
            idle, idle_source, idle_span = st_idle.mean_w, "pretrigger", [trace.t_first, t_end]
            idle_u_j = T * st_idle.std_w / math.sqrt(max(1, round((t_end - trace.t_first) / trace.dx)))
    else:
        t_end = min(b0, 0.0) - max(2 * trace.dx, 0.01 * max(0.0, -trace.t_first))
        if t_end - trace.t_first >= 2 * trace.dx:
            st_idle = interval_stats(trace, first.summary, trace.t_first, t_end)
            idle, idle_source, idle_span = st_idle.mean_w, "pretrigger", [trace.t_first, t_end]
            idle_u_j = T * st_idle.std_w / math.sqrt(max(1, round((t_end - trace.t_first) / trace.dx)))
    if idle is None:
        warnings.append("no quiet time before the launch in the record: idle power and dynamic energy are unknown; "
                        'raise acquisition.pretrigger, or set acquisition.idle = "window"')

    return idle, idle_source, idle_span, idle_u_j


def _startup_tax(first: WindowData, timing: RunTiming, placement: Placement, method: str, b0: float,
                 e0: float) -> tuple[float | None, float | None]:
    """Energy from the launch to `begin`, and from `end` to the process's exit, where the record holds them."""
    trace = first.trace
    launch_to_begin = end_to_exit = None
    if timing.launch_s is not None and timing.begin_s is not None:
        a = placement.scope_time(timing.launch_s)
        if trace.t_first <= a < b0 <= trace.t_last:
            launch_to_begin = interval_stats(trace, first.summary, a, b0).energy_j
    if timing.exit_s is not None and method == "integrated":
        z = placement.scope_time(timing.exit_s)
        if e0 < z <= trace.t_last:
            end_to_exit = interval_stats(trace, first.summary, e0, z).energy_j
    return launch_to_begin, end_to_exit


def _window_spans(trace: PowerTrace, steady: list[WindowData], b0: float, begin_board: float) -> list[list[float]]:
    # where each window lies on the run's own timeline (seconds from begin), for the review's run strip
    spans = [[trace.t_first - b0, trace.t_last - b0]]
    for w in steady:
        if w.board_at_zero_s is not None:
            at = w.board_at_zero_s - begin_board
            spans.append([at + w.trace.t_first, at + w.trace.t_last])
    return spans


def _budgets(trace: PowerTrace, unc: UncertaintyConfig, voltage: ChannelSettings | None,
             current: ChannelSettings | None, means_for_u: RegionMeans, align_j: float, timing_j: float,
             spread_rel: float | None, spread_dof: float, idle_u_j: float, dynamic: float | None,
             warnings: list[str]):
    """The energy's budget and expanded uncertainty (k, ν_eff), and the dynamic energy's when there is one."""
    v_err = _channel_errors(voltage, unc.voltage_gain_error, unc.voltage_offset_error_v,
                            abs(trace.voltage.gain_v), zeroable=False)
    i_err = _channel_errors(current, unc.current_gain_error, unc.current_offset_error_v,
                            abs(trace.current.gain_v), zeroable=True)
    energy = means_for_u.energy_j
    budget = unc_mod.energy_budget(means_for_u, shunt_tolerance=unc.shunt_tolerance, voltage=v_err, current=i_err,
                                   amps_per_volt=trace.a_per_v, alignment_j=align_j, timing_j=timing_j,
                                   spread_rel=spread_rel, spread_dof=spread_dof)
    u_exp, k, dof = unc_mod.expanded(budget)
    if energy and u_exp / abs(energy) > unc.warn_above:
        top = max(budget, key=lambda b: b.u_j)
        warnings.append(f"expanded uncertainty is {u_exp / abs(energy):.2%} of the energy (above "
                        f"{unc.warn_above:.0%}); the largest term is {top.name} ({top.relative_u:.2%})")
    dyn_budget = dyn_u = None
    if dynamic is not None:
        dyn_budget = unc_mod.dynamic_budget(budget, energy, dynamic, idle_u_j)
        dyn_u, _, _ = unc_mod.expanded(dyn_budget)
    return budget, u_exp, k, dof, dyn_budget, dyn_u


def _marker_region(marker_region_s: tuple[float, float | None], placement: Placement, b0: float, T: float,
                   alignment: dict, warnings: list[str]) -> tuple[float, float]:
    """[begin, end] with a marker: its width checked against T; the region at the marker's own edges only for
    a placement that says so ("marker"), else where the placement put it."""
    rise, fall = marker_region_s
    legacy = placement.method == "marker"
    if legacy:
        b0 = rise
    e0 = b0 + T
    if fall is not None:
        width = fall - rise
        alignment["marker_width_s"] = width
        if abs(width - T) > max(2e-3, 0.01 * T):
            warnings.append(f"the marker was high for {width:.6g} s but the board's clock says T = {T:.6g} s; "
                            "check the marker wiring and threshold")
        if legacy:
            e0 = fall
    return b0, e0


def _one_window_warning(captured: int) -> str:
    """Said with what was captured: even with the default of three sampled windows, a short run may leave only
    one that holds enough of [begin, end]."""
    return (f"ONE WINDOW ONLY: of the {captured} window(s) captured, one holds enough of [begin, end], so the "
            "spread of power over the run is not measured and not in the uncertainty; a run long enough for more "
            "sampled windows (--windows) gives a confidence interval")


def analyse_run(first: WindowData, timing: RunTiming | float, *, ops: float | None, unc: UncertaintyConfig,
                steady: list[WindowData] | None = None, placement: Placement | None = None,
                voltage: ChannelSettings | None = None, current: ChannelSettings | None = None,
                idle_window: tuple[WindowData, str] | None = None, marker_region_s: tuple[float, float | None]
                | None = None, partial: bool = False) -> RunAnalysis:
    """Analyse one run.

    first: the triggered window. timing: the board's instants (a bare number is T with `begin` at the
    trigger, as with a marker). steady: windows sampled over a long run. placement: board time ↔ the first
    window's axis (default: `begin` at t = 0). idle_window: (a dedicated idle capture, "before"|"after").
    marker_region_s: the marker's (rise, fall) on the first window's axis; fall None when beyond it.
    partial: the run was cut short (cancelled); T is what was measured of it.
    """
    if not isinstance(timing, RunTiming):
        timing = RunTiming(duration_s=float(timing), begin_s=0.0, end_s=float(timing))
    T = timing.duration_s
    if T is None or not (T > 0 and math.isfinite(T)):
        raise AnalysisError(f"the run's duration is {T} s; the board reported no usable begin/end "
                            "times, so nothing can be integrated")
    steady = list(steady or [])
    trace = first.trace
    warnings: list[str] = []
    begin_board = timing.begin_s if timing.begin_s is not None else timing.launch_s
    if begin_board is None:
        begin_board = 0.0
    end_board = begin_board + T
    if placement is None:
        placement = Placement(begin_board, "given", 0.0)
    b0 = placement.scope_time(begin_board)
    e0 = b0 + T
    alignment = {"method": placement.method, "board_at_zero_s": placement.board_at_zero_s, "u_s": placement.u_s,
                 "delay_s": placement.delay_s,
                 "note": placement.note, "half_width_s": placement.half_width_s, "events": list(placement.events),
                 "residual_s": placement.residual_s,
                 "bound_s": list(placement.bound_s) if placement.bound_s is not None else None}
    if marker_region_s is not None:
        b0, e0 = _marker_region(marker_region_s, placement, b0, T, alignment, warnings)
    window_s = trace.t_last - trace.t_first
    all_windows = [first, *steady]
    clipped, clip_v, clip_i, clip_msgs = _clip_warnings(all_windows)
    warnings += clip_msgs
    spread_rel, spread_dof, ci = None, math.inf, None
    parts: list[list[float]] = []
    align_j = timing_j = 0.0

    if trace.t_first <= b0 and e0 <= trace.t_last + 1e-9 * trace.dx:
        st = interval_stats(trace, first.summary, b0, e0)
        energy, method, means = st.energy_j, "integrated", [st.mean_w]
        avg = energy / T
        parts = [[b0, e0]]
        align_j = alignment_u_j(first, b0, e0, placement.u_s, placement.half_width_s)
        mean_v, mean_a, n_samples = channel_means(trace, b0, e0)
        region_T = e0 - b0
    else:
        first_on_board = WindowData(first.trace, first.summary, placement.board_at_zero_s)
        # no measured work goes on after the process exited, whatever end it reported (the launcher's stamp)
        part_end = min(end_board, timing.exit_s) if timing.exit_s is not None and timing.exit_s > begin_board \
            else end_board
        candidates = []
        for w in [first_on_board, *steady]:
            part = _in_region_part(w, begin_board, part_end, (placement.half_width_s or 0.0) if w is first_on_board
                                   else 0.0)
            if part is not None:
                candidates.append((w, part))
        if not candidates:
            raise AnalysisError("no captured window holds any part of the measured region [begin, end]; the run "
                                "ended before a window could be taken inside it, or the trigger came too late")
        full = [(w, p) for w, p in candidates
                if p[1] - p[0] >= MIN_WINDOW_PART * (w.trace.t_last - w.trace.t_first)]
        if not full:
            longest = max(candidates, key=lambda c: c[1][1] - c[1][0])
            full = [longest]
            warnings.append(f"only {longest[1][1] - longest[1][0]:.3g} s of one window lies inside the measured "
                            "region; the mean power rests on it alone")
        means = [interval_stats(w.trace, w.summary, p[0], p[1]).mean_w for w, p in full]
        parts = [[p[0], p[1]] for _, p in full]
        avg, ci = mean_ci95(means)
        energy, method = avg * T, "extrapolated"
        if len(means) < 2:
            warnings.append(_one_window_warning(len(all_windows)))
        else:
            _, s, _ = sample_stats(means)
            spread_rel = (s / math.sqrt(len(means)) / abs(avg)) if avg else 0.0
            spread_dof = len(means) - 1
        timing_j = abs(avg) * math.sqrt(2.0) * timing.resolution_s / math.sqrt(12.0)
        vs, as_, ns = [], [], 0
        for w, p in full:
            v, a, n = channel_means(w.trace, p[0], p[1])
            vs.append(v)
            as_.append(a)
            ns += n
        mean_v, mean_a, n_samples = float(np.mean(vs)), float(np.mean(as_)), ns
        region_T = T

    alignment["alignment_u_j"] = align_j
    idle, idle_source, idle_span, idle_u_j = _idle(first, timing, placement, idle_window, b0, T, warnings)

    launch_to_begin, end_to_exit = _startup_tax(first, timing, placement, method, b0, e0)
    dynamic = None if idle is None else energy - idle * T
    budget, u_exp, k, dof, dyn_budget, dyn_u = _budgets(
        trace, unc, voltage, current, RegionMeans(energy, region_T if method == "integrated" else T, mean_v, mean_a,
                                                  n_samples),
        align_j, timing_j, spread_rel, spread_dof, idle_u_j, dynamic, warnings)
    jg = j_per_gop(energy, ops)
    spans = _window_spans(trace, steady, b0, begin_board)
    return RunAnalysis(
        duration_s=T, windows=len(all_windows), window_s=window_s, avg_power_w=avg,
        idle_power_w=idle, energy_j=energy, dynamic_energy_j=dynamic, energy_method=method, ops=ops,
        j_per_gop=jg, uncertainty_j=u_exp, clipped=clipped, warnings=warnings,
        power_ci95_w=ci, window_means_w=means, window_parts_s=parts, budget=budget,
        dynamic_budget=dyn_budget or [], clip_fraction_voltage=clip_v, clip_fraction_current=clip_i,
        coverage_k=k, effective_dof=None if math.isinf(dof) else dof, dynamic_uncertainty_j=dyn_u,
        j_per_gop_uncertainty=None if jg is None else u_exp / (ops / 1e9), idle_source=idle_source,
        idle_span_s=idle_span, launch_to_begin_j=launch_to_begin, end_to_exit_j=end_to_exit, region_s=[b0, e0],
        alignment=alignment, partial=partial, window_spans_s=spans,
    )
