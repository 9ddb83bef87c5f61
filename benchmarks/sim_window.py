"""One acquisition on the simulated scope (Keysight persona, the demo board), triggered and complete, for the
benchmarks that time downloads."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instruments.detect import open_scope  # noqa: E402
from instruments.scope import AcquisitionSetup, ChannelSetup  # noqa: E402
from instruments.sim.server import SimScope  # noqa: E402


@contextmanager
def acquired(points: int, window_s: float, *, eager: bool = False):
    """(sim, scope) with one window of `points` per channel captured; both closed afterwards. eager: the record
    exists when the acquisition completes (as on a real scope), else it is generated on its first download."""
    sim = SimScope(persona="keysight", source="demo", max_points=points)
    sim.engine.eager = eager
    scope = open_scope(sim.resource, timeout_s=600)
    try:
        scope.configure(ChannelSetup(1, 10.0, 2.0, 19.0), ChannelSetup(2, 1.0, 0.002, 0.004),
                        AcquisitionSetup(window_s=window_s, sample_rate_hz=points / window_s, pretrigger=0.1))
        scope.arm_single(2, 1.0)
        time.sleep(0.05)
        scope.force_trigger()
        scope.wait_complete(60)
        yield sim, scope
    finally:
        scope.close()
        sim.close()
