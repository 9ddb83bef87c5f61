"""A one-page HTML report of sessions (`python main.py report S.h5 … --html OUT.html`): the comparison table,
the comparison figure with error bars (embedded), the bench, the board's facts, and the method and its
uncertainty in words. Self-contained: one file to attach to a paper or a lab notebook."""

from __future__ import annotations

import base64
import html
import json
import tempfile
from pathlib import Path
from typing import Iterable

from app.bench.config import is_simulated
from app.report.numbers import format_value, with_uncertainty
from app.report.tables import build_report
from app.session.reader import SessionReader

METHOD_TEXT = (
    "Energy is measured with a shunt resistor in series with the board's supply and an oscilloscope that samples "
    "the board's voltage and the shunt's voltage together: P(t) = V(t)·I(t), integrated with the trapezoid rule "
    "over [begin, end], the measured region the workload reports on the board's own clock (warm-up and teardown "
    "are outside it). Runs longer than the scope's window are extrapolated from windows taken inside [begin, end]. "
    "Idle power is measured before the launch; dynamic energy is E − P_idle·T. The uncertainty combines the shunt "
    "tolerance, the channels' gain and offset errors (rectangular), quantisation, timing, the alignment of "
    "[begin, end] on the scope's axis and the spread of window means (GUM), expanded with Student's t at the "
    "Welch–Satterthwaite degrees of freedom. Ratios to the best entry carry a 95 % interval (delta method) and "
    "Welch's t-test p-value.")


NO_SCOPE_TEXT = (
    "NO SCOPE WAS USED for {runs}: their energy is the board's own sensor's estimate ({measurands}), not a "
    "measurement at the board's input. {fidelity} The uncertainty carries the sensor's published accuracy, its "
    "sampling and the edges of [begin, end] between readings; it does not cover what the sensor cannot see.")


def _no_scope_note(runs: list[dict]) -> str:
    blind = [r for r in runs if r.get("measurand")]
    if not blind:
        return ""
    fidelity = " ".join(sorted({str(r.get("fidelity") or "") for r in blind}))
    text = NO_SCOPE_TEXT.format(runs=f"{len(blind)} of {len(runs)} runs", fidelity=fidelity,
                                measurands=", ".join(sorted({str(r["measurand"]) for r in blind})))
    return f'<p class="warn"><strong>{html.escape(text)}</strong></p>'


def _fmt(x, digits: int = 4) -> str:
    """A value alone (app/report/numbers.py): no float noise, "" when missing."""
    return html.escape(format_value(x, digits=digits)) if isinstance(x, (int, float)) else \
        ("" if x is None else html.escape(str(x)))


def _pm(value, u) -> str:
    """value ± its 95 % interval, rounded at the interval's second significant digit; no dangling "±"."""
    return html.escape(with_uncertainty(value, u))


SIMULATED_TEXT = ("SIMULATED BENCH: {which} measured with the simulated oscilloscope (scope resource {resource}), "
                  "not an instrument. The numbers show how Joulebench works; they are not measurements of a board.")


def _simulated_note(paths: list[Path]) -> str:
    """A banner when any session was captured on the simulated bench (its scope resource is "sim…")."""
    sims = []
    for p in paths:
        with SessionReader(p) as s:
            resource = str(s.group_attrs("bench").get("resource", ""))
        if is_simulated(resource):
            sims.append(resource)
    if not sims:
        return ""
    which = "every session was" if len(sims) == len(paths) else f"{len(sims)} of {len(paths)} sessions were"
    text = SIMULATED_TEXT.format(which=which, resource=", ".join(sorted(set(sims))))
    return f'<p class="sim"><strong>{html.escape(text)}</strong></p>'


def write_html_report(paths: Iterable[str | Path], out_html: str | Path) -> Path:
    paths = [Path(p) for p in paths]
    runs, summaries = build_report(paths)
    figure = ""
    try:
        from app.report.figures import comparison_png
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "compare.png"
            comparison_png(summaries, png)
            figure = base64.b64encode(png.read_bytes()).decode("ascii")
    except Exception as exc:  # noqa: BLE001 - the report is still useful without its figure
        figure = ""
        figure_note = f"(no figure: {exc})"
    else:
        figure_note = ""
    metric = "j_per_gop" if all(s.get("j_per_gop_mean") is not None for s in summaries) else "energy_j"
    best = min((s[f"{metric}_mean"] for s in summaries if s.get(f"{metric}_mean")), default=None)
    rows = []
    for s in summaries:
        label, workload = s.get("label") or "", s.get("workload") or ""
        name = f"{label} · {workload}" if label and workload and label != workload else (label or workload)
        params = s.get("params") or {}
        params_text = ", ".join(f"{k}={v}" for k, v in sorted(params.items())) if isinstance(params, dict) \
            else str(params)
        ratio = s[f"{metric}_mean"] / best if best and s.get(f"{metric}_mean") else None
        rows.append(f"<tr><td>{html.escape(str(name))}</td><td>{html.escape(params_text)}</td>"
                    f"<td>{s.get('n_runs')}</td><td>{_pm(s.get('energy_j_mean'), s.get('energy_j_ci95'))}"
                    f"</td><td>{_pm(s.get('j_per_gop_mean'), s.get('j_per_gop_ci95'))}</td>"
                    f"<td>{_fmt(s.get('avg_power_w_mean'))}</td><td>{_fmt(s.get('duration_s_mean'))}</td>"
                    f"<td>{_fmt(ratio, 3)}</td></tr>")
    with SessionReader(paths[0]) as s:
        bench_toml = s.group_attrs("bench").get("toml", "")
        scope = s.group_attrs("bench").get("scope_idn", "")
        facts = s.group_attrs("target").get("facts", "{}")
    try:
        facts_text = json.dumps(json.loads(facts), indent=1) if isinstance(facts, str) else json.dumps(facts, indent=1)
    except ValueError:
        facts_text = str(facts)
    sessions = "".join(f"<li>{html.escape(str(p))}</li>" for p in paths)
    img = f'<img alt="comparison" src="data:image/png;base64,{figure}">' if figure else html.escape(figure_note)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Joulebench report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:.3em .6em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}pre{{background:#f4f4f4;padding:.6em;overflow-x:auto}}
img{{max-width:100%}}.warn{{border:2px solid #b00020;padding:.5em}}
.sim{{border:2px solid #8a5a00;background:#fff4d6;padding:.5em}}</style></head><body>
<h1>Energy report</h1>
{_simulated_note(paths)}
{_no_scope_note(runs)}
<p>{len(runs)} runs from {len(paths)} session(s); scope: {html.escape(str(scope) or "none")}. Means with 95 % intervals;
lower is better; ratio to the best by {"J/GOp" if metric == "j_per_gop" else "energy"}.</p>
<table><tr><th>entry</th><th>parameters</th><th>n</th><th>E (J)</th><th>J/GOp</th><th>P (W)</th><th>T (s)</th>
<th>× best</th></tr>
{''.join(rows)}</table>
<h2>Comparison</h2>{img}
<h2>Method and uncertainty</h2><p>{html.escape(METHOD_TEXT)}</p>
<h2>Bench</h2><pre>{html.escape(str(bench_toml))}</pre>
<h2>Board</h2><pre>{html.escape(facts_text)}</pre>
<h2>Sessions</h2><ul>{sessions}</ul>
</body></html>
"""
    out = Path(out_html)
    out.write_text(page, encoding="utf-8")
    return out
