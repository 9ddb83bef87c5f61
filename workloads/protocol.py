"""The workload protocol (docs/workloads.md): `@joulebench {json}` lines on stdout.

    @joulebench {"event": "begin", "t": 12345.678}
    @joulebench {"event": "phase", "t": 12350.0, "name": "decode", "units": "tokens"}
    @joulebench {"event": "end", "t": 12391.004, "ops": 1.85e8, "units": "tokens", "count": 4096,
                 "latency_s": 0.012, "phases": {"decode": {"count": 4096, "latency_s": 0.012}}, "result": {...}}

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


UNIT_KEYS = ("units", "count", "latency_s")


@dataclass(frozen=True)
class PhaseSpan:
    """One stretch of a named phase on the board clock, with what its phase declared."""
    name: str
    t0_s: float
    t1_s: float
    units: str | None = None
    count: float | None = None
    latency_s: float | None = None


@dataclass
class PhaseTotal:
    """A phase by name: its stretches and what the whole phase did."""
    name: str
    spans: list[PhaseSpan] = field(default_factory=list)
    units: str | None = None
    count: float | None = None
    latency_s: float | None = None

    @property
    def duration_s(self) -> float:
        return math.fsum(sp.t1_s - sp.t0_s for sp in self.spans)


def _positive(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def unit_field_errors(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, why) for each of units / count / latency_s present but unusable."""
    out = []
    units = fields.get("units")
    if "units" in fields and not (isinstance(units, str) and units.strip() and len(units) <= 40):
        out.append(("units", "a unit of work is a short name such as \"tokens\", \"images\" or \"GOp\""))
    for key, what in (("count", "a count of units must be a number above 0"),
                      ("latency_s", "a latency must be a number of seconds above 0")):
        if key in fields and not _positive(fields[key]):
            out.append((key, what))
    return out


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
        if ev.event in ("end", "phase"):
            self._check_units(ev)
        if ev.event == "end" and "ops" in ev.fields:
            ops = ev.fields["ops"]
            if isinstance(ops, bool) or not isinstance(ops, (int, float)) or not math.isfinite(ops) or ops <= 0:
                self.warnings.append(f"ignored the end event's ops = {ops!r}: an operation count must be a "
                                     "number above 0")
                ev.fields.pop("ops")
        self.events.append(ev)
        return ev

    def _check_units(self, ev: Event) -> None:
        """Drop (with a warning) a units name, count or latency that cannot be used; the phases map of `end` is
        checked entry by entry."""
        bad = unit_field_errors(ev.fields)
        for key, why in bad:
            self.warnings.append(f"ignored the {ev.event} event's {key} = {ev.fields.get(key)!r}: {why}")
            ev.fields.pop(key, None)
        if ev.event == "phase" and not (isinstance(ev.fields.get("name"), str) and ev.fields["name"].strip()):
            self.warnings.append(f"a phase event without a \"name\" (t={ev.t}) is named \"unnamed\"")
            ev.fields["name"] = "unnamed"
        phases = ev.fields.get("phases")
        if ev.event == "end" and phases is not None:
            if not isinstance(phases, dict):
                self.warnings.append(f"ignored the end event's phases = {phases!r}: it must map phase names to "
                                     "{\"count\": …, \"units\": …, \"latency_s\": …}")
                ev.fields.pop("phases")
                return
            for name, entry in list(phases.items()):
                problems = unit_field_errors(entry) if isinstance(entry, dict) else [("entry", "not an object")]
                for key, why in problems:
                    self.warnings.append(f"ignored the end event's phases.{name}.{key}: {why}")
                    if isinstance(entry, dict):
                        entry.pop(key, None)
                if not isinstance(entry, dict):
                    phases.pop(name)

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
    def units(self) -> tuple[str | None, float | None]:
        """(units name, count) the end event declares (either may be None)."""
        e = self.end
        if e is None:
            return None, None
        return e.fields.get("units"), e.fields.get("count")

    @property
    def latency_s(self) -> float | None:
        e = self.end
        return None if e is None else e.fields.get("latency_s")

    def phases(self) -> list[PhaseSpan]:
        """The named stretches of [begin, end]: each phase event starts one, which lasts until the next phase
        event or `end`; a phase before `begin` starts at `begin`. Each stretch carries what its own event
        declared (units, count, latency_s)."""
        b, e = self.begin, self.end
        if b is None or e is None or e.t <= b.t:
            return []
        marks = [ev for ev in self.events if ev.event == "phase" and ev.t < e.t]
        spans = []
        for k, ev in enumerate(marks):
            t0 = max(ev.t, b.t)
            t1 = min(marks[k + 1].t if k + 1 < len(marks) else e.t, e.t)
            if t1 > t0:
                spans.append(PhaseSpan(str(ev.fields["name"]), t0, t1, ev.fields.get("units"),
                                       ev.fields.get("count"), ev.fields.get("latency_s")))
        return spans

    def phase_summary(self) -> dict[str, PhaseTotal]:
        """The phases by name, in order of first appearance: their stretches, and the units, count and latency
        of the whole phase. The end event's `phases` map wins (its count is the phase's total); otherwise the
        count is the sum of the stretches' counts (when every stretch gave one) and the latency their mean."""
        e = self.end
        declared = e.fields.get("phases") if e is not None and isinstance(e.fields.get("phases"), dict) else {}
        out: dict[str, PhaseTotal] = {}
        for sp in self.phases():
            out.setdefault(sp.name, PhaseTotal(sp.name)).spans.append(sp)
        for name, total in out.items():
            spans = total.spans
            units = [sp.units for sp in spans if sp.units]
            total.units = units[-1] if units else None
            counts = [sp.count for sp in spans]
            total.count = math.fsum(counts) if all(c is not None for c in counts) else None
            lat = [sp.latency_s for sp in spans if sp.latency_s is not None]
            total.latency_s = math.fsum(lat) / len(lat) if lat else None
            given = declared.get(name, {})
            total.units = given.get("units", total.units)
            total.count = given.get("count", total.count)
            total.latency_s = given.get("latency_s", total.latency_s)
        return out

    @property
    def result(self) -> Any:
        e = self.end
        return None if e is None else e.fields.get("result")

    def as_json(self) -> list[dict[str, Any]]:
        return [{"event": e.event, "t": e.t, **e.fields} for e in self.events]


def emit(event: str, t: float, **fields: Any) -> str:
    """The line a workload prints (used by the bundled workloads)."""
    return PREFIX + json.dumps({"event": event, "t": t, **fields}, separators=(",", ":"))
