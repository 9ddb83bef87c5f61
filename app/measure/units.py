"""Units of work: joules per token, per image, per request … (docs/workloads.md "Units of work").

A workload's `end` event (or its workload file) names what it did — `units` ("tokens", "images", "GOp" …) and
a `count` — and may give the `latency_s` of one unit. Its `phase` events split [begin, end] into named
stretches (prefill, decode), each with its own units and count. From the run's energy this gives:

* J per unit = E / count, with the run's relative uncertainty (the count is exact: it is counted, not
  measured);
* units per second = count / T (T = end − begin on the board clock, whose error is far below the energy's);
* per phase: the energy over the phase's stretches, its J per unit and units per second.

A workload that declares no units but counts operations (`ops`) gets units "GOp", count = ops / 1e9, so its J
per unit is its J/GOp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from app.errors import AnalysisError
from app.measure.energy import interval_stats
from workloads.protocol import PhaseTotal, ProtocolState
from workloads.spec import WorkloadSpec

# energy over one stretch of the board clock: (energy J, standard uncertainty J), or None where it cannot be had
EnergyBetween = Callable[[float, float], "tuple[float, float] | None"]


@dataclass(frozen=True)
class UnitsOfWork:
    units: str
    count: float
    source: str              # "end event", "workload file" or "ops"


def resolve_units(protocol: ProtocolState, spec: WorkloadSpec | None = None,
                  params: dict[str, Any] | None = None) -> UnitsOfWork | None:
    """The run's units of work: the end event's, else the workload file's, else GOp from `ops`."""
    units, count = protocol.units
    if units and count:
        return UnitsOfWork(str(units), float(count), "end event")
    if spec is not None and spec.units:
        file_count = count or spec.count_of_units(params)
        if file_count:
            return UnitsOfWork(spec.units, float(file_count), "end event" if count else "workload file")
    if units is None and protocol.ops:
        return UnitsOfWork("GOp", protocol.ops / 1e9, "ops")
    return None


def per_unit(energy_j: float | None, u_j: float | None, duration_s: float | None, count: float | None,
             latency_s: float | None = None, units: str | None = None) -> dict[str, Any]:
    """J per unit (with the energy's uncertainty scaled), units per second and the reported latency."""
    ok = count is not None and count > 0
    return {
        "units": units, "units_count": count,
        "j_per_unit": energy_j / count if ok and energy_j is not None else None,
        "j_per_unit_uncertainty": u_j / count if ok and u_j is not None else None,
        "units_per_s": count / duration_s if ok and duration_s else None,
        "latency_s": latency_s,
    }


def phase_records(phases: dict[str, PhaseTotal], energy_between: EnergyBetween | None,
                  coverage_k: float) -> list[dict[str, Any]]:
    """One entry per phase name: its duration, energy (the sum over its stretches; their uncertainties are
    added linearly, as the sensor's scale error is common to them all), J per unit and units per second. The
    energy is None where the source cannot split the run (a run measured by sampled windows)."""
    out = []
    for name, total in phases.items():
        energy, u_std = None, None
        if energy_between is not None:
            parts = [energy_between(sp.t0_s, sp.t1_s) for sp in total.spans]
            if all(p is not None for p in parts):
                energy = math.fsum(p[0] for p in parts)
                u_std = math.fsum(p[1] for p in parts)
        u_exp = None if u_std is None else coverage_k * u_std
        out.append({"name": name, "stretches": len(total.spans), "duration_s": total.duration_s,
                    "energy_j": energy, "uncertainty_j": u_exp,
                    "avg_power_w": energy / total.duration_s if energy is not None and total.duration_s else None,
                    **per_unit(energy, u_exp, total.duration_s, total.count, total.latency_s, total.units)})
    return out


def units_record(protocol: ProtocolState, energy_j: float, uncertainty_j: float | None, duration_s: float,
                 *, coverage_k: float = 2.0, spec: WorkloadSpec | None = None, params: dict[str, Any] | None = None,
                 energy_between: EnergyBetween | None = None,
                 dynamic_energy_j: float | None = None) -> dict[str, Any]:
    """The record's units-of-work fields: units, units_count, j_per_unit (+ uncertainty, expanded as the
    energy's), units_per_s, latency_s, dynamic_j_per_unit, units_source and phases."""
    work = resolve_units(protocol, spec, params)
    rec = per_unit(energy_j, uncertainty_j, duration_s, work.count if work else None,
                   protocol.latency_s, work.units if work else None)
    rec["units_source"] = work.source if work else None
    rec["dynamic_j_per_unit"] = dynamic_energy_j / work.count if work and dynamic_energy_j is not None else None
    rec["phases"] = phase_records(protocol.phase_summary(), energy_between, coverage_k)
    return rec


def trace_energy_between(first: Any, result: Any, begin_board_s: float | None) -> EnergyBetween | None:
    """Energy over a stretch of the board clock from a scope run's first window (a WindowData), when the run's
    whole region was integrated there (result: its RunAnalysis, region_s = [b0, e0] on the window's axis with
    `begin` at b0): the trace's integral over the stretch placed by the same offset; its standard uncertainty
    the run's relative one (the scale terms dominate; the placement's own term is not split). None where the
    run was extrapolated from sampled windows."""
    if result.energy_method != "integrated" or result.region_s is None or begin_board_s is None \
            or not result.energy_j:
        return None
    b0 = result.region_s[0]
    rel = result.uncertainty_j / result.coverage_k / result.energy_j

    def between(t0: float, t1: float) -> tuple[float, float] | None:
        try:
            e = interval_stats(first.trace, first.summary, b0 + t0 - begin_board_s, b0 + t1 - begin_board_s).energy_j
        except AnalysisError:          # the stretch is outside the window: no energy for it
            return None
        return e, abs(e) * rel
    return between
