"""Processes a workload starts through sudo run as root: the launcher cannot signal them itself, so it asks
`sudo -n kill` and says so when that is refused (docs/workloads.md, "Commands under sudo"). The permission
error is simulated (the tests run as root); `sudo` is a stand-in on PATH that records how it was called."""

import importlib.util
import json
import os
import signal
from pathlib import Path

import pytest

LAUNCHER = Path(__file__).resolve().parents[2] / "workloads" / "scripts" / "jb_launcher.py"


@pytest.fixture
def launcher(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("jb_launcher_under_test", LAUNCHER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def refused(pgid, sig):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(mod.os, "killpg", refused)
    said = []
    monkeypatch.setattr(mod, "say", said.append)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return mod, said


def fake_sudo(folder: Path, exit_status: int) -> Path:
    log = folder / "sudo.log"
    script = folder / "sudo"
    script.write_text(f"#!/bin/sh\nprintf '%s ' \"$@\" >> {log}\necho 'sudo: a password is required' >&2\nexit {exit_status}\n")
    script.chmod(0o755)
    return log


def test_a_refused_group_signal_goes_through_sudo_kill(launcher, tmp_path):
    mod, said = launcher
    log = fake_sudo(tmp_path, 0)
    assert mod.signal_group(4242, signal.SIGTERM) is True
    assert log.read_text().split() == ["-n", "kill", f"-{int(signal.SIGTERM)}", "--", "-4242"]
    assert said == []


def test_when_sudo_refuses_too_the_run_says_so_once(launcher, tmp_path):
    mod, said = launcher
    fake_sudo(tmp_path, 1)
    assert mod.signal_group(4242, signal.SIGTERM) is False
    assert mod.signal_group(4242, signal.SIGKILL) is False
    assert len(said) == 1 and said[0]["event"] == "warning"
    message = said[0]["message"]
    assert "started through sudo" in message and "a password is required" in message
    assert "target.setup" in message                      # what to do about it
    json.dumps(said[0])                                   # it travels as the launcher's JSON message
