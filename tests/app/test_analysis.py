"""Run analysis against METHOD.md's published figures and hand-computed values."""

import math

import numpy as np
import pytest

from app.analysis import WindowData, analyse_run, idle_power_w, j_per_gop, mean_ci95
from app.bench import UncertaintyConfig
from app.energy import PowerTrace, summarise
from app.errors import AnalysisError
from tests.helpers import wave_from_volts

SHUNT = 0.01
UNC = UncertaintyConfig(shunt_tolerance=0.001, voltage_gain_error=0.01, current_gain_error=0.01)


def window(p_idle_w, p_busy_w, *, volts=19.0, n=1200, dx=1e-3, pre=100, busy_from=None, busy_to=None,
           i_gain=1e-7):
    """Constant voltage; current idle before the trigger (sample `pre` = t 0) and busy after."""
    i = np.full(n, p_idle_w / volts)
    i[(pre if busy_from is None else busy_from):busy_to] = p_busy_w / volts
    vw = wave_from_volts(np.full(n, volts), gain_v=1e-3, x_increment=dx, x_origin=-pre * dx)
    iw = wave_from_volts(i * SHUNT, gain_v=i_gain, x_increment=dx, x_origin=-pre * dx, channel=2,
                         dtype=np.int32)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
    return WindowData(trace, summarise(trace))


def test_published_table_j_per_gop():
    # METHOD.md: Swift 10.20 W x 0.616 s for 0.185 GOps -> 33.9 J/GOps
    swift = j_per_gop(10.20 * 0.616, 0.185e9)
    assert swift == pytest.approx(33.963, abs=1e-3)
    assert math.floor(swift * 10) / 10 == 33.9
    # PyTorch 41 220.14 J over 3 340.826 s for 0.245 GOps -> 168 245 J/GOps
    assert j_per_gop(41220.14, 0.245e9) == pytest.approx(168245, abs=1)
    # TensorFlow 8 259.66 J for 0.245 GOps -> 33 713 J/GOps
    assert j_per_gop(8259.66, 0.245e9) == pytest.approx(33713, abs=1)
    assert j_per_gop(5.0, None) is None
    with pytest.raises(AnalysisError):
        j_per_gop(5.0, 0)


def test_integrated_run_energy_idle_dynamic():
    # idle 4.75 W before the trigger, 11.4 W for T = 0.6 s after it, idle again after
    w = window(4.75, 11.4, busy_to=100 + 600)
    res = analyse_run(w, 0.6, ops=0.185e9, unc=UNC)
    assert res.energy_method == "integrated"
    # the busy stretch ends at sample 699 (t = 0.599); P ramps to idle by 0.600:
    # E = 11.4*0.599 + (11.4+4.75)/2*0.001
    expected = 11.4 * 0.599 + (11.4 + 4.75) / 2 * 0.001
    assert res.energy_j == pytest.approx(expected, rel=1e-6)
    assert res.idle_power_w == pytest.approx(4.75, rel=1e-6)
    assert res.dynamic_energy_j == pytest.approx(expected - 4.75 * 0.6, rel=1e-6)
    assert res.j_per_gop == pytest.approx(expected / 0.185, rel=1e-6)
    assert res.avg_power_w == pytest.approx(expected / 0.6, rel=1e-6)
    assert not res.clipped


def test_idle_power_excludes_trigger_edge():
    w = window(2.0, 10.0, volts=20.0)
    assert idle_power_w(w) == pytest.approx(2.0 + (10.0 - 2.0) / 2 * 0.001 / 0.1, rel=1e-6)  # edge ramp included
    assert idle_power_w(w, guard_s=0.001) == pytest.approx(2.0, rel=1e-6)


def test_extrapolated_run_reproduces_published_pytorch_figure():
    # the board draws 12.3383 W for 3 340.826 s, 0.245 GOps -> 168 245 J/GOps (METHOD.md)
    w = window(5.0, 12.3383, i_gain=1e-8)
    res = analyse_run(w, 3340.826, ops=0.245e9, unc=UNC)
    assert res.energy_method == "extrapolated"
    assert res.avg_power_w == pytest.approx(12.3383, rel=1e-5)
    assert res.energy_j == pytest.approx(41220.14, rel=1e-4)
    assert res.j_per_gop == pytest.approx(168245, rel=1e-4)
    assert any("one window" in m for m in res.warnings)


def test_k_windows_mean_and_t_interval():
    # three steady windows at 10, 11, 12 W: mean 11, s = 1, t(0.975, 2) = 4.302653
    first = window(4.0, 10.0, volts=20.0)
    steady = [window(p, p, pre=0, volts=20.0) for p in (10.0, 11.0, 12.0)]
    res = analyse_run(first, 100.0, ops=None, unc=UNC, steady=steady)
    assert res.windows == 4
    assert res.avg_power_w == pytest.approx(11.0, rel=1e-6)
    assert res.power_ci95_w == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert res.energy_j == pytest.approx(1100.0, rel=1e-6)
    assert res.j_per_gop is None
    budget = {b.name: b for b in res.budget}
    # the statistical term: CI/2 relative to the mean
    assert budget["spread of window means"].relative_u == pytest.approx(4.302653 / math.sqrt(3) / 2 / 11, rel=1e-5)


def test_mean_ci95_single_value_has_no_interval():
    assert mean_ci95([3.0]) == (3.0, None)


def test_uncertainty_budget_combines_in_quadrature_k2():
    w = window(4.0, 10.0, volts=20.0)
    res = analyse_run(w, 0.5, ops=None, unc=UNC)
    e = res.energy_j
    rel_timing = math.sqrt(2 * (1e-3 ** 2 + 1e-6 ** 2) / 12) / 0.5
    expected = 2 * e * math.sqrt(0.001 ** 2 + 0.01 ** 2 + 0.01 ** 2 + rel_timing ** 2)
    assert res.uncertainty_j == pytest.approx(expected, rel=1e-9)
    assert [b.name for b in res.budget] == ["shunt tolerance", "voltage-channel gain", "current-channel gain",
                                             "timing of T"]
    assert not any("expanded uncertainty" in m for m in res.warnings)      # 2.8 %: below the 5 % warning
    loose = UncertaintyConfig(shunt_tolerance=0.001, voltage_gain_error=0.03, current_gain_error=0.03)
    assert any("above 5%" in m for m in analyse_run(w, 0.5, ops=None, unc=loose).warnings)


def test_no_pretrigger_means_no_idle_and_a_warning():
    w = window(4.0, 10.0, pre=0, volts=20.0)
    res = analyse_run(w, 0.5, ops=None, unc=UNC)
    assert res.idle_power_w is None and res.dynamic_energy_j is None
    assert any("pretrigger" in m for m in res.warnings)


def test_bad_duration_refused():
    with pytest.raises(AnalysisError, match="duration"):
        analyse_run(window(1.0, 2.0), float("nan"), ops=None, unc=UNC)
