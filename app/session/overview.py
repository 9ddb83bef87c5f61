"""The overview pyramid of a window's power summary (docs/sessions.md, "overview").

Level 0 is the per-row summary itself (ROW samples a row); each next level merges OVERVIEW_FACTOR rows of
the one below, until a level has no more than OVERVIEW_MIN_ROWS rows. In the file each level is one table
(OVERVIEW_DTYPE): the sums stay float64, since markers integrate from them; the extremes are float32 for
drawing, rounded outward (a minimum down, a maximum up) so the band drawn from them holds every sample.

Rounding outward commutes with taking extremes (it is monotonic), so a level merged from the float32 table
below it holds exactly what rounding the float64 extremes would give. Where numba is present
(app/measure/scan_kernel.py) level 0's extremes are rounded by a branch-free compiled loop and every level above is
merged in one compiled pass (about 0.3 ms for 10 M samples instead of 2.8 ms); `overview_levels` keeps the
float64 levels for drawing a run from memory.
"""

from __future__ import annotations

import numpy as np

from app.measure import scan_kernel
from app.measure.energy import ROW, TraceSummary
from app.measure.scan_kernel import njit
from app.session.format import (
    OVERVIEW_DTYPE,
    OVERVIEW_FACTOR,
    OVERVIEW_MIN_ROWS,
    SUMMARY_COLUMNS,
)


def _kind(name: str) -> str:
    return "sum" if name.endswith("_sum") else "min" if name.endswith("_min") else "max"


def overview_rows(power_samples: int) -> list[int]:
    """The row count of every level for a trace of this many samples."""
    rows = [-(-power_samples // ROW)]
    while rows[-1] > OVERVIEW_MIN_ROWS:
        rows.append(-(-rows[-1] // OVERVIEW_FACTOR))
    return rows


def overview_levels(summary: TraceSummary) -> list[dict[str, np.ndarray]]:
    """Every level as float64 columns (for drawing a run still in memory)."""
    level = {name: getattr(summary, name) for name in SUMMARY_COLUMNS}
    levels = [level]
    while len(level["p_sum"]) > OVERVIEW_MIN_ROWS:
        rows = len(level["p_sum"])
        pad = (-rows) % OVERVIEW_FACTOR
        nxt = {}
        for name, arr in level.items():
            fill, reduce = {"sum": (0.0, np.sum), "min": (np.inf, np.min), "max": (-np.inf, np.max)}[_kind(name)]
            padded = np.concatenate([arr, np.full(pad, fill)]) if pad else arr
            nxt[name] = reduce(padded.reshape(-1, OVERVIEW_FACTOR), axis=1)
        levels.append(nxt)
        level = nxt
    return levels


def overview_tables(summary: TraceSummary) -> list[np.ndarray]:
    """Every level as a table of OVERVIEW_DTYPE, as the session stores it."""
    if not scan_kernel.AVAILABLE:
        return [_table_numpy(level) for level in overview_levels(summary)]
    table = np.empty(len(summary.p_sum), dtype=OVERVIEW_DTYPE)
    narrow = np.empty(len(table), dtype=np.float32)
    for name in SUMMARY_COLUMNS:
        wide = np.ascontiguousarray(getattr(summary, name), dtype=np.float64)
        kind = _kind(name)
        if kind == "sum":
            table[name] = wide
        else:
            _outward(wide, narrow, kind == "min")
            table[name] = narrow
    tables = [table]
    while len(table) > OVERVIEW_MIN_ROWS:
        nxt = np.empty(-(-len(table) // OVERVIEW_FACTOR), dtype=OVERVIEW_DTYPE)
        _merge_level(table, OVERVIEW_FACTOR, nxt)
        tables.append(nxt)
        table = nxt
    return tables


def _table_numpy(level: dict[str, np.ndarray]) -> np.ndarray:
    table = np.empty(len(level["p_sum"]), dtype=OVERVIEW_DTYPE)
    for name in SUMMARY_COLUMNS:
        with np.errstate(over="ignore"):      # beyond float32's range is ±inf, then stepped back outward
            table[name] = level[name]
        kind = _kind(name)
        if kind != "sum":
            narrow = table[name]
            wide = np.asarray(level[name], dtype=np.float64)
            out = narrow > wide if kind == "min" else narrow < wide
            toward = -np.inf if kind == "min" else np.inf
            narrow[out] = np.nextafter(narrow[out], np.float32(toward))
    return table


@njit(cache=True, nogil=True)
def _outward(wide, out, lower):  # pragma: no cover - compiled
    """out = wide as float32, rounded down (lower) or up: where the nearest float32 lies on the wrong side, one
    step on its bit pattern (away from zero for a negative number when rounding down, towards zero when
    rounding up; the reverse for a positive one), written without branches (about 50x faster than calling
    nextafter, whose branch the data make unpredictable)."""
    bits = out.view(np.int32)
    for r in range(wide.shape[0]):
        n = np.float32(wide[r])
        out[r] = n
        if lower:
            bits[r] += (n > wide[r]) * (1 - 2 * (bits[r] >= 0))
        else:
            bits[r] += (n < wide[r]) * (2 * (bits[r] >= 0) - 1)


@njit(cache=True, nogil=True, inline="always")
def _min(a, b):  # pragma: no cover - compiled
    return a if (a != a or a < b) else b        # NaN wins, as in numpy's minimum


@njit(cache=True, nogil=True, inline="always")
def _max(a, b):  # pragma: no cover - compiled
    return a if (a != a or a > b) else b


@njit(cache=True, nogil=True)
def _merge_level(src, factor, dst):  # pragma: no cover - compiled
    n = src.shape[0]
    for r in range(dst.shape[0]):
        a = r * factor
        b = min(a + factor, n)
        s = src[a]
        p_sum, p2_sum, v_sum, i_sum = s.p_sum, s.p2_sum, s.v_sum, s.i_sum
        p_min, v_min, i_min = s.p_min, s.v_min, s.i_min
        p_max, v_max, i_max = s.p_max, s.v_max, s.i_max
        for k in range(a + 1, b):
            s = src[k]
            p_sum += s.p_sum
            p2_sum += s.p2_sum
            v_sum += s.v_sum
            i_sum += s.i_sum
            p_min = _min(p_min, s.p_min)
            v_min = _min(v_min, s.v_min)
            i_min = _min(i_min, s.i_min)
            p_max = _max(p_max, s.p_max)
            v_max = _max(v_max, s.v_max)
            i_max = _max(i_max, s.i_max)
        t = dst[r]
        t.p_sum = p_sum
        t.p2_sum = p2_sum
        t.v_sum = v_sum
        t.i_sum = i_sum
        t.p_min = p_min
        t.v_min = v_min
        t.i_min = i_min
        t.p_max = p_max
        t.v_max = v_max
        t.i_max = i_max
