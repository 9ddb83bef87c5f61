"""The launcher's NVML sampler: only the GPUs the workload can see, the instantaneous power field, and what it
says about itself. NVML cannot run here (CI has no GPU): a fake of the nvidia-ml-py API (pynvml) stands in.

The fake has two GPUs. GPU 0 draws 60 W, GPU 1 draws 90 W (constant), so over any [t0, t1] the counter of
GPU i moves by P_i·(t1 − t0). Its instantaneous field reads P_i + 5 W and its averaged reading P_i, so which of
the two the launcher sent is visible in the watts.
"""

import pytest

from tests.helpers import FAKE_PYNVML_BASE
from workloads.target import LocalTarget, TelemetryOptions
from workloads.telemetry import counter_energy_j, gpu_rails, nvml_info, samples_from_launcher

TWO_GPUS = FAKE_PYNVML_BASE + '''
T0 = time.monotonic()
WATTS = {0: 60.0, 1: 90.0}
INSTANT = %s
class _Value:
    def __init__(self, mw):
        self.uiVal = mw
class _Field:
    def __init__(self, ret, mw):
        self.nvmlReturn = ret
        self.value = _Value(mw)
NVML_FI_DEV_POWER_INSTANT = 186
def nvmlDeviceGetCount():
    return 2
def nvmlDeviceGetUUID(h):
    return "GPU-%%d0ab-fake" %% h
def nvmlDeviceGetPowerUsage(h):
    return int(WATTS[h] * 1000)
def nvmlDeviceGetFieldValues(h, ids):
    assert ids == [186]
    return [_Field(0 if INSTANT else 3, int((WATTS[h] + 5.0) * 1000))]
def nvmlDeviceGetTotalEnergyConsumption(h):
    return int(WATTS[h] * (time.monotonic() - T0) * 1000.0)
'''


def run_two_gpus(tmp_path, monkeypatch, visible, instant=True):
    fake = tmp_path / "fake_nvml"
    fake.mkdir(exist_ok=True)
    (fake / "pynvml.py").write_text(TWO_GPUS % instant)
    monkeypatch.setenv("PYTHONPATH", str(fake))
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    t = LocalTarget(tmp_path / "work")
    t.connect()
    return t.run("sleep 0.4", timeout_s=30, telemetry=TelemetryOptions(nvml=True, interval_s=0.02))


@pytest.mark.parametrize("visible,expected", [
    (None, ["NVML_GPU0", "NVML_GPU1"]),
    ("1", ["NVML_GPU1"]),
    ("GPU-10ab", ["NVML_GPU1"]),            # a UUID's unique prefix, as CUDA takes it
    ("0,7,1", ["NVML_GPU0"]),               # CUDA stops at the first invalid entry
])
def test_only_the_gpus_the_workload_sees_are_measured(tmp_path, monkeypatch, visible, expected):
    res = run_two_gpus(tmp_path, monkeypatch, visible)
    samples = samples_from_launcher(res.telemetry)
    assert gpu_rails(samples) == expected
    info = nvml_info(res.telemetry)
    assert info["visible"] == visible and info["gpus"] == [int(r[-1]) for r in expected]


def test_pinned_to_gpu1_its_counter_is_its_own_90_w(tmp_path, monkeypatch):
    res = run_two_gpus(tmp_path, monkeypatch, "1")
    samples = samples_from_launcher(res.telemetry)
    gpu = [s for s in samples if s["rail"] == "NVML_GPU1"]
    t0, t1 = gpu[1]["time_s"], gpu[-2]["time_s"]
    # 90 W × (t1 − t0); each end is read within its bracket (ms on a loaded machine) and truncated to mJ
    assert counter_energy_j(samples, "NVML_GPU1", t0, t1) == pytest.approx(90.0 * (t1 - t0), abs=0.5)


def test_no_gpu_visible_measures_none_and_says_so(tmp_path, monkeypatch):
    res = run_two_gpus(tmp_path, monkeypatch, "")
    assert not samples_from_launcher(res.telemetry)
    assert any("sees no GPU" in w for w in res.launcher_warnings)


@pytest.mark.parametrize("instant,watts,field", [(True, 65.0, "instant"), (False, 60.0, "average")])
def test_the_instantaneous_field_where_the_driver_offers_it(tmp_path, monkeypatch, instant, watts, field):
    res = run_two_gpus(tmp_path, monkeypatch, "0", instant=instant)
    gpu = [s for s in samples_from_launcher(res.telemetry) if s["rail"] == "NVML_GPU0"]
    assert gpu and all(s["watts"] == watts for s in gpu)
    assert nvml_info(res.telemetry)["power_field"] == {"NVML_GPU0": field}
