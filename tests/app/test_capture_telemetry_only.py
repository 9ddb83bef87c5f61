"""A bench without a scope (scope.resource = "none"): the energy comes from the board's telemetry alone.

The local target runs a workload with a warm-up before `begin`; the sensors are fakes of known energy on the
machine's monotonic clock (the board clock of the local target):
* NVML: a fake of the nvidia-ml-py API whose GPU draws P(t) = A + B·(t − t_ref), so over [b, e] the energy is
  A·(e − b) + B·((e − t_ref)² − (b − t_ref)²)/2 (an analytic integral); its energy counter is that integral
  in whole millijoules, as NVML's.
* INA3221: a hwmon tree whose current file the workload itself switches (warm-up 0.30 A, then 0.75 A inside
  [begin, end], then 0.20 A), as a Jetson module's sensor follows the load; the bus reads 19.000 V, so the
  energy is 19.0 V × 0.75 A × (e − b).
"""

import json
import time

import numpy as np
import pytest

from app.bench.config import loads_bench
from app.capture.procedure import Capture, CaptureFailed, CaptureRequest
from app.errors import BenchError
from app.report.tables import build_report
from app.session.reader import SessionReader
from tests.helpers import FAKE_PYNVML_BASE, write_hwmon
from workloads.spec import parse_workload

A_W, B_W_PER_S = 150.0, 40.0

FAKE_PYNVML = FAKE_PYNVML_BASE + '''
T_REF = %r
A, B = %r, %r
POWER_CALL_S = %r
def _t():
    return time.monotonic() - T_REF
def nvmlDeviceGetPowerUsage(h):
    time.sleep(POWER_CALL_S)                                       # a slow driver, or a busy board
    return int(round((A + B * _t()) * 1000.0))                     # mW
def nvmlDeviceGetTotalEnergyConsumption(h):
    t = _t()
    return int((A * t + B * t * t / 2) * 1000.0)                   # mJ
'''

# warm-up (switching the fake INA3221's current when given a file), begin, the measured region, end, teardown
LOAD = r'''
import json, sys, time
curr_file, warm_s, busy_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def amps(ma):
    if curr_file != "-":
        with open(curr_file + ".tmp", "w") as fh:
            fh.write("%d\n" % ma)
        import os
        os.replace(curr_file + ".tmp", curr_file)
amps(300)
time.sleep(warm_s)
amps(750)
t0 = time.monotonic()
print("@joulebench " + json.dumps({"event": "begin", "t": t0}), flush=True)
time.sleep(busy_s)
t1 = time.monotonic()
amps(200)
print("@joulebench " + json.dumps({"event": "end", "t": t1, "ops": 4e12}), flush=True)
time.sleep(0.2)
'''

BENCH = '''
[scope]
resource = "none"
[target]
kind = "local"
workdir = "{work}"
telemetry = "{telemetry}"
'''


def workload(tmp, curr_file="-", warm_s=0.4, busy_s=1.2):
    script = tmp / "load.py"
    script.write_text(LOAD)
    return parse_workload({"name": "telemetry-load", "files": [str(script)], "timeout_s": 60,
                           "command": f"python3 load.py {curr_file} {warm_s} {busy_s}"}, "t.toml", tmp)


def capture(tmp, telemetry, spec):
    bench = loads_bench(BENCH.format(work=tmp / "work", telemetry=telemetry))
    req = CaptureRequest(bench=bench, workload=spec, out_dir=tmp / "sessions", label="no-scope")
    return Capture(req).run()


def nvml_capture(tmp_path, monkeypatch, power_call_s=0.0):
    """A capture on the fake NVML ramp; returns (result, run record, timing, telemetry rows, t_ref)."""
    fake = tmp_path / "fake_nvml"
    fake.mkdir()
    t_ref = time.monotonic()
    (fake / "pynvml.py").write_text(FAKE_PYNVML % (t_ref, A_W, B_W_PER_S, power_call_s))
    monkeypatch.setenv("PYTHONPATH", str(fake))
    out = capture(tmp_path, "nvml", workload(tmp_path))
    assert out.complete
    with SessionReader(out.session_path) as s:
        timing = s.run(1).details["timing"]
        assert s.group_attrs("bench")["resource"] == "none" and s.run(1).window_numbers() == []
        rows = s.run(1).telemetry()
    return out, out.runs[0], timing, rows, t_ref


def counter_slack_j(rows, end_s):
    """How far the counter energy may be from the analytic integral, each part worked out from the fake:
    the counter is read every 50 ms and interpolated linearly at begin and end; under a ramp it is quadratic,
    so each end may be off by up to B·Δ²/8 (Δ = 0.05 s); whole mJ at both ends; and each reading's instant is
    known to ± half its recorded bracket, which moves the counter by at most P·h (P ≤ A + B·end)."""
    half_span_s = float(rows["time_span_s"].max()) / 2
    return 2 * B_W_PER_S * 0.05 ** 2 / 8 + 3e-3 + 2 * (A_W + B_W_PER_S * end_s) * half_span_s


def test_nvml_only_capture_matches_the_analytic_integral(tmp_path, monkeypatch):
    out, r, timing, rows, t_ref = nvml_capture(tmp_path, monkeypatch)
    assert len(rows) >= 20
    # each reading carries its bracket, in board-clock terms: one sampler reads a rail call after call, so two
    # successive brackets (each centred on its time_s) cannot overlap: (span_k + span_k+1)/2 <= t_k+1 − t_k.
    # (A busy machine stretches a bracket and the gap after it alike; a bracket that took in the sampler's sleep,
    # or a span in the wrong unit, breaks it.)
    assert np.all(np.isfinite(rows["time_span_s"])) and np.all(rows["time_span_s"] >= 0)
    for rail in set(rows["rail"]):
        mine = np.sort(rows[rows["rail"] == rail], order="time_s")
        span = mine["time_span_s"]
        assert np.all((span[:-1] + span[1:]) / 2 <= np.diff(mine["time_s"]) + 1e-9), rail
    b, e = timing["begin_s"] - t_ref, timing["end_s"] - t_ref
    truth = A_W * (e - b) + B_W_PER_S * (e * e - b * b) / 2
    assert r["energy_method"] == "telemetry: NVML energy counter" and r["energy_source"] == "telemetry (nvml)"
    slack_j = counter_slack_j(rows, e)
    assert r["energy_j"] == pytest.approx(truth, abs=slack_j)
    assert r["telemetry_energy_j"] == pytest.approx(truth, rel=1e-4)      # the trapezoid is exact on a ramp
    assert r["duration_s"] == pytest.approx(1.2, abs=0.1)
    assert r["j_per_gop"] == pytest.approx(truth / 4000.0, abs=slack_j / 4000.0)     # 4e12 ops = 4000 GOp
    # the warm-up before begin is reported, not counted: the ramp's integral from the launch to begin
    launch = timing["launch_s"] - t_ref
    assert r["launch_to_begin_j"] == pytest.approx(A_W * (b - launch) + B_W_PER_S * (b * b - launch * launch) / 2,
                                                   rel=0.02)
    # widened and labelled: ±5 % of the reading (NVML reference) is in the budget, and the result says what
    # it is not
    assert r["uncertainty_j"] >= 1.96 * truth * 0.05 / 3 ** 0.5 * 0.999
    assert r["measurand"] == "GPU 0 (NVML)" and "GPU only" in r["fidelity"]
    assert any(w.startswith("no scope was used") for w in r["warnings"])
    runs, _ = build_report([out.session_path])
    assert runs[0]["energy_source"] == "telemetry (nvml)" and runs[0]["scope_idn"] == ""


def test_a_slow_driver_call_does_not_move_the_counter_readings(tmp_path, monkeypatch):
    # each power reading takes 30 ms before the counter is read: stamped before both calls, every counter
    # reading would be 30 ms late, and the energy off by about P·30 ms ≈ 6 J at ~200 W
    out, r, timing, rows, t_ref = nvml_capture(tmp_path, monkeypatch, power_call_s=0.030)
    b, e = timing["begin_s"] - t_ref, timing["end_s"] - t_ref
    truth = A_W * (e - b) + B_W_PER_S * (e * e - b * b) / 2
    slack_j = counter_slack_j(rows, e)
    assert slack_j < 0.5                      # the counter's brackets do not hold the slow power call
    assert r["energy_j"] == pytest.approx(truth, abs=slack_j)
    with SessionReader(out.session_path) as s:
        budget = {b["name"] for b in s.run(1).details["budget"]}
    assert "time stamps of the readings (± half each read's timed bracket)" in budget


def test_ina3221_only_capture_follows_the_load(tmp_path):
    hw = write_hwmon(tmp_path / "hwmon3", [("VDD_IN", 19000, 300)])
    from workloads.target import LocalTarget
    real_facts = LocalTarget.facts
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(LocalTarget, "facts", lambda self: {**real_facts(self), "ina3221_hwmon": [str(hw)]})
        out = capture(tmp_path, "auto", workload(tmp_path, curr_file=str(hw / "curr1_input")))
    r = out.runs[0]
    truth = 19.0 * 0.75 * r["duration_s"]
    # the readings are 50 ms apart and the current steps at both edges: the interpolated energy may be off by
    # up to |ΔP|·Δ/2 at each edge, which the budget carries; the truth lies inside the expanded interval
    assert abs(r["energy_j"] - truth) <= r["uncertainty_j"]
    assert r["energy_j"] == pytest.approx(truth, rel=0.05)
    assert r["energy_method"] == "telemetry: ina3221 power readings" and r["measurand"] == "VDD_IN (ina3221)"
    with SessionReader(out.session_path) as s:
        budget = {b["name"] for b in s.run(1).details["budget"]}
    assert "sense resistor tolerance (1 %, assumed)" in budget and "edges of [begin, end] between readings" in budget


def test_no_telemetry_source_is_an_error_that_says_what_the_board_has(tmp_path):
    with pytest.raises(CaptureFailed) as err:
        capture(tmp_path, "auto", workload(tmp_path))
    msg = str(err.value)
    assert 'scope.resource is "none"' in msg and "no INA3221 hwmon tree" in msg and "connect a scope" in msg


def test_bench_without_scope_is_validated():
    ok = loads_bench(BENCH.format(work="/tmp/w", telemetry="auto"))
    assert not ok.has_scope and ok.voltage is None and ok.acquisition is None
    assert "resource = \"none\"" in ok.to_toml() and loads_bench(ok.to_toml()).scope.resource == "none"
    with pytest.raises(BenchError, match=r"target.telemetry.*only measurement"):
        loads_bench(BENCH.format(work="/tmp/w", telemetry="off"))
    with pytest.raises(BenchError, match=r"\[marker\].*needs a scope channel"):
        loads_bench(BENCH.format(work="/tmp/w", telemetry="auto")
                    + '[marker]\nchannel = 3\nthreshold_v = 1.5\nhigh = "x"\nlow = "y"\n')
    with pytest.raises(BenchError, match=r"\[voltage\] section is missing.*scope.resource = \"none\""):
        loads_bench(BENCH.format(work="/tmp/w", telemetry="auto").replace('"none"', '"sim"'))


def test_scope_commands_refuse_a_bench_without_scope(tmp_path):
    from app.bench.zero import measure_zero
    bench = loads_bench(BENCH.format(work=tmp_path, telemetry="auto"))
    with pytest.raises(BenchError, match="needs a scope"):
        measure_zero(bench)
    assert json.dumps(bench.to_toml())


def test_reports_say_no_scope_was_used(tmp_path, monkeypatch):
    from app.report.html import write_html_report
    fake = tmp_path / "fake_nvml"
    fake.mkdir()
    (fake / "pynvml.py").write_text(FAKE_PYNVML % (time.monotonic(), 60.0, 0.0, 0.0))
    monkeypatch.setenv("PYTHONPATH", str(fake))
    out = capture(tmp_path, "nvml", workload(tmp_path, warm_s=0.1, busy_s=0.5))
    page = write_html_report([out.session_path], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "NO SCOPE WAS USED for 1 of 1 runs" in page and "GPU 0 (NVML)" in page and "scope: none" in page
