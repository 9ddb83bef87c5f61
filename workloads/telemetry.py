"""On-board power sensors, recorded beside the shunt (docs/method.md "On-board telemetry").

Two sources, both read on the board by the launcher while the run goes on:
* the INA3221 hwmon tree: `in<N>_label`, `in<N>_input` (mV), `curr<N>_input` (mA), sampled every interval;
* `tegrastats --interval`: lines with `RAIL <now>mW/<avg>mW` fields (Orin NX: VDD_IN, VDD_CPU_GPU_CV,
  VDD_SOC; AGX Orin: VDD_GPU_SOC, VDD_CPU_CV, VIN_SYS_5V0, VDDQ_VDD2_1V8AO).
* NVML (nvidia-ml-py), on boards with NVIDIA GPUs: each GPU the workload can see (its CUDA_VISIBLE_DEVICES)
  as `NVML_GPU<nvml index>`: its power (W; the instantaneous field where the driver offers it, else the
  driver's running average, about 1 s on recent GPUs) and its total-energy counter (J, mJ resolution, updated
  in steps of about 100 ms on an H100/H200) where it has one. NVML sees the GPU, not the board: it is compared
  with the shunt, never substituted for it.
* RAPL (Linux powercap), read beside NVML where readable: the CPU packages' and DRAM's energy counters
  (`RAPL_<zone>`, µJ, unwrapped by the launcher at max_energy_range_uj), the host's share beside the GPU.
Samples carry the board's monotonic time. The board's input rail (VDD_IN, else VIN_SYS_5V0) is integrated
over the measured region for `telemetry_energy_j`.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from workloads.target import TelemetryOptions

TEGRA_RAIL = re.compile(r"\b([A-Z][A-Z0-9_]*)\s+(\d+)mW/(\d+)mW")
INPUT_RAILS = ("VDD_IN", "VIN_SYS_5V0", "POM_5V_IN", "VIN")


def parse_tegrastats(line: str) -> dict[str, float]:
    """Rail -> watts (instantaneous value) from one tegrastats line."""
    return {name: int(now) / 1000.0 for name, now, _avg in TEGRA_RAIL.findall(line)}


def samples_from_launcher(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten launcher telemetry messages to samples: time_s, rail, volts, amps, watts, counter_j, time_span_s
    (NaN where unknown). A rail read inside a timed bracket (NVML) carries its own `t` (the bracket's middle)
    and `t_span_s` (its width: the reading's instant is known to ± half of it)."""
    out = []
    for msg in messages:
        t = msg.get("t")
        if not isinstance(t, (int, float)):
            continue
        if msg.get("event") == "telemetry":
            for r in msg.get("rails", []):
                sample = _rail_sample(float(t), r)
                if sample is not None:
                    out.append(sample)
        elif msg.get("event") == "tegrastats":
            for rail, watts in parse_tegrastats(str(msg.get("line", ""))).items():
                out.append({"time_s": float(t), "rail": rail, "volts": math.nan, "amps": math.nan, "watts": watts,
                            "counter_j": math.nan, "time_span_s": math.nan})
    return out


def _number(r: dict, key: str) -> float:
    try:
        x = float(r[key])
    except (KeyError, TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def _rail_sample(t: float, r: Any) -> dict[str, Any] | None:
    """One rail of a launcher sample: volts and amps (INA3221), or watts and maybe counter_j (NVML)."""
    if not isinstance(r, dict):
        return None
    v, a, w, c, own_t, span = (_number(r, k) for k in ("volts", "amps", "watts", "counter_j", "t", "t_span_s"))
    if math.isnan(w):
        w = v * a
    if math.isnan(w) and math.isnan(c):                # a counter alone (RAPL) is a reading too
        return None
    if math.isnan(own_t) or not span >= 0:          # no bracket of its own (or a nonsensical one): the message's t
        own_t, span = t, math.nan
    return {"time_s": own_t, "rail": str(r.get("rail", "?")), "volts": v, "amps": a, "watts": w, "counter_j": c,
            "time_span_s": span}


def rapl_rails(samples: list[dict[str, Any]]) -> list[str]:
    """The host's RAPL zones the launcher read beside the GPUs (RAPL_package-0, RAPL_package-0_dram …)."""
    return sorted({s["rail"] for s in samples if str(s["rail"]).startswith("RAPL_")})


def gpu_rails(samples: list[dict[str, Any]]) -> list[str]:
    """The NVML rails (one per GPU the launcher measured), in index order."""
    names = {s["rail"] for s in samples if str(s["rail"]).startswith("NVML_GPU")}
    return sorted(names, key=lambda r: (len(r), r))


def input_rail(samples: list[dict[str, Any]]) -> str | None:
    """The rail to set beside the shunt: the board's input rail, else the first GPU NVML reports."""
    rails = {s["rail"] for s in samples}
    return next((r for r in INPUT_RAILS if r in rails), None) or ("NVML_GPU0" if "NVML_GPU0" in rails else None)


def counter_energy_j(samples: list[dict[str, Any]], rail: str, t0_s: float, t1_s: float) -> float | None:
    """Energy from a rail's cumulative counter (NVML total energy): the counter interpolated linearly at t0
    and t1; None where the rail has no counter samples spanning [t0, t1]."""
    pts = _counter_series(samples, rail)
    if len(pts) < 2 or not t1_s > t0_s or pts[:, 0].min() > t0_s or pts[:, 0].max() < t1_s:
        return None
    e0, e1 = np.interp([t0_s, t1_s], pts[:, 0], pts[:, 1])
    return float(e1 - e0)


def _counter_series(samples: list[dict[str, Any]], rail: str) -> np.ndarray:
    pts = np.array([(s["time_s"], s.get("counter_j", math.nan)) for s in samples if s["rail"] == rail],
                   dtype=np.float64).reshape(-1, 2)
    pts = pts[np.isfinite(pts[:, 1])]
    return pts[np.argsort(pts[:, 0], kind="stable")]


def counter_changes_s(samples: list[dict[str, Any]], rail: str) -> np.ndarray:
    """The times of the readings at which a rail's energy counter had moved since the reading before: each
    lies up to one reading interval after the counter's own update."""
    pts = _counter_series(samples, rail)
    if len(pts) < 2:
        return np.empty(0)
    return pts[1:, 0][np.diff(pts[:, 1]) != 0]


def counter_step_s(samples: list[dict[str, Any]], rail: str) -> float | None:
    """The counter's update step: the median time between its updates as the readings see them (None with
    fewer than three updates). Each update is seen up to one reading interval late, so with readings much
    faster than the step the median is the step; with readings slower than it, it is the reading interval,
    and the step is no larger than that."""
    changes = counter_changes_s(samples, rail)
    if len(changes) < 3:
        return None
    return float(np.median(np.diff(changes)))


def counter_updates(samples: list[dict[str, Any]], rail: str, t0_s: float, t1_s: float) -> int:
    """How many counter updates the readings saw inside [t0, t1]."""
    changes = counter_changes_s(samples, rail)
    return int(np.count_nonzero((changes > t0_s) & (changes <= t1_s)))


def nvml_info(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """What the launcher's NVML sampler said about itself (in its telemetry messages): the workload's
    CUDA_VISIBLE_DEVICES, the NVML indices measured, and the power field read per rail ("instant" or
    "average")."""
    info: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for msg in messages:
        if msg.get("event") != "telemetry" or msg.get("source") != "nvml":
            continue
        if isinstance(msg.get("nvml"), dict) and not info:
            info = dict(msg["nvml"])
        for r in msg.get("rails", []):
            if isinstance(r, dict) and isinstance(r.get("power_field"), str):
                fields.setdefault(str(r.get("rail")), r["power_field"])
    if fields:
        info["power_field"] = fields
    return info


def energy_j(samples: list[dict[str, Any]], rail: str, t0_s: float, t1_s: float) -> float | None:
    """Trapezoid of one rail's power over [t0, t1] (board clock), linear between samples, held at the ends.
    O(n log n) in the number of samples (a 3 341 s run at 20 Hz is 67 000 samples)."""
    pts = np.array([(s["time_s"], s["watts"]) for s in samples if s["rail"] == rail and math.isfinite(s["watts"])],
                   dtype=np.float64).reshape(-1, 2)
    if len(pts) < 2 or not t1_s > t0_s:
        return None
    pts = pts[np.argsort(pts[:, 0], kind="stable")]
    ts, ws = pts[:, 0], pts[:, 1]
    inside = (ts > t0_s) & (ts < t1_s)
    knots = np.concatenate([[t0_s], ts[inside], [t1_s]])
    values = np.interp(knots, ts, ws)          # holds the first/last value outside the samples
    return float(np.sum(np.diff(knots) * (values[1:] + values[:-1]) / 2))


def options_for(mode: str, facts: dict[str, Any], interval_s: float = 0.05) -> TelemetryOptions | None:
    """What to sample, from the bench's target.telemetry and the board's facts; None for nothing."""
    hwmon = tuple(facts.get("ina3221_hwmon") or ())
    has_tegrastats = bool(facts.get("tegrastats"))
    has_nvml = bool(facts.get("nvidia_gpus"))
    if mode == "off":
        return None
    if mode == "nvml":
        return TelemetryOptions(nvml=True, interval_s=max(interval_s, 0.02))
    if mode == "ina3221" or (mode == "auto" and hwmon):
        return TelemetryOptions(hwmon_dirs=hwmon, interval_s=interval_s) if hwmon else None
    if mode == "tegrastats" or (mode == "auto" and has_tegrastats):
        return TelemetryOptions(tegrastats=True, interval_s=max(interval_s, 0.1)) if has_tegrastats else None
    if mode == "auto" and has_nvml:
        return TelemetryOptions(nvml=True, interval_s=max(interval_s, 0.02))
    return None
