"""The simulated scope driven by client libraries no one here wrote, and by the programming guides' example
programs, the way their documentation shows: channel 1 with a 10:1 probe, one single acquisition, channel 1
downloaded and scaled. Every persona serves at least two of them.

The board is the quiet profile: 0.25 A from a 19 V supply through the 0.01 ohm shunt and no wiring resistance,
no noise, so channel 1 carries 19 - 0.25 * 0.01 = 18.9975 V at every sample. Each check allows one code of the
channel's scale (the scope's quantisation) and asks for exactly the record that was configured.

| persona   | clients here                                                                      |
|-----------|-----------------------------------------------------------------------------------|
| keysight  | PyMeasure KeysightDSOX1102G; pyvisa over VXI-11 after the guide's :DIGitize example |
| siglent   | PyMeasure SDS1000XHD; pyvisa after the guide's waveform-reading example           |
| rigol     | the ds1054z package (python-vxi11); pyvisa after the guide's RAW-read example      |
| rigol-dho | python-vxi11 and pyvisa, each after the DHO guide's paged WORD read               |
| tektronix | tm_devices (Tektronix's device manager); pyvisa after the manual's CURVe? example |
| rs        | RsInstrument (R&S's package, status checking on); pyvisa after the manual's UINT read |

Clients that only speak VXI-11 find the portmapper through a port number their modules hold (111, which a test
cannot bind without privileges); the tests point that number at the simulator's portmapper.
"""

from __future__ import annotations

import logging
import struct
import time

import numpy as np
import pytest
import pyvisa

from instruments.sim.server import SimScope
from instruments.sim.sources import ProfileSource, load_profile

log = logging.getLogger(__name__)

QUIET = "supply_v = 19.0\nsource_ohm = 0.0\nshunt_ohm = 0.01\nnoise_v = 0.0\nnoise_a = 0.0\ninitial_a = 0.25\n"
BOARD_V = 19.0 - 0.25 * 0.01          # 18.9975 V: supply - I * shunt

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning",
                                        "ignore::DeprecationWarning")


@pytest.fixture
def quiet(tmp_path):
    p = tmp_path / "quiet.toml"
    p.write_text(QUIET)
    sims = []

    def make(persona: str, **kwargs) -> SimScope:
        sim = SimScope(persona=persona, source=ProfileSource(load_profile(p)), **kwargs)
        sims.append(sim)
        return sim
    yield make
    for sim in sims:
        sim.close()


@pytest.fixture
def portmapper(monkeypatch):
    """Point the VXI-11 clients' portmapper port (a module constant, 111) at a simulator's portmapper."""
    def use(sim: SimScope) -> None:
        import pyvisa_py.protocols.rpc
        import vxi11.rpc
        monkeypatch.setattr(vxi11.rpc, "PMAP_PORT", sim.vxi11.portmapper_port)
        monkeypatch.setattr(pyvisa_py.protocols.rpc, "PMAP_PORT", sim.vxi11.portmapper_port)
    return use


@pytest.fixture
def rm():
    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


def socket_session(rm, sim: SimScope):
    return rm.open_resource(sim.resource, read_termination="\n", write_termination="\n", timeout=3000)


def read_block(inst) -> bytes:
    """An IEEE 488.2 definite-length block read by its header's count (binary data holds 0x0A bytes)."""
    while inst.read_bytes(1) != b"#":
        pass
    digits = int(inst.read_bytes(1))
    count = int(inst.read_bytes(digits))
    data = inst.read_bytes(count)
    return data


def wait_until(predicate, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the simulated acquisition did not complete")
        time.sleep(0.01)


def assert_board(volts, points: int, code_v: float) -> None:
    volts = np.asarray(volts, dtype=np.float64)
    log.info("%d samples, mean %.6f V (board %.6f V, one code %.4f V)", len(volts), volts.mean(), BOARD_V, code_v)
    assert len(volts) == points
    assert np.all(np.abs(volts - BOARD_V) <= code_v)


# -- Keysight InfiniiVision --------------------------------------------------------------------------------------
def test_keysight_pymeasure_dsox1102g(quiet):
    from pymeasure.instruments.keysight import KeysightDSOX1102G
    sim = quiet("keysight")
    scope = KeysightDSOX1102G(sim.resource, read_termination="\n", write_termination="\n")
    try:
        scope.ch1.setup(probe_attenuation=10, scale=2, offset=19)
        scope.timebase_setup(horizontal_range=1e-4)
        scope.write(":TRIGger:SWEep AUTO")
        scope.digitize("channel1")                 # the driver's docs: :DIGitize, then wait for it
        assert scope.ask("*OPC?").strip() == "1"
        data, preamble = scope.download_data(source="channel1", points=1000)
    finally:
        scope.adapter.close()
    assert preamble["points"] == 1000 and preamble["type"] == "NORMAL" and preamble["yreference"] == 128
    assert_board(data, 1000, 2 / 32)               # 8 divisions of 256 codes: 32 codes a division


def test_keysight_guide_digitize_over_vxi11(quiet, portmapper, rm):
    # InfiniiVision programmer's guide, the example program's sequence: *RST, set up, :DIGitize CHANnel1, then
    # :WAVeform:POINts:MODE RAW, :FORMat BYTE, :PREamble? and :DATA?; here over VXI-11 (TCPIP::host::inst0::INSTR)
    sim = quiet("keysight", vxi11=True)
    portmapper(sim)
    inst = rm.open_resource(sim.vxi11_resource, timeout=3000)
    try:
        inst.write("*RST")
        inst.write(":CHANnel1:PROBe 10;:CHANnel1:SCALe 2;:CHANnel1:OFFSet 19")
        inst.write(":TIMebase:RANGe 1E-5")          # 10 us at 1 GSa/s: 10 000 points
        inst.write(":DIGitize CHANnel1")
        assert inst.query("*OPC?").strip() == "1"
        inst.write(":WAVeform:SOURce CHANnel1;:WAVeform:POINts:MODE RAW;:WAVeform:POINts MAX;:WAVeform:FORMat BYTE")
        pre = inst.query(":WAVeform:PREamble?").strip().split(",")
        codes = np.array(inst.query_binary_values(":WAVeform:DATA?", datatype="B", container=np.array))
        points = int(inst.query(":ACQuire:POINts?"))
    finally:
        inst.close()
    assert [int(pre[k]) for k in (0, 1, 3, 6, 9)] == [0, 0, 1, 0, 128]
    yinc, yorg, yref = float(pre[7]), float(pre[8]), int(pre[9])
    assert_board((codes - yref) * yinc + yorg, points, 2 / 32)


# -- Siglent SDS -------------------------------------------------------------------------------------------------
def test_siglent_pymeasure_sds1000xhd(quiet):
    from pymeasure.instruments.siglenttechnologies.siglent_sds1000xhd import SDS1000XHD
    sim = quiet("siglent")
    scope = SDS1000XHD(sim.resource, timeout=500, read_termination="\n", write_termination="\n")
    try:
        scope.channel_1.probe = 10
        scope.channel_1.scale = 2
        scope.channel_1.offset = -19               # Siglent: the centre of the screen is -offset
        scope.timebase.scale = 1e-3
        scope.acquisition.memory_depth = "10K"
        scope.trigger.mode = "SINGle"
        scope.trigger.mode = "FTRIG"               # the quiet board has no edge: force the trigger
        wait_until(lambda: scope.trigger.status == "Stop")
        scope.wf_C1.source = "C1"
        times, volts = scope.wf_C1.get_data()
    finally:
        scope.adapter.close()
    assert times[0] == pytest.approx(-5e-3) and times[1] - times[0] == pytest.approx(1e-6, rel=1e-4)
    assert_board(volts, 10_000, 2 / 25)            # 25 codes a division


def test_siglent_guide_waveform_reading_example(quiet, rm):
    # SDS programming guide, the example "read waveform data": :WAVeform:STARt 0, :WAVeform:SOURce, the WAVEDESC
    # from :WAVeform:PREamble?, :ACQuire:POINts? and :WAVeform:MAXPoint? for the pieces, :WAVeform:WIDTh BYTE,
    # then volts = code / code_per_div * vdiv - offset with vdiv and offset times the probe field
    sim = quiet("siglent")
    inst = socket_session(rm, sim)
    try:
        for cmd in (":CHANnel1:PROBe VALue,10", ":CHANnel1:SCALe 2", ":CHANnel1:OFFSet -19", ":TIMebase:SCALe 1E-3",
                    ":ACQuire:MDEPth 10K", ":TRIGger:MODE SINGle", ":TRIGger:MODE FTRIG"):
            inst.write(cmd)
        wait_until(lambda: inst.query(":TRIGger:STATus?") == "Stop")
        inst.write(":WAVeform:STARt 0;:WAVeform:SOURce C1")
        inst.write(":WAVeform:PREamble?")
        desc = read_block(inst)
        inst.read_bytes(2)                         # the two newlines after a Siglent block
        vdiv, voffset, code_per_div = struct.unpack_from("<3f", desc, 0x9C)
        probe = struct.unpack_from("<f", desc, 0x148)[0]
        points = int(float(inst.query(":ACQuire:POINts?")))
        piece = int(float(inst.query(":WAVeform:MAXPoint?")))
        inst.write(":WAVeform:WIDTh BYTE")
        codes = bytearray()
        for start in range(0, points, piece):
            inst.write(f":WAVeform:STARt {start}")
            inst.write(":WAVeform:DATA?")
            codes += read_block(inst)
            inst.read_bytes(2)
    finally:
        inst.close()
    assert len(desc) == 346 and desc[:8] == b"WAVEDESC"
    signed = np.frombuffer(bytes(codes), dtype=np.int8).astype(np.float64)
    assert_board(signed / code_per_div * vdiv * probe - voffset * probe, 10_000, 2 / 25)


# -- Rigol DS1000Z -----------------------------------------------------------------------------------------------
def test_rigol_ds1054z_package_over_vxi11(quiet, portmapper):
    from ds1054z import DS1054Z
    sim = quiet("rigol", vxi11=True)
    portmapper(sim)
    scope = DS1054Z(sim.host)
    try:
        assert scope.product == "DS1104Z"
        scope.set_probe_ratio(1, 10)
        scope.set_channel_scale(1, 2)
        scope.set_channel_offset(1, -19)           # Rigol: the centre of the screen is -offset
        scope.timebase_scale = 1e-3
        scope.memory_depth = 6000                  # two channels on: 6 000 is a legal depth
        scope.single()
        time.sleep(0.05)
        scope.tforce()
        wait_until(lambda: scope.query(":TRIGger:STATus?") == "STOP")
        volts = scope.get_waveform_samples(1, mode="RAW")
        preamble = scope.waveform_preamble_dict    # parses format..count, xref, yorigin, yref with int()
    finally:
        scope.close()
    assert preamble["pnts"] == 6000 and preamble["typ"] == 2 and preamble["yref"] == 127
    assert_board(volts, 6000, 2 / 25)


def test_rigol_guide_raw_read(quiet, rm):
    # MSO1000Z/DS1000Z programming guide, "read the waveform data in the internal memory": :STOP,
    # :WAVeform:SOURce, :MODE RAW, :FORMat BYTE, :STARt/:STOP pages of at most 250 000 points, :PREamble? and
    # volts = (code - yorigin - yreference) * yincrement
    sim = quiet("rigol")
    inst = socket_session(rm, sim)
    try:
        for cmd in (":CHANnel1:PROBe 10", ":CHANnel1:SCALe 2", ":CHANnel1:OFFSet -19", ":TIMebase:MAIN:SCALe 1E-3",
                    ":ACQuire:MDEPth 6000", ":SINGle", ":TFORce"):
            inst.write(cmd)
        wait_until(lambda: inst.query(":TRIGger:STATus?") == "STOP")
        inst.write(":WAVeform:SOURce CHANnel1;:WAVeform:MODE RAW;:WAVeform:FORMat BYTE")
        depth = int(inst.query(":ACQuire:MDEPth?"))
        pre = inst.query(":WAVeform:PREamble?").split(",")
        codes = bytearray()
        for start in range(1, depth + 1, 250_000):
            inst.write(f":WAVeform:STARt {start};:WAVeform:STOP {min(depth, start + 249_999)}")
            inst.write(":WAVeform:DATA?")
            codes += read_block(inst)
            inst.read_bytes(1)
    finally:
        inst.close()
    fmt, typ, points, count, xref, yorigin, yref = (int(pre[k]) for k in (0, 1, 2, 3, 6, 8, 9))
    assert (fmt, typ, points, count, xref, yref) == (0, 2, 6000, 1, 0, 127)
    yinc = float(pre[7])
    assert_board((np.frombuffer(bytes(codes), np.uint8).astype(np.int64) - yorigin - yref) * yinc, 6000, 2 / 25)


# -- Rigol DHO800/900 --------------------------------------------------------------------------------------------
def dho_guide_read(write, query, read_block_fn) -> tuple[np.ndarray, list[str]]:
    """DHO800/900 programming guide, reading the memory: the same tree as the DS1000Z, 12-bit samples as WORD
    codes, pages of at most 125 000 points."""
    for cmd in (":CHANnel1:PROBe 10", ":CHANnel1:SCALe 2", ":CHANnel1:OFFSet -19", ":TIMebase:MAIN:SCALe 1E-3",
                ":ACQuire:MDEPth 10000", ":SINGle", ":TFORce"):
        write(cmd)
    wait_until(lambda: query(":TRIGger:STATus?") == "STOP")
    write(":WAVeform:SOURce CHANnel1;:WAVeform:MODE RAW;:WAVeform:FORMat WORD")
    depth = int(float(query(":ACQuire:MDEPth?")))
    pre = query(":WAVeform:PREamble?").split(",")
    codes = bytearray()
    for start in range(1, depth + 1, 125_000):
        write(f":WAVeform:STARt {start};:WAVeform:STOP {min(depth, start + 124_999)}")
        codes += read_block_fn(":WAVeform:DATA?")
    return np.frombuffer(bytes(codes), "<u2"), pre


def dho_volts(codes: np.ndarray, pre: list[str]) -> np.ndarray:
    assert [int(pre[k]) for k in (0, 1, 3, 6, 9)] == [1, 2, 1, 0, 32768]
    return (codes.astype(np.int64) - int(pre[8]) - int(pre[9])) * float(pre[7])


def test_rigol_dho_guide_read_with_python_vxi11(quiet, portmapper):
    import vxi11
    sim = quiet("rigol-dho", vxi11=True)
    portmapper(sim)
    inst = vxi11.Instrument(sim.host)
    try:
        def block(query: str) -> bytes:
            raw = inst.ask_raw(query.encode())
            digits = int(raw[1:2])
            return raw[2 + digits:2 + digits + int(raw[2:2 + digits])]
        codes, pre = dho_guide_read(inst.write, inst.ask, block)
    finally:
        inst.close()
    assert_board(dho_volts(codes, pre), 10_000, 2 / 7500)


def test_rigol_dho_guide_read_with_pyvisa(quiet, rm):
    sim = quiet("rigol-dho")
    inst = socket_session(rm, sim)
    try:
        def block(query: str) -> bytes:
            inst.write(query)
            data = read_block(inst)
            inst.read_bytes(1)
            return data
        codes, pre = dho_guide_read(inst.write, inst.query, block)
    finally:
        inst.close()
    assert_board(dho_volts(codes, pre), 10_000, 2 / 7500)


# -- Tektronix 4/5/6 Series --------------------------------------------------------------------------------------
def test_tektronix_tm_devices(quiet):
    from tm_devices import DeviceManager, LoggingLevels, configure_logging
    configure_logging(log_console_level=LoggingLevels.NONE, log_file_level=LoggingLevels.NONE,
                      log_uncaught_exceptions=False)
    sim = quiet("tektronix")
    with DeviceManager(verbose=False) as dm:
        dm.visa_library = "@py"                    # PyVISA-py, as the docs say for a machine without a VISA
        scope = dm.add_scope(sim.host, connection_type="SOCKET", port=sim.port)
        scope.turn_channel_on("CH1")
        scope.commands.ch[1].probefunc.extatten.write(10)
        scope.commands.ch[1].scale.write(2)
        scope.commands.ch[1].offset.write(19)
        scope.commands.horizontal.mode.write("MANUAL")
        scope.commands.horizontal.mode.recordlength.write(1000)
        scope.commands.horizontal.scale.write(1e-3)
        scope.commands.trigger.a.mode.write("AUTO")
        scope.single_sequence()                    # STOPAfter SEQuence, STATE 1, *OPC?
        codes = np.array(scope.curve_query(1))     # asks :DATA:SOURCE:AVAIL? first, then CURVE? in ASCII
        ymult, yoff, yzero = (float(scope.query(f"WFMOutpre:{f}?")) for f in ("YMUlt", "YOFf", "YZEro"))
    assert_board((codes - yoff) * ymult + yzero, 1000, 2 / 25)     # 1-byte codes: 25 a division


def test_tektronix_manual_curve_example_with_pyvisa(quiet, rm):
    # 4/5/6 Series programmer manual, "Waveform transfer": DATa:SOUrce, DATa:ENCdg SRIbinary, DATa:WIDth 2,
    # the WFMOutpre fields, CURVe? as a definite block; volts = (code - YOFf) * YMUlt + YZEro
    sim = quiet("tektronix")
    inst = socket_session(rm, sim)
    try:
        for cmd in ("HEADer OFF", "CH1:PROBEFunc:EXTAtten 10", "CH1:SCAle 2", "CH1:OFFSet 19",
                    "HORizontal:MODe MANual", "HORizontal:MODe:RECOrdlength 1000", "HORizontal:SCAle 1E-3",
                    "TRIGger:A:MODe AUTO", "ACQuire:STOPAfter SEQuence", "ACQuire:STATE RUN"):
            inst.write(cmd)
        assert inst.query("*OPC?") == "1"
        assert "CH1" in inst.query("DATa:SOUrce:AVAILable?").split(",")
        inst.write("DATa:SOUrce CH1;:DATa:ENCdg SRIbinary;:DATa:WIDth 2;:DATa:STARt 1;:DATa:STOP 1000")
        ymult, yoff, yzero = (float(inst.query(f"WFMOutpre:{f}?")) for f in ("YMUlt", "YOFf", "YZEro"))
        codes = np.array(inst.query_binary_values("CURVe?", datatype="h", is_big_endian=False))
        assert inst.query("*ESR?") == "0"          # nothing refused: no event bits
    finally:
        inst.close()
    assert_board((codes - yoff) * ymult + yzero, 1000, 2 / 6250)


# -- Rohde & Schwarz RTB2000 -------------------------------------------------------------------------------------
def test_rohde_schwarz_rsinstrument_with_status_checking(quiet):
    from RsInstrument import BinFloatFormat, RsInstrument
    sim = quiet("rs")
    rtb = RsInstrument(sim.resource, True, False)  # id query on, no reset at open
    try:
        rtb.visa_timeout = 3000
        rtb.opc_timeout = 3000
        rtb.instrument_status_checking = True      # *STB? and SYST:ERR? after every command
        rtb.clear_status()
        rtb.reset()
        rtb.write_str("TIM:ACQT 0.01")
        rtb.write_str("ACQ:POIN 10000")
        rtb.write_str("PROB1:SET:ATT:MAN 10")
        rtb.write_str("CHAN1:RANG 20.0")           # 2 V a division
        rtb.write_str("CHAN1:OFFS 19")
        rtb.write_str("TRIG:A:MODE AUTO")
        rtb.write_str_with_opc("SINGle", 3000)     # SINGle;*OPC, then *STB? until the ESB bit
        header = rtb.query_str("CHAN1:DATA:HEAD?").split(",")
        ascii_volts = rtb.query_bin_or_ascii_float_list("FORM ASC;:CHAN1:DATA?")
        rtb.bin_float_numbers_format = BinFloatFormat.Single_4bytes
        real_volts = rtb.query_bin_or_ascii_float_list("FORM REAL;:CHAN1:DATA?")
        with pytest.raises(Exception, match="Undefined header"):
            rtb.write_str("CHAN1:NOSUCH 1")        # the status check finds the error the scope queued
    finally:
        rtb.close()
    assert int(header[2]) == 10_000 and int(header[3]) == 1
    assert_board(ascii_volts, 10_000, 2 / 25)
    assert_board(real_volts, 10_000, 2 / 25)


def test_rohde_schwarz_manual_uint_read_with_pyvisa(quiet, rm):
    # RTB2000 user manual, "Reading waveform data in unsigned integer format": FORM UINT,8, CHAN1:DATA:HEAD?, the
    # XORigin/XINCrement/YORigin/YINCrement queries and CHAN1:DATA?; volts = YORigin + YINCrement * code
    sim = quiet("rs")
    inst = socket_session(rm, sim)
    try:
        for cmd in ("*RST", "TIM:RANG 0.01", "ACQ:POIN 10000", "PROB1:SET:ATT:MAN 10", "CHAN1:SCAL 2",
                    "CHAN1:OFFS 19", "TRIG:A:MODE AUTO"):
            inst.write(cmd)
        assert inst.query("SING;*OPC?") == "1"     # *OPC? chained after the single: answered once it is done
        inst.write("FORM UINT,8")
        assert inst.query("FORM?") == "UINT,8"
        xstart, xstop, points, per = inst.query("CHAN1:DATA:HEAD?").split(",")
        yor, yinc = float(inst.query("CHAN1:DATA:YOR?")), float(inst.query("CHAN1:DATA:YINC?"))
        codes = np.array(inst.query_binary_values("CHAN1:DATA?", datatype="B", container=np.array))
        assert inst.query("SYST:ERR?") == '0,"No error"'
    finally:
        inst.close()
    assert (int(points), int(per)) == (10_000, 1) and float(xstop) - float(xstart) == pytest.approx(0.01)
    assert_board(yor + yinc * codes, 10_000, 2 / 25)
