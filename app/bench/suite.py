"""Suite files (docs/campaigns.md): workloads or parameter sets compared under the same conditions.

    name = "heat-slab backends"
    repeats = 5                 # runs per entry
    order = "interleaved"       # interleaved (a b c a b c …) | blocked (a a a b b b …) | shuffled
    seed = 1                    # for shuffled
    settle = "idle"             # idle | none | a number of seconds
    settle_s = 5.0
    ranging = "first"           # first | none
    windows = 3

    [[entry]]
    label = "numpy"
    workload = "heat-slab-numpy"      # a built-in name or a workload file, relative to this file
    params = { trials = 5000 }

Validated like bench files: an error names the file, the key and what is allowed.
"""

from __future__ import annotations

import math
import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import BenchError
from workloads.errors import WorkloadError
from workloads.spec import WorkloadSpec, find_workload, load_workload

BUILTIN_SUITES = Path(__file__).resolve().parents[2] / "resources" / "suites"
ORDERS = ("interleaved", "blocked", "shuffled")
RANGING = ("first", "none")
_KEYS = {"name", "repeats", "order", "seed", "settle", "settle_s", "ranging", "windows", "entry"}
_ENTRY_KEYS = {"label", "workload", "params"}


@dataclass(frozen=True)
class Entry:
    label: str
    workload: WorkloadSpec
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    entries: tuple[Entry, ...]
    repeats: int = 3
    order: str = "interleaved"
    seed: int = 1
    settle: str | float = "idle"          # "idle" | "none" | seconds
    settle_s: float = 5.0
    ranging: str = "first"
    windows: int = 3
    toml_text: str = ""
    source_path: str = ""

    def order_of_runs(self) -> list[str]:
        """The labels in the order they run (scored runs only)."""
        labels = [e.label for e in self.entries]
        if self.order == "blocked":
            return [lab for lab in labels for _ in range(self.repeats)]
        if self.order == "interleaved":
            return [lab for _ in range(self.repeats) for lab in labels]
        runs = [lab for lab in labels for _ in range(self.repeats)]
        random.Random(self.seed).shuffle(runs)
        return runs

    def entry(self, label: str) -> Entry:
        return next(e for e in self.entries if e.label == label)


def _fail(source: str, key: str, message: str) -> BenchError:
    return BenchError(f"{source}: [{key}] {message}")


def parse_suite(data: dict, source: str, base_dir: Path, text: str = "") -> Suite:
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"is not a known key. Allowed keys: {', '.join(sorted(_KEYS))}.")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(source, "name", "is missing; a suite needs a name (text).")
    ints = {}
    for key, default, low in (("repeats", 3, 1), ("seed", 1, None), ("windows", 3, 0)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
            raise _fail(source, key, f"is {value!r}; it must be a whole number" + (f" of {low} or more." if low is not None
                                                                                 else "."))
        ints[key] = value
    order = data.get("order", "interleaved")
    if order not in ORDERS:
        raise _fail(source, "order", f"is {order!r}; it must be one of {', '.join(ORDERS)}.")
    ranging = data.get("ranging", "first")
    if ranging not in RANGING:
        raise _fail(source, "ranging", f"is {ranging!r}; it must be one of {', '.join(RANGING)}.")
    settle = data.get("settle", "idle")
    if isinstance(settle, bool) or not (settle in ("idle", "none") or (isinstance(settle, (int, float))
                                                                      and math.isfinite(settle) and settle >= 0)):
        raise _fail(source, "settle", f'is {settle!r}; it must be "idle", "none" or a number of seconds (0 or more).')
    settle_s = data.get("settle_s", 5.0)
    if isinstance(settle_s, bool) or not isinstance(settle_s, (int, float)) or not settle_s > 0:
        raise _fail(source, "settle_s", f"is {settle_s!r}; it must be a number of seconds above 0.")
    raw_entries = data.get("entry")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise _fail(source, "entry", "is missing; a suite needs at least one [[entry]] table.")
    entries = []
    for k, raw in enumerate(raw_entries):
        where = f"entry[{k}]"
        if not isinstance(raw, dict):
            raise _fail(source, where, "must be a table ([[entry]]).")
        bad = sorted(set(raw) - _ENTRY_KEYS)
        if bad:
            raise _fail(source, f"{where}.{bad[0]}", f"is not a known key. Allowed: {', '.join(sorted(_ENTRY_KEYS))}.")
        label = raw.get("label")
        if not isinstance(label, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.+-]*", label or ""):
            raise _fail(source, f"{where}.label", f"is {label!r}; a label is text of letters, digits, ' ', '_', '.', "
                                                  "'+' and '-'.")
        if any(e.label == label for e in entries):
            raise _fail(source, f"{where}.label", f"{label!r} is used twice; each entry needs its own label.")
        ref = raw.get("workload")
        if not isinstance(ref, str) or not ref.strip():
            raise _fail(source, f"{where}.workload", "is missing; name a built-in workload or a workload file.")
        try:
            candidate = base_dir / ref
            spec = load_workload(candidate) if candidate.suffix == ".toml" and candidate.is_file() else \
                find_workload(ref)
        except WorkloadError as exc:
            raise _fail(source, f"{where}.workload", f"{exc}") from None
        params = raw.get("params", {})
        if not isinstance(params, dict):
            raise _fail(source, f"{where}.params", "must be a table of parameter values.")
        try:
            spec.render_command(params)
        except WorkloadError as exc:
            raise _fail(source, f"{where}.params", str(exc)) from None
        entries.append(Entry(label, spec, {k: v for k, v in params.items()}))
    return Suite(name=name, entries=tuple(entries), repeats=ints["repeats"], order=order, seed=ints["seed"],
                 settle=settle if isinstance(settle, str) else float(settle), settle_s=float(settle_s),
                 ranging=ranging, windows=ints["windows"], toml_text=text, source_path=source)


def load_suite(name_or_path: str | Path) -> Suite:
    """A built-in suite by name (resources/suites/NAME.toml), or any suite file."""
    path = Path(name_or_path)
    builtin = BUILTIN_SUITES / f"{name_or_path}.toml"
    if not path.is_file() and builtin.is_file():
        path = builtin
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        names = ", ".join(p.stem for p in sorted(BUILTIN_SUITES.glob("*.toml")))
        raise BenchError(f"{path}: no such suite file; the built-in suites are {names}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"{path}: cannot be read ({exc}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BenchError(f"{path}: not valid TOML ({exc}). Fix the syntax at that line.") from None
    return parse_suite(data, str(path), path.resolve().parent, text)
