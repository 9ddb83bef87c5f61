"""Checking what a scope replies: numbers, preambles, error queues.

A reply that is not what the dialect promises is an InstrumentError naming
the command and the reply, never a ValueError deep in a driver.
"""

from __future__ import annotations

import math
import re

from instruments.errors import InstrumentError
from instruments.transport import Transport

_NO_ERROR = re.compile(r"^\s*[+]?0\s*(,|$)")


def number(reply: str, what: str, source: str = "scope") -> float:
    """A finite float from a reply such as '1.000E-03' or '+19.0'."""
    text = reply.strip().strip('"')
    try:
        value = float(text)
    except ValueError:
        raise InstrumentError(f"{source}: the reply to {what} is {reply!r}, not a number") from None
    if not math.isfinite(value) or abs(value) >= 9.9e37:     # SCPI's 9.91E37 means "not a number"
        raise InstrumentError(f"{source}: the reply to {what} is {reply!r}, not a usable number")
    return value


def integer(reply: str, what: str, source: str = "scope") -> int:
    value = number(reply, what, source)
    if value != int(value):
        raise InstrumentError(f"{source}: the reply to {what} is {reply!r}, not a whole number")
    return int(value)


def boolean(reply: str, what: str, source: str = "scope") -> bool:
    text = reply.strip().upper()
    if text in ("1", "ON", "+1"):
        return True
    if text in ("0", "OFF", "+0"):
        return False
    raise InstrumentError(f"{source}: the reply to {what} is {reply!r}, not on/off")


def fields(reply: str, count: int, what: str, source: str = "scope") -> list[float]:
    """A comma-separated list of `count` finite numbers (a preamble)."""
    parts = [p for p in reply.strip().split(",")]
    if len(parts) != count:
        raise InstrumentError(f"{source}: the reply to {what} has {len(parts)} fields where {count} were "
                              f"expected ({reply[:120]!r}); the scope's firmware may speak another dialect — "
                              "choose the driver explicitly in the bench file")
    return [number(p, f"{what} field {k + 1}", source) for k, p in enumerate(parts)]


def fmt(value: float) -> str:
    """A number as a SCPI argument, without losing precision that matters."""
    return f"{value:.10g}"


def drain_errors(t: Transport, query: str = ":SYSTem:ERRor?", limit: int = 20) -> list[str]:
    """Read the error queue until it says no error; return the errors found."""
    found = []
    for _ in range(limit):
        reply = t.query(query)
        if _NO_ERROR.match(reply):
            return found
        found.append(reply.strip())
    return found


def set_checked(t: Transport, command: str, query: str = ":SYSTem:ERRor?") -> None:
    """Send a setting and read the error queue; a refusal names the setting and the scope's text."""
    t.write(command)
    errors = drain_errors(t, query)
    if errors:
        raise InstrumentError(f"{t.name}: the scope refused {command!r}: {'; '.join(errors)}. Change that "
                              "setting in the bench file to one the scope supports.")


PREAMBLE_FIELDS = ("format", "type", "points", "count", "xincrement", "xorigin", "xreference", "yincrement",
                   "yorigin", "yreference")


def ten_field_preamble(reply: str, source: str = "scope") -> dict[str, float]:
    """`:WAVeform:PREamble?` of Keysight and Rigol: ten named numbers, increments checked."""
    values = dict(zip(PREAMBLE_FIELDS, fields(reply, 10, ":WAVeform:PREamble?", source)))
    if values["xincrement"] <= 0 or values["yincrement"] == 0:
        raise InstrumentError(f"{source}: the preamble's increments (x {values['xincrement']}, y "
                              f"{values['yincrement']}) are unusable")
    return values
