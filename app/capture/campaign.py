"""Campaigns: a suite run as one controlled comparison, in one session file (docs/campaigns.md).

The plan: with `ranging = "first"`, one unscored run of each entry whose windows set the channels' ranges for
everything after it (MLPerf Power's ranging pass); then the scored runs in the suite's order (interleaved,
blocked, or shuffled from its seed). Before each run the board settles: back within 2 % of its idle power
for `settle_s` (watched through live frames), or a fixed wait, or not at all.

The comparison (`campaign_summary`) groups the scored runs by label: n, means and 95 % intervals of energy
and J/GOp, mean power and duration, the ratio to the best entry with its interval (delta method, Student's t
at the Welch–Satterthwaite degrees of freedom) and Welch's t-test against the best.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

from scipy import stats

from app.bench.config import BenchConfig
from app.bench.connections import acquisition_setup, channel_setup, marker_setup
from app.bench.suite import Suite
from app.capture.procedure import Capture, CaptureOutcome, CaptureRequest, PlannedRun
from app.errors import BenchError
from app.measure.analysis import sample_stats
from app.measure.energy import PowerTrace
from instruments.scope import ChannelSetup, propose_range

log = logging.getLogger(__name__)
SETTLE_BAND = 0.02            # within 2 % of idle
SETTLE_POLL_S = 0.1


def plan_runs(suite: Suite) -> list[PlannedRun]:
    plan = []
    if suite.ranging == "first":
        plan += [PlannedRun(e.workload, dict(e.params), e.label, scored=False) for e in suite.entries]
    for label in suite.order_of_runs():
        e = suite.entry(label)
        plan.append(PlannedRun(e.workload, dict(e.params), e.label))
    return plan


class CampaignHooks:
    """Settling before each run and ranging after the unscored ones, as Capture's before/after hooks."""

    def __init__(self, suite: Suite, bench: BenchConfig):
        self.suite = suite
        self.bench = bench
        self.idle_w: float | None = None
        self.extremes: dict[str, list[float]] = {}
        self.ranges: dict[str, dict[str, float]] = {}
        self.settle_log: list[dict[str, Any]] = []

    # -- settling ------------------------------------------------------------------------
    def live_power_w(self, capture: Capture) -> float:
        b = self.bench
        scope = capture.scope
        scope.run()
        v = scope.live_frame(b.voltage.channel)
        i = scope.live_frame(b.current.channel)
        trace = PowerTrace(v, i, shunt_ohm=b.current.shunt_ohm, amps_per_volt_=b.current.amps_per_volt,
                           measured_at=b.voltage.measured_at, current_zero_v=b.current.zero_offset_v or 0.0)
        _, _, p = trace.arrays(0, trace.n)
        return float(p.mean())

    def _watch(self, capture: Capture, seconds: float) -> list[float]:
        readings, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            capture.check_cancel()
            readings.append(self.live_power_w(capture))
            time.sleep(SETTLE_POLL_S)
        return readings

    def before_run(self, capture: Capture, n: int, item: PlannedRun) -> None:
        s = self.suite
        if s.settle == "none":
            return
        if s.settle != "idle":
            capture.report("settling", capture.fraction, f"run {n}: settling {s.settle:g} s", n)
            end = time.monotonic() + float(s.settle)
            while time.monotonic() < end:
                capture.check_cancel()
                time.sleep(min(SETTLE_POLL_S, max(0.0, end - time.monotonic())))
            return
        if self.idle_w is None:                       # before the first run: wait for the board to be steady
            self.idle_w = self._steady_power_w(capture, n)
            self.settle_log.append({"run": n, "idle_reference_w": self.idle_w})
            return
        started = time.monotonic()
        quiet_since = None
        limit = max(60.0, 20 * s.settle_s)
        while True:
            capture.check_cancel()
            p = self.live_power_w(capture)
            now = time.monotonic()
            within = abs(p - self.idle_w) <= SETTLE_BAND * abs(self.idle_w)
            quiet_since = (quiet_since or now) if within else None
            if quiet_since is not None and now - quiet_since >= s.settle_s:
                self.settle_log.append({"run": n, "waited_s": now - started})
                return
            if now - started > limit:
                log.warning("run %d: the board did not settle to %.4g W within %.0f s (now %.4g W); going on", n,
                            self.idle_w, limit, p)
                self.settle_log.append({"run": n, "waited_s": now - started, "not_settled_w": p})
                return
            capture.report("settling", capture.fraction,
                            f"run {n}: waiting for the board to settle: {p:.4g} W, idle {self.idle_w:.4g} W", n)
            time.sleep(SETTLE_POLL_S)

    def _steady_power_w(self, capture: Capture, n: int) -> float:
        """The board's power once it has stayed within the band around its own mean for settle_s."""
        s = self.suite
        streak: list[float] = []                  # readings since the power last left the band
        since = started = time.monotonic()
        while True:
            capture.check_cancel()
            now = time.monotonic()
            p = self.live_power_w(capture)
            mean = sum(streak) / len(streak) if streak else p
            if streak and abs(p - mean) > SETTLE_BAND * abs(mean):
                streak, since = [], now
            streak.append(p)
            if now - since >= s.settle_s and len(streak) >= 3:
                return sum(streak) / len(streak)
            if now - started > max(60.0, 20 * s.settle_s):
                log.warning("run %d: the board's power did not settle (%.4g W); taking it as idle", n, p)
                return sum(streak) / len(streak)
            time.sleep(SETTLE_POLL_S)

    # -- ranging -----------------------------------------------------------------------------
    def after_run(self, capture: Capture, n: int, item: PlannedRun, record: dict | None) -> None:
        if record is not None and record.get("idle_power_w"):
            self.idle_w = float(record["idle_power_w"])          # the run's own idle, from before its launch
        if item.scored:
            return
        for w in capture.last_windows:
            s = w.summary
            for name, lo, hi in (("voltage", s.v_min.min(), s.v_max.max()), ("current", s.i_min.min(), s.i_max.max())):
                cur = self.extremes.setdefault(name, [math.inf, -math.inf])
                cur[0], cur[1] = min(cur[0], float(lo)), max(cur[1], float(hi))
        if not any(not p.scored for p in capture.plan[n:]):          # the last ranging run: fix the ranges
            self._apply_ranges(capture)

    def _apply_ranges(self, capture: Capture) -> None:
        b = self.bench
        scope = capture.scope
        div = scope.vertical_divisions
        a_per_v = b.current.a_per_v
        setups = {}
        for name, cfg, scale in (("voltage", b.voltage, 1.0), ("current", b.current, 1.0 / a_per_v)):
            lo, hi = (x * scale for x in self.extremes.get(name, [math.nan, math.nan]))
            if not (math.isfinite(lo) and math.isfinite(hi)):
                return
            if name == "current":
                lo, hi = lo + (cfg.zero_offset_v or 0.0), hi + (cfg.zero_offset_v or 0.0)
            margin = 0.1 * (hi - lo)                  # headroom beyond what the ranging runs saw
            base = channel_setup(cfg)
            floor = scope.min_volts_per_div * base.probe_ratio      # the front end's finest scale at the tip
            pr = propose_range(lo - margin, hi + margin, divisions=div, min_span_v=floor * div)
            setups[name] = ChannelSetup(base.channel, base.probe_ratio, max(pr.volts_per_div, floor), pr.offset_v,
                                        base.coupling, base.bandwidth_limit)
            self.ranges[name] = {"volts_per_div": pr.volts_per_div, "offset_v": pr.offset_v}
        capture.applied = scope.configure(setups["voltage"], setups["current"], acquisition_setup(b),
                                          extra=marker_setup(b))
        capture.writer.add_campaign_attrs({"ranges_from_ranging_runs": self.ranges})
        capture.report("ranging", capture.fraction, "ranges fixed from the ranging runs: " + ", ".join(
            f"{k} {v['volts_per_div']:g} V/div around {v['offset_v']:.4g} V" for k, v in self.ranges.items()))


def run_campaign(bench: BenchConfig, suite: Suite, out_dir: Path, *, progress=None, on_line=None,
                 cancel=None, password: str | None = None, on_run=None) -> tuple[CaptureOutcome, CampaignHooks]:
    """Run the suite; CaptureFailed (with what was captured) when it stops early. on_run(outcome so far) after
    every run (the app's table fills in)."""
    if not bench.has_scope:
        if suite.ranging == "first":
            raise BenchError(f'{suite.name}: ranging = "first" sets the scope\'s ranges, and the bench has no scope '
                             '(scope.resource = "none"); set ranging = "none" in the suite.')
        if suite.settle == "idle":
            raise BenchError(f'{suite.name}: settle = "idle" watches the board\'s power on the scope, and the bench '
                             'has no scope (scope.resource = "none"); set settle to a number of seconds, or "none".')
    hooks = CampaignHooks(suite, bench)
    if on_run is not None:
        inner = hooks.after_run

        def after_run(capture, n, item, record):
            inner(capture, n, item, record)
            on_run(capture.outcome)
        hooks_after = after_run
    else:
        hooks_after = hooks.after_run
    plan = plan_runs(suite)
    campaign = {"suite_toml": suite.toml_text, "suite": suite.name, "order": [p.label for p in plan if p.scored],
                "ranging_runs": [i + 1 for i, p in enumerate(plan) if not p.scored], "settle": str(suite.settle),
                "settle_s": suite.settle_s}
    req = CaptureRequest(bench=bench, workload=plan[0].workload, plan=plan, windows=suite.windows, out_dir=out_dir,
                         label=suite.name, session_name=suite.name, campaign=campaign,
                         before_run=hooks.before_run, after_run=hooks_after, password=password)
    capture = Capture(req, progress=progress, on_line=on_line, cancel=cancel)
    try:
        return capture.run(), hooks
    finally:
        if capture.writer is not None and hooks.settle_log:
            log.info("settling: %s", hooks.settle_log)


# ---------------------------------------------------------------------------------------------
# The comparison

def _mean_ci(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean, _, ci = sample_stats(values)
    return mean, ci


def _ratio_ci(values: list[float], best: list[float]) -> float | None:
    """95 % half-width of mean(values)/mean(best): delta method, t at the Welch–Satterthwaite df."""
    if len(values) < 2 or len(best) < 2:
        return None
    m1, s1, _ = sample_stats(values)
    m2, s2, _ = sample_stats(best)
    if not m1 or not m2:
        return None
    a, b = (s1 / m1) ** 2 / len(values), (s2 / m2) ** 2 / len(best)
    if a + b == 0:
        return 0.0
    dof = (a + b) ** 2 / (a ** 2 / (len(values) - 1) + b ** 2 / (len(best) - 1))
    return float(stats.t.ppf(0.975, dof)) * (m1 / m2) * math.sqrt(a + b)


def campaign_summary(records: list[dict], suite_name: str = "", order: list[str] | None = None,
                     entries: dict[str, dict] | None = None) -> dict:
    """The comparison of docs/campaigns.md from scored run records (each with its "label")."""
    labels = list(dict.fromkeys(r.get("label") or r.get("workload", "?") for r in records))
    by = {lab: [r for r in records if (r.get("label") or r.get("workload", "?")) == lab] for lab in labels}
    metric = "j_per_gop" if records and all(r.get("j_per_gop") is not None for r in records) else "energy_j"
    rows = []
    for lab in labels:
        runs = by[lab]
        e_mean, e_ci = _mean_ci([r["energy_j"] for r in runs])
        g = [r["j_per_gop"] for r in runs if r.get("j_per_gop") is not None]
        g_mean, g_ci = _mean_ci(g) if len(g) == len(runs) else (None, None)
        info = (entries or {}).get(lab, {})
        rows.append({"label": lab, "workload": info.get("workload"), "params": info.get("params", {}),
                     "n": len(runs), "energy_j_mean": e_mean, "energy_j_ci95": e_ci,
                     "j_per_gop_mean": g_mean, "j_per_gop_ci95": g_ci,
                     "avg_power_w_mean": _mean_ci([r["avg_power_w"] for r in runs])[0],
                     "duration_s_mean": _mean_ci([r["duration_s"] for r in runs])[0],
                     "runs": [r["run"] for r in runs]})
    best = min(rows, key=lambda r: r[f"{metric}_mean"])["label"] if rows else None
    best_values = [r[metric] for r in by.get(best, [])]
    best_mean = _mean_ci(best_values)[0] if best_values else None
    for row in rows:
        values = [r[metric] for r in by[row["label"]]]
        if row["label"] == best:
            row.update(ratio_to_best=1.0, ratio_to_best_ci95=0.0, p_value_vs_best=None)
            continue
        row["ratio_to_best"] = row[f"{metric}_mean"] / best_mean if best_mean else None
        row["ratio_to_best_ci95"] = _ratio_ci(values, best_values)
        row["p_value_vs_best"] = float(stats.ttest_ind(values, best_values, equal_var=False).pvalue) \
            if len(values) >= 2 and len(best_values) >= 2 else None
    return {"suite": suite_name, "order": order or [], "entries": rows, "best": best, "metric": metric}


def format_table(doc: dict) -> str:
    """The comparison as the published table, with what that table lacked."""
    metric = doc["metric"]
    unit = "J/GOp" if metric == "j_per_gop" else "J"
    head = f"{'entry':<16} {'n':>3} {'E (J)':>12} {'± 95 %':>9} {unit:>12} {'± 95 %':>9} {'P (W)':>8} {'T (s)':>9} " \
           f"{'× best':>8} {'± 95 %':>7} {'p vs best':>9}"
    lines = [f"suite: {doc['suite']}   metric: {metric}   best: {doc['best']}", head]

    def f(x, spec):
        return format(x, spec) if isinstance(x, (int, float)) and x is not None else "—"
    for r in doc["entries"]:
        value = r["j_per_gop_mean"] if metric == "j_per_gop" else r["energy_j_mean"]
        ci = r["j_per_gop_ci95"] if metric == "j_per_gop" else r["energy_j_ci95"]
        lines.append(f"{r['label']:<16} {r['n']:>3} {f(r['energy_j_mean'], '12.5g')} {f(r['energy_j_ci95'], '9.3g')} "
                     f"{f(value, '12.5g')} {f(ci, '9.3g')} {f(r['avg_power_w_mean'], '8.4g')} "
                     f"{f(r['duration_s_mean'], '9.4g')} {f(r['ratio_to_best'], '8.3f')} "
                     f"{f(r['ratio_to_best_ci95'], '7.3f')} {f(r['p_value_vs_best'], '9.3g')}")
    lines.append("beyond the published table: repeats with 95 % intervals, ratios with their interval and Welch's "
                 "p-value; per run: idle power, dynamic energy, start-up tax and the uncertainty budget (report CSV)")
    return "\n".join(lines)


def document(outcome: CaptureOutcome, suite: Suite, plan_order: list[str]) -> dict:
    entries = {e.label: {"workload": e.workload.name, "params": e.params} for e in suite.entries}
    doc = campaign_summary(outcome.runs, suite.name, plan_order, entries)
    return {"session": str(outcome.session_path) if outcome.session_path else None, **doc}


def records_of_session(path: str | Path) -> tuple[list[dict], dict]:
    """The scored run records of a campaign session and its /campaign attributes."""
    from app.session.reader import SessionReader
    with SessionReader(path) as s:
        campaign = s.group_attrs("campaign") if "campaign" in s.file else {}
        records = []
        for run in s.runs():
            scored = run.attrs.get("scored", True)
            if run.record and scored not in (False, 0) and run.status == "complete":
                records.append({**run.record, "workload": run.attrs.get("workload")})
    return records, campaign
