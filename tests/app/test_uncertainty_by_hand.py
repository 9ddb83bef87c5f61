"""Every term of the uncertainty budget, worked out by hand from the physics (GUM, JCGM 100:2008).

The sensitivities are those of P = V·I integrated over T (docs/method.md "Uncertainty"):

* a relative gain error g (shunt, either channel) moves E by E·g;
* a DC offset δv on the current channel (volts at the probe tip) is a current δI = δv·(A/V), and moves E by
  ∫V·δI dt = V̄·T·δI; an offset δv on the voltage channel moves E by Ī·T·δv;
* one ADC code q reads with a rectangular error of standard deviation q/√12 (GUM 4.3.7 / F.2.2.1), averaged
  over N samples: /√N;
* a bound a given as a tolerance is rectangular: u = a/√3 (GUM 4.3.7);
* the coverage factor at ~95 % is Student's t at the Welch–Satterthwaite effective degrees of freedom
  (GUM G.4.1); the quantiles are the published table's (NIST/SEMATECH e-Handbook 1.3.6.7.2): t(9) = 2.262,
  t(16) = 2.120, and 1.960 for the normal distribution.

The data sheet's DC offset accuracy is the Keysight InfiniiVision 3000T X-Series data sheet's
"±0.1 div ± 2 mV ± 1 % of offset setting" (the 2 mV at the scope's input, times the probe ratio at the tip);
after `zero`, what is left is taken as 0.02 div (docs/method.md "Uncertainty").

Every expected number below is arithmetic on these physical quantities, written out in the test.
"""

import math

import numpy as np
import pytest

from app.bench.config import UncertaintyConfig
from app.measure.analysis import ChannelSettings, WindowData, analyse_run
from app.measure.energy import PowerTrace, summarise
from app.measure.uncertainty import BudgetItem, ChannelErrors, RegionMeans, dynamic_budget, energy_budget, expanded
from tests.helpers import wave_from_volts

R3 = math.sqrt(3.0)

# A run of T = 2 s at V̄ = 19 V and Ī = 0.6 A through a 0.01 ohm shunt (100 A/V): E = 19 · 0.6 · 2 = 22.8 J.
V_MEAN, I_MEAN, T_S, A_PER_V = 19.0, 0.6, 2.0, 100.0
E_J = 22.8
N = 100_000
VOLTAGE = ChannelErrors(gain=0.01, offset_v=0.05, offset_source="bench", lsb_v=0.0625)
CURRENT = ChannelErrors(gain=0.02, offset_v=0.0002, offset_source="bench", lsb_v=62.5e-6)


def terms(items):
    return {b.name.split(" (")[0]: b for b in items}


def test_each_term_of_the_energy_budget_by_hand():
    items = energy_budget(RegionMeans(E_J, T_S, V_MEAN, I_MEAN, N), shunt_tolerance=0.001, voltage=VOLTAGE,
                          current=CURRENT, amps_per_volt=A_PER_V, alignment_j=0.004, timing_j=0.003)
    got = terms(items)
    # scale terms: E·g/√3
    assert got["shunt tolerance"].u_j == pytest.approx(22.8 * 0.001 / R3, rel=1e-12)      # 0.013164 J
    assert got["voltage-channel gain"].u_j == pytest.approx(22.8 * 0.01 / R3, rel=1e-12)  # 0.13164 J
    assert got["current-channel gain"].u_j == pytest.approx(22.8 * 0.02 / R3, rel=1e-12)  # 0.26327 J
    # current offset: 0.2 mV at the tip is 0.2e-3 · 100 = 0.02 A; ∫V δI dt = 19 V · 2 s · 0.02 A = 0.76 J
    assert got["current-channel offset"].u_j == pytest.approx(0.76 / R3, rel=1e-12)
    # voltage offset: 50 mV; ∫I δV dt = 0.6 A · 2 s · 0.05 V = 0.06 J (with V̄ in place of Ī: 1.9 J, 32x)
    assert got["voltage-channel offset"].u_j == pytest.approx(0.06 / R3, rel=1e-12)
    # quantisation: one current code is 62.5 µV · 100 A/V = 6.25 mA -> 19 V · 2 s · 6.25 mA = 0.2375 J;
    # one voltage code 62.5 mV -> 0.6 A · 2 s · 62.5 mV = 0.075 J; each /√12, both /√N, in quadrature
    q = math.sqrt(0.2375 ** 2 + 0.075 ** 2) / math.sqrt(12 * 100_000)                 # 2.2736e-4 J
    assert got["quantisation"].u_j == pytest.approx(q, rel=1e-12)
    # the timing and alignment terms are the standard uncertainties given, in joules
    assert got["timing of T"].u_j == pytest.approx(0.003, rel=1e-12)
    assert got["alignment of [begin, end]"].u_j == pytest.approx(0.004, rel=1e-12)
    # offsets, quantisation and alignment shift P and P_idle alike (they leave the dynamic energy); gains scale
    assert {n for n, b in got.items() if b.scales is False} == {"current-channel offset", "voltage-channel offset",
                                                                 "quantisation", "alignment of [begin, end]"}
    assert all(b.scales is True for n, b in got.items() if n in ("shunt tolerance", "voltage-channel gain",
                                                                 "current-channel gain", "timing of T"))
    # each term's relative u is its u over E (the record reports both)
    assert all(b.relative_u == pytest.approx(b.u_j / 22.8, rel=1e-12) for b in items)
    # every term is a type-B bound (infinite degrees of freedom): k = 1.960, U = k · √(Σ u²)
    uc = math.sqrt((22.8 * 0.001 / R3) ** 2 + (0.228 / R3) ** 2 + (0.456 / R3) ** 2 + (0.76 / R3) ** 2
                   + (0.06 / R3) ** 2 + q ** 2 + 0.003 ** 2 + 0.004 ** 2)               # 0.52969 J
    u, k, dof = expanded(items)
    assert k == pytest.approx(1.960, abs=5e-4) and math.isinf(dof)
    assert u == pytest.approx(k * uc, rel=1e-12)
    assert u == pytest.approx(1.95996 * 0.52969, rel=1e-4)


def test_spread_of_window_means_keeps_its_degrees_of_freedom():
    # three window means, relative s/√K = 0.5 %: u = 22.8 J · 0.005 = 0.114 J with K − 1 = 2 degrees of freedom
    items = energy_budget(RegionMeans(E_J, T_S, V_MEAN, I_MEAN, N), shunt_tolerance=0.0, voltage=VOLTAGE,
                          current=CURRENT, amps_per_volt=A_PER_V, spread_rel=0.005, spread_dof=2)
    got = terms(items)
    spread = got["spread of window means"]
    assert spread.u_j == pytest.approx(0.114, rel=1e-12) and spread.dof == 2
    # with no alignment or timing given, those terms are nothing
    assert got["alignment of [begin, end]"].u_j == 0.0 and got["timing of T"].u_j == 0.0


def test_quantisation_of_a_single_sample_is_one_code_over_root_twelve():
    # N = 1: the same two codes as above, 0.2375 J and 0.075 J, each /√12, not averaged
    items = energy_budget(RegionMeans(E_J, T_S, V_MEAN, I_MEAN, 1), shunt_tolerance=0.0, voltage=VOLTAGE,
                          current=CURRENT, amps_per_volt=A_PER_V)
    assert terms(items)["quantisation"].u_j == pytest.approx(math.sqrt(0.2375 ** 2 + 0.075 ** 2) / math.sqrt(12),
                                                             rel=1e-12)


def test_a_budget_item_as_the_record_writes_it():
    # a type-B term has no finite degrees of freedom: the record writes null; a sampled term its number
    b = BudgetItem("shunt tolerance", 0.001, 0.0228, math.inf, True).as_dict()
    assert b == {"name": "shunt tolerance", "relative_u": 0.001, "u_j": 0.0228, "dof": None, "scales": True}
    assert BudgetItem("spread of window means", 0.005, 0.114, 2.0, True).as_dict()["dof"] == 2.0


def test_coverage_factor_with_one_degree_of_freedom():
    # two windows: the spread term alone has ν = 1, and t(1) at 97.5 % is 12.706 (the published table)
    u, k, dof = expanded([BudgetItem("spread of window means", 0.0, 0.3, 1.0)])
    assert dof == pytest.approx(1.0) and k == pytest.approx(12.706, abs=5e-4) and u == pytest.approx(12.706 * 0.3,
                                                                                                       rel=1e-4)


def test_welch_satterthwaite_when_the_combined_u_is_one_joule():
    # u_a = 0.6 J with ν = 4 and u_b = 0.8 J: u_c = 1 J, ν_eff = 1⁴ / (0.6⁴/4) = 30.86; t(30) = 2.042 in the table
    u, k, dof = expanded([BudgetItem("spread of window means", 0.0, 0.6, 4.0), BudgetItem("shunt tolerance", 0.0, 0.8)])
    assert dof == pytest.approx(4 / 0.6 ** 4, rel=1e-9)
    assert k == pytest.approx(2.042, abs=3e-3)


@pytest.mark.parametrize("u_b_over_u_a_squared,nu_eff,t_table", [(0.5, 9.0, 2.262), (1.0, 16.0, 2.120)])
def test_coverage_factor_is_student_t_at_welch_satterthwaite(u_b_over_u_a_squared, nu_eff, t_table):
    # a sampled term u_a with ν_a = 4 and a type-B term u_b: ν_eff = (u_a² + u_b²)² / (u_a⁴ / 4)
    # = 4 (1 + u_b²/u_a²)²: 4 · 1.5² = 9, 4 · 2² = 16. The published t quantiles at 97.5 %: 2.262 and 2.120.
    u_a = 0.3
    u_b = u_a * math.sqrt(u_b_over_u_a_squared)
    items = [BudgetItem("spread of window means", 0.0, u_a, 4.0), BudgetItem("shunt tolerance", 0.0, u_b)]
    u, k, dof = expanded(items)
    assert dof == pytest.approx(nu_eff, rel=1e-12)
    assert k == pytest.approx(t_table, abs=5e-4)
    assert u == pytest.approx(t_table * math.sqrt(u_a ** 2 + u_b ** 2), rel=3e-4)


def test_dynamic_budget_rescales_scale_terms_drops_offsets_adds_idle_noise():
    # idle 4.75 W over 2 s: dynamic energy 22.8 − 9.5 = 13.3 J. A gain error g moves it by 13.3 J · g, so
    # each scale term is g · 13.3 / √3; the offsets cancel in E − P_idle·T; the idle mean's own noise is added.
    items = energy_budget(RegionMeans(E_J, T_S, V_MEAN, I_MEAN, N), shunt_tolerance=0.001, voltage=VOLTAGE,
                          current=CURRENT, amps_per_volt=A_PER_V, alignment_j=0.004, timing_j=0.003,
                          spread_rel=0.005, spread_dof=2)
    dyn = terms(dynamic_budget(items, 22.8, 13.3, 0.02))
    assert dyn["shunt tolerance"].u_j == pytest.approx(13.3 * 0.001 / R3, rel=1e-12)
    assert dyn["voltage-channel gain"].u_j == pytest.approx(13.3 * 0.01 / R3, rel=1e-12)
    assert dyn["current-channel gain"].u_j == pytest.approx(13.3 * 0.02 / R3, rel=1e-12)
    assert dyn["timing of T"].u_j == pytest.approx(0.003 * 13.3 / 22.8, rel=1e-12)   # P̄·δT of the dynamic part
    for gone in ("current-channel offset", "voltage-channel offset", "quantisation"):
        assert gone not in dyn
    # alignment and spread belong to E's region and windows: kept in joules, with their degrees of freedom
    assert dyn["alignment of [begin, end]"].u_j == pytest.approx(0.004, rel=1e-12)
    assert dyn["spread of window means"].u_j == pytest.approx(0.114, rel=1e-12)
    assert dyn["spread of window means"].dof == 2
    assert dyn["idle power"].u_j == pytest.approx(0.02, rel=1e-12)
    # relative to the dynamic energy: a scale term keeps g/√3; the others are their joules over 13.3 J
    assert dyn["current-channel gain"].relative_u == pytest.approx(0.02 / R3, rel=1e-12)
    assert dyn["alignment of [begin, end]"].relative_u == pytest.approx(0.004 / 13.3, rel=1e-12)
    assert dyn["spread of window means"].relative_u == pytest.approx(0.114 / 13.3, rel=1e-12)
    assert dyn["idle power"].relative_u == pytest.approx(0.02 / 13.3, rel=1e-12)
    # the kept terms keep their kind (scale or not); the idle noise is a scale-free addition with infinite dof
    assert dyn["current-channel gain"].scales is True and dyn["alignment of [begin, end]"].scales is False
    assert dyn["spread of window means"].scales is True and math.isinf(dyn["idle power"].dof)


def test_a_dynamic_energy_of_zero_has_no_relative_figures():
    # idle drew all of it (E − P_idle·T = 0 J): a relative u of zero joules is not a number to report, so 0
    items = energy_budget(RegionMeans(E_J, T_S, V_MEAN, I_MEAN, N), shunt_tolerance=0.001, voltage=VOLTAGE,
                          current=CURRENT, amps_per_volt=A_PER_V, alignment_j=0.004)
    dyn = terms(dynamic_budget(items, 22.8, 0.0, 0.02))
    assert dyn["alignment of [begin, end]"].relative_u == 0.0 and dyn["idle power"].relative_u == 0.0
    assert dyn["shunt tolerance"].u_j == 0.0            # a scale error of nothing is nothing


# -- through analyse_run: which offset bound applies, and the idle noise, on a hand-built record --------------

DX = 1e-3          # 1 kHz
PRE = 500          # 0.5 s before the trigger


def record(seconds: float):
    """19 V; before t = 0 the board idles at 0.25 A ± 0.01 A alternating sample by sample (P = 4.56 / 4.94 W),
    from t = 0 on it draws 0.6 A (11.4 W). Codes of 1 mV (voltage) and 1 µV (current, 0.01 ohm: 0.1 mA)."""
    n = PRE + int(round(seconds / DX)) + 1
    amps = np.full(n, 0.6)
    amps[:PRE] = np.where(np.arange(PRE) % 2 == 0, 0.24, 0.26)
    vw = wave_from_volts(np.full(n, 19.0), gain_v=1e-3, x_increment=DX, x_origin=-PRE * DX)
    iw = wave_from_volts(amps * 0.01, gain_v=1e-6, x_increment=DX, x_origin=-PRE * DX, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=0.01)
    return WindowData(trace, summarise(trace))


UNC = UncertaintyConfig(shunt_tolerance=0.001, voltage_gain_error=0.01, current_gain_error=0.02)
V_SET = ChannelSettings(volts_per_div=0.5, probe_ratio=10.0, offset_v=19.0)


@pytest.mark.parametrize("zeroed", [False, True])
def test_offset_terms_from_the_data_sheet_or_the_zeroed_residual(zeroed):
    # T = 1 s at 19 V and 0.6 A: E = 11.4 J; 1001 samples in [0, 1] s
    # (the current channel's offset setting is −5 mV: the data sheet's 1 % is of its size)
    i_set = ChannelSettings(volts_per_div=0.002, probe_ratio=1.0, offset_v=-0.005, zeroed=zeroed)
    r = analyse_run(record(1.0), 1.0, ops=None, unc=UNC, voltage=V_SET, current=i_set)
    assert r.energy_j == pytest.approx(11.4, rel=1e-9)
    got = terms(r.budget)
    # voltage channel (never zeroed), the data sheet: 0.1 div · 0.5 V + 2 mV · 10 + 1 % · 19 V = 0.26 V at the tip;
    # ∫I δV dt = 0.6 A · 1 s · 0.26 V = 0.156 J
    assert got["voltage-channel offset"].u_j == pytest.approx(0.6 * 1.0 * 0.26 / R3, rel=1e-9)
    if zeroed:
        # what zeroing leaves: 0.02 div · 2 mV = 40 µV = 4 mA; 19 V · 1 s · 4 mA = 0.076 J
        assert got["current-channel offset"].u_j == pytest.approx(19.0 * 1.0 * 0.004 / R3, rel=1e-9)
        assert "zeroed" in [b.name for b in r.budget if b.name.startswith("current-channel offset")][0]
    else:
        # the data sheet: 0.1 div · 2 mV + 2 mV · 1 + 1 % · |−5 mV| = 2.25 mV = 0.225 A; 19 V · 1 s · 0.225 A = 4.275 J
        assert got["current-channel offset"].u_j == pytest.approx(19.0 * 1.0 * 0.225 / R3, rel=1e-9)
    # quantisation with the record's codes: 1 µV · 100 A/V = 0.1 mA -> 19 · 1 · 1e-4 = 1.9 mJ; 1 mV -> 0.6 mJ
    q = math.sqrt(1.9e-3 ** 2 + 0.6e-3 ** 2) / math.sqrt(12 * 1001)
    assert got["quantisation"].u_j == pytest.approx(q, rel=1e-9)


def test_offset_bounds_given_at_the_scope_input_are_scaled_by_the_probe():
    # the bench gives 5 mV at the voltage channel's input: 50 mV at the 10:1 probe's tip; 0.1 mV on the current
    # channel (1:1) = 10 mA. E over T = 1 s: 0.6 · 1 · 0.05 = 0.03 J and 19 · 1 · 0.01 = 0.19 J
    unc = UncertaintyConfig(voltage_offset_error_v=0.005, current_offset_error_v=1e-4)
    i_set = ChannelSettings(volts_per_div=0.002, probe_ratio=1.0, offset_v=0.005)
    got = terms(analyse_run(record(1.0), 1.0, ops=None, unc=unc, voltage=V_SET, current=i_set).budget)
    assert got["voltage-channel offset"].u_j == pytest.approx(0.03 / R3, rel=1e-9)
    assert got["current-channel offset"].u_j == pytest.approx(0.19 / R3, rel=1e-9)


def test_idle_noise_and_the_dynamic_uncertainty_through_the_analysis():
    # idle before the trigger: P alternates 19 · 0.24 = 4.56 W and 19 · 0.26 = 4.94 W; linear between samples,
    # its mean is 4.75 W and its rms² the mean of P², so its standard deviation is (4.94 − 4.56)/2 = 0.19 W.
    # The idle span ends max(2 dx, 1 % of the 0.5 s pre-trigger) = 5 ms before t = 0: [−0.5, −0.005] s, 495 gaps.
    # Over T = 1 s its noise is T · 0.19 / √495 J.
    i_set = ChannelSettings(volts_per_div=0.002, probe_ratio=1.0, offset_v=0.005, zeroed=True)
    r = analyse_run(record(1.0), 1.0, ops=None, unc=UNC, voltage=V_SET, current=i_set)
    assert r.idle_power_w == pytest.approx(4.75, rel=1e-9)
    assert r.dynamic_energy_j == pytest.approx(11.4 - 4.75, rel=1e-9)                  # 6.65 J
    dyn = terms(r.dynamic_budget)
    idle_u = 1.0 * 0.19 / math.sqrt(495)
    assert dyn["idle power"].u_j == pytest.approx(idle_u, rel=1e-6)
    # the dynamic energy's scale terms: 6.65 J · g / √3; U = 1.960 · √(Σ u²)
    scale = [6.65 * 0.001 / R3, 6.65 * 0.01 / R3, 6.65 * 0.02 / R3]
    for name, u in zip(("shunt tolerance", "voltage-channel gain", "current-channel gain"), scale):
        assert dyn[name].u_j == pytest.approx(u, rel=1e-9)
    want = 1.959964 * math.sqrt(sum(u * u for u in scale) + idle_u ** 2)
    assert r.dynamic_uncertainty_j == pytest.approx(want, rel=1e-6)
