"""Statistics of P, V and I over intervals that do not fall on the sample grid, with a fractional deskew,
against integrals worked out independently of app/measure/energy.py.

The records are built so the answer is known in closed form: the voltage falls and the current rises (or
falls) linearly, code by code (V(t) = 12 − t volts, I(t) = 0.5 + 0.1·t or 0.8 − 0.1·t amps, sampled every
millisecond from t = −0.5 s), so P(t) = V(t)·I(t + deskew) is a quadratic in t and its integrals are those of
polynomials (numpy.polynomial, exact for polynomials). The trace's definition (energy.py's docstring): I at
voltage sample k is the current channel at t_k + deskew, linear between its samples; P linear between samples
(the trapezoid rule, whose error on a quadratic is span·dx²·|P''|/12 = 3 s · 1e-6 s² · 0.2 W/s² / 12 = 5e-8 J
here, far inside the tolerances).
"""

import math

import h5py
import numpy as np
import pytest
from numpy.polynomial import Polynomial

from app.errors import AnalysisError
from app.measure.energy import (
    MEANS_MAX_SAMPLES,
    ROW,
    PowerTrace,
    amps_per_volt,
    channel_means,
    channel_stats,
    clip_fraction,
    interval_stats,
    power_histogram,
    rail_count,
    summarise,
)
from instruments.waveform import Waveform
from tests.helpers import wave_from_volts

DX = 1e-3
N = 3000                 # 3 s: five full rows of 512 and a short one
X0 = -0.5                # the first sample's time: half a second before the trigger
SHUNT = 0.01
# none; fractional; more than two samples; the current leading (fractional, whole); two whole samples; 43 samples,
# whose quotient by the 1 ms step is 42.99999999999999 in floating point (a whole number of samples all the same)
DESKEWS = [0.0, 0.4e-3, 2.7e-3, -2.3e-3, -2e-3, 2e-3, 0.043]


def current_line(falling: bool) -> tuple[float, float]:
    """(I at t = 0, dI/dt) of the current ramp, amps and amps per second."""
    return (0.8, -0.1) if falling else (0.5, 0.1)


def ramps(deskew_s=0.0, measured_at="board", falling=False):
    """V(t) = 12 − t: codes of 1 mV, 12500 − k; I(t) = 0.5 + 0.1·t: codes of 1 µV across 0.01 ohm (0.1 mA),
    4500 + k (falling: 0.8 − 0.1·t, 8500 − k); t = −0.5 s + k ms. Every sample is an exact code."""
    k = np.arange(N)
    i0, slope = current_line(falling)
    vw = wave_from_volts(12.0 - (X0 + k * DX), gain_v=1e-3, x_increment=DX, x_origin=X0)
    iw = wave_from_volts((i0 + slope * (X0 + k * DX)) * SHUNT, gain_v=1e-6, x_increment=DX, x_origin=X0, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT, deskew_s=deskew_s, measured_at=measured_at)
    return trace, summarise(trace)


def power_poly(deskew_s, falling=False):
    """P(t) in watts as a polynomial in t: (12 − t)·I(t + deskew)."""
    i0, slope = current_line(falling)
    return Polynomial([12.0, -1.0]) * Polynomial([i0 + slope * deskew_s, slope])


def integral(poly, t0, t1):
    anti = poly.integ()
    return float(anti(t1) - anti(t0))


@pytest.mark.parametrize("falling", [False, True])
@pytest.mark.parametrize("deskew_s", DESKEWS)
@pytest.mark.parametrize("t0,t1", [(0.2503, 2.2777), (1.00005, 1.00095), (0.0, 2.0), ("first", "last"),
                                   ("whole", "whole")])
def test_interval_stats_off_the_grid_equal_the_analytic_integrals(deskew_s, t0, t1, falling):
    # (1.00005, 1.00095): both ends inside one 1 ms gap (the interval is 0.9 ms); ("first", "last"): from 0.3 of
    # the trace's first gap to 0.4 of a sample before its last sample
    trace, summ = ramps(deskew_s, falling=falling)
    if t0 == "first":
        t0, t1 = trace.t_first + 0.3 * DX, trace.t_last - 0.4 * DX
    elif t0 == "whole":
        t0, t1 = trace.t_first, trace.t_last
    p = power_poly(deskew_s, falling)
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
    # P rises over the record (P' = 0.1·(12 − t) − (0.5 + 0.1 t) > 0 for t < 3.5 s), or falls (P' = −0.8 + 0.1 t
    # − 0.1·(12 − t) < 0 for t < 10 s), so its extremes sit at the ends
    lo, hi = sorted((float(p(t0)), float(p(t1))))
    assert st.min_w == pytest.approx(lo, rel=1e-8) and st.max_w == pytest.approx(hi, rel=1e-8)
    assert (st.t0_s, st.t1_s) == (t0, t1) and st.duration_s == pytest.approx(span, rel=1e-12)


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


@pytest.mark.parametrize("falling", [False, True])
@pytest.mark.parametrize("deskew_s", DESKEWS)
def test_channel_stats_off_the_grid_with_fractional_deskew(deskew_s, falling):
    # samples in [0.2503, 2.2777] s: t_k = 0.251 … 2.277 s. V = 12 − t_k, I = I(t_k + deskew), evenly spaced,
    # so each mean is the midpoint of its ends and the extremes are the ends
    trace, summ = ramps(deskew_s, falling=falling)
    v, i = channel_stats(trace, summ, 0.2503, 2.2777)
    ta, tb = 0.251, 2.277
    assert (v.min, v.max) == (pytest.approx(12.0 - tb, rel=1e-12), pytest.approx(12.0 - ta, rel=1e-12))
    assert v.mean == pytest.approx(12.0 - (ta + tb) / 2, rel=1e-12)
    i0, slope = current_line(falling)
    i_lo, i_hi = sorted((i0 + slope * (ta + deskew_s), i0 + slope * (tb + deskew_s)))
    assert (i.min, i.max) == (pytest.approx(i_lo, rel=1e-12), pytest.approx(i_hi, rel=1e-12))
    assert i.mean == pytest.approx((i_lo + i_hi) / 2, rel=1e-12)
    assert i.p2p == pytest.approx(0.1 * (tb - ta), rel=1e-9)


def test_channel_stats_and_means_of_an_interval_inside_one_gap_take_the_next_sample():
    # [1.0003, 1.0007] s holds no sample: the statistics are those of the sample after it, t = 1.001 s
    trace, summ = ramps()
    v, i = channel_stats(trace, summ, 1.0003, 1.0007)
    assert v.min == v.max == pytest.approx(12.0 - 1.001, rel=1e-12) and v.mean == pytest.approx(10.999, rel=1e-12)
    assert i.min == i.max == pytest.approx(0.5 + 0.1001, rel=1e-12) and i.mean == pytest.approx(0.6001, rel=1e-12)
    mean_v, mean_i, n = channel_means(trace, 1.0003, 1.0007)
    assert (mean_v, mean_i, n) == (pytest.approx(10.999, rel=1e-12), pytest.approx(0.6001, rel=1e-12), 1)
    # and an interval past the last sample reads the last one (t = 2.499 s)
    mean_v, mean_i, n = channel_means(trace, 2.4995, 2.4999)
    assert (mean_v, mean_i, n) == (pytest.approx(12.0 - 2.499, rel=1e-12), pytest.approx(0.7499, rel=1e-12), 1)


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


def long_ramp(codes_in):
    """400 000 samples of 1 µs: V = 10 V, I rising one code (1 µA) a sample from 0: I_k = k µA (codes of 10 nV
    across 0.01 ohm, int32). `codes_in` holds the current's codes: an array, or a dataset of an HDF5 file (read
    piece by piece, as a session's record is)."""
    n = 400_000
    vw = wave_from_volts(np.full(n, 10.0), gain_v=1e-3, x_increment=1e-6)
    iw = wave_from_volts(np.arange(n) * 1e-6 * SHUNT, gain_v=1e-8, x_increment=1e-6, dtype=np.int32, channel=2)
    if codes_in is not None:
        iw = Waveform(codes=codes_in(iw.codes), y_increment=iw.y_increment, y_origin=0.0, y_reference=0.0,
                      x_increment=1e-6, x_origin=0.0, code_min=iw.code_min, code_max=iw.code_max, channel=2)
        vw = Waveform(codes=codes_in(vw.codes), y_increment=vw.y_increment, y_origin=0.0, y_reference=0.0,
                      x_increment=1e-6, x_origin=0.0, code_min=vw.code_min, code_max=vw.code_max)
    return PowerTrace(vw, iw, shunt_ohm=SHUNT)


@pytest.mark.parametrize("stored", ["memory", "file"])
def test_channel_means_of_a_long_interval_from_spread_blocks(tmp_path, stored):
    # more than MEANS_MAX_SAMPLES samples: the means come from evenly spread blocks. I is a straight line in
    # the sample number, so any evenly spread set of whole blocks has the line's middle as its mean:
    # samples 50 000 … 350 000 -> (50 000 + 350 000)/2 µA = 0.2 A (to the half-sample the spreading rounds to)
    assert 350_001 - 50_000 > MEANS_MAX_SAMPLES
    with h5py.File(tmp_path / "record.h5", "w") as fh:
        names = iter(("current", "voltage"))
        trace = long_ramp(None if stored == "memory" else lambda codes: fh.create_dataset(next(names), data=codes))
        mean_v, mean_i, n = channel_means(trace, 0.05, 0.35)
        assert n == 300_001
        assert mean_v == pytest.approx(10.0, rel=1e-12)
        assert mean_i == pytest.approx(0.2, abs=2e-6)              # 2 samples of 1 µA
        # a short interval of the same record is read whole: samples 1000 … 2000 -> 1.5 mA exactly
        assert channel_means(trace, 0.001, 0.002)[1] == pytest.approx(0.0015, rel=1e-12)


def test_rails_counted_at_both_ends_of_the_code_range():
    # int8 codes: 30 at −128, 20 at +127, the rest in between: 50 of 10 000 at a rail = 0.5 %
    codes = np.full(10_000, 3, dtype=np.int8)
    codes[:30] = -128
    codes[-20:] = 127
    assert rail_count(codes, -128, 127) == 50
    assert rail_count(codes[:30], -128, 127) == 30 and rail_count(codes[-20:], -128, 127) == 20
    assert rail_count(codes[30:-20], -128, 127) == 0
    assert rail_count(codes[:1], -128, 127) == 1 and rail_count(codes[:0], -128, 127) == 0
    wave = Waveform(codes=codes, y_increment=0.1, y_origin=0.0, y_reference=0.0, x_increment=1e-3, x_origin=0.0,
                    code_min=-128, code_max=127)
    assert clip_fraction(wave) == pytest.approx(0.005, rel=1e-12)


def test_intervals_outside_the_record_or_not_numbers_are_refused():
    trace, summ = ramps()
    with pytest.raises(AnalysisError, match="empty"):
        interval_stats(trace, summ, math.nan, 1.0)
    with pytest.raises(AnalysisError, match="empty"):
        interval_stats(trace, summ, 0.0, math.inf)
    # half a sample before the first (t = −0.5 s) or after the last (t = 2.499 s) is outside
    with pytest.raises(AnalysisError, match="outside"):
        interval_stats(trace, summ, -0.5 - 0.5 * DX, 0.0)
    with pytest.raises(AnalysisError, match="outside"):
        interval_stats(trace, summ, 0.0, 2.499 + 0.5 * DX)


def test_rms_of_a_power_below_one_watt():
    # 1.9 V and 0.25 A: 0.475 W on every sample, rms 0.475 W over any interval
    n = 1000
    vw = wave_from_volts(np.full(n, 1.9), gain_v=1e-3, x_increment=DX)
    iw = wave_from_volts(np.full(n, 0.25 * SHUNT), gain_v=1e-6, x_increment=DX, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
    st = interval_stats(trace, summarise(trace), 0.1234, 0.8766)
    assert st.rms_w == pytest.approx(0.475, rel=1e-12) and st.mean_w == pytest.approx(0.475, rel=1e-12)


def test_power_histogram_of_a_straight_line_is_flat():
    # V = 10 V and I_k = k µA: P_k = 10 µW · k, evenly spaced. Samples 100 000 … 299 999 ([0.1, 0.299999] s) hold
    # 200 000 values spread evenly over [1, 2.99999] W: 2000 in each of 100 equal bins (±1 at the bin edges)
    trace = long_ramp(None)
    summ = summarise(trace)
    h = power_histogram(trace, summ, 0.1, 0.299999, bins=100)
    assert h.samples == h.of_samples == 200_000
    assert h.edges_w[0] == pytest.approx(1.0, rel=1e-9) and h.edges_w[-1] == pytest.approx(2.99999, rel=1e-9)
    assert np.all(np.abs(h.counts - 2000) <= 1) and h.counts.sum() == 200_000
    cdf = h.cdf()
    assert cdf[49] == pytest.approx(0.5, abs=1e-5) and cdf[-1] == pytest.approx(1.0, rel=1e-12)
    # above max_samples: 200 evenly spread blocks of max_samples/200 samples, still flat (within a block's count)
    h = power_histogram(trace, summ, 0.1, 0.299999, bins=10, max_samples=20_000)
    assert h.samples == 20_000 and h.of_samples == 200_000
    assert np.all(np.abs(h.counts - 2000) <= 20)


def test_channel_stats_on_the_grid_and_on_row_boundaries():
    # ends exactly on samples are inside; rows of 512 samples start at t = −0.5 + 0.512·r s
    trace, summ = ramps()
    cases = [((0.25, 0.5), (0.25, 0.5)),            # on the grid: t = 0.25 … 0.5 s, both ends included
             ((0.012, 1.036), (0.012, 1.036)),      # from the first sample of row 1 to the first of row 3
             ((0.1003, 0.6003), (0.101, 0.6)),      # inside rows 1 and 2, no full row between
             ((-0.5, -0.49), (-0.5, -0.49))]        # from the record's first sample
    for (t0, t1), (ta, tb) in cases:
        v, i = channel_stats(trace, summ, t0, t1)
        assert (v.min, v.max) == (pytest.approx(12.0 - tb, rel=1e-12), pytest.approx(12.0 - ta, rel=1e-12)), t0
        assert (i.min, i.max) == (pytest.approx(0.5 + 0.1 * ta, rel=1e-12), pytest.approx(0.5 + 0.1 * tb, rel=1e-12))
        assert i.mean == pytest.approx(0.5 + 0.1 * (ta + tb) / 2, rel=1e-12)
    # before the record: the first sample (t = −0.5 s: 12.5 V, 0.45 A)
    assert channel_means(trace, -0.6, -0.55) == (pytest.approx(12.5, rel=1e-12), pytest.approx(0.45, rel=1e-12), 1)
    assert summ.n == trace.n == N


def test_the_current_channel_zero_offset_is_subtracted():
    # the channel reads 0.3 mV with no current; it reads 6.3 mV: (6.3 − 0.3) mV / 0.01 ohm = 0.6 A; 19 V -> 11.4 W
    n = 1000
    vw = wave_from_volts(np.full(n, 19.0), gain_v=1e-3, x_increment=DX)
    iw = wave_from_volts(np.full(n, 0.0063), gain_v=1e-6, x_increment=DX, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT, current_zero_v=0.0003)
    summ = summarise(trace)
    assert interval_stats(trace, summ, 0.1, 0.9).mean_w == pytest.approx(11.4, rel=1e-9)
    assert channel_stats(trace, summ, 0.1, 0.9)[1].max == pytest.approx(0.6, rel=1e-9)


def test_a_trace_refuses_what_it_cannot_measure():
    vw = wave_from_volts(np.full(10, 12.0), gain_v=1e-3)
    iw = wave_from_volts(np.full(10, 0.01), gain_v=1e-6, channel=2)
    with pytest.raises(AnalysisError, match='"board" or "supply"'):
        PowerTrace(vw, iw, shunt_ohm=SHUNT, measured_at="wall")
    with pytest.raises(AnalysisError, match="needs shunt_ohm"):
        PowerTrace(vw, iw, amps_per_volt_=10.0, measured_at="supply")
    for shunt, apv in ((None, None), (0.01, 10.0)):
        with pytest.raises(AnalysisError, match="exactly one"):
            amps_per_volt(shunt, apv)
    for shunt, apv in ((0.0, None), (None, 0.0)):
        with pytest.raises(AnalysisError, match="above 0"):
            amps_per_volt(shunt, apv)
    # a 0.5 A/V probe (a 2 V/A current probe) and a 2 ohm shunt are both 0.5 A per volt
    assert amps_per_volt(None, 0.5) == 0.5 and amps_per_volt(2.0, None) == 0.5


def test_rails_counted_across_the_pieces_of_a_long_record():
    # 5 000 000 int8 codes, read for rails in pieces of 4 Mi codes: 100 at −128 in the first piece, 25 at +127
    # across the pieces' border (index 4 194 304) and 50 at +127 at the end: 175 codes
    codes = np.zeros(5_000_000, dtype=np.int8)
    codes[:100] = -128
    codes[4_194_290:4_194_315] = 127
    codes[-50:] = 127
    wave = Waveform(codes=codes, y_increment=0.1, y_origin=0.0, y_reference=0.0, x_increment=1e-6, x_origin=0.0,
                    code_min=-128, code_max=127)
    assert clip_fraction(wave) == pytest.approx(175 / 5_000_000, rel=1e-12)
    empty = Waveform(codes=codes[:0], y_increment=0.1, y_origin=0.0, y_reference=0.0, x_increment=1e-6,
                     x_origin=0.0, code_min=-128, code_max=127)
    assert clip_fraction(empty) == 0.0


def test_an_interval_half_a_microsecond_before_a_microsecond_record_is_refused():
    trace = long_ramp(None)
    with pytest.raises(AnalysisError, match="outside"):
        interval_stats(trace, summarise(trace), -0.5e-6, 1e-3)


def test_power_histogram_of_a_constant_power_and_of_more_than_a_million_samples():
    # 9.5 W on every sample: all of them in the first bin, which starts at 9.5 W
    n = 1000
    vw = wave_from_volts(np.full(n, 19.0), gain_v=1e-3, x_increment=DX)
    iw = wave_from_volts(np.full(n, 0.5 * SHUNT), gain_v=1e-6, x_increment=DX, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
    h = power_histogram(trace, summarise(trace), 0.1, 0.9, bins=10)
    assert h.counts[0] == 801 and h.counts.sum() == 801 and h.edges_w[0] == pytest.approx(9.5, rel=1e-12)
    # 1 500 001 samples of a straight line read in pieces of 2^20: each counted once, 150 000 (±1) in each of 10 bins
    k = np.arange(1_600_000)
    vw = wave_from_volts(np.full(k.size, 10.0), gain_v=1e-3, x_increment=1e-6)
    iw = wave_from_volts(k * 1e-6 * SHUNT, gain_v=1e-8, x_increment=1e-6, dtype=np.int32, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
    h = power_histogram(trace, summarise(trace), 0.05, 1.55, bins=10)
    assert h.samples == h.of_samples == 1_500_001 and h.counts.sum() == 1_500_001
    assert np.all(np.abs(h.counts - 150_000) <= 1)


def test_a_deskew_leaving_fewer_than_two_common_samples_is_refused():
    # 10 samples a channel; the current 8 samples late: voltage samples 0 and 1 meet current samples 8 and 9 (two
    # in common: a trace of 2 samples); 9 samples late leaves one in common, which cannot be integrated
    vw = wave_from_volts(np.full(10, 12.0), gain_v=1e-3)
    iw = wave_from_volts(np.full(10, 0.01), gain_v=1e-6, channel=2)
    assert PowerTrace(vw, iw, shunt_ohm=SHUNT, deskew_s=8 * DX).n == 2
    with pytest.raises(AnalysisError, match="fewer than 2 samples"):
        PowerTrace(vw, iw, shunt_ohm=SHUNT, deskew_s=9 * DX)
    with pytest.raises(AnalysisError, match="fewer than 2 samples"):
        PowerTrace(vw, iw, shunt_ohm=SHUNT, deskew_s=-9 * DX)


def test_power_histogram_of_a_record_that_starts_before_the_trigger():
    # ramps(): t from −0.5 s; [−0.4, 0.5] s holds samples 100 … 1000: 901 of them, all counted; and from the first
    # sample, [−0.5, 0.5] s: 1001
    trace, summ = ramps()
    assert power_histogram(trace, summ, -0.5, 0.5, bins=10).of_samples == 1001
    h = power_histogram(trace, summ, -0.4, 0.5, bins=10)
    assert h.samples == h.of_samples == 901 and h.counts.sum() == 901
    p = power_poly(0.0)
    assert h.edges_w[0] == pytest.approx(float(p(-0.4)), rel=1e-9) and h.edges_w[-1] == pytest.approx(float(p(0.5)),
                                                                                                       rel=1e-9)
