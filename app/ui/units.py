"""Quantities as a bench operator reads and types them: SI prefixes, a fixed number of significant digits,
no float noise (360.896 mA, 10 mΩ, 2.5 mV/div, 50 kSa/s, 1 s rather than 1e+03 ms)."""

from __future__ import annotations

import math
import re

PREFIXES = {-4: "p", -3: "n", -2: "µ", -1: "m", 0: "", 1: "k", 2: "M", 3: "G"}
PREFIX_VALUE = {"p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}
NUMBER = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([pnuµmkMG]?)")


def format_si(value: float | None, unit: str, digits: int = 4, smallest_exp3: int = -4) -> str:
    """value with an SI prefix and `digits` significant digits; smallest_exp3 = 0 keeps e.g. Sa/s unprefixed
    below one."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return f"0 {unit}"
    exp3 = max(smallest_exp3, min(3, int(math.floor(math.log10(abs(value)) / 3))))
    shown = float(f"{value / 1000.0 ** exp3:.{digits}g}")
    if abs(shown) >= 1000 and exp3 < 3:                      # 999.99 ms shows as 1000: say 1 s
        exp3 += 1
        shown = float(f"{value / 1000.0 ** exp3:.{digits}g}")
    return f"{shown:g} {PREFIXES[exp3]}{unit}"


def parse_si(text: str, unit: str):
    """'2.5 mV/div', '2.5m', '0.0025' -> 0.0025 (12 significant digits: no noise from the prefix); text that is
    not a quantity is returned as it is, for the validator to name the field and what is allowed."""
    t = text.strip().replace(" ", "")
    u = unit.replace(" ", "")
    if u and t.endswith(u):
        t = t[: -len(u)]
    m = NUMBER.fullmatch(t)
    if not m:
        return text
    return float(f"{float(m.group(1)) * PREFIX_VALUE[m.group(2)]:.12g}")
