"""Placement without a wire on synthetic records (tests/app/synthetic_runs.py): the board's current is a known
step function of its own clock, so the energy of [begin, end] is an analytic integral (19 V times the time
at each level), never a figure from the code under test. Each case of issue 27: an invisible launch after an
idle lead, a launch that shows late, a launcher that draws before its stamp, a warm-up at the work's power,
noisy idle, a busy desktop; and where no edge is consistent, the expanded U covers the error."""

import pytest

from app.bench.config import UncertaintyConfig
from app.measure.analysis import analyse_run
from tests.app.synthetic_runs import BUSY_A, Scenario, placed, rel_error, true_energy_j

UNC = UncertaintyConfig(shunt_tolerance=0.001, voltage_gain_error=0.01, current_gain_error=0.01,
                        voltage_offset_error_v=0.0, current_offset_error_v=0.0)


def analysed(sc: Scenario):
    syn, bound, placement = placed(sc)
    res = analyse_run(syn.first, syn.timing, ops=None, unc=UNC, placement=placement)
    return syn, bound, placement, res


def _within_1_percent(sc: Scenario, needs: set[str]):
    syn, bound, placement, res = analysed(sc)
    truth = true_energy_j(sc)
    assert bound.lo_s <= syn.trigger_board_s <= bound.hi_s            # the clocks' bound holds the trigger
    assert placement.method == "edges", placement.note
    assert needs <= set(placement.events)
    assert abs(rel_error(res.energy_j, truth)) < 0.01, (res.energy_j, truth)
    assert abs(res.energy_j - truth) <= res.uncertainty_j
    assert res.alignment["events"] == list(placement.events) and res.record()["alignment"] == "edges"
    return placement, res


@pytest.mark.parametrize("lead_s", [0.1, 0.5, 2.0])
def test_invisible_launch_after_an_idle_lead(lead_s):
    # the process sleeps (or its start hides in the idle) for lead_s after the exec; the trigger is the load
    # step at begin itself, which the old rule took for the process start
    sc = Scenario(lead_s=lead_s, warm_a=None, window_s=max(2.0, lead_s + 1.2), pretrigger=0.3)
    p, _ = _within_1_percent(sc, {"begin", "end"})
    # t = 0 is begin's step, half a sample after it at most
    assert p.board_at_zero_s == pytest.approx(sc.begin_s, abs=sc.dx)


@pytest.mark.parametrize("visible_ms", [5, 50, 300])
def test_launch_visible_late_after_the_exec(visible_ms):
    # warm-up current from visible_ms after the exec; the trigger is that rise, 0.5 s before begin
    sc = Scenario(lead_s=0.5, warm_a=0.55, visible_after_s=visible_ms / 1e3, window_s=1.6, pretrigger=0.2)
    _within_1_percent(sc, {"begin", "end"})


def test_launcher_draws_before_its_stamp():
    # the launcher's interpreter draws 0.6 A for 80 ms before its exec stamp (and 10 ms after); the workload
    # then sleeps 0.3 s at idle: the trigger is the launcher's start, not the exec
    sc = Scenario(lead_s=0.3, warm_a=None, launcher_draw=(-0.08, 0.01, 0.6), window_s=1.4, pretrigger=0.2)
    _within_1_percent(sc, {"begin", "end"})


def test_warm_up_at_the_work_power_one_edge_at_end():
    # the warm-up draws what the work draws: no step at begin; the drop at end places the run
    sc = Scenario(lead_s=0.4, warm_a=BUSY_A, window_s=1.4, pretrigger=0.2)
    p, _ = _within_1_percent(sc, {"end"})
    assert "begin" not in p.events


def test_noisy_idle_hides_the_start():
    # 30 mA rms of idle noise a sample; the process start adds 10 mA (one core), invisible in it
    sc = Scenario(lead_s=0.3, warm_a=0.26, noise_a=0.03, window_s=1.2, pretrigger=0.2, trigger_a=0.5)
    _within_1_percent(sc, {"begin", "end"})


def test_busy_desktop_poll_late():
    # the poll that saw the completion came 0.3 s late: the bound widens and still holds the trigger
    sc = Scenario(lead_s=0.5, warm_a=0.55, poll_delay_s=0.3, window_s=1.6, pretrigger=0.2)
    _, bound, _, _ = analysed(sc)
    assert bound.half_width_s > 0.15
    _within_1_percent(sc, {"begin", "end"})


def test_slow_ramps_give_no_edge_and_U_covers_the_clock_bound():
    # begin's and end's load changes ramp over 300 ms: no edge to place on. The placement is the bound's
    # centre, its whole width is in the budget, and the error lies within the expanded U
    sc = Scenario(lead_s=0.5, warm_a=None, ramp_s=0.3, duration_s=0.8, window_s=2.0, pretrigger=0.3,
                  trigger_a=0.3, latency_bound_s=0.3)
    _, bound, placement, res = analysed(sc)
    truth = true_energy_j(sc)
    assert placement.method == "clock-bound" and placement.half_width_s == pytest.approx(bound.half_width_s)
    assert "no edge" in placement.note or "no offset" in placement.note
    term = next(b for b in res.budget if b.name.startswith("alignment"))
    assert term.u_j > 0
    assert abs(res.energy_j - truth) <= res.uncertainty_j


def test_missing_clock_map_is_a_clear_error():
    from app.measure.alignment import AlignmentInputError, trigger_bound
    with pytest.raises(AlignmentInputError, match="clock map"):
        trigger_bound(None, 1.0, 2.0, 0.5, 0.1)


def test_a_run_timed_by_the_launcher_has_no_anchor_and_says_so():
    # no begin/end events (the workload printed none, or an end before its begin): only the exec and the exit,
    # whose delays to the current are unknown, so the placement rests on the bound, with its width carried
    from app.measure.alignment import place
    sc = Scenario(lead_s=0.3, warm_a=0.55, window_s=1.4, pretrigger=0.2)
    syn, bound, _ = placed(sc)
    support_only = [e for e in syn.events if e.kind != "anchor"]
    p = place(syn.first.trace, support_only, bound)
    assert p.method == "clock-bound" and "anchors (none)" in p.note
    assert p.half_width_s == pytest.approx(bound.half_width_s, rel=1e-12)


def test_a_bound_too_wide_to_search_is_named():
    from app.measure.alignment import MAX_HALF_WIDTH_S, CoarseBound, place
    sc = Scenario(lead_s=0.3, warm_a=0.55, window_s=1.4, pretrigger=0.2)
    syn, _, _ = placed(sc)
    wide = CoarseBound(sc.exec_s - 20.0, sc.exec_s + 20.0, {})
    assert wide.half_width_s > MAX_HALF_WIDTH_S
    p = place(syn.first.trace, syn.events, wide)
    assert p.method == "clock-bound" and "too wide" in p.note


def test_a_scope_later_than_its_latency_allowance_is_found_with_the_wider_bound():
    # the scope reports completion 0.3 s after the record's last sample, beyond the 0.1 s allowance: the trigger
    # lies before the bound, whose anchors' windows miss the edges; the bound with 5 x the allowance holds it
    from app.measure.alignment import place, trigger_bound
    from tests.app.synthetic_runs import record
    sc = Scenario(lead_s=0.5, warm_a=None, completion_lag_s=0.3, window_s=1.6, pretrigger=0.2)
    syn = record(sc)
    post = syn.first.trace.t_last + syn.first.trace.dx
    narrow = trigger_bound(syn.clock, syn.done_after_s, syn.done_by_s, post, 0.1)
    wider = trigger_bound(syn.clock, syn.done_after_s, syn.done_by_s, post, 0.5)
    assert not narrow.lo_s <= syn.trigger_board_s <= narrow.hi_s
    assert wider.lo_s <= syn.trigger_board_s <= wider.hi_s
    assert place(syn.first.trace, syn.events, narrow).method != "edges"
    p = place(syn.first.trace, syn.events, narrow, wider)
    assert p.method == "edges" and "widened" in p.note
    res = analyse_run(syn.first, syn.timing, ops=None, unc=UNC, placement=p)
    assert abs(rel_error(res.energy_j, true_energy_j(sc))) < 0.01
