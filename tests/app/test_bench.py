"""Bench file validation: every rule of docs/bench-file.md."""

import pytest

from app.bench.config import load_bench, loads_bench, save_bench
from app.errors import BenchError

GOOD = """
[scope]
resource = "TCPIP::192.168.1.50::5025::SOCKET"
driver = "auto"
timeout_s = 10.0

[voltage]
channel = 1
probe_ratio = 10.0
volts_per_div = 2.0
offset_v = 19.0
coupling = "DC"
bandwidth_limit = true
measured_at = "board"

[current]
channel = 2
probe_ratio = 1.0
volts_per_div = 0.01
offset_v = 0.0
coupling = "DC"
bandwidth_limit = true
shunt_ohm = 0.01
deskew_s = 0.0

[acquisition]
window_s = 1.2
sample_rate_hz = 1.0e6
pretrigger = 0.1
trigger_level_a = 0.5
trigger_timeout_s = 30.0

[target]
kind = "ssh"
host = "orin-nx"
port = 22
user = "bench"
identity_file = ""
known_hosts = "~/.ssh/known_hosts"
workdir = "~/joulebench"
setup = ["sudo nvpmodel -m 0", "sudo jetson_clocks"]
telemetry = "auto"

[uncertainty]
shunt_tolerance = 0.001
voltage_gain_error = 0.01
current_gain_error = 0.01
"""


def edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def test_contract_example_loads_with_every_value():
    b = loads_bench(GOOD, "bench.toml")
    assert b.scope.resource == "TCPIP::192.168.1.50::5025::SOCKET"
    assert b.voltage.channel == 1 and b.voltage.probe_ratio == 10.0 and b.voltage.offset_v == 19.0
    assert b.current.shunt_ohm == 0.01 and b.current.amps_per_volt is None
    assert b.acquisition.sample_rate_hz == 1e6 and b.acquisition.pretrigger == 0.1
    assert b.target.setup == ("sudo nvpmodel -m 0", "sudo jetson_clocks")
    assert b.target.port == 22
    assert b.uncertainty.current_gain_error == 0.01


def test_save_then_load_round_trips(tmp_path):
    b = loads_bench(GOOD, "bench.toml")
    path = tmp_path / "b.toml"
    save_bench(b, path)
    again = load_bench(path)
    assert again.scope == b.scope and again.voltage == b.voltage and again.current == b.current
    assert again.acquisition == b.acquisition and again.target == b.target and again.uncertainty == b.uncertainty


def test_integer_accepted_where_a_number_is_expected():
    assert loads_bench(edit("volts_per_div = 2.0", "volts_per_div = 2")).voltage.volts_per_div == 2.0


@pytest.mark.parametrize("old,new,key,words", [
    ("channel = 1", 'channel = "1"', "voltage.channel", "an integer"),
    ("channel = 1", "channel = 1.0", "voltage.channel", "an integer"),
    ("channel = 1", "channel = 0", "voltage.channel", "from 1 to 8"),
    ("channel = 1", "channel = 9", "voltage.channel", "from 1 to 8"),
    ("probe_ratio = 10.0", "probe_ratio = -10.0", "voltage.probe_ratio", "above 0"),
    ("volts_per_div = 2.0", "volts_per_div = 0", "voltage.volts_per_div", "above 0"),
    ('coupling = "DC"', 'coupling = "GND"', "voltage.coupling", '"DC"'),
    ("bandwidth_limit = true", 'bandwidth_limit = "yes"', "voltage.bandwidth_limit", "true or false"),
    ('measured_at = "board"', 'measured_at = "shunt"', "voltage.measured_at", '"supply"'),
    ("shunt_ohm = 0.01", "shunt_ohm = 0.0", "current.shunt_ohm", "above 0"),
    ("shunt_ohm = 0.01", "shunt_ohm = -0.01", "current.shunt_ohm", "above 0"),
    ("shunt_ohm = 0.01", "shunt_ohm = nan", "current.shunt_ohm", "nan"),
    ('driver = "auto"', 'driver = "hp54600"', "scope.driver", "keysight-infiniivision"),
    ("timeout_s = 10.0", "timeout_s = 0", "scope.timeout_s", "above 0"),
    ('resource = "TCPIP::192.168.1.50::5025::SOCKET"', 'resource = " "', "scope.resource", "VISA resource"),
    ("pretrigger = 0.1", "pretrigger = 1.0", "acquisition.pretrigger", "from 0 up to"),
    ("window_s = 1.2", "window_s = -1.2", "acquisition.window_s", "above 0"),
    ("sample_rate_hz = 1.0e6", "sample_rate_hz = 5.0", "acquisition.sample_rate_hz", "at least 1000 samples"),
    ('kind = "ssh"', 'kind = "telnet"', "target.kind", '"local"'),
    ("port = 22", "port = 70000", "target.port", "1 to 65535"),
    ('setup = ["sudo nvpmodel -m 0", "sudo jetson_clocks"]', 'setup = "sudo reboot"', "target.setup", "list of strings"),
    ('telemetry = "auto"', 'telemetry = "ina219"', "target.telemetry", "tegrastats"),
    ("shunt_tolerance = 0.001", "shunt_tolerance = 1.5", "uncertainty.shunt_tolerance", "from 0 up to 1"),
])
def test_bad_values_name_file_key_and_what_is_allowed(old, new, key, words):
    with pytest.raises(BenchError) as err:
        loads_bench(edit(old, new), "bench.toml")
    msg = str(err.value)
    assert msg.startswith("bench.toml: [" + key + "]")
    assert words in msg


def test_unknown_key_is_refused_with_the_allowed_keys():
    with pytest.raises(BenchError, match=r"\[voltage.volts_per_dvi\] is not a known key.*volts_per_div"):
        loads_bench(edit("volts_per_div = 2.0", "volts_per_dvi = 2.0"), "bench.toml")


def test_unknown_section_is_refused():
    with pytest.raises(BenchError, match=r"\[trigger\] is not a known section"):
        loads_bench(GOOD + "\n[trigger]\nlevel = 1\n", "bench.toml")


def test_missing_required_key_and_section():
    with pytest.raises(BenchError, match=r"\[acquisition.window_s\] is missing"):
        loads_bench(edit("window_s = 1.2\n", ""), "bench.toml")
    text = GOOD.split("[target]")[0]
    with pytest.raises(BenchError, match=r"\[target\] section is missing"):
        loads_bench(text, "bench.toml")


def test_same_channel_for_voltage_and_current():
    with pytest.raises(BenchError, match="same channel as voltage.channel"):
        loads_bench(edit("channel = 2", "channel = 1"), "bench.toml")


def test_both_or_neither_of_shunt_and_amps_per_volt():
    with pytest.raises(BenchError, match="both given"):
        loads_bench(edit("shunt_ohm = 0.01", "shunt_ohm = 0.01\namps_per_volt = 10.0"), "bench.toml")
    with pytest.raises(BenchError, match="neither given"):
        loads_bench(edit("shunt_ohm = 0.01\n", ""), "bench.toml")
    b = loads_bench(edit("shunt_ohm = 0.01", "amps_per_volt = 10.0"), "bench.toml")
    assert b.current.amps_per_volt == 10.0 and b.current.shunt_ohm is None


def test_supply_side_voltage_needs_a_shunt():
    text = edit('measured_at = "board"', 'measured_at = "supply"')
    assert loads_bench(text).voltage.measured_at == "supply"
    with pytest.raises(BenchError, match="needs current.shunt_ohm"):
        loads_bench(text.replace("shunt_ohm = 0.01", "amps_per_volt = 10.0"), "bench.toml")


def test_ssh_target_needs_a_host_local_does_not():
    with pytest.raises(BenchError, match=r"\[target.host\] is missing"):
        loads_bench(edit('host = "orin-nx"\n', ""), "bench.toml")
    assert loads_bench(edit('kind = "ssh"\nhost = "orin-nx"\n', 'kind = "local"\n')).target.kind == "local"


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(BenchError, match="not valid TOML"):
        loads_bench("[scope\nresource=", "bench.toml")
    with pytest.raises(BenchError, match="no such bench file"):
        load_bench(tmp_path / "nope.toml")


# -- the fuzz set of issue 23 (case 7): each file gives one clear message naming the key, never a traceback, and
# nothing nonsensical is accepted. Each row: the edit, the key named, words of the message.
FUZZ = [
    ("window_s = 1.2", "window_s = " + "9" * 400, "acquisition.window_s", "400-digit integer"),
    ('workdir = "~/joulebench"', 'workdir = "~/joule\\u0000bench"', "target.workdir", "NUL character"),
    ('host = "orin-nx"', 'host = "orin\\u0000nx"', "target.host", "NUL character"),
    ('setup = ["sudo nvpmodel -m 0", "sudo jetson_clocks"]', 'setup = ["sudo nvpmodel -m 0", "a\\u0000b"]',
     "target.setup[1]", "NUL character"),
    ("window_s = 1.2\nsample_rate_hz = 1.0e6", "window_s = 1e-9\nsample_rate_hz = 1e10", "acquisition.sample_rate_hz",
     "at least 1000 samples"),
    ("sample_rate_hz = 1.0e6", "sample_rate_hz = 1e12", "acquisition.sample_rate_hz", "faster than 2.5e+10 Hz"),
    ("deskew_s = 0.0", "deskew_s = 0.99", "current.deskew_s", "at most 0.001 s"),
    ("trigger_timeout_s = 30.0", "trigger_timeout_s = 30.0\nsettle_s = 1e300", "acquisition.settle_s", "at most 3600 s"),
    ("shunt_ohm = 0.01", "shunt_ohm = 1e-300", "current.shunt_ohm", "1e-05 to 100 ohm"),
    ("trigger_level_a = 0.5", "trigger_level_a = -1e9", "acquisition.trigger_level_a", "could never fire"),
    ("window_s = 1.2", "window_s = 1e308", "acquisition.window_s", "more than 10000 s"),
    ("window_s = 1.2", "window_s = 1e400", "acquisition.window_s", "is inf"),
    ('host = "orin-nx"', 'host = "orin nx"', "target.host", "no spaces"),
    ("port = 22", "port = " + "7" * 50, "target.port", "50-digit integer"),
]


@pytest.mark.parametrize("old,new,key,words", FUZZ, ids=[row[2] + ": " + row[1][:24] for row in FUZZ])
def test_fuzzed_bench_files_give_one_clear_message(old, new, key, words):
    from app.bench.config import bench_problems
    text = edit(old, new)
    with pytest.raises(BenchError) as err:
        loads_bench(text, "bench.toml")
    msg = str(err.value)
    assert msg.startswith(f"bench.toml: [{key}]") and words in msg, msg
    assert len(msg) < 600                                       # a 400-digit value is not echoed whole
    import tomllib
    assert any(str(p).startswith(f"bench.toml: [{key}]") for p in bench_problems(tomllib.loads(text), "bench.toml"))


def test_the_trigger_level_check_uses_the_channel_as_the_scope_shows_it():
    # 0.01 V/div around 0.0 V on a 10-division screen shows -0.05 to +0.05 V; across 0.01 ohm that is -5 A to 5 A
    loads_bench(edit("trigger_level_a = 0.5", "trigger_level_a = 4.9"), "bench.toml")
    with pytest.raises(BenchError, match=r"shows -0.05 to 0.05 V \(-5 to 5 A\)"):
        loads_bench(edit("trigger_level_a = 0.5", "trigger_level_a = 5.1"), "bench.toml")


@pytest.mark.parametrize("row", [FUZZ[0], FUZZ[2], FUZZ[6], FUZZ[9]], ids=lambda row: row[2])
def test_fuzzed_bench_files_through_the_command_line_exit_2_before_connecting(tmp_path, row):
    import subprocess
    import sys
    from pathlib import Path
    old, new, key, words = row
    bench = tmp_path / "bench.toml"
    bench.write_text(edit(old, new))
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run([sys.executable, str(root / "main.py"), "check", "--bench", str(bench)],
                         capture_output=True, text=True, timeout=60, cwd=root, check=False)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith(f"error: {bench}: [{key}]") and words in res.stderr
    assert res.stdout == ""                     # not even "valid": nothing was connected


def test_the_ssh_keepalive_comes_from_the_bench_file():
    from app.bench.connections import make_target
    for text, expected_s in ((edit('known_hosts = "~/.ssh/known_hosts"\n',
                                   'known_hosts = "~/.ssh/known_hosts"\nkeepalive_s = 4\n'), 4.0),
                             (GOOD, 15.0)):              # docs/bench-file.md: 15 s when the file gives none
        target = make_target(loads_bench(text))
        try:
            assert target.keepalive_s == expected_s
        finally:
            target.close()
    with pytest.raises(BenchError, match="keepalive_s"):
        loads_bench(edit('known_hosts = "~/.ssh/known_hosts"\n', 'known_hosts = "~/.ssh/known_hosts"\nkeepalive_s = 0.1\n'))
