"""The self-check after every fetch (docs/method.md, "Check against the instrument itself"): each persona of the
simulated scope can be switched to get one field of its replies wrong, the way a driver's misreading would, and
the capture must stop with an error that names both values, never a result."""

import pytest

from app.bench.config import loads_bench
from app.capture.procedure import Capture, CaptureFailed, CaptureRequest
from app.session.reader import SessionReader
from instruments.sim.server import SimScope
from instruments.sim.sources import ProfileSource, load_profile
from workloads.spec import parse_workload

PERSONAS = ("keysight", "rigol", "rigol-dho", "tektronix", "siglent", "rs")
EXPECTED = {
    # a sign flip of the offset: the 19 V board reads about -19 V; a probe factor lost: 1.9 V
    "offset_sign": "the driver misreads this model's scaling",
    "probe": "the driver misreads this model's scaling",
    # half the record: its span (or its length against the depth) no longer matches the window
    "record_length": "misread",
}


def bench(resource, tmp_path):
    return loads_bench(f'''
[scope]
resource = "{resource}"
[voltage]
channel = 1
probe_ratio = 10.0
volts_per_div = 0.5
offset_v = 19.0
[current]
channel = 2
probe_ratio = 1.0
volts_per_div = 0.0025
offset_v = 0.005
shunt_ohm = 0.01
[acquisition]
window_s = 0.2
sample_rate_hz = 50000.0
pretrigger = 0.2
trigger_level_a = 0.5
trigger_timeout_s = 10.0
[target]
kind = "local"
workdir = "{tmp_path / 'work'}"
telemetry = "off"
''')


@pytest.mark.parametrize("corruption", list(EXPECTED))
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_corrupted_field_is_caught_and_no_result_is_given(tmp_path, persona, corruption):
    profile = tmp_path / "profile.toml"
    # the board steps from 0.25 A to 0.75 A every half second: a trigger comes without any workload
    profile.write_text("initial_a = 0.25\nsteps = [[0.25, 0.75], [0.4, 0.25]]\nperiod_s = 0.5\nseed = 5\n")
    spec = parse_workload({"name": "wait", "command": "sleep 1", "timeout_s": 30}, "w.toml", tmp_path)
    with SimScope(persona=persona, source=ProfileSource(load_profile(profile))) as sim:
        sim.faults.corrupt = corruption
        req = CaptureRequest(bench=bench(sim.resource, tmp_path), workload=spec, out_dir=tmp_path / "s", windows=0)
        with pytest.raises(CaptureFailed) as err:
            Capture(req).run()
    message = str(err.value)
    assert EXPECTED[corruption] in message and "Traceback" not in message
    if corruption != "record_length":
        assert "averages" in message and "the scope measures" in message      # both values named
    with SessionReader(err.value.outcome.session_path) as s:
        assert s.status == "incomplete" and s.run(1).record is None          # no result was computed


@pytest.mark.parametrize("persona", PERSONAS)
def test_without_corruption_the_same_capture_passes_its_self_check(tmp_path, persona):
    profile = tmp_path / "profile.toml"
    profile.write_text("initial_a = 0.25\nsteps = [[0.25, 0.75], [0.4, 0.25]]\nperiod_s = 0.5\nseed = 5\n")
    spec = parse_workload({"name": "wait", "command": "sleep 0.5", "timeout_s": 30}, "w.toml", tmp_path)
    with SimScope(persona=persona, source=ProfileSource(load_profile(profile))) as sim:
        req = CaptureRequest(bench=bench(sim.resource, tmp_path), workload=spec, out_dir=tmp_path / "s", windows=0)
        out = Capture(req).run()
    assert out.runs, out.failures
