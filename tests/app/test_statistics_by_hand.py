"""Statistics of P, V and I over intervals that do not fall on the sample grid, with a fractional deskew,
against integrals worked out independently of app/measure/energy.py.

The records are built so the answer is known in closed form: the voltage falls and the current rises
linearly, code by code (V(t) = 12 − t volts, I(t) = 0.5 + 0.1·t amps, sampled every millisecond), so
P(t) = V(t)·I(t + deskew) is a quadratic in t and its integrals are those of polynomials (numpy.polynomial,
exact for polynomials). The trace's definition (energy.py's docstring): I at voltage sample k is the current
channel at t_k + deskew, linear between its samples; P linear between samples (the trapezoid rule, whose error
on a quadratic is span·dx²·|P''|/12 = 2.5 s · 1e-6 s² · 0.2 W/s² / 12 ≈ 4e-8 J here, far inside the tolerances).
"""

import numpy as np
import pytest
from numpy.polynomial import Polynomial

from app.measure.energy import ROW, PowerTrace, channel_stats, interval_stats, summarise
from tests.helpers import wave_from_volts

DX = 1e-3
N = 3000                 # 3 s: five full rows of 512 and a short one
SHUNT = 0.01


def ramps(deskew_s=0.0, measured_at="board"):
    """V(t) = 12 − t (codes of 1 mV: 12000 − k), I(t) = 0.5 + 0.1·t (codes of 1 µV across 0.01 ohm = 0.1 mA:
    5000 + k), t = k ms. Every sample is an exact code."""
    k = np.arange(N)
    vw = wave_from_volts(12.0 - k * 1e-3, gain_v=1e-3, x_increment=DX)
    iw = wave_from_volts((0.5 + k * 1e-4) * SHUNT, gain_v=1e-6, x_increment=DX, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT, deskew_s=deskew_s, measured_at=measured_at)
    return trace, summarise(trace)


def power_poly(deskew_s):
    """P(t) in watts as a polynomial in t: (12 − t)·(0.5 + 0.1·(t + deskew))."""
    return Polynomial([12.0, -1.0]) * Polynomial([0.5 + 0.1 * deskew_s, 0.1])


def integral(poly, t0, t1):
    anti = poly.integ()
    return float(anti(t1) - anti(t0))


@pytest.mark.parametrize("deskew_s", [0.0, 0.4e-3, 2.7e-3])
@pytest.mark.parametrize("t0,t1", [(0.2503, 2.7777), (1.00005, 1.00095), (0.0, 2.5)])
def test_interval_stats_off_the_grid_equal_the_analytic_integrals(deskew_s, t0, t1):
    # (1.00005, 1.00095): both ends inside one 1 ms gap (the interval is 0.9 ms)
    trace, summ = ramps(deskew_s)
    p = power_poly(deskew_s)
    span = t1 - t0
    e = integral(p, t0, t1)
    ms = integral(p * p, t0, t1) / span
    st = interval_stats(trace, summ, t0, t1)
    assert st.energy_j == pytest.approx(e, rel=1e-7)
    assert st.mean_w == pytest.approx(e / span, rel=1e-7)
    assert st.rms_w == pytest.approx(np.sqrt(ms), rel=1e-7)
    if span > DX:
        # the standard deviation of P over the interval: √(mean P² − mean²), from the same integrals
        assert st.std_w == pytest.approx(np.sqrt(ms - (e / span) ** 2), rel=1e-4, abs=1e-7)
    else:
        # inside one gap P² is taken linear between its two ends (the trapezoid rule, energy.py's docstring):
        # mean P² = (P0² + P1²)/2, mean P = (P0 + P1)/2, so std = |P1 − P0|/2 (not the exact |P1 − P0|/√12)
        assert st.std_w == pytest.approx(abs(float(p(t1) - p(t0))) / 2, rel=1e-3)
    # P rises over [0, 3] s (P' = 0.1·(12 − t) − (0.5 + 0.1 t) > 0 for t < 3.5 s), so its extremes sit at the ends
    assert st.min_w == pytest.approx(float(p(t0)), rel=1e-8)
    assert st.max_w == pytest.approx(float(p(t1)), rel=1e-8)


def test_rms_of_a_constant_power_with_partial_edges_is_the_power():
    # 19 V and 0.5 A on every sample: P = 9.5 W, so over any interval rms = mean = 9.5 W and std = 0,
    # on the grid or off it (ends 0.45 and 0.9 of a sample into their gaps)
    n = 2000
    vw = wave_from_volts(np.full(n, 19.0), gain_v=1e-3, x_increment=DX)
    iw = wave_from_volts(np.full(n, 0.5 * SHUNT), gain_v=1e-6, x_increment=DX, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
    summ = summarise(trace)
    for t0, t1 in ((0.10045, 1.7009), (0.5, 1.5), (0.7771, 0.7773)):
        st = interval_stats(trace, summ, t0, t1)
        assert st.energy_j == pytest.approx(9.5 * (t1 - t0), rel=1e-9)
        assert st.rms_w == pytest.approx(9.5, rel=1e-12)
        assert st.std_w == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("deskew_s", [0.0, 0.4e-3, 2.7e-3])
def test_channel_stats_off_the_grid_with_fractional_deskew(deskew_s):
    # samples in [0.2503, 2.7777] s: k = 251 … 2777. V = 12 − t_k, I = 0.5 + 0.1·(t_k + deskew), evenly spaced,
    # so each mean is the midpoint of its ends and the extremes are the ends
    trace, summ = ramps(deskew_s)
    v, i = channel_stats(trace, summ, 0.2503, 2.7777)
    ta, tb = 0.251, 2.777
    assert (v.min, v.max) == (pytest.approx(12.0 - tb, rel=1e-12), pytest.approx(12.0 - ta, rel=1e-12))
    assert v.mean == pytest.approx(12.0 - (ta + tb) / 2, rel=1e-12)
    i_lo, i_hi = 0.5 + 0.1 * (ta + deskew_s), 0.5 + 0.1 * (tb + deskew_s)
    assert (i.min, i.max) == (pytest.approx(i_lo, rel=1e-12), pytest.approx(i_hi, rel=1e-12))
    assert i.mean == pytest.approx((i_lo + i_hi) / 2, rel=1e-12)
    assert i.p2p == pytest.approx(0.1 * (tb - ta), rel=1e-9)


def spike_trace(measured_at):
    """0.2 A on every current sample but one at 1.0 A (sample 1300, inside row 2); a deskew of half a sample, so
    the trace's current at voltage samples 1299 and 1300 (current samples 1299.5 and 1300.5) is
    (0.2 + 1.0)/2 = 0.6 A: the trace's current peaks at 0.6 A, though one raw code reads 1.0 A."""
    n = 4 * ROW
    amps = np.full(n, 0.2)
    amps[1300] = 1.0
    vw = wave_from_volts(np.full(n, 19.0), gain_v=1e-3, x_increment=DX)
    iw = wave_from_volts(amps * SHUNT, gain_v=1e-6, x_increment=DX, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT, deskew_s=0.5 * DX, measured_at=measured_at)
    return trace, summarise(trace)


@pytest.mark.parametrize("measured_at", ["board", "supply"])
def test_row_extremes_of_an_interpolated_current_are_the_interpolated_values(measured_at):
    trace, summ = spike_trace(measured_at)
    row = 1299 // ROW
    assert summ.i_max[row] == pytest.approx(0.6, rel=1e-12)
    assert summ.i_min[row] == pytest.approx(0.2, rel=1e-12)
    # the board's volts: 19 V at the board; at the supply minus I·R = 19 − 0.6 · 0.01 = 18.994 V at the peak
    want_v_min = 19.0 if measured_at == "board" else 19.0 - 0.6 * SHUNT
    assert summ.v_min[row] == pytest.approx(want_v_min, rel=1e-12)
    assert summ.v_max[row] == pytest.approx(19.0 if measured_at == "board" else 19.0 - 0.2 * SHUNT, rel=1e-12)
    # P peaks at V·I: 19 · 0.6 = 11.4 W at the board, 18.994 · 0.6 = 11.3964 W at the supply
    assert summ.p_max[row] == pytest.approx(want_v_min * 0.6, rel=1e-12)
    # and a selection across full rows sees the same extremes
    _, cur = channel_stats(trace, summ, 0.1005, 1.9)
    assert cur.max == pytest.approx(0.6, rel=1e-12) and cur.min == pytest.approx(0.2, rel=1e-12)
