"""Placing board times on the scope's time axis without a wire (docs/method.md, "Placing board times on the
scope's time axis").

Two stages:

1. *Coarse, from the clocks* (`trigger_bound`): the desktop stamps when the scope reported the acquisition
   complete (the last poll that said "not yet", the first that said "done"); the trigger came the record's
   post-trigger time before, less up to the scope's completion latency. The clock map (`ClockMap`, bounded
   by the exec's round trip and by the fastest event) turns that desktop interval into an interval of board
   times: the trigger's board time lies in [lo_s, hi_s].
2. *Fine, from the record* (`fine_placement`): inside that bound, the offset whose predicted edges best match
   the current's own edges. The events stamped right at a load change (`begin`, `end`, `phase`) are the
   anchors; the exec (the process shows some unknown time after it) and the exit (the drop comes some time
   before the launcher stamps it) only support an offset. One anchor with a visible edge suffices; several
   must agree, which checks `end − begin` on the board clock against the edges' spacing.

With no consistent edge the placement is the bound's centre, and the whole bound is carried as the alignment
term (`place_in_bound`): the expanded uncertainty then covers the error.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from app.measure.energy import PowerTrace
from app.measure.region import ClockMap, Placement

STAMP_U_S = 2e-4            # a workload's event stamp against its load change (it prints at the transition)
MATCH_TOL_S = 3e-3          # an anchor matches an edge this close to where the offset puts it
STEP_SPAN_S = 1e-3          # the step statistic compares the current's means over this long either side
Z_MIN = 8.0                 # an edge: a step of at least this many noise σ of the step statistic
MIN_STEP_REL = 0.003        # and of at least this fraction of the current's level
SEARCH_POINTS = 200_000     # a search window is read as at most this many block means
MAX_EDGES_PER_WINDOW = 24
EXEC_SUPPORT_S = 0.05       # a rise at most this long after the exec supports an offset
EXIT_SUPPORT_S = 0.15       # a drop at most this long before the exit stamp supports it (the launcher's wait)
RIVAL_Z_SHARE = 0.5         # a rival offset's edges at least this strong (summed z) make the choice ambiguous
MAX_HALF_WIDTH_S = 5.0      # a wider coarse bound means the clock map's round trips are too wide to search


class AlignmentInputError(ValueError):
    """The stamps cannot make a bound (missing, or out of order)."""


@dataclass(frozen=True)
class CoarseBound:
    """The first window's trigger lies at a board time in [lo_s, hi_s]."""
    lo_s: float
    hi_s: float
    parts_s: dict            # the widths it is made of (seconds): poll, completion latency, clock

    @property
    def centre_s(self) -> float:
        return (self.lo_s + self.hi_s) / 2

    @property
    def half_width_s(self) -> float:
        return (self.hi_s - self.lo_s) / 2


def trigger_bound(clock: ClockMap | None, done_after_s: float | None, done_by_s: float | None,
                  post_trigger_s: float, completion_latency_s: float) -> CoarseBound:
    """The trigger's board time from the desktop's stamps around the completion (desktop monotonic seconds:
    the acquisition was not complete at done_after_s and was by done_by_s). Raises AlignmentInputError when a
    stamp or the clock map's lower bound is missing, or the stamps are out of order."""
    if clock is None:
        raise AlignmentInputError("no event of the run reached the desktop, so there is no clock map")
    if clock.offset_lo_s is None:
        raise AlignmentInputError("the exec was not stamped on the desktop, so the clock map has no lower bound")
    if done_after_s is None or done_by_s is None:
        raise AlignmentInputError("the scope's completion was not stamped on the desktop")
    if done_by_s < done_after_s or clock.offset_lo_s > clock.offset_s or completion_latency_s < 0:
        raise AlignmentInputError(f"the desktop's stamps are out of order (not complete at {done_after_s:.6f} s, "
                                  f"complete by {done_by_s:.6f} s; clock offset in [{clock.offset_lo_s:.6f}, "
                                  f"{clock.offset_s:.6f}] s)")
    desk_lo = done_after_s - completion_latency_s - post_trigger_s
    desk_hi = done_by_s - post_trigger_s
    parts = {"poll_s": done_by_s - done_after_s, "completion_latency_s": completion_latency_s,
             "clock_s": clock.offset_s - clock.offset_lo_s}
    return CoarseBound(desk_lo - clock.offset_s, desk_hi - clock.offset_lo_s, parts)


@dataclass(frozen=True)
class BoardEvent:
    name: str
    t_s: float               # board monotonic clock
    kind: str                # "anchor" (begin, end, phase) | "exec" | "exit"


def check_events(events: list[BoardEvent]) -> list[str]:
    """What is wrong with the events' order (each a sentence); the placement uses them anyway where it can."""
    out = []
    t = {e.name: e.t_s for e in events}
    if "begin" in t and "end" in t and t["end"] <= t["begin"]:
        out.append(f"the workload's end (t = {t['end']:.6f}) is not after its begin (t = {t['begin']:.6f})")
    if "exec" in t:
        early = [e.name for e in events if e.kind == "anchor" and e.t_s < t["exec"]]
        if early:
            out.append(f"event(s) {', '.join(early)} are stamped before the exec")
    if "exit" in t:
        late = [e.name for e in events if e.kind == "anchor" and e.t_s > t["exit"]]
        if late:
            out.append(f"event(s) {', '.join(late)} are stamped after the process exited")
    return out


@dataclass(frozen=True)
class Edge:
    t_s: float               # scope time of the step
    step_a: float            # after − before (amps)
    z: float                 # |step| in noise σ of the step statistic
    width_s: float = 0.0     # how long the step takes beyond a clean one (a ramp): where in it the event lies


def _block_means(trace: PowerTrace, j0: int, j1: int, b: int) -> np.ndarray:
    n_blocks = (j1 - j0) // b
    out = np.empty(n_blocks)
    per = max(1, (1 << 20) // b)
    for k in range(0, n_blocks, per):
        m = min(n_blocks, k + per)
        out[k:m] = trace.currents(j0 + k * b, j0 + m * b).reshape(m - k, b).mean(axis=1)
    return out


def _steps(means: np.ndarray, span: int) -> np.ndarray:
    """s[k] = mean(means[k:k+span]) − mean(means[k−span:k]) for k in [span, len − span]."""
    c = np.concatenate([[0.0], np.cumsum(means)])
    k = np.arange(span, means.size - span + 1)
    return (c[k + span] - 2 * c[k] + c[k - span]) / span


def find_edges(trace: PowerTrace, t0_s: float, t1_s: float, span_s: float = STEP_SPAN_S) -> list[Edge]:
    """The current's steps between scope times t0_s and t1_s: the significant local maxima of the difference
    between the mean current over span_s after and before each instant (a matched filter for a step), located
    to a sample. Noise σ comes from the window itself (robust spread of the block-to-block differences)."""
    dx = trace.dx
    j0 = max(0, math.floor((t0_s - span_s - trace.x0) / dx))
    j1 = min(trace.n, math.ceil((t1_s + span_s - trace.x0) / dx) + 1)
    if j1 - j0 < 8:
        return []
    b = max(1, -(-(j1 - j0) // SEARCH_POINTS))
    means = _block_means(trace, j0, j1, b)
    span = max(2, round(span_s / (b * dx)))
    if means.size < 2 * span + 1:
        return []
    s = _steps(means, span)
    d = np.diff(means)
    sigma_m = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2)
    # a record quieter than its own codes (the spread of the differences is 0) is no quieter than one code:
    # a code's flicker is not an edge
    lsb_a = abs(trace.current.y_increment) * trace.a_per_v
    sigma_m = max(sigma_m, lsb_a / math.sqrt(b))
    sigma_s = max(sigma_m * math.sqrt(2.0 / span), 1e-12)
    level = float(np.median(np.abs(means)))
    mag = np.abs(s)
    ok = (mag / sigma_s >= Z_MIN) & (mag >= MIN_STEP_REL * level)
    edges = []
    for lo, hi in _runs(ok, np.sign(s)):
        k_peak = lo + int(np.argmax(mag[lo:hi]))
        half = 0.75 * mag[k_peak]
        a, z = k_peak, k_peak                   # the stretch around the peak above 3/4 of it: its centre is
        while a > lo and mag[a - 1] >= half:    # the step (a clean step's statistic is a triangle; a ramp's
            a -= 1                              # a plateau over the ramp)
        while z + 1 < hi and mag[z + 1] >= half:
            z += 1
        j_edge = j0 + round((a + z) / 2 + span) * b      # the first sample after the step
        if b > 1:
            j_edge = _refine(trace, j_edge, b, max(2, min(span * b, 20_000)))
        t = trace.x0 + (j_edge - 0.5) * dx
        # a clean step's top quarter spans span/2 blocks; what is wider is a ramp (or steps close together)
        width = max(0.0, (z - a + 1) - span / 2) * b * dx
        if t0_s <= t <= t1_s:
            edges.append(Edge(t, float(s[k_peak]), float(mag[k_peak] / sigma_s), width))
    edges.sort(key=lambda e: -e.z)
    return edges[:MAX_EDGES_PER_WINDOW]


def _runs(ok: np.ndarray, sign: np.ndarray) -> list[tuple[int, int]]:
    """[lo, hi) stretches where ok holds with one sign."""
    key = np.where(ok, sign, 0).astype(np.int8)
    change = np.nonzero(np.diff(key))[0] + 1
    bounds = np.concatenate([[0], change, [key.size]])
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if key[a] != 0]


def _refine(trace: PowerTrace, j_edge: int, b: int, span: int) -> int:
    lo = max(0, j_edge - 2 * b - span)
    hi = min(trace.n, j_edge + 2 * b + span)
    amps = trace.currents(lo, hi)
    if amps.size < 2 * span + 1:
        return j_edge
    s = np.abs(_steps(amps, span))
    return lo + span + int(np.argmax(s))


@dataclass(frozen=True)
class _Match:
    offset_s: float
    anchors: list[tuple[str, float]]      # (event, its offset) of the anchors that matched
    support: list[str]                    # exec/exit whose edges fit
    z_sum: float
    width_s: float = 0.0                  # the widest matched edge (a ramp)

    @property
    def rank(self) -> tuple:
        return (len(self.anchors), len(self.support), self.z_sum)


def _window(e: BoardEvent, bound: CoarseBound, tol: float) -> tuple[float, float]:
    """Scope times where e's edge can lie, given the bound."""
    a, b = e.t_s - bound.hi_s, e.t_s - bound.lo_s
    if e.kind == "exec":
        return a - tol, b + EXEC_SUPPORT_S
    if e.kind == "exit":
        return a - EXIT_SUPPORT_S, b + tol
    return a - tol, b + tol


def _supports(e: BoardEvent, edges: list[Edge], offset: float, tol: float, used: list[float]) -> bool:
    """An edge of the record where e's edge may lie at this offset, other than one an anchor already took (the
    drop before the exit must not confirm an `end` placed on that very drop)."""
    at = e.t_s - offset
    lo, hi = (at - tol, at + EXEC_SUPPORT_S) if e.kind == "exec" else (at - EXIT_SUPPORT_S, at + tol)
    return any(lo <= g.t_s <= hi and all(abs(g.t_s - u) > STEP_SPAN_S for u in used) for g in edges)


def _match_at(offset: float, events: list[BoardEvent], edges: dict[str, list[Edge]], tol: float) -> _Match:
    anchors, support, z, width, used = [], [], 0.0, 0.0, []
    for e in events:
        if e.kind == "anchor":
            near = [g for g in edges[e.name] if abs(e.t_s - g.t_s - offset) <= tol]
            if near:
                g = min(near, key=lambda g: abs(e.t_s - g.t_s - offset))
                anchors.append((e.name, e.t_s - g.t_s))
                used.append(g.t_s)
                z += g.z
                width = max(width, g.width_s)
    for e in events:
        if e.kind != "anchor" and _supports(e, edges[e.name], offset, tol, used):
            support.append(e.name)
    return _Match(offset, anchors, support, z, width)


def fine_placement(trace: PowerTrace, events: list[BoardEvent], bound: CoarseBound,
                   tol_s: float = MATCH_TOL_S) -> tuple[Placement | None, str]:
    """The offset (the board time of the record's t = 0) inside the bound whose anchors' edges best match the
    record; (None, why) when no anchor has an edge there, or when two offsets explain the record equally."""
    if not bound.half_width_s <= MAX_HALF_WIDTH_S:
        return None, (f"the coarse bound is ±{bound.half_width_s:.3g} s wide (the clock map's round trips are too "
                      f"wide; at most ±{MAX_HALF_WIDTH_S:g} s is searched)")
    edges: dict[str, list[Edge]] = {}
    for e in events:
        t0, t1 = _window(e, bound, tol_s)
        edges[e.name] = find_edges(trace, max(t0, trace.t_first), min(t1, trace.t_last)) \
            if t1 > trace.t_first and t0 < trace.t_last else []
    candidates = [e.t_s - g.t_s for e in events if e.kind == "anchor" for g in edges[e.name]]
    if not candidates:
        where = ", ".join(e.name for e in events if e.kind == "anchor") or "none"
        return None, f"no edge of the current where the anchors ({where}) can lie inside the bound"
    matches = [_match_at(c, events, edges, tol_s) for c in candidates]
    # each candidate's offset refined to the mean over the anchors it matched, then matched again there
    matches = [_match_at(float(np.mean([o for _, o in m.anchors])), events, edges, tol_s) for m in matches]
    best = max(matches, key=lambda m: m.rank)
    if not best.anchors:
        return None, "no offset matches an anchor's edge"
    offset = float(np.mean([o for _, o in best.anchors]))
    # another offset that explains as many events, with edges nearly as strong, leaves the choice to chance
    rivals = [m for m in matches if abs(m.offset_s - offset) > 2 * tol_s and m.rank[:2] == best.rank[:2]
              and m.z_sum >= RIVAL_Z_SHARE * best.z_sum]
    if rivals:
        alt = rivals[0]
        return None, (f"ambiguous: offsets {offset:.6f} s ({', '.join(n for n, _ in best.anchors)}) and "
                      f"{alt.offset_s:.6f} s ({', '.join(n for n, _ in alt.anchors)}) explain the record equally")
    residuals = [o - offset for _, o in best.anchors]
    residual = math.sqrt(sum(r * r for r in residuals) / len(residuals))
    resolution = max(trace.dx, 1e-9)
    # a ramp: the event may lie anywhere along it (rectangular over its width)
    u_s = math.sqrt(residual ** 2 + resolution ** 2 / 3 + STAMP_U_S ** 2 + best.width_s ** 2 / 12)
    names = tuple(n for n, _ in best.anchors) + tuple(f"{n} (support)" for n in best.support)
    note = (f"edges of {', '.join(n for n, _ in best.anchors)} matched inside the clock bound "
            f"(±{bound.half_width_s * 1e3:.1f} ms), residual {residual * 1e6:.0f} µs")
    if len(best.anchors) == 1 and not best.support:
        # one edge that nothing else confirms may be another step than the event's (about one in five such
        # placements in benchmarks/alignment_coverage.py): keep it, but carry the whole bound around it
        half = max(offset - bound.lo_s, bound.hi_s - offset)
        note += ("; a lone edge that no other event confirms: the whole bound is carried as the alignment "
                 "uncertainty")
        return Placement(offset, "lone-edge", half / math.sqrt(3), None, note, half_width_s=half, events=names,
                         residual_s=residual, bound_s=(bound.lo_s, bound.hi_s)), note
    return Placement(offset, "edges", u_s, None, note, events=names, residual_s=residual,
                     bound_s=(bound.lo_s, bound.hi_s)), note


def place_in_bound(bound: CoarseBound, why: str) -> Placement:
    """No consistent edge: the bound's centre, with its whole width carried as the alignment term."""
    half = bound.half_width_s
    note = (f"placed by the clock bound alone (±{half * 1e3:.1f} ms, carried whole in the alignment term): "
            f"{why}")
    return Placement(bound.centre_s, "clock-bound", half / math.sqrt(3), None, note, half_width_s=half,
                     bound_s=(bound.lo_s, bound.hi_s))


def place(trace: PowerTrace, events: list[BoardEvent], bound: CoarseBound,
          wider: CoarseBound | None = None) -> Placement:
    """Fine placement where the record allows it, else the bound's centre with its whole width.

    wider: the same bound with a generous completion-latency allowance (a scope, or a loaded desktop running
    a simulated one, may report completion later than the default allows, and then the trigger lies before
    the bound). When the bound gives no placement confirmed by two events, the wider one is searched too, and
    taken where two anchors agree there; otherwise the placement rests on the bound as the scope's allowance
    states it."""
    placement, why = fine_placement(trace, events, bound)
    if wider is None or (placement is not None and placement.method == "edges"):
        return placement if placement is not None else place_in_bound(bound, why)
    wide, why_wide = fine_placement(trace, events, wider)
    # the wider span holds more unrelated steps: only two anchors agreeing (their spacing the board's) count
    if wide is not None and wide.method == "edges" and sum("support" not in n for n in wide.events) >= 2:
        return replace(wide, note=f"{wide.note}; found only with the completion-latency allowance widened "
                                  f"(±{wider.half_width_s * 1e3:.0f} ms)")
    if placement is not None:                 # a lone edge, with its bound carried
        return placement
    return place_in_bound(bound, f"{why}; with the wider allowance: {why_wide}")
