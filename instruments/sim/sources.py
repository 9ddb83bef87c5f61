"""Signal sources of the simulated scope: what the board draws, as a function of time.

Time is this computer's monotonic clock (time.monotonic()), the same clock a
workload on this computer stamps its events with. A source gives the clean
supply current I(t) in amps; the board's voltage is

    V_board(t) = supply_v − I(t)·(source_ohm + shunt_ohm)

and the scope's current channel sees the shunt's voltage I(t)·shunt_ohm.
Noise is added by the scope when it samples.

* demo     an idle board with bursts, like a Jetson on 19 V
* cpu      the current follows the CPU time of the processes this program
           starts (or of the tree under a given pid: "cpu:PID"), so a workload
           started on this computer shows up and nothing else on it does
* profile  a TOML file: piecewise current steps, supply, source resistance,
           ripple, noise, seed; an optional control file through which a
           workload switches the current at stated instants; and an optional
           marker file that drives channel 3 (a board GPIO wired to the scope)

Every source can carry a marker signal: `marker_v(t)`, the volts a board GPIO
puts on the scope's marker channel (channel 3, or the EXT input).
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class SourceError(Exception):
    """A signal source cannot be built (bad profile)."""


@dataclass
class Electrical:
    supply_v: float = 19.0
    source_ohm: float = 0.05
    shunt_ohm: float = 0.01
    noise_v: float = 0.004          # rms, volts on the voltage channel
    noise_a: float = 0.004          # rms, amps on the current (as shunt volts: noise_a * shunt_ohm)
    ripple_a: float = 0.0           # amplitude of a sine ripple on the current
    ripple_hz: float = 0.0
    seed: int = 1
    current_offset_v: float = 0.0   # a DC offset the scope's current channel adds (what `zero` measures)
    # the scope's own channel errors, for tests whose expanded uncertainty must cover a known error
    # (ProfileSource.board): relative gains and the voltage channel's DC offset (volts at the probe tip)
    voltage_gain_error: float = 0.0
    current_gain_error: float = 0.0
    voltage_offset_v: float = 0.0


class Source:
    name = "source"

    def __init__(self, electrical: Electrical):
        self.e = electrical

    def current_a(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def marker_v(self, t: np.ndarray) -> np.ndarray:
        """Volts of the marker GPIO at times t (0 V when nothing drives it)."""
        return np.zeros_like(np.asarray(t, dtype=np.float64))

    def board(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(board volts, supply amps), clean, at times t (monotonic seconds)."""
        i = self.current_a(t)
        if self.e.ripple_a and self.e.ripple_hz:
            i = i + self.e.ripple_a * np.sin(2 * math.pi * self.e.ripple_hz * t)
        v = self.e.supply_v - i * (self.e.source_ohm + self.e.shunt_ohm)
        return v, i

    def late_news_s(self) -> float | None:
        """The earliest instant at which the signal changed, among the changes learned since the last call
        (a control-file line is written after the moment it dates, possibly after the trigger comparator has
        looked past it); None when nothing was learned."""
        return None

    def close(self) -> None:
        pass


class DemoSource(Source):
    """Idle 0.25 A (≈4.75 W) with a 2 s burst of 0.65 A every 6 s and a little load noise."""
    name = "demo"

    def __init__(self, electrical: Electrical | None = None, idle_a: float = 0.25, busy_a: float = 0.65,
                 period_s: float = 6.0, burst_s: float = 2.0):
        super().__init__(electrical or Electrical())
        self.idle_a, self.busy_a, self.period_s, self.burst_s = idle_a, busy_a, period_s, burst_s

    def current_a(self, t: np.ndarray) -> np.ndarray:
        phase = np.mod(t, self.period_s)
        busy = phase < self.burst_s
        wobble = 0.03 * np.sin(2 * math.pi * 7.0 * t) * busy
        return np.where(busy, self.busy_a, self.idle_a) + wobble


class _History:
    """A piecewise-constant signal recorded as (time, value) steps; thread-safe."""

    def __init__(self, initial: float, keep_s: float = 3600.0):
        self._lock = threading.Lock()
        self._t = [-math.inf]
        self._v = [initial]
        self._keep_s = keep_s
        self._news = math.inf             # the earliest step set since take_news()

    def take_news(self) -> float | None:
        """The earliest time of the steps set since the last call, or None."""
        with self._lock:
            news, self._news = self._news, math.inf
        return None if news == math.inf else news

    def set(self, t: float, value: float) -> None:
        """The value from time t on (until a later step); steps may arrive out of order, and a step dated in
        the future takes effect then."""
        with self._lock:
            self._news = min(self._news, t)
            k = bisect.bisect_right(self._t, t)
            if k > 0 and self._t[k - 1] == t:
                self._v[k - 1] = value
                return
            self._t.insert(k, t)
            self._v.insert(k, value)
            cutoff = t - self._keep_s
            while len(self._t) > 2 and self._t[1] < cutoff:
                del self._t[0], self._v[0]
                self._t[0] = -math.inf

    def values(self, t: np.ndarray) -> np.ndarray:
        with self._lock:
            ts = np.asarray(self._t)
            vs = np.asarray(self._v)
        idx = np.searchsorted(ts, t, side="right") - 1
        return vs[np.clip(idx, 0, len(vs) - 1)]


def _process_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, own CPU ticks, reaped children's CPU ticks), from /proc/<pid>/stat."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                raw = fh.read()
        except OSError:
            continue                                   # the process ended meanwhile
        fields = raw[raw.rfind(b")") + 2:].split()
        try:
            table[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
        except (IndexError, ValueError):
            continue
    return table


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds used so far by the processes below root_pid (not root_pid's own threads): the live
    descendants' own and reaped-children time, plus what root_pid has reaped."""
    table = _process_table()
    if root_pid not in table:
        raise OSError(f"no process {root_pid}")
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    ticks = table[root_pid][2]
    stack = list(children.get(root_pid, []))
    while stack:
        pid = stack.pop()
        _, own, reaped = table[pid]
        ticks += own + reaped
        stack.extend(children.get(pid, []))
    return ticks / CLOCK_TICKS


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class CpuSource(Source):
    """The current follows the CPU time of one process tree: by default the processes this program starts
    (the local target's launcher and the workload below it), so a busy machine neither triggers the demo
    early nor hides the workload. One core fully busy draws busy_a; a Python workload draws it from its
    exec on (interpreter start-up, imports, warm-up), as a real board does."""
    name = "cpu"

    def __init__(self, electrical: Electrical | None = None, idle_a: float = 0.25, busy_a: float = 0.75,
                 interval_s: float = 0.025, root_pid: int | None = None, smooth: int = 3):
        super().__init__(electrical or Electrical())
        self.idle_a, self.busy_a, self.interval_s = idle_a, busy_a, interval_s
        self.root_pid = os.getpid() if root_pid is None else root_pid
        self._hist = _History(idle_a)
        self._stop = threading.Event()
        try:
            first = tree_cpu_seconds(self.root_pid)
        except OSError as exc:
            raise SourceError(f"the cpu source needs /proc and process {self.root_pid} ({exc}); use --source demo") \
                from None
        self._samples = [(time.monotonic(), first)] * (smooth + 1)
        self._thread = threading.Thread(target=self._run, name="sim-cpu-load", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                cpu = tree_cpu_seconds(self.root_pid)
            except OSError:
                continue
            now = time.monotonic()
            self._samples = self._samples[1:] + [(now, cpu)]
            (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
            if t1 <= t0:
                continue
            busy = min(1.0, max(0.0, (c1 - c0) / (t1 - t0)))
            # the CPU time of the last few samples is spread over their span: date it to its middle
            self._hist.set((t0 + t1) / 2, self.idle_a + busy * (self.busy_a - self.idle_a))

    def current_a(self, t: np.ndarray) -> np.ndarray:
        return self._hist.values(t)

    def close(self) -> None:
        self._stop.set()


@dataclass
class ProfileSpec:
    electrical: Electrical
    steps: list[tuple[float, float]] = field(default_factory=list)   # (seconds after start, amps)
    period_s: float = 0.0
    initial_a: float = 0.0
    control_file: str = ""
    marker_file: str = ""
    launch_visible: bool = True       # control lines tagged "launch" (a process's start) show on the supply
    launch_delay_s: float = 0.0       # and show this long after the instant they date


_PROFILE_KEYS = {"supply_v", "source_ohm", "shunt_ohm", "noise_v", "noise_a", "ripple_a", "ripple_hz", "seed",
                 "current_offset_v",
                 "steps", "period_s", "initial_a", "control_file", "marker_file", "launch_visible", "launch_delay_s"}


_CHANNEL_ERROR_KEYS = ("voltage_gain_error", "current_gain_error", "voltage_offset_v")


def load_profile(path: str | Path) -> ProfileSpec:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the profile ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(data) - _PROFILE_KEYS - set(_CHANNEL_ERROR_KEYS)
    if unknown:
        raise SourceError(f"{path}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_PROFILE_KEYS))}")
    e = Electrical()
    for key in ("supply_v", "source_ohm", "shunt_ohm", "noise_v", "noise_a", "ripple_a", "ripple_hz"):
        if key in data:
            value = data[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                    or value < 0:
                raise SourceError(f"{path}: {key} is {value!r}; a number of 0 or more is needed")
            setattr(e, key, float(value))
    if "current_offset_v" in data:
        value = data["current_offset_v"]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise SourceError(f"{path}: current_offset_v is {value!r}; a number of volts is needed")
        e.current_offset_v = float(value)
    for key in _CHANNEL_ERROR_KEYS:
        if key in data:
            value = data[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise SourceError(f"{path}: {key} is {value!r}; a number is needed")
            setattr(e, key, float(value))
    if e.shunt_ohm <= 0:
        raise SourceError(f"{path}: shunt_ohm must be above 0")
    if "seed" in data:
        if not isinstance(data["seed"], int):
            raise SourceError(f"{path}: seed must be an integer")
        e.seed = data["seed"]
    steps = []
    for k, step in enumerate(data.get("steps", [])):
        if not (isinstance(step, list) and len(step) == 2 and all(isinstance(x, (int, float)) for x in step)):
            raise SourceError(f"{path}: steps[{k}] is {step!r}; each step is [seconds, amps]")
        steps.append((float(step[0]), float(step[1])))
    if any(b[0] <= a[0] for a, b in zip(steps, steps[1:])):
        raise SourceError(f"{path}: steps must be in increasing time order")
    launch_visible = data.get("launch_visible", True)
    if not isinstance(launch_visible, bool):
        raise SourceError(f"{path}: launch_visible must be true or false")
    launch_delay = data.get("launch_delay_s", 0.0)
    if not isinstance(launch_delay, (int, float)) or isinstance(launch_delay, bool) or not launch_delay >= 0:
        raise SourceError(f"{path}: launch_delay_s is {launch_delay!r}; a number of 0 or more seconds is needed")
    return ProfileSpec(electrical=e, steps=steps, period_s=float(data.get("period_s", 0.0)),
                       initial_a=float(data.get("initial_a", 0.0)), control_file=str(data.get("control_file", "")),
                       marker_file=str(data.get("marker_file", "")), launch_visible=launch_visible,
                       launch_delay_s=float(launch_delay))


class _TimedLines:
    """Follows a file of lines "<monotonic seconds> <value> [tag]" into a _History; `tagged(t, value, tag)`,
    when given, decides what a tagged line becomes: (t, value), or None to drop it."""

    def __init__(self, path: str, history: _History, what: str, tagged=None):
        self.path, self.history, self.what = path, history, what
        self.tagged = tagged
        self._offset = 0
        Path(path).touch()

    def poll(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except OSError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        self._offset += end + 1
        for line in data[:end].decode("ascii", "replace").splitlines():
            parts = line.split()
            try:
                t, value = float(parts[0]), float(parts[1])
            except (IndexError, ValueError):
                log.warning("profile %s file %s: ignoring line %r (want '<monotonic s> <%s>')", self.what,
                            self.path, line, self.what)
                continue
            if len(parts) > 2 and self.tagged is not None:
                kept = self.tagged(t, value, parts[2])
                if kept is None:
                    continue
                t, value = kept
            self.history.set(t, value)


class ProfileSource(Source):
    """Piecewise-constant current: timed steps after the source starts (repeating every period_s if set),
    overridden by lines "<monotonic seconds> <amps>" appended to control_file; the marker channel follows
    lines "<monotonic seconds> <volts>" appended to marker_file.

    A control line tagged "launch" ("<t> <amps> launch") is a process's start: with launch_visible = false it
    does not show on the supply (a real board's idle noise hides one core starting, or the process sleeps
    first), and with launch_delay_s it shows that long after the instant it dates."""
    name = "profile"

    def __init__(self, spec: ProfileSpec, start_s: float | None = None):
        super().__init__(spec.electrical)
        self.spec = spec
        self.start_s = time.monotonic() if start_s is None else start_s
        self._control = _History(math.nan)
        self._marker = _History(0.0)
        self._stop = threading.Event()
        self._files = []
        if spec.control_file:
            self._files.append(_TimedLines(spec.control_file, self._control, "amps", self._launch_line))
        if spec.marker_file:
            self._files.append(_TimedLines(spec.marker_file, self._marker, "volts"))
        if self._files:
            self._thread = threading.Thread(target=self._watch, name="sim-profile-control", daemon=True)
            self._thread.start()

    def _launch_line(self, t: float, amps: float, tag: str) -> tuple[float, float] | None:
        if tag != "launch":
            return t, amps
        return (t + self.spec.launch_delay_s, amps) if self.spec.launch_visible else None

    def _watch(self) -> None:
        while not self._stop.wait(0.002):
            for f in self._files:
                f.poll()

    def marker_v(self, t: np.ndarray) -> np.ndarray:
        return self._marker.values(np.asarray(t, dtype=np.float64))

    def late_news_s(self) -> float | None:
        news = [n for n in (self._control.take_news(), self._marker.take_news()) if n is not None]
        return min(news) if news else None

    def current_a(self, t: np.ndarray) -> np.ndarray:
        spec = self.spec
        rel = np.asarray(t, dtype=np.float64) - self.start_s
        if spec.period_s > 0:
            rel = np.mod(rel, spec.period_s)
        out = np.full(rel.shape, spec.initial_a)
        for t0, amps in spec.steps:
            out = np.where(rel >= t0, amps, out)
        ctl = self._control.values(np.asarray(t, dtype=np.float64))
        return np.where(np.isnan(ctl), out, ctl)

    def board(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The board's volts and amps as the scope's channels read them: with the profile's channel errors
        (voltage_gain_error, current_gain_error, voltage_offset_v; none by default) on the clean signals. The
        current channel's DC offset (current_offset_v) is added where the shunt's volts are formed (engine)."""
        v, i = super().board(t)
        e = self.e
        if e.voltage_gain_error or e.voltage_offset_v:
            v = v * (1.0 + e.voltage_gain_error) + e.voltage_offset_v
        if e.current_gain_error:
            i = i * (1.0 + e.current_gain_error)
        return v, i

    def close(self) -> None:
        self._stop.set()


def make_source(name: str) -> Source:
    """'demo', 'cpu', or the path of a profile TOML."""
    if name == "demo":
        return DemoSource()
    if name == "cpu":
        return CpuSource()
    if name.startswith("cpu:") and name[4:].isdigit():
        return CpuSource(root_pid=int(name[4:]))
    if os.path.exists(name):
        return ProfileSource(load_profile(name))
    raise SourceError(f"unknown source {name!r}: use demo, cpu, cpu:PID, or the path of a profile TOML file")
