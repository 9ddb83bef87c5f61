"""The placement module (app/measure/region.py, app/measure/alignment.py) on hand-built records: edges of
known steps, no edge, noise, a slow ramp, the clock map's rules, the marker's crossings, the launch-edge
half-width and the alignment term, each against values worked out here by hand."""

import math

import numpy as np
import pytest

from app.bench.config import UncertaintyConfig
from app.measure.alignment import (
    AlignmentInputError,
    BoardEvent,
    CoarseBound,
    check_events,
    find_edges,
    fine_placement,
    place,
    trigger_bound,
)
from app.measure.analysis import RunTiming, WindowData, alignment_u_j, analyse_run
from app.measure.energy import PowerTrace, summarise
from app.measure.region import (
    EXEC_TO_CURRENT_S,
    ClockMap,
    marker_edges_s,
    place_by_launch,
)
from tests.helpers import wave_from_volts

SHUNT = 0.01
VOLTS = 19.0


def trace_of(amps: np.ndarray, dx: float, x0: float) -> WindowData:
    """A constant 19 V and the given current samples (fine codes: 1e-8 V a code on the shunt)."""
    vw = wave_from_volts(np.full(amps.size, VOLTS), gain_v=1e-4, x_increment=dx, x_origin=x0, dtype=np.int32)
    iw = wave_from_volts(amps * SHUNT, gain_v=1e-8, x_increment=dx, x_origin=x0, channel=2, dtype=np.int32)
    t = PowerTrace(vw, iw, shunt_ohm=SHUNT)
    return WindowData(t, summarise(t))


def steps(times: np.ndarray, levels: list[tuple[float, float]]) -> np.ndarray:
    """Piecewise-constant current: levels = [(from time, amps), ...] in order."""
    out = np.zeros(times.size)
    for t0, a in levels:
        out[times >= t0] = a
    return out


def grid(n: int, dx: float, x0: float) -> np.ndarray:
    return x0 + np.arange(n) * dx


# -- edges ---------------------------------------------------------------------------------------------
def test_edges_of_hand_built_steps_between_samples():
    dx, x0 = 1e-4, -0.1
    t = grid(4000, dx, x0)
    # a rise 0.25 -> 0.75 A just after t = 0.01234 and a fall to 0.4 A after 0.21234: each edge lies between
    # the last sample before it and the first after it, so the found instant is within half a sample
    amps = steps(t, [(-1, 0.25), (0.01234, 0.75), (0.21234, 0.40)])
    w = trace_of(amps, dx, x0)
    edges = sorted(find_edges(w.trace, -0.05, 0.25), key=lambda e: e.t_s)
    assert len(edges) == 2
    first_after = [x0 + dx * math.ceil((te - x0) / dx) for te in (0.01234, 0.21234)]
    for e, fa in zip(edges, first_after):
        assert e.t_s == pytest.approx(fa - dx / 2, abs=1e-9)
    assert edges[0].step_a == pytest.approx(0.5, rel=1e-3) and edges[1].step_a == pytest.approx(-0.35, rel=1e-3)


def test_no_edge_on_flat_noise():
    dx, x0 = 1e-4, -0.1
    rng = np.random.default_rng(3)
    amps = 0.25 + rng.normal(0, 0.01, 4000)
    assert find_edges(trace_of(amps, dx, x0).trace, -0.09, 0.28) == []


def test_an_edge_in_noise_is_found_when_it_stands_above_the_noise():
    # noise σ = 20 mA a sample; over the 1 ms (10 samples) either side the step statistic's σ is
    # 20 mA·sqrt(2/10) = 8.9 mA: a 0.15 A step is 17 σ (found), a 30 mA one 3.4 σ (not claimed)
    dx, x0 = 1e-4, -0.1
    t = grid(4000, dx, x0)
    rng = np.random.default_rng(5)
    big = steps(t, [(-1, 0.25), (0.1003, 0.40)]) + rng.normal(0, 0.02, t.size)
    edges = find_edges(trace_of(big, dx, x0).trace, 0.0, 0.2)
    assert len(edges) == 1 and edges[0].t_s == pytest.approx(0.1003, abs=3 * dx)
    small = steps(t, [(-1, 0.25), (0.1003, 0.28)]) + rng.normal(0, 0.02, t.size)
    assert find_edges(trace_of(small, dx, x0).trace, 0.0, 0.2) == []


def test_a_slow_ramp_is_not_taken_for_a_step_and_a_short_one_is_found_inside_it():
    dx, x0 = 1e-4, -0.1
    t = grid(6000, dx, x0)
    # 0.25 -> 0.75 A over 200 ms: across 1 ms the current moves 2.5 mA, below 8 σ of a 4 mA noise
    slow = 0.25 + 0.5 * np.clip((t - 0.1) / 0.2, 0, 1) + np.random.default_rng(1).normal(0, 0.004, t.size)
    assert find_edges(trace_of(slow, dx, x0).trace, 0.0, 0.4) == []
    # over 5 ms the ramp is an edge; it is placed inside the ramp
    quick = 0.25 + 0.5 * np.clip((t - 0.1) / 0.005, 0, 1)
    edges = find_edges(trace_of(quick, dx, x0).trace, 0.0, 0.4)
    assert len(edges) == 1 and 0.1 <= edges[0].t_s <= 0.105


# -- clock map and the coarse bound -----------------------------------------------------------------------
def test_clock_map_smallest_latency_and_exec_round_trip():
    # desktop = board + 100 s; events travelled 3, 1.5 and 7 ms: the fastest bounds the offset from above
    pairs = [(100 + 5.0 + 0.003, 5.0), (100 + 6.0 + 0.0015, 6.0), (100 + 7.0 + 0.007, 7.0)]
    # the exec was sent at desktop 104.98; the launcher's first stamp (board 4.99) came after it arrived
    cm = ClockMap.from_arrivals(pairs, [(104.98, 4.99)])
    assert cm.offset_s == pytest.approx(100.0015, abs=1e-12)
    assert cm.offset_lo_s == pytest.approx(99.99, abs=1e-12)
    assert cm.width_s == pytest.approx(0.0115, abs=1e-12)
    assert cm.board(110.0) == pytest.approx(110.0 - 100.0015, abs=1e-12)
    assert ClockMap.from_arrivals([]) is None
    assert ClockMap.from_arrivals(pairs).offset_lo_s is None


def test_trigger_bound_by_hand():
    cm = ClockMap(offset_s=100.002, offset_lo_s=99.99)
    # not complete at 110.50 s, complete by 110.52 s; post-trigger 0.8 s; completion up to 0.1 s late
    b = trigger_bound(cm, 110.50, 110.52, 0.8, 0.1)
    assert b.lo_s == pytest.approx(110.50 - 0.1 - 0.8 - 100.002, abs=1e-9)
    assert b.hi_s == pytest.approx(110.52 - 0.8 - 99.99, abs=1e-9)
    assert b.half_width_s == pytest.approx((0.02 + 0.1 + 0.012) / 2, abs=1e-9)
    with pytest.raises(AlignmentInputError, match="no clock map"):
        trigger_bound(None, 1.0, 2.0, 0.8, 0.1)
    with pytest.raises(AlignmentInputError, match="lower bound"):
        trigger_bound(ClockMap(100.0), 1.0, 2.0, 0.8, 0.1)
    with pytest.raises(AlignmentInputError, match="out of order"):
        trigger_bound(cm, 2.0, 1.0, 0.8, 0.1)


def test_events_out_of_order_are_named():
    ev = [BoardEvent("exec", 10.0, "exec"), BoardEvent("begin", 9.5, "anchor"), BoardEvent("end", 9.0, "anchor"),
          BoardEvent("exit", 8.0, "exit")]
    problems = " | ".join(check_events(ev))
    assert "not after its begin" in problems and "before the exec" in problems and "after the process" in problems


# -- fine placement --------------------------------------------------------------------------------------
def _run(lead_s=0.5, t_s=0.5, warm_a=0.25, tear_s=0.1, dx=1e-4, board_zero=1000.0):
    """Idle 0.25 A, warm-up (warm_a) from the exec to begin, 0.75 A over [begin, end], 0.4 A teardown, idle.
    The trigger (t = 0) is begin's rise; the board clock reads board_zero there."""
    x0 = -0.2 - lead_s
    t = grid(round((lead_s + t_s + 0.6) / dx), dx, x0)
    amps = steps(t, [(-9, 0.25), (-lead_s, warm_a), (0.0, 0.75), (t_s, 0.40), (t_s + tear_s, 0.25)])
    w = trace_of(amps, dx, x0)
    events = [BoardEvent("exec", board_zero - lead_s, "exec"), BoardEvent("begin", board_zero, "anchor"),
              BoardEvent("end", board_zero + t_s, "anchor"), BoardEvent("exit", board_zero + t_s + tear_s + 0.02,
                                                                        "exit")]
    return w, events


def test_fine_placement_on_begin_and_end_inside_a_wide_bound():
    w, events = _run()
    bound = CoarseBound(1000.0 - 0.06, 1000.0 + 0.09, {})
    p, why = fine_placement(w.trace, events, bound)
    assert p is not None, why
    assert p.method == "edges" and {"begin", "end"} <= set(p.events)
    assert p.board_at_zero_s == pytest.approx(1000.0 + 1e-4 / 2, abs=1e-4)       # half a sample: the step's edge
    assert p.residual_s < 1e-4


def test_one_visible_edge_suffices_warm_up_at_the_work_power():
    w, events = _run(warm_a=0.75)          # no step at begin: only the end's fall
    p, why = fine_placement(w.trace, events, CoarseBound(999.95, 1000.05, {}))
    assert p is not None, why
    assert "end" in p.events and "begin" not in p.events
    assert p.board_at_zero_s == pytest.approx(1000.0, abs=2e-4)


def test_no_edge_falls_back_to_the_bound_with_its_whole_width():
    dx, x0 = 1e-4, -0.3
    amps = np.full(8000, 0.6)
    w = trace_of(amps, dx, x0)
    events = [BoardEvent("begin", 1000.0, "anchor"), BoardEvent("end", 1000.4, "anchor")]
    p = place(w.trace, events, CoarseBound(999.97, 1000.03, {}))
    assert p.method == "clock-bound" and p.half_width_s == pytest.approx(0.03, abs=1e-12)
    assert p.board_at_zero_s == pytest.approx(1000.0, abs=1e-12)
    assert p.u_s == pytest.approx(0.03 / math.sqrt(3), rel=1e-12)
    assert "no edge" in p.note


def test_an_edge_outside_the_bound_is_not_used():
    w, events = _run()
    # the bound says the trigger is 0.3..0.35 s after begin: the record's begin/end edges are outside it
    p = place(w.trace, events, CoarseBound(1000.3, 1000.35, {}))
    assert p.method == "clock-bound"


# -- the launch edge, the marker, the alignment term (issue 28's planted bugs) ------------------------------
def test_launch_edge_half_width_holds_the_exec_to_current_bound():
    dx, x0 = 1e-4, -0.2
    t = grid(4000, dx, x0)
    w = trace_of(steps(t, [(-1, 0.25), (-0.05, 0.75)]), dx, x0)
    p = place_by_launch(w.trace, 500.0)
    # rectangular over [edge − 2 ms − resolution, edge], resolution = max(2·dx, 0.2 ms) = 0.2 ms
    half = (0.002 + 2e-4) / 2
    assert EXEC_TO_CURRENT_S == 0.002
    assert p.u_s == pytest.approx(half / math.sqrt(3), rel=1e-12)
    # the launch sits half the bound before the edge the record shows at −0.05 s (within a smoothing window)
    assert p.scope_time(500.0) == pytest.approx(-0.05 - half, abs=2.5e-4)


def test_marker_crossings_interpolated_within_a_sample():
    # 0, 0, 1, 3, 3, 3, 1, 0 V at 1 µs, x0 = 10 µs, threshold 1.5 V: the rise crosses a quarter of the way
    # from sample 2 (1 V) to 3 (3 V), the fall three quarters of the way from 5 (3 V) to 6 (1 V)
    v = np.array([0, 0, 1, 3, 3, 3, 1, 0], dtype=float)
    rise, fall = marker_edges_s(v, 10e-6, 1e-6, 1.5)
    assert rise == pytest.approx(10e-6 + 2.25e-6, abs=1e-15)
    assert fall == pytest.approx(10e-6 + 5.75e-6, abs=1e-15)
    assert marker_edges_s(np.zeros(5), 0.0, 1.0, 1.5) == (None, None)


def test_alignment_term_is_the_power_step_times_the_shift():
    # idle 0.25 A, busy 0.75 A over [0, 0.5 s), idle after, at 19 V: the region fits the busy stretch, so a
    # shift of u either way costs (P_busy − P_idle)·u = 19·0.5·u (the two shifts differ by a ramp sample only)
    dx, x0 = 1e-4, -0.1
    t = grid(8000, dx, x0)
    w = trace_of(steps(t, [(-1, 0.25), (-dx / 2, 0.75), (0.5 - dx / 2, 0.25)]), dx, x0)
    u = 1e-3
    assert alignment_u_j(w, 0.0, 0.5, u) == pytest.approx(19.0 * 0.5 * u, rel=0.02)
    # over a carried half-width h: the worst shift costs ΔP·h, and its rectangular u is that over √3
    assert alignment_u_j(w, 0.0, 0.5, 0.0, half_width_s=0.01) == pytest.approx(19.0 * 0.5 * 0.01 / math.sqrt(3),
                                                                               rel=0.02)
    # and it reaches the budget
    unc = UncertaintyConfig(shunt_tolerance=0.001, voltage_gain_error=0.01, current_gain_error=0.01)
    from app.measure.region import Placement
    res = analyse_run(w, RunTiming(0.5, begin_s=0.0, end_s=0.5), ops=None, unc=unc,
                      placement=Placement(0.0, "edges", u))
    term = next(b for b in res.budget if b.name.startswith("alignment"))
    assert term.u_j == pytest.approx(19.0 * 0.5 * u, rel=0.02)
    assert res.record()["alignment_u_j"] == pytest.approx(term.u_j, rel=1e-12)


def test_a_lone_unconfirmed_edge_keeps_its_place_and_carries_the_bound():
    # only `begin` is given, nothing confirms its edge: placed on it, with the whole bound around it carried
    w, events = _run()
    only_begin = [e for e in events if e.name == "begin"]
    bound = CoarseBound(1000.0 - 0.06, 1000.0 + 0.09, {})
    p = place(w.trace, only_begin, bound)
    assert p.method == "lone-edge" and p.events == ("begin",)
    assert p.board_at_zero_s == pytest.approx(1000.0, abs=1e-4)
    # the farther end of the bound from the placement: 1000.09 − τ
    assert p.half_width_s == pytest.approx(1000.09 - p.board_at_zero_s, abs=1e-12)
    assert p.u_s == pytest.approx(p.half_width_s / math.sqrt(3), rel=1e-12)
