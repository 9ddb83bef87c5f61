"""The commands of docs/command-line.md that the other tests do not already run."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_check_on_the_demo_bench_reports_both_ends():
    res = cli("check", "--demo")
    assert res.returncode == 0, res.stderr
    assert "driver: keysight-infiniivision" in res.stdout and "JOULEBENCHSIM" in res.stdout
    assert "target: this computer" in res.stdout and "nvpmodel: unavailable" in res.stdout


def test_workloads_lists_the_builtins():
    res = cli("workloads")
    assert res.returncode == 0
    for name in ("heat-slab-python", "heat-slab-numpy", "heat-slab-torch", "gemm-fp32", "idle", "cpu-burn"):
        assert name in res.stdout


def test_expected_failures_are_one_paragraph_and_nonzero(tmp_path):
    bad = tmp_path / "bench.toml"
    bad.write_text("[scope]\nresource = 'sim'\n")
    for args, words in ((("check", "--bench", bad), "[voltage] section is missing"),
                        (("capture", "--demo", "--workload", "no-such"), "no workload 'no-such'"),
                        (("capture", "--demo", "--workload", "idle", "--param", "nonsense"), "NAME=VALUE"),
                        (("capture", "--demo", "--workload", "idle", "--param", "colour=red"), "no parameter 'colour'"),
                        (("check", "--bench", tmp_path / "missing.toml"), "no such bench file")):
        res = cli(*args)
        assert res.returncode == 2, (args, res.stderr)
        assert words in res.stderr and "Traceback" not in res.stderr, res.stderr


HOG = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end: pass\n"


@pytest.fixture(params=[0, 2], ids=["quiet machine", "two CPU hogs beside it"])
def hogs(request):
    """A busy, shared machine: processes that keep every core busy, not started by Joulebench."""
    procs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(request.param)]
    yield len(procs)
    for p in procs:
        p.kill()
        p.wait()


def test_demo_capture_prints_a_plausible_result(tmp_path, hogs):
    # the demo's board follows the CPU time of the workload's own processes, so other load on the machine
    # neither triggers it early nor hides the workload
    import json
    res = cli("capture", "--demo", "--workload", "cpu-burn", "--param", "seconds=1", "--out", tmp_path, "--json",
              timeout=180)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)                 # the document of docs/command-line.md, not the table's layout
    assert doc["session"].startswith(str(tmp_path)) and doc["workload"] == "cpu-burn"
    [run] = doc["runs"]
    # the simulated board idles near 4.75 W and draws more with every core busy
    assert run["run"] == 1 and 4.0 < run["idle_power_w"] < 6.0 and run["avg_power_w"] > run["idle_power_w"]


def test_ctrl_c_saves_what_was_captured(tmp_path):
    import signal
    import time

    from app.session.reader import SessionReader
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "capture", "--demo", "--workload", "idle",
                             "--param", "seconds=30", "--out", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if "waiting for the trigger" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    err = "".join(seen) + err
    assert proc.returncode == 130, err[-2000:]
    assert "cancelled by the operator" in err and "marked incomplete" in err and "Traceback" not in err
    sessions = list(tmp_path.glob("*.h5"))
    with SessionReader(sessions[0]) as s:
        assert s.status == "incomplete"


def test_a_failing_run_shows_its_own_message(tmp_path):
    # jax is not installed here: the workload's own advice must reach the operator, not only "run(s) failed"
    import importlib.util
    if importlib.util.find_spec("jax") is not None:
        import pytest
        pytest.skip("jax is installed here, so heat-slab-jax does not fail")
    res = cli("capture", "--demo", "--workload", "heat-slab-jax", "--param", "trials=1", "--out", tmp_path,
              timeout=180)
    assert res.returncode == 2
    assert "run 1 failed" in res.stderr and "needs JAX on the board (pip install jax)" in res.stderr
    assert "Traceback" not in res.stderr and "no run completed" in res.stdout


def test_check_conformance_report_on_a_simulated_tektronix(tmp_path):
    bench = tmp_path / "b.toml"
    bench.write_text((ROOT / "resources" / "demo_bench.toml").read_text().replace("sim:keysight:cpu", "sim:tektronix:demo"))
    res = cli("check", "--bench", bench, "--conformance")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "driver: tektronix-mso" in out and '"vertical_divisions": 10' in out
    assert "voltage.probe_ratio: 10.0 -> 10.0" in out and "voltage (CH1): 200000 points over 2 s" in out
    assert "conformance: every setting and the self-check agree" in out


def test_messages_end_in_one_full_stop():
    from app.cli import sentence
    assert sentence("is sshd running?") == "is sshd running?"
    assert sentence("took 5555.") == "took 5555." and sentence("no trigger") == "no trigger."


def test_trust_host_key_refuses_a_fingerprint_other_than_the_boards(tmp_path, sshd):
    known = tmp_path / "known_hosts"
    bench = tmp_path / "b.toml"
    bench.write_text((ROOT / "resources" / "demo_bench.toml").read_text().replace(
        '[target]\nkind = "local"', f'[target]\nkind = "ssh"\nhost = "{sshd.host}"\nport = {sshd.port}\n'
        f'user = "{sshd.user}"\nidentity_file = "{sshd.user_key}"\nknown_hosts = "{known}"'))
    res = cli("check", "--bench", bench, "--trust-host-key", "SHA256:read-wrongly-off-the-console")
    assert res.returncode == 2 and "Nothing was trusted" in res.stderr and "Traceback" not in res.stderr
    assert not known.exists() or known.read_text() == ""
