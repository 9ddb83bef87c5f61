"""Opening both ends of a bench: the scope (instruments/) and the target board (workloads/)."""

from __future__ import annotations

from app.bench.config import BenchConfig
from app.errors import BenchError
from instruments.scope import AcquisitionSetup, ChannelSetup, Scope
from workloads.target import LocalTarget, Target


def channel_setup(ch) -> ChannelSetup:
    return ChannelSetup(channel=ch.channel, probe_ratio=ch.probe_ratio, volts_per_div=ch.volts_per_div,
                        offset_v=ch.offset_v, coupling=ch.coupling, bandwidth_limit=ch.bandwidth_limit)


def marker_setup(bench: BenchConfig) -> tuple[ChannelSetup, ...]:
    """The marker channel, when the bench has one on a channel (not EXT): a 1:1 probe, the threshold two
    divisions below centre, so a 0 V / 3.3 V GPIO stays on screen."""
    m = bench.marker
    if m is None or not isinstance(m.channel, int):
        return ()
    vdiv = max(abs(m.threshold_v), 0.5)
    return (ChannelSetup(channel=m.channel, probe_ratio=1.0, volts_per_div=vdiv, offset_v=m.threshold_v + 2 * vdiv,
                         coupling="DC", bandwidth_limit=False),)


def acquisition_setup(bench: BenchConfig) -> AcquisitionSetup:
    a = bench.acquisition
    return AcquisitionSetup(window_s=a.window_s, sample_rate_hz=a.sample_rate_hz, pretrigger=a.pretrigger)


def trigger_level_v(bench: BenchConfig) -> float:
    """The trigger level in amps as volts at the current probe's tip: the channel reads I / (A/V) plus its
    zero offset (its reading with no current flowing), so a zeroed bench's level carries the offset too."""
    return bench.acquisition.trigger_level_a / bench.current.a_per_v + (bench.current.zero_offset_v or 0.0)


def open_bench_scope(bench: BenchConfig) -> Scope:
    from instruments.detect import open_scope
    s = bench.scope
    if not bench.has_scope:
        raise BenchError(f'{bench.source_path or "the bench"}: scope.resource is "none" (energy from the board\'s '
                         "telemetry alone), and this needs a scope. Give the scope's VISA resource in the bench "
                         "file to use it.")
    return open_scope(s.resource, driver=s.driver, timeout_s=s.timeout_s, visa_library=s.visa_library)


def make_target(bench: BenchConfig, password: str | None = None) -> Target:
    t = bench.target
    if t.kind == "local":
        return LocalTarget(t.workdir)
    from workloads.ssh_target import SshTarget
    return SshTarget(t.host, port=t.port, user=t.user, identity_file=t.identity_file, known_hosts=t.known_hosts,
                     workdir=t.workdir, password=password, keepalive_s=t.keepalive_s)


def probe_bench(bench: BenchConfig, password: str | None = None) -> tuple[str, str, dict, str]:
    """Connect to both ends and change nothing: (scope *IDN?, driver, board facts, target description)."""
    if bench.has_scope:
        scope = open_bench_scope(bench)
        try:
            idn, driver = scope.idn, scope.driver_name
        finally:
            scope.close()
    else:
        idn, driver = "none (telemetry only)", "none"
    target = make_target(bench, password)
    try:
        target.connect(prepare=False)           # nothing is created or uploaded on the board
        facts = target.facts()
    finally:
        target.close()
    return idn, driver, facts, target.description
