"""Energy from on-board telemetry alone, for a bench without a scope (docs/method.md "Without a scope").

An on-board sensor is not a shunt at the board's input: it sees part of the
board (a module's input rail, one GPU), at tens of hertz, through its own
averaging. So the result names what was measured (the measurand), where it
came from (the source) and what that means (the fidelity), and its
uncertainty budget carries the sensor's own figures, each with its source:

* NVML (nvmlDeviceGetPowerUsage reference): ±5 % of the reading (stated for
  Fermi and Kepler; NVIDIA publishes no figure for later GPUs, so the same
  bound is used); on Ampere (but GA100) and newer the reading is an average
  over 1 s. The total-energy counter has 1 mJ resolution and no averaging
  window of its own, so it is preferred when present.
* INA3221 (TI data sheet SBOS576, Electrical Characteristics): gain error
  0.25 % max on the shunt and on the bus channel, offset 80 µV max on the
  shunt (16 mA on a Jetson's 5 mΩ sense resistor) and 16 mV on the bus. The
  sense resistor's own tolerance is not published by NVIDIA; 1 % (a common
  current-sense part) is assumed and named as an assumption.
* tegrastats reads the same INA3221 but prints only milliwatts, so the
  offsets are taken at the top of an Orin module's input range (20 V).

Terms (GUM; bounds are rectangular, u = a/√3):
* gain and resistor terms scale the energy;
* offsets: δE = V̄·T·δI + Ī·T·δV;
* sampling (type A): the power samples as draws of the region's power,
  u = s_P·T/√N with N − 1 degrees of freedom (not for the counter);
* each edge of [begin, end] falls between two readings Δ apart; a step
  anywhere inside moves the interpolated energy by up to |ΔP|·Δ/2;
* NVML power averaged over τ = 1 s lags a change by up to τ/2 of the step:
  a = (P_max − P_min)·τ/2 over the region and τ either side (not for the
  instantaneous field, which the launcher reads where the driver offers it);
* the NVML energy counter moves in steps of Δc (about 100 ms on an H100/H200,
  measured from the run's own readings: the median time between the updates
  they see): a reading holds the energy up to its last update, so each edge of
  the region may miss up to P_edge·Δc: a = P_edge·Δc at each edge.

With an idle window read before the launch (no scope: the launcher samples
NVML while the GPU waits), P_idle is the counter's slope over it and the
dynamic energy E − P_idle·T keeps the scale term and adds the idle reading's
own step terms, scaled by T over the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from app.errors import AnalysisError
from app.measure.analysis import j_per_gop
from app.measure.uncertainty import SQRT3, BudgetItem, expanded
from workloads import telemetry as tele

NVML_GAIN = 0.05                 # NVML reference, nvmlDeviceGetPowerUsage: ±5 % of the reading
NVML_AVERAGE_S = 1.0             # the same reference: averaged over 1 s on Ampere (but GA100) and newer
NVML_COUNTER_LSB_J = 1e-3        # nvmlDeviceGetTotalEnergyConsumption: millijoules
INA_GAIN = 0.0025                # SBOS576: shunt and bus voltage gain error, max
INA_SHUNT_OFFSET_V = 80e-6       # SBOS576: shunt offset voltage, max
INA_BUS_OFFSET_V = 0.016         # SBOS576: bus offset voltage, max
JETSON_SENSE_OHM = 0.005         # the INA3221 sense resistors on Jetson modules (docs/method.md)
SENSE_RESISTOR_TOL = 0.01        # assumed: not published
TEGRASTATS_ASSUMED_V = 20.0      # tegrastats prints no volts: offsets taken at the top of the input range
TEGRASTATS_LSB_W = 1e-3          # it prints whole milliwatts
MIN_COUNTER_UPDATES = 10         # fewer counter updates than this inside [begin, end]: a warning

FIDELITY = {
    "nvml": ("GPU only (NVML): the GPU board's own power; the CPU, memory, disks, fans and the power supply's "
             "losses are not seen. The GPU samples its power for part of each period only (published on "
             "A100/H100: about a quarter of the time), so short bursts can be missed."),
    "ina3221": ("module input rail (INA3221 on the module): the carrier board and its regulators are not seen "
                "(one published Orin soak read 29 W on VDD_IN against 37 W at the board input); sampled at "
                "tens of hertz, so short spikes are missed."),
    "tegrastats": ("module input rail (tegrastats, the INA3221 on the module, whole milliwatts): the carrier "
                   "board and its regulators are not seen (one published Orin soak read 29 W on VDD_IN against "
                   "37 W at the board input); sampled at 10 Hz or slower, so short spikes are missed."),
}
NO_SCOPE_WARNING = ("no scope was used: this energy is the on-board sensor's estimate of {measurand}, not a "
                    "measurement at the board's input")


@dataclass
class TelemetryEstimate:
    energy_j: float
    uncertainty_j: float
    coverage_k: float
    duration_s: float
    source: str                        # nvml | ina3221 | tegrastats
    method: str                        # how the energy was taken from the readings
    measurand: str                     # what the sensor sees
    rails: list[str]
    samples_in_region: int
    sample_interval_s: float
    budget: list[BudgetItem]
    effective_dof: float
    samples_energy_j: float | None = None
    counter_energy_j: float | None = None
    launch_to_begin_j: float | None = None
    end_to_exit_j: float | None = None
    warnings: list[str] = field(default_factory=list)
    counter_step_s: dict[str, float] = field(default_factory=dict)
    power_field: dict[str, str] = field(default_factory=dict)
    idle: IdleBaseline | None = None
    gpus: list[dict[str, Any]] = field(default_factory=list)
    visible_devices: str | None = None
    host_energy_j: dict[str, float] = field(default_factory=dict)
    between: Callable[[float, float], tuple[float, float] | None] | None = None   # energy over a stretch

    @property
    def idle_power_w(self) -> float | None:
        return None if self.idle is None else self.idle.total_w

    def dynamic(self) -> tuple[float, float] | None:
        """(E − P_idle·T, its expanded uncertainty): the ±5 % scales both parts alike, so it applies to the
        difference; the idle reading's and the region's counter steps add in quadrature."""
        if self.idle is None:
            return None
        dyn = self.energy_j - self.idle.total_w * self.duration_s
        step = [b.u_j for b in self.budget if b.name.startswith("energy counter update step")]
        u = math.sqrt((abs(dyn) * NVML_GAIN / SQRT3) ** 2 + (self.idle.u_w * self.duration_s) ** 2
                      + sum(x * x for x in step))
        return dyn, self.coverage_k * u

    @property
    def fidelity(self) -> str:
        return FIDELITY[self.source]

    def record(self, ops: float | None) -> dict[str, Any]:
        """The run record (the fields a scope run has, those without meaning here set to None)."""
        per_gop = j_per_gop(self.energy_j, ops)
        dyn = self.dynamic()
        return {
            "duration_s": self.duration_s, "windows": 0, "window_s": None,
            "avg_power_w": self.energy_j / self.duration_s, "idle_power_w": self.idle_power_w,
            "energy_j": self.energy_j, "dynamic_energy_j": dyn[0] if dyn else None, "energy_method": self.method,
            "ops": ops, "j_per_gop": per_gop, "uncertainty_j": self.uncertainty_j, "clipped": False,
            "warnings": list(self.warnings),
            "dynamic_uncertainty_j": dyn[1] if dyn else None,
            "j_per_gop_uncertainty": (self.uncertainty_j / self.energy_j * per_gop) if per_gop is not None
            and self.energy_j else None,
            "coverage_k": self.coverage_k,
            "idle_source": "NVML idle window before the launch" if self.idle is not None else None,
            "launch_to_begin_j": self.launch_to_begin_j, "end_to_exit_j": self.end_to_exit_j,
            "alignment": "board clock", "partial": False,
            "energy_source": f"telemetry ({self.source})", "measurand": self.measurand,
            "fidelity": self.fidelity, "telemetry_energy_j": self.samples_energy_j,
            "telemetry_counter_energy_j": self.counter_energy_j,
            "gpus": self.gpus, "visible_devices": self.visible_devices,
            "host_energy_j": self.host_energy_j or None, "host_energy_note": HOST_NOTE if self.host_energy_j else None,
            "counter_step_s": max(self.counter_step_s.values()) if self.counter_step_s else None,
            "power_field": ",".join(sorted(set(self.power_field.values()))) or None,
        }

    def details(self) -> dict[str, Any]:
        return {"budget": [b.as_dict() for b in self.budget], "dynamic_budget": [],
                "effective_dof": None if math.isinf(self.effective_dof) else self.effective_dof,
                "telemetry_rails": list(self.rails), "telemetry_samples_in_region": self.samples_in_region,
                "telemetry_sample_interval_s": self.sample_interval_s, "window_means_w": [],
                "window_parts_s": [], "idle_span_s": self.idle.duration_s if self.idle else None,
                "telemetry_gpus": self.gpus, "telemetry_counter_step_s": self.counter_step_s,
                "telemetry_power_field": self.power_field, "region_s": None, "alignment": {"method": "board clock"}}


def source_of(samples: list[dict[str, Any]]) -> str | None:
    """nvml, ina3221 (volts and amps read), tegrastats (watts only), or None for no samples."""
    if not samples:
        return None
    if any(s["rail"].startswith("NVML_GPU") for s in samples):
        return "nvml"
    rail = tele.input_rail(samples)
    if rail is None:
        return None
    return "ina3221" if any(math.isfinite(s["volts"]) for s in samples if s["rail"] == rail) else "tegrastats"


def _rail_series(samples: list[dict[str, Any]], rail: str) -> np.ndarray:
    """(time_s, watts, volts, amps, counter_j, time_span_s) rows of one rail, in time order."""
    rows = np.array([(s["time_s"], s["watts"], s["volts"], s["amps"], s.get("counter_j", math.nan),
                      s.get("time_span_s", math.nan))
                     for s in samples if s["rail"] == rail and math.isfinite(s["watts"])],
                    dtype=np.float64).reshape(-1, 6)
    return rows[np.argsort(rows[:, 0], kind="stable")]


def _stamp_bound_j(series: np.ndarray, t: float) -> float:
    """P·h at t: h is the larger half-span of the two readings around t (each reading's instant is known to
    ± half its timed bracket), P the larger of their powers; 0 where the readings carry no bracket."""
    ts = series[:, 0]
    k = int(np.searchsorted(ts, t))
    around = series[max(k - 1, 0):k + 1]
    spans = around[:, 5][np.isfinite(around[:, 5])]
    if not len(spans):
        return 0.0
    return float(np.max(np.abs(around[:, 1]))) * float(spans.max()) / 2


def _counter_step_bound_j(series: np.ndarray, t: float, step_s: float) -> float:
    """P·Δc at t: the energy a reading of a counter that moves every Δc may lack at t."""
    return abs(float(np.interp(t, series[:, 0], series[:, 1]))) * step_s


def _edge_bound_j(series: np.ndarray, t: float) -> float:
    """|ΔP|·Δ/2 of the two readings around t (0 where t is outside the readings)."""
    ts = series[:, 0]
    k = int(np.searchsorted(ts, t))
    if k == 0 or k >= len(ts):
        return 0.0
    return abs(series[k, 1] - series[k - 1, 1]) * (ts[k] - ts[k - 1]) / 2


HOST_NOTE = ("RAPL (Linux powercap): the CPU packages' and DRAM's own energy counters, read beside the GPUs; "
             "a model-based estimate on many CPUs, not the host's input: fans, disks, the rest of the board and "
             "the power supply's losses are not in it")


def host_energy(samples: list[dict[str, Any]], begin_s: float, end_s: float) -> dict[str, float]:
    """The host's RAPL zones' energy over [begin, end] (J, from their unwrapped counters), where read."""
    out = {}
    for r in tele.rapl_rails(samples):
        e = tele.counter_energy_j(samples, r, begin_s, end_s)
        if e is not None:
            out[r] = e
    return out


def _checked_series(samples: list[dict[str, Any]], rails: list[str], begin_s: float,
                    end_s: float) -> dict[str, np.ndarray]:
    series = {r: _rail_series(samples, r) for r in rails}
    for r, s in series.items():
        if len(s) < 2 or s[0, 0] > begin_s or s[-1, 0] < end_s:
            got = f"{s[0, 0]:.3f}–{s[-1, 0]:.3f} s" if len(s) else "no readings"
            raise AnalysisError(f"the {r} readings ({got}) do not span the measured region "
                                f"[{begin_s:.3f}, {end_s:.3f}] s; the sensor started late or stopped early, so "
                                "the energy cannot be given. Check the launcher's warnings in the session.")
    return series


def counter_steps(samples: list[dict[str, Any]], rails: list[str]) -> dict[str, float]:
    """Each rail's counter update step Δc as its readings see it (rails whose counter is seen to move)."""
    out = {}
    for r in rails:
        step = tele.counter_step_s(samples, r)
        if step is not None:
            out[r] = step
    return out


def counter_span_j(samples: list[dict[str, Any]], series: dict[str, np.ndarray], steps: dict[str, float],
                   t0: float, t1: float) -> tuple[float, float] | None:
    """(energy J, standard uncertainty J) from the NVML counters over [t0, t1]: the counters' differences
    summed over the rails; the ±5 % accuracy (common to the rails, so added linearly) with each edge's counter
    step P·Δc in quadrature (rectangular). None where a rail's counter does not span [t0, t1]."""
    parts = [tele.counter_energy_j(samples, r, t0, t1) for r in series]
    if any(p is None for p in parts) or not t1 > t0:
        return None
    energy = math.fsum(parts)
    step = math.fsum(math.hypot(_counter_step_bound_j(s, t0, steps.get(r, 0.0)),
                                _counter_step_bound_j(s, t1, steps.get(r, 0.0))) for r, s in series.items())
    return energy, math.hypot(abs(energy) * NVML_GAIN, step) / SQRT3


@dataclass(frozen=True)
class IdleBaseline:
    """Idle power read before the launch (per rail), with the window it came from."""
    power_w: dict[str, float]
    duration_s: float
    u_w: float               # standard uncertainty of the summed idle power from the counter steps (not the ±5 %)

    @property
    def total_w(self) -> float:
        return math.fsum(self.power_w.values())


def idle_baseline(samples: list[dict[str, Any]]) -> IdleBaseline | None:
    """The GPUs' idle power from readings taken while nothing ran: each counter's slope between its first and
    last reading (its power readings' mean where it has no counter). None with too few readings."""
    rails = tele.gpu_rails(samples)
    power, u2, width = {}, 0.0, math.inf
    steps = counter_steps(samples, rails)
    for r in rails:
        s = _rail_series(samples, r)
        if len(s) < 2 or not s[-1, 0] > s[0, 0]:
            return None
        t0, t1 = float(s[0, 0]), float(s[-1, 0])
        width = min(width, t1 - t0)
        e = tele.counter_energy_j(samples, r, t0, t1)
        power[r] = e / (t1 - t0) if e is not None else float(np.mean(s[:, 1]))
        u2 += (power[r] * steps.get(r, 0.0)) ** 2 * 2 / 3 / (t1 - t0) ** 2
    if not power:
        return None
    return IdleBaseline(power, width, math.sqrt(u2))


def _nvml_budget(add, energy: float, use_counter: bool, series: dict[str, np.ndarray], steps: dict[str, float],
                 fields: dict[str, str], begin_s: float, end_s: float) -> None:
    add("NVML accuracy (±5 % of the reading)", energy * NVML_GAIN / SQRT3)
    if use_counter:
        add("energy counter resolution (1 mJ, both ends)", math.sqrt(2) * NVML_COUNTER_LSB_J / SQRT3)
        step = math.fsum(math.hypot(_counter_step_bound_j(s, begin_s, steps.get(r, 0.0)),
                                    _counter_step_bound_j(s, end_s, steps.get(r, 0.0))) for r, s in series.items())
        if step > 0:
            ms = ", ".join(f"{1e3 * v:.0f} ms" for v in steps.values())
            add(f"energy counter update step (Δc = {ms}; P·Δc at each edge)", step / SQRT3)
    else:
        averaged = [s for r, s in series.items() if fields.get(r, "average") == "average"]
        window = [s[(s[:, 0] >= begin_s - NVML_AVERAGE_S) & (s[:, 0] <= end_s + NVML_AVERAGE_S), 1] for s in averaged]
        swing = sum(float(w.max() - w.min()) for w in window if len(w))
        if swing > 0:
            add("NVML 1 s averaging (lag at the edges)", swing * NVML_AVERAGE_S / 2 / SQRT3)


def _ina_budget(add, energy: float, source: str, inside: np.ndarray, mean_p: float, n_powers: int,
                duration: float) -> None:
    add("INA3221 shunt-channel gain (0.25 % max)", energy * INA_GAIN / SQRT3)
    add("INA3221 bus-channel gain (0.25 % max)", energy * INA_GAIN / SQRT3)
    add("sense resistor tolerance (1 %, assumed)", energy * SENSE_RESISTOR_TOL / SQRT3)
    if source == "ina3221":
        mean_v = float(np.nanmean(inside[:, 2]))
        mean_a = float(np.nanmean(inside[:, 3]))
    else:
        mean_v = TEGRASTATS_ASSUMED_V
        mean_a = mean_p / mean_v
        add("tegrastats rounding (1 mW)", TEGRASTATS_LSB_W / math.sqrt(12 * max(n_powers, 1)) * duration)
    add("INA3221 offsets (80 µV shunt, 16 mV bus, max)",
        math.hypot(mean_v * INA_SHUNT_OFFSET_V / JETSON_SENSE_OHM, mean_a * INA_BUS_OFFSET_V) * duration / SQRT3)


def _per_gpu(samples: list[dict[str, Any]], series: dict[str, np.ndarray], steps: dict[str, float],
             begin_s: float, end_s: float, idle: IdleBaseline | None) -> list[dict[str, Any]]:
    out = []
    duration = end_s - begin_s
    for r, s in series.items():
        counter = tele.counter_energy_j(samples, r, begin_s, end_s)
        e = counter if counter is not None else tele.energy_j(samples, r, begin_s, end_s)
        p_idle = idle.power_w.get(r) if idle is not None else None
        out.append({"rail": r, "gpu": r.removeprefix("NVML_GPU"), "energy_j": e,
                    "avg_power_w": e / duration if e is not None else None, "idle_power_w": p_idle,
                    "dynamic_energy_j": e - p_idle * duration if e is not None and p_idle is not None else None,
                    "counter_step_s": steps.get(r),
                    "counter_updates": tele.counter_updates(samples, r, begin_s, end_s) if counter is not None
                    else None})
    return out


def _sampling_warnings(samples: list[dict[str, Any]], series: dict[str, np.ndarray], steps: dict[str, float],
                       use_counter: bool, begin_s: float, end_s: float, n_powers: int, interval: float,
                       duration: float) -> list[str]:
    out = []
    if use_counter:
        for r in series:
            n = tele.counter_updates(samples, r, begin_s, end_s)
            if n < MIN_COUNTER_UPDATES:
                step = steps.get(r)
                need = f"; the run should last {MIN_COUNTER_UPDATES * step:.2g} s or more" if step else ""
                out.append(f"{r}: only {n} energy-counter update(s) inside the {duration:.3g} s region (fewer "
                           f"than {MIN_COUNTER_UPDATES}): the counter's step dominates the uncertainty{need}")
    if interval > duration / 5:
        out.append(f"only {n_powers} reading(s) inside a {duration:.3g} s region (one every "
                   f"{interval:.3g} s): lengthen the run or sample faster")
    return out


def estimate(samples: list[dict[str, Any]], begin_s: float, end_s: float, *, launch_s: float | None = None,
             exit_s: float | None = None, info: dict[str, Any] | None = None,
             idle: IdleBaseline | None = None) -> TelemetryEstimate:
    """The energy over [begin, end] (board clock) from the samples, with its budget. info: what the launcher's
    NVML sampler said (tele.nvml_info); idle: the GPUs' idle power read before the launch."""
    source = source_of(samples)
    if source is None:
        raise AnalysisError("the run has no usable telemetry samples, and with scope.resource = \"none\" they are "
                            "the only measurement; check target.telemetry and that the sensor is readable on the "
                            "board (the session's stderr holds the launcher's warnings)")
    if not end_s > begin_s:
        raise AnalysisError(f"the measured region is empty (begin {begin_s} s, end {end_s} s on the board clock)")
    rails = tele.gpu_rails(samples) if source == "nvml" else [tele.input_rail(samples)]
    duration = end_s - begin_s
    series = _checked_series(samples, rails, begin_s, end_s)
    sampled = {r: tele.energy_j(samples, r, begin_s, end_s) for r in rails}
    counters = {r: tele.counter_energy_j(samples, r, begin_s, end_s) for r in rails}
    use_counter = source == "nvml" and all(c is not None for c in counters.values())
    samples_e = math.fsum(v for v in sampled.values() if v is not None)
    counter_e = math.fsum(counters.values()) if use_counter else None
    energy = counter_e if use_counter else samples_e
    if not energy > 0:
        raise AnalysisError(f"the telemetry gives {energy:.4g} J over the measured region; an energy must be "
                            "above 0. Check the sensor's readings in the session's telemetry.")
    inside = np.concatenate([s[(s[:, 0] >= begin_s) & (s[:, 0] <= end_s)] for s in series.values()])
    powers = inside[:, 1]
    intervals = np.concatenate([np.diff(s[:, 0]) for s in series.values()])
    interval = float(np.median(intervals)) if len(intervals) else math.nan
    steps = counter_steps(samples, rails) if use_counter else {}
    fields = dict((info or {}).get("power_field") or {})
    items: list[BudgetItem] = []

    def add(name: str, u_j: float, dof: float = math.inf) -> None:
        items.append(BudgetItem(name, abs(u_j) / energy, abs(u_j), dof))

    if source == "nvml":
        _nvml_budget(add, energy, use_counter, series, steps, fields, begin_s, end_s)
    else:
        _ina_budget(add, energy, source, inside, energy / duration, len(powers), duration)
    if not use_counter and len(powers) >= 2:
        add("sampling (spread of the readings)", float(np.std(powers, ddof=1)) / math.sqrt(len(powers)) * duration,
            dof=len(powers) - 1)
    edge = math.fsum(math.hypot(_edge_bound_j(s, begin_s), _edge_bound_j(s, end_s)) for s in series.values())
    add("edges of [begin, end] between readings", edge / SQRT3)
    stamps = math.fsum(math.hypot(_stamp_bound_j(s, begin_s), _stamp_bound_j(s, end_s)) for s in series.values())
    if stamps > 0:
        add("time stamps of the readings (± half each read's timed bracket)", stamps / SQRT3)
    u, k, dof = expanded(items)
    measurand = (f"GPU {', '.join(r.removeprefix('NVML_GPU') for r in rails)} (NVML)" if source == "nvml"
                 else f"{rails[0]} ({source})")
    warnings = [NO_SCOPE_WARNING.format(measurand=measurand)]
    if use_counter and samples_e:
        warnings.append(f"NVML power samples integrate to {samples_e:.6g} J, "
                        f"{100 * (samples_e - counter_e) / counter_e:+.2f} % from the energy counter used here")
    if source == "nvml" and not use_counter:
        warnings.append("the GPU has no NVML energy counter: the energy integrates its power readings"
                        + ("" if fields and all(f == "instant" for f in fields.values()) else
                           ", each a 1 s average on recent GPUs, so changes at the edges of the region are smeared"))
    warnings += _sampling_warnings(samples, series, steps, use_counter, begin_s, end_s, len(powers), interval,
                                   duration)

    def span(t0: float | None, t1: float | None) -> float | None:
        if t0 is None or t1 is None or not t1 > t0:
            return None
        return math.fsum(tele.energy_j(samples, r, t0, t1) or 0.0 for r in rails)
    return TelemetryEstimate(
        energy_j=energy, uncertainty_j=u, coverage_k=k, duration_s=duration, source=source,
        method="telemetry: NVML energy counter" if use_counter else f"telemetry: {source} power readings",
        measurand=measurand, rails=rails, samples_in_region=len(powers), sample_interval_s=interval,
        budget=items, effective_dof=dof, samples_energy_j=samples_e, counter_energy_j=counter_e,
        launch_to_begin_j=span(launch_s, begin_s), end_to_exit_j=span(end_s, exit_s), warnings=warnings,
        counter_step_s=steps, power_field=fields, idle=idle,
        gpus=_per_gpu(samples, series, steps, begin_s, end_s, idle) if source == "nvml" else [],
        visible_devices=(info or {}).get("visible"), host_energy_j=host_energy(samples, begin_s, end_s),
        between=(lambda t0, t1: counter_span_j(samples, series, steps, t0, t1)) if use_counter else None)


SIMULATED_SHUNT_WARNING = ("the shunt is simulated ({resource}): its energy follows the simulator, not the board, "
                           "so the telemetry's {pct:+.1f} % against it means nothing; telemetry_vs_shunt_pct is "
                           "kept for the record and flagged")
EXCEEDS_WARNING = ("IMPLAUSIBLE: the telemetry ({measurand}) reads {tel:.6g} ± {u_tel:.3g} J, above the shunt's "
                   "{shunt:.6g} ± {u_shunt:.3g} J at the board's input beyond both uncertainties; a part of the board "
                   "cannot draw more than its input. Check the shunt value, the probes and that the telemetry "
                   "watches this board (and only the GPUs the workload uses)")


def compare_with_shunt(record: dict[str, Any], details: dict[str, Any], samples: list[dict[str, Any]],
                       begin_s: float | None, end_s: float | None, shunt_j: float, shunt_u_j: float, *,
                       scope_resource: str = "") -> None:
    """Set the telemetry beside a scope run's shunt energy into its record and details: the energy over
    [begin, end] (NVML: every GPU the launcher measured, summed; else the board's input rail), its difference
    from the shunt, and `telemetry_plausible`: False, with a warning in the record, when the shunt is simulated
    (scope.resource "sim:…") or the telemetry exceeds the shunt beyond both expanded uncertainties."""
    if begin_s is None or end_s is None or not end_s > begin_s:
        return
    source = source_of(samples)
    rails = tele.gpu_rails(samples) if source == "nvml" else [r for r in [tele.input_rail(samples)] if r]
    if not rails:
        return
    sampled = [tele.energy_j(samples, r, begin_s, end_s) for r in rails]
    counters = [tele.counter_energy_j(samples, r, begin_s, end_s) for r in rails]
    pct = (lambda e: 100.0 * (e - shunt_j) / shunt_j if shunt_j else None)
    if all(e is not None for e in sampled):
        record["telemetry_energy_j"] = math.fsum(sampled)
        record["telemetry_vs_shunt_pct"] = pct(record["telemetry_energy_j"])
        details["telemetry_rail"] = ",".join(rails)
    if source == "nvml" and all(c is not None for c in counters):
        record["telemetry_counter_energy_j"] = math.fsum(counters)
        record["telemetry_counter_vs_shunt_pct"] = pct(record["telemetry_counter_energy_j"])
    host = host_energy(samples, begin_s, end_s)
    if host:
        record["host_energy_j"], record["host_energy_note"] = host, HOST_NOTE
    try:
        est = estimate(samples, begin_s, end_s)
    except AnalysisError:
        return
    warnings = record.setdefault("warnings", [])
    if scope_resource.strip().lower().startswith("sim:"):
        record["telemetry_plausible"] = False
        record["telemetry_plausibility"] = "simulated shunt"
        warnings.append(SIMULATED_SHUNT_WARNING.format(resource=scope_resource, pct=pct(est.energy_j) or 0.0))
    elif est.energy_j - est.uncertainty_j > shunt_j + shunt_u_j:
        record["telemetry_plausible"] = False
        record["telemetry_plausibility"] = "telemetry above the board's input"
        warnings.append(EXCEEDS_WARNING.format(measurand=est.measurand, tel=est.energy_j, u_tel=est.uncertainty_j,
                                               shunt=shunt_j, u_shunt=shunt_u_j))
    else:
        record["telemetry_plausible"] = True
    details["telemetry_uncertainty_j"] = est.uncertainty_j
