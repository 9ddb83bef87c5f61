"""SCPI message parsing for the simulated scope.

Headers match in short or long form, any case (`:CHAN1:SCAL`, `:channel1:scale`);
a numeric suffix may follow a mnemonic (`CHANnel<n>`, 1 when left out);
`;` joins commands, and a header after `;` that does not start with `:` or
`*` continues the previous command's subsystem (IEEE 488.2 §7.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

_TOKEN = re.compile(r"^(\*?[A-Za-z_]+)(\d*)$")


class ScpiError(Exception):
    """An SCPI error to push on the error queue: code and message."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code},\"{message}\"")
        self.code = code
        self.message = message


UNDEFINED_HEADER = (-113, "Undefined header")
DATA_OUT_OF_RANGE = (-222, "Data out of range")
SETTINGS_CONFLICT = (-221, "Settings conflict")
PARAMETER_NOT_ALLOWED = (-108, "Parameter not allowed")
ILLEGAL_PARAMETER = (-224, "Illegal parameter value")


@dataclass(frozen=True)
class _PatternToken:
    short: str
    long: str
    suffix: bool


def _compile(pattern: str) -> tuple[_PatternToken, ...]:
    tokens = []
    for part in pattern.strip(":").split(":"):
        suffix = part.endswith("#")
        word = part.rstrip("#")
        tokens.append(_PatternToken(short="".join(c for c in word if c.isupper() or c == "*").upper(),
                                    long=word.upper(), suffix=suffix))
    return tuple(tokens)


Handler = Callable[[list[int], str, bool], "str | bytes | None"]


class CommandTable:
    """Patterns like ':CHANnel#:SCALe' mapped to handler(suffixes, argument, is_query)."""

    def __init__(self):
        self._entries: list[tuple[tuple[_PatternToken, ...], Handler]] = []

    def add(self, pattern: str, handler: Handler) -> None:
        """Register a pattern; a persona registering a pattern again (its own `:SINGle`) replaces the handler."""
        compiled = _compile(pattern)
        for k, (existing, _) in enumerate(self._entries):
            if existing == compiled:
                self._entries[k] = (compiled, handler)
                return
        self._entries.append((compiled, handler))

    def find(self, tokens: list[str]) -> tuple[Handler, list[int]] | None:
        parsed = []
        for tok in tokens:
            m = _TOKEN.match(tok)
            if not m:
                return None
            parsed.append((m.group(1).upper(), m.group(2)))
        for pattern, handler in self._entries:
            if len(pattern) != len(parsed):
                continue
            suffixes = []
            for pt, (word, digits) in zip(pattern, parsed):
                if word not in (pt.short, pt.long):
                    break
                if digits and not pt.suffix:
                    break
                if pt.suffix:
                    suffixes.append(int(digits) if digits else 1)
            else:
                return handler, suffixes
        return None


def split_message(line: str) -> list[tuple[list[str], str, bool]]:
    """One message line → [(header tokens, argument, is_query)], resolving relative headers."""
    out = []
    prefix: list[str] = []
    for unit in line.split(";"):
        unit = unit.strip()
        if not unit:
            continue
        header, _, arg = unit.partition(" ")
        is_query = header.endswith("?")
        header = header.rstrip("?")
        if header.startswith("*"):
            tokens = [header]
        elif header.startswith(":"):
            tokens = [t for t in header[1:].split(":")]
            prefix = tokens[:-1]
        else:
            tokens = prefix + header.split(":")
            prefix = tokens[:-1]
        out.append((tokens, arg.strip(), is_query))
    return out


def parse_float(arg: str) -> float:
    try:
        value = float(arg)
    except ValueError:
        raise ScpiError(*ILLEGAL_PARAMETER) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ScpiError(*ILLEGAL_PARAMETER)
    return value


def parse_bool(arg: str) -> bool:
    a = arg.strip().upper()
    if a in ("1", "ON"):
        return True
    if a in ("0", "OFF"):
        return False
    raise ScpiError(*ILLEGAL_PARAMETER)


def choice(arg: str, options: dict[str, str]) -> str:
    """Match an enumerated argument in short or long form: options {LONGform: canonical}."""
    a = arg.strip().upper()
    for long, canonical in options.items():
        short = "".join(c for c in long if c.isupper())
        if a in (long.upper(), short):
            return canonical
    raise ScpiError(*ILLEGAL_PARAMETER)
