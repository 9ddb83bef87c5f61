"""Host energy beside the GPU: RAPL zones of the Linux powercap tree, read by the launcher's NVML sampler and
unwrapped at max_energy_range_uj (workloads/scripts/jb_launcher.py), and their energy over [begin, end] in
the record (app/measure/telemetry_energy.py). A fake powercap tree stands in for /sys/class/powercap."""

import importlib.util
import math
import os
import threading
import time
from pathlib import Path

import pytest

from app.measure.telemetry_energy import estimate
from tests.helpers import FAKE_PYNVML_BASE
from workloads.target import LocalTarget, TelemetryOptions
from workloads.telemetry import counter_energy_j, rapl_rails, samples_from_launcher

SCRIPTS = Path(__file__).resolve().parents[2] / "workloads" / "scripts"


def launcher():
    spec = importlib.util.spec_from_file_location("jb_launcher_for_test", SCRIPTS / "jb_launcher.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def zone(root, name, label, top_uj, energy_uj=None):
    d = root / name
    d.mkdir(parents=True)
    (d / "name").write_text(label + "\n")
    (d / "max_energy_range_uj").write_text(f"{top_uj}\n")
    if energy_uj is not None:
        (d / "energy_uj").write_text(f"{energy_uj}\n")
    return d


def set_energy(d, uj):
    (d / "energy_uj.tmp").write_text(f"{uj}\n")
    os.replace(d / "energy_uj.tmp", d / "energy_uj")


def test_zones_are_named_after_their_package_and_unreadable_ones_skipped(tmp_path):
    zone(tmp_path, "intel-rapl:0", "package-0", 1_000_000, 5)
    zone(tmp_path, "intel-rapl:0:0", "dram", 2_000_000, 7)
    zone(tmp_path, "intel-rapl:1", "package-1", 1_000_000)          # no energy_uj: not readable
    (tmp_path / "intel-rapl").mkdir()                                # the control type's own folder
    rails = [(r, top) for r, _, top in launcher().rapl_domains(str(tmp_path))]
    assert rails == [("RAPL_package-0", 1_000_000), ("RAPL_package-0_dram", 2_000_000)]


def test_a_wrapped_counter_adds_a_whole_range(tmp_path):
    jb = launcher()
    d = zone(tmp_path, "intel-rapl:0", "package-0", 1_000_000, 900_000)
    domains, state = jb.rapl_domains(str(tmp_path)), {}
    first = jb.read_rapl(domains, state)[0]["counter_j"]
    set_energy(d, 100_000)
    second = jb.read_rapl(domains, state)[0]["counter_j"]
    # 900 000 -> 1 000 000 is 100 000 µJ, one more to 0, then 100 000: 200 001 µJ
    assert (first, second) == (0.9, pytest.approx(0.9 + 0.200001, abs=1e-12))
    set_energy(d, 150_000)
    assert jb.read_rapl(domains, state)[0]["counter_j"] == pytest.approx(0.9 + 0.250001, abs=1e-12)


FAKE_GPU = FAKE_PYNVML_BASE + '''
def nvmlDeviceGetPowerUsage(h):
    return 100000
def nvmlDeviceGetTotalEnergyConsumption(h):
    return int(100.0 * time.monotonic() * 1000)
'''


def test_the_launcher_reads_rapl_beside_nvml_across_wraps(tmp_path, monkeypatch):
    # the package draws 2 W and its counter wraps at 1 J: every 0.5 s, three times in the run
    d = zone(tmp_path / "powercap", "intel-rapl:0", "package-0", 999_999, 0)
    t_ref = time.monotonic()
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            set_energy(d, int(2e6 * (time.monotonic() - t_ref)) % 1_000_000)
            time.sleep(0.002)
    th = threading.Thread(target=tick, daemon=True)
    th.start()
    fake = tmp_path / "fake_nvml"
    fake.mkdir()
    (fake / "pynvml.py").write_text(FAKE_GPU)
    monkeypatch.setenv("PYTHONPATH", str(fake))
    monkeypatch.setenv("JOULEBENCH_POWERCAP_ROOT", str(tmp_path / "powercap"))
    try:
        t = LocalTarget(tmp_path / "work")
        t.connect()
        res = t.run("sleep 1.6", timeout_s=30, telemetry=TelemetryOptions(nvml=True, interval_s=0.02))
    finally:
        stop.set()
        th.join()
    samples = samples_from_launcher(res.telemetry)
    assert rapl_rails(samples) == ["RAPL_package-0"]
    rapl = [s for s in samples if s["rail"] == "RAPL_package-0"]
    t0, t1 = rapl[2]["time_s"], rapl[-2]["time_s"]
    assert t1 - t0 > 1.0                                        # at least two wraps inside
    # 2 W × (t1 − t0); the file is rewritten every 2 ms (4 mJ) and each reading's instant is known within
    # its bracket: allow 20 mJ at each end
    assert counter_energy_j(samples, "RAPL_package-0", t0, t1) == pytest.approx(2.0 * (t1 - t0), abs=0.04)


def test_host_energy_is_in_the_record():
    # a GPU at 300 W and a package at 40 W, both with exact counters read every 0.05 s: over [1, 3] the
    # host's package used 80 J
    samples = []
    for k in range(81):
        t = 0.05 * k
        samples.append({"time_s": t, "rail": "NVML_GPU0", "volts": math.nan, "amps": math.nan, "watts": 300.0,
                        "counter_j": 300.0 * t, "time_span_s": math.nan})
        samples.append({"time_s": t, "rail": "RAPL_package-0", "volts": math.nan, "amps": math.nan,
                        "watts": math.nan, "counter_j": 1000.0 + 40.0 * t, "time_span_s": math.nan})
    rec = estimate(samples, 1.0, 3.0).record(None)
    assert rec["host_energy_j"] == {"RAPL_package-0": pytest.approx(80.0)}
    assert rec["energy_j"] == pytest.approx(600.0) and rec["measurand"] == "GPU 0 (NVML)"
    assert "RAPL" in rec["host_energy_note"]
