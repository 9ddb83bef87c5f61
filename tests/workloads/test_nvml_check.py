"""The GPU scripts' checker (benchmarks/nvml_check.py) on a fake NVML: a capture without a scope and the
independent sampler (benchmarks/nvml_sampler.py) read the same fake GPU; the checks pass, and a band that
excludes the run's J per unit makes the checker fail (its exit status is what the scripts pass on).

The fake (tests/workloads/test_no_scope_units.py): GPU 1 idles at 30 W and draws 90 W once the workload runs;
the workload does 160 tokens, so J/token ≈ 90 W × T / 160."""

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import app.capture.without_scope as without_scope
from app.bench.config import loads_bench
from app.capture.procedure import Capture, CaptureRequest
from tests.workloads.test_no_scope_units import BENCH, FAKE, LOAD
from workloads.spec import parse_workload

ROOT = Path(__file__).resolve().parents[2]


def load_checker():
    spec = importlib.util.spec_from_file_location("nvml_check", ROOT / "benchmarks" / "nvml_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_checks_pass_on_a_good_run_and_a_band_fails_it(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "fake_nvml"
    fake.mkdir()
    on_file = tmp_path / "t_on"
    (fake / "pynvml.py").write_text(FAKE % str(on_file))
    (tmp_path / "load.py").write_text(LOAD.replace("time.sleep(0.6)", "time.sleep(1.2)"))
    monkeypatch.setenv("PYTHONPATH", str(fake))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    monkeypatch.setattr(without_scope, "IDLE_WINDOW_S", 0.5)
    csv = tmp_path / "sampler.csv"
    sampler = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "nvml_sampler.py"), str(csv),
                                "--interval", "0.01"], env={"PYTHONPATH": str(fake)})
    try:
        spec = parse_workload({"name": "phased", "files": [str(tmp_path / "load.py")], "timeout_s": 60,
                               "command": f"python3 load.py {on_file}"}, "t.toml", tmp_path)
        req = CaptureRequest(bench=loads_bench(BENCH.format(work=tmp_path / "work")), workload=spec,
                             out_dir=tmp_path / "sessions", label="fake")
        out = Capture(req).run()
        time.sleep(0.2)
    finally:
        sampler.kill()
        sampler.wait()
    assert out.complete
    checker = load_checker()
    monkeypatch.setattr(sys, "argv", ["nvml_check.py", str(tmp_path / "sessions"), str(csv),
                                      "--band", "tokens=0.1:2", "--idle-min", "25", "--idle-max", "35"])
    assert checker.main() == 0, capsys.readouterr().out
    assert "ok   fake run 001" in capsys.readouterr().out
    # 90 W × ~1.5 s / 160 tokens ≈ 0.85 J/token: outside [1, 2]
    monkeypatch.setattr(sys, "argv", ["nvml_check.py", str(tmp_path / "sessions"), str(csv),
                                      "--band", "tokens=1:2"])
    assert checker.main() == 1
    assert "J per tokens" in capsys.readouterr().out
