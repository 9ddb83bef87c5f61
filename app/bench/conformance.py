"""A conformance report for a scope (`python main.py check --bench B.toml --conformance`).

What a user with a new model pastes into a bug report: the driver and the capability table in use, every
setting the bench asks for against what the scope read back, and the self-check (docs/method.md, "Check
against the instrument itself") on one forced acquisition. It configures the scope (that is the point) and
touches nothing on the board.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict

from app.bench.config import BenchConfig
from app.bench.connections import acquisition_setup, channel_setup, open_bench_scope
from app.errors import JoulebenchError


def _same(asked, got) -> bool:
    if isinstance(asked, float) or isinstance(got, float):
        try:
            return math.isclose(float(asked), float(got), rel_tol=1e-3, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return str(asked).upper() == str(got).upper()


def conformance_report(bench: BenchConfig) -> tuple[list[str], bool]:
    """The report's lines and whether everything conformed."""
    lines: list[str] = []
    ok = True
    scope = open_bench_scope(bench)
    try:
        lines.append(f"scope: {scope.idn}")
        lines.append(f"driver: {scope.driver_name}")
        lines.append("capabilities: " + json.dumps(scope.caps.as_dict(), sort_keys=True))
        v, i, acq = channel_setup(bench.voltage), channel_setup(bench.current), acquisition_setup(bench)
        applied = scope.configure(v, i, acq)
        lines.append("settings (asked -> read back):")
        for name, asked, got in (("voltage", v, applied.voltage), ("current", i, applied.current)):
            for key, want in asdict(asked).items():
                have = getattr(got, key)
                same = _same(want, have)
                ok &= same
                lines.append(f"  {name}.{key}: {want!r} -> {have!r}{'' if same else '   <-- differs'}")
        a = applied.acquisition
        for key, want, have in (("window_s", acq.window_s, a.window_s), ("pretrigger", acq.pretrigger, a.pretrigger),
                                ("sample_rate_hz", acq.sample_rate_hz, a.sample_rate_hz)):
            lines.append(f"  acquisition.{key}: {want!r} -> {have!r}")
        lines.append(f"  acquisition.points: {a.points}")
        lines.append("self-check on a forced acquisition:")
        try:
            scope.arm_single(bench.current.channel, 1e9)         # a level nothing reaches: the force decides
            scope.force_trigger()
            scope.wait_complete(a.window_s * 2 + 10)
            for name, ch_applied in (("voltage", applied.voltage), ("current", applied.current)):
                wave = scope.fetch(ch_applied.channel)
                full_scale = scope.vertical_divisions * ch_applied.volts_per_div
                check = scope.self_check(ch_applied.channel, wave, a.window_s, full_scale)
                lines.append(f"  {name} (CH{ch_applied.channel}): {check['points']} points over "
                             f"{check['span_s']:.6g} s (window {check['window_s']:.6g} s); mean downloaded "
                             f"{check['mean_downloaded_v']:.6g} V, scope {check['mean_scope_v']:.6g} V: ok")
        except JoulebenchError as exc:
            ok = False
            lines.append(f"  FAILED: {exc}")
        finally:
            try:
                scope.stop()
            except JoulebenchError:
                pass
    finally:
        scope.close()
    lines.append("conformance: " + ("every setting and the self-check agree" if ok else "see the lines marked above"))
    return lines, ok
