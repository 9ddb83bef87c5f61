"""The simulated scope through the real pyvisa-py path: both personas, SCPI details, faults."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.measure.energy import PowerTrace, interval_stats, summarise
from instruments.detect import open_scope
from instruments.errors import InstrumentError
from instruments.scope import AcquisitionSetup, ChannelSetup
from instruments.sim.server import SimScope
from instruments.sim.sources import ProfileSource, load_profile
from instruments.visa import VisaTransport

ROOT = Path(__file__).resolve().parents[2]
V = ChannelSetup(1, 10.0, 2.0, 19.0, "DC", True)
I = ChannelSetup(2, 1.0, 0.001, 0.0025, "DC", False)      # 0.25 A idle sits at the centre
I_WIDE = ChannelSetup(2, 1.0, 0.002, 0.005, "DC", False)  # 0.25 A .. 0.75 A on screen


def profile(tmp_path, text):
    p = tmp_path / "profile.toml"
    p.write_text(text)
    return ProfileSource(load_profile(p))


QUIET = """supply_v = 19.0
source_ohm = 0.0
shunt_ohm = 0.01
noise_v = 0.0
noise_a = 0.0
initial_a = 0.25
"""


@pytest.mark.parametrize("persona,driver", [("keysight", "keysight-infiniivision"), ("rigol", "rigol-ds1000z")])
def test_full_capture_through_pyvisa(tmp_path, persona, driver):
    # the board draws 0.25 A at 19 V - 0.25 A * 0.01 ohm = 18.9975 V -> 4.7494 W, no noise
    src = profile(tmp_path, QUIET)
    with SimScope(persona=persona, source=src) as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            assert scope.driver_name == driver
            applied = scope.configure(V, I, AcquisitionSetup(window_s=0.3, sample_rate_hz=2e5, pretrigger=0.25))
            assert applied.voltage.offset_v == pytest.approx(19.0) and applied.current.volts_per_div == 0.001
            assert applied.acquisition.window_s == pytest.approx(0.3, rel=1e-5)
            scope.arm_single(2, 0.004)             # 0.4 A: never reached; forced below
            time.sleep(0.1)
            scope.force_trigger()
            scope.wait_complete(5)
            wv, wi = scope.fetch(1), scope.fetch(2)
        finally:
            scope.close()
    assert len(wv) == len(wi)
    assert len(wv) == pytest.approx(applied.acquisition.points, rel=0.01)   # Keysight decimates its memory
    assert wv.x_origin == pytest.approx(-0.25 * 0.3, rel=1e-4)
    trace = PowerTrace(wv, wi, shunt_ohm=0.01)
    st = interval_stats(trace, summarise(trace), 0.0, 0.2)
    # quantisation: Keysight 2 V/div / 32 codes = 62.5 mV; Rigol 2/25 = 80 mV on the voltage channel. Rigol's
    # preamble gives yorigin in whole codes (DS1000Z guide, :WAVeform:PREamble?), so an offset between codes reads
    # up to half a code off: 40 mV of 18.9975 V (0.21 %) and, at 1 mV/div / 25 = 40 uV a code, 20 uV of the
    # 2.5 mV shunt voltage (0.8 %): 1.02 % at most on the power
    bound = 0.005 if persona == "keysight" else (1 + 0.04 / 18.9975) * (1 + 20e-6 / 2.5e-3) - 1
    assert st.mean_w == pytest.approx(18.9975 * 0.25, rel=bound)


def test_single_waits_for_the_edge_and_keeps_pretrigger_history(tmp_path):
    # 0.25 A idle, 0.75 A for the second half of every second: the trigger at 0.5 A
    src = profile(tmp_path, QUIET + "steps = [[0.5, 0.75]]\nperiod_s = 1.0\n")
    with SimScope(persona="keysight", source=src) as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            scope.configure(V, I_WIDE, AcquisitionSetup(window_s=0.2, sample_rate_hz=1e5, pretrigger=0.5))
            scope.arm_single(2, 0.005)
            scope.wait_complete(5)
            wi = scope.fetch(2)
        finally:
            scope.close()
    assert_idle_then_busy_from_zero(wi)


def assert_idle_then_busy_from_zero(wi):
    """0.25 A before the trigger, 0.75 A after it (0.01 ohm shunt), the rise within one 10 µs sample of t = 0."""
    amps = wi.volts() / 0.01
    t = wi.times()
    assert amps[t < -0.001].mean() == pytest.approx(0.25, abs=0.01)     # pre-trigger: idle
    assert amps[t > 0.001].mean() == pytest.approx(0.75, abs=0.01)      # after: busy
    assert abs(t[np.argmax(amps > 0.5)]) < 2e-5                          # the edge sits at t = 0


def test_a_step_learned_late_triggers_where_it_happened(tmp_path):
    # a control-file line is written after the instant it dates (a test workload backdates its warm-up to the
    # exec; on a busy machine the line can come 0.3 s late, long after the comparator's 50 ms lag). A real
    # scope saw the current rise when it rose: the trigger belongs at the dated instant, with idle before it.
    control = tmp_path / "control.txt"
    src = profile(tmp_path, QUIET + f'control_file = "{control}"\n')
    with SimScope(persona="keysight", source=src) as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            scope.configure(V, I_WIDE, AcquisitionSetup(window_s=0.2, sample_rate_hz=1e5, pretrigger=0.5))
            armed = time.monotonic()
            scope.arm_single(2, 0.005)                   # 0.5 A; the pre-trigger part fills 0.1 s after arming
            time.sleep(0.5)
            step_at = armed + 0.2                        # after the pre-trigger part filled, 0.3 s in the past
            control.write_text(f"{step_at!r} 0.75\n")
            scope.wait_complete(5)
            wi = scope.fetch(2)
        finally:
            scope.close()
    assert_idle_then_busy_from_zero(wi)                   # idle before the dated step, the trigger at it


def test_trigger_never_comes_times_out_with_advice(tmp_path):
    with SimScope(persona="rigol", source=profile(tmp_path, QUIET)) as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            scope.configure(V, I, AcquisitionSetup(window_s=0.1, sample_rate_hz=1e5, pretrigger=0.1))
            scope.arm_single(2, 0.009)
            with pytest.raises(InstrumentError, match="no trigger"):
                scope.wait_complete(0.5)
        finally:
            scope.close()


def raw_query(port, text, read_bytes=4096, timeout=5.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(text.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(read_bytes)
            if not chunk:
                break
            data += chunk
        return data.decode()


def test_short_long_forms_joined_commands_and_error_queue():
    with SimScope(persona="keysight", source="demo") as sim:
        t = VisaTransport(sim.resource, timeout_s=5)
        try:
            t.write(":chan1:scal 0.5;offs 12.5")                    # relative header after ';'
            assert float(t.query(":CHANnel1:SCALe?")) == 0.5
            # InfiniiVision replies: signed NR3 with an upper-case exponent, joined with ';'
            assert t.query(":CHAN1:OFFS?;:CHANNEL1:PROBE?") == "+1.25000000E+01;+1.00000000E+00"
            t.write(":BOGus:COMMand 1")
            assert t.query(":SYSTem:ERRor?") == '-113,"Undefined header"'
            assert t.query(":SYST:ERR?") == '+0,"No error"'
        finally:
            t.close()


def test_rigol_refuses_memory_depth_while_stopped_and_oversize_pages():
    with SimScope(persona="rigol", source="demo") as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            scope.configure(V, I, AcquisitionSetup(window_s=0.12, sample_rate_hz=5e6, pretrigger=0.1))   # 600 kpts
            scope.stop()
            with pytest.raises(InstrumentError, match=r"refused ':ACQuire:MDEPth 600000'.*-221"):
                scope._set(":ACQuire:MDEPth 600000")
            scope.arm_single(2, 0.1)
            scope.force_trigger()
            scope.wait_complete(5)
            t = scope.t
            t.write(":WAVeform:SOURce CHANnel2")
            t.write(":WAVeform:MODE RAW")
            t.write(":WAVeform:STARt 1")
            t.write(":WAVeform:STOP 300000")
            assert len(t.read_block(":WAVeform:DATA?", np.uint8)) == 0
            assert t.query(":SYSTem:ERRor?") == '-222,"Data out of range"'
        finally:
            scope.close()


def test_channel_off_gives_an_error_not_data():
    with SimScope(persona="keysight", source="demo") as sim:
        t = VisaTransport(sim.resource, timeout_s=5)
        try:
            t.write(":CHANnel3:DISPlay 0")
            t.write(":WAVeform:SOURce CHANnel3")
            assert len(t.read_block(":WAVeform:DATA?", np.uint8)) == 0
            assert t.query(":SYSTem:ERRor?").startswith("-221")
        finally:
            t.close()


def test_dropped_connection_mid_block_errors_within_timeout_and_reopens(tmp_path):
    with SimScope(persona="keysight", source=profile(tmp_path, QUIET)) as sim:
        scope = open_scope(sim.resource, timeout_s=2)
        scope.configure(V, I, AcquisitionSetup(window_s=0.1, sample_rate_hz=1e6, pretrigger=0.1))
        scope.arm_single(2, 0.1)
        scope.force_trigger()
        scope.wait_complete(5)
        sim.faults.drop_after_block_bytes = 5000
        start = time.monotonic()
        with pytest.raises(InstrumentError, match="of 100000 bytes.*connection dropped"):
            scope.fetch(1)
        assert time.monotonic() - start < 2 + 1.5
        scope.close()
        again = open_scope(sim.resource, timeout_s=2)         # the resource can be reopened
        try:
            again.configure(V, I, AcquisitionSetup(window_s=0.1, sample_rate_hz=1e6, pretrigger=0.1))
            assert len(again.fetch(1)) == 100_000
        finally:
            again.close()


def test_split_writes_and_a_delayed_reply(tmp_path):
    with SimScope(persona="rigol", source=profile(tmp_path, QUIET)) as sim:
        scope = open_scope(sim.resource, timeout_s=1)
        try:
            scope.configure(V, I, AcquisitionSetup(window_s=0.12, sample_rate_hz=5e4, pretrigger=0.1))
            scope.arm_single(2, 0.1)
            scope.force_trigger()
            scope.wait_complete(5)
            sim.faults.split_bytes = 997
            w = scope.fetch(2)
            assert len(w) == 6000 and w.volts().mean() == pytest.approx(0.0025, abs=0.0001)
            sim.faults.split_bytes = 0
            sim.faults.delay_s = 1.5
            with pytest.raises(InstrumentError, match=r"no reply to '\*IDN\?' within 1 s"):
                scope.identify()
        finally:
            sim.faults.delay_s = 0
            scope.close()


def test_connection_refused_says_what_to_check():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InstrumentError, match="Is the scope on"):
        open_scope(f"TCPIP::127.0.0.1::{port}::SOCKET", timeout_s=1)


def test_live_frames_while_running(tmp_path):
    with SimScope(persona="keysight", source=profile(tmp_path, QUIET)) as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            scope.configure(V, I, AcquisitionSetup(window_s=0.05, sample_rate_hz=1e5, pretrigger=0.5))
            scope.run()
            a, b = scope.live_frame(2), scope.live_frame(2)
        finally:
            scope.close()
    assert len(a) == 1000 and a.volts().mean() == pytest.approx(0.0025, abs=1e-4)
    assert not np.shares_memory(a.codes, b.codes)


def test_sim_scope_command_answers_a_plain_pyvisa_client():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "sim-scope", "--port", str(port),
                             "--persona", "rigol", "--source", "demo"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stderr.read() if proc.poll() is not None else "no server")
                time.sleep(0.1)
        import pyvisa
        rm = pyvisa.ResourceManager("@py")
        res = rm.open_resource(f"TCPIP::127.0.0.1::{port}::SOCKET", read_termination="\n",
                               write_termination="\n", timeout=5000)
        try:
            assert res.query("*IDN?").startswith("RIGOL TECHNOLOGIES,DS1104Z")
            values = res.query_binary_values(":WAVeform:DATA?", datatype="B", container=np.array,
                                             header_fmt="ieee")
            assert len(values) == 1200
        finally:
            res.close()
            rm.close()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_portable_visa_read_path_gives_the_same_record(tmp_path, monkeypatch):
    """Block payloads normally come straight off pyvisa-py's socket; the portable visalib.read() path
    (USB, VXI-11, other backends) must deliver the same bytes."""
    with SimScope(persona="rigol", source=profile(tmp_path, QUIET)) as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            scope.configure(V, I, AcquisitionSetup(window_s=0.12, sample_rate_hz=5e6, pretrigger=0.1))
            scope.arm_single(2, 0.1)
            scope.force_trigger()
            scope.wait_complete(5)
            fast = scope.fetch(2)
            monkeypatch.setattr(VisaTransport, "_raw_socket", lambda self: (None, None))
            portable = scope.fetch(2)
        finally:
            scope.close()
    assert len(fast) == 600_000 and np.array_equal(fast.codes, portable.codes)


def test_auto_range_fills_the_screen_and_proposes_a_trigger(tmp_path):
    from instruments.ranging import auto_range
    # 0.25 A idle, 0.75 A busy for the second half of every 0.2 s, on a board at 19 V
    src = profile(tmp_path, QUIET + "steps = [[0.1, 0.75]]\nperiod_s = 0.2\n")
    clipping_v = ChannelSetup(1, 10.0, 0.05, 0.0)          # 19 V far off screen: clipped
    clipping_i = ChannelSetup(2, 1.0, 0.001, 0.0)          # 7.5 mV off screen (±4 mV shown)
    with SimScope(persona="keysight", source=src) as sim:
        scope = open_scope(sim.resource, timeout_s=5)
        try:
            r = auto_range(scope, clipping_v, clipping_i, AcquisitionSetup(0.4, 1e5, 0.5), frames=4)
        finally:
            scope.close()
    # span 19.0 - 18.9925 V is tiny: the centre lands on the voltage, 1-2-5 volts/div
    assert r.voltage.offset_v == pytest.approx(18.996, abs=0.05)
    # shunt volts 2.5 mV .. 7.5 mV over 8 divisions at 80 % fill -> 0.78 mV/div -> 1 mV/div, centre 5 mV
    assert r.current.volts_per_div == pytest.approx(0.001)
    assert r.current.offset_v == pytest.approx(0.005, abs=0.0003)
    # a third of the way up from idle: 2.5 mV + 5 mV / 3
    assert r.trigger_level_v == pytest.approx(0.0025 + 0.005 / 3, abs=0.0003)


def test_a_paced_link_delivers_the_last_byte_no_sooner_than_the_link_allows(tmp_path):
    # `link_mbps`: a reply crosses a link of that rate, so the last byte of a B-byte record cannot land sooner
    # than B / rate after the block began, itself after the fetch began (benchmarks/pipeline.py measures
    # after_last_byte_s from that byte). about 129 000 one-byte codes (two 64 KiB pieces) at 8 Mbit/s (1 MB/s):
    # at least 0.129 s, where sending each piece at the start of its slot would land the last at about 0.066 s.
    with SimScope(persona="keysight", source=profile(tmp_path, QUIET), link_mbps=8.0) as sim:
        sim.engine.eager = True            # the record exists when the acquisition completes, as on a real scope
        scope = open_scope(sim.resource, timeout_s=10)
        try:
            scope.configure(V, I, AcquisitionSetup(window_s=0.2, sample_rate_hz=655_360, pretrigger=0.25))
            scope.arm_single(2, 0.004)
            time.sleep(0.05)
            scope.force_trigger()
            scope.wait_complete(5)
            t0 = time.perf_counter()
            landed = []
            wave = scope.fetch(1, progress=lambda done, total: landed.append((time.perf_counter(), done, total)))
        finally:
            scope.close()
    last_t, done, total = landed[-1]
    assert done == total == len(wave) and len(wave) > 120_000          # two 64 KiB pieces, the last nearly full
    assert last_t - t0 >= len(wave) / (8e6 / 8), f"the last byte landed after {last_t - t0:.4f} s"
