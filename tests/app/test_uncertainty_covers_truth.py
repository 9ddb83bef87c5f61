"""The expanded uncertainty covers the true energy, and is not far bigger than the error the stated tolerances
allow: a capture through the simulated scope whose channels carry known gain and offset errors.

The board (a profile, instruments/sim/sources.py): 19 V supply, no source resistance, a 0.01 ohm shunt; it idles
at 0.25 A and steps to 0.4 A, where the scope triggers. The truth is analytic: the board sees 19 − I·0.01 V, so
P_busy = 18.996 · 0.4 = 7.5984 W and P_idle = 18.9975 · 0.25 = 4.749375 W; over T = 0.15 s, E = 1.13976 J and
the dynamic energy (P_busy − P_idle)·T = 0.42735375 J.

The scope reads with errors the test plants: voltage gain +0.5 % and offset +20 mV at the tip, current gain
+0.5 % and offset +70 µV (7 mA through 0.01 ohm). The bench states bounds above them: gains 1 %, shunt 0.1 %,
offsets 4 mV at the voltage channel's input (40 mV at the 10:1 tip) and 150 µV (15 mA) on the current channel.

Two checks (GUM, JCGM 100:2008, 6.2: U is meant to cover the error at ~95 %):
* |E − E_true| ≤ U, for E and for the dynamic energy;
* U ≤ 1.25 · B, where B is the worst-case error the stated bounds allow, added linearly by hand. Bounds of
  rectangular distributions in quadrature give U = 1.96·√(Σ (s·a)²/3) ≤ 1.13 · Σ s·a, so a U above 1.25 · B
  counts some term bigger than its tolerance allows (an inflated budget passes "U covers the truth").
"""

import time

import numpy as np
import pytest

from app.bench.config import UncertaintyConfig
from app.measure.analysis import ChannelSettings, WindowData, analyse_run
from app.measure.energy import PowerTrace, summarise
from instruments.detect import open_scope
from instruments.scope import AcquisitionSetup, ChannelSetup
from instruments.sim.server import SimScope
from instruments.sim.sources import ProfileSource, SourceError, load_profile

SUPPLY_V, SHUNT, IDLE_A, BUSY_A, T_S = 19.0, 0.01, 0.25, 0.4, 0.15
GV, GI, VO_V, IO_V = 0.005, 0.005, 0.02, 0.00007          # planted: gains, offsets (volts at the tip)

PROFILE = f"""supply_v = {SUPPLY_V}
source_ohm = 0.0
shunt_ohm = {SHUNT}
noise_v = 0.02
noise_a = 0.01
initial_a = {IDLE_A}
steps = [[0.5, {BUSY_A}]]
period_s = 1.0
voltage_gain_error = {GV}
current_gain_error = {GI}
voltage_offset_v = {VO_V}
current_offset_v = {IO_V}
"""
# the noise (20 mV, 10 mA rms) is about one code of each channel (15.6 mV at 0.5 V/div, 62.5 µV = 6.25 mA at
# 2 mV/div on the Keysight persona): it dithers the codes, so their mean is not biased by the rounding

UNC = UncertaintyConfig(shunt_tolerance=0.001, voltage_gain_error=0.01, current_gain_error=0.01,
                        voltage_offset_error_v=0.004, current_offset_error_v=0.00015)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    path = tmp_path_factory.mktemp("cover") / "profile.toml"
    path.write_text(PROFILE)
    with SimScope(persona="keysight", source=ProfileSource(load_profile(path))) as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            scope.configure(ChannelSetup(1, 10.0, 0.5, 19.0, "DC", False),
                            ChannelSetup(2, 1.0, 0.002, 0.004, "DC", False),
                            AcquisitionSetup(window_s=0.4, sample_rate_hz=1e5, pretrigger=0.5))
            scope.arm_single(2, 0.0033)             # ~0.32 A as the channel reads: between idle and busy
            scope.wait_complete(5)
            wv, wi = scope.fetch(1), scope.fetch(2)
        finally:
            scope.close()
    trace = PowerTrace(wv, wi, shunt_ohm=SHUNT)
    return analyse_run(WindowData(trace, summarise(trace)), T_S, ops=None, unc=UNC,
                       voltage=ChannelSettings(0.5, 10.0, 19.0), current=ChannelSettings(0.002, 1.0, 0.004))


def board_w(amps: float) -> float:
    return (SUPPLY_V - amps * SHUNT) * amps


def test_the_planted_errors_reach_the_energy(result):
    # what the scope reads: V' = V·(1 + gv) + vo, I' = I·(1 + gi) + io/R; E' = V'·I'·T
    # (18.996 · 1.005 + 0.02) · (0.4 · 1.005 + 0.007) · 0.15 = 1.17246 J, 2.9 % above the truth
    read = (SUPPLY_V - BUSY_A * SHUNT) * (1 + GV) + VO_V
    amps = BUSY_A * (1 + GI) + IO_V / SHUNT
    assert result.energy_method == "integrated"
    assert result.energy_j == pytest.approx(read * amps * T_S, rel=2e-3)
    assert abs(result.energy_j - board_w(BUSY_A) * T_S) > 0.025 * board_w(BUSY_A) * T_S


def test_the_expanded_uncertainty_covers_the_true_energy_and_is_not_inflated(result):
    e_true = board_w(BUSY_A) * T_S                                       # 1.13976 J
    assert abs(result.energy_j - e_true) <= result.uncertainty_j
    # worst case the stated bounds allow: E · (0.001 + 0.01 + 0.01) + V̄·T·15 mA + Ī·T·40 mV
    bound = e_true * 0.021 + 19.0 * T_S * 0.015 + BUSY_A * T_S * 0.04     # 0.0239 + 0.04275 + 0.0024 J
    assert result.uncertainty_j <= 1.25 * bound


def test_the_dynamic_uncertainty_covers_the_true_dynamic_energy_and_is_not_inflated(result):
    dyn_true = (board_w(BUSY_A) - board_w(IDLE_A)) * T_S                 # 0.42735 J
    assert result.dynamic_energy_j is not None
    assert abs(result.dynamic_energy_j - dyn_true) <= result.dynamic_uncertainty_j
    # the offsets cancel in E − P_idle·T except the voltage offset times the current's change: 40 mV · 0.15 A · T;
    # the scale terms act on the dynamic energy only: E_dyn · 0.021
    bound = dyn_true * 0.021 + 0.04 * (BUSY_A - IDLE_A) * T_S               # 0.008974 + 0.0009 J
    assert result.dynamic_uncertainty_j <= 1.25 * bound


def test_a_channel_error_that_is_not_a_number_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('voltage_gain_error = "one percent"\n')
    with pytest.raises(SourceError, match="voltage_gain_error"):
        load_profile(path)


def test_a_profile_without_channel_errors_reads_the_clean_board(tmp_path):
    path = tmp_path / "clean.toml"
    path.write_text("supply_v = 12.0\nsource_ohm = 0.5\nshunt_ohm = 0.1\ninitial_a = 2.0\n")
    src = ProfileSource(load_profile(path))
    try:
        v, i = src.board(np.array([time.monotonic()]))
    finally:
        src.close()
    assert v[0] == pytest.approx(12.0 - 2.0 * (0.5 + 0.1)) and i[0] == pytest.approx(2.0)   # 10.8 V, 2 A
