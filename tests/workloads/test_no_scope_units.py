"""A capture without a scope, end to end on the local target: the workload pinned to one of two GPUs, an NVML
idle window before the launch, units and phases in the record (app/capture/without_scope.py).

The fake NVML (nvidia-ml-py's API; CI has no GPU) has two GPUs. GPU 0 draws 500 W throughout: counted by
mistake it would be plain. GPU 1 idles at 30 W until the workload starts, which writes its board time t_on
to a file; from then on it draws 90 W. Its counter is ∫P dt = 30·(t − T0) + 60·max(0, t − t_on), in whole mJ.
So over [begin, end] (after t_on) the energy is 90 W·T, the idle power 30 W and the dynamic energy 60 W·T;
each phase's energy is 90 W times its length.
"""

import json

import pytest

import app.capture.without_scope as without_scope
from app.bench.config import loads_bench
from app.capture.procedure import Capture, CaptureRequest
from tests.helpers import FAKE_PYNVML_BASE
from workloads.spec import parse_workload

FAKE = FAKE_PYNVML_BASE + '''
import os
T0 = time.monotonic()
ON_FILE = %r
def _t_on():
    try:
        with open(ON_FILE) as fh:
            return float(fh.read())
    except (OSError, ValueError):
        return None
def nvmlDeviceGetCount():
    return 2
def _watts(h, t):
    if h == 0:
        return 500.0
    on = _t_on()
    return 90.0 if on is not None and t >= on else 30.0
def nvmlDeviceGetPowerUsage(h):
    return int(_watts(h, time.monotonic()) * 1000)
def nvmlDeviceGetTotalEnergyConsumption(h):
    t = time.monotonic()
    if h == 0:
        return int(500.0 * (t - T0) * 1000)
    on = _t_on()
    return int((30.0 * (t - T0) + (60.0 * max(0.0, t - on) if on is not None else 0.0)) * 1000)
'''

LOAD = r'''
import json, sys, time
def ev(event, **f):
    print("@joulebench " + json.dumps(dict(event=event, t=time.monotonic(), **f)), flush=True)
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write(repr(time.monotonic()))
import os
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(0.2)
ev("begin")
ev("phase", name="prefill", units="tokens", count=100)
time.sleep(0.3)
ev("phase", name="decode", units="tokens")
time.sleep(0.6)
ev("end", units="tokens", count=160, latency_s=0.01, phases={"decode": {"count": 60, "latency_s": 0.01}})
'''

BENCH = '''
[scope]
resource = "none"
[target]
kind = "local"
workdir = "{work}"
telemetry = "nvml"
'''


def test_pinned_to_gpu1_with_idle_window_units_and_phases(tmp_path, monkeypatch):
    fake = tmp_path / "fake_nvml"
    fake.mkdir()
    on_file = tmp_path / "t_on"
    (fake / "pynvml.py").write_text(FAKE % str(on_file))
    (tmp_path / "load.py").write_text(LOAD)
    monkeypatch.setenv("PYTHONPATH", str(fake))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    monkeypatch.setattr(without_scope, "IDLE_WINDOW_S", 0.5)
    spec = parse_workload({"name": "phased", "files": [str(tmp_path / "load.py")], "timeout_s": 60,
                           "command": f"python3 load.py {on_file}"}, "t.toml", tmp_path)
    req = CaptureRequest(bench=loads_bench(BENCH.format(work=tmp_path / "work")), workload=spec,
                         out_dir=tmp_path / "sessions")
    out = Capture(req).run()
    assert out.complete, out
    r = out.runs[0]
    T = r["duration_s"]
    # each counter reading is stamped within its bracket (ms on a loaded machine) and truncated to mJ: 0.5 J
    assert r["measurand"] == "GPU 1 (NVML)" and [g["gpu"] for g in r["gpus"]] == ["1"]
    assert r["visible_devices"] == "1"
    assert r["energy_j"] == pytest.approx(90.0 * T, abs=0.5)
    assert r["idle_power_w"] == pytest.approx(30.0, abs=0.5)        # 30 W over a 0.5 s window: ±0.5 W is 0.25 J
    assert r["dynamic_energy_j"] == pytest.approx(60.0 * T, abs=1.0)
    assert r["units"] == "tokens" and r["units_count"] == 160 and r["latency_s"] == 0.01
    assert r["j_per_unit"] == pytest.approx(r["energy_j"] / 160)
    assert r["dynamic_j_per_unit"] == pytest.approx(r["dynamic_energy_j"] / 160)
    pre, dec = r["phases"]
    assert (pre["name"], pre["units_count"], dec["name"], dec["units_count"]) == ("prefill", 100, "decode", 60)
    # the phases cover [begin, end] but for the instant between `begin` and the first phase event
    assert T - 0.01 < pre["duration_s"] + dec["duration_s"] <= T
    assert pre["energy_j"] == pytest.approx(90.0 * pre["duration_s"], abs=0.5)
    assert dec["energy_j"] == pytest.approx(90.0 * dec["duration_s"], abs=0.5)
    assert dec["j_per_unit"] == pytest.approx(dec["energy_j"] / 60)
    json.dumps(r)                                  # the record stays plain JSON


NO_PYVISA = r'''
import sys
sys.modules["pyvisa"] = None                  # importing it now raises ImportError, as where it is not installed
sys.modules["pyvisa_py"] = None
import app.capture.without_scope as ws
ws.IDLE_WINDOW_S = 0.3
from app.cli import main
code = main(["capture", "--bench", sys.argv[1], "--workload", "idle", "--param", "seconds=0.3", "--out", sys.argv[2],
             "--json"])
print("PYVISA_LOADED", any(m.startswith("pyvisa") and sys.modules[m] is not None for m in sys.modules))
sys.exit(code)
'''


def test_a_capture_without_a_scope_needs_no_pyvisa(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    fake = tmp_path / "fake_nvml"
    fake.mkdir()
    (fake / "pynvml.py").write_text(FAKE % str(tmp_path / "never"))
    bench = tmp_path / "bench.toml"
    bench.write_text(BENCH.format(work=tmp_path / "work"))
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", NO_PYVISA, str(bench), str(tmp_path / "out")], cwd=root,
                         capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": f"{fake}:{root}", "PATH": str(Path(sys.executable).parent),
                              "CUDA_VISIBLE_DEVICES": "0"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "PYVISA_LOADED False" in out.stdout
    doc = json.loads(out.stdout[out.stdout.index("{"):out.stdout.rindex("}") + 1])
    assert doc["runs"][0]["measurand"] == "GPU 0 (NVML)"
