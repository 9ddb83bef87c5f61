"""The workload protocol (docs/workloads.md): `@joulebench {json}` lines on stdout.

    @joulebench {"event": "begin", "t": 12345.678}
    @joulebench {"event": "end", "t": 12391.004, "ops": 1.85e8, "result": {...}}

`t` is the board's monotonic clock. Anything else is the run's log. The
parser never raises on what a workload prints: garbage, a partial line, bad
JSON after the prefix or an event without a usable time become warnings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

PREFIX = "@joulebench "


@dataclass
class Event:
    event: str
    t: float
    fields: dict[str, Any]


@dataclass
class ProtocolState:
    events: list[Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def feed(self, line: str) -> Event | None:
        """One stdout line; returns the event it carried, if any."""
        if not line.startswith(PREFIX.strip()):
            return None
        body = line[len(PREFIX.strip()):].strip()
        if not body.startswith("{"):
            if line.startswith(PREFIX) or body == "":
                self.warnings.append(f"ignored a @joulebench line without a JSON object: {line[:120]!r}")
            return None
        try:
            obj = json.loads(body)
        except ValueError as exc:
            self.warnings.append(f"ignored a @joulebench line with bad JSON ({exc}): {line[:120]!r}")
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("event"), str):
            self.warnings.append(f"ignored a @joulebench line without an \"event\" name: {line[:120]!r}")
            return None
        t = obj.get("t")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            self.warnings.append(f"ignored @joulebench event {obj['event']!r}: \"t\" must be the board's monotonic "
                                 f"time in seconds, got {t!r}")
            return None
        ev = Event(obj["event"], float(t), {k: v for k, v in obj.items() if k not in ("event", "t")})
        if ev.event == "end" and "ops" in ev.fields:
            ops = ev.fields["ops"]
            if isinstance(ops, bool) or not isinstance(ops, (int, float)) or not math.isfinite(ops) or ops <= 0:
                self.warnings.append(f"ignored the end event's ops = {ops!r}: an operation count must be a "
                                     "number above 0")
                ev.fields.pop("ops")
        self.events.append(ev)
        return ev

    def first(self, name: str) -> Event | None:
        return next((e for e in self.events if e.event == name), None)

    def last(self, name: str) -> Event | None:
        return next((e for e in reversed(self.events) if e.event == name), None)

    @property
    def begin(self) -> Event | None:
        return self.first("begin")

    @property
    def end(self) -> Event | None:
        return self.last("end")

    def duration_s(self) -> float | None:
        """end.t − begin.t, when the workload printed both in order."""
        b, e = self.begin, self.end
        if b is None or e is None:
            return None
        if e.t <= b.t:
            self.warnings.append(f"the end event (t={e.t}) is not after the begin event (t={b.t}); the events are "
                                 "ignored and the run is timed by the launcher")
            return None
        return e.t - b.t

    @property
    def ops(self) -> float | None:
        e = self.end
        return None if e is None else e.fields.get("ops")

    @property
    def result(self) -> Any:
        e = self.end
        return None if e is None else e.fields.get("result")

    def as_json(self) -> list[dict[str, Any]]:
        return [{"event": e.event, "t": e.t, **e.fields} for e in self.events]


def emit(event: str, t: float, **fields: Any) -> str:
    """The line a workload prints (used by the bundled workloads)."""
    return PREFIX + json.dumps({"event": event, "t": t, **fields}, separators=(",", ":"))
