"""The trigger level the scope is armed with, in volts at the current probe's tip (app/bench/connections.py).

The current channel reads V = I / (A/V) + zero_offset_v (docs/method.md "Uncertainty": the zero offset is the
channel's reading with no current flowing, and the analysis subtracts it). A trigger at trigger_level_a must
therefore sit at trigger_level_a / (A/V) + zero_offset_v: leaving the offset out arms a zeroed bench that much
lower, so it fires early, while the current is still below the level asked for."""

import pytest

from app.bench.config import loads_bench
from app.bench.connections import trigger_level_v

BENCH = """
[scope]
resource = "sim"

[voltage]
channel = 1
probe_ratio = 10.0
volts_per_div = 0.5
offset_v = 19.0

[current]
channel = 2
probe_ratio = 1.0
volts_per_div = {vdiv}
offset_v = {offset}
{how}
{zero}

[acquisition]
window_s = 0.2
sample_rate_hz = 50000.0
pretrigger = 0.2
trigger_level_a = 0.4

[target]
kind = "local"
workdir = "/tmp/joulebench-trigger-level"
"""


def bench(how: str, zero: str = "", vdiv: float = 0.002, offset: float = 0.005):
    """A bench whose current channel shows offset ± 5 divisions (the level must be on screen to be accepted)."""
    return loads_bench(BENCH.format(how=how, zero=zero, vdiv=vdiv, offset=offset))


def test_a_shunt_bench_never_zeroed_triggers_at_level_times_ohms():
    # 0.4 A through 0.01 ohm: 0.4 * 0.01 = 0.004 V = 4 mV at the probe tip
    assert trigger_level_v(bench("shunt_ohm = 0.01")) == pytest.approx(0.004, rel=1e-12)


def test_a_zeroed_shunt_bench_adds_the_channel_zero_offset():
    # the channel reads +0.35 mV with no current, so 0.4 A reads 4 mV + 0.35 mV = 4.35 mV
    got = trigger_level_v(bench("shunt_ohm = 0.01", "zero_offset_v = 0.00035"))
    assert got == pytest.approx(0.00435, rel=1e-12)


def test_a_zeroed_current_probe_bench_adds_a_negative_zero_offset():
    # a 10 A/V probe: 0.4 A reads 0.04 V; it reads -2 mV with no current, so the level is 0.038 V
    got = trigger_level_v(bench("amps_per_volt = 10.0", "zero_offset_v = -0.002", vdiv=0.01, offset=0.04))
    assert got == pytest.approx(0.038, rel=1e-12)
