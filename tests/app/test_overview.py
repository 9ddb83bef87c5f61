"""The overview tables the session stores: float32 extremes rounded outward, sums kept in float64, and the
compiled builder equal to the numpy one."""

import numpy as np
import pytest

from app.measure import scan_kernel
from app.measure.energy import TraceSummary
from app.session import overview


def _summary(rows: int) -> TraceSummary:
    r = np.arange(rows, dtype=np.float64)
    # 0.1 and 1/3 are not float32 numbers: np.float32(0.1) = 0.10000000149 lies above 0.1, np.float32(1/3) =
    # 0.3333333433 above 1/3, so an outward minimum must step down and an outward maximum may stay
    return TraceSummary(n=rows * 512, clip_voltage=0.0, clip_current=0.0,
                        p_sum=np.full(rows, 0.1), p2_sum=np.full(rows, 0.01), p_min=np.full(rows, 0.1) + 0 * r,
                        p_max=np.full(rows, 1 / 3), v_min=np.full(rows, 19.0), v_max=19.0 + r / rows,
                        i_min=-(r + 0.1), i_max=r + 0.1, v_sum=np.full(rows, 512 * 19.0), i_sum=r)


def test_extremes_are_rounded_outward_and_levels_merge_by_hand():
    tables = overview.overview_tables(_summary(3000))
    assert [len(t) for t in tables] == [3000, 375, 47]              # 3000/8 = 375, ceil(375/8) = 47 <= 256
    l0, l1 = tables[0], tables[1]
    below_tenth = np.nextafter(np.float32(0.1), np.float32(0))      # the float32 just under 0.1: 0.099999994
    assert l0["p_min"][0] == below_tenth and float(l0["p_min"][0]) < 0.1
    assert l0["p_max"][0] == np.float32(1 / 3) and float(l0["p_max"][0]) > 1 / 3
    assert np.all(l0["i_min"].astype(np.float64) <= -(np.arange(3000) + 0.1))
    assert np.all(l0["i_max"].astype(np.float64) >= np.arange(3000) + 0.1)
    assert l0["p_sum"].dtype == np.float64 and l0["p_sum"][0] == 0.1
    # level 1 row 2 merges rows 16..23: i_sum = 16 + ... + 23 = 156, i_max from row 23
    assert l1["i_sum"][2] == 156.0
    assert l1["i_max"][2] == l0["i_max"][23] and l1["i_min"][2] == l0["i_min"][23]
    assert l1["p_sum"][0] == pytest.approx(0.8, rel=1e-15)
    # the last row of level 2 merges 375 - 46*8 = 7 rows of level 1
    assert tables[2]["i_sum"][-1] == pytest.approx(l1["i_sum"][368:].sum(), rel=1e-15)


@pytest.mark.skipif(not scan_kernel.AVAILABLE, reason="numba is not installed: only the numpy builder runs")
def test_compiled_tables_equal_the_numpy_ones(monkeypatch):
    rng = np.random.default_rng(7)
    rows = 5003
    lo = rng.normal(0, 5, rows)
    # the edges of float32: signed zeros, values that round to zero, beyond float32's range, infinities, NaN
    lo[:9] = [0.0, -0.0, 1e-50, -1e-50, 1e300, -1e300, np.inf, -np.inf, np.nan]
    s = TraceSummary(n=rows * 512, clip_voltage=0.0, clip_current=0.0, p_sum=rng.normal(10, 1, rows),
                     p2_sum=rng.normal(100, 1, rows), p_min=lo, p_max=lo + rng.random(rows),
                     v_min=lo * 2, v_max=lo * 2 + 1, i_min=lo / 3, i_max=lo / 3 + 0.1,
                     v_sum=rng.normal(19, 1, rows), i_sum=rng.normal(1, 1, rows))
    compiled = overview.overview_tables(s)
    monkeypatch.setattr(scan_kernel, "AVAILABLE", False)
    plain = overview.overview_tables(s)
    assert len(compiled) == len(plain)
    for a, b in zip(compiled, plain):
        for name in a.dtype.names:
            if name.endswith("_sum"):      # eight-row sums may differ in the last bit (summation order)
                np.testing.assert_allclose(a[name], b[name], rtol=1e-14)
            else:                          # extremes: bit for bit
                assert a[name].tobytes() == b[name].tobytes(), name
    below = np.float32(-1e-45)                       # the float32 just below zero: what -1e-50 rounds down to
    assert compiled[0]["p_min"][3] == below and compiled[0]["p_min"][4] == np.finfo(np.float32).max


@pytest.mark.parametrize("samples", [1, 512, 513, 512 * 256, 512 * 257, 10_000_000])
def test_the_prepared_shapes_are_the_shapes_of_the_tables(samples):
    # the session creates the tables while the record arrives, from its length alone
    rows = -(-samples // 512)
    summary = _summary(rows)
    summary.n = samples
    assert overview.overview_rows(samples) == [len(t) for t in overview.overview_tables(summary)]
