"""Energy integration, checked against integrals worked out by hand."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import AnalysisError
from app.measure.energy import ROW, PowerTrace, interval_stats, summarise
from instruments.waveform import Waveform
from tests.helpers import wave_from_volts

SHUNT = 0.01


def make_trace(v_volts, i_amps, *, dx=1e-3, x0=0.0, v_gain=1e-3, i_gain=1e-6, v_origin=0.0, **kw):
    vw = wave_from_volts(v_volts, gain_v=v_gain, x_increment=dx, x_origin=x0, channel=1, y_origin=v_origin)
    iw = wave_from_volts(np.asarray(i_amps) * SHUNT, gain_v=i_gain, x_increment=dx, x_origin=x0, channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT, **kw)
    return trace, summarise(trace)


def test_constant_power_with_partial_edges():
    # 19 V, 0.5 A -> 9.5 W on [-0.1, 1.1) s sampled every 1 ms
    n = 1200
    trace, summ = make_trace(np.full(n, 19.0), np.full(n, 0.5), x0=-0.1)
    st_ = interval_stats(trace, summ, 0.0, 1.0)
    assert st_.energy_j == pytest.approx(9.5, rel=1e-12)
    assert st_.mean_w == pytest.approx(9.5, rel=1e-12)
    assert st_.std_w == pytest.approx(0.0, abs=1e-6)
    assert st_.rms_w == pytest.approx(9.5, rel=1e-12)
    # edges between samples: 9.5 W x 0.55545 s
    assert interval_stats(trace, summ, 0.12345, 0.6789).energy_j == pytest.approx(9.5 * 0.55545, rel=1e-12)
    # inside a single sample gap
    assert interval_stats(trace, summ, 0.1001, 0.1004).energy_j == pytest.approx(9.5 * 0.0003, rel=1e-9)


def test_sine_ripple_with_source_resistance_mean_of_product():
    # I = I0 + A sin(2 pi f t); the board sees V = Vs - Rs*I.
    # mean P over whole periods = Vs*I0 - Rs*(I0^2 + A^2/2)
    # which differs from mean V * mean I = (Vs - Rs*I0)*I0 by Rs*A^2/2.
    vs, rs, i0, amp, f = 19.0, 0.5, 0.5, 0.2, 50.0
    dx = 1e-5
    n = 200_001                      # 2 s: 100 whole periods, more than 3 scan chunks
    t = np.arange(n) * dx
    i = i0 + amp * np.sin(2 * np.pi * f * t)
    v = vs - rs * i
    trace, summ = make_trace(v, i, dx=dx, v_gain=1e-5, i_gain=2.5e-7, v_origin=18.75)
    st_ = interval_stats(trace, summ, 0.0, 2.0)
    expected_mean = vs * i0 - rs * (i0 ** 2 + amp ** 2 / 2)          # 9.365 W
    assert st_.mean_w == pytest.approx(expected_mean, rel=2e-5)
    assert st_.energy_j == pytest.approx(2 * expected_mean, rel=2e-5)
    naive = (vs - rs * i0) * i0                                     # 9.375 W
    assert abs(st_.mean_w - naive) == pytest.approx(rs * amp ** 2 / 2, rel=2e-3)
    # extremes of P = Vs*I - Rs*I^2 over I in [0.3, 0.7]: at the ends
    assert st_.max_w == pytest.approx(vs * 0.7 - rs * 0.49, rel=1e-4)
    assert st_.min_w == pytest.approx(vs * 0.3 - rs * 0.09, rel=1e-4)


def square_trace():
    # 10 V; 1.0 A for samples 100..299 (t = 0.100..0.299 s), else 0.2 A -> 10 W / 2 W
    n = 1000
    i = np.full(n, 0.2)
    i[100:300] = 1.0
    return make_trace(np.full(n, 10.0), i)


def test_square_pulses_partial_intervals():
    trace, summ = square_trace()
    # P is linear between samples: ramps 0.099->0.100 and 0.299->0.300.
    # [0.05, 0.35]: 2*0.049 + 6*0.001 + 10*0.199 + 6*0.001 + 2*0.05 = 2.2 J
    assert interval_stats(trace, summ, 0.05, 0.35).energy_j == pytest.approx(2.2, rel=1e-9)
    # [0.0995, 0.1005]: half a ramp (6 W -> 10 W, mean 8) then 10 W: 0.004 + 0.005
    assert interval_stats(trace, summ, 0.0995, 0.1005).energy_j == pytest.approx(0.009, rel=1e-9)
    st_ = interval_stats(trace, summ, 0.15, 0.25)
    assert (st_.min_w, st_.max_w) == (pytest.approx(10.0), pytest.approx(10.0))


def test_interval_outside_window_or_empty_is_refused():
    trace, summ = square_trace()
    with pytest.raises(AnalysisError, match="outside the captured window"):
        interval_stats(trace, summ, -1.0, 0.5)
    with pytest.raises(AnalysisError, match="empty"):
        interval_stats(trace, summ, 0.5, 0.5)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.0, 0.99), b=st.floats(0.0, 0.99), c=st.floats(0.0, 0.99))
def test_energy_additive_over_adjacent_intervals(a, b, c):
    a, b, c = sorted((a, b, c))
    if b - a < 1e-7 or c - b < 1e-7:
        return
    trace, summ = square_trace()
    whole = interval_stats(trace, summ, a, c).energy_j
    parts = interval_stats(trace, summ, a, b).energy_j + interval_stats(trace, summ, b, c).energy_j
    assert parts == pytest.approx(whole, rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(0.01, 100.0), t0=st.floats(0.0, 0.5), span=st.floats(0.01, 0.49))
def test_energy_linear_in_current_scale(scale, t0, span):
    trace, summ = square_trace()
    w = trace.current
    scaled = Waveform(codes=w.codes, y_increment=w.y_increment * scale, y_origin=0.0, y_reference=0.0,
                      x_increment=w.x_increment, x_origin=w.x_origin, code_min=w.code_min, code_max=w.code_max)
    t2 = PowerTrace(trace.voltage, scaled, shunt_ohm=SHUNT)
    e1 = interval_stats(trace, summ, t0, t0 + span).energy_j
    e2 = interval_stats(t2, summarise(t2), t0, t0 + span).energy_j
    assert e2 == pytest.approx(scale * e1, rel=1e-9)


def test_supply_side_voltage_subtracts_i_r():
    # supply 19 V, 2 A through 0.01 ohm: the board sees 18.98 V -> 37.96 W
    n = 100
    trace, summ = make_trace(np.full(n, 19.0), np.full(n, 2.0), measured_at="supply")
    assert interval_stats(trace, summ, 0.0, 0.099).mean_w == pytest.approx(18.98 * 2.0, rel=1e-9)


def test_amps_per_volt_current_probe():
    # a 10 A/V probe reading 0.25 V -> 2.5 A at 12 V -> 30 W
    n = 50
    vw = wave_from_volts(np.full(n, 12.0), gain_v=1e-3)
    iw = wave_from_volts(np.full(n, 0.25), gain_v=1e-4)
    trace = PowerTrace(vw, iw, amps_per_volt_=10.0)
    assert interval_stats(trace, summarise(trace), 0.0, 0.049).mean_w == pytest.approx(30.0, rel=1e-12)


def test_deskew_integer_and_fractional_shift():
    # The current channel lags by 3 samples: its step at sample 503 belongs to voltage sample 500.
    n = 1000
    i = np.full(n, 1.0)
    i[503:] = 2.0
    trace, _ = make_trace(np.full(n, 10.0), i, deskew_s=3e-3)
    _, cur, p = trace.arrays(0, trace.n)
    assert trace.n == n - 3 and trace.t_first == 0.0
    assert cur[499] == pytest.approx(1.0) and cur[500] == pytest.approx(2.0)
    # half a sample: voltage sample 500 sees the current halfway between codes 502 and 503
    trace, _ = make_trace(np.full(n, 10.0), i, deskew_s=2.5e-3)
    _, cur, p = trace.arrays(0, trace.n)
    assert cur[499] == pytest.approx(1.0) and cur[500] == pytest.approx(1.5) and cur[501] == pytest.approx(2.0)
    assert p[500] == pytest.approx(15.0)
    # negative deskew: the current leads; the trace starts later
    trace, _ = make_trace(np.full(n, 10.0), i, deskew_s=-2e-3)
    assert trace.t_first == pytest.approx(2e-3) and trace.n == n - 2


def test_rows_and_tail_row_agree_with_direct_sum():
    # a record that is not a whole number of rows or chunks; energy over the whole of
    # constant 4 W for (n-1)*dx seconds, n = 3 chunks + a partial row
    n = 3 * 65536 + ROW + 17
    trace, summ = make_trace(np.full(n, 8.0), np.full(n, 0.5), dx=1e-6)
    assert len(summ.p_sum) == -(-n // ROW)
    assert summ.p_sum.sum() == pytest.approx(4.0 * n, rel=1e-12)
    # V and I row sums (the review's mean lines): 8 V and 0.5 A on every sample, the short last row included
    counts = np.diff(np.append(np.arange(0, n, ROW), n))
    assert np.allclose(summ.v_sum, 8.0 * counts, rtol=1e-12) and np.allclose(summ.i_sum, 0.5 * counts, rtol=1e-12)
    assert interval_stats(trace, summ, 0.0, trace.t_last).energy_j == pytest.approx(4.0 * (n - 1) * 1e-6, rel=1e-9)
    # split over three threads at row boundaries: the same rows, the same energy
    summ3 = summarise(trace, workers=3)
    assert summ3.p_sum.sum() == pytest.approx(4.0 * n, rel=1e-12)
    assert np.array_equal(summ3.p_max, summ.p_max) and len(summ3.p_sum) == len(summ.p_sum)
    seen = []
    summarise(trace, workers=2, progress=seen.append)
    assert seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


def test_clipping_fraction_counts_codes_at_rails():
    n = 10_000
    codes = np.full(n, 10, dtype=np.int8)
    codes[:25] = 127          # 0.25 % at the upper rail
    vw = Waveform(codes=codes, y_increment=0.1, y_origin=0, y_reference=0, x_increment=1e-3, x_origin=0,
                  code_min=-128, code_max=127)
    iw = Waveform(codes=np.full(n, 5, dtype=np.int8), y_increment=1e-3, y_origin=0, y_reference=0,
                  x_increment=1e-3, x_origin=0, code_min=-128, code_max=127)
    summ = summarise(PowerTrace(vw, iw, shunt_ohm=SHUNT))
    assert summ.clip_voltage == pytest.approx(0.0025)
    assert summ.clip_current == 0.0
    assert summ.clipped


def test_mismatched_sample_intervals_refused():
    vw = wave_from_volts(np.ones(10), gain_v=1e-3, x_increment=1e-3)
    iw = wave_from_volts(np.ones(10) * 0.01, gain_v=1e-5, x_increment=2e-3)
    with pytest.raises(AnalysisError, match="different intervals"):
        PowerTrace(vw, iw, shunt_ohm=SHUNT)


def test_float64_accumulation_on_long_record():
    # 2 M samples of 1e4 W + 1e-3 W ripple would lose the ripple in float32 sums
    n = 2_000_000
    v = np.full(n, 10.0)
    i = np.full(n, 1000.0)
    trace, summ = make_trace(v, i, dx=1e-6, v_gain=1e-3, i_gain=1e-2)
    e = interval_stats(trace, summ, 0.0, trace.t_last).energy_j
    assert e == pytest.approx(1e4 * (n - 1) * 1e-6, rel=1e-12)
    assert math.isfinite(e)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16])
def test_the_compiled_scan_equals_the_numpy_scan(dtype, monkeypatch):
    # the compiled pass takes sum(P) from exact integer sums of the codes; the numpy path from float64 samples:
    # both must give the same rows (to rounding), on any code type, with a short last row
    from app.measure import energy, scan_kernel
    if not scan_kernel.AVAILABLE:
        pytest.skip("numba is not installed: only the numpy scan exists here")
    info = np.iinfo(dtype)
    rng = np.random.default_rng(11)
    n = 3 * 512 * 256 + 137
    cv = rng.integers(info.min, info.max, n, endpoint=True).astype(dtype)
    ci = rng.integers(info.min, info.max, n, endpoint=True).astype(dtype)
    vw = Waveform(codes=cv, y_increment=0.013, y_origin=19.0, y_reference=3.0, x_increment=1e-6, x_origin=-0.01,
                  code_min=int(info.min), code_max=int(info.max))
    iw = Waveform(codes=ci, y_increment=-2e-5, y_origin=0.004, y_reference=-7.0, x_increment=1e-6, x_origin=-0.01,
                  code_min=int(info.min), code_max=int(info.max), channel=2)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT, current_zero_v=0.0003)
    compiled = summarise(trace, workers=2)
    monkeypatch.setattr(energy, "USE_KERNEL", False)
    reference = summarise(trace, workers=2)
    for name in ("p_sum", "p2_sum", "p_min", "p_max", "v_min", "v_max", "i_min", "i_max", "v_sum", "i_sum"):
        got, want = getattr(compiled, name), getattr(reference, name)
        scale = np.max(np.abs(want))
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12 * scale), name


@pytest.mark.parametrize("kernel", [True, False])
def test_channel_means_from_code_means_equal_the_float_arrays(kernel, monkeypatch):
    # mean V and I over blocks, from the codes' means (app/measure/energy.py PowerTrace.mean_vi; compiled block sums or
    # numpy's gather), against the mean of the float arrays of the same samples, with a fractional deskew and
    # the supply-side I·R correction
    import numpy as np

    from app.measure import energy
    monkeypatch.setattr(energy, "USE_KERNEL", kernel)
    from app.measure.energy import PowerTrace
    from instruments.waveform import Waveform
    rng = np.random.default_rng(3)
    v = rng.integers(-100, 100, 50000).astype(np.int8)
    c = rng.integers(-100, 100, 50000).astype(np.int8)
    vw = Waveform(codes=v, y_increment=0.2, y_origin=1.0, y_reference=0.0, x_increment=1e-3, x_origin=0.0,
                  code_min=-128, code_max=127, channel=1)
    cw = Waveform(codes=c, y_increment=1e-3, y_origin=0.01, y_reference=0.0, x_increment=1e-3, x_origin=0.0,
                  code_min=-128, code_max=127, channel=2)
    starts, block = np.array([10, 5000, 30000]), 700
    for deskew_s, at in ((0.0, "board"), (0.37e-3, "board"), (2.6e-3, "supply")):
        t = PowerTrace(vw, cw, shunt_ohm=0.01, deskew_s=deskew_s, measured_at=at, current_zero_v=0.002)
        parts = [t.arrays(int(s), int(s) + block) for s in starts]
        want_v = np.concatenate([p[0] for p in parts]).mean()
        want_i = np.concatenate([p[1] for p in parts]).mean()
        got_v, got_i = t.mean_vi(starts, block)
        assert got_v == pytest.approx(want_v, rel=1e-12) and got_i == pytest.approx(want_i, rel=1e-12)
