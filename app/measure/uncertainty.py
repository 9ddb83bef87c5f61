"""The uncertainty budget of a run's energy (docs/method.md "Uncertainty"; GUM, expanded at ~95 %).

Each contribution is a standard uncertainty in joules with its degrees of
freedom; they combine in quadrature. Tolerances (shunt, gains, offsets given
as bounds) are rectangular: u = a/√3. The coverage factor is Student's t at
the Welch–Satterthwaite effective degrees of freedom (1.96 when every term
is a type-B bound; wider with few sampled windows).

Sensitivities (P = V·I, E = ∫P dt over T):
* a relative gain error g on either channel, or a shunt off by s: δE = E·g.
* a DC offset δv on the current channel (volts at the probe tip): δI = δv·A/V,
  δE = ∫V dt·δI = V̄·T·δI; on the voltage channel: δE = Ī·T·δv.
* ADC quantisation: LSB/√12 per sample, averaged over the N samples.
* alignment of [begin, end] on the scope axis: δE = (P at end − P at begin)·δt,
  evaluated by moving the region (`alignment_sensitivity_w`).
* timing of T for an extrapolated run: δE = P̄·δT.
* spread of the window means: s/√K with K − 1 degrees of freedom.

Dynamic energy E − P_idle·T keeps the scale terms (they scale both parts) and
loses the offset terms (an offset shifts P and P_idle alike).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scipy import stats

SQRT3 = math.sqrt(3.0)
DATASHEET_OFFSET_DIV = 0.1       # InfiniiVision 3000T / Rigol DS1000Z data sheets: DC offset accuracy
DATASHEET_OFFSET_INPUT_V = 0.002  # ±(0.1 div + 2 mV + 1 % of the offset setting); the other families publish
DATASHEET_OFFSET_SETTING = 0.01   # figures of the same size
ZEROED_RESIDUAL_DIV = 0.02       # after `zero`: what is left of the offset (drift, the zero's own noise)


@dataclass(frozen=True)
class BudgetItem:
    name: str
    relative_u: float        # relative standard uncertainty (of the energy)
    u_j: float               # standard uncertainty in joules
    dof: float = math.inf    # degrees of freedom (inf for a type-B bound)
    scales: bool = True      # a scale term (kept in the dynamic energy) rather than an offset term

    def as_dict(self) -> dict:
        d = asdict(self)
        d["dof"] = None if math.isinf(self.dof) else self.dof
        return d


def datasheet_offset_v(volts_per_div: float, probe_ratio: float, offset_v: float) -> float:
    """The data sheet's DC offset accuracy as volts at the probe tip (a bound)."""
    return (DATASHEET_OFFSET_DIV * volts_per_div + DATASHEET_OFFSET_INPUT_V * probe_ratio
            + DATASHEET_OFFSET_SETTING * abs(offset_v))


@dataclass(frozen=True)
class ChannelErrors:
    """Bounds of one channel's errors, in volts at the probe tip (offset) and relative (gain)."""
    gain: float
    offset_v: float
    offset_source: str              # "bench" | "data sheet" | "zeroed (residual)"
    lsb_v: float                    # one ADC code, volts at the probe tip


def combined(items: list[BudgetItem]) -> float:
    return math.sqrt(math.fsum(b.u_j ** 2 for b in items))


def effective_dof(items: list[BudgetItem]) -> float:
    """Welch–Satterthwaite."""
    uc = combined(items)
    denom = math.fsum(b.u_j ** 4 / b.dof for b in items if math.isfinite(b.dof) and b.dof > 0)
    if uc == 0 or denom == 0:
        return math.inf
    return uc ** 4 / denom


def coverage_factor(dof: float) -> float:
    if math.isinf(dof):
        return float(stats.norm.ppf(0.975))
    return float(stats.t.ppf(0.975, max(dof, 1.0)))


def expanded(items: list[BudgetItem]) -> tuple[float, float, float]:
    """(U, k, ν_eff)."""
    dof = effective_dof(items)
    k = coverage_factor(dof)
    return k * combined(items), k, dof


@dataclass(frozen=True)
class RegionMeans:
    """What the sensitivities need, over the measured (or sampled) samples."""
    energy_j: float
    duration_s: float
    mean_v: float
    mean_a: float
    samples: int


def energy_budget(m: RegionMeans, *, shunt_tolerance: float, voltage: ChannelErrors, current: ChannelErrors,
                  amps_per_volt: float, alignment_j: float = 0.0, timing_j: float = 0.0,
                  spread_rel: float | None = None, spread_dof: float = math.inf) -> list[BudgetItem]:
    e = abs(m.energy_j)
    t = m.duration_s
    n = max(m.samples, 1)

    def item(name: str, u_j: float, dof: float = math.inf, scales: bool = True) -> BudgetItem:
        return BudgetItem(name, (u_j / e) if e else 0.0, abs(u_j), dof, scales)
    items = [
        item("shunt tolerance", e * shunt_tolerance / SQRT3),
        item("voltage-channel gain", e * voltage.gain / SQRT3),
        item("current-channel gain", e * current.gain / SQRT3),
        item(f"current-channel offset ({current.offset_source})",
             m.mean_v * t * current.offset_v * amps_per_volt / SQRT3, scales=False),
        item(f"voltage-channel offset ({voltage.offset_source})", m.mean_a * t * voltage.offset_v / SQRT3,
             scales=False),
        item("quantisation", math.hypot(m.mean_v * t * current.lsb_v * amps_per_volt,
                                        m.mean_a * t * voltage.lsb_v) / math.sqrt(12.0 * n), scales=False),
        item("timing of T", timing_j),
        item("alignment of [begin, end]", alignment_j, scales=False),
    ]
    if spread_rel is not None:
        items.append(item("spread of window means", e * spread_rel, spread_dof))
    return items


def dynamic_budget(items: list[BudgetItem], energy_j: float, dynamic_j: float, idle_u_j: float) -> list[BudgetItem]:
    """The dynamic energy's budget: scale terms rescaled, offset terms dropped (they cancel), the idle mean's
    own spread added; alignment and spread kept as they are (they belong to E only)."""
    out = []
    ratio = abs(dynamic_j / energy_j) if energy_j else 0.0
    for b in items:
        if b.name.startswith("alignment") or b.name.startswith("spread"):
            out.append(BudgetItem(b.name, b.u_j / abs(dynamic_j) if dynamic_j else 0.0, b.u_j, b.dof, b.scales))
        elif b.scales:
            out.append(BudgetItem(b.name, b.relative_u, b.u_j * ratio, b.dof, b.scales))
    out.append(BudgetItem("idle power (its noise)", idle_u_j / abs(dynamic_j) if dynamic_j else 0.0, idle_u_j))
    return out
