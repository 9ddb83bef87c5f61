"""Campaigns through the simulated scope, against energies worked out by hand (docs/campaigns.md)."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.bench.config import loads_bench
from app.bench.suite import load_suite
from app.capture.campaign import document, plan_runs, records_of_session, run_campaign
from app.capture.procedure import CaptureFailed
from app.errors import BenchError
from app.session.reader import SessionReader

ROOT = Path(__file__).resolve().parents[2]
IDLE_A = 0.25
# The board: 19 V behind nothing but the 0.01 ohm shunt, so P(I) = (19 - 0.01 I) I, by hand
def power_w(amps):
    return (19.0 - 0.01 * amps) * amps


# A workload with its busy current and operation count as parameters. It reports a fixed T (so the energy is
# P(amps) * T exactly) and, with hot_s, leaves the board drawing tear_a for hot_s after it exits. It is busy for
# 1.5 s, so that the sampled windows (0.4 s each, at widening gaps once `begin` has arrived, the first about
# 0.25 s after it on a busy machine) lie inside the busy stretch that the reported T (50 s) claims.
LOAD = r'''
import json, os, sys, time
control, amps, seconds, report_s, ops, hot_s = sys.argv[1], *map(float, sys.argv[2:7])
def switch(a, t=None):
    with open(control, "a") as fh:
        fh.write(f"{time.monotonic() if t is None else t!r} {a!r}\n")
switch(0.5, float(os.environ["JOULEBENCH_LAUNCH_T"]) + 0.002)        # warm-up from the exec
time.sleep(0.1)
t0 = time.monotonic()
switch(amps, t0)
print("@joulebench " + json.dumps({"event": "begin", "t": t0}), flush=True)
time.sleep(seconds)
switch(0.6)
print("@joulebench " + json.dumps({"event": "end", "t": t0 + report_s, "ops": ops}), flush=True)
switch(0.25, time.monotonic() + hot_s)
'''


@pytest.fixture
def rig(tmp_path):
    return make_rig(tmp_path)


def make_rig(tmp_path):
    control = tmp_path / "control.txt"
    profile = tmp_path / "profile.toml"
    profile.write_text(f'supply_v = 19.0\nsource_ohm = 0.0\nshunt_ohm = 0.01\nnoise_v = 0.002\nnoise_a = 0.002\n'
                       f'seed = 3\ninitial_a = {IDLE_A}\ncontrol_file = "{control}"\n')
    (tmp_path / "load.py").write_text(LOAD)
    (tmp_path / "load.toml").write_text(
        f'name = "load"\nfiles = ["load.py"]\n'
        f'command = "python3 load.py {control} {{amps}} {{seconds}} {{report_s}} {{ops}} {{hot_s}}"\n'
        f'[params]\namps = 0.75\nseconds = 1.5\nreport_s = 50\nops = 1e9\nhot_s = 0\n')
    bench = loads_bench(f'''
[scope]
resource = "sim:keysight:{profile}"
[voltage]
channel = 1
probe_ratio = 10.0
volts_per_div = 1.0
offset_v = 19.0
[current]
channel = 2
probe_ratio = 1.0
volts_per_div = 0.004
offset_v = 0.008
shunt_ohm = 0.01
[acquisition]
window_s = 0.4
sample_rate_hz = 20000.0
pretrigger = 0.3
trigger_level_a = 0.38
[target]
kind = "local"
workdir = "{tmp_path / 'work'}"
telemetry = "off"
[uncertainty]
voltage_offset_error_v = 0.002
current_offset_error_v = 0.00002
''')
    return tmp_path, bench


def suite_text(*, order="interleaved", repeats=2, settle="none", settle_s=0.3, ranging="none", hot_s=0.0):
    settle_value = f'"{settle}"' if isinstance(settle, str) else settle
    return f'''
name = "two loads"
repeats = {repeats}
order = "{order}"
seed = 7
settle = {settle_value}
settle_s = {settle_s}
ranging = "{ranging}"
windows = 1
[[entry]]
label = "heavy"
workload = "load.toml"
params = {{ amps = 0.8, ops = 2e9, hot_s = {hot_s} }}
[[entry]]
label = "light"
workload = "load.toml"
params = {{ amps = 0.45, ops = 0.5e9, hot_s = {hot_s} }}
'''


def write_suite(tmp, text):
    p = tmp / "suite.toml"
    p.write_text(text)
    return load_suite(p)


def test_the_ratio_to_best_the_order_and_n_against_hand_computed_energies(rig):
    tmp, bench = rig
    suite = write_suite(tmp, suite_text(ranging="first"))
    outcome, hooks = run_campaign(bench, suite, tmp / "s")
    doc = document(outcome, suite, suite.order_of_runs())
    # by hand: E = P(I) * 50 s; J/GOp = E / (ops / 1e9): heavy 15.17 W * 50 / 2, light 8.548 W * 50 / 0.5
    heavy, light = power_w(0.8) * 50 / 2.0, power_w(0.45) * 50 / 0.5
    rows = {r["label"]: r for r in doc["entries"]}
    assert doc["metric"] == "j_per_gop" and doc["best"] == "heavy"
    assert rows["heavy"]["j_per_gop_mean"] == pytest.approx(heavy, rel=0.01)
    assert rows["light"]["ratio_to_best"] == pytest.approx(light / heavy, rel=0.01)
    assert rows["heavy"]["ratio_to_best"] == 1.0 and rows["heavy"]["p_value_vs_best"] is None
    assert rows["light"]["ratio_to_best_ci95"] is not None and rows["light"]["p_value_vs_best"] < 0.05
    assert rows["heavy"]["n"] == 2 and rows["light"]["n"] == 2          # the ranging runs are not counted
    assert doc["order"] == ["heavy", "light", "heavy", "light"]
    with SessionReader(outcome.session_path) as s:
        runs = s.runs()
        assert [r.attrs["label"] for r in runs] == ["heavy", "light", "heavy", "light", "heavy", "light"]
        assert [bool(r.attrs["scored"]) for r in runs] == [False, False, True, True, True, True]
        campaign = s.group_attrs("campaign")
        assert "ranges_from_ranging_runs" in campaign and json.loads(campaign["order"]) == doc["order"]
    # the ranging runs set volts/div to fit what they saw: 19 V +- 0.01 V on the voltage channel is less than
    # one 1 V division, the current 0.25..0.8 A (2.5..8 mV) asks a finer scale than 4 mV/div
    ranges = hooks.ranges
    assert ranges["voltage"]["volts_per_div"] < 1.0 and ranges["current"]["volts_per_div"] <= 0.002


def test_shuffled_is_reproducible_from_its_seed_and_blocked_is_blocked(tmp_path):
    (tmp_path / "w.toml").write_text('name = "w"\ncommand = "true"\n')
    text = suite_text(order="shuffled", repeats=4).replace("load.toml", "w.toml").replace(
        "params = { amps = 0.8, ops = 2e9, hot_s = 0.0 }", "").replace(
        "params = { amps = 0.45, ops = 0.5e9, hot_s = 0.0 }", "")
    a = write_suite(tmp_path, text).order_of_runs()
    b = write_suite(tmp_path, text).order_of_runs()
    assert a == b and sorted(a) == ["heavy"] * 4 + ["light"] * 4 and a != ["heavy", "light"] * 4
    c = write_suite(tmp_path, text.replace("seed = 7", "seed = 8")).order_of_runs()
    assert c != a
    blocked = write_suite(tmp_path, text.replace('"shuffled"', '"blocked"')).order_of_runs()
    assert blocked == ["heavy"] * 4 + ["light"] * 4
    assert [p.scored for p in plan_runs(write_suite(tmp_path, text))] == [True] * 8


def test_settling_waits_while_the_board_is_still_above_idle(rig):
    # after each run the board keeps drawing 0.6 A for 2 s (hot_s): the next run starts only when it is back
    # within 2 % of idle for settle_s; when the board returns to idle at once, the next run follows at once
    tmp, bench = rig
    gaps = {}
    for hot_s in (0.0, 2.0):                   # (one control file: the hot board's idle step comes last)
        suite = write_suite(tmp, suite_text(repeats=1, settle="idle", settle_s=0.3, hot_s=hot_s))
        outcome, hooks = run_campaign(bench, suite, tmp / f"s-{hot_s}")
        with SessionReader(outcome.session_path) as s:
            r1, r2 = s.run(1).attrs, s.run(2).attrs
            gaps[hot_s] = r2["board_start_s"] - r1["board_end_s"]
        assert hooks.idle_w == pytest.approx(power_w(IDLE_A), rel=0.02)
    # in board-clock terms: the hot board's gap holds its 2 s of heat and the 0.3 s settle; the quick board's gap
    # does not hold the heat, so it is shorter by most of those 2 s (a busy machine lengthens both gaps alike,
    # so no fixed ceiling on the quick one)
    assert gaps[2.0] >= 2.0 + 0.3 - 0.2 and gaps[0.0] <= gaps[2.0] - 1.0


def test_an_interrupted_campaign_keeps_its_finished_runs_and_report_prints_their_table(rig):
    tmp, bench = rig
    suite = write_suite(tmp, suite_text(repeats=3))
    cancel = threading.Event()
    seen = []

    def progress(p):
        if p.run is not None and p.run >= 3 and p.stage == "waiting for trigger":
            cancel.set()
        seen.append(p)
    with pytest.raises(CaptureFailed, match="cancelled") as err:
        run_campaign(bench, suite, tmp / "s", progress=progress, cancel=cancel)
    path = err.value.outcome.session_path
    records, campaign = records_of_session(path)
    assert [r["label"] for r in records] == ["heavy", "light"] and campaign["suite"] == "two loads"
    res = subprocess.run([sys.executable, str(ROOT / "main.py"), "report", str(path), "--csv", str(tmp / "r.csv")],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "suite: two loads" in res.stdout and "heavy" in res.stdout and "light" in res.stdout


@pytest.mark.parametrize("change,words", [
    (('order = "interleaved"', 'order = "random"'), "[order] is 'random'"),
    (("repeats = 2", "repeats = 0"), "[repeats] is 0"),
    (('label = "light"', 'label = "heavy"'), "used twice"),
    (("workload = \"load.toml\"\nparams = { amps = 0.45", "workload = \"nope\"\nparams = { amps = 0.45"),
     "[entry[1].workload]"),
    (("ops = 2e9", "colour = 2"), "no parameter 'colour'"),
])
def test_a_bad_suite_names_the_key(rig, change, words):
    tmp, _ = rig
    with pytest.raises(BenchError) as err:
        write_suite(tmp, suite_text().replace(*change))
    assert words in str(err.value)


def test_the_builtin_suites_load():
    for name in ("heat-slab-backends", "heat-slab-quick"):
        suite = load_suite(name)
        assert suite.entries and all(e.workload.name.startswith("heat-slab") for e in suite.entries)
    backends = load_suite("heat-slab-backends")
    assert [e.label for e in backends.entries] == ["python", "numpy", "torch"]
    assert all(e.params["trials"] == 5000 and e.params["timesteps"] == 1000 for e in backends.entries)
