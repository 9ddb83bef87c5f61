"""The Scope interface every driver implements, and what it takes and returns.

The bench file speaks centre-screen volts and window seconds; a driver turns
them into its dialect and reads back what the scope actually applied.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from instruments.capabilities import Capabilities, capabilities_for
from instruments.errors import CancelledError, InstrumentError, TriggerTimeoutError
from instruments.transport import ProgressFn, Transport
from instruments.waveform import Waveform

log = logging.getLogger(__name__)

POLL_S = 0.05
COMPLETION_LATENCY_S = 0.1   # default bound: completion reported at most this long after the last sample
SELF_CHECK_FRACTION = 0.03     # a few per cent of full scale


@dataclass(frozen=True)
class ChannelSetup:
    """What the bench asks of one channel."""
    channel: int
    probe_ratio: float
    volts_per_div: float
    offset_v: float            # volts at the centre of the screen
    coupling: str = "DC"
    bandwidth_limit: bool = False


@dataclass(frozen=True)
class AcquisitionSetup:
    window_s: float
    sample_rate_hz: float
    pretrigger: float          # fraction of the window before the trigger


@dataclass
class ChannelApplied:
    """What the scope reports it applied, read back after configuring."""
    channel: int
    probe_ratio: float
    volts_per_div: float
    offset_v: float            # centre-screen volts, whatever the dialect
    coupling: str
    bandwidth_limit: bool

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class AcquisitionApplied:
    sample_rate_hz: float
    points: int
    window_s: float
    pretrigger: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Applied:
    voltage: ChannelApplied
    current: ChannelApplied
    acquisition: AcquisitionApplied


class Scope(ABC):
    """One oscilloscope of a family, over a Transport."""

    driver_name: str = ""
    min_volts_per_div: float = 1e-3       # at the scope's input; times the probe ratio at the probe tip

    def __init__(self, transport: Transport, idn: str = ""):
        self.t = transport
        self.idn = idn
        self.caps: Capabilities = capabilities_for(self.driver_name, idn)
        self.record_points: int | None = None      # the record length read back from the scope, where it says
        self.on_waveform: Callable[[Waveform], None] | None = None   # told a record's scaling before its data
        self._window_s = 0.0
        self.sim = None              # an in-process simulated scope served for this connection (resource "sim")

    # -- what the instrument is (instruments/capabilities.py) -------------------
    @property
    def max_channels(self) -> int:
        return self.caps.channels

    @property
    def vertical_divisions(self) -> int:
        return self.caps.vertical_divisions

    @property
    def horizontal_divisions(self) -> int:
        return self.caps.horizontal_divisions

    @property
    def ext_trigger_source(self) -> str | None:
        return self.caps.ext_trigger

    # -- identity ---------------------------------------------------------
    def identify(self) -> str:
        self.idn = self.t.query("*IDN?").strip()
        return self.idn

    def close(self) -> None:
        self.t.close()
        if self.sim is not None:
            self.sim.close()
            self.sim = None

    # -- the operations every family implements ----------------------------
    @abstractmethod
    def configure(self, voltage: ChannelSetup, current: ChannelSetup, acquisition: AcquisitionSetup,
                  extra: tuple[ChannelSetup, ...] = ()) -> Applied:
        """Apply the channels and the acquisition; return what the scope reports back. `extra` channels (a
        marker) are switched on and set up too, before the record length is chosen."""

    @abstractmethod
    def arm_single(self, trigger_channel: int | str, level_v: float) -> None:
        """Single acquisition, edge trigger rising through level_v (volts at the probe tip) on a channel or
        "ext"."""

    @abstractmethod
    def force_trigger(self) -> None: ...

    @abstractmethod
    def acquisition_done(self) -> bool:
        """Poll once: has the armed single acquisition completed?"""

    @abstractmethod
    def fetch(self, channel: int, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> Waveform:
        """The whole record of one channel, raw codes and scaling."""

    @abstractmethod
    def run(self) -> None:
        """Free-running acquisition (for the live view)."""

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def live_frame(self, channel: int) -> Waveform:
        """A screen-resolution record of the channel, fast (the scope keeps running)."""

    def _announce(self, wave: Waveform) -> None:
        """A download's scaling and its (still empty) code array are known: tell whoever streams it."""
        if self.on_waveform is not None:
            self.on_waveform(wave)

    def measured_mean_v(self, channel: int) -> float:
        """The scope's own mean measurement of the channel over the last acquisition (each dialect's own query)."""
        raise InstrumentError(f"the {self.driver_name} driver has no mean measurement for the self-check")

    def self_check(self, channel: int, wave: Waveform, window_s: float, full_scale_v: float,
                   tolerance: float = SELF_CHECK_FRACTION, mean_downloaded_v: float | None = None,
                   mean_scope_v: float | None = None) -> dict:
        """docs/method.md "Check against the instrument itself": the downloaded record against what the scope
        says of the same acquisition. Its length against the depth read back, its span against the window, its
        mean against the scope's own mean measurement (within `tolerance` of full scale; `mean_scope_v` when it
        was asked before the download, else asked now). A disagreement is an InstrumentError that names both
        values; the checks are returned for the session."""
        src = self.t.name
        n = len(wave)
        span_s = n * wave.x_increment
        out = {"points": n, "record_points": self.record_points, "span_s": span_s, "window_s": window_s}
        if self.record_points is not None and n != self.record_points:
            raise InstrumentError(f"{src}: CH{channel} downloaded {n} points but the scope's record holds "
                                  f"{self.record_points}; the driver misread the record length. Report this with "
                                  "`python main.py check --bench …`.")
        if window_s > 0 and abs(span_s - window_s) > 0.02 * window_s:
            raise InstrumentError(f"{src}: CH{channel}'s {n} points span {span_s:.6g} s but the window is "
                                  f"{window_s:.6g} s; the record length or the sample interval was misread")
        if mean_downloaded_v is None:
            mean_downloaded_v = float(np.asarray(wave.codes).mean(dtype=np.float64)) * wave.gain_v + wave.offset_v
        mean_dl = mean_downloaded_v
        mean_scope = self.measured_mean_v(channel) if mean_scope_v is None else mean_scope_v
        out.update(mean_downloaded_v=mean_dl, mean_scope_v=mean_scope, tolerance_v=tolerance * full_scale_v)
        if abs(mean_dl - mean_scope) > tolerance * full_scale_v:
            raise InstrumentError(f"{src}: CH{channel}'s downloaded record averages {mean_dl:.6g} V but the scope "
                                  f"measures {mean_scope:.6g} V on the same acquisition (allowed "
                                  f"{tolerance * full_scale_v:.3g} V); the driver misreads this model's scaling "
                                  "(offset sign, probe factor). No result was computed from it.")
        return out

    # -- shared behaviour -------------------------------------------------------
    def trigger_source(self, channel: int | str, channel_word: str = "CHANnel") -> str:
        """The dialect's name of a trigger source: a channel number, or "ext" (the external trigger input)."""
        if channel == "ext":
            if self.ext_trigger_source is None:
                raise InstrumentError(f"{self.t.name}: the {self.driver_name} driver does not trigger on the "
                                      "external input; wire the marker GPIO to a free channel and set "
                                      "marker.channel to its number")
            return self.ext_trigger_source
        self.check_channel(channel)
        return f"{channel_word}{channel}"

    def check_channel(self, channel: int) -> None:
        if not isinstance(channel, int) or not 1 <= channel <= self.max_channels:
            raise InstrumentError(f"{self.t.name}: channel {channel} does not exist on this scope "
                                  f"({self.max_channels} channels); change the channel in the bench file")

    def completion_latency_s(self) -> float:
        """A bound on how long after its record's last sample the scope may report a single acquisition complete
        (its own processing before the status changes). The capture bounds the trigger instant with it; a
        family that knows better overrides it."""
        return COMPLETION_LATENCY_S

    def wait_complete(self, timeout_s: float, cancel: threading.Event | None = None,
                      on_poll: Callable[[float], None] | None = None) -> None:
        """Poll until the single acquisition completes, the timeout passes, or cancel is set."""
        start = time.monotonic()
        while True:
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"{self.t.name}: waiting for the trigger was cancelled")
            if self.acquisition_done():
                return
            elapsed = time.monotonic() - start
            if on_poll is not None:
                on_poll(elapsed)
            if elapsed > timeout_s:
                raise TriggerTimeoutError(f"{self.t.name}: the acquisition did not complete within {timeout_s:g} s: "
                                      "no trigger. Check that the trigger level is between the idle and busy "
                                      "current, and that the workload started.")
            time.sleep(POLL_S)


class NotStickyStatus:
    """For scopes whose "triggered" status is not sticky (Rigol, Siglent): once armed, STOP means done.

    If the scope was never seen armed, STOP is believed only after the window's length plus a second, so a
    poll that lands before the scope has armed is not mistaken for a finished acquisition.
    """

    def __init__(self, armed_states: tuple[str, ...], waiting_states: tuple[str, ...] = ()):
        self.armed_states = armed_states
        self.waiting_states = waiting_states
        self.armed_at = 0.0
        self.armed_seen = False

    def armed(self) -> None:
        self.armed_at = time.monotonic()
        self.armed_seen = False

    def done(self, status: str, window_s: float, source: str, query: str) -> bool:
        if status in self.armed_states:
            self.armed_seen = True
            return False
        if status == "STOP":
            return self.armed_seen or time.monotonic() - self.armed_at > window_s + 1.0
        if status in self.waiting_states:
            return False
        expected = ", ".join(self.armed_states + self.waiting_states + ("STOP",))
        raise InstrumentError(f"{source}: the reply to {query} is {status!r}; expected one of {expected}")


def nice_volts_per_div(span_v: float, divisions: int, fill: float = 0.8) -> float:
    """The smallest 1-2-5 volts/div at which `span_v` fills at most `fill` of the screen."""
    if not span_v > 0 or not math.isfinite(span_v):
        raise InstrumentError(f"cannot range a signal span of {span_v} V")
    raw = span_v / (divisions * fill)
    decade = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * decade >= raw * (1 - 1e-9):
            return m * decade
    return 10 * decade


@dataclass(frozen=True)
class RangeProposal:
    volts_per_div: float
    offset_v: float


def propose_range(v_min: float, v_max: float, divisions: int = 8, min_span_v: float = 1e-3) -> RangeProposal:
    """Volts/div and centre so that [v_min, v_max] fills most of the screen without clipping (docs/method.md)."""
    span = max(v_max - v_min, min_span_v)
    vdiv = nice_volts_per_div(span, divisions)
    return RangeProposal(vdiv, (v_max + v_min) / 2)


def propose_trigger_level_a(idle_a: float, busy_a: float) -> float:
    """A trigger level between idle and busy current: a third of the way up from idle."""
    if busy_a <= idle_a:
        raise InstrumentError(f"the busy current ({busy_a:.4g} A) is not above the idle current ({idle_a:.4g} A); "
                              "run a load (cpu-burn) during auto-range to find a trigger level")
    return idle_a + (busy_a - idle_a) / 3
