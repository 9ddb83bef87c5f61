"""The simulated scope's VXI-11 listener through pyvisa-py's VXI-11 client (TCPIP::host::inst0::INSTR) and
python-vxi11: the status byte with MAV, device clear, a block read in several device_read calls, a read with
nothing to read, and a link the listener does not know."""

from __future__ import annotations

import numpy as np
import pytest
import pyvisa

from instruments.sim.server import SimScope

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


@pytest.fixture
def sim(monkeypatch):
    import pyvisa_py.protocols.rpc
    import vxi11.rpc
    with SimScope(persona="keysight", source="demo", vxi11=True) as s:
        # the clients look for the portmapper on a port their modules hold (111); point it at this one
        monkeypatch.setattr(pyvisa_py.protocols.rpc, "PMAP_PORT", s.vxi11.portmapper_port)
        monkeypatch.setattr(vxi11.rpc, "PMAP_PORT", s.vxi11.portmapper_port)
        yield s


@pytest.fixture
def inst(sim):
    rm = pyvisa.ResourceManager("@py")
    session = rm.open_resource(sim.vxi11_resource, timeout=2000, read_termination="\n")
    yield session
    session.close()
    rm.close()


def test_query_and_the_status_byte_with_mav(inst, sim):
    assert inst.query("*IDN?") == sim.persona.idn
    inst.write("*IDN?")
    assert inst.read_stb() & 16                   # MAV: the reply waits in the output buffer
    assert inst.read() == sim.persona.idn
    assert inst.read_stb() & 16 == 0
    inst.write("*ESE 32;:NO:SUCH")
    assert inst.read_stb() & 32                   # ESB: the command error, enabled by *ESE
    assert inst.query(":SYSTem:ERRor?") == '-113,"Undefined header"'


def test_device_clear_empties_the_output_buffer(inst):
    inst.write("*IDN?")
    inst.clear()
    assert inst.read_stb() & 16 == 0
    assert inst.query("*OPC?") == "1"


def test_a_block_longer_than_one_read_arrives_whole(inst):
    # :DIGitize one acquisition of 200 000 points (200 us at 1 GSa/s), read RAW as BYTE: pyvisa asks for it in
    # chunks smaller than the block, each device_read ending with REQCNT until the last one's END
    inst.chunk_size = 4096
    inst.write(":TIMebase:RANGe 2E-4;:TRIGger:SWEep AUTO;:DIGitize CHANnel1")
    assert inst.query("*OPC?") == "1"
    inst.write(":WAVeform:SOURce CHANnel1;:WAVeform:POINts:MODE RAW;:WAVeform:POINts MAX;:WAVeform:FORMat BYTE")
    codes = inst.query_binary_values(":WAVeform:DATA?", datatype="B", container=np.array)
    assert len(codes) == 200_000 == int(inst.query(":WAVeform:POINts?"))


def test_reading_with_nothing_to_read_times_out(inst):
    inst.timeout = 300
    with pytest.raises(pyvisa.errors.VisaIOError):
        inst.read()


def test_python_vxi11_links_and_an_unknown_link(sim):
    import vxi11
    a, b = vxi11.Instrument(sim.host), vxi11.Instrument(sim.host)
    try:
        a.write("*IDN?")
        assert b.ask("*OPC?") == "1"              # each link has its own output buffer
        assert a.read() == sim.persona.idn
        assert sim.vxi11._core_call(11, _write_call(999, b"*IDN?\n"))[:4] == b"\0\0\0\x04"   # invalid link id
    finally:
        a.close()
        b.close()


def _write_call(link: int, data: bytes):
    from instruments.sim.vxi11 import _Xdr
    payload = (link.to_bytes(4, "big") + (1000).to_bytes(4, "big") + (1000).to_bytes(4, "big")
               + (8).to_bytes(4, "big") + len(data).to_bytes(4, "big") + data + b"\0" * (-len(data) % 4))
    return _Xdr(payload)
