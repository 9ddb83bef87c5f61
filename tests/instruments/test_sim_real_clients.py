"""The simulated scope as a client written for the real instruments sees it: plain pyvisa, the queries and
formats the programming guides document, not only what Joulebench's drivers send."""

import numpy as np
import pytest
import pyvisa

from instruments.sim.server import SimScope
from instruments.sim.sources import ProfileSource, load_profile

QUIET = "supply_v = 19.0\nsource_ohm = 0.0\nshunt_ohm = 0.01\nnoise_v = 0.0\nnoise_a = 0.0\ninitial_a = 0.25\n"


@pytest.fixture
def visa():
    rm = pyvisa.ResourceManager("@py")
    opened = []

    def open_(sim):
        inst = rm.open_resource(sim.resource, read_termination="\n", write_termination="\n", timeout=3000)
        opened.append(inst)
        return inst
    yield open_
    for inst in opened:
        inst.close()
    rm.close()


def quiet_sim(tmp_path, persona):
    p = tmp_path / "profile.toml"
    p.write_text(QUIET)
    return SimScope(persona=persona, source=ProfileSource(load_profile(p)))


def test_keysight_compound_timebase_ascii_download_and_measurement(tmp_path, visa):
    with quiet_sim(tmp_path, "keysight") as sim:
        inst = visa(sim)
        inst.write(":TIMebase:RANGe 0.01;:TIMebase:POSition 0.001")
        # InfiniiVision guide: :TIMebase? answers every timebase setting in one reply
        reply = inst.query(":TIMebase?")
        assert reply.startswith(":TIM:MODE MAIN;REF CENT;MAIN:RANG +1.00000000E-02;POS +1.00000000E-03")
        inst.write(":CHANnel1:PROBe 10;:CHANnel1:SCALe 2;:CHANnel1:OFFSet 19")
        inst.write(":SINGle")
        inst.write(":TRIGger:FORCe")
        while int(inst.query(":OPERegister:CONDition?")) & 8:
            pass
        assert inst.query("*OPC?") == "1"
        inst.write(":WAVeform:SOURce CHANnel1;:WAVeform:FORMat ASCii;:WAVeform:POINts 100")
        raw = inst.query(":WAVeform:DATA?")
        assert raw.startswith("#8")
        volts = np.array([float(x) for x in raw[10:].split(",")])
        # the quiet board: 19 V - 0.25 A * 0.01 ohm, within one code (2 V/div / 32 codes)
        assert volts.mean() == pytest.approx(18.9975, abs=2 / 32)
        assert float(inst.query(":MEASure:VAVerage? DISPlay,CHANnel1")) == pytest.approx(18.9975, rel=1e-9)


def test_unknown_header_goes_to_the_queue_and_the_message_gets_no_reply(tmp_path, visa):
    with quiet_sim(tmp_path, "keysight") as sim:
        inst = visa(sim)
        inst.timeout = 500
        with pytest.raises(pyvisa.errors.VisaIOError):
            inst.query("*IDN?;:NOSUCH:THING?")              # no partial reply: not even the *IDN?
        inst.timeout = 3000
        assert inst.query(":SYSTem:ERRor?") == '-113,"Undefined header"'
        assert inst.query(":SYSTem:ERRor?") == '+0,"No error"'


def test_tektronix_curve_read_by_pyvisa_binary_values(tmp_path, visa):
    with quiet_sim(tmp_path, "tektronix") as sim:
        inst = visa(sim)
        for cmd in ("HEADer OFF", "CH1:PROBEFunc:EXTAtten 10", "CH1:SCAle 2", "CH1:OFFSet 19",
                    "HORizontal:MODe:RECOrdlength 1000", "HORizontal:SCAle 0.001", "ACQuire:STOPAfter SEQuence",
                    "ACQuire:STATE RUN", "TRIGger FORCe"):
            inst.write(cmd)
        while inst.query("ACQuire:STATE?") != "0":
            pass
        inst.write("DATa:SOUrce CH1;:DATa:ENCdg SRIbinary;:DATa:WIDth 2;:DATa:STARt 1;:DATa:STOP 1000")
        ymult, yoff, yzero = (float(inst.query(f"WFMOutpre:{f}?")) for f in ("YMUlt", "YOFf", "YZEro"))
        codes = np.array(inst.query_binary_values("CURVe?", datatype="h", is_big_endian=False))
        assert len(codes) == 1000
        volts = (codes - yoff) * ymult + yzero
        assert volts.mean() == pytest.approx(18.9975, abs=2 / 6250 * 2)
        assert float(inst.query("MEASUrement:MEAS1:RESUlts:CURRentacq:MEAN?")) == pytest.approx(18.9975)
