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
  a = (P_max − P_min)·τ/2 over the region and τ either side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

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

    @property
    def fidelity(self) -> str:
        return FIDELITY[self.source]

    def record(self, ops: float | None) -> dict[str, Any]:
        """The run record (the fields a scope run has, those without meaning here set to None)."""
        per_gop = j_per_gop(self.energy_j, ops)
        return {
            "duration_s": self.duration_s, "windows": 0, "window_s": None,
            "avg_power_w": self.energy_j / self.duration_s, "idle_power_w": None,
            "energy_j": self.energy_j, "dynamic_energy_j": None, "energy_method": self.method,
            "ops": ops, "j_per_gop": per_gop, "uncertainty_j": self.uncertainty_j, "clipped": False,
            "warnings": list(self.warnings),
            "dynamic_uncertainty_j": None,
            "j_per_gop_uncertainty": (self.uncertainty_j / self.energy_j * per_gop) if per_gop is not None
            and self.energy_j else None,
            "coverage_k": self.coverage_k, "idle_source": None,
            "launch_to_begin_j": self.launch_to_begin_j, "end_to_exit_j": self.end_to_exit_j,
            "alignment": "board clock", "partial": False,
            "energy_source": f"telemetry ({self.source})", "measurand": self.measurand,
            "fidelity": self.fidelity, "telemetry_energy_j": self.samples_energy_j,
            "telemetry_counter_energy_j": self.counter_energy_j,
        }

    def details(self) -> dict[str, Any]:
        return {"budget": [b.as_dict() for b in self.budget], "dynamic_budget": [],
                "effective_dof": None if math.isinf(self.effective_dof) else self.effective_dof,
                "telemetry_rails": list(self.rails), "telemetry_samples_in_region": self.samples_in_region,
                "telemetry_sample_interval_s": self.sample_interval_s, "window_means_w": [],
                "window_parts_s": [], "idle_span_s": None, "region_s": None, "alignment": {"method": "board clock"}}


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


def _edge_bound_j(series: np.ndarray, t: float) -> float:
    """|ΔP|·Δ/2 of the two readings around t (0 where t is outside the readings)."""
    ts = series[:, 0]
    k = int(np.searchsorted(ts, t))
    if k == 0 or k >= len(ts):
        return 0.0
    return abs(series[k, 1] - series[k - 1, 1]) * (ts[k] - ts[k - 1]) / 2


def estimate(samples: list[dict[str, Any]], begin_s: float, end_s: float, *, launch_s: float | None = None,
             exit_s: float | None = None) -> TelemetryEstimate:
    """The energy over [begin, end] (board clock) from the samples, with its budget."""
    source = source_of(samples)
    if source is None:
        raise AnalysisError("the run has no usable telemetry samples, and with scope.resource = \"none\" they are "
                            "the only measurement; check target.telemetry and that the sensor is readable on the "
                            "board (the session's stderr holds the launcher's warnings)")
    if not end_s > begin_s:
        raise AnalysisError(f"the measured region is empty (begin {begin_s} s, end {end_s} s on the board clock)")
    rails = sorted({s["rail"] for s in samples if s["rail"].startswith("NVML_GPU")}) if source == "nvml" \
        else [tele.input_rail(samples)]
    duration = end_s - begin_s
    series = {r: _rail_series(samples, r) for r in rails}
    for r, s in series.items():
        if len(s) < 2 or s[0, 0] > begin_s or s[-1, 0] < end_s:
            got = f"{s[0, 0]:.3f}–{s[-1, 0]:.3f} s" if len(s) else "no readings"
            raise AnalysisError(f"the {r} readings ({got}) do not span the measured region "
                                f"[{begin_s:.3f}, {end_s:.3f}] s; the sensor started late or stopped early, so "
                                "the energy cannot be given. Check the launcher's warnings in the session.")
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
    powers = np.concatenate([s[(s[:, 0] >= begin_s) & (s[:, 0] <= end_s), 1] for s in series.values()])
    intervals = np.concatenate([np.diff(s[:, 0]) for s in series.values()])
    interval = float(np.median(intervals)) if len(intervals) else math.nan
    mean_p = energy / duration
    items: list[BudgetItem] = []

    def add(name: str, u_j: float, dof: float = math.inf) -> None:
        items.append(BudgetItem(name, abs(u_j) / energy, abs(u_j), dof))

    if source == "nvml":
        add("NVML accuracy (±5 % of the reading)", energy * NVML_GAIN / SQRT3)
        if use_counter:
            add("energy counter resolution (1 mJ, both ends)", math.sqrt(2) * NVML_COUNTER_LSB_J / SQRT3)
        else:
            window = [s[(s[:, 0] >= begin_s - NVML_AVERAGE_S) & (s[:, 0] <= end_s + NVML_AVERAGE_S), 1]
                      for s in series.values()]
            swing = sum(float(w.max() - w.min()) for w in window if len(w))
            add("NVML 1 s averaging (lag at the edges)", swing * NVML_AVERAGE_S / 2 / SQRT3)
    else:
        add("INA3221 shunt-channel gain (0.25 % max)", energy * INA_GAIN / SQRT3)
        add("INA3221 bus-channel gain (0.25 % max)", energy * INA_GAIN / SQRT3)
        add("sense resistor tolerance (1 %, assumed)", energy * SENSE_RESISTOR_TOL / SQRT3)
        if source == "ina3221":
            mean_v = float(np.nanmean(inside[:, 2]))
            mean_a = float(np.nanmean(inside[:, 3]))
        else:
            mean_v = TEGRASTATS_ASSUMED_V
            mean_a = mean_p / mean_v
            add("tegrastats rounding (1 mW)", TEGRASTATS_LSB_W / math.sqrt(12 * max(len(powers), 1)) * duration)
        add("INA3221 offsets (80 µV shunt, 16 mV bus, max)",
            math.hypot(mean_v * INA_SHUNT_OFFSET_V / JETSON_SENSE_OHM, mean_a * INA_BUS_OFFSET_V) * duration / SQRT3)
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
        warnings.append("the GPU has no NVML energy counter: the energy integrates its power readings, each a 1 s "
                        "average on recent GPUs, so changes at the edges of the region are smeared")
    if interval > duration / 5:
        warnings.append(f"only {len(powers)} reading(s) inside a {duration:.3g} s region (one every "
                        f"{interval:.3g} s): lengthen the run or sample faster")

    def span(t0: float | None, t1: float | None) -> float | None:
        if t0 is None or t1 is None or not t1 > t0:
            return None
        return math.fsum(tele.energy_j(samples, r, t0, t1) or 0.0 for r in rails)
    return TelemetryEstimate(
        energy_j=energy, uncertainty_j=u, coverage_k=k, duration_s=duration, source=source,
        method="telemetry: NVML energy counter" if use_counter else f"telemetry: {source} power readings",
        measurand=measurand, rails=rails, samples_in_region=len(powers), sample_interval_s=interval,
        budget=items, effective_dof=dof, samples_energy_j=samples_e, counter_energy_j=counter_e,
        launch_to_begin_j=span(launch_s, begin_s), end_to_exit_j=span(end_s, exit_s), warnings=warnings)
