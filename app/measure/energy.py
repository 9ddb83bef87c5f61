"""Power traces and their integrals, in float64, in chunks.

A PowerTrace joins a voltage and a current Waveform sample by sample:

    V(k) = volts of the voltage channel at sample k            (minus I·R when measured at the supply)
    I(k) = amps of the current channel at time t_k + deskew_s  (linear interpolation for a fractional shift),
           after subtracting the channel's zero offset (its reading with no current flowing)
    P(k) = V(k) · I(k)

Between samples P is taken as linear, so the energy over any [t0, t1] is the
trapezoid rule with exact partial-sample edges.

`summarise()` scans a trace once, in chunks (memory independent of the
record length), and keeps per-row aggregates (ROW samples per row): sums of P
and P², min/max of V, I and P. Every later question — the energy between two
markers, the idle power, a window's mean, the overview pyramid for drawing —
is answered from the rows plus at most two partial rows read from the codes.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from app.errors import AnalysisError
from app.measure import scan_kernel
from instruments.waveform import Waveform

ROW = 512                 # samples per summary row
CHUNK_ROWS = 256          # rows per scan chunk (131 072 samples: 1 MiB float64 buffers)
CLIP_WARN_FRACTION = 1e-4  # above this fraction of codes at a rail, the window is flagged
MEANS_MAX_SAMPLES = 200_000  # channel_means reads at most this many samples of a long interval
USE_KERNEL = True          # the compiled scan (app/measure/scan_kernel.py) when numba is there; tests switch it


def amps_per_volt(shunt_ohm: float | None, amps_per_volt_: float | None) -> float:
    """Amps per volt of the current channel: 1/R for a shunt, the probe's A/V otherwise."""
    if (shunt_ohm is None) == (amps_per_volt_ is None):
        raise AnalysisError("give exactly one of shunt_ohm and amps_per_volt for the current channel")
    if shunt_ohm is not None:
        if not shunt_ohm > 0:
            raise AnalysisError(f"shunt_ohm is {shunt_ohm}; it must be above 0")
        return 1.0 / shunt_ohm
    if not amps_per_volt_ > 0:
        raise AnalysisError(f"amps_per_volt is {amps_per_volt_}; it must be above 0")
    return float(amps_per_volt_)


class PowerTrace:
    """V, I and P of one capture window, computed on demand from raw codes."""

    def __init__(self, voltage: Waveform, current: Waveform, *, shunt_ohm: float | None = None,
                 amps_per_volt_: float | None = None, measured_at: str = "board", deskew_s: float = 0.0,
                 current_zero_v: float = 0.0):
        if not math.isclose(voltage.x_increment, current.x_increment, rel_tol=1e-9):
            raise AnalysisError(f"the channels were sampled at different intervals ({voltage.x_increment} s "
                                f"and {current.x_increment} s); capture both in one acquisition")
        if measured_at not in ("board", "supply"):
            raise AnalysisError(f'measured_at is "{measured_at}"; it must be "board" or "supply"')
        if measured_at == "supply" and shunt_ohm is None:
            raise AnalysisError('measured_at = "supply" needs shunt_ohm to subtract I·R')
        self.voltage = voltage
        self.current = current
        self.a_per_v = amps_per_volt(shunt_ohm, amps_per_volt_)
        self.current_zero_v = float(current_zero_v or 0.0)
        self.supply_ohm = shunt_ohm if measured_at == "supply" else 0.0
        self.dx = voltage.x_increment
        # current-channel index of voltage sample k: k + shift
        shift = (voltage.x_origin - current.x_origin + deskew_s) / self.dx
        self._shift_int = math.floor(shift)
        self._shift_frac = shift - self._shift_int
        if abs(self._shift_frac) < 1e-9:
            self._shift_frac = 0.0
        elif self._shift_frac > 1 - 1e-9:
            self._shift_int += 1
            self._shift_frac = 0.0
        need_after = 1 if self._shift_frac else 0
        k_lo = max(0, -self._shift_int)
        k_hi = min(len(voltage), len(current) - self._shift_int - need_after)   # exclusive
        if k_hi - k_lo < 2:
            raise AnalysisError("after deskew the channels overlap in fewer than 2 samples; "
                                "check deskew_s against the window length")
        self._k0 = k_lo
        self.n = k_hi - k_lo
        self.x0 = voltage.x_origin + k_lo * self.dx

    # -- geometry ----------------------------------------------------------
    @property
    def t_first(self) -> float:
        return self.x0

    @property
    def t_last(self) -> float:
        return self.x0 + (self.n - 1) * self.dx

    def time_of(self, j: int) -> float:
        return self.x0 + j * self.dx

    # -- values --------------------------------------------------------------
    def arrays(self, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(V, I, P) as float64 for trace samples [j0, j1)."""
        v = np.empty(j1 - j0)
        i = np.empty(j1 - j0)
        p = np.empty(j1 - j0)
        self._fill(j0, j1, v, i, p)
        return v, i, p

    def currents(self, j0: int, j1: int) -> np.ndarray:
        """I as float64 for trace samples [j0, j1), without V and P (the launch-edge search needs only I)."""
        i = np.empty(j1 - j0)
        self._fill_current(j0, j1, i)
        return i

    def _fill(self, j0: int, j1: int, v: np.ndarray, i: np.ndarray, p: np.ndarray) -> None:
        vw = self.voltage
        k0, k1 = j0 + self._k0, j1 + self._k0
        np.multiply(vw.code_slice(k0, k1), vw.gain_v, out=v, casting="unsafe")
        v += vw.offset_v
        self._fill_current(j0, j1, i)
        if self.supply_ohm:
            v -= self.supply_ohm * i
        np.multiply(v, i, out=p)

    def _fill_current(self, j0: int, j1: int, i: np.ndarray) -> None:
        cw = self.current
        k0, k1 = j0 + self._k0, j1 + self._k0
        c0 = k0 + self._shift_int
        gain_a = cw.gain_v * self.a_per_v
        off_a = (cw.offset_v - self.current_zero_v) * self.a_per_v
        if self._shift_frac:
            codes = cw.code_slice(c0, k1 + self._shift_int + 1).astype(np.float64)
            f = self._shift_frac
            np.multiply(codes[:-1], (1.0 - f) * gain_a, out=i)
            i += (f * gain_a) * codes[1:]
        else:
            np.multiply(cw.code_slice(c0, k1 + self._shift_int), gain_a, out=i, casting="unsafe")
        i += off_a

    def mean_vi(self, starts: np.ndarray, block: int) -> tuple[float, float]:
        """Mean V and I over the trace samples [s, s + block) for s in starts. V and I are affine in the
        codes (a fractional deskew and the I·R correction are linear too), so the means come exactly from
        the codes' means: one gather of the codes, no float arrays."""
        vw, cw = self.voltage, self.current
        extra = 1 if self._shift_frac else 0

        def code_mean(wave: Waveform, offset: int, length: int) -> float:
            first = np.asarray(starts, dtype=np.int64) + offset
            if isinstance(wave.codes, np.ndarray):
                if scan_kernel.AVAILABLE and USE_KERNEL:
                    return int(scan_kernel.block_code_sum(wave.codes, first, length)) / (len(first) * length)
                return float(wave.codes[(first[:, None] + np.arange(length)).ravel()].mean(dtype=np.float64))
            total = math.fsum(float(wave.code_slice(int(j), int(j) + length).sum(dtype=np.float64)) for j in first)
            return total / (len(first) * length)
        mv = code_mean(vw, self._k0, block)
        c = code_mean(cw, self._k0 + self._shift_int, block + extra)
        if self._shift_frac:          # the mean of (1−f)·c[k] + f·c[k+1] over the block, from both ends' codes
            f = self._shift_frac
            first = code_mean(cw, self._k0 + self._shift_int, 1)
            last = code_mean(cw, self._k0 + self._shift_int + block, 1)
            total = c * (block + 1)
            c = ((1.0 - f) * (total - last) + f * (total - first)) / block
        mean_i = (c * cw.gain_v + cw.offset_v - self.current_zero_v) * self.a_per_v
        mean_v = mv * vw.gain_v + vw.offset_v - self.supply_ohm * mean_i
        return mean_v, mean_i

    @property
    def voltage_affine(self) -> bool:
        """V is an affine map of the voltage codes (no I·R correction)."""
        return not self.supply_ohm

    @property
    def current_affine(self) -> bool:
        """I is an affine map of the current codes (no fractional deskew)."""
        return not self._shift_frac

    def code_rows_to_values(self, which: str, cmin: np.ndarray, cmax: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row min/max of codes -> row min/max of volts (voltage) or amps (current)."""
        w = self.voltage if which == "voltage" else self.current
        scale = 1.0 if which == "voltage" else self.a_per_v
        zero = 0.0 if which == "voltage" else self.current_zero_v
        g, o = w.gain_v * scale, (w.offset_v - zero) * scale
        lo, hi = cmin * g + o, cmax * g + o
        return (lo, hi) if g > 0 else (hi, lo)

    def code_window(self, which: str, j0: int, j1: int) -> np.ndarray:
        """Raw codes of trace samples [j0, j1) of one channel (affine channels only)."""
        if which == "voltage":
            return self.voltage.code_slice(j0 + self._k0, j1 + self._k0)
        c0 = j0 + self._k0 + self._shift_int
        return self.current.code_slice(c0, c0 + (j1 - j0))

    def power_at(self, t_s: float) -> float:
        """P at time t_s, linear between samples (t_s within the trace)."""
        x = (t_s - self.x0) / self.dx
        j = min(max(int(math.floor(x)), 0), self.n - 2)
        _, _, p = self.arrays(j, j + 2)
        f = x - j
        return float(p[0] * (1.0 - f) + p[1] * f)


@dataclass
class TraceSummary:
    """Per-row aggregates of a PowerTrace (ROW samples a row; the last row may be short)."""
    p_sum: np.ndarray     # float64, W
    p2_sum: np.ndarray    # float64, W²
    p_min: np.ndarray
    p_max: np.ndarray
    v_min: np.ndarray
    v_max: np.ndarray
    i_min: np.ndarray
    i_max: np.ndarray
    n: int
    clip_voltage: float   # fraction of voltage codes at a rail
    clip_current: float
    v_sum: np.ndarray | None = None     # float64, V (sum over the row's samples): the mean line of V
    i_sum: np.ndarray | None = None     # float64, A (sessions written before 2026-11-24 have none: NaN)

    @property
    def clipped(self) -> bool:
        return max(self.clip_voltage, self.clip_current) > CLIP_WARN_FRACTION


def rail_count(codes: np.ndarray, lo: int, hi: int) -> int:
    if codes.size == 0:
        return 0
    cmin, cmax = codes.min(), codes.max()
    count = 0
    if cmin <= lo:
        count += int(np.count_nonzero(codes <= lo))
    if cmax >= hi:
        count += int(np.count_nonzero(codes >= hi))
    return count


SUMMARY_FIELDS = ("p_sum", "p2_sum", "p_min", "p_max", "v_min", "v_max", "i_min", "i_max", "v_sum", "i_sum")
PARALLEL_MIN_SAMPLES = 1 << 21   # below this, one thread is faster than two


def scan_rows(trace: PowerTrace, j_start: int, j_stop: int, out: dict[str, np.ndarray], progress=None) -> None:
    """Fill the rows of samples [j_start, j_stop) (j_start a multiple of ROW): one compiled pass over the codes
    where the trace allows (app/measure/scan_kernel.py), else numpy."""
    if scan_kernel.AVAILABLE and USE_KERNEL and trace.voltage_affine and trace.current_affine:
        _scan_codes(trace, j_start, j_stop, out, progress)
    else:
        _scan_numpy(trace, j_start, j_stop, out, progress)


def _scan_codes(trace: PowerTrace, j_start: int, j_stop: int, out: dict[str, np.ndarray], progress=None) -> None:
    vw, cw = trace.voltage, trace.current
    gv, ov = vw.gain_v, vw.offset_v
    ga, oa = cw.gain_v * trace.a_per_v, (cw.offset_v - trace.current_zero_v) * trace.a_per_v
    a, b, c, d = gv * ga, gv * oa, ov * ga, ov * oa
    chunk = ROW * CHUNK_ROWS * 4
    for j0 in range(j_start, j_stop, chunk):
        j1 = min(j_stop, j0 + chunk)
        cv = np.ascontiguousarray(trace.code_window("voltage", j0, j1))
        ci = np.ascontiguousarray(trace.code_window("current", j0, j1))
        r0 = j0 // ROW
        scan_kernel.rows_affine(cv, ci, ROW, a, b, c, d, r0, out["p_sum"], out["p2_sum"], out["p_min"],
                                out["p_max"], out["v_min"], out["v_max"], out["i_min"], out["i_max"],
                                out["v_sum"], out["i_sum"])
        r1 = r0 + -(-(j1 - j0) // ROW)
        counts = np.full(r1 - r0, float(ROW))
        counts[-1] = (j1 - j0) - (r1 - r0 - 1) * ROW
        for which, name, g, o in (("voltage", "v", gv, ov), ("current", "i", ga, oa)):
            lo, hi = trace.code_rows_to_values(which, out[f"{name}_min"][r0:r1], out[f"{name}_max"][r0:r1])
            out[f"{name}_min"][r0:r1], out[f"{name}_max"][r0:r1] = lo, hi
            out[f"{name}_sum"][r0:r1] = g * out[f"{name}_sum"][r0:r1] + o * counts   # codes' sums to V, A
        if progress is not None:
            progress(j1)


def _scan_numpy(trace: PowerTrace, j_start: int, j_stop: int, out: dict[str, np.ndarray], progress=None) -> None:
    chunk = ROW * CHUNK_ROWS
    vb, ib, pb = np.empty(chunk), np.empty(chunk), np.empty(chunk)
    for j0 in range(j_start, j_stop, chunk):
        j1 = min(j_stop, j0 + chunk)
        m = j1 - j0
        v, i, p = vb[:m], ib[:m], pb[:m]
        trace._fill(j0, j1, v, i, p)
        r0 = j0 // ROW
        full = m // ROW
        if full:
            r1 = r0 + full
            pr = p[:full * ROW].reshape(full, ROW)
            out["p_sum"][r0:r1] = pr.sum(axis=1)
            out["p2_sum"][r0:r1] = np.einsum("ij,ij->i", pr, pr)
            out["p_min"][r0:r1] = pr.min(axis=1)
            out["p_max"][r0:r1] = pr.max(axis=1)
            out["v_sum"][r0:r1] = v[:full * ROW].reshape(full, ROW).sum(axis=1)
            out["i_sum"][r0:r1] = i[:full * ROW].reshape(full, ROW).sum(axis=1)
            for name, arr, affine in (("v", v, trace.voltage_affine), ("i", i, trace.current_affine)):
                if affine:      # row extremes of int codes are ~5x cheaper than of float64 values
                    which = "voltage" if name == "v" else "current"
                    cr = trace.code_window(which, j0, j0 + full * ROW).reshape(full, ROW)
                    lo, hi = trace.code_rows_to_values(which, cr.min(axis=1).astype(np.float64),
                                                       cr.max(axis=1).astype(np.float64))
                else:
                    ar = arr[:full * ROW].reshape(full, ROW)
                    lo, hi = ar.min(axis=1), ar.max(axis=1)
                out[f"{name}_min"][r0:r1] = lo
                out[f"{name}_max"][r0:r1] = hi
        if m % ROW:
            r = r0 + full
            pt, vt, it = p[full * ROW:], v[full * ROW:], i[full * ROW:]
            out["p_sum"][r], out["p2_sum"][r] = pt.sum(), np.dot(pt, pt)
            out["p_min"][r], out["p_max"][r] = pt.min(), pt.max()
            out["v_min"][r], out["v_max"][r] = vt.min(), vt.max()
            out["i_min"][r], out["i_max"][r] = it.min(), it.max()
            out["v_sum"][r], out["i_sum"][r] = vt.sum(), it.sum()
        if progress is not None:
            progress(j1)


def summarise(trace: PowerTrace, progress=None, workers: int | None = None) -> TraceSummary:
    """One pass over the trace in chunks; memory stays at a few chunk buffers per worker.

    In-memory records are split into row-aligned parts scanned by `workers` threads (NumPy
    releases the GIL in its loops); `progress(fraction)` is called from the calling thread.
    """
    n = trace.n
    rows = -(-n // ROW)
    out = {name: np.empty(rows) for name in SUMMARY_FIELDS}
    in_memory = isinstance(trace.voltage.codes, np.ndarray) and isinstance(trace.current.codes, np.ndarray)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if in_memory and n >= PARALLEL_MIN_SAMPLES else 1
    if workers <= 1:
        scan_rows(trace, 0, n, out, None if progress is None else (lambda j: progress(j / n)))
    else:
        rows_per = -(-rows // workers)
        bounds = [(min(n, k * rows_per * ROW), min(n, (k + 1) * rows_per * ROW)) for k in range(workers)]
        done = [0] * workers

        def part(k: int) -> None:
            a, b = bounds[k]

            def note(j: int) -> None:
                done[k] = j - a
            scan_rows(trace, a, b, out, note)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="summarise") as pool:
            futures = [pool.submit(part, k) for k in range(workers)]
            if progress is not None:
                while not all(f.done() for f in futures):
                    wait(futures, timeout=0.1)
                    progress(sum(done) / n)
            for f in futures:
                f.result()
    if progress is not None:
        progress(1.0)
    return TraceSummary(n=n, clip_voltage=clip_fraction(trace.voltage),
                        clip_current=clip_fraction(trace.current), **out)


def clip_fraction(wave: Waveform) -> float:
    """Fraction of a channel's codes sitting at the ADC's rails."""
    total = len(wave)
    if total == 0:
        return 0.0
    count = 0
    step = 1 << 22
    for k in range(0, total, step):
        count += rail_count(wave.code_slice(k, min(total, k + step)), wave.code_min, wave.code_max)
    return count / total


@dataclass(frozen=True)
class IntervalStats:
    t0_s: float
    t1_s: float
    energy_j: float
    mean_w: float
    min_w: float
    max_w: float
    rms_w: float
    std_w: float

    @property
    def duration_s(self) -> float:
        return self.t1_s - self.t0_s


def _sample_sums(trace: PowerTrace, summary: TraceSummary, a: int, b: int) -> tuple[float, float, float, float]:
    """Σ P, Σ P², min P, max P over trace samples [a, b) (b > a)."""
    s = s2 = 0.0
    lo, hi = math.inf, -math.inf
    ra, rb = -(-a // ROW), b // ROW           # full rows [ra, rb)
    pieces = []
    if ra < rb:
        s += float(summary.p_sum[ra:rb].sum())
        s2 += float(summary.p2_sum[ra:rb].sum())
        lo = float(summary.p_min[ra:rb].min())
        hi = float(summary.p_max[ra:rb].max())
        pieces = [(a, min(b, ra * ROW)), (max(a, rb * ROW), b)]
    else:
        pieces = [(a, b)]
    for j0, j1 in pieces:
        if j1 > j0:
            _, _, p = trace.arrays(j0, j1)
            s += float(p.sum())
            s2 += float(np.dot(p, p))
            lo, hi = min(lo, float(p.min())), max(hi, float(p.max()))
    return s, s2, lo, hi


def interval_stats(trace: PowerTrace, summary: TraceSummary, t0_s: float, t1_s: float) -> IntervalStats:
    """Energy and statistics of P over [t0_s, t1_s], P linear between samples.

    mean = E / (t1 - t0); rms² = ∫P² dt / (t1 - t0) with P² linear between
    samples (the same trapezoid rule); std = sqrt(rms² - mean²).
    """
    if not (math.isfinite(t0_s) and math.isfinite(t1_s)) or t1_s <= t0_s:
        raise AnalysisError(f"the interval [{t0_s}, {t1_s}] s is empty; its end must come after its start")
    eps = 1e-9 * trace.dx
    if t0_s < trace.t_first - eps or t1_s > trace.t_last + eps:
        raise AnalysisError(f"the interval [{t0_s:.9g}, {t1_s:.9g}] s is outside the captured window "
                            f"[{trace.t_first:.9g}, {trace.t_last:.9g}] s")
    t0_s, t1_s = max(t0_s, trace.t_first), min(t1_s, trace.t_last)
    dx = trace.dx
    x0 = (t0_s - trace.x0) / dx
    x1 = (t1_s - trace.x0) / dx
    a = int(math.ceil(x0 - 1e-9))           # first sample at or after t0
    b = int(math.floor(x1 + 1e-9))          # last sample at or before t1
    p0 = trace.power_at(t0_s)
    p1 = trace.power_at(t1_s)
    if a > b:                               # both ends inside one sample gap
        e = (t1_s - t0_s) * (p0 + p1) / 2
        e2 = (t1_s - t0_s) * (p0 * p0 + p1 * p1) / 2
        lo, hi = min(p0, p1), max(p0, p1)
    else:
        s, s2, lo, hi = _sample_sums(trace, summary, a, b + 1)
        _, _, pe = trace.arrays(a, a + 1)
        pa = float(pe[0])
        _, _, pe = trace.arrays(b, b + 1)
        pb = float(pe[0])
        e = dx * (s - (pa + pb) / 2)
        e2 = dx * (s2 - (pa * pa + pb * pb) / 2)
        ta, tb = trace.time_of(a), trace.time_of(b)
        e += (ta - t0_s) * (p0 + pa) / 2 + (t1_s - tb) * (pb + p1) / 2
        e2 += (ta - t0_s) * (p0 * p0 + pa * pa) / 2 + (t1_s - tb) * (pb * pb + p1 * p1) / 2
        lo, hi = min(lo, p0, p1), max(hi, p0, p1)
    span = t1_s - t0_s
    mean = e / span
    ms = e2 / span
    rms = math.sqrt(max(ms, 0.0))
    std = math.sqrt(max(ms - mean * mean, 0.0))
    return IntervalStats(t0_s, t1_s, e, mean, lo, hi, rms, std)



def channel_means(trace: PowerTrace, t0: float, t1: float) -> tuple[float, float, int]:
    """Mean volts and amps over [t0, t1] and the number of samples in it. Long intervals are read as
    200 evenly spread blocks (MEANS_MAX_SAMPLES in all): enough for a sensitivity."""
    a = max(0, int(math.ceil((t0 - trace.x0) / trace.dx - 1e-9)))
    b = min(trace.n, int(math.floor((t1 - trace.x0) / trace.dx + 1e-9)) + 1)
    if b - a < 1:
        a, b = min(max(a, 0), trace.n - 1), min(max(a, 0), trace.n - 1) + 1
    n = b - a
    if n <= MEANS_MAX_SAMPLES:
        starts, block = np.array([a]), n
    else:
        # in memory: 200 blocks; from a file (the review): 40 longer blocks, each read costs more than its bytes
        count = 200 if isinstance(trace.voltage.codes, np.ndarray) else 40
        block = MEANS_MAX_SAMPLES // count
        starts = np.linspace(a, b - block, count).astype(np.int64)
    mean_v, mean_i = trace.mean_vi(starts, block)
    return mean_v, mean_i, n


@dataclass(frozen=True)
class ChannelStats:
    """Voltage or current over an interval: mean, extremes, peak to peak (the selection box of the review)."""
    mean: float
    min: float
    max: float

    @property
    def p2p(self) -> float:
        return self.max - self.min


def channel_stats(trace: PowerTrace, summary: TraceSummary, t0_s: float, t1_s: float) -> tuple[ChannelStats,
                                                                                                ChannelStats]:
    """V and I over the samples in [t0_s, t1_s]: extremes from the summary's full rows and the raw samples of
    the partial rows at the ends (exact), means from the codes (exact up to MEANS_MAX_SAMPLES, then from
    evenly spread blocks, channel_means)."""
    a = max(0, int(math.ceil((t0_s - trace.x0) / trace.dx - 1e-9)))
    b = min(trace.n, int(math.floor((t1_s - trace.x0) / trace.dx + 1e-9)) + 1)
    if b <= a:
        b = min(trace.n, a + 1)
        a = b - 1
    lo = {"v": math.inf, "i": math.inf}
    hi = {"v": -math.inf, "i": -math.inf}
    ra, rb = -(-a // ROW), b // ROW
    pieces = [(a, b)]
    if ra < rb:
        for k, (mn, mx) in (("v", (summary.v_min, summary.v_max)), ("i", (summary.i_min, summary.i_max))):
            lo[k], hi[k] = float(mn[ra:rb].min()), float(mx[ra:rb].max())
        pieces = [(a, min(b, ra * ROW)), (max(a, rb * ROW), b)]
    for j0, j1 in pieces:
        if j1 > j0:
            v, i, _ = trace.arrays(j0, j1)
            lo["v"], hi["v"] = min(lo["v"], float(v.min())), max(hi["v"], float(v.max()))
            lo["i"], hi["i"] = min(lo["i"], float(i.min())), max(hi["i"], float(i.max()))
    mean_v, mean_i, _ = channel_means(trace, trace.time_of(a), trace.time_of(b - 1))
    return ChannelStats(mean_v, lo["v"], hi["v"]), ChannelStats(mean_i, lo["i"], hi["i"])


@dataclass(frozen=True)
class PowerHistogram:
    edges_w: np.ndarray          # bin edges, W
    counts: np.ndarray           # samples per bin
    samples: int                 # samples counted
    of_samples: int              # samples in the interval (more than `samples` when spread blocks were read)

    def cdf(self) -> np.ndarray:
        """Fraction of the counted samples at or below each bin's upper edge."""
        total = self.counts.sum()
        return np.cumsum(self.counts) / total if total else np.zeros(len(self.counts))


def power_histogram(trace: PowerTrace, summary: TraceSummary, t0_s: float, t1_s: float, bins: int = 100,
                    max_samples: int = 4_000_000) -> PowerHistogram:
    """The distribution of P over the samples in [t0_s, t1_s]: every sample up to max_samples, else evenly
    spread blocks of max_samples in all (the count says which). The bins span the interval's exact P range
    (interval_stats' min and max), so the extremes are always in the first and last bins."""
    st = interval_stats(trace, summary, t0_s, t1_s)
    a = max(0, int(math.ceil((t0_s - trace.x0) / trace.dx - 1e-9)))
    b = min(trace.n, int(math.floor((t1_s - trace.x0) / trace.dx + 1e-9)) + 1)
    lo, hi = st.min_w, st.max_w
    if not hi > lo:
        hi = lo + max(abs(lo) * 1e-9, 1e-12)
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.zeros(bins, dtype=np.int64)
    n = b - a
    if n <= max_samples:
        blocks = [(j, min(b, j + (1 << 20))) for j in range(a, b, 1 << 20)]
    else:
        size = max_samples // 200
        blocks = [(int(j), int(j) + size) for j in np.linspace(a, b - size, 200).astype(np.int64)]
    counted = 0
    for j0, j1 in blocks:
        _, _, p = trace.arrays(j0, j1)
        counts += np.histogram(np.clip(p, lo, hi), bins=edges)[0]
        counted += j1 - j0
    return PowerHistogram(edges, counts, counted, n)
