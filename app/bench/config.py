"""The bench file (docs/bench-file.md): load, validate, save.

A bench file describes the oscilloscope, its two channels, the acquisition,
the target board and the uncertainty of the shunt and the channel gains.
Every value is validated on load; an error names the file, the key and what
is allowed. Nothing reaches an instrument before the whole file is valid.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from app.bench.limits import (
    check_acquisition_ranges,
    check_channel_ranges,
    check_target_ranges,
    check_text,
)
from app.errors import BenchError
from instruments.families import driver_names

DEMO_BENCH = Path(__file__).resolve().parents[2] / "resources" / "demo_bench.toml"  # the simulated bench

DRIVERS = ("auto", *driver_names())      # the family table's drivers (instruments/families.py)
COUPLINGS = ("DC", "AC")
MEASURED_AT = ("board", "supply")
TARGET_KINDS = ("ssh", "local")
TELEMETRY = ("auto", "off", "ina3221", "tegrastats", "nvml")
IDLE_MODES = ("auto", "pretrigger", "window")
MAX_CHANNEL = 8
EXT = "ext"


@dataclass(frozen=True)
class ScopeConfig:
    resource: str
    driver: str = "auto"
    timeout_s: float = 10.0
    visa_library: str = "@py"            # pyvisa-py; or the path of a vendor VISA library


@dataclass(frozen=True)
class ChannelConfig:
    channel: int
    probe_ratio: float
    volts_per_div: float
    offset_v: float
    coupling: str = "DC"
    bandwidth_limit: bool = False
    measured_at: str = "board"           # voltage channel only
    shunt_ohm: float | None = None       # current channel only
    amps_per_volt: float | None = None   # current channel only
    deskew_s: float = 0.0                # current channel only
    zero_offset_v: float | None = None   # current channel only: its reading with no current flowing, subtracted
                                         # (None: never zeroed)

    @property
    def a_per_v(self) -> float:
        """Amps per volt read on this (current) channel: 1/shunt_ohm for a shunt, the probe's A/V otherwise."""
        if (self.shunt_ohm is None) == (self.amps_per_volt is None):
            raise BenchError("give exactly one of current.shunt_ohm and current.amps_per_volt")
        factor = 1.0 / self.shunt_ohm if self.shunt_ohm is not None else self.amps_per_volt
        if not factor > 0 or not math.isfinite(factor):
            raise BenchError(f"current.shunt_ohm / amps_per_volt give {factor} A/V; it must be finite and above 0")
        return factor


@dataclass(frozen=True)
class AcquisitionConfig:
    window_s: float
    sample_rate_hz: float
    pretrigger: float
    trigger_level_a: float
    trigger_timeout_s: float = 30.0
    idle: str = "auto"                   # auto | pretrigger | window (docs/method.md, "Idle power")
    settle_s: float = 2.0                # quiet time before a dedicated idle window


@dataclass(frozen=True)
class TargetConfig:
    kind: str
    host: str = ""
    port: int | None = None
    user: str = ""
    identity_file: str = ""
    known_hosts: str = "~/.ssh/known_hosts"
    workdir: str = "~/joulebench"
    setup: tuple[str, ...] = ()
    telemetry: str = "auto"
    upload_from: tuple[str, ...] = ()        # folders beyond a workload file's own that its files may come from
    keepalive_s: float = 15.0                # an SSH link silent this long is declared lost


@dataclass(frozen=True)
class MarkerConfig:
    """A board GPIO raised at `begin` and lowered at `end`, watched by a scope channel or EXT."""
    channel: int | str                   # a channel number, or "ext"
    threshold_v: float
    high: str
    low: str


@dataclass(frozen=True)
class UncertaintyConfig:
    """Tolerances (bounds of a rectangular distribution: the analysis divides by √3)."""
    shunt_tolerance: float = 0.001
    voltage_gain_error: float = 0.01
    current_gain_error: float = 0.01
    voltage_offset_error_v: float | None = None    # residual DC offset at the scope input; None: data sheet
    current_offset_error_v: float | None = None
    warn_above: float = 0.05                       # relative expanded uncertainty above which a run is flagged


@dataclass(frozen=True)
class BenchConfig:
    """A bench. Without a scope (scope.resource = "none") voltage, current and acquisition may be None: the
    energy then comes from the target's telemetry alone (docs/method.md "Without a scope")."""
    scope: ScopeConfig
    voltage: ChannelConfig | None
    current: ChannelConfig | None
    acquisition: AcquisitionConfig | None
    target: TargetConfig
    uncertainty: UncertaintyConfig = field(default_factory=UncertaintyConfig)
    marker: MarkerConfig | None = None
    source_path: str = ""

    @property
    def has_scope(self) -> bool:
        return not is_no_scope(self.scope.resource)

    def to_toml(self) -> str:
        return dumps_bench(self)


# --------------------------------------------------------------------------
# Schema: key -> (kind, required, check, what is allowed)

def _positive(x: float) -> bool:
    return x > 0


def _non_negative(x: float) -> bool:
    return x >= 0


def _any(_: Any) -> bool:
    return True


@dataclass(frozen=True)
class _Key:
    kind: str                      # "str" | "float" | "int" | "bool" | "strlist"
    required: bool
    check: Callable[[Any], bool] = _any
    allowed: str = ""


def _choice(options: tuple[str, ...]) -> _Key:
    return _Key("str", False, lambda s: s in options, "one of " + ", ".join(f'"{o}"' for o in options))


_CHANNEL_COMMON = {
    "channel": _Key("int", True, lambda c: 1 <= c <= MAX_CHANNEL, f"an integer from 1 to {MAX_CHANNEL}"),
    "probe_ratio": _Key("float", True, _positive, "a number above 0 (e.g. 10.0 for a 10:1 probe)"),
    "volts_per_div": _Key("float", True, _positive, "a number of volts per division above 0"),
    "offset_v": _Key("float", True, math.isfinite, "the volts at the centre of the screen, a finite number"),
    "coupling": _choice(COUPLINGS),
    "bandwidth_limit": _Key("bool", False, _any, "true or false"),
}

SCHEMA: dict[str, dict[str, _Key]] = {
    "scope": {
        "resource": _Key("str", True, lambda s: s.strip() != "", 'a VISA resource such as "TCPIP::192.168.1.50::5025::SOCKET", '
                         '"sim", or "none" (no scope: energy from the target\'s telemetry alone)'),
        "driver": _choice(DRIVERS),
        "timeout_s": _Key("float", False, _positive, "a number of seconds above 0"),
        "visa_library": _Key("str", False, lambda s: s.strip() != "", '"@py" (pyvisa-py, the default) or the path '
                             "of a vendor VISA library"),
    },
    "voltage": {**_CHANNEL_COMMON, "measured_at": _choice(MEASURED_AT)},
    "current": {
        **_CHANNEL_COMMON,
        "shunt_ohm": _Key("float", False, _positive, "a resistance in ohms above 0 (e.g. 0.01)"),
        "amps_per_volt": _Key("float", False, _positive, "a current-probe sensitivity in A/V above 0"),
        "deskew_s": _Key("float", False, lambda x: abs(x) < 1.0, "a delay in seconds, between -1 and 1"),
        "zero_offset_v": _Key("float", False, lambda x: abs(x) < 10.0, "the channel's reading in volts with no "
                              "current flowing (from `python main.py zero`), between -10 and 10"),
    },
    "acquisition": {
        "window_s": _Key("float", True, _positive, "a window length in seconds above 0"),
        "sample_rate_hz": _Key("float", True, _positive, "a sample rate in Hz above 0"),
        "pretrigger": _Key("float", True, lambda x: 0.0 <= x < 1.0, "a fraction of the window from 0 up to (not including) 1"),
        "trigger_level_a": _Key("float", True, math.isfinite, "a current in amps"),
        "trigger_timeout_s": _Key("float", False, _positive, "a number of seconds above 0"),
        "idle": _choice(IDLE_MODES),
        "settle_s": _Key("float", False, _non_negative, "a number of seconds, 0 or more"),
    },
    "target": {
        "kind": _Key("str", True, lambda s: s in TARGET_KINDS, 'one of "ssh", "local"'),
        "host": _Key("str", False, _any, "a Host alias from ~/.ssh/config, a hostname or an address"),
        "port": _Key("int", False, lambda p: 1 <= p <= 65535, "a TCP port from 1 to 65535"),
        "user": _Key("str", False, _any, "a user name"),
        "identity_file": _Key("str", False, _any, "a path to a private key file, or empty"),
        "known_hosts": _Key("str", False, lambda s: s.strip() != "", "a path to a known_hosts file"),
        "workdir": _Key("str", False, lambda s: s.strip() != "", "a directory on the target"),
        "setup": _Key("strlist", False, _any, "a list of shell commands"),
        "telemetry": _choice(TELEMETRY),
        "upload_from": _Key("strlist", False, _any, "a list of folders on this computer whose files workloads may "
                            "upload (beyond each workload file's own folder)"),
        "keepalive_s": _Key("float", False, lambda x: 1 <= x <= 3600, "a number of seconds from 1 to 3600 (how long "
                            "an SSH link may stay silent before the run is declared lost)"),
    },
    "uncertainty": {
        "shunt_tolerance": _Key("float", False, lambda x: 0 <= x < 1, "a relative tolerance (a bound) from 0 up to 1 "
                                "(0.001 = 0.1 %)"),
        "voltage_gain_error": _Key("float", False, lambda x: 0 <= x < 1, "a relative tolerance (a bound) from 0 up to 1"),
        "current_gain_error": _Key("float", False, lambda x: 0 <= x < 1, "a relative tolerance (a bound) from 0 up to 1"),
        "voltage_offset_error_v": _Key("float", False, _non_negative, "a residual DC offset in volts at the scope "
                                       "input, 0 or more"),
        "current_offset_error_v": _Key("float", False, _non_negative, "a residual DC offset in volts at the scope "
                                       "input, 0 or more"),
        "warn_above": _Key("float", False, lambda x: 0 < x < 1, "a relative expanded uncertainty above 0 and "
                           "below 1 (0.05 = 5 %)"),
    },
    "marker": {
        "channel": _Key("channel", True, lambda c: c == EXT or 1 <= c <= MAX_CHANNEL,
                        f'a scope channel from 1 to {MAX_CHANNEL}, or "ext" for the external trigger input'),
        "threshold_v": _Key("float", True, math.isfinite, "the logic threshold in volts at the scope (e.g. 1.5)"),
        "high": _Key("str", True, lambda s: s.strip() != "", 'the board command that raises the GPIO, e.g. '
                     '"gpioset gpiochip0 12=1"'),
        "low": _Key("str", True, lambda s: s.strip() != "", 'the board command that lowers it, e.g. '
                    '"gpioset gpiochip0 12=0"'),
    },
}
REQUIRED_SECTIONS = ("scope", "voltage", "current", "acquisition", "target")
NO_SCOPE = "none"                    # scope.resource for a bench measured from on-board telemetry alone
NO_SCOPE_SECTIONS = ("scope", "target")
_TYPE_WORDS = {"str": "a string", "float": "a number", "int": "an integer",
               "bool": "true or false", "strlist": "a list of strings", "channel": 'an integer or "ext"'}


class _Ctx:
    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, message: str) -> BenchError:
        return BenchError(f"{self.source}: [{key}] {message}")


def _shown(value: Any) -> str:
    """The value as the message shows it: a number of absurd length by its digit count."""
    text = repr(value)
    if len(text) <= 40:
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return f"a {len(text.lstrip('-'))}-digit integer ({text[:12]}…)"
    return text[:37] + "…"


def _coerce(ctx: _Ctx, where: str, spec: _Key, value: Any) -> Any:
    kind = spec.kind
    ok = False
    if kind == "str":
        ok = isinstance(value, str)
        if ok:
            check_text(ctx.fail, where, value)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            try:
                value = float(value)
            except OverflowError:                # an integer of hundreds of digits
                raise ctx.fail(where, f"is {_shown(value)}, too large for any quantity; it must be "
                                      f"{spec.allowed}.") from None
            if not math.isfinite(value):
                raise ctx.fail(where, f"is {value}; it must be {spec.allowed}.")
    elif kind == "channel":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str)
                                                                          and value.lower() == EXT)
        if ok and isinstance(value, str):
            value = EXT
    elif kind == "strlist":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if ok:
            for k, item in enumerate(value):
                check_text(ctx.fail, f"{where}[{k}]", item)
            value = tuple(value)
    if not ok:
        raise ctx.fail(where, f"is {_shown(value)} ({type(value).__name__}); it must be "
                              f"{_TYPE_WORDS[kind]}: {spec.allowed}.")
    if not spec.check(value):
        raise ctx.fail(where, f"is {_shown(value)}; it must be {spec.allowed}.")
    return value


def _section(ctx: _Ctx, data: dict, name: str) -> dict[str, Any]:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ctx.fail(name, "must be a table ([" + name + "]).")
    schema = SCHEMA[name]
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise ctx.fail(f"{name}.{unknown[0]}", "is not a known key. Allowed keys in "
                       f"[{name}]: {', '.join(schema)}.")
    out: dict[str, Any] = {}
    for key, spec in schema.items():
        where = f"{name}.{key}"
        if key not in raw:
            if spec.required:
                raise ctx.fail(where, f"is missing; it must be {_TYPE_WORDS[spec.kind]}: {spec.allowed}.")
            continue
        out[key] = _coerce(ctx, where, spec, raw[key])
    return out


def is_no_scope(resource: str) -> bool:
    return resource.strip().lower() == NO_SCOPE


def is_simulated(resource: str) -> bool:
    """The simulated scope ("sim", "sim:PERSONA…"): its numbers show how Joulebench works, not a board."""
    return resource.strip().lower().startswith("sim")


def _check_channels(ctx: _Ctx, v: dict[str, Any], c: dict[str, Any]) -> None:
    if "zero_offset_v" in c and abs(c["zero_offset_v"]) > 5 * c["volts_per_div"] \
            * c["probe_ratio"]:
        raise ctx.fail("current.zero_offset_v", f"is {c['zero_offset_v']} V, more than five divisions of the "
                       "channel: that is not an offset but a current; measure it again with `python main.py zero` "
                       "with no current flowing.")
    if v["channel"] == c["channel"]:
        raise ctx.fail("current.channel", f"is {c['channel']}, the same channel as voltage.channel; "
                       "voltage and current must be measured on different channels.")
    has_shunt, has_apv = "shunt_ohm" in c, "amps_per_volt" in c
    if has_shunt == has_apv:
        word = "both" if has_shunt else "neither"
        raise ctx.fail("current.shunt_ohm", f"and current.amps_per_volt: {word} given; give exactly one: "
                       "shunt_ohm for a shunt resistor, amps_per_volt for a current probe.")
    if v.get("measured_at") == "supply" and not has_shunt:
        raise ctx.fail("voltage.measured_at", 'is "supply", which needs current.shunt_ohm to subtract I·R; '
                       'with a current probe, measure the voltage at the board (measured_at = "board").')


def _check_ranges(ctx: _Ctx, v: dict[str, Any] | None, c: dict[str, Any] | None, acq: dict[str, Any] | None,
                  tgt: dict[str, Any]) -> None:
    """The physical ranges of app/bench/limits.py, before anything is connected."""
    for name, ch in (("voltage", v), ("current", c)):
        if ch is not None:
            check_channel_ranges(ctx.fail, name, ch)
    if acq is not None:
        check_acquisition_ranges(ctx.fail, acq, c)
    check_target_ranges(ctx.fail, tgt)


def parse_bench(data: dict, source: str = "<bench>") -> BenchConfig:
    """Validate a parsed TOML document and build a BenchConfig."""
    ctx = _Ctx(source)
    unknown = sorted(set(data) - set(SCHEMA))
    if unknown:
        raise ctx.fail(unknown[0], "is not a known section. Allowed sections: "
                       + ", ".join(f"[{s}]" for s in SCHEMA) + ".")
    scope = ScopeConfig(**_section(ctx, data, "scope")) if isinstance(data.get("scope"), dict) \
        and "resource" in data["scope"] else None
    no_scope = scope is not None and is_no_scope(scope.resource)
    required = NO_SCOPE_SECTIONS if no_scope else REQUIRED_SECTIONS
    for name in required:
        if name not in data:
            raise ctx.fail(name, f"section is missing; a bench file needs [{'], ['.join(required)}]"
                           + ("." if no_scope else ' (or scope.resource = "none" and only [scope], [target]).'))
    if scope is None:
        scope = ScopeConfig(**_section(ctx, data, "scope"))
    v = _section(ctx, data, "voltage") if "voltage" in data else None
    c = _section(ctx, data, "current") if "current" in data else None
    acq = _section(ctx, data, "acquisition") if "acquisition" in data else None
    tgt = _section(ctx, data, "target")
    unc = _section(ctx, data, "uncertainty")
    marker = MarkerConfig(**_section(ctx, data, "marker")) if "marker" in data else None
    if no_scope:
        if marker is not None:
            raise ctx.fail("marker", 'needs a scope channel to watch the GPIO, and scope.resource is "none"; remove '
                           "[marker], or give the scope's resource.")
        if tgt.get("telemetry", "auto") == "off":
            raise ctx.fail("target.telemetry", 'is "off", and scope.resource is "none": without a scope the '
                           'on-board telemetry is the only measurement. Set it to "auto", "ina3221", '
                           '"tegrastats" or "nvml".')
        if v is not None and c is not None:
            _check_channels(ctx, v, c)
    else:
        _check_channels(ctx, v, c)
        if marker is not None and marker.channel in (v["channel"], c["channel"]):
            raise ctx.fail("marker.channel", f"is {marker.channel}, a channel already used for voltage or current; "
                           "wire the marker GPIO to a free channel or to the external trigger input (\"ext\").")
    if tgt["kind"] == "ssh" and not tgt.get("host", "").strip():
        raise ctx.fail("target.host", 'is missing; kind = "ssh" needs the board\'s host name, address '
                       "or ~/.ssh/config alias.")
    _check_ranges(ctx, v, c, acq, tgt)

    return BenchConfig(
        scope=scope,
        voltage=ChannelConfig(**v) if v is not None else None,
        current=ChannelConfig(**c) if c is not None else None,
        acquisition=AcquisitionConfig(**acq) if acq is not None else None,
        target=TargetConfig(**tgt),
        uncertainty=UncertaintyConfig(**unc),
        marker=marker,
        source_path=source,
    )


def loads_bench(text: str, source: str = "<bench>") -> BenchConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BenchError(f"{source}: not valid TOML ({exc}). Fix the syntax at that line.") from None
    return parse_bench(data, source)


def load_bench(path: str | Path) -> BenchConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchError(f"{path}: no such bench file. Check the path, or start from "
                         "resources/demo_bench.toml.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"{path}: cannot be read ({exc}).") from None
    return loads_bench(text, str(path))


# --------------------------------------------------------------------------
# Saving

_CHANNEL_ONLY = {"voltage": ("shunt_ohm", "amps_per_volt", "deskew_s", "zero_offset_v"),
                 "current": ("measured_at",)}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def bench_to_dict(bench: BenchConfig) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in SCHEMA:
        obj = getattr(bench, name)
        if obj is None:
            continue
        section = {}
        for f in dataclasses.fields(obj):
            if f.name in _CHANNEL_ONLY.get(name, ()):
                continue
            value = getattr(obj, f.name)
            if value is None:
                continue
            section[f.name] = value
        out[name] = section
    return out


def dumps_bench(bench: BenchConfig) -> str:
    lines = ["# Joulebench bench file (docs/bench-file.md)"]
    for name, section in bench_to_dict(bench).items():
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in section.items():
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def save_bench(bench: BenchConfig, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps_bench(bench), encoding="utf-8")
    tmp.replace(path)


def bench_problems(data: dict, source: str = "<bench>") -> list[BenchError]:
    """Every problem of a parsed bench document at once (the app flags each at its field): unknown sections
    and keys, missing and invalid values; the checks between fields once every value is valid on its own.
    Empty when the bench is valid."""
    ctx = _Ctx(source)
    problems: list[BenchError] = []
    for name in sorted(set(data) - set(SCHEMA)):
        problems.append(ctx.fail(name, "is not a known section. Allowed sections: "
                                 + ", ".join(f"[{s}]" for s in SCHEMA) + "."))
    scope = data.get("scope") if isinstance(data.get("scope"), dict) else {}
    no_scope = isinstance(scope.get("resource"), str) and is_no_scope(scope["resource"])
    for name, schema in SCHEMA.items():
        raw = data.get(name)
        if raw is None:
            if name in (NO_SCOPE_SECTIONS if no_scope else REQUIRED_SECTIONS):
                problems.append(ctx.fail(name, "section is missing; add it (docs/bench-file.md lists its keys)."))
            continue
        if not isinstance(raw, dict):
            problems.append(ctx.fail(name, "must be a table ([" + name + "])."))
            continue
        for key in sorted(set(raw) - set(schema)):
            problems.append(ctx.fail(f"{name}.{key}", "is not a known key. Allowed keys in "
                                     f"[{name}]: {', '.join(schema)}."))
        for key, spec in schema.items():
            where = f"{name}.{key}"
            if key not in raw:
                if spec.required:
                    problems.append(ctx.fail(where, f"is missing; it must be {_TYPE_WORDS[spec.kind]}: "
                                                    f"{spec.allowed}."))
                continue
            try:
                _coerce(ctx, where, spec, raw[key])
            except BenchError as exc:
                problems.append(exc)
    if not problems:
        try:
            parse_bench(data, source)
        except BenchError as exc:
            problems.append(exc)
    return problems
