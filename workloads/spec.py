"""Workload files (docs/workloads.md), validated like the bench file.

    name = "heat-slab-numpy"
    description = "…"
    files = ["../scripts/heat_slab.py"]          # relative to this file; uploaded to the workdir
    command = "python3 heat_slab.py --backend numpy --trials {trials} --timesteps {timesteps} --warmup 3"
    timeout_s = 7200
    expected_duration_s = 60                     # optional
    units = "trials"                             # optional: the unit of work (the end event may say otherwise)
    units_count = "{trials}"                     # optional: a number, or a product of params ("{batch} * {n}")
    [params]                                     # optional: defaults of the {placeholders} in command
    trials = 5000

A parameter's value is always shell-quoted where it is put into the command:
nothing in a parameter reaches a shell unquoted.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workloads.errors import WorkloadError

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KEYS = {"name", "description", "files", "command", "timeout_s", "expected_duration_s", "params", "units",
         "units_count"}
_PRODUCT = re.compile(r"\s*(\{[A-Za-z_][A-Za-z0-9_]*\}|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)"
                      r"(\s*\*\s*(\{[A-Za-z_][A-Za-z0-9_]*\}|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?))*\s*")


@dataclass(frozen=True)
class WorkloadSpec:
    name: str
    command: str
    description: str = ""
    files: tuple[Path, ...] = ()
    timeout_s: float = 3600.0
    expected_duration_s: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    source_path: str = ""
    toml_text: str = ""
    base_dir: Path | None = None              # the workload file's folder: where its files may come from
    units: str | None = None                  # the unit of work (tokens, images, GOp …), when the file names one
    units_count: float | str | None = None    # a number, or a product of params such as "{batch} * {batches}"

    def count_of_units(self, overrides: dict[str, Any] | None = None) -> float | None:
        """The file's count of units with the run's parameters (None when it gives none, or a parameter in the
        product is not a number)."""
        if self.units_count is None or isinstance(self.units_count, (int, float)):
            return None if self.units_count is None else float(self.units_count)
        values = {**self.params, **(overrides or {})}
        product = 1.0
        for factor in self.units_count.split("*"):
            factor = factor.strip()
            m = _PLACEHOLDER.fullmatch(factor)
            try:
                product *= float(values[m.group(1)]) if m else float(factor)
            except (KeyError, TypeError, ValueError):
                return None
        return product if math.isfinite(product) and product > 0 else None

    def files_outside(self, extra_roots: tuple[str, ...] = ()) -> list[Path]:
        """Files that lie outside the workload file's folder and the extra roots the bench allows. The built-in
        workloads may use the project's own workload scripts."""
        roots = [self.base_dir] if self.base_dir else []
        if self.base_dir is not None and self.base_dir.resolve() == BUILTIN_DIR.resolve():
            roots.append(BUILTIN_DIR.parent)
        roots += [Path(os.path.expanduser(r)).resolve() for r in extra_roots]
        return [f for f in self.files if not any(_inside(f, r) for r in roots)]

    def render_command(self, overrides: dict[str, Any] | None = None) -> str:
        """The command with every {param} replaced by its shell-quoted value."""
        values = dict(self.params)
        for key, value in (overrides or {}).items():
            if key not in self.params:
                raise WorkloadError(f"workload {self.name!r} has no parameter {key!r}; it has: "
                                    f"{', '.join(self.params) or 'none'}")
            values[key] = value
        return _PLACEHOLDER.sub(lambda m: shlex.quote(str(values[m.group(1)])) if m.group(1) in values
                                else m.group(0), self.command)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def check_placeholders_are_words(command: str, source: str) -> None:
    """Every {placeholder} must stand as a whole shell word: its value is shell-quoted where it goes in, and a
    quoted value inside double quotes (or glued to other text) would let `$(…)` through."""
    names = _PLACEHOLDER.findall(command)
    if not names:
        return
    marked = _PLACEHOLDER.sub(lambda m: f"JBPARAM{m.group(1)}JBEND", command)
    try:
        words = shlex.split(marked, posix=False)
    except ValueError as exc:
        raise _fail(source, "command", f"cannot be split into shell words ({exc}); check its quotes.") from None
    for name in names:
        token = f"JBPARAM{name}JBEND"
        if not any(w == token for w in words) or any(token in w and w != token for w in words):
            raise _fail(source, "command", f"uses {{{name}}} inside quotes or joined to other text; a placeholder "
                                           f"must be a whole shell word (e.g. `--{name} {{{name}}}`), because its "
                                           "value is shell-quoted where it goes in.")


def _fail(source: str, key: str, message: str) -> WorkloadError:
    return WorkloadError(f"{source}: [{key}] {message}")


def parse_workload(data: dict, source: str, base_dir: Path, text: str = "") -> WorkloadSpec:
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"is not a known key. Allowed keys: {', '.join(sorted(_KEYS))}.")
    for key in ("name", "command"):
        if key not in data:
            raise _fail(source, key, "is missing; a workload needs a name and a command.")
        if not isinstance(data[key], str) or not data[key].strip():
            raise _fail(source, key, f"is {data[key]!r}; it must be a non-empty string.")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", data["name"]):
        raise _fail(source, "name", f"is {data['name']!r}; use letters, digits, '-', '_' and '.'.")
    check_placeholders_are_words(data["command"], source)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _fail(source, "description", "must be a string.")
    files = data.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) and f.strip() for f in files):
        raise _fail(source, "files", f"is {files!r}; it must be a list of file paths.")
    paths = []
    for f in files:
        p = (base_dir / f).resolve()
        if not p.is_file():
            raise _fail(source, "files", f"names {f!r}, which is not a file ({p}); fix the path (it is relative "
                                         "to the workload file).")
        paths.append(p)
    names = [p.name for p in paths]
    if len(set(names)) != len(names):
        raise _fail(source, "files", "names two files with the same name; they would overwrite each other in "
                                     "the workdir.")
    numbers = {}
    for key in ("timeout_s", "expected_duration_s"):
        if key in data:
            v = data[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise _fail(source, key, f"is {v!r}; it must be a number of seconds above 0.")
            numbers[key] = float(v)
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise _fail(source, "params", "must be a table of parameter defaults.")
    for key, value in params.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise _fail(source, f"params.{key}", "is not a valid parameter name (letters, digits, '_').")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _fail(source, f"params.{key}", f"is {value!r}; a parameter is a string or a number.")
    units, units_count = _units(data, source, params)
    return WorkloadSpec(name=data["name"], command=data["command"], description=description, files=tuple(paths),
                        timeout_s=numbers.get("timeout_s", 3600.0),
                        expected_duration_s=numbers.get("expected_duration_s"), params=dict(params),
                        source_path=source, toml_text=text, base_dir=Path(base_dir).resolve(), units=units,
                        units_count=units_count)


def _units(data: dict, source: str, params: dict) -> tuple[str | None, float | str | None]:
    """The file's `units` (a short name) and `units_count` (a number above 0, or a product of numbers and
    {params} such as "{batch} * {batches}", each param one the file declares)."""
    units = data.get("units")
    if units is not None and not (isinstance(units, str) and units.strip() and len(units) <= 40):
        raise _fail(source, "units", f"is {units!r}; name the unit of work, e.g. \"tokens\", \"images\", \"GOp\".")
    count = data.get("units_count")
    if count is None:
        return units, None
    if units is None:
        raise _fail(source, "units_count", "is given without `units`; say what is counted (units = \"images\").")
    if isinstance(count, bool) or not isinstance(count, (int, float, str)):
        raise _fail(source, "units_count", f"is {count!r}; give a number or a product such as \"{{batch}} * 8\".")
    if isinstance(count, (int, float)):
        if not (math.isfinite(count) and count > 0):
            raise _fail(source, "units_count", f"is {count!r}; a count must be above 0.")
        return units, float(count)
    if not _PRODUCT.fullmatch(count):
        raise _fail(source, "units_count", f"is {count!r}; only numbers and {{params}} joined by `*` are allowed, "
                                           "e.g. \"{batch} * {batches}\".")
    missing = [n for n in _PLACEHOLDER.findall(count) if n not in params]
    if missing:
        raise _fail(source, "units_count", f"uses {{{missing[0]}}}, which is not in [params].")
    return units, count


def load_workload(path: str | Path) -> WorkloadSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkloadError(f"{path}: no such workload file. `python main.py workloads` lists the built-in ones.") \
            from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError(f"{path}: cannot be read ({exc}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkloadError(f"{path}: not valid TOML ({exc}).") from None
    return parse_workload(data, str(path), path.resolve().parent, text)


def builtin_workloads() -> list[WorkloadSpec]:
    return [load_workload(p) for p in sorted(BUILTIN_DIR.glob("*.toml"))]


def find_workload(name_or_path: str) -> WorkloadSpec:
    """A built-in workload by name, or any workload file by path."""
    candidate = BUILTIN_DIR / f"{name_or_path}.toml"
    if "/" not in name_or_path and not name_or_path.endswith(".toml") and candidate.is_file():
        return load_workload(candidate)
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return load_workload(path)
    names = ", ".join(w.name for w in builtin_workloads())
    raise WorkloadError(f"no workload {name_or_path!r}: not a built-in ({names}) and not a file.")
