#!/usr/bin/env python3
"""Checks NVML captures against an independent NVML sampler (benchmarks/nvml_sampler.py) and stated bands;
prints one line per run, writes FIGURES.json beside the sessions, and exits 1 when a check fails:

* the independent sampler's counter over the run's [begin, end] agrees with the run's NVML counter energy
  within the counter-step bound (both read the same counter, each edge up to one step Δc apart:
  Σ over GPUs and edges of P·Δc, Δc measured by the independent sampler);
* its integrated instantaneous power agrees with the counter energy within --instant-pct (default 3 %), where
  the driver offers that field;
* each run's J per unit lies in its band (--band UNITS=LOW:HIGH, J per unit);
* without a scope: idle power in [--idle-min, --idle-max] W, dynamic energy above 0, at least 10 counter
  updates in the region on every GPU, and the phases' energies summing to the run's within 2 %;
* with --expect-simulated-flag: the run's telemetry is flagged beside the simulated shunt.

Usage: python3 benchmarks/nvml_check.py SESSION_DIR SAMPLER.csv [--band tokens=1e-6:10 ...]"""

import argparse
import glob
import json
import math
import os
import sys

import h5py
import numpy as np


def sampler_rows(path):
    data = np.genfromtxt(path, delimiter=",", names=True, dtype=float, missing_values="", filling_values=np.nan)
    return {int(g): data[data["gpu"] == g] for g in np.unique(data["gpu"])}


def independent(rows, b, e):
    """(counter J, instant-power J, averaged-power J, counter step s, power at b, power at e) over [b, e]."""
    t, c = rows["t_monotonic_s"], rows["counter_mj"] / 1000.0
    counter = float(np.interp(e, t, c) - np.interp(b, t, c))
    changes = t[1:][np.diff(c) != 0]
    step = float(np.median(np.diff(changes))) if len(changes) > 3 else math.nan

    def integral(w):
        ok = np.isfinite(w)
        if ok.sum() < 2:
            return math.nan
        knots = np.concatenate([[b], t[ok][(t[ok] > b) & (t[ok] < e)], [e]])
        v = np.interp(knots, t[ok], w[ok])
        return float(np.sum(np.diff(knots) * (v[1:] + v[:-1]) / 2))
    inst, avg = rows["instant_mw"] / 1000.0, rows["average_mw"] / 1000.0
    p = inst if np.isfinite(inst).any() else avg
    ok = np.isfinite(p)
    return (counter, integral(inst), integral(avg), step, float(np.interp(b, t[ok], p[ok])),
            float(np.interp(e, t[ok], p[ok])))


def runs(session_dir):
    for f in sorted(glob.glob(os.path.join(session_dir, "*.h5"))):
        with h5py.File(f, "r") as h:
            for name in sorted(h["runs"]):
                res = h["runs"][name].get("results")
                if res is None:
                    yield f, name, None, None
                    continue
                yield f, name, json.loads(res.attrs["record_json"]), json.loads(res.attrs["details_json"])


def check_run(rec, det, samp, args):
    fails, timing = [], det["timing"]
    b, e = timing["begin_s"], timing["end_s"]
    no_scope = str(rec.get("energy_source", "")).startswith("telemetry")
    ours = rec["energy_j"] if no_scope else rec.get("telemetry_counter_energy_j")
    gpus = [int(g["gpu"]) for g in rec.get("gpus") or []] or sorted(samp)
    parts = [independent(samp[g], b, e) for g in gpus]
    ind_counter = sum(p[0] for p in parts)
    inst = sum(p[1] for p in parts)
    avg = sum(p[2] for p in parts)
    step = max(p[3] for p in parts)
    bound = sum((abs(p[4]) + abs(p[5])) * p[3] for p in parts)
    fig = {"label": rec.get("label"), "duration_s": rec["duration_s"], "energy_j": rec["energy_j"],
           "uncertainty_j": rec["uncertainty_j"], "nvml_counter_j": ours, "independent_counter_j": ind_counter,
           "counter_step_bound_j": bound, "independent_counter_step_s": step, "instant_j": inst, "average_j": avg,
           "instant_vs_counter_pct": 100 * (inst / ours - 1) if ours else None,
           "average_vs_counter_pct": 100 * (avg / ours - 1) if ours else None,
           "avg_power_w": rec["avg_power_w"], "idle_power_w": rec.get("idle_power_w"),
           "dynamic_energy_j": rec.get("dynamic_energy_j"), "units": rec.get("units"),
           "units_count": rec.get("units_count"), "j_per_unit": rec.get("j_per_unit"),
           "j_per_unit_uncertainty": rec.get("j_per_unit_uncertainty"), "units_per_s": rec.get("units_per_s"),
           "latency_s": rec.get("latency_s"), "phases": rec.get("phases"), "budget": det.get("budget"),
           "counter_updates": [g.get("counter_updates") for g in rec.get("gpus") or []],
           "warnings": rec.get("warnings"), "telemetry_plausible": rec.get("telemetry_plausible")}
    if ours is None or not abs(ind_counter - ours) <= bound + 0.01:
        fails.append(f"independent counter {ind_counter:.2f} J vs ours {ours} J: beyond the step bound {bound:.2f} J")
    if ours and math.isfinite(inst) and not abs(inst / ours - 1) * 100 <= args.instant_pct:
        fails.append(f"instantaneous power integrates to {inst:.2f} J, {100 * (inst / ours - 1):+.2f} % from the "
                     f"counter (bound {args.instant_pct} %)")
    lo_hi = args.bands.get(rec.get("units"))
    if lo_hi and not (lo_hi[0] <= (rec.get("j_per_unit") or -1) <= lo_hi[1]):
        fails.append(f"J per {rec.get('units')} = {rec.get('j_per_unit')} outside [{lo_hi[0]}, {lo_hi[1]}]")
    if no_scope:
        if not args.idle_min <= (rec.get("idle_power_w") or -1) <= args.idle_max:
            fails.append(f"idle power {rec.get('idle_power_w')} W outside [{args.idle_min}, {args.idle_max}]")
        if not (rec.get("dynamic_energy_j") or 0) > 0:
            fails.append("dynamic energy not above 0")
        if any((n or 0) < 10 for n in fig["counter_updates"]):
            fails.append(f"fewer than 10 counter updates in the region: {fig['counter_updates']}")
        phases = [p for p in rec.get("phases") or [] if p.get("energy_j") is not None]
        if phases and abs(sum(p["energy_j"] for p in phases) / rec["energy_j"] - 1) > 0.02:
            fails.append("the phases' energies do not sum to the run's within 2 %")
    if args.expect_simulated_flag and rec.get("telemetry_plausibility") != "simulated shunt":
        fails.append("NVML beside the simulated shunt was not flagged")
    return fig, fails


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sessions")
    ap.add_argument("sampler_csv")
    ap.add_argument("--band", action="append", default=[])
    ap.add_argument("--instant-pct", type=float, default=3.0)
    ap.add_argument("--idle-min", type=float, default=20.0)
    ap.add_argument("--idle-max", type=float, default=400.0)
    ap.add_argument("--expect-simulated-flag", action="store_true")
    args = ap.parse_args()
    args.bands = {k: tuple(map(float, v.split(":"))) for k, v in (b.split("=") for b in args.band)}
    samp = sampler_rows(args.sampler_csv)
    figures, failed = [], 0
    for f, name, rec, det in runs(args.sessions):
        if rec is None:
            print(f"FAIL {os.path.basename(f)} {name}: no result (the run failed)")
            failed += 1
            continue
        fig, fails = check_run(rec, det, samp, args)
        fig["session"], fig["run"] = os.path.basename(f), name
        figures.append(fig)
        per = f"{fig['j_per_unit']:.4g} J/{fig['units']}" if fig["j_per_unit"] else ""
        print(f"{'FAIL' if fails else 'ok  '} {fig['label']} run {name}: T {fig['duration_s']:.3f} s, "
              f"E {fig['energy_j']:.1f} ± {fig['uncertainty_j']:.1f} J, NVML counter {fig['nvml_counter_j']:.1f} J, "
              f"independent {fig['independent_counter_j']:.1f} J (bound {fig['counter_step_bound_j']:.1f} J, "
              f"step {1e3 * fig['independent_counter_step_s']:.0f} ms), instant {fig['instant_vs_counter_pct']:+.2f} %,"
              f" average {fig['average_vs_counter_pct']:+.2f} %, idle {fig['idle_power_w']} W, {per}")
        for b in fig["budget"] or []:
            if b["name"].startswith(("energy counter update step", "NVML accuracy", "NVML 1 s averaging")):
                print(f"       budget: {b['name']}: u = {b['u_j']:.2f} J ({100 * b['relative_u']:.3f} %)")
        for p in fig["phases"] or []:
            print(f"       phase {p['name']}: {p['duration_s']:.3f} s, {p['energy_j']} J, {p['j_per_unit']} J/"
                  f"{p['units']}, {p['units_per_s']} {p['units']}/s, latency {p['latency_s']} s")
        for msg in fails:
            print("       FAIL:", msg)
        failed += bool(fails)
    with open(os.path.join(args.sessions, "FIGURES.json"), "w") as fh:
        json.dump(figures, fh, indent=1)
    if not figures:
        print("FAIL: no runs found")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
