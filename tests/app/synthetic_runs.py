"""Synthetic runs for the placement tests and benchmarks/alignment_coverage.py: a board whose current is a
known piecewise-constant function of its own clock, the scope record it triggers, and the desktop stamps a
capture would take around it. The true energy of [begin, end] is an analytic integral: P(I) = V·I with a
constant 19 V (no source resistance), so E = Σ P(level)·(time at that level inside [begin, end])."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from app.measure.alignment import BoardEvent, place, trigger_bound
from app.measure.analysis import RunTiming, WindowData
from app.measure.energy import PowerTrace, summarise
from app.measure.region import ClockMap
from tests.helpers import wave_from_volts

SHUNT = 0.01
VOLTS = 19.0
IDLE_A, BUSY_A, TEAR_A = 0.25, 0.75, 0.40


@dataclass
class Scenario:
    """One run on the board clock (seconds from the exec at board time `exec_s`)."""
    lead_s: float = 0.5                 # exec → begin
    duration_s: float = 0.5             # begin → end
    tear_s: float = 0.1                 # end → exit (at teardown current)
    warm_a: float | None = None         # warm-up current from the process's visible start to begin (None: idle)
    visible_after_s: float = 0.002      # the process start shows this long after the exec
    launcher_draw: tuple[float, float, float] | None = None   # (from, to (s from exec), amps) the launcher's own
    busy_a: float = BUSY_A
    noise_a: float = 0.002              # rms, a sample
    trigger_a: float = 0.38
    ramp_s: float = 0.0                 # begin's and end's steps take this long (a slow ramp)
    # the capture's side: record, poll, clock
    window_s: float = 2.0
    pretrigger: float = 0.3
    dx: float = 1e-4
    poll_s: float = 0.01
    poll_rtt_s: float = 0.002
    poll_delay_s: float = 0.0           # a busy desktop: the poll that sees completion is late by this much
    completion_lag_s: float = 0.05      # the scope reports completion this long after the last sample
    latency_bound_s: float = 0.1        # what the capture assumes of it (instruments.scope default)
    exec_rtt_s: float = 0.03            # exec sent → the launcher's first stamp
    event_latency_s: float = 0.002      # board stamp → desktop arrival (the fastest event)
    offset_s: float = 1234.5            # desktop = board + offset
    exec_s: float = 1000.0
    seed: int = 1
    extra_levels: list[tuple[float, float]] = field(default_factory=list)   # (from s after exec, amps)

    @property
    def begin_s(self) -> float:
        return self.exec_s + self.lead_s

    @property
    def end_s(self) -> float:
        return self.begin_s + self.duration_s

    @property
    def exit_s(self) -> float:
        return self.end_s + self.tear_s


def current_a(sc: Scenario, t: np.ndarray) -> np.ndarray:
    """The board's clean current at board times t."""
    out = np.full(t.size, IDLE_A)
    if sc.launcher_draw is not None:
        a, b, amps = sc.launcher_draw
        out[(t >= sc.exec_s + a) & (t < sc.exec_s + b)] = amps
    if sc.warm_a is not None:
        out[(t >= sc.exec_s + sc.visible_after_s) & (t < sc.begin_s)] = sc.warm_a
    before = sc.warm_a if sc.warm_a is not None else IDLE_A
    if sc.ramp_s > 0:
        up = np.clip((t - sc.begin_s) / sc.ramp_s, 0, 1)
        down = np.clip((t - sc.end_s) / sc.ramp_s, 0, 1)
        inside = (t >= sc.begin_s) & (t < sc.end_s + sc.ramp_s)
        out = np.where(inside, before + (sc.busy_a - before) * up - (sc.busy_a - TEAR_A) * down, out)
    else:
        out[(t >= sc.begin_s) & (t < sc.end_s)] = sc.busy_a
    out[(t >= sc.end_s + sc.ramp_s) & (t < sc.exit_s)] = TEAR_A
    for t0, amps in sc.extra_levels:
        out[t >= sc.exec_s + t0] = amps
    return out


def true_energy_j(sc: Scenario, dt: float = 1e-6) -> float:
    """∫ P over [begin, end], P = 19 V · I: exact for steps (a midpoint sum on a 1 µs grid: the levels change
    on it), and for ramps the same sum (error below 1e-9 relative)."""
    t = sc.begin_s + (np.arange(round(sc.duration_s / dt)) + 0.5) * dt
    return float(np.sum(VOLTS * current_a(sc, t)) * dt)


@dataclass
class Synthetic:
    first: WindowData
    timing: RunTiming
    events: list[BoardEvent]
    clock: ClockMap
    trigger_board_s: float
    done_after_s: float
    done_by_s: float


def record(sc: Scenario) -> Synthetic:
    """The scope triggered where the current first rose through trigger_a (after a short armed span)."""
    rng = np.random.default_rng(sc.seed)
    fine = sc.exec_s - 1.0 + np.arange(int((sc.lead_s + sc.duration_s + sc.tear_s + 2.0) / 1e-5)) * 1e-5
    clean = current_a(sc, fine)
    above = np.nonzero((clean[1:] >= sc.trigger_a) & (clean[:-1] < sc.trigger_a))[0]
    if above.size == 0:
        raise ValueError("the scenario never crosses the trigger level")
    trig = float(fine[above[0] + 1])
    n = round(sc.window_s / sc.dx)
    x0 = -sc.pretrigger * sc.window_s
    t_board = trig + x0 + np.arange(n) * sc.dx
    amps = current_a(sc, t_board) + rng.normal(0.0, sc.noise_a, n)
    vw = wave_from_volts(np.full(n, VOLTS), gain_v=1e-4, x_increment=sc.dx, x_origin=x0, dtype=np.int32)
    iw = wave_from_volts(amps * SHUNT, gain_v=1e-8, x_increment=sc.dx, x_origin=x0, channel=2, dtype=np.int32)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
    first = WindowData(trace, summarise(trace))
    # the desktop's stamps: completion at trigger + post-trigger + lag; the poll that saw it started within a
    # poll period after, plus a busy desktop's delay
    post = trace.t_last + trace.dx
    completion = trig + sc.offset_s + post + sc.completion_lag_s
    phase = float(rng.uniform(0, sc.poll_s))
    done_query = completion + phase + sc.poll_delay_s
    done_by = done_query + sc.poll_rtt_s
    done_after = done_query - sc.poll_s - sc.poll_delay_s - sc.poll_rtt_s
    t0 = sc.exec_s - 0.02
    exec_sent = t0 + sc.offset_s - sc.exec_rtt_s
    pairs = [(sc.exec_s + sc.offset_s + sc.event_latency_s + 0.001, sc.exec_s),
             (sc.begin_s + sc.offset_s + sc.event_latency_s, sc.begin_s),
             (sc.end_s + sc.offset_s + sc.event_latency_s + 0.003, sc.end_s)]
    clock = ClockMap.from_arrivals(pairs, [(exec_sent, t0)])
    timing = RunTiming(sc.duration_s, "events", sc.begin_s, sc.end_s, sc.exec_s, t0, sc.exit_s)
    events = [BoardEvent("exec", sc.exec_s, "exec"), BoardEvent("begin", sc.begin_s, "anchor"),
              BoardEvent("end", sc.end_s, "anchor"), BoardEvent("exit", sc.exit_s + 0.01, "exit")]
    return Synthetic(first, timing, events, clock, trig, done_after, done_by)


def placed(sc: Scenario):
    """(Synthetic, its bound, its placement) as the capture would make them (a second search with five times
    the latency allowance when the first finds no confirmed placement)."""
    syn = record(sc)
    post = syn.first.trace.t_last + syn.first.trace.dx
    bound = trigger_bound(syn.clock, syn.done_after_s, syn.done_by_s, post, sc.latency_bound_s)
    wider = trigger_bound(syn.clock, syn.done_after_s, syn.done_by_s, post, 5 * sc.latency_bound_s)
    return syn, bound, place(syn.first.trace, syn.events, bound, wider)


def recorded_energy_j(syn: Synthetic, sc: Scenario) -> float:
    """∫ P over the true [begin, end] of the samples as recorded (noise and all), by the trapezoid rule with
    linear interpolation at the ends, written here with numpy alone: the error of the placement, apart from
    the record's noise, which is not an alignment error."""
    tr = syn.first.trace
    t = tr.x0 + np.arange(tr.n) * tr.dx
    _, _, p = tr.arrays(0, tr.n)
    a, b = sc.begin_s - syn.trigger_board_s, sc.end_s - syn.trigger_board_s
    inside = (t > a) & (t < b)
    ts = np.concatenate([[a], t[inside], [b]])
    ps = np.concatenate([[np.interp(a, t, p)], p[inside], [np.interp(b, t, p)]])
    return float(np.sum((ps[1:] + ps[:-1]) / 2 * np.diff(ts)))


def rel_error(value: float, truth: float) -> float:
    return (value - truth) / truth if truth else math.nan
