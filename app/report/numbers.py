"""Numbers as Joulebench writes them for people, everywhere: the desktop app, the command line, the HTML
report and the uncertainty budget. CSV files keep full precision (app/report/tables.py); this is for reading.

The rule (docs: a measured value is only as precise as its uncertainty):

* A value with an uncertainty u > 0: u is rounded to two significant digits, and the value to the same
  decimal place (the place of u's second significant digit). 37.6634 ± 0.6412 -> "37.66 ± 0.64";
  2418.5 ± 1110 -> "2400 ± 1100". When u rounds up to the next power of ten (0.996 -> 1.0) the place moves
  with it. Halves round away from zero, as done by hand (0.125 -> 0.13), on the decimal digits written.
* With a unit, an SI prefix is chosen from the larger of |value| and u, so the digits stay few:
  2418.5 ± 1110 J -> "2.4 ± 1.1 kJ"; 0.0036 ± 0.00021 J -> "3.60 ± 0.21 mJ".
* A value without an uncertainty (None, 0, not finite) is written with `digits` significant digits (4) and
  no dangling "±". A missing value is "" (a table's empty cell) or, with `missing`, that text.
* Never float noise, never "e+03": numbers are rounded in decimal and printed in fixed point; without a unit,
  values beyond 1e-4 … 1e7 are written as "(m ± u)e±NN" / "m e±NN" with the exponent a multiple of three.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

PREFIXES = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}
SIG_DIGITS = 4                 # a value alone
U_DIGITS = 2                   # an uncertainty
PLAIN_LOW, PLAIN_HIGH = 1e-4, 1e7   # without a unit: fixed point inside, an exponent outside


def _finite(x) -> float | None:
    if x is None or x == "" or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _round_at(x: float, place: int) -> Decimal:
    """x rounded at 10**place (place 2: hundreds; -2: hundredths), halves away from zero, in decimal."""
    return Decimal(repr(x)).quantize(Decimal(1).scaleb(place), rounding=ROUND_HALF_UP)


def _fixed(d: Decimal, place: int) -> str:
    """A decimal rounded at 10**place written in fixed point: no exponent, no noise, "-0" as "0"."""
    text = f"{d:.{max(0, -place)}f}"
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def _exp3(x: float) -> int:
    return int(math.floor(math.log10(abs(x)) / 3)) * 3 if x else 0


def _u_place(u: float) -> int:
    """The decimal place of u's second significant digit, after rounding u there."""
    place = int(math.floor(math.log10(u))) - (U_DIGITS - 1)
    if _round_at(u, place) >= Decimal(10) ** (place + U_DIGITS):      # 0.996 -> 1.0: one place to the left
        place += 1
    return place


def with_uncertainty(value, u, unit: str = "", *, missing: str = "") -> str:
    """value ± u rounded at u's second significant digit (the module's rule); unit: with an SI prefix."""
    v = _finite(value)
    if v is None:
        return missing
    uu = _finite(u)
    if uu is None or uu <= 0:
        return format_value(v, unit)
    shift = 0
    if unit:
        shift = max(-12, min(12, _exp3(max(abs(v), uu))))
    elif not (PLAIN_LOW <= max(abs(v), uu) < PLAIN_HIGH):
        shift = _exp3(max(abs(v), uu))
    vs, us = v / 10.0 ** shift, uu / 10.0 ** shift
    place = _u_place(us)
    text = f"{_fixed(_round_at(vs, place), place)} ± {_fixed(_round_at(us, place), place)}"
    if unit:
        return f"{text} {PREFIXES[shift]}{unit}"
    return f"({text})e{shift:+03d}" if shift else text


def format_value(value, unit: str = "", digits: int = SIG_DIGITS, *, missing: str = "") -> str:
    """A value alone: `digits` significant digits, with an SI prefix when it has a unit
    (0.36089583 A -> "360.9 mA"; 1600 with no unit -> "1600"; 1.6e-07 with no unit -> "160e-09")."""
    v = _finite(value)
    if v is None:
        return missing
    if v == 0:
        return f"0 {unit}" if unit else "0"
    shift = 0
    if unit:
        shift = max(-12, min(12, _exp3(v)))
    elif not (PLAIN_LOW <= abs(v) < PLAIN_HIGH):
        shift = _exp3(v)
    text = _significant(v / 10.0 ** shift, digits)
    if unit and abs(Decimal(text)) >= 1000 and shift < 12:          # 999.96 mJ rounds to 1000 mJ: say 1 J
        shift += 3
        text = _significant(v / 10.0 ** shift, digits)
    if unit:
        return f"{text} {PREFIXES[shift]}{unit}"
    return f"{text}e{shift:+03d}" if shift else text


def _significant(x: float, digits: int) -> str:
    place = int(math.floor(math.log10(abs(x)))) - (digits - 1)
    return _trim(_fixed(_round_at(x, place), place))


def _trim(text: str) -> str:
    """Trailing zeros after the point are not significant for a value alone: 360.90 -> 360.9, 10.00 -> 10."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_percent(fraction, digits: int = 3, *, missing: str = "") -> str:
    """A fraction as a percentage with `digits` significant digits: 0.5494 -> "54.9 %"."""
    f = _finite(fraction)
    return missing if f is None else f"{format_value(f * 100.0, '', digits)} %"
