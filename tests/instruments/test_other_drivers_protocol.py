"""Tektronix, Siglent and R&S: exact command sequences against scripted replies, conversions by hand."""

import struct

import numpy as np
import pytest

from instruments.detect import driver_for_idn
from instruments.errors import InstrumentError
from instruments.rohde_schwarz import RohdeSchwarzRTB
from instruments.scope import AcquisitionSetup, ChannelSetup
from instruments.siglent import SiglentSDS, depth_text, parse_depth, parse_wavedesc
from instruments.tektronix import TektronixMSO
from tests.instruments.scripted import ScriptedTransport, block

V = ChannelSetup(channel=1, probe_ratio=10.0, volts_per_div=2.0, offset_v=19.0, coupling="DC", bandwidth_limit=True)
I = ChannelSetup(channel=2, probe_ratio=1.0, volts_per_div=0.01, offset_v=0.0, coupling="DC", bandwidth_limit=False)
ACQ = AcquisitionSetup(window_s=1.2, sample_rate_hz=1e6, pretrigger=0.1)


# ---------------------------------------------------------------- Tektronix

def tek_ok(cmd):
    return [(cmd, None), ("*ESR?", "0")]


def tek_channel(n, probe, scale, offset, bw, gain="1.0000"):
    return (tek_ok(f"DISplay:GLObal:CH{n}:STATE 1") + [(f"CH{n}:PROBe:GAIN?", gain)]
            + tek_ok(f"CH{n}:PROBEFunc:EXTAtten {probe}")
            + tek_ok(f"CH{n}:SCAle {scale}") + tek_ok(f"CH{n}:POSition 0") + tek_ok(f"CH{n}:OFFSet {offset}")
            + tek_ok(f"CH{n}:COUPling DC") + tek_ok(f"CH{n}:BANdwidth {bw}"))


def test_tektronix_configure():
    script = ([("HEADer OFF", None), ("*CLS", None)]
              + tek_channel(1, "10", "2", "19", "20.0000E+06") + tek_channel(2, "1", "0.01", "0", "FULl")
              + tek_ok("HORizontal:MODe MANual") + tek_ok("HORizontal:MODe:RECOrdlength 1200000")
              + tek_ok("HORizontal:SCAle 0.12") + tek_ok("HORizontal:DELay:MODe OFF")
              + tek_ok("HORizontal:POSition 10")
              + [("HORizontal:SCAle?", "120.0000E-3"), ("HORizontal:MODe:SAMPLERate?", "1.0000E+6"),
                 ("HORizontal:MODe:RECOrdlength?", "1200000"), ("HORizontal:POSition?", "10.0000"),
                 ("CH1:BANdwidth?", "20.0000E+6"), ("CH1:PROBEFunc:EXTAtten?", "10.0000"),
                 ("CH1:PROBe:GAIN?", "1.0000"), ("CH1:SCAle?", "2.0000"),
                 ("CH1:OFFSet?", "19.0000"), ("CH1:COUPling?", "DC"),
                 ("CH2:BANdwidth?", "1.0000E+9"), ("CH2:PROBEFunc:EXTAtten?", "1.0000"),
                 ("CH2:PROBe:GAIN?", "1.0000"), ("CH2:SCAle?", "10.0000E-3"),
                 ("CH2:OFFSet?", "0.0E+0"), ("CH2:COUPling?", "DC")])
    t = ScriptedTransport(script)
    applied = TektronixMSO(t).configure(V, I, ACQ)
    t.assert_done()
    assert applied.voltage.bandwidth_limit and not applied.current.bandwidth_limit
    assert applied.voltage.probe_ratio == 10.0
    assert applied.acquisition.window_s == pytest.approx(1.2) and applied.acquisition.pretrigger == pytest.approx(0.1)


def test_tektronix_probe_gain_is_not_counted_twice():
    # a TPP/TekVPI 10X probe sets CH1:PROBe:GAIN to 0.1 (4/5/6 Series programmer manual): the bench's 10:1 is
    # already applied, so EXTAtten stays 1 (setting it to 10 would read the board 10x low)
    t = ScriptedTransport([("CH1:PROBe:GAIN?", "100.0000E-3")])
    assert TektronixMSO(t)._external_attenuation(V) == pytest.approx(1.0)
    t = ScriptedTransport([("CH1:PROBe:GAIN?", "100.0000E-3")])
    with pytest.raises(InstrumentError, match="10X probe attached but the bench says probe_ratio = 1"):
        TektronixMSO(t)._external_attenuation(ChannelSetup(1, 1.0, 2.0, 19.0))


def test_tektronix_conversion_against_a_published_reply():
    # TDS Family programmer manual, WFMPre:<wfm>? example reply: XINCR 10.00E-6; XZERO 8.15E-6; PT_OFF -249;
    # YMULT 4.000E-3; YOFF 0.0E+0; YZERO 0.0E+0. By hand (value = (code - YOFF) * YMULT + YZERO,
    # time = XZERO + XINCR * (i - PT_OFF)): code 25 -> 0.1 V, sample 0 at 8.15e-6 + 249 * 10e-6 s
    codes = np.array([25, -25], dtype="<i2")
    script = [("HORizontal:MODe:RECOrdlength?", "2"), ("DATa:SOUrce CH1", None), ("DATa:ENCdg SRIbinary", None),
              ("DATa:WIDth 2", None), ("DATa:RESOlution FULL", None), ("DATa:STARt 1", None), ("DATa:STOP 2", None),
              ("WFMOutpre:YMUlt?", "4.000E-3"), ("WFMOutpre:YOFf?", "0.0E+0"), ("WFMOutpre:YZEro?", "0.0E+0"),
              ("WFMOutpre:XINcr?", "10.00E-6"), ("WFMOutpre:XZEro?", "8.15E-6"), ("WFMOutpre:PT_Off?", "-249"),
              ("WFMOutpre:NR_Pt?", "2"), ("CURVe?", block(codes.tobytes(), digits=1))]
    t = ScriptedTransport(script)
    w = TektronixMSO(t).fetch(1)
    t.assert_done()
    assert list(w.volts()) == pytest.approx([0.1, -0.1])
    assert w.times(0, 2) == pytest.approx([8.15e-6 + 249 * 10e-6, 8.15e-6 + 250 * 10e-6])


def test_tektronix_refused_setting_reads_the_event_queue():
    t = ScriptedTransport([("HEADer OFF", None), ("*CLS", None), ("DISplay:GLObal:CH1:STATE 1", None),
                           ("*ESR?", "32"), ("ALLEv?", '-102,"Syntax error; input: DISplay:GLObal:CH1:STATE 1"')])
    with pytest.raises(InstrumentError, match="refused 'DISplay:GLObal:CH1:STATE 1': -102"):
        TektronixMSO(t).configure(V, I, ACQ)


def test_tektronix_arm_status_fetch_and_conversion():
    codes = np.array([-32768, 0, 2560, 32767], dtype="<i2")   # includes 0x0A00 bytes
    script = (tek_ok("TRIGger:A:TYPe EDGE") + tek_ok("TRIGger:A:EDGE:SOUrce CH2") + tek_ok("TRIGger:A:LEVel:CH2 0.005")
              + tek_ok("TRIGger:A:EDGE:SLOpe RISe") + tek_ok("TRIGger:A:MODe NORMal")
              + tek_ok("ACQuire:STOPAfter SEQuence")
              + [("ACQuire:STATE RUN", None), ("ACQuire:STATE?", "1"), ("TRIGger FORCe", None),
                 ("ACQuire:STATE?", "0"),
                 ("HORizontal:MODe:RECOrdlength?", "4"), ("DATa:SOUrce CH1", None), ("DATa:ENCdg SRIbinary", None),
                 ("DATa:WIDth 2", None), ("DATa:RESOlution FULL", None), ("DATa:STARt 1", None), ("DATa:STOP 4", None),
                 ("WFMOutpre:YMUlt?", "312.5E-6"), ("WFMOutpre:YOFf?", "0.0E+0"), ("WFMOutpre:YZEro?", "19.0"),
                 ("WFMOutpre:XINcr?", "1.0E-6"), ("WFMOutpre:XZEro?", "-100.0E-6"), ("WFMOutpre:PT_Off?", "0"),
                 ("WFMOutpre:NR_Pt?", "4"), ("CURVe?", block(codes.tobytes(), digits=1))])
    t = ScriptedTransport(script)
    s = TektronixMSO(t)
    s.arm_single(2, 0.005)
    assert not s.acquisition_done()
    s.force_trigger()
    assert s.acquisition_done()
    w = s.fetch(1)
    t.assert_done()
    # (code - YOFf) * YMUlt + YZEro
    assert list(w.volts()) == pytest.approx([19 - 10.24, 19.0, 19.8, 19 + 32767 * 312.5e-6])
    assert w.times() == pytest.approx([-100e-6, -99e-6, -98e-6, -97e-6])


# ---------------------------------------------------------------- Siglent

def wavedesc(points=4, vdiv=2.0, voffset=-19.0, code_per_div=25.0, interval=1e-6, delay=0.0, probe=10.0):
    d = bytearray(346)
    struct.pack_into("<i", d, 0x74, points)
    struct.pack_into("<f", d, 0x9C, vdiv)
    struct.pack_into("<f", d, 0xA0, voffset)
    struct.pack_into("<f", d, 0xA4, code_per_div)
    struct.pack_into("<h", d, 0xAC, 8)
    struct.pack_into("<f", d, 0xB0, interval)
    struct.pack_into("<d", d, 0xB4, delay)
    struct.pack_into("<f", d, 0x148, probe)
    return bytes(d)


def sig_ok(cmd):
    return [(cmd, None), (":SYSTem:ERRor?", '0,"No error"')]


def siglent_configure_script(bw_on="20M", bw_off="FULL", ch2_scale_reply="1.00E-02", ch1_bw_reply="20M"):
    script = [("*CLS", None)]
    for n, probe, scale, off, bw in ((1, "10", "2", "-19", bw_on), (2, "1", "0.01", "-0", bw_off)):
        script += (sig_ok(f":CHANnel{n}:SWITch ON") + sig_ok(f":CHANnel{n}:PROBe VALue,{probe}")
                   + sig_ok(f":CHANnel{n}:SCALe {scale}") + sig_ok(f":CHANnel{n}:OFFSet {off}")
                   + sig_ok(f":CHANnel{n}:COUPling DC") + sig_ok(f":CHANnel{n}:BWLimit {bw}"))
    script += (sig_ok(":ACQuire:MDEPth 10M") + sig_ok(":TIMebase:SCALe 0.12") + sig_ok(":TIMebase:DELay 0.48")
               + [(":CHANnel1:PROBe?", "VALue,1.00E+01"), (":CHANnel1:SCALe?", "2.00E+00"),
                  (":CHANnel1:OFFSet?", "-1.90E+01"), (":CHANnel1:COUPling?", "DC"), (":CHANnel1:BWLimit?", ch1_bw_reply),
                  (":CHANnel2:PROBe?", "VALue,1.00E+00"), (":CHANnel2:SCALe?", ch2_scale_reply),
                  (":CHANnel2:OFFSet?", "0.00E+00"), (":CHANnel2:COUPling?", "DC"), (":CHANnel2:BWLimit?", bw_off)])
    return script


def test_siglent_configure_reads_back_and_detects_refusal():
    t = ScriptedTransport(siglent_configure_script(ch2_scale_reply="5.00E-03"))
    with pytest.raises(InstrumentError, match="applied CH2 volts/div = 0.005 where 0.01 was asked"):
        SiglentSDS(t, idn="Siglent Technologies,SDS2504X Plus,X,3.8").configure(V, I, ACQ)


def test_siglent_bandwidth_words_by_model_and_checked():
    # SDS2000X Plus: 20M/FULL (scopehal's driver); SDS800X HD / SDS1000X HD: ON/OFF (their programming guide)
    assert SiglentSDS(ScriptedTransport([]), idn="Siglent Technologies,SDS2504X Plus,X,3.8")._bw_words == ("20M", "FULL")
    assert SiglentSDS(ScriptedTransport([]), idn="Siglent Technologies,SDS824X HD,X,1.1")._bw_words == ("ON", "OFF")
    t = ScriptedTransport(siglent_configure_script(bw_on="ON", bw_off="OFF", ch1_bw_reply="OFF"))
    with pytest.raises(InstrumentError, match="CH1 bandwidth limit reads back off where on was asked"):
        SiglentSDS(t, idn="Siglent Technologies,SDS824X HD,X,1.1").configure(V, I, ACQ)


def test_siglent_refused_setting_names_the_error_queue():
    t = ScriptedTransport([("*CLS", None), (":CHANnel1:SWITch ON", None),
                           (":SYSTem:ERRor?", '-113,"Undefined header"'), (":SYSTem:ERRor?", '0,"No error"')])
    with pytest.raises(InstrumentError, match="refused ':CHANnel1:SWITch ON': -113"):
        SiglentSDS(t, idn="Siglent Technologies,SDS2504X Plus,X,3.8").configure(V, I, ACQ)


def test_siglent_wavedesc_paged_fetch_and_conversion_with_the_probe():
    # WAVEDESC carries vdiv and the offset at the scope's input and the probe apart (SDS programming guide's
    # reading example multiplies both by the probe): 0.2 V/div and -1.9 V with a 10:1 probe are 2 V/div and
    # -19 V at the tip; the trigger delay is added to the time axis, as that example does
    codes = np.array([0, 25, -25, 10, 127, -128], dtype=np.int8)
    desc = wavedesc(points=6, vdiv=0.2, voffset=-1.9, code_per_div=25.0, interval=1e-6, delay=0.48, probe=10.0)
    script = [(":WAVeform:INTerval 1", None), (":WAVeform:SOURce C1", None), (":WAVeform:WIDTh BYTE", None),
              (":WAVeform:PREamble?", block(desc, digits=9, terminators=b"\n\n")),
              (":TIMebase:SCALe?", "1.20E-01"), (":WAVeform:MAXPoint?", "4"), (":WAVeform:POINt 4", None),
              (":WAVeform:STARt 0", None), (":WAVeform:DATA?", block(codes[:4].tobytes(), prefix=b"C1:WF DAT2,",
                                                                     terminators=b"\n\n")),
              (":WAVeform:STARt 4", None), (":WAVeform:DATA?", block(codes[4:].tobytes(), terminators=b"\n\n"))]
    t = ScriptedTransport(script)
    w = SiglentSDS(t).fetch(1)
    t.assert_done()
    # code / 25 * (0.2 V * 10) - (-1.9 V * 10)
    assert list(w.volts()) == pytest.approx([19.0, 21.0, 17.0, 19.8, 19 + 127 * 0.08, 19 - 128 * 0.08], rel=1e-6)
    # -tdiv * 10 / 2 + i * interval + delay = -0.6 + 0.48 + i us
    assert w.times(0, 2) == pytest.approx([-0.12, -0.12 + 1e-6])


def test_siglent_wavedesc_checks():
    with pytest.raises(InstrumentError, match="346"):
        parse_wavedesc(b"\0" * 100, "s")
    with pytest.raises(InstrumentError, match="unusable"):
        parse_wavedesc(wavedesc(interval=0.0), "s")
    with pytest.raises(InstrumentError, match="corrupt"):
        parse_wavedesc(wavedesc(vdiv=float("nan")), "s")
    assert depth_text(10_000_000) == "10M" and depth_text(100_000) == "100k"
    assert parse_depth("1.00E+07", "s") == 10_000_000 and parse_depth("10M", "s") == 10_000_000


def test_siglent_status_not_sticky():
    t = ScriptedTransport(sig_ok(":TRIGger:TYPE EDGE") + sig_ok(":TRIGger:EDGE:SOURce C2")
                          + sig_ok(":TRIGger:EDGE:LEVel 0.005") + sig_ok(":TRIGger:EDGE:SLOPe RISing") + [
                           (":TRIGger:MODE SINGle", None), (":TRIGger:STATus?", "Ready"),
                           (":TRIGger:MODE FTRIG", None), (":TRIGger:STATus?", "Stop")])
    s = SiglentSDS(t)
    s._window_s = 100
    s.arm_single(2, 0.005)
    assert not s.acquisition_done()
    s.force_trigger()
    assert s.acquisition_done()
    t.assert_done()


# ---------------------------------------------------------------- Rohde & Schwarz

def rs_ok(cmd):
    return [(cmd, None), ("SYSTem:ERRor?", '0,"No error"')]


def test_rs_configure_arm_status():
    script = [("*CLS", None)]
    for n, probe, scale, off, bw in ((1, "10", "2", "19", "B20"), (2, "1", "0.01", "0", "FULL")):
        script += (rs_ok(f"CHANnel{n}:STATe ON") + rs_ok(f"PROBe{n}:SETup:ATTenuation:MANual {probe}")
                   + rs_ok(f"CHANnel{n}:SCALe {scale}") + rs_ok(f"CHANnel{n}:POSition 0")
                   + rs_ok(f"CHANnel{n}:OFFSet {off}") + rs_ok(f"CHANnel{n}:COUPling DCLimit")
                   + rs_ok(f"CHANnel{n}:BANDwidth {bw}"))
    script += (rs_ok("TIMebase:RANGe 1.2") + rs_ok("TIMebase:REFerence 50") + rs_ok("TIMebase:POSition 0.48")
               + rs_ok("ACQuire:POINts 1200000")
               + [("TIMebase:RANGe?", "1.2"), ("TIMebase:POSition?", "0.48"), ("ACQuire:SRATe?", "1E6"),
                  ("ACQuire:POINts?", "1200000"),
                  ("CHANnel1:COUPling?", "DCL"), ("PROBe1:SETup:ATTenuation:MANual?", "10"), ("CHANnel1:SCALe?", "2"),
                  ("CHANnel1:OFFSet?", "19"), ("CHANnel1:BANDwidth?", "B20"),
                  ("CHANnel2:COUPling?", "DCL"), ("PROBe2:SETup:ATTenuation:MANual?", "1"),
                  ("CHANnel2:SCALe?", "0.01"), ("CHANnel2:OFFSet?", "0"), ("CHANnel2:BANDwidth?", "FULL")])
    script += (rs_ok("TRIGger:A:MODE NORMal") + rs_ok("TRIGger:A:TYPE EDGE") + rs_ok("TRIGger:A:SOURce CH2")
               + rs_ok("TRIGger:A:LEVel2:VALue 0.005") + rs_ok("TRIGger:A:EDGE:SLOPe POSitive")
               + [("SINGle", None), ("ACQuire:STATe?", "RUN"), ("*TRG", None), ("ACQuire:STATe?", "COMP")])
    t = ScriptedTransport(script)
    s = RohdeSchwarzRTB(t)
    applied = s.configure(V, I, ACQ)
    assert applied.voltage.bandwidth_limit and applied.acquisition.pretrigger == pytest.approx(0.1)
    s.arm_single(2, 0.005)
    assert not s.acquisition_done()
    s.force_trigger()
    assert s.acquisition_done()
    t.assert_done()


def test_rs_fetch_and_conversion():
    codes = bytes([0, 128, 10, 255])
    script = [("FORMat UINT,8", None), ("FORMat:BORDer LSBFirst", None), ("CHANnel2:DATA:POINts MAX", None),
              # the header in the manual's form (CHANnel<m>:DATA:HEADer? example "-9.477E-008,9.477E-008,120000,1")
              ("CHANnel2:DATA:HEADer?", "-1.000E-004,-9.600E-005,4,1"), ("CHANnel2:DATA:XORigin?", "-1.0E-4"),
              ("CHANnel2:DATA:XINCrement?", "1.0E-6"), ("CHANnel2:DATA:YORigin?", "-0.08"),
              ("CHANnel2:DATA:YINCrement?", "0.000625"), ("CHANnel2:DATA?", block(codes, digits=1))]
    t = ScriptedTransport(script)
    w = RohdeSchwarzRTB(t).fetch(2)
    t.assert_done()
    # YOR + YINC * code
    assert list(w.volts()) == pytest.approx([-0.08, 0.0, -0.07375, 0.079375])
    assert w.times() == pytest.approx([-1e-4, -0.99e-4, -0.98e-4, -0.97e-4])


# ---------------------------------------------------------------- detection

@pytest.mark.parametrize("idn,driver", [
    ("KEYSIGHT TECHNOLOGIES,DSO-X 3024T,MY12345678,07.50", "keysight-infiniivision"),
    ("AGILENT TECHNOLOGIES,MSO-X 2024A,MY123,02.43", "keysight-infiniivision"),
    ("RIGOL TECHNOLOGIES,DS1054Z,DS1ZA123,00.04.04", "rigol-ds1000z"),
    ("RIGOL TECHNOLOGIES,MSO5074,MS5A123,00.01.03", "rigol-mso5000"),
    ("RIGOL TECHNOLOGIES,DHO924S,DHO9A123,00.01.00", "rigol-mso5000"),
    ("TEKTRONIX,MSO58,C012345,CF:91.1CT FV:1.30", "tektronix-mso"),
    ("TEKTRONIX,MSO44,C012345,CF:91.1CT FV:1.30", "tektronix-mso"),
    ("Siglent Technologies,SDS2504X Plus,SDS2P123,3.8.12", "siglent-sds"),
    ("Siglent Technologies,SDS824X HD,SDS08A123,1.1.3", "siglent-sds"),
    ("Rohde&Schwarz,RTB2004,1333.1005k04/123,02.300", "rs-rtb"),
    ("ROHDE&SCHWARZ,RTM3004,1335.8794k04/123,01.550", "rs-rtb"),
])
def test_driver_chosen_by_idn(idn, driver):
    assert driver_for_idn(idn) == driver


def test_unknown_idn_names_the_reply_and_the_drivers():
    with pytest.raises(InstrumentError, match="HAMEG.*rigol-ds1000z"):
        driver_for_idn("HAMEG,HMO1002,123,05.886")


def test_ten_vertical_divisions_where_the_family_has_them():
    # Tektronix 4/5/6 Series and R&S RTB2000 show 10 vertical divisions; Keysight, Rigol and Siglent 8
    from instruments.keysight import KeysightInfiniiVision
    from instruments.rigol import RigolDS1000Z
    assert TektronixMSO(ScriptedTransport([]), idn="TEKTRONIX,MSO54,X,FV:1").vertical_divisions == 10
    assert RohdeSchwarzRTB(ScriptedTransport([]), idn="Rohde&Schwarz,RTB2004,X,02.300").vertical_divisions == 10
    for cls in (KeysightInfiniiVision, RigolDS1000Z, SiglentSDS):
        assert cls(ScriptedTransport([])).vertical_divisions == 8


def test_rs_header_from_the_manual_cross_checks_the_time_base():
    # RTM2000 user manual, CHANnel<m>:DATA:HEADer? example: "-9.477E-008,9.477E-008,200000,1" (xstart, xstop,
    # record length, values per sample): 189.54 ns over 200 000 samples is an XINCrement of 9.477e-13 s
    codes = bytes(range(256)) * 781 + bytes(64)
    def script(xinc):
        return [("FORMat UINT,8", None), ("FORMat:BORDer LSBFirst", None), ("CHANnel1:DATA:POINts MAX", None),
                ("CHANnel1:DATA:HEADer?", "-9.477E-008,9.477E-008,200000,1"), ("CHANnel1:DATA:XORigin?", "-9.477E-008"),
                ("CHANnel1:DATA:XINCrement?", xinc), ("CHANnel1:DATA:YORigin?", "-0.08"),
                ("CHANnel1:DATA:YINCrement?", "0.000625"), ("CHANnel1:DATA?", block(codes, digits=6))]
    w = RohdeSchwarzRTB(ScriptedTransport(script("9.477E-013"))).fetch(1)
    assert len(w) == 200_000 and w.times(1, 2)[0] == pytest.approx(-9.477e-8 + 9.477e-13)
    with pytest.raises(InstrumentError, match="disagrees with 200000 points"):
        RohdeSchwarzRTB(ScriptedTransport(script("9.477E-012"))).fetch(1)
