"""Energy from NVML without a scope: the counter's update step in the budget, the warning for too few updates,
the idle window and the dynamic energy, one GPU at a time and summed (app/measure/telemetry_energy.py).

The readings are built here as NVML gives them (no NVML runs in CI): a GPU draws a known power P(t); its
energy counter holds ∫P dt up to its last update, updates every Δc = 0.1 s (an H100/H200's step, issue 29),
and is read every 0.02 s, 5 ms after each 0.02 s mark, so no reading falls on an update.
"""

import math

import numpy as np
import pytest

from app.measure.telemetry_energy import estimate, idle_baseline
from app.measure.units import units_record
from workloads.protocol import ProtocolState, emit
from workloads.telemetry import counter_step_s, counter_updates

STEP_S = 0.1
READ_S = 0.02


def staircase(rail, power_w, t_end_s, t_start_s=0.0):
    """Readings of a GPU drawing power_w(t) W (a function, constant within each 0.1 s step here): the counter
    at reading time r is the energy up to the last update floor(r/Δc)·Δc, summed step by step."""
    out = []
    n = int(round((t_end_s - t_start_s) / READ_S))
    for k in range(n + 1):
        r = t_start_s + 0.005 + k * READ_S
        updates = math.floor(r / STEP_S + 1e-9)
        counter = math.fsum(power_w((j + 0.5) * STEP_S) * STEP_S for j in range(updates))
        out.append({"time_s": r, "rail": rail, "volts": math.nan, "amps": math.nan, "watts": power_w(r),
                    "counter_j": counter, "time_span_s": math.nan})
    return out


def budget_item(est, prefix):
    return next(b for b in est.budget if b.name.startswith(prefix))


def test_the_counter_step_is_measured_and_carried_at_each_edge():
    samples = staircase("NVML_GPU0", lambda t: 700.0, 12.0)
    assert counter_step_s(samples, "NVML_GPU0") == pytest.approx(STEP_S)
    est = estimate(samples, 1.0, 11.0)
    # the counter differences: 700 W over [1.0, 11.0] is 7000 J, and each edge may lack up to P·Δc = 70 J
    assert abs(est.energy_j - 7000.0) <= 700.0 * STEP_S
    # the term: a = P·Δc at each edge, rectangular, in quadrature: 70·√2/√3 = 57.15 J (0.82 % of 7000 J)
    assert budget_item(est, "energy counter update step").u_j == pytest.approx(70.0 * math.sqrt(2) / math.sqrt(3))
    assert est.record(None)["counter_step_s"] == pytest.approx(STEP_S)
    assert not any("counter update(s)" in w for w in est.warnings)


def test_fewer_than_ten_counter_updates_is_a_warning():
    samples = staircase("NVML_GPU0", lambda t: 300.0, 3.0)
    # [1.01, 1.55]: the readings see the updates at 1.1, 1.2, 1.3, 1.4, 1.5 -> five
    assert counter_updates(samples, "NVML_GPU0", 1.01, 1.55) == 5
    est = estimate(samples, 1.01, 1.55)
    msg = next(w for w in est.warnings if "counter update(s)" in w)
    assert "only 5 energy-counter update(s)" in msg and "1 s or more" in msg      # 10 × 0.1 s


def test_idle_window_gives_idle_power_and_dynamic_energy():
    idle = idle_baseline(staircase("NVML_GPU0", lambda t: 124.0, 2.0))
    # readings at 0.005 … 2.005 s: the counter moved 20 steps of 12.4 J -> 248 J over 2.0 s = 124 W
    assert idle.total_w == pytest.approx(124.0)
    samples = staircase("NVML_GPU0", lambda t: 700.0, 12.0)
    est = estimate(samples, 1.0, 11.0, idle=idle)
    rec = est.record(None)
    assert rec["idle_power_w"] == pytest.approx(124.0)
    assert rec["dynamic_energy_j"] == pytest.approx(est.energy_j - 124.0 * 10.0)
    # its uncertainty: 5 % of the dynamic energy (rectangular), the idle slope's steps over T, the region's steps
    u_idle_w = 124.0 * STEP_S * math.sqrt(2 / 3) / (2.0 - 0.0)
    u = math.sqrt((rec["dynamic_energy_j"] * 0.05 / math.sqrt(3)) ** 2 + (u_idle_w * 10.0) ** 2
                  + (70.0 * math.sqrt(2 / 3)) ** 2)
    assert rec["dynamic_uncertainty_j"] == pytest.approx(est.coverage_k * u)
    assert rec["idle_source"].startswith("NVML idle window")


def test_two_gpus_measured_one_by_one_and_summed():
    samples = staircase("NVML_GPU0", lambda t: 600.0, 6.0) + staircase("NVML_GPU1", lambda t: 200.0, 6.0)
    est = estimate(samples, 1.0, 5.0)
    gpus = {g["gpu"]: g for g in est.record(None)["gpus"]}
    assert abs(gpus["0"]["energy_j"] - 2400.0) <= 60.0 and abs(gpus["1"]["energy_j"] - 800.0) <= 20.0
    assert est.energy_j == pytest.approx(gpus["0"]["energy_j"] + gpus["1"]["energy_j"])
    assert est.measurand == "GPU 0, 1 (NVML)"
    # the step term per GPU: P_i·Δc·√2 at its two edges, the GPUs' terms added (they share the region's edges)
    assert budget_item(est, "energy counter update step").u_j == pytest.approx(
        (60.0 + 20.0) * math.sqrt(2) / math.sqrt(3))


def test_the_averaged_power_field_carries_its_lag_and_the_instant_does_not():
    samples = [dict(s, counter_j=math.nan) for s in staircase("NVML_GPU0", lambda t: 100.0 if t < 2 else 400.0, 5)]
    avg = estimate(samples, 1.0, 4.0, info={"power_field": {"NVML_GPU0": "average"}})
    inst = estimate(samples, 1.0, 4.0, info={"power_field": {"NVML_GPU0": "instant"}})
    # averaged over τ = 1 s: a = (P_max − P_min)·τ/2 = 300 × 0.5 = 150 J, u = 150/√3
    assert budget_item(avg, "NVML 1 s averaging").u_j == pytest.approx(150.0 / math.sqrt(3))
    assert not any(b.name.startswith("NVML 1 s averaging") for b in inst.budget)


def test_phases_split_the_counter_energy_with_their_own_j_per_unit():
    # prefill 600 W over [1, 3], decode 400 W over [3, 6]: 1200 J and 1200 J
    samples = staircase("NVML_GPU0", lambda t: 600.0 if t < 3.0 else 400.0, 7.0)
    p = ProtocolState()
    for line in (emit("begin", 1.0), emit("phase", 1.0, name="prefill", units="tokens", count=4096),
                 emit("phase", 3.0, name="decode", units="tokens"),
                 emit("end", 6.0, units="tokens", count=4096 + 512, phases={"decode": {"count": 512,
                                                                                        "latency_s": 0.02}})):
        p.feed(line)
    est = estimate(samples, 1.0, 6.0)
    rec = units_record(p, est.energy_j, est.uncertainty_j, est.duration_s, coverage_k=est.coverage_k,
                       energy_between=est.between)
    assert rec["units"] == "tokens" and rec["units_per_s"] == pytest.approx(4608 / 5.0)
    assert rec["j_per_unit"] == pytest.approx(est.energy_j / 4608)
    pre, dec = rec["phases"]
    assert (pre["name"], dec["name"]) == ("prefill", "decode")
    assert abs(pre["energy_j"] - 1200.0) <= 2 * 60.0 and abs(dec["energy_j"] - 1200.0) <= 2 * 60.0
    assert pre["j_per_unit"] == pytest.approx(pre["energy_j"] / 4096)
    assert dec["j_per_unit"] == pytest.approx(dec["energy_j"] / 512) and dec["latency_s"] == 0.02
    assert dec["units_per_s"] == pytest.approx(512 / 3.0)
    # a phase's uncertainty: ±5 % (rectangular) with P·Δc at its edges, expanded with the run's k: at 1 s
    # 600 W·0.1 s; at 3 s the readings at 2.985 s (600 W) and 3.005 s (400 W) interpolate to 450 W -> 45 J
    u = math.hypot(pre["energy_j"] * 0.05, math.hypot(60.0, 45.0)) / math.sqrt(3)
    assert pre["uncertainty_j"] == pytest.approx(est.coverage_k * u)
    assert pre["energy_j"] + dec["energy_j"] == pytest.approx(est.energy_j)
