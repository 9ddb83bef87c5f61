"""Physical ranges of a bench file's values, checked before anything is connected (docs/bench-file.md,
"Ranges").

Each value is first checked on its own by the schema (app/bench/config.py); these are the checks of what a
real bench can be: a sample rate and record that some supported scope can acquire, a window that holds a run,
a deskew and a settle time that make sense against the window and the run, a trigger level the current
channel can show, a shunt or probe of a plausible size. Every message names the key, the value, the range and
why. The bounds are wide on purpose: they refuse nonsense (a typo, a unit slip of 10^6), not unusual benches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# the widest any supported scope family offers (instruments/families.py: Keysight InfiniiVision, Rigol, Tektronix
# MSO, Siglent, R&S), with room to spare
MAX_SAMPLE_RATE_HZ = 25e9         # 25 GSa/s (Tektronix MSO6B); the others top out at 5 GSa/s
MAX_RECORD_POINTS = 2e9           # 2 Gpts (R&S MXO); most hold 4 to 62.5 Mpts
MIN_WINDOW_SAMPLES = 1000         # fewer cannot hold an idle stretch, the launch and the run at once
MAX_WINDOW_S = 10_000.0           # 1000 s/div on ten divisions
MAX_SETTLE_S = 3600.0             # the board left alone before an idle window: an hour at most
MAX_TIMEOUT_S = 86_400.0          # a day
SCREEN_DIVISIONS = 10             # the widest screen (Tektronix: 10 vertical divisions; the others 8)
SHUNT_OHM_RANGE = (1e-5, 100.0)   # 10 µΩ (a 100 A metal strip) to 100 Ω (µA ranges)
AMPS_PER_VOLT_RANGE = (1e-3, 1e4)  # current probes and amplifiers: 1 mA/V to 10 kA/V
VOLTS_PER_DIV_RANGE = (1e-4, 1e3)
PROBE_RATIO_RANGE = (1e-3, 1e4)
MAX_DESKEW_FRACTION = 0.01        # of the window: probe delays are ns to µs; a deskew near the window is a slip
MAX_DESKEW_S = 1e-3

Fail = Callable[[str, str], Exception]


def _in(x: float, lo_hi: tuple[float, float]) -> bool:
    return lo_hi[0] <= x <= lo_hi[1]


def check_channel_ranges(fail: Fail, name: str, ch: dict[str, Any]) -> None:
    if not _in(ch["volts_per_div"], VOLTS_PER_DIV_RANGE):
        raise fail(f"{name}.volts_per_div", f"is {ch['volts_per_div']:g} V/div; scopes offer "
                   f"{VOLTS_PER_DIV_RANGE[0]:g} to {VOLTS_PER_DIV_RANGE[1]:g} V/div (with the probe ratio).")
    if not _in(ch["probe_ratio"], PROBE_RATIO_RANGE):
        raise fail(f"{name}.probe_ratio", f"is {ch['probe_ratio']:g}; probes are {PROBE_RATIO_RANGE[0]:g}:1 to "
                   f"{PROBE_RATIO_RANGE[1]:g}:1 (10.0 for a 10:1 probe).")
    if abs(ch["offset_v"]) > 1e6:
        raise fail(f"{name}.offset_v", f"is {ch['offset_v']:g} V; no scope offsets a channel by more than a "
                   "megavolt. Give the volts at the centre of the screen.")
    if "shunt_ohm" in ch and not _in(ch["shunt_ohm"], SHUNT_OHM_RANGE):
        raise fail(f"{name}.shunt_ohm", f"is {ch['shunt_ohm']:g} ohm; a current shunt is {SHUNT_OHM_RANGE[0]:g} to "
                   f"{SHUNT_OHM_RANGE[1]:g} ohm (0.01 for 10 mΩ). Check the unit: ohms, not milliohms.")
    if "amps_per_volt" in ch and not _in(ch["amps_per_volt"], AMPS_PER_VOLT_RANGE):
        raise fail(f"{name}.amps_per_volt", f"is {ch['amps_per_volt']:g} A/V; current probes are "
                   f"{AMPS_PER_VOLT_RANGE[0]:g} to {AMPS_PER_VOLT_RANGE[1]:g} A/V.")


def check_acquisition_ranges(fail: Fail, acq: dict[str, Any], current: dict[str, Any] | None) -> None:
    rate, window = acq["sample_rate_hz"], acq["window_s"]
    if rate > MAX_SAMPLE_RATE_HZ:
        raise fail("acquisition.sample_rate_hz", f"is {rate:g} Hz; no supported scope samples faster than "
                   f"{MAX_SAMPLE_RATE_HZ:g} Hz (most: 1 to 5 GSa/s). Check the unit: Hz, not kHz or MHz.")
    if window > MAX_WINDOW_S:
        raise fail("acquisition.window_s", f"is {window:g} s; no scope's timebase spans more than "
                   f"{MAX_WINDOW_S:g} s. Give one window's length in seconds.")
    points = rate * window
    if points > MAX_RECORD_POINTS:
        raise fail("acquisition.sample_rate_hz", f"and acquisition.window_s ask for {points:.3g} samples a window; "
                   f"no supported scope holds more than {MAX_RECORD_POINTS:g}. Lower the rate or the window.")
    if points < MIN_WINDOW_SAMPLES:
        raise fail("acquisition.sample_rate_hz", f"gives only {points:.3g} samples in acquisition.window_s "
                   f"({window:g} s at {rate:g} Hz); at least {MIN_WINDOW_SAMPLES} samples per window are needed "
                   "to hold the idle stretch, the launch and the run.")
    if acq.get("settle_s", 0.0) > MAX_SETTLE_S:
        raise fail("acquisition.settle_s", f"is {acq['settle_s']:g} s; the board is left alone before an idle "
                   f"window for at most {MAX_SETTLE_S:g} s (2 s is usual).")
    if acq.get("trigger_timeout_s", 0.0) > MAX_TIMEOUT_S:
        raise fail("acquisition.trigger_timeout_s", f"is {acq['trigger_timeout_s']:g} s; at most {MAX_TIMEOUT_S:g} "
                   "s (a day).")
    if current is None:
        return
    deskew = current.get("deskew_s", 0.0)
    limit = min(MAX_DESKEW_S, MAX_DESKEW_FRACTION * window)
    if abs(deskew) > limit:
        raise fail("current.deskew_s", f"is {deskew:g} s against a {window:g} s window; the delay between the "
                   f"probes is at most {limit:g} s (1 % of the window, 1 ms at most: probe delays are "
                   "nanoseconds to microseconds). Check the unit: seconds.")
    a_per_v = 1.0 / current["shunt_ohm"] if "shunt_ohm" in current else current.get("amps_per_volt")
    if a_per_v:
        # the level in volts at the current probe's tip (app/bench/connections.py trigger_level_v) against the
        # screen: the centre offset_v plus and minus half the widest screen's divisions
        level_v = acq["trigger_level_a"] / a_per_v + (current.get("zero_offset_v") or 0.0)
        half = SCREEN_DIVISIONS / 2 * current["volts_per_div"]
        lo, hi = current["offset_v"] - half, current["offset_v"] + half
        if not lo <= level_v <= hi:
            raise fail("acquisition.trigger_level_a", f"is {acq['trigger_level_a']:g} A, which reads "
                       f"{level_v:.4g} V on the current channel; the channel shows {lo:.4g} to {hi:.4g} V "
                       f"({lo * a_per_v:.4g} to {hi * a_per_v:.4g} A), so the trigger could never fire. Set it "
                       "between the idle and the busy current (Auto-range proposes one), or widen the channel.")


def check_target_ranges(fail: Fail, tgt: dict[str, Any]) -> None:
    host = tgt.get("host", "")
    if host and (any(ch.isspace() or ord(ch) < 32 for ch in host) or host.startswith("-")):
        raise fail("target.host", f"is {host!r}; a host name, address or ~/.ssh/config alias has no spaces or "
                   "control characters and does not start with '-'.")


def check_text(fail: Fail, where: str, value: str) -> None:
    """No NUL byte in any text of the bench file: no path, host or command can hold one."""
    at = value.find("\x00")
    if at >= 0:
        raise fail(where, f"holds a NUL character (\\x00) at character {at + 1}: {value[:at]!r}…; no path, host "
                   "or command can contain one. Remove it (it is often left by a bad copy or a binary editor).")
