"""Keysight InfiniiVision: the exact commands of configure/arm/status/fetch, and code → volts → time."""

import threading

import numpy as np
import pytest

from instruments.errors import CancelledError, InstrumentError
from instruments.keysight import KeysightInfiniiVision
from instruments.scope import AcquisitionSetup, ChannelSetup
from tests.instruments.scripted import ScriptedTransport, block, ok

V = ChannelSetup(channel=1, probe_ratio=10.0, volts_per_div=2.0, offset_v=19.0, coupling="DC", bandwidth_limit=True)
I = ChannelSetup(channel=2, probe_ratio=1.0, volts_per_div=0.01, offset_v=0.0, coupling="DC", bandwidth_limit=False)
ACQ = AcquisitionSetup(window_s=1.2, sample_rate_hz=1e6, pretrigger=0.1)
# :WAVeform:PREamble? in the form the programmer's guide specifies (format, type, points, count, xreference and
# yreference NR1; the rest NR3) and a real InfiniiVision prints (sign, 9 digits, 3-digit exponent: see
# test_conversion_against_a_published_preamble)
PRE = "+0,+0,+4,+1,+1.00000000E-006,-1.00000000E-004,+0,+7.81250000E-002,+1.90000000E+001,+128"


def channel_script(n, probe, scale, offset, bwl):
    return (ok(f":CHANnel{n}:DISPlay 1") + ok(f":CHANnel{n}:PROBe {probe}") + ok(f":CHANnel{n}:SCALe {scale}")
            + ok(f":CHANnel{n}:OFFSet {offset}") + ok(f":CHANnel{n}:COUPling DC") + ok(f":CHANnel{n}:BWLimit {bwl}"))


def test_configure_sends_the_dialect_and_reads_back():
    script = ([("*CLS", None), (":STOP", None)]
              + channel_script(1, "10", "2", "19", 1) + channel_script(2, "1", "0.01", "0", 0)
              + ok(":TIMebase:MODE MAIN") + ok(":TIMebase:REFerence CENTer") + ok(":TIMebase:RANGe 1.2")
              + ok(":TIMebase:POSition 0.48") + ok(":ACQuire:TYPE NORMal")
              + [(":TIMebase:RANGe?", "+1.20000000E+00"), (":TIMebase:POSition?", "+480.000000E-03"),
                 (":ACQuire:SRATe?", "+1.00000E+06"), (":ACQuire:POINts?", "+1200000"),
                 (":CHANnel1:PROBe?", "+10.0E+00"), (":CHANnel1:SCALe?", "+2.00E+00"),
                 (":CHANnel1:OFFSet?", "+19.0E+00"), (":CHANnel1:COUPling?", "DC"), (":CHANnel1:BWLimit?", "1"),
                 (":CHANnel2:PROBe?", "+1.0E+00"), (":CHANnel2:SCALe?", "+10.0E-03"),
                 (":CHANnel2:OFFSet?", "+0.0E+00"), (":CHANnel2:COUPling?", "DC"), (":CHANnel2:BWLimit?", "0")])
    t = ScriptedTransport(script)
    applied = KeysightInfiniiVision(t).configure(V, I, ACQ)
    t.assert_done()
    assert applied.voltage.offset_v == 19.0 and applied.voltage.bandwidth_limit is True
    assert applied.current.volts_per_div == 0.01
    assert applied.acquisition.sample_rate_hz == 1e6 and applied.acquisition.points == 1_200_000
    assert applied.acquisition.pretrigger == pytest.approx(0.1)


def test_refused_setting_names_the_command_and_the_scope_text():
    script = [("*CLS", None), (":STOP", None), (":CHANnel1:DISPlay 1", None),
              (":SYSTem:ERRor?", '-221,"Settings conflict"'), (":SYSTem:ERRor?", '+0,"No error"')]
    t = ScriptedTransport(script)
    with pytest.raises(InstrumentError, match=r"refused ':CHANnel1:DISPlay 1': -221,\"Settings conflict\""):
        KeysightInfiniiVision(t).configure(V, I, ACQ)


def test_arm_status_and_force():
    script = (ok(":TRIGger:MODE EDGE") + ok(":TRIGger:EDGE:SOURce CHANnel2") + ok(":TRIGger:EDGE:LEVel 0.005")
              + ok(":TRIGger:EDGE:SLOPe POSitive") + ok(":TRIGger:SWEep NORMal")
              + [(":SINGle", None), (":OPERegister:CONDition?", "+8"), (":TRIGger:FORCe", None),
                 (":OPERegister:CONDition?", "+8232"), (":OPERegister:CONDition?", "+8224")])
    t = ScriptedTransport(script)
    scope = KeysightInfiniiVision(t)
    scope.arm_single(2, 0.005)
    assert scope.acquisition_done() is False
    scope.force_trigger()
    assert scope.acquisition_done() is False        # 8232 = 8192 + 32 + 8: Run bit still set
    assert scope.acquisition_done() is True         # 8224: Run bit clear
    t.assert_done()


def fetch_script(payload, pre=PRE, n=1):
    return [(f":WAVeform:SOURce CHANnel{n}", None), (":WAVeform:FORMat BYTE", None), (":WAVeform:UNSigned 1", None),
            (":WAVeform:POINts MAX", None), (":WAVeform:POINts:MODE RAW", None), (":WAVeform:PREamble?", pre),
            (":WAVeform:DATA?", payload)]


def test_fetch_converts_codes_to_volts_and_times_by_hand():
    # codes 128, 129, 10 (a newline byte inside the payload), 255
    t = ScriptedTransport(fetch_script(block(bytes([128, 129, 10, 255]), digits=8)))
    w = KeysightInfiniiVision(t).fetch(1)
    t.assert_done()
    assert w.codes.dtype == np.uint8 and list(w.codes) == [128, 129, 10, 255]
    # (code - 128) * 0.078125 + 19
    assert list(w.volts()) == [19.0, 19.078125, 9.78125, 28.921875]
    # (i - 0) * 1e-6 - 1e-4
    assert w.times() == pytest.approx([-1e-4, -0.99e-4, -0.98e-4, -0.97e-4])
    assert (w.code_min, w.code_max) == (1, 255)


def test_fetch_progress_and_cancel():
    payload = (bytes(range(1, 256)) * 8300)[:2 << 20]  # 2 MiB without a hole (0): two progress steps of 1 MiB
    pre = PRE.replace("+4,", f"+{len(payload)},", 1)
    seen = []
    t = ScriptedTransport(fetch_script(block(payload, digits=8), pre=pre))
    w = KeysightInfiniiVision(t).fetch(1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1 << 20, 2 << 20), (2 << 20, 2 << 20)] and len(w) == len(payload)
    cancel = threading.Event()
    cancel.set()
    t = ScriptedTransport(fetch_script(block(payload, digits=8), pre=pre))
    with pytest.raises(CancelledError):
        KeysightInfiniiVision(t).fetch(1, cancel=cancel)
    assert t.closed     # the connection is out of step after an abandoned block: closed


@pytest.mark.parametrize("reply,match", [
    (b"#800000004" + bytes([1, 2]), "stopped after 2 of 4 bytes"),        # connection dropped mid-block
    (b"#A00000004\x01\x02\x03\x04\n", "malformed block header"),
    (b"#800000004\x01\x02\x03\x04\x05\n", "longer than its header said"),
    (b"#8000000x4\x01\x02\x03\x04\n", "length field"),
    (b"#0\x01\x02\n", "indefinite-length"),
    (b"ERROR\n", "not a binary block"),
])
def test_bad_blocks_are_instrument_errors(reply, match):
    t = ScriptedTransport(fetch_script(reply))
    with pytest.raises(InstrumentError, match=match):
        KeysightInfiniiVision(t).fetch(1)


@pytest.mark.parametrize("pre,match", [
    ("+0,+0,+4,+1,+1.0E-06,-1.0E-04,+0,+7.8E-02,+1.9E+01", "9 fields where 10"),
    ("+0,+0,+4,+1,+9.91E+37,-1.0E-04,+0,+7.8E-02,+1.9E+01,+128", "not a usable number"),
    ("+0,+0,+4,+1,nan,-1.0E-04,+0,+7.8E-02,+1.9E+01,+128", "not a usable number"),
    ("+0,+0,+5,+1,+1.0E-06,-1.0E-04,+0,+7.8E-02,+1.9E+01,+128", "holds 4 bytes where 5 were asked for"),
    ("+1,+0,+4,+1,+1.0E-06,-1.0E-04,+0,+7.8E-02,+1.9E+01,+128", "not BYTE"),
])
def test_bad_preambles_are_instrument_errors(pre, match):
    t = ScriptedTransport(fetch_script(block(bytes([1, 2, 3, 4]), digits=8), pre=pre))
    with pytest.raises(InstrumentError, match=match):
        KeysightInfiniiVision(t).fetch(1)


def test_live_frame_asks_for_screen_resolution():
    script = [(":WAVeform:SOURce CHANnel2", None), (":WAVeform:FORMat BYTE", None), (":WAVeform:UNSigned 1", None),
              (":WAVeform:POINts:MODE NORMal", None), (":WAVeform:POINts 1000", None),
              (":WAVeform:PREamble?", PRE), (":WAVeform:DATA?", block(bytes([128] * 4), digits=8))]
    t = ScriptedTransport(script)
    w = KeysightInfiniiVision(t).live_frame(2)
    t.assert_done()
    assert w.channel == 2 and list(w.volts()) == [19.0] * 4


def test_channel_the_scope_does_not_have():
    t = ScriptedTransport([("*CLS", None), (":STOP", None)])
    with pytest.raises(InstrumentError, match="channel 5 does not exist"):
        KeysightInfiniiVision(t).configure(ChannelSetup(5, 10, 2, 19), I, ACQ)


def test_holes_in_a_raw_record_are_an_error_not_the_lower_rail():
    # InfiniiVision guide (:WAVeform:FORMat BYTE): 0x00 is a hole (no data), 0x01 is clipped low
    t = ScriptedTransport(fetch_script(block(bytes([128, 0, 1, 255]), digits=8)))
    with pytest.raises(InstrumentError, match="1 of the 4 samples of CH1 are holes"):
        KeysightInfiniiVision(t).fetch(1)


def test_holes_are_counted_across_the_chunks_of_a_long_record():
    # the holes are counted chunk by chunk as the record lands; by hand: one in each MiB and the last byte
    payload = bytearray((bytes(range(1, 256)) * 8300)[:2 << 20])
    for at in (5, (1 << 20) + 7, (2 << 20) - 1):
        payload[at] = 0
    pre = PRE.replace("+4,", f"+{len(payload)},", 1)
    t = ScriptedTransport(fetch_script(block(bytes(payload), digits=8), pre=pre))
    with pytest.raises(InstrumentError, match="3 of the 2097152 samples of CH1 are holes"):
        KeysightInfiniiVision(t).fetch(1)


def test_counting_a_code():
    from instruments.waveform import count_code
    codes = np.array([0, 1, 0, 255, 7, 0], dtype=np.uint8)        # by hand: three 0s, one 7, no 9
    assert (count_code(codes, 0), count_code(codes, 7), count_code(codes, 9)) == (3, 1, 0)


def test_conversion_against_a_published_preamble():
    # a preamble from a real InfiniiVision, quoted in a public driver's docstring:
    # +0,+0,+1000,+1,+2.00000000E-010,-1.00000000E-007,+0,+3.12500000E-002,+1.25000000E-002,+128
    # By hand: volts = (code - 128) * 0.03125 + 0.0125; time = (i - 0) * 2e-10 - 1e-7
    pre = "+0,+0,+4,+1,+2.00000000E-010,-1.00000000E-007,+0,+3.12500000E-002,+1.25000000E-002,+128"
    t = ScriptedTransport(fetch_script(block(bytes([128, 160, 1, 255]), digits=8), pre=pre))
    w = KeysightInfiniiVision(t).fetch(1)
    assert list(w.volts()) == pytest.approx([0.0125, 1.0125, 0.0125 - 127 * 0.03125, 0.0125 + 127 * 0.03125])
    assert w.times(0, 2) == pytest.approx([-1e-7, -1e-7 + 2e-10])
