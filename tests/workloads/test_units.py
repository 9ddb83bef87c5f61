"""Units of work: what a workload declares (end and phase events, the workload file) and the J per unit, units
per second and phases worked out from a run's energy (workloads/protocol.py, workloads/spec.py,
app/measure/units.py). Figures by hand."""

from pathlib import Path

import pytest

from app.measure.units import resolve_units, units_record
from workloads.errors import WorkloadError
from workloads.protocol import ProtocolState, emit
from workloads.spec import parse_workload


def fed(*lines):
    p = ProtocolState()
    for line in lines:
        p.feed(line)
    return p


def test_end_declares_units_count_and_latency():
    p = fed(emit("begin", 10.0), emit("end", 14.0, units="images", count=2048, latency_s=0.05, ops=3e12))
    rec = units_record(p, 512.0, 20.0, 4.0)
    # 512 J / 2048 images = 0.25 J/image; ±20 J -> ±20/2048; 2048 images in 4 s = 512 images/s
    assert rec["units"] == "images" and rec["units_count"] == 2048 and rec["units_source"] == "end event"
    assert rec["j_per_unit"] == 0.25 and rec["j_per_unit_uncertainty"] == pytest.approx(20 / 2048)
    assert rec["units_per_s"] == 512.0 and rec["latency_s"] == 0.05 and rec["phases"] == []


def test_without_units_the_gop_stay():
    p = fed(emit("begin", 0.0), emit("end", 2.0, ops=4e9))
    work = resolve_units(p)
    assert (work.units, work.count, work.source) == ("GOp", 4.0, "ops")
    assert units_record(p, 10.0, 1.0, 2.0)["j_per_unit"] == 2.5       # 10 J / 4 GOp


@pytest.mark.parametrize("fields,warning", [
    ({"units": "", "count": 3}, "units"), ({"units": "tokens", "count": 0}, "count"),
    ({"units": "tokens", "count": True}, "count"), ({"units": "tokens", "count": 3, "latency_s": -1}, "latency"),
    ({"phases": [1, 2]}, "phases"), ({"phases": {"decode": {"count": "many"}}}, "phases.decode.count"),
])
def test_bad_units_become_warnings(fields, warning):
    p = fed(emit("begin", 0.0), emit("end", 1.0, **fields))
    assert any(warning in w for w in p.warnings), p.warnings
    assert p.end is not None


def test_repeated_phases_are_summed_by_name():
    # prefill [0, 1] and [3, 3.5], decode [1, 3] and [3.5, 6]: prefill 1.5 s, decode 4.5 s
    p = fed(emit("begin", 0.0),
            emit("phase", 0.0, name="prefill", units="tokens", count=100, latency_s=0.2),
            emit("phase", 1.0, name="decode", units="tokens", count=30),
            emit("phase", 3.0, name="prefill", units="tokens", count=100, latency_s=0.4),
            emit("phase", 3.5, name="decode", units="tokens", count=30),
            emit("end", 6.0, units="tokens", count=260))
    phases = p.phase_summary()
    assert list(phases) == ["prefill", "decode"]
    assert phases["prefill"].duration_s == 1.5 and phases["decode"].duration_s == 4.5
    assert phases["prefill"].count == 200 and phases["prefill"].latency_s == pytest.approx(0.3)
    # power 100 W throughout: the energy over a stretch is 100 W × its length, ±1 J a stretch (added linearly)
    rec = units_record(p, 600.0, 10.0, 6.0, coverage_k=2.0, energy_between=lambda t0, t1: (100.0 * (t1 - t0), 1.0))
    pre, dec = rec["phases"]
    assert (pre["energy_j"], pre["j_per_unit"], pre["uncertainty_j"]) == (150.0, 0.75, 4.0)
    assert (dec["energy_j"], dec["j_per_unit"], dec["units_per_s"]) == (450.0, 7.5, pytest.approx(60 / 4.5))
    assert dec["avg_power_w"] == 100.0 and pre["stretches"] == 2


def test_a_phase_without_energy_keeps_its_count_and_duration():
    p = fed(emit("begin", 0.0), emit("phase", 0.0, name="all", units="images", count=64), emit("end", 2.0))
    (ph,) = units_record(p, 10.0, 1.0, 2.0)["phases"]
    assert ph["energy_j"] is None and ph["units_per_s"] == 32.0


def workload(**extra):
    data = {"name": "w", "command": "python3 x.py --batch {batch} --batches {batches}",
            "params": {"batch": 8, "batches": 4}, **extra}
    return parse_workload(data, "w.toml", Path("."))


def test_the_workload_file_may_declare_units_and_a_product_of_params():
    spec = workload(units="images", units_count="{batch} * {batches} * 2")
    assert spec.count_of_units() == 64.0 and spec.count_of_units({"batch": "16"}) == 128.0
    p = fed(emit("begin", 0.0), emit("end", 4.0))
    rec = units_record(p, 32.0, 1.0, 4.0, spec=spec, params={"batch": 16})
    assert (rec["units"], rec["units_count"], rec["j_per_unit"]) == ("images", 128.0, 0.25)
    assert rec["units_source"] == "workload file"


@pytest.mark.parametrize("extra,key", [
    ({"units_count": 5}, "units_count"), ({"units": 3}, "units"),
    ({"units": "x", "units_count": "{batch} + 1"}, "units_count"),
    ({"units": "x", "units_count": "{nope} * 2"}, "units_count"), ({"units": "x", "units_count": -1}, "units_count"),
])
def test_bad_units_in_the_file_are_refused(extra, key):
    with pytest.raises(WorkloadError, match=rf"\[{key}\]"):
        workload(**extra)
