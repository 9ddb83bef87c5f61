"""Zeroing the current channel: `python main.py zero` against a simulated scope whose current channel adds a
known DC offset, and the offset's effect on a capture (docs/method.md "Uncertainty": a 1 mV offset on a 5 mV
shunt signal is a 20 % error)."""

import subprocess
import sys
from pathlib import Path

import pytest

from app.bench.config import load_bench
from app.bench.zero import write_zero

ROOT = Path(__file__).resolve().parents[2]
OFFSET_V = 0.0004          # the simulated channel's offset: 0.4 mV, i.e. 40 mA through 0.01 ohm


def bench_file(tmp_path, profile, extra=""):
    text = f'''# my bench: a comment that must survive
[scope]
resource = "sim:keysight:{profile}"

[voltage]
channel = 1
probe_ratio = 10.0
volts_per_div = 0.5
offset_v = 19.0

[current]   # across the shunt
channel = 2
probe_ratio = 1.0
volts_per_div = 0.002
offset_v = 0.005
shunt_ohm = 0.01
{extra}
[acquisition]
window_s = 0.2
sample_rate_hz = 50000.0
pretrigger = 0.2
trigger_level_a = 0.4

[target]
kind = "local"
workdir = "{tmp_path / 'work'}"
telemetry = "off"
'''
    path = tmp_path / "bench.toml"
    path.write_text(text)
    return path


def test_zero_measures_the_offset_and_writes_it_keeping_the_file(tmp_path):
    profile = tmp_path / "profile.toml"
    # the board unpowered: no current flows, the channel still reads its offset
    profile.write_text(f"initial_a = 0.0\ncurrent_offset_v = {OFFSET_V}\nnoise_a = 0.002\nseed = 3\n")
    path = bench_file(tmp_path, profile)
    res = subprocess.run([sys.executable, str(ROOT / "main.py"), "zero", "--bench", str(path), "--write"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    import re
    shown_mv = float(re.search(r"reads ([+-][0-9.]+) mV", res.stdout).group(1))
    assert shown_mv == pytest.approx(OFFSET_V * 1e3, abs=0.02)     # codes of 62.5 uV at 2 mV/div, noise averaged
    bench = load_bench(path)
    assert bench.current.zero_offset_v == pytest.approx(OFFSET_V, abs=2e-5)   # one code of 2 mV/div is 80 uV
    text = path.read_text()
    assert "# my bench: a comment that must survive" in text and "[current]   # across the shunt" in text
    write_zero(path, 0.00035)                       # again: the line is replaced, not added twice
    assert path.read_text().count("zero_offset_v") == 1 and load_bench(path).current.zero_offset_v == 0.00035


def test_write_zero_refuses_a_file_without_a_current_section(tmp_path):
    from app.errors import BenchError
    p = tmp_path / "b.toml"
    p.write_text("[scope]\nresource = 'sim'\n")
    with pytest.raises(BenchError, match=r"no \[current\] section"):
        write_zero(p, 0.001)


def test_the_zero_offset_is_subtracted_from_the_current(tmp_path):
    import numpy as np

    from app.bench.config import UncertaintyConfig
    from app.measure.analysis import WindowData, analyse_run
    from app.measure.energy import PowerTrace, summarise
    from tests.helpers import wave_from_volts
    # 0.5 A through 0.01 ohm at 19 V, read with a 0.4 mV offset: uncorrected the energy is 19 * 0.54 * T
    n = 2000
    vw = wave_from_volts(np.full(n, 19.0), gain_v=1e-3, x_increment=1e-3)
    iw = wave_from_volts(np.full(n, 0.5 * 0.01 + OFFSET_V), gain_v=1e-7, x_increment=1e-3, channel=2, dtype=np.int32)
    unc = UncertaintyConfig()
    raw = analyse_run(WindowData(t := PowerTrace(vw, iw, shunt_ohm=0.01), summarise(t)), 1.0, ops=None, unc=unc)
    assert raw.energy_j == pytest.approx(19 * 0.54, rel=1e-6)
    z = PowerTrace(vw, iw, shunt_ohm=0.01, current_zero_v=OFFSET_V)
    fixed = analyse_run(WindowData(z, summarise(z)), 1.0, ops=None, unc=unc)
    assert fixed.energy_j == pytest.approx(19 * 0.5, rel=1e-6)
