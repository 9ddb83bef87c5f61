"""From captured windows to a run's result (METHOD.md).

* integrated: the measured region [start, start + T] fits in the window;
  E = ∫ P dt over it (trapezoid, float64).
* extrapolated: the run is longer than the window; E = P̄ · T where P̄ is the
  mean of the windows' mean powers, with a t-distribution 95 % interval.

Always: idle power from the pre-trigger part, gross and dynamic energy
(E − P_idle·T), J/GOp when the workload declares its operations, an
uncertainty budget (GUM, k = 2) with every contribution kept, and clipping.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from scipy import stats

from app.bench import UncertaintyConfig
from app.energy import CLIP_WARN_FRACTION, PowerTrace, TraceSummary, interval_stats
from app.errors import AnalysisError

COVERAGE_K = 2.0
UNCERTAINTY_WARN_FRACTION = 0.05   # expanded (k=2); bench gains of 1 % alone give 2.8 %, so warn well above that


@dataclass(frozen=True)
class WindowData:
    """One captured window: its power trace and the row summary of one scan."""
    trace: PowerTrace
    summary: TraceSummary


@dataclass(frozen=True)
class BudgetItem:
    name: str
    relative_u: float        # relative standard uncertainty
    u_j: float               # standard uncertainty in joules

    def as_dict(self) -> dict:
        return asdict(self)


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
    budget: list[BudgetItem] = field(default_factory=list)
    clip_fraction_voltage: float = 0.0
    clip_fraction_current: float = 0.0

    def record(self) -> dict:
        """The JSON run record of CONTRACTS.md §1 (without the run number)."""
        return {
            "duration_s": self.duration_s, "windows": self.windows, "window_s": self.window_s,
            "avg_power_w": self.avg_power_w, "idle_power_w": self.idle_power_w,
            "energy_j": self.energy_j, "dynamic_energy_j": self.dynamic_energy_j,
            "energy_method": self.energy_method, "ops": self.ops, "j_per_gop": self.j_per_gop,
            "uncertainty_j": self.uncertainty_j, "clipped": self.clipped, "warnings": list(self.warnings),
        }

    def details(self) -> dict:
        """Everything beyond the record: CI, window means, budget, clip fractions."""
        return {
            "power_ci95_w": self.power_ci95_w, "window_means_w": list(self.window_means_w),
            "budget": [b.as_dict() for b in self.budget],
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


def idle_power_w(window: WindowData, guard_s: float = 0.0) -> float | None:
    """Mean power over the pre-trigger part [t_first, -guard_s]; None without one."""
    t_end = min(-guard_s, window.trace.t_last)
    if t_end - window.trace.t_first < 2 * window.trace.dx:
        return None
    return interval_stats(window.trace, window.summary, window.trace.t_first, t_end).mean_w


def uncertainty_budget(energy_j: float, unc: UncertaintyConfig, *, duration_s: float, timing_u_s: float,
                       stat_relative_u: float | None) -> list[BudgetItem]:
    """Relative standard uncertainties, each with its share in joules."""
    items = [
        ("shunt tolerance", unc.shunt_tolerance),
        ("voltage-channel gain", unc.voltage_gain_error),
        ("current-channel gain", unc.current_gain_error),
        ("timing of T", timing_u_s / duration_s if duration_s > 0 else 0.0),
    ]
    if stat_relative_u is not None:
        items.append(("spread of window means", stat_relative_u))
    return [BudgetItem(name, rel, abs(energy_j) * rel) for name, rel in items]


def expanded_uncertainty_j(budget: list[BudgetItem]) -> float:
    return COVERAGE_K * math.sqrt(math.fsum(b.u_j ** 2 for b in budget))


def _clip_warnings(windows: list[WindowData]) -> tuple[bool, float, float, list[str]]:
    cv = max(w.summary.clip_voltage for w in windows)
    ci = max(w.summary.clip_current for w in windows)
    warnings = []
    for name, frac in (("voltage", cv), ("current", ci)):
        if frac > CLIP_WARN_FRACTION:
            warnings.append(f"{name} channel clipped: {frac:.3%} of its codes sit at the ADC rails, so the energy "
                            f"is wrong; widen volts_per_div or adjust offset_v (or run Auto-range)")
    return bool(warnings), cv, ci, warnings


def analyse_run(first: WindowData, duration_s: float, *, ops: float | None, unc: UncertaintyConfig,
                steady: list[WindowData] | None = None, region_start_s: float = 0.0,
                timing_resolution_s: float = 1e-6) -> RunAnalysis:
    """Analyse one run.

    first: the triggered window (trigger at t = 0, pre-trigger = idle).
    duration_s: T, measured on the board's clock.
    steady: further windows taken over the steady part of a long run.
    region_start_s: start of the measured region in the first window's time.
    """
    if not (duration_s > 0 and math.isfinite(duration_s)):
        raise AnalysisError(f"the run's duration is {duration_s} s; the board reported no usable begin/end "
                            "times, so nothing can be integrated")
    steady = list(steady or [])
    trace = first.trace
    # leave out the current's rise just before the trigger: 1 % of the pre-trigger part, at least 2 samples
    guard_s = max(2 * trace.dx, 0.01 * max(0.0, -trace.t_first))
    idle = idle_power_w(first, guard_s=guard_s)
    warnings: list[str] = []
    region_end = region_start_s + duration_s
    window_s = trace.t_last - trace.t_first
    all_windows = [first, *steady]
    clipped, clip_v, clip_i, clip_msgs = _clip_warnings(all_windows)
    warnings += clip_msgs

    if region_end <= trace.t_last and region_start_s >= trace.t_first:
        st = interval_stats(trace, first.summary, region_start_s, region_end)
        energy, avg, method, ci, means = st.energy_j, st.mean_w, "integrated", None, [st.mean_w]
        timing_u = math.sqrt(2.0 * (trace.dx ** 2 + timing_resolution_s ** 2) / 12.0)
        stat_rel = None
    else:
        if steady:
            means = [interval_stats(w.trace, w.summary, w.trace.t_first, w.trace.t_last).mean_w for w in steady]
        else:
            start = max(region_start_s, trace.t_first)
            if trace.t_last - start < 2 * trace.dx:
                raise AnalysisError("the window holds no part of the measured region; the trigger came too "
                                    "late or the pre-trigger fraction is too large")
            means = [interval_stats(trace, first.summary, start, trace.t_last).mean_w]
            warnings.append("one window: the spread of power over the run is not measured; capture more "
                            "windows (--windows 3 or more) for a confidence interval")
        avg, ci = mean_ci95(means)
        energy, method = avg * duration_s, "extrapolated"
        timing_u = math.sqrt(2.0 * timing_resolution_s ** 2 / 12.0)
        stat_rel = None if ci is None or avg == 0 else abs(ci / COVERAGE_K / avg)

    budget = uncertainty_budget(energy, unc, duration_s=duration_s, timing_u_s=timing_u, stat_relative_u=stat_rel)
    u_exp = expanded_uncertainty_j(budget)
    if energy and u_exp / abs(energy) > UNCERTAINTY_WARN_FRACTION:
        warnings.append(f"expanded uncertainty is {u_exp / abs(energy):.2%} of the energy (above "
                        f"{UNCERTAINTY_WARN_FRACTION:.0%}): see the uncertainty budget for the largest contribution")
    dynamic = None if idle is None else energy - idle * duration_s
    if idle is None:
        warnings.append("no pre-trigger samples: idle power and dynamic energy are unknown; set "
                        "acquisition.pretrigger above 0")
    return RunAnalysis(
        duration_s=duration_s, windows=len(all_windows), window_s=window_s, avg_power_w=avg,
        idle_power_w=idle, energy_j=energy, dynamic_energy_j=dynamic, energy_method=method, ops=ops,
        j_per_gop=j_per_gop(energy, ops), uncertainty_j=u_exp, clipped=clipped, warnings=warnings,
        power_ci95_w=ci, window_means_w=means, budget=budget,
        clip_fraction_voltage=clip_v, clip_fraction_current=clip_i,
    )
