"""With a scope: units and phases from the shunt's trace, and telemetry beside it judged for plausibility
(app/capture/run_analysis.py's hooks into app/measure/units.py and app/measure/telemetry_energy.py).

The simulated board (a profile worked out by hand: 19 V supply, no wiring resistance, 0.01 Ω shunt, so the
board sees V = 19 − 0.01·I) follows a workload that switches its current at the instants it reports: prefill
at 0.75 A, then decode at 0.60 A. Each phase's energy is P(I)·(its length), P(I) = (19 − 0.01·I)·I.
"""

import math

import pytest

from app.bench.config import loads_bench
from app.capture.procedure import Capture, CaptureRequest
from app.measure.telemetry_energy import compare_with_shunt
from tests.helpers import FAKE_PYNVML_BASE
from workloads.spec import parse_workload

PREFILL_A, DECODE_A = 0.75, 0.60

LOAD = r'''
import json, os, sys, time
control = sys.argv[1]
def switch(a):
    t = time.monotonic()
    with open(control, "a") as fh:
        fh.write(f"{t!r} {a!r}\n")
    return t
def ev(event, t, **f):
    print("@joulebench " + json.dumps(dict(event=event, t=t, **f)), flush=True)
switch(0.30)
time.sleep(0.15)
t0 = switch(PREFILL_A)
ev("begin", t0)
ev("phase", t0, name="prefill", units="tokens", count=512)
time.sleep(0.2)
ev("phase", switch(DECODE_A), name="decode", units="tokens", count=64)
time.sleep(0.25)
t1 = switch(0.30)
ev("end", t1, units="tokens", count=576)
time.sleep(0.1)
switch(0.25)
'''.replace("PREFILL_A", repr(PREFILL_A)).replace("DECODE_A", repr(DECODE_A))

BENCH = '''
[scope]
resource = "sim:keysight:{profile}"
timeout_s = 10.0
[voltage]
channel = 1
probe_ratio = 10.0
volts_per_div = 0.5
offset_v = 19.0
[current]
channel = 2
probe_ratio = 1.0
volts_per_div = 0.0025
offset_v = 0.005
shunt_ohm = 0.01
[acquisition]
window_s = 1.0
sample_rate_hz = 50000.0
pretrigger = 0.2
trigger_level_a = 0.45
trigger_timeout_s = 20.0
settle_s = 0.2
[target]
kind = "local"
workdir = "{work}"
telemetry = "nvml"
[uncertainty]
voltage_offset_error_v = 0.002
current_offset_error_v = 0.00002
'''

GPU_60W = FAKE_PYNVML_BASE + '''
T0 = time.monotonic()
def nvmlDeviceGetPowerUsage(h):
    return 60000
def nvmlDeviceGetTotalEnergyConsumption(h):
    return int(60.0 * (time.monotonic() - T0) * 1000)
'''


def board_power_w(amps):
    return (19.0 - 0.01 * amps) * amps


def test_phases_from_the_trace_and_a_simulated_shunt_flagged(tmp_path, monkeypatch):
    control = tmp_path / "control.txt"
    profile = tmp_path / "profile.toml"
    profile.write_text(f'supply_v = 19.0\nsource_ohm = 0.0\nshunt_ohm = 0.01\nnoise_v = 0.002\nnoise_a = 0.002\n'
                       f'seed = 7\ninitial_a = 0.25\ncontrol_file = "{control}"\n')
    (tmp_path / "load.py").write_text(LOAD)
    fake = tmp_path / "fake_nvml"
    fake.mkdir()
    (fake / "pynvml.py").write_text(GPU_60W)
    monkeypatch.setenv("PYTHONPATH", str(fake))
    spec = parse_workload({"name": "phased", "files": [str(tmp_path / "load.py")], "timeout_s": 60,
                           "command": f"python3 load.py {control}"}, "t.toml", tmp_path)
    bench = loads_bench(BENCH.format(profile=profile, work=tmp_path / "work"))
    out = Capture(CaptureRequest(bench=bench, workload=spec, out_dir=tmp_path / "sessions")).run()
    assert out.complete, out
    r = out.runs[0]
    assert r["energy_method"] == "integrated" and r["units"] == "tokens" and r["units_count"] == 576
    assert r["j_per_unit"] == pytest.approx(r["energy_j"] / 576)
    pre, dec = r["phases"]
    assert pre["energy_j"] == pytest.approx(board_power_w(PREFILL_A) * pre["duration_s"], rel=0.01)
    assert dec["energy_j"] == pytest.approx(board_power_w(DECODE_A) * dec["duration_s"], rel=0.01)
    assert pre["j_per_unit"] == pytest.approx(pre["energy_j"] / 512)
    assert pre["uncertainty_j"] == pytest.approx(r["uncertainty_j"] * pre["energy_j"] / r["energy_j"])
    # NVML beside a simulated shunt: kept, and flagged
    assert r["telemetry_counter_energy_j"] == pytest.approx(60.0 * r["duration_s"], abs=0.5)
    assert r["telemetry_plausible"] is False and r["telemetry_plausibility"] == "simulated shunt"
    assert any("the shunt is simulated" in w for w in r["warnings"])


def telemetry(watts, t_end=10.0):
    """A GPU drawing `watts` with an exact counter, read every 0.05 s."""
    return [{"time_s": k * 0.05, "rail": "NVML_GPU0", "volts": math.nan, "amps": math.nan, "watts": watts,
             "counter_j": watts * k * 0.05, "time_span_s": math.nan} for k in range(int(t_end / 0.05) + 1)]


@pytest.mark.parametrize("gpu_w,plausible", [(100.0, True), (130.0, True), (150.0, False)])
def test_telemetry_above_the_board_input_beyond_both_uncertainties_is_flagged(gpu_w, plausible):
    # the shunt: 1000 ± 20 J over [1, 9] (125 W); the GPU: gpu_w × 8 s, its U = 1.96 × (±5 %/√3 of it, with
    # the counter's step: it moves at every reading, so Δc is taken as the 0.05 s between them, P·Δc at each
    # edge, rectangular). 130 W: 1040 − 59.8 = 980 J < 1020 J; 150 W: 1200 − 68.9 = 1131 J > 1020 J
    record, details = {"warnings": []}, {}
    compare_with_shunt(record, details, telemetry(gpu_w), 1.0, 9.0, 1000.0, 20.0, scope_resource="TCPIP::x")
    u_tel = 1.96 * math.hypot(gpu_w * 8 * 0.05, gpu_w * 0.05 * math.sqrt(2)) / math.sqrt(3)
    assert details["telemetry_uncertainty_j"] == pytest.approx(u_tel, rel=1e-3)
    assert record["telemetry_counter_energy_j"] == pytest.approx(gpu_w * 8)
    assert record["telemetry_counter_vs_shunt_pct"] == pytest.approx(100 * (gpu_w * 8 - 1000) / 1000)
    assert record["telemetry_plausible"] is plausible
    assert any("IMPLAUSIBLE" in w for w in record["warnings"]) is not plausible


def test_every_gpu_measured_is_summed_beside_the_shunt():
    samples = telemetry(100.0) + [dict(s, rail="NVML_GPU1", watts=50.0, counter_j=s["counter_j"] / 2)
                                  for s in telemetry(100.0)]
    record, details = {}, {}
    compare_with_shunt(record, details, samples, 1.0, 9.0, 2000.0, 20.0, scope_resource="TCPIP::x")
    assert record["telemetry_counter_energy_j"] == pytest.approx(150.0 * 8)
    assert details["telemetry_rail"] == "NVML_GPU0,NVML_GPU1" and record["telemetry_plausible"] is True
