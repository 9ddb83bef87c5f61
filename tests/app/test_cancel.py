"""Cancel while the workload runs (issue 23 case 4, issue 28's cancel defect): the board's process is stopped,
what was captured is saved, the run is marked cancelled (not failed) with a partial estimate, and the command
line exits 130 on Ctrl-C and on SIGTERM alike.

The board is the simulated one of test_capture_e2e (19 V supply, 0.01 ohm shunt; the test workload draws
BUSY_A between its begin and end events), so the partial estimate's power is worked out by hand:
P = (19 V - 0.01 ohm x 0.75 A) x 0.75 A = 14.244 W."""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.bench.config import loads_bench
from app.capture.procedure import Capture, CaptureFailed, CaptureRequest
from app.session.reader import SessionReader
from tests.app.test_capture_e2e import BUSY_A, bench_text, rig, workload  # noqa: F401  (rig is a fixture)

ROOT = Path(__file__).resolve().parents[2]
RUN_S = 8.0


def test_cancel_while_the_workload_runs_stops_it_and_gives_the_cancelled_result(rig):  # noqa: F811
    tmp, control, profile, script = rig
    bench = loads_bench(bench_text(f"sim:keysight:{profile}").replace("WORK", str(tmp / "work")))
    spec = workload(tmp, script, control, seconds=RUN_S, tear_s=0.0)
    cancel = threading.Event()

    def progress(p):                  # the 1 s window is in; the run waits for the workload's end
        if p.stage == "running":
            cancel.set()
    req = CaptureRequest(bench=bench, workload=spec, out_dir=tmp / "sessions", windows=0)
    with pytest.raises(CaptureFailed, match="cancelled by the operator") as err:
        Capture(req, progress=progress, cancel=cancel).run()
    outcome = err.value.outcome
    assert outcome.failed_runs == []                      # cancelled, not failed
    [record] = outcome.runs
    assert record["partial"] is True
    # the workload was stopped: the measured region ends at its exit, well before its 8 s on the board's clock
    # (a workload left running would give begin..end = 8 s)
    assert 0 < record["duration_s"] < RUN_S - 2.0
    assert record["avg_power_w"] == pytest.approx((19.0 - 0.01 * BUSY_A) * BUSY_A, rel=0.01)
    assert "cancelled by the operator" in record["warnings"][0]
    with SessionReader(outcome.session_path) as s:
        assert s.status == "incomplete" and s.attrs["reason"].startswith("cancelled by the operator")
        run = s.run(1)
        assert run.status == "incomplete" and run.attrs["reason"] == "cancelled by the operator"
        assert run.attrs["launcher_reason"] == "cancelled"          # the launcher was told to stop it
        assert run.record["partial"] is True
    out = subprocess.run(["pgrep", "-f", f"load.py {control}"], capture_output=True, text=True)
    assert out.stdout.strip() == "", "the workload is still running"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_a_stop_signal_while_waiting_for_the_workload_exits_130_with_the_session_saved(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "capture", "--demo", "--workload", "idle",
                             "--param", "seconds=60", "--windows", "0", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if "waiting for the workload" in line or not line:
            break
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=90)
    err = "".join(seen) + err
    assert proc.returncode == 130, err[-2000:]
    assert "cancelled by the operator" in err and "marked incomplete" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.partial"))
    [session] = tmp_path.glob("*.h5")
    with SessionReader(session) as s:
        assert s.status == "incomplete" and s.attrs["reason"].startswith("cancelled by the operator")
        run = s.run(1)
        assert run.status == "incomplete" and run.attrs["reason"] == "cancelled by the operator"
        assert run.attrs["launcher_reason"] == "cancelled"


def test_an_unknown_workload_parameter_is_refused_before_anything_is_connected(tmp_path):
    # the scope's port is closed: had the capture connected first, the error would be the scope's
    from app.bench.config import DEMO_BENCH
    from workloads.errors import WorkloadError
    from workloads.spec import find_workload
    text = DEMO_BENCH.read_text()
    bench = loads_bench(text.replace(text.split('resource = "', 1)[1].split('"', 1)[0], "TCPIP::127.0.0.1::1::SOCKET",
                                     1), "bench.toml")
    req = CaptureRequest(bench=bench, workload=find_workload("idle"), params={"colour": "red"}, out_dir=tmp_path)
    with pytest.raises(WorkloadError, match="has no parameter 'colour'"):
        Capture(req).run()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("phase", ["configuring", "connecting target", "uploading", "arming", "waiting for trigger",
                                   "downloading", "running"])
def test_a_cancel_in_each_phase_is_the_operators_cancel(tmp_path, phase):
    # the demo bench (simulated scope, this computer as the board), the 60 s idle workload: whatever the phase, the
    # capture ends as cancelled, nothing is left running, and a session is saved once one was begun
    from app.bench.config import DEMO_BENCH, load_bench
    from workloads.spec import find_workload
    cancel = threading.Event()

    def progress(p):
        if p.stage == phase:
            cancel.set()
    req = CaptureRequest(bench=load_bench(DEMO_BENCH), workload=find_workload("idle"), params={"seconds": "60"},
                         windows=0, out_dir=tmp_path)
    with pytest.raises(CaptureFailed, match="cancelled by the operator") as err:
        Capture(req, progress=progress, cancel=cancel).run()
    outcome = err.value.outcome
    assert outcome.failed_runs == []
    if phase in ("configuring", "connecting target", "uploading"):
        assert outcome.session_path is None and list(tmp_path.iterdir()) == []
    else:
        assert not list(tmp_path.glob("*.partial"))
        with SessionReader(outcome.session_path) as s:
            assert s.status == "incomplete" and s.run(1).attrs["reason"] == "cancelled by the operator"
