"""Telemetry: a fake INA3221 hwmon tree read by the launcher over SSH, and recorded tegrastats lines."""

import math

import pytest

from tests.helpers import FAKE_PYNVML_BASE, write_hwmon
from workloads.target import LocalTarget, TelemetryOptions
from workloads.telemetry import (
    energy_j,
    input_rail,
    options_for,
    parse_tegrastats,
    samples_from_launcher,
)

ORIN_NX = ("11-23-2026 14:02:11 RAM 2304/15656MB (lfb 3380x4MB) SWAP 0/7828MB (cached 0MB) CPU [1%@729,0%@729,"
           "0%@729,0%@729,0%@729,0%@729,off,off] EMC_FREQ 0%@2133 GR3D_FREQ 0%@[305] VIC_FREQ 729 APE 200 "
           "CV0@46.062C CPU@47.625C SOC2@45.687C SOC0@46.031C CV1@45.25C GPU@45.281C tj@47.625C SOC1@45.156C "
           "CV2@45.125C VDD_IN 5704mW/5704mW VDD_CPU_GPU_CV 558mW/558mW VDD_SOC 1437mW/1437mW")
AGX_ORIN = ("11-23-2026 14:02:11 RAM 5222/30536MB (lfb 5775x4MB) CPU [2%@1190,1%@1190] GR3D_FREQ 0% "
            "VDD_GPU_SOC 3155mW/3155mW VDD_CPU_CV 788mW/788mW VIN_SYS_5V0 3736mW/3736mW "
            "VDDQ_VDD2_1V8AO 402mW/402mW")


def test_tegrastats_both_formats():
    assert parse_tegrastats(ORIN_NX) == {"VDD_IN": 5.704, "VDD_CPU_GPU_CV": 0.558, "VDD_SOC": 1.437}
    assert parse_tegrastats(AGX_ORIN) == {"VDD_GPU_SOC": 3.155, "VDD_CPU_CV": 0.788, "VIN_SYS_5V0": 3.736,
                                          "VDDQ_VDD2_1V8AO": 0.402}
    assert parse_tegrastats("garbage line") == {}


def test_energy_by_trapezoid_on_board_time():
    # 5 W at t=10, 15 W at t=20: over [10, 20] the mean is 10 W -> 100 J; [12, 14]: 7..9 W -> 16 J
    samples = [{"time_s": 10.0, "rail": "VDD_IN", "watts": 5.0, "volts": 0, "amps": 0},
               {"time_s": 20.0, "rail": "VDD_IN", "watts": 15.0, "volts": 0, "amps": 0}]
    assert energy_j(samples, "VDD_IN", 10.0, 20.0) == pytest.approx(100.0)
    assert energy_j(samples, "VDD_IN", 12.0, 14.0) == pytest.approx(16.0)
    assert input_rail(samples) == "VDD_IN"


def test_a_rail_with_its_own_bracket_keeps_its_own_time():
    # the message's t is when the sampler woke; a rail read inside a timed bracket carries the bracket's middle
    # and width; a negative width is nonsense and falls back to the message's t, with no width
    msgs = [{"event": "telemetry", "t": 100.0, "rails": [
        {"rail": "NVML_GPU0", "watts": 200.0, "counter_j": 5.0, "t": 100.004, "t_span_s": 0.002},
        {"rail": "NVML_GPU1", "watts": 100.0, "t": 100.009, "t_span_s": -0.001},
        {"rail": "VDD_IN", "volts": 19.0, "amps": 0.5}]}]
    got = {s["rail"]: s for s in samples_from_launcher(msgs)}
    assert (got["NVML_GPU0"]["time_s"], got["NVML_GPU0"]["time_span_s"]) == (100.004, 0.002)
    assert got["NVML_GPU1"]["time_s"] == 100.0 and math.isnan(got["NVML_GPU1"]["time_span_s"])
    assert got["VDD_IN"]["time_s"] == 100.0 and math.isnan(got["VDD_IN"]["time_span_s"])
    assert got["VDD_IN"]["watts"] == pytest.approx(9.5)


def fake_hwmon(root):
    # INA3221 channel 1: VDD_IN at 19.0 V, 250 mA (4.75 W); channel 2: VDD_SOC 5.0 V, 100 mA
    return write_hwmon(root, [("VDD_IN", 19000, 250), ("VDD_SOC", 5000, 100)])


def check_hwmon_sampling(target, hwmon_dir):
    res = target.run("sleep 0.5", timeout_s=30, telemetry=TelemetryOptions(hwmon_dirs=(str(hwmon_dir),),
                                                                           interval_s=0.05))
    samples = samples_from_launcher(res.telemetry)
    vdd_in = [s for s in samples if s["rail"] == "VDD_IN"]
    assert len(vdd_in) >= 5
    assert all(s["volts"] == 19.0 and s["amps"] == 0.25 and s["watts"] == pytest.approx(4.75) for s in vdd_in)
    assert all(res.board_start_s - 0.1 <= s["time_s"] <= res.board_end_s + 0.1 for s in vdd_in)
    t0, t1 = vdd_in[0]["time_s"], vdd_in[-1]["time_s"]
    assert energy_j(samples, "VDD_IN", t0, t1) == pytest.approx(4.75 * (t1 - t0))


def test_hwmon_tree_over_ssh(sshd, tmp_path):
    from workloads.ssh_target import SshTarget
    hw = fake_hwmon(tmp_path / "hwmon0")
    t = SshTarget(sshd.host, port=sshd.port, user=sshd.user, identity_file=str(sshd.user_key),
                  known_hosts=str(sshd.known_hosts), workdir=str(tmp_path / "work"), ssh_config=[])
    t.connect()
    try:
        check_hwmon_sampling(t, hw)
    finally:
        t.close()


def test_hwmon_tree_locally(tmp_path):
    t = LocalTarget(tmp_path / "work")
    t.connect()
    check_hwmon_sampling(t, fake_hwmon(tmp_path / "hwmon0"))


def test_telemetry_choice_from_facts():
    jetson = {"ina3221_hwmon": ["/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon1"], "tegrastats": True}
    assert options_for("auto", jetson).hwmon_dirs == tuple(jetson["ina3221_hwmon"])
    assert options_for("tegrastats", jetson).tegrastats
    assert options_for("off", jetson) is None
    assert options_for("auto", {"ina3221_hwmon": [], "tegrastats": False}) is None


def test_energy_over_a_long_run_is_exact_for_a_ramp():
    # a 3 341 s run sampled at 20 Hz (67 000 samples) of P(t) = 10 + 0.001 t W: the trapezoid is exact for a
    # linear P, so E over [100, 3000] = 10*2900 + 0.001*(3000^2 - 100^2)/2 = 33 495 J
    from workloads.telemetry import energy_j
    samples = [{"time_s": k * 0.05, "rail": "VDD_IN", "volts": 19.0, "amps": 0.0, "watts": 10.0 + 0.001 * k * 0.05}
               for k in range(3341 * 20)]
    e = energy_j(samples, "VDD_IN", 100.0, 3000.0)
    assert e == pytest.approx(10 * 2900 + 0.001 * (3000 ** 2 - 100 ** 2) / 2, rel=1e-12)


# --- NVML: the launcher reads a fake of the nvidia-ml-py bindings' API (pynvml), since CI has no GPU.
# The fake GPU draws a constant 60 W, so over any [t0, t1] both the integrated power samples and the
# total-energy counter's difference must be 60 W x (t1 - t0) (the counter has mJ resolution, as NVML's).
FAKE_PYNVML = FAKE_PYNVML_BASE + '''
T0 = time.monotonic()
def nvmlDeviceGetPowerUsage(h):
    return 60000                                   # mW
def nvmlDeviceGetTotalEnergyConsumption(h):
    if COUNTER is None:
        raise NVMLError("Not Supported")
    return int(COUNTER + 60.0 * (time.monotonic() - T0) * 1000.0)   # mJ since the driver loaded
COUNTER = %s
'''


def nvml_run(tmp_path, monkeypatch, counter_mj):
    fake = tmp_path / "fake_nvml"
    fake.mkdir()
    (fake / "pynvml.py").write_text(FAKE_PYNVML % counter_mj)
    monkeypatch.setenv("PYTHONPATH", str(fake))
    t = LocalTarget(tmp_path / "work")
    t.connect()
    return t.run("sleep 0.6", timeout_s=30, telemetry=TelemetryOptions(nvml=True, interval_s=0.02))


def test_nvml_power_and_energy_counter(tmp_path, monkeypatch):
    from workloads.telemetry import counter_energy_j
    res = nvml_run(tmp_path, monkeypatch, "123456789")
    samples = samples_from_launcher(res.telemetry)
    gpu = [s for s in samples if s["rail"] == "NVML_GPU0"]
    assert len(gpu) >= 10 and all(s["watts"] == 60.0 for s in gpu)
    assert input_rail(samples) == "NVML_GPU0"
    t0, t1 = gpu[1]["time_s"], gpu[-2]["time_s"]
    assert energy_j(samples, "NVML_GPU0", t0, t1) == pytest.approx(60.0 * (t1 - t0))
    # the counter is read just after the sample's stamp (microseconds, up to milliseconds on a loaded machine)
    # and truncated to mJ: each end may be late by the read delay, so allow 5 ms at 60 W (0.3 J)
    assert counter_energy_j(samples, "NVML_GPU0", t0, t1) == pytest.approx(60.0 * (t1 - t0), abs=0.3)
    assert counter_energy_j(samples, "NVML_GPU0", t0 - 10, t1) is None      # not spanned: no guess


def test_nvml_without_a_counter_and_without_the_bindings(tmp_path, monkeypatch):
    from workloads.telemetry import counter_energy_j
    res = nvml_run(tmp_path, monkeypatch, "None")
    samples = samples_from_launcher(res.telemetry)
    gpu = [s for s in samples if s["rail"] == "NVML_GPU0"]
    assert gpu and counter_energy_j(samples, "NVML_GPU0", gpu[0]["time_s"], gpu[-1]["time_s"]) is None
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "nowhere"))
    t = LocalTarget(tmp_path / "work2")
    t.connect()
    res = t.run("sleep 0.2", timeout_s=30, telemetry=TelemetryOptions(nvml=True, interval_s=0.02))
    assert res.exit_status == 0 and not res.telemetry
    assert any("NVML telemetry could not start" in w and "nvidia-ml-py" in w for w in res.launcher_warnings)


def test_nvml_chosen_from_facts():
    assert options_for("nvml", {}).nvml
    assert options_for("auto", {"ina3221_hwmon": [], "tegrastats": False, "nvidia_gpus": ["NVIDIA H100"]}).nvml
    jetson = {"ina3221_hwmon": ["/sys/x/hwmon1"], "tegrastats": True, "nvidia_gpus": []}
    assert not options_for("auto", jetson).nvml
