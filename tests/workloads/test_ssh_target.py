"""SshTarget against a real OpenSSH sshd on loopback: the same checks as the local target, plus SSH faults."""

import subprocess
import threading
import time

import pytest

from tests.workloads import target_checks as checks
from workloads.errors import HostKeyError, TargetError
from workloads.ssh_target import SshTarget, fingerprint_of_public_key_line


def make(sshd, tmp_path, **kw):
    opts = dict(port=sshd.port, user=sshd.user, identity_file=str(sshd.user_key), known_hosts=str(sshd.known_hosts),
                workdir=str(tmp_path / "work"), ssh_config=[])
    opts.update(kw)
    return SshTarget(sshd.host, **opts)


@pytest.fixture
def target(sshd, tmp_path):
    t = make(sshd, tmp_path)
    t.connect()
    yield t
    t.close()


def test_facts(target):
    facts = target.facts()
    assert facts["uname"].startswith("Linux") and facts["python3"].startswith("Python 3")
    assert facts["nvpmodel"] == "unavailable"


def test_output_status_events(target):
    checks.check_run_output_status_and_events(target)


def test_timeout_kills_the_group(target, tmp_path):
    checks.check_timeout_kills_the_group(target, tmp_path / "pids")


def test_cancel_kills_the_group(target, tmp_path):
    checks.check_cancel_kills_the_group(target, tmp_path / "pids")


def test_upload_only_changed_and_missing_file(target, tmp_path):
    checks.check_upload_only_changed(target, tmp_path, tmp_path / "work")


def test_parameter_injection_is_quoted(target, tmp_path):
    checks.check_parameter_injection_is_quoted(target, tmp_path)


def test_dropped_connection_mid_run_leaves_nothing_running(target, tmp_path):
    pids_file = tmp_path / "pids"
    started = threading.Event()
    result = {}

    def on_line(stream, line):
        if line == "started":
            started.set()

    th = threading.Thread(target=lambda: result.setdefault("r", target.run(checks.SLEEPERS.format(pids=pids_file),
                                                                            timeout_s=120, on_line=on_line)))
    th.start()
    assert started.wait(20)
    pids = checks.read_pids(pids_file, 2)
    target.drop_connection()
    th.join(30)
    assert not th.is_alive()
    assert result["r"].reason == "connection lost" or result["r"].exit_status != 0
    for pid in pids:
        assert checks.wait_gone(pid, 10), f"process {pid} survived the dropped connection"


def test_unknown_host_key_is_refused_with_its_fingerprint_then_trusted(sshd, tmp_path):
    known = tmp_path / "known_hosts"
    t = make(sshd, tmp_path, known_hosts=str(known))
    expected = fingerprint_of_public_key_line(sshd.host_key_pub.read_text())
    try:
        with pytest.raises(HostKeyError) as err:
            t.connect()
        assert not err.value.changed and err.value.fingerprint == expected
        assert expected in str(err.value) and "not trusted" in str(err.value)
        assert t.trust_host_key(expected) == expected
        t.connect()
        assert t.run("echo ok", timeout_s=30).stdout == "ok\n"
    finally:
        t.close()
    # the line written is one ssh itself understands
    out = subprocess.run(["ssh-keygen", "-F", f"[127.0.0.1]:{sshd.port}", "-f", str(known)], capture_output=True,
                         text=True)
    assert out.returncode == 0


def test_changed_host_key_is_refused_louder_and_not_overwritten(sshd, tmp_path):
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    pub = (tmp_path / "other.pub").read_text().split()
    known.write_text(f"[127.0.0.1]:{sshd.port} {pub[0]} {pub[1]}\n")
    before = known.read_text()
    t = make(sshd, tmp_path, known_hosts=str(known))
    try:
        with pytest.raises(HostKeyError, match="HAS CHANGED") as err:
            t.connect()
        assert err.value.changed
        with pytest.raises(HostKeyError, match="HAS CHANGED"):
            t.trust_host_key("SHA256:whatever-the-operator-read")
    finally:
        t.close()
    assert known.read_text() == before


def test_wrong_user_key_is_a_clear_auth_error(sshd, tmp_path):
    wrong = tmp_path / "wrong"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    t = make(sshd, tmp_path, identity_file=str(wrong))
    try:
        with pytest.raises(TargetError, match="refused our login.*identity_file"):
            t.connect()
    finally:
        t.close()


def test_unreachable_board(tmp_path):
    t = SshTarget("127.0.0.1", port=1, known_hosts=str(tmp_path / "kh"), ssh_config=[])
    start = time.monotonic()
    try:
        with pytest.raises(TargetError):
            t.connect()
    finally:
        t.close()
    assert time.monotonic() - start < 30


def test_trust_needs_the_fingerprint_read_on_the_board_and_refuses_any_other(sshd, tmp_path):
    known = tmp_path / "known_hosts"
    t = make(sshd, tmp_path, known_hosts=str(known))
    try:
        with pytest.raises(TargetError, match="give the fingerprint you read on the board"):
            t.trust_host_key("")
        with pytest.raises(TargetError, match="not the SHA256:AAAA you gave. Nothing was trusted"):
            t.trust_host_key("SHA256:AAAA")
    finally:
        t.close()
    assert not known.exists() or known.read_text() == ""


def test_an_ssh_config_alias_is_resolved_for_host_keys(sshd, tmp_path):
    # ~/.ssh/config: "Host myboard / HostName 127.0.0.1 / Port <sshd>": the key is fetched from that endpoint and
    # filed under the name the connection checks ([127.0.0.1]:port), so the next connect matches it
    config = tmp_path / "ssh_config"
    config.write_text(f"Host myboard\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
                      f"  IdentityFile {sshd.user_key}\n")
    known = tmp_path / "known_hosts"
    expected = fingerprint_of_public_key_line(sshd.host_key_pub.read_text())
    t = SshTarget("myboard", known_hosts=str(known), workdir=str(tmp_path / "wd"), ssh_config=[str(config)])
    try:
        with pytest.raises(HostKeyError) as err:
            t.connect()
        assert err.value.fingerprint == expected
        t.trust_host_key(expected)
        assert known.read_text().startswith(f"[127.0.0.1]:{sshd.port} ")
        t.connect()
        assert t.run("echo alias-ok", timeout_s=30).stdout == "alias-ok\n"
    finally:
        t.close()


def test_upload_without_sftp_goes_through_a_pipe(sshd_no_sftp, tmp_path):
    t = make(sshd_no_sftp, tmp_path)
    payload = tmp_path / "work.py"
    payload.write_bytes(bytes(range(256)) * 100)          # binary, with newlines and NULs
    try:
        t.connect()                                       # the launcher itself goes up without SFTP
        assert t.upload([payload]) == ["work.py"]
        assert "pipe" in t.upload_note
        out = t.run("sha256sum work.py", timeout_s=30).stdout.split()[0]
    finally:
        t.close()
    import hashlib
    assert out == hashlib.sha256(payload.read_bytes()).hexdigest()


def connection_processes(sshd) -> list[int]:
    """The sshd processes serving connections: the listening sshd's descendants named sshd* (not the workload)."""
    rows = [line.split(None, 2) for line in subprocess.run(["ps", "-eo", "pid=,ppid=,comm="], capture_output=True,
                                                           text=True).stdout.splitlines()]
    children: dict[int, list[tuple[int, str]]] = {}
    for pid, ppid, comm in rows:
        children.setdefault(int(ppid), []).append((int(pid), comm.strip()))
    out, todo = [], [sshd.proc.pid]
    while todo:
        for pid, comm in children.get(todo.pop(), []):
            todo.append(pid)
            if comm.startswith("sshd"):
                out.append(pid)
    return out


def test_a_stalled_link_is_declared_dead_after_the_keepalive_time(sshd, tmp_path):
    # the board stops answering mid-run (its sshd stopped, as a hung board or a pulled cable would): without
    # keepalives the run waited out the workload's timeout + 30 s (an hour for `idle`); with them it ends as
    # "connection lost" after about keepalive_s (2 s here), far inside the 40 s this test waits
    import os
    import signal
    t = make(sshd, tmp_path, keepalive_s=2.0)
    t.connect()
    before = set(connection_processes(sshd))
    pids_file = tmp_path / "pids"
    started = threading.Event()
    result = {}

    def on_line(stream, line):
        if line == "started":
            started.set()
    th = threading.Thread(target=lambda: result.setdefault("r", t.run(checks.SLEEPERS.format(pids=pids_file),
                                                                       timeout_s=3600, on_line=on_line)),
                          daemon=True)
    th.start()
    stopped = []
    try:
        assert started.wait(20)
        stopped = [p for p in connection_processes(sshd)]
        assert stopped and set(stopped) >= before
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        th.join(40)
        assert not th.is_alive(), "the run still waits on a link that stopped answering"
        assert result["r"].reason == "connection lost" and result["r"].exit_status is None
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        t.close()
    for pid in checks.read_pids(pids_file, 2):           # the board's side notices once its sshd runs again
        assert checks.wait_gone(pid, 20), f"process {pid} survived the lost connection"


def test_a_malformed_known_hosts_file_is_a_clear_error(sshd, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("@@@ not a known_hosts line\n")
    t = make(sshd, tmp_path, known_hosts=str(known))
    try:
        with pytest.raises(TargetError, match=r"known_hosts \(target.known_hosts\) or the key files cannot be "
                                              r"read: Invalid known hosts"):
            t.connect()
    finally:
        t.close()
    assert known.read_text() == "@@@ not a known_hosts line\n"


def test_a_recorded_key_of_another_type_is_the_changed_key_warning(sshd, tmp_path):
    # known_hosts holds an RSA key for the board, which now offers only ed25519: no host key algorithm in common,
    # and the server closes the connection; that is reported as the changed key it is, not as a closed connection
    other = tmp_path / "other_rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    pub = (tmp_path / "other_rsa.pub").read_text().split()
    known.write_text(f"[127.0.0.1]:{sshd.port} {pub[0]} {pub[1]}\n")
    before = known.read_text()
    t = make(sshd, tmp_path, known_hosts=str(known))
    try:
        with pytest.raises(HostKeyError, match="HAS CHANGED") as err:
            t.connect()
        assert err.value.changed
    finally:
        t.close()
    assert known.read_text() == before
