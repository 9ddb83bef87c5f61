"""Auto-range (docs/method.md "Ranging"): like a power analyzer's ranging run.

Take a few live frames, find each channel's extremes, and set volts/div and
the centre so the signal fills most of the screen without clipping; widen and
look again while a channel sits at the ADC's rails. Also propose a trigger
level between the idle and the busy current seen.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from instruments.errors import InstrumentError
from instruments.scope import AcquisitionSetup, ChannelSetup, Scope, propose_range, propose_trigger_level_a

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RangeResult:
    voltage: ChannelSetup
    current: ChannelSetup
    idle_shunt_v: float            # low end of the current channel (5th percentile), volts at the probe tip
    busy_shunt_v: float            # high end (99th percentile)
    trigger_level_v: float | None  # proposed, in shunt volts; None when no load was seen
    message: str


def _frames(scope: Scope, channel: int, count: int, pause_s: float) -> tuple[np.ndarray, bool]:
    values, clipped = [], False
    for _ in range(count):
        w = scope.live_frame(channel)
        codes = np.asarray(w.codes)
        clipped |= bool(codes.min() <= w.code_min or codes.max() >= w.code_max)
        values.append(w.volts())
        time.sleep(pause_s)
    return np.concatenate(values), clipped


def auto_range(scope: Scope, voltage: ChannelSetup, current: ChannelSetup, acquisition: AcquisitionSetup, *,
               frames: int = 5, pause_s: float = 0.05, max_rounds: int = 5) -> RangeResult:
    """Find volts/div and centres for both channels; the scope is left running with them applied."""
    v, i = voltage, current
    for round_ in range(max_rounds):
        scope.configure(v, i, acquisition)
        scope.run()
        time.sleep(acquisition.window_s)
        vv, v_clip = _frames(scope, v.channel, frames, pause_s)
        iv, i_clip = _frames(scope, i.channel, frames, pause_s)
        log.info("auto-range round %d: V %.4g..%.4g%s, I %.4g..%.4g%s", round_ + 1, vv.min(), vv.max(),
                 " (clipped)" if v_clip else "", iv.min(), iv.max(), " (clipped)" if i_clip else "")
        if not v_clip and not i_clip:
            break
        if v_clip:
            v = replace(v, volts_per_div=v.volts_per_div * 5, offset_v=float(np.median(vv)))
        if i_clip:
            i = replace(i, volts_per_div=i.volts_per_div * 5, offset_v=float(np.median(iv)))
    else:
        raise InstrumentError(f"{scope.t.name}: auto-range still sees clipping after {max_rounds} rounds; check "
                              "the probe ratio and that the channels are connected")
    div = scope.vertical_divisions
    rv = propose_range(float(vv.min()), float(vv.max()), div)
    ri = propose_range(float(iv.min()), float(iv.max()), div)
    floor_v = scope.min_volts_per_div * v.probe_ratio
    floor_i = scope.min_volts_per_div * i.probe_ratio
    v = replace(v, volts_per_div=max(rv.volts_per_div, floor_v), offset_v=rv.offset_v)
    i = replace(i, volts_per_div=max(ri.volts_per_div, floor_i), offset_v=ri.offset_v)
    scope.configure(v, i, acquisition)
    idle, busy = float(np.percentile(iv, 5)), float(np.percentile(iv, 99))
    noise = float(np.std(iv[iv <= np.percentile(iv, 50)])) if iv.size > 10 else 0.0
    level = None
    message = "ranged"
    if busy - idle > max(6 * noise, 0.02 * abs(busy)):
        level = propose_trigger_level_a(idle, busy)
    else:
        message = ("no load was seen while ranging, so no trigger level is proposed: run a load (cpu-burn) and "
                   "auto-range again")
    return RangeResult(v, i, idle, busy, level, message)
