"""Checks shared by the local and the SSH target tests (the same semantics on both)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from workloads.errors import TargetError
from workloads.spec import parse_workload


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie waiting for its parent counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def wait_gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def read_pids(path: Path, count: int, within_s: float = 10.0) -> list[int]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if path.exists():
            pids = [int(x) for x in path.read_text().split()]
            if len(pids) >= count:
                return pids
        time.sleep(0.05)
    raise AssertionError(f"{path} never held {count} pids")


# a command whose shell and a background child both sleep, writing their pids first
SLEEPERS = "sleep 60 & echo $! >> {pids}; echo $$ >> {pids}; echo started; sleep 60"


def check_run_output_status_and_events(target):
    lines = []
    res = target.run("echo hello; echo '@joulebench {\"event\": \"begin\", \"t\": 10.0}'; echo oops >&2; "
                     "echo '@joulebench {\"event\": \"end\", \"t\": 12.5, \"ops\": 1e9}'; exit 3",
                     timeout_s=30, on_line=lambda s, line: lines.append((s, line)))
    assert res.exit_status == 3 and res.reason is None and not res.ok
    assert "hello" in res.stdout and res.stderr == "oops\n"
    assert ("stdout", "hello") in lines and ("stderr", "oops") in lines
    assert res.duration_s() == (2.5, "events") and res.protocol.ops == 1e9
    assert [e["event"] for e in res.events] == ["begin", "end"]
    assert res.board_start_s is not None and res.board_end_s >= res.board_start_s
    # a run without events is timed by the launcher on the board's clock
    res = target.run("sleep 0.3", timeout_s=30)
    d, how = res.duration_s()
    assert how == "launcher" and 0.3 <= d < 2.0 and res.ok


def check_timeout_kills_the_group(target, pid_file: Path):
    start = time.monotonic()
    res = target.run(SLEEPERS.format(pids=pid_file), timeout_s=1.0)
    assert res.reason == "timeout" and time.monotonic() - start < 10
    for pid in read_pids(pid_file, 2):
        assert wait_gone(pid), f"process {pid} of the run is still alive"


def check_cancel_kills_the_group(target, pid_file: Path):
    cancel = threading.Event()
    started = threading.Event()
    result = {}

    def on_line(stream, line):
        if line == "started":
            started.set()

    th = threading.Thread(target=lambda: result.setdefault("r", target.run(SLEEPERS.format(pids=pid_file),
                                                                            timeout_s=60, on_line=on_line,
                                                                            cancel=cancel)))
    th.start()
    assert started.wait(15)
    cancel.set()
    th.join(20)
    assert result["r"].reason == "cancelled"
    for pid in read_pids(pid_file, 2):
        assert wait_gone(pid)


def check_upload_only_changed(target, tmp: Path, workdir: Path):
    a = tmp / "a.py"
    a.write_text("print('a')\n")
    assert target.upload([a]) == ["a.py"]
    assert target.upload([a]) == []
    a.write_text("print('a2')\n")
    assert target.upload([a]) == ["a.py"]
    assert (workdir / "a.py").read_text() == "print('a2')\n"
    try:
        target.upload([tmp / "missing.py"])
    except TargetError as exc:
        assert "missing.py" in str(exc)
    else:
        raise AssertionError("a missing upload file must be a TargetError")


def check_parameter_injection_is_quoted(target, tmp: Path):
    victim = tmp / "pwned"
    spec = parse_workload({"name": "inj", "command": "echo {msg}", "params": {"msg": "hi"}}, "inj.toml", tmp)
    command = spec.render_command({"msg": f"x; touch {victim}; $(touch {victim})"})
    res = target.run(command, timeout_s=30)
    assert res.ok and not victim.exists()
    assert res.stdout.strip() == f"x; touch {victim}; $(touch {victim})"
