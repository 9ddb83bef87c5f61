"""Where the measured region [begin, end] lies on the scope's time axis (docs/method.md, "Placing board times
on the scope's time axis"): the placement's record (`Placement`), the clock map, the marker's edges.

The capture places a run in two stages, a bound from the clocks and the record's own edges inside it
(app/measure/alignment.py). Kept here besides:

* `place_by_launch`, the earlier rule for a record known to show the process's start within
  EXEC_TO_CURRENT_S of the exec (the launch stamp at the instant the current left its idle band before the
  trigger). It is wrong when the start does not show (the trigger is then `begin`'s own step), which is why
  the capture no longer uses it;
* `marker_edges_s`, the marker channel's crossings.

A sampled window of a long run (forced trigger) is placed through the
desktop instant its trigger was forced, mapped to the board clock (see
`ClockMap`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.measure.energy import PowerTrace

EXEC_TO_CURRENT_S = 0.002     # bound on exec → the board's current visibly rising (a process's first instructions)
SMOOTH_S = 2e-4               # the idle-band test looks at the current averaged over this long
EDGE_REF_SAMPLES = 200_000    # the idle band is estimated from at most this many samples
EDGE_BLOCK_SAMPLES = 1 << 16   # the search back from the trigger reads this many samples at a time


@dataclass(frozen=True)
class Placement:
    """Board time ↔ the first window's scope time: t_scope = t_board − board_at_zero_s."""
    board_at_zero_s: float          # the board time of the first window's t = 0 (its trigger)
    method: str                     # "launch-edge" | "launch-stamp" | "marker"
    u_s: float                      # standard uncertainty of the placement, seconds
    delay_s: float | None = None    # δ: exec → trigger, estimated from the record
    note: str = ""
    half_width_s: float | None = None   # the placement may lie anywhere within ± this (rectangular, carried whole)
    events: tuple[str, ...] = ()    # the board events the placement rests on
    residual_s: float | None = None  # RMS disagreement of those events' edges with the chosen offset
    bound_s: tuple[float, float] | None = None   # the coarse bound on the first window's trigger, board clock

    def scope_time(self, t_board: float) -> float:
        return t_board - self.board_at_zero_s


def _smoothed(values: np.ndarray, k: int) -> np.ndarray:
    if k <= 1 or values.size < k:
        return values
    c = np.cumsum(np.concatenate([[0.0], values]))
    return (c[k:] - c[:-k]) / k


def _edge_stop_s(trace: PowerTrace, t_stop_s: float | None) -> float:
    if t_stop_s is None:
        t_stop_s = max(10 * trace.dx, 2 * SMOOTH_S)
    return min(t_stop_s, trace.t_last)


def edge_search_samples(trace: PowerTrace) -> int:
    """How many trace samples from the start `idle_band_exit_s` reads (with its default stop): once these have
    arrived, the launch edge can be found while the rest of the record is still downloading."""
    j_stop = int(math.floor((_edge_stop_s(trace, None) - trace.x0) / trace.dx))
    return min(max(j_stop + 1, 0), trace.n)


def idle_band_exit_s(trace: PowerTrace, t_stop_s: float | None = None) -> tuple[float | None, str]:
    """The instant before the trigger at which the current last left its idle band (looking a few samples
    past the trigger, t_stop_s, since the trigger's own sample may still sit below the level).

    The band comes from the first half of the pre-trigger record (median ± 6 robust σ of the current averaged
    over SMOOTH_S, and at least a twentieth of the way to the current at the trigger), estimated from at most
    EDGE_REF_SAMPLES of it. The search goes back from the trigger in blocks, so a deep pre-trigger record costs
    only the stretch between the edge and the trigger. Returns (time, note); time is None when the record does
    not show the board at rest first.
    """
    t_stop_s = _edge_stop_s(trace, t_stop_s)
    if t_stop_s - trace.t_first < 20 * trace.dx:
        return None, "the record holds too little before the trigger to see the current leave idle"
    j_stop = int(math.floor((t_stop_s - trace.x0) / trace.dx))
    k = max(1, int(round(SMOOTH_S / trace.dx)))
    # the idle band, from the first half of what lies before the trigger
    j_half = max(k + 1, (j_stop + 1) // 2)
    if j_half <= EDGE_REF_SAMPLES:
        ref = _smoothed(trace.currents(0, j_half), k)
    else:                                         # evenly spread blocks of the first half
        block = max(4 * k, 4096)
        starts = np.linspace(0, j_half - block, max(1, EDGE_REF_SAMPLES // block)).astype(np.int64)
        ref = np.concatenate([_smoothed(trace.currents(int(j), int(j) + block), k) for j in starts])
    med = float(np.median(ref))
    sigma = 1.4826 * float(np.median(np.abs(ref - med)))
    tail = trace.currents(max(0, j_stop + 1 - k), j_stop + 1)
    at_trigger = float(tail.mean())
    level = med + max(6.0 * sigma, 0.05 * (at_trigger - med))
    if at_trigger <= level:
        return None, "the current at the trigger is within its idle band"
    # back from the trigger, block by block, to the last averaged sample inside the band
    hi = j_stop + 1
    while hi > k:
        lo = max(0, hi - EDGE_BLOCK_SAMPLES)
        amps = trace.currents(lo, hi)
        sm = _smoothed(amps, k)                   # sm[m] averages amps[lo + m : lo + m + k]
        quiet = np.nonzero(sm <= level)[0]
        if quiet.size:
            m = int(quiet[-1]) + 1                # the first window above the band after the last quiet one
            j_edge = lo + min(m + k - 1, amps.size - 1)
            return trace.time_of(j_edge), (f"current left its idle band ({med:.4g} A) at "
                                           f"{trace.time_of(j_edge):.6f} s")
        if lo == 0:
            break
        hi = lo + k - 1                           # overlap by one averaging window
    return None, "the current was above its idle band for the whole pre-trigger record"


def place_by_launch(trace: PowerTrace, launch_board_s: float,
                    edge: tuple[float | None, str] | None = None) -> Placement:
    """No marker: the launch stamp sits where the current left idle before the trigger. `edge` is
    `idle_band_exit_s(trace)` when it was already found (while the record arrived, app/capture/stream.py)."""
    edge, note = edge if edge is not None else idle_band_exit_s(trace)
    resolution = max(2 * trace.dx, SMOOTH_S)
    if edge is None:
        # the launch is not visible: take the trigger itself, with the whole pre-trigger span as uncertainty
        span = max(-trace.t_first, resolution)
        return Placement(launch_board_s, "launch-stamp", span / math.sqrt(3), None,
                         f"{note}; the launch is placed at the trigger")
    half = (EXEC_TO_CURRENT_S + resolution) / 2
    # rectangular over [edge − EXEC_TO_CURRENT_S − resolution, edge]: centre it
    launch_scope = edge - half
    return Placement(launch_board_s - launch_scope, "launch-edge", half / math.sqrt(3), -launch_scope, note)


def marker_edges_s(marker_volts: np.ndarray, x0: float, dx: float, threshold_v: float) -> tuple[float | None,
                                                                                                  float | None]:
    """First rising and the following falling crossing of threshold_v, linearly interpolated (seconds)."""
    high = marker_volts >= threshold_v
    ups = np.nonzero(~high[:-1] & high[1:])[0]
    if ups.size == 0:
        return None, None

    def cross(j: int) -> float:
        a, b = float(marker_volts[j]), float(marker_volts[j + 1])
        f = (threshold_v - a) / (b - a) if b != a else 0.0
        return x0 + (j + f) * dx
    up = int(ups[0])
    downs = np.nonzero(high[up + 1:-1] & ~high[up + 2:])[0]
    return cross(up), (cross(up + 1 + int(downs[0])) if downs.size else None)


@dataclass(frozen=True)
class ClockMap:
    """Desktop monotonic time → board monotonic time: t_board = t_desktop − offset_s.

    offset_s is the smallest (arrival time on the desktop − board stamp) over the run's events: the event that
    travelled fastest bounds the clock offset best, from above (a message arrives after it was stamped). Zero
    spread for a local target (one clock). offset_lo_s bounds it from below: the largest (desktop instant a
    message was sent − a board stamp taken after it arrived), the exec and the launcher's first stamp; None
    when nothing was sent with a stamp. The true offset lies in [offset_lo_s, offset_s]: its width is the
    round trip of the exec, less what the fastest event saved."""
    offset_s: float
    offset_lo_s: float | None = None

    @classmethod
    def from_arrivals(cls, pairs: list[tuple[float, float]],
                      sent: list[tuple[float, float]] | None = None) -> "ClockMap | None":
        """pairs: (desktop arrival, board t); sent: (desktop instant sent, board t of a stamp taken after it
        arrived on the board)."""
        if not pairs:
            return None
        lo = max((d - b for d, b in sent), default=None) if sent else None
        # an event that "arrived before it was stamped" by the lower bound carries a time that is not the
        # board's clock at its printing (a workload that reports an end it computed): it cannot bound the offset
        possible = [d - b for d, b in pairs if lo is None or d - b >= lo]
        return cls(min(possible) if possible else min(d - b for d, b in pairs), lo)

    def board(self, t_desktop: float) -> float:
        return t_desktop - self.offset_s

    @property
    def width_s(self) -> float | None:
        """How far apart the offset's bounds are (None without a lower bound)."""
        return None if self.offset_lo_s is None else self.offset_s - self.offset_lo_s
