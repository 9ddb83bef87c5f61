"""What the capture knows of a run while it goes on: the workload's events as they arrive, the board clock
seen from the desktop, the run's expected length, and when to take the next sampled window.

Events arrive on the target's reader threads; everything here is guarded by one lock. Board times come
from the events themselves; desktop times are `time.monotonic()` at arrival.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

from app.measure.region import ClockMap
from workloads.protocol import PREFIX as PROTOCOL_PREFIX
from workloads.protocol import Event
from workloads.target import EXIT_EVENT, LAUNCH_EVENT, SYNC_EVENT

WIDENING_MAX_WINDOWS = 12      # with no length known, windows at doubling gaps: at most this many
LOG_KEEP_LINES = 200           # output lines kept with their times: this many from the start and from the end


class RunLive:
    """The events of one run, as they arrive."""

    def __init__(self, expected_duration_s: float | None = None, now=time.monotonic):
        self._lock = threading.Lock()
        self._now = now
        self.expected_duration_s = expected_duration_s
        self.arrivals: list[tuple[float, Event]] = []      # (desktop arrival, event)
        self.exec_sent_s: float | None = None      # desktop instant just before the run's command was sent
        self.changed = threading.Event()
        self._head: list[tuple[float, str, str]] = []       # (desktop arrival, stream, line): the first lines
        self._tail: collections.deque = collections.deque(maxlen=LOG_KEEP_LINES)   # and the last ones

    def tee(self, on_line=None):
        """An on_line callback that stamps each output line on arrival, then passes it on."""
        def line(stream: str, text: str) -> None:
            if not text.startswith(PROTOCOL_PREFIX.strip()):      # events are kept as events
                with self._lock:
                    item = (self._now(), stream, text)
                    (self._head if len(self._head) < LOG_KEEP_LINES else self._tail).append(item)
            if on_line is not None:
                on_line(stream, text)
        return line

    def log_lines(self) -> list[list]:
        """[board t, stream, line] of the kept output lines: arrival times mapped to the board clock through
        the events (so a line is placed at most the link's latency after it was printed); [] without events."""
        clock = self.clock()
        if clock is None:
            return []
        with self._lock:
            kept = self._head + list(self._tail)
        return [[clock.board(d), stream, text] for d, stream, text in kept]

    def on_event(self, ev: Event) -> None:
        with self._lock:
            self.arrivals.append((self._now(), ev))
        self.changed.set()

    def _first(self, name: str) -> tuple[float, Event] | None:
        with self._lock:
            return next(((d, e) for d, e in self.arrivals if e.event == name), None)

    def board_time(self, name: str) -> float | None:
        hit = self._first(name)
        return None if hit is None else hit[1].t

    @property
    def launch_s(self) -> float | None:
        return self.board_time(LAUNCH_EVENT)

    @property
    def begin_s(self) -> float | None:
        return self.board_time("begin")

    @property
    def end_seen(self) -> bool:
        return self._first("end") is not None or self._first(EXIT_EVENT) is not None

    def clock(self) -> ClockMap | None:
        """The board clock seen from the desktop: bounded above by the fastest event, below by the round trips
        of the sync lines (where the target sends them) and of the exec (sent at exec_sent_s; the launcher's
        first stamp, or its exec stamp, was taken after it arrived)."""
        with self._lock:
            pairs = [(d, e.t) for d, e in self.arrivals]
            sent = [(e.fields["sent"], e.t) for _, e in self.arrivals if e.event == SYNC_EVENT]
            if self.exec_sent_s is not None:
                for _, e in self.arrivals:
                    if e.event == LAUNCH_EVENT:
                        t0 = e.fields.get("t0")
                        sent.append((self.exec_sent_s, t0 if isinstance(t0, (int, float)) else e.t))
            return ClockMap.from_arrivals(pairs, sent)

    def latest_progress(self) -> tuple[float, float] | None:
        """(board t, fraction) of the newest usable progress event."""
        with self._lock:
            for _, e in reversed(self.arrivals):
                f = e.fields.get("fraction") if e.event == "progress" else None
                if isinstance(f, (int, float)) and not isinstance(f, bool) and 0 < f <= 1:
                    return e.t, float(f)
        return None

    def estimated_duration_s(self) -> tuple[float | None, str]:
        """T expected from the newest progress event, else the workload file's expected_duration_s."""
        b = self.begin_s
        p = self.latest_progress()
        if b is not None and p is not None and p[0] > b:
            return (p[0] - b) / p[1], "progress"
        if self.expected_duration_s:
            return float(self.expected_duration_s), "expected_duration_s"
        return None, "unknown"

    def board_now(self) -> float | None:
        c = self.clock()
        return None if c is None else c.board(self._now())

    def time_left_s(self) -> float | None:
        t_est, _ = self.estimated_duration_s()
        b, now = self.begin_s, self.board_now()
        if t_est is None or b is None or now is None:
            return None
        return max(0.0, b + t_est - now)

    def fraction_done(self) -> float | None:
        """Of [begin, end], by the same estimate as time_left_s (never above 1)."""
        t_est, _ = self.estimated_duration_s()
        b, now = self.begin_s, self.board_now()
        if t_est is None or b is None or now is None or t_est <= 0:
            return None
        return min(1.0, max(0.0, (now - b) / t_est))


@dataclass(frozen=True)
class WindowPlan:
    """When (board time) to force the k-th sampled window (1-based) of `total`, and how it was planned."""
    board_time_s: float
    basis: str


def plan_window(k: int, total: int, begin_s: float, window_s: float, pretrigger: float,
                duration_s: float | None) -> WindowPlan | None:
    """Window k's trigger instant. With a known length the window centres sit at k/(total+1) of the run;
    without one they widen: the first right after `begin`, then at doubling gaps, so the whole run is
    sampled whatever its length (up to WIDENING_MAX_WINDOWS). None: no further window is planned."""
    # a forced window spans [trigger − pretrigger·W, trigger + (1 − pretrigger)·W]: its centre is this far on
    centre_after_trigger = (0.5 - pretrigger) * window_s
    if duration_s is not None and duration_s > 0:
        if k > total:
            return None
        centre = begin_s + duration_s * k / (total + 1)
        # keep the window inside [begin, end] where the run is long enough for it
        lo = begin_s + pretrigger * window_s
        hi = begin_s + duration_s - (1 - pretrigger) * window_s
        trig = centre - centre_after_trigger
        if hi >= lo:
            trig = min(max(trig, lo), hi)
        return WindowPlan(trig, "spread over the expected length")
    if k > max(total, WIDENING_MAX_WINDOWS):
        return None
    gap = window_s * (2 ** (k - 1) - 1)          # 0, W, 3W, 7W, 15W, … after begin
    return WindowPlan(begin_s + pretrigger * window_s + gap + (k - 1) * window_s, "widening (length unknown)")
