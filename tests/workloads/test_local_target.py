"""LocalTarget: this computer through subprocess, with the launcher."""

import subprocess
import sys

import pytest

from tests.workloads import target_checks as checks
from workloads.target import LAUNCHER, LocalTarget


@pytest.fixture
def target(tmp_path):
    t = LocalTarget(tmp_path / "work")
    t.connect()
    yield t
    t.close()


def test_output_status_events(target):
    checks.check_run_output_status_and_events(target)


def test_timeout_kills_the_group(target, tmp_path):
    checks.check_timeout_kills_the_group(target, tmp_path / "pids")


def test_cancel_kills_the_group(target, tmp_path):
    checks.check_cancel_kills_the_group(target, tmp_path / "pids")


def test_upload_only_changed(target, tmp_path):
    checks.check_upload_only_changed(target, tmp_path, tmp_path / "work")


def test_parameter_injection_is_quoted(target, tmp_path):
    checks.check_parameter_injection_is_quoted(target, tmp_path)


def test_launcher_kills_the_group_when_its_stdin_closes(tmp_path):
    """What a dropped connection looks like to the launcher on the board."""
    pids = tmp_path / "pids"
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "--", checks.SLEEPERS.format(pids=pids)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = checks.read_pids(pids, 2)
    proc.stdin.close()
    proc.wait(10)
    for pid in started:
        assert checks.wait_gone(pid)
    out = proc.stdout.read()
    proc.stdout.close()
    proc.stderr.close()
    assert b'"reason":"connection lost"' in out


def test_facts_on_this_computer(target):
    facts = target.facts()
    assert facts["uname"].startswith("Linux")
    assert facts["python3"].startswith("Python 3")
    assert int(facts["cpu_count"]) >= 1 and int(facts["mem_total_kb"]) > 0
    assert facts["nvpmodel"] == "unavailable"           # not a Jetson: recorded, not an error
    assert facts["ina3221_hwmon"] == [] and facts["tegrastats"] is False


def test_setup_command_failure_names_the_command(target):
    from workloads.errors import TargetError
    target.run_setup(["true"])
    with pytest.raises(TargetError, match="setup command 'false' failed"):
        target.run_setup(["false"])


def test_gemm_idle_and_cpu_burn_run_with_events(target):
    from workloads.spec import find_workload
    for name, params, ops in (("gemm-fp32", {"n": 64, "reps": 3}, 2 * 64 ** 3 * 3),
                              ("gemm-fp16", {"n": 32, "reps": 2}, 2 * 32 ** 3 * 2),
                              ("idle", {"seconds": 0.2}, None), ("cpu-burn", {"seconds": 0.3}, None)):
        spec = find_workload(name)
        target.upload(list(spec.files))
        res = target.run(spec.render_command(params), timeout_s=60)
        assert res.ok, res.stderr
        assert res.protocol.ops == ops
        d, how = res.duration_s()
        assert how == "events" and d > 0
