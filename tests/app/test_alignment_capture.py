"""Placement without a wire through the simulated scope and a real target (issue 27): the simulated board can
hide the process's start or show it late (profile keys launch_visible, launch_delay_s), as real boards do.
The workload of test_capture_e2e switches the load at its begin/end stamps; the energy of [begin, end] is
P_busy·T by hand (19 V behind a 0.01 Ω shunt: P = (19 − 0.01·I)·I)."""

import pytest

import app.capture.windows as windows_mod
from app.bench.config import loads_bench
from app.session.reader import SessionReader
from tests.app.test_capture_e2e import (
    BUSY_A,
    IDLE_A,
    PERSONA_DRIVERS,
    bench_text,
    board_power_w,
    capture,
    make_rig,
    workload,
)


def _run(tmp_path, *, profile_extra="", persona="keysight", window_s=1.0, extra="", target=None, **load):
    tmp, control, profile, script = make_rig(tmp_path, profile_extra)
    text = bench_text(f"sim:{persona}:{profile}", window_s=window_s, extra=extra,
                      **({"target": target} if target else {}))
    bench = loads_bench(text.replace("WORK", str(tmp / "work")))
    out = capture(bench, workload(tmp, script, control, **load), tmp)
    assert out.complete and len(out.runs) == 1, out.error
    r = out.runs[0]
    with SessionReader(out.session_path) as s:
        details = s.run(1).details
    return r, details


def _within(r, rel):
    t = r["duration_s"]
    truth = board_power_w(BUSY_A) * t
    assert r["energy_method"] == "integrated"
    assert r["energy_j"] == pytest.approx(truth, rel=rel), r["warnings"]
    assert abs(r["energy_j"] - truth) <= r["uncertainty_j"]


@pytest.mark.parametrize("lead_s", [0.1, 0.5, 2.0])
def test_hidden_launch_after_an_idle_lead(tmp_path, lead_s):
    # the process's start does not show: the current stays idle until begin; the trigger is begin's step
    r, details = _run(tmp_path, profile_extra="launch_visible = false\n", warm_s=lead_s)
    _within(r, 0.01)
    assert r["alignment"] == "edges" and {"begin", "end"} <= set(r["alignment_events"])
    a = details["alignment"]
    assert a["bound_s"][0] <= a["bound_s"][1] and details["alignment"]["bound_parts_s"]["half_width_s"] < 0.5
    # the record before the trigger is idle (the board slept after the exec)
    assert r["idle_power_w"] == pytest.approx(board_power_w(IDLE_A), rel=0.01)


@pytest.mark.parametrize("persona", [p for p in PERSONA_DRIVERS if p != "keysight"])
def test_hidden_launch_on_every_persona(tmp_path, persona):
    r, _ = _run(tmp_path, profile_extra="launch_visible = false\n", persona=persona, warm_s=0.5)
    _within(r, 0.01)


@pytest.mark.parametrize("delay_s", [0.005, 0.05, 0.3])
def test_launch_visible_late(tmp_path, delay_s):
    # the warm-up current shows delay_s after the exec; begin comes 0.5 s after the exec
    r, _ = _run(tmp_path, profile_extra=f"launch_delay_s = {delay_s}\n", warm_s=0.5, window_s=1.5)
    _within(r, 0.01)
    assert {"begin", "end"} <= set(r["alignment_events"])


def test_warm_up_at_the_work_power(tmp_path):
    # no step at begin: the drop at end places the run
    r, _ = _run(tmp_path, warm_a=BUSY_A, warm_s=0.3, window_s=1.5)
    _within(r, 0.01)
    assert "end" in r["alignment_events"] and "begin" not in r["alignment_events"]


def test_busy_desktop_polls_late(tmp_path, monkeypatch):
    # the trigger polled every 0.25 s (a busy desktop): a wider bound, the same placement
    monkeypatch.setattr(windows_mod, "TRIGGER_POLL_S", 0.25)
    r, details = _run(tmp_path, profile_extra="launch_visible = false\n", warm_s=0.5)
    _within(r, 0.01)
    assert details["alignment"]["bound_parts_s"]["poll_s"] > 0.2


def test_marker_command_of_100_ms(tmp_path):
    # a marker command that takes 100 ms and raises its GPIO at its end (as `gpioset` does after its start-up):
    # the marker's edges are 100 ms late; placed by the current's edges inside the launcher's stamps
    marker = tmp_path / "marker.txt"
    slow = (f"python3 -c 'import time; time.sleep(0.1); print(repr(time.monotonic()), VOLTS)' >> {marker}")
    extra = (f'[marker]\nchannel = 3\nthreshold_v = 1.5\nhigh = "{slow.replace("VOLTS", "3.3")}"\n'
             f'low = "{slow.replace("VOLTS", "0.0")}"\n')
    r, _ = _run(tmp_path, extra=extra, warm_s=0.15)
    _within(r, 0.005)
    assert r["alignment"] == "marker, edges" and {"begin", "end"} <= set(r["alignment_events"])
    assert any("marker command for begin took" in w for w in r["warnings"])


def test_hidden_launch_over_loopback_sshd(tmp_path, sshd):
    target = (f'kind = "ssh"\nhost = "{sshd.host}"\nport = {sshd.port}\nuser = "{sshd.user}"\n'
              f'identity_file = "{sshd.user_key}"\nknown_hosts = "{sshd.known_hosts}"\n'
              f'workdir = "{tmp_path / "remote"}"')
    import app.bench.connections as conn
    real = conn.make_target

    def no_user_config(b, password=None):       # the test must not depend on ~/.ssh/config
        t = real(b, password)
        t._config = []
        return t
    conn.make_target = no_user_config
    try:
        r, details = _run(tmp_path, profile_extra="launch_visible = false\n", warm_s=0.5, window_s=2.0,
                          target=target)
    finally:
        conn.make_target = real
    _within(r, 0.01)
    assert r["alignment"] == "edges"
    assert details["alignment"]["bound_parts_s"]["clock_s"] > 0


def test_sync_lines_bound_the_local_clock_by_a_round_trip(tmp_path):
    # a local target shares the desktop's clock: the true offset is 0, and the map's bounds must hold it; the
    # launcher answers each "sync" line at once, so the bounds are a round trip apart, not the exec's
    from app.capture.live_run import RunLive
    from workloads.target import SYNC_EVENT, LocalTarget
    target = LocalTarget(tmp_path / "work")
    target.connect()
    live = RunLive()
    live.exec_sent_s = __import__("time").monotonic()
    res = target.run("sleep 0.8", on_event=live.on_event)
    assert res.ok
    syncs = [(d, e) for d, e in live.arrivals if e.event == SYNC_EVENT]
    assert len(syncs) >= 3
    for arrived, e in syncs:
        assert e.fields["sent"] <= e.t <= arrived           # sent, stamped, arrived: one clock, in that order
    clock = live.clock()
    assert clock.offset_lo_s <= 0.0 <= clock.offset_s
    assert clock.width_s < 0.05
