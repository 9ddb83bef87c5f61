"""The simulated scope's acquisition system, independent of any dialect.

Channel 1 sees the board's voltage, channel 2 the shunt's voltage, channel 3
(and the EXT input, channel 0 here) the source's marker GPIO, the others
nothing but noise. A single acquisition behaves like a real scope's: once
armed it ignores triggers until the pre-trigger part of the window has filled,
then waits for the trigger channel to rise through the level, keeps the
pre-trigger history, and completes when the rest of the window has elapsed in
real time. A forced trigger fires at once (once the pre-trigger has filled).
In RUN mode every frame is a fresh screen of the last window.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from instruments.sim.sources import Source

log = logging.getLogger(__name__)

TICK_S = 0.005
TRIGGER_GRID_S = 1e-5      # the trigger comparator looks at the signal this finely (or per sample if coarser)
TRIGGER_LAG_S = 0.05       # the comparator runs this far behind real time, so that a source's late news
                           # (a control-file line, a CPU-load sample) is seen before the edge is judged
GEN_CHUNK = 1 << 18          # small enough that the interpreter lock is let go often (the app draws meanwhile)


@dataclass
class SimChannel:
    display: bool
    scale_v: float = 1.0          # volts per division
    centre_v: float = 0.0         # volts at the centre of the screen
    probe: float = 1.0
    coupling: str = "DC"
    bwlimit: bool = False


@dataclass(frozen=True)
class Quantizer:
    """codes = clip(round((volts − centre_v)/y_increment + y_reference), lo, hi)"""
    y_increment: float
    y_reference: float
    centre_v: float
    lo: int
    hi: int
    dtype: str = "u1"

    def codes(self, volts: np.ndarray) -> np.ndarray:
        c = np.rint((volts - self.centre_v) / self.y_increment + self.y_reference)
        np.clip(c, self.lo, self.hi, out=c)
        return c.astype(self.dtype)


@dataclass
class Record:
    number: int
    t_trigger: float
    x_origin: float       # seconds from the trigger of sample 0
    x_increment: float
    points: int

    def times(self, start: int, stop: int) -> np.ndarray:
        return self.t_trigger + self.x_origin + np.arange(start, stop, dtype=np.float64) * self.x_increment


class Engine:
    def __init__(self, source: Source, *, channels: int = 4, max_points: int = 4_000_000,
                 max_rate_hz: float = 1e9):
        self.source = source
        self.lock = threading.RLock()
        self.channels = {n: SimChannel(display=n <= 2) for n in range(1, channels + 1)}
        self.channels[1].scale_v, self.channels[1].centre_v = 2.0, 19.0
        self.channels[2].scale_v, self.channels[2].centre_v = 0.002, 0.004
        self.max_points = max_points
        self.max_rate_hz = max_rate_hz
        self.window_s = 0.01
        self.pretrigger = 0.5
        self.points = 10_000
        self.trigger_channel = 2
        self.trigger_level_v = 0.004
        self.auto_trigger_s: float | None = None   # AUTO sweep: trigger by itself this long after the pre-trigger
        self.state = "RUN"                 # RUN | ARMED | TRIGGERED | STOP
        self.record: Record | None = None
        self._acq = 0
        self._armed_at = 0.0
        self._scan_from = 0.0
        self._last_trig_value: float | None = None
        self._t_trigger = 0.0
        self._cache: dict[tuple, np.ndarray] = {}
        self.eager = False                 # generate records when they complete (as a real scope holds them)
        self.prepare = None                # set by the persona: generates the record's codes when eager
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sim-acquisition", daemon=True)
        self._thread.start()

    # -- signals -------------------------------------------------------------
    def clean_volts(self, channel: int, t: np.ndarray) -> np.ndarray:
        """Volts at the probe tip of `channel` at monotonic times t, without noise."""
        if channel == 1:
            return self.source.board(t)[0]
        if channel == 2:
            return self.source.board(t)[1] * self.source.e.shunt_ohm + self.source.e.current_offset_v
        if channel in (0, 3):
            return self.source.marker_v(t)
        return np.zeros_like(t)

    def noise_v(self, channel: int) -> float:
        e = self.source.e
        return e.noise_v if channel == 1 else e.noise_a * e.shunt_ohm if channel == 2 else 1e-4

    # -- timebase --------------------------------------------------------------
    @property
    def sample_rate_hz(self) -> float:
        return self.points / self.window_s

    def set_window(self, window_s: float, pretrigger: float | None = None) -> None:
        with self.lock:
            self.window_s = window_s
            if pretrigger is not None:
                self.pretrigger = min(max(pretrigger, 0.0), 1.0)

    # -- run control -------------------------------------------------------------
    def run(self) -> None:
        with self.lock:
            self.state = "RUN"

    def stop(self) -> None:
        with self.lock:
            if self.state in ("ARMED", "TRIGGERED", "RUN"):
                self.state = "STOP"

    def arm_single(self) -> None:
        with self.lock:
            self._acq += 1
            self._armed_at = time.monotonic()
            self._scan_from = self._armed_at + self.pretrigger * self.window_s
            self._last_trig_value = None
            self.state = "ARMED"

    def force_trigger(self) -> None:
        with self.lock:
            if self.state == "ARMED":
                self._fire(max(time.monotonic(), self._scan_from))

    def _fire(self, t_trigger: float) -> None:
        self._t_trigger = t_trigger
        self.state = "TRIGGERED"

    def _loop(self) -> None:
        while not self._stop.wait(TICK_S):
            with self.lock:
                try:
                    self._tick(time.monotonic())
                except Exception:  # noqa: BLE001 - a broken source must not kill the scope thread
                    log.exception("simulated acquisition failed")
                    self.state = "STOP"

    def _tick(self, now: float) -> None:
        horizon = now - TRIGGER_LAG_S
        step = max(self.window_s / self.points, TRIGGER_GRID_S)
        news = self.source.late_news_s()
        if self.state == "ARMED" and news is not None and news < self._scan_from:
            # a change dated before what the comparator has already judged (news later than TRIGGER_LAG_S, as
            # on a busy machine): judge again from just before it, as a real comparator saw it when it happened;
            # never before the pre-trigger part has filled, when a real scope ignores triggers
            self._scan_from = max(news - step, self._armed_at + self.pretrigger * self.window_s)
            self._last_trig_value = float(self.clean_volts(self.trigger_channel, np.array([self._scan_from]))[0])
        if self.state == "ARMED" and horizon > self._scan_from:
            n = int((horizon - self._scan_from) / step)
            if n > 0:
                t = self._scan_from + np.arange(1, n + 1) * step
                v = self.clean_volts(self.trigger_channel, t)
                prev = np.concatenate([[self._last_trig_value if self._last_trig_value is not None else v[0]],
                                       v[:-1]])
                hits = np.nonzero((prev < self.trigger_level_v) & (v >= self.trigger_level_v))[0]
                if hits.size:
                    self._fire(float(t[hits[0]]))
                else:
                    self._last_trig_value = float(v[-1])
                    self._scan_from = float(t[-1])
        if (self.state == "ARMED" and self.auto_trigger_s is not None
                and horizon >= self._armed_at + self.pretrigger * self.window_s + self.auto_trigger_s):
            # an AUTO sweep that found no edge triggers by itself, as a real scope's auto mode does
            self._fire(self._armed_at + self.pretrigger * self.window_s + self.auto_trigger_s)
        if self.state == "TRIGGERED" and horizon >= self._t_trigger + (1 - self.pretrigger) * self.window_s:
            self.record = Record(self._acq, self._t_trigger, -self.pretrigger * self.window_s,
                                 self.window_s / self.points, self.points)
            self._cache.clear()
            if self.eager and self.prepare is not None:
                self.prepare()
            self.state = "STOP"

    # -- data ----------------------------------------------------------------------
    def record_codes(self, channel: int, q: Quantizer, step: int = 1) -> np.ndarray:
        """The completed record of a channel as codes, every `step`-th sample (generated once, in chunks,
        then kept)."""
        with self.lock:
            rec = self.record
            if rec is None:
                raise LookupError("no acquisition")
            key = (rec.number, channel, step, q)
            if key in self._cache:
                return self._cache[key]
            full = self._cache.get((rec.number, channel, 1, q))
            if full is not None:
                return np.ascontiguousarray(full[::step])
            n = -(-rec.points // step)
            out = np.empty(n, dtype=q.dtype)
            rng = np.random.default_rng((self.source.e.seed, rec.number, channel, step))
            sigma = self.noise_v(channel)
            for a in range(0, n, GEN_CHUNK):
                b = min(n, a + GEN_CHUNK)
                t = rec.t_trigger + rec.x_origin + np.arange(a, b, dtype=np.float64) * (rec.x_increment * step)
                volts = self.clean_volts(channel, t)
                volts += rng.normal(0.0, sigma, b - a)
                out[a:b] = q.codes(volts)
            self._cache[key] = out
            return out

    def screen_codes(self, channel: int, q: Quantizer, n: int) -> tuple[np.ndarray, float, float]:
        """A screen of n points: the last window while running, else the record decimated.
        Returns (codes, x_origin from the trigger or window start, x_increment)."""
        with self.lock:
            if self.state != "RUN" and self.record is not None:
                rec = self.record
                idx = np.linspace(0, rec.points - 1, n).astype(np.int64)
                codes = self.record_codes(channel, q)[idx]
                return codes, rec.x_origin, rec.x_increment * (rec.points - 1) / max(1, n - 1)
            dx = self.window_s / n
            t = time.monotonic() - self.window_s + np.arange(n) * dx
            volts = self.clean_volts(channel, t) + np.random.default_rng().normal(0, self.noise_v(channel), n)
            return q.codes(volts), -self.pretrigger * self.window_s, dx

    def close(self) -> None:
        self._stop.set()
        self.source.close()
