"""Rigol DS1000Z / MSO5000 / DHO: exact commands, offset sign, paging, TD-not-sticky, conversions."""

import numpy as np
import pytest

from instruments.errors import InstrumentError
from instruments.rigol import RigolDS1000Z, RigolMSO5000
from instruments.scope import AcquisitionSetup, ChannelSetup
from tests.instruments.scripted import ScriptedTransport, block

V = ChannelSetup(channel=1, probe_ratio=10.0, volts_per_div=2.0, offset_v=19.0, coupling="DC", bandwidth_limit=True)
I = ChannelSetup(channel=2, probe_ratio=1.0, volts_per_div=0.01, offset_v=0.0, coupling="DC", bandwidth_limit=False)
ACQ = AcquisitionSetup(window_s=1.2, sample_rate_hz=1e6, pretrigger=0.1)
NOERR = '0,"No error"'


def ok(cmd):
    return [(cmd, None), (":SYSTem:ERRor?", NOERR)]


def channel_script(n, probe, scale, rigol_offset, bwl):
    return (ok(f":CHANnel{n}:DISPlay 1") + ok(f":CHANnel{n}:PROBe {probe}") + ok(f":CHANnel{n}:SCALe {scale}")
            + ok(f":CHANnel{n}:OFFSet {rigol_offset}") + ok(f":CHANnel{n}:COUPling DC")
            + ok(f":CHANnel{n}:BWLimit {bwl}"))


def readback(n, probe, scale, offset, bwl):
    return [(f":CHANnel{n}:PROBe?", probe), (f":CHANnel{n}:SCALe?", scale), (f":CHANnel{n}:OFFSet?", offset),
            (f":CHANnel{n}:COUPling?", "DC"), (f":CHANnel{n}:BWLimit?", bwl)]


def test_ds1000z_configure_offset_sign_twelve_divisions_and_memory_depth():
    # 1 MSa/s over 1.2 s = 1.2 Mpts; with 2 channels on, the legal depths are 6k/60k/600k/6M/12M -> 6M
    script = ([("*CLS", None), (":RUN", None)] + ok(":CHANnel3:DISPlay 0") + ok(":CHANnel4:DISPlay 0")
              + channel_script(1, "10", "2", "-19", "20M") + channel_script(2, "1", "0.01", "-0", "OFF")
              + ok(":TIMebase:MODE MAIN") + ok(":TIMebase:MAIN:SCALe 0.1") + ok(":TIMebase:MAIN:OFFSet 0.48")
              + ok(":ACQuire:MDEPth 6000000")
              + [(":TIMebase:MAIN:SCALe?", "1.000000e-01"), (":TIMebase:MAIN:OFFSet?", "4.800000e-01"),
                 (":ACQuire:SRATe?", "5.000000e+06"), (":ACQuire:MDEPth?", "6000000")]
              + readback(1, "1.000000e+01", "2.000000e+00", "-1.900000e+01", "20M")
              + readback(2, "1.000000e+00", "1.000000e-02", "0.000000e+00", "OFF"))
    t = ScriptedTransport(script)
    applied = RigolDS1000Z(t).configure(V, I, ACQ)
    t.assert_done()
    assert applied.voltage.offset_v == 19.0           # centre of screen = -(Rigol offset)
    assert applied.acquisition.window_s == pytest.approx(1.2)
    assert applied.acquisition.points == 6_000_000 and applied.acquisition.sample_rate_hz == 5e6
    assert applied.acquisition.pretrigger == pytest.approx(0.1)


def test_refused_memory_depth_reports_the_error_queue():
    scope = RigolDS1000Z(ScriptedTransport([(":ACQuire:MDEPth 24000000", None),
                                            (":SYSTem:ERRor?", '-221,"Settings conflict"'),
                                            (":SYSTem:ERRor?", NOERR)]))
    with pytest.raises(InstrumentError, match="refused ':ACQuire:MDEPth 24000000'.*Settings conflict"):
        scope._set(":ACQuire:MDEPth 24000000")


def test_memory_depth_choice():
    s = RigolDS1000Z(ScriptedTransport([]))
    assert s.memory_depth(1.2e6, 2) == 6_000_000
    assert s.memory_depth(6000, 2) == 6000
    assert s.memory_depth(50e6, 2) == 12_000_000          # the most there is
    assert s.memory_depth(1.2e6, 1) == 1_200_000
    assert s.memory_depth(1.2e6, 4) == 3_000_000


def test_arm_and_td_is_not_sticky():
    script = (ok(":TRIGger:MODE EDGE") + ok(":TRIGger:EDGE:SOURce CHANnel2") + ok(":TRIGger:EDGE:SLOPe POSitive")
              + ok(":TRIGger:EDGE:LEVel 0.005") + ok(":TRIGger:SWEep SINGle")
              + [(":SINGle", None), (":TRIGger:STATus?", "WAIT"), (":TFORce", None), (":TRIGger:STATus?", "TD"),
                 (":TRIGger:STATus?", "STOP")])
    t = ScriptedTransport(script)
    s = RigolDS1000Z(t)
    s._window_s = 100.0
    s.arm_single(2, 0.005)
    assert not s.acquisition_done()
    s.force_trigger()
    assert not s.acquisition_done()
    assert s.acquisition_done()       # armed, then STOP: done
    t.assert_done()


def test_stop_before_ever_seen_armed_is_not_done_yet():
    t = ScriptedTransport(ok(":TRIGger:MODE EDGE") + ok(":TRIGger:EDGE:SOURce CHANnel2")
                          + ok(":TRIGger:EDGE:SLOPe POSitive") + ok(":TRIGger:EDGE:LEVel 0.005")
                          + ok(":TRIGger:SWEep SINGle") + [(":SINGle", None), (":TRIGger:STATus?", "STOP")])
    s = RigolDS1000Z(t)
    s._window_s = 100.0
    s.arm_single(2, 0.005)
    assert not s.acquisition_done()


def test_unknown_status_is_an_error():
    s = RigolDS1000Z(ScriptedTransport([(":TRIGger:STATus?", "BANANA")]))
    with pytest.raises(InstrumentError, match="WAIT, RUN, TD"):
        s.acquisition_done()


PRE = "0,2,{n},1,1.000000e-06,-1.200000e-01,0,4.000000e-02,-2,127"


def raw_start(channel, depth_reply, fmt="BYTE", pre=None):
    """:STOP, the depth read back (the record length's source), then the waveform setup and the preamble."""
    return [(":STOP", None), (":ACQuire:MDEPth?", depth_reply), (f":WAVeform:SOURce CHANnel{channel}", None),
            (":WAVeform:MODE RAW", None), (f":WAVeform:FORMat {fmt}", None), (":WAVeform:PREamble?", pre)]


def test_fetch_pages_of_250000_points_and_converts_by_hand():
    n = 600_000
    codes = (np.arange(n) % 256).astype(np.uint8)
    pages = [(1, 250_000), (250_001, 500_000), (500_001, 600_000)]
    script = raw_start(1, "600000", pre=PRE.format(n=n))
    for a, b in pages:
        script += [(f":WAVeform:STARt {a}", None), (f":WAVeform:STOP {b}", None),
                   (":WAVeform:DATA?", block(codes[a - 1:b].tobytes(), digits=9))]
    t = ScriptedTransport(script)
    seen = []
    w = RigolDS1000Z(t).fetch(1, progress=lambda d, tot: seen.append((d, tot)))
    t.assert_done()
    assert np.array_equal(w.codes, codes)
    assert seen[-1] == (n, n)
    # volts = (code - yorigin - yref) * yinc = (code + 2 - 127) * 0.04
    assert w.volts(127, 128)[0] == pytest.approx(0.08)
    assert w.volts(0, 1)[0] == pytest.approx(-5.0)
    assert w.volts(255, 256)[0] == pytest.approx((255 + 2 - 127) * 0.04)
    # time = xorigin + i * xinc
    assert w.times(0, 2) == pytest.approx([-0.12, -0.12 + 1e-6])
    assert (w.code_min, w.code_max) == (0, 255)


def test_the_guides_raw_preamble_example_by_hand():
    # MSO1000Z/DS1000Z programming guide, :WAVeform:PREamble? example for a RAW read: integers for format, type,
    # points, count, xreference, yorigin and yreference; %e for the rest. By hand: volts = (code - 0 - 122) *
    # 0.4132813, time = -0.003 + i * 1e-9
    from instruments.rigol import rigol_waveform
    reply = "0,2,6000000,1,1.000000e-09,-3.000000e-03,0,4.132813e-01,0,122"
    w = rigol_waveform(reply, np.array([122, 0, 255], dtype=np.uint8), 1, "scripted", 0, 255)
    assert list(w.volts()) == pytest.approx([0.0, -122 * 0.4132813, 133 * 0.4132813])
    assert w.times(0, 2) == pytest.approx([-3e-3, -3e-3 + 1e-9])


def test_record_length_from_mdepth_not_from_the_preamble():
    # the guide's :WAVeform:PREamble? example for a screen read announces 1 200 points; firmware that reports the
    # STARt/STOP range answers so in RAW mode too while the memory holds 6 000: the driver must read the depth.
    # Conversion by hand from that reply: volts = (code - (-75) - 127) * 0.04, time = -0.01456 + i * 2e-5
    guide_reply = "0,0,1200,1,2.000000e-05,-1.456000e-02,0,4.000000e-02,-75,127"
    n = 6_000
    codes = (np.arange(n) % 256).astype(np.uint8)
    script = raw_start(2, "6000", pre=guide_reply) + [
        (":WAVeform:STARt 1", None), (":WAVeform:STOP 6000", None), (":WAVeform:DATA?", block(codes.tobytes()))]
    t = ScriptedTransport(script)
    w = RigolDS1000Z(t, idn="RIGOL TECHNOLOGIES,DS1054Z,DS1ZA116171318,00.04.03").fetch(2)
    t.assert_done()
    assert len(w) == 6000 and w.vendor_preamble["points_announced"] == 1200
    assert w.volts(127, 128)[0] == pytest.approx(3.0)            # (127 + 75 - 127) * 0.04
    assert w.volts(0, 1)[0] == pytest.approx(-2.08)              # (0 + 75 - 127) * 0.04
    assert w.times(1, 2)[0] == pytest.approx(-0.01456 + 2e-5)


def test_page_of_the_wrong_size_is_refused():
    script = raw_start(1, "4", pre=PRE.format(n=4)) + [
        (":WAVeform:STARt 1", None), (":WAVeform:STOP 4", None), (":WAVeform:DATA?", block(b"\x01\x02\x03", digits=9))]
    with pytest.raises(InstrumentError, match="holds 3 bytes where 4 were asked for"):
        RigolDS1000Z(ScriptedTransport(script)).fetch(1)


def test_mso5000_whole_record_after_wai():
    codes = bytes([0, 127, 255, 10])
    script = raw_start(2, "4", pre=PRE.format(n=4)) + [
        (":WAVeform:STARt 1", None), (":WAVeform:STOP 4", None), ("*WAI", None),
        (":WAVeform:DATA?", block(codes, digits=9))]
    t = ScriptedTransport(script)
    w = RigolMSO5000(t, idn="RIGOL TECHNOLOGIES,MSO5074,MS5A0000,00.01.03").fetch(2)
    t.assert_done()
    assert bytes(w.codes) == codes and w.channel == 2


def test_dho_words_in_pages_of_125000_with_the_depth_from_mdepth():
    # the DHO's preamble announces its page (125 000), not the depth; :ACQuire:MDEPth? replies in NR3
    n = 130_000
    codes = (np.arange(n) % 4096 * 16).astype("<u2")
    pre = PRE.replace("0,2,", "1,2,", 1).format(n=125_000)
    script = raw_start(1, "1.3000E+05", fmt="WORD", pre=pre) + [
        (":WAVeform:STARt 1", None), (":WAVeform:STOP 125000", None),
        (":WAVeform:DATA?", block(codes[:125_000].tobytes())),
        (":WAVeform:STARt 125001", None), (":WAVeform:STOP 130000", None),
        (":WAVeform:DATA?", block(codes[125_000:].tobytes()))]
    t = ScriptedTransport(script)
    w = RigolMSO5000(t, idn="RIGOL TECHNOLOGIES,DHO924S,DHO9A0000,00.01.00").fetch(1)
    t.assert_done()
    assert w.codes.dtype == np.dtype("<u2") and np.array_equal(w.codes, codes)


def test_dho_conversion_against_a_published_dho824_capture():
    # a DHO824 capture published with its scaling (aimoda/rigol-dho824-mcp, captured_waveforms/ch1/raw.json,
    # 2025-08-25): 50 mV/div, y_increment 6.6667e-06, y_origin -22718 (codes), y_reference 32768, offset
    # -0.1514539 V. By hand: code 55237 -> (55237 + 22718 - 32768) * 6.6667e-06 = 0.301248 V, and the centre
    # code 32768 -> 22718 * 6.6667e-06 = 0.151454 V = -offset (the Rigol convention)
    from instruments.rigol import rigol_waveform
    reply = "1,2,10000,1,4.000000e-07,-2.000000e-03,0,6.666700e-06,-22718,32768"
    w = rigol_waveform(reply, np.array([55237, 32768], dtype="<u2"), 1, "dho", 2768, 62768)
    assert w.volts() == pytest.approx([0.301248, 0.151454], abs=2e-6)
    # 7 500 codes per division: the 8-division screen spans 32768 +- 30000, where the rails are taken
    scope = RigolMSO5000(ScriptedTransport([]), idn="RIGOL TECHNOLOGIES,DHO824,DHO8A0000,00.01.02")
    assert (scope.caps.code_min, scope.caps.code_max) == (2768, 62768)
    assert 0.05 / 6.6667e-06 == pytest.approx(7500, rel=1e-4)


def test_dho_depths_and_two_channel_models():
    dho800 = RigolMSO5000(ScriptedTransport([]), idn="RIGOL TECHNOLOGIES,DHO804,X,00.01")
    dho900 = RigolMSO5000(ScriptedTransport([]), idn="RIGOL TECHNOLOGIES,DHO924S,X,00.01")
    # DHO800/900 programming guide, :ACQuire:MDEPth: up to 25M (DHO800), 50M (DHO900); not the MSO5000's 200M
    assert dho800.memory_depth(1e9, 2) == 25_000_000 and dho900.memory_depth(1e9, 2) == 50_000_000
    assert RigolDS1000Z(ScriptedTransport([]), idn="RIGOL TECHNOLOGIES,DS1202Z-E,X,00.06").max_channels == 2
    assert RigolMSO5000(ScriptedTransport([]), idn="RIGOL TECHNOLOGIES,DHO802,X,00.01").max_channels == 2
    with pytest.raises(InstrumentError, match="channel 3 does not exist"):
        RigolDS1000Z(ScriptedTransport([]), idn="RIGOL TECHNOLOGIES,DS1202Z-E,X,00.06").check_channel(3)


def test_mso5000_ten_divisions():
    mso = RigolMSO5000(ScriptedTransport([]), idn="RIGOL TECHNOLOGIES,MSO5074,X,00.01")
    assert mso.horizontal_divisions == 10 and RigolDS1000Z(ScriptedTransport([])).horizontal_divisions == 12
