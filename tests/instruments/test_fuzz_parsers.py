"""Block and preamble parsers under arbitrary input: an InstrumentError or a correct result, nothing else."""

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from instruments.errors import InstrumentError
from instruments.keysight import preamble_waveform
from instruments.rigol import rigol_waveform
from instruments.siglent import parse_wavedesc
from tests.instruments.scripted import ScriptedTransport, block

BLOCK = re.compile(rb"^([^#\n]{0,64})#([1-9])", re.S)


def read(reply: bytes):
    t = ScriptedTransport([(":DATA?", reply)])
    return t.read_block(":DATA?", np.uint8)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=80))
def test_arbitrary_bytes(reply):
    try:
        out = read(reply)
    except InstrumentError:
        return
    m = BLOCK.match(reply)
    assert m, reply
    ndig = int(m.group(2))
    start = m.end()
    length = int(reply[start:start + ndig])
    payload = reply[start + ndig:start + ndig + length]
    assert out.tobytes() == payload and len(payload) == length
    assert reply[start + ndig + length:] in (b"\n", b"\r\n")


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=300), digits=st.integers(3, 9),
       prefix=st.sampled_from([b"", b"C1:WF DAT2,", b"  "]))
def test_valid_blocks_round_trip(payload, digits, prefix):
    assert read(block(payload, digits=digits, prefix=prefix)).tobytes() == payload


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(min_size=1, max_size=200), cut=st.integers(0, 300), extra=st.binary(min_size=1, max_size=5))
def test_short_and_long_blocks_are_errors(payload, cut, extra):
    full = block(payload, digits=9)
    short = full[:min(cut, len(full) - 1)]
    for reply in (short, full[:-1] + extra):
        try:
            out = read(reply)
        except InstrumentError:
            continue
        # only a reply that holds the whole block and its newline may succeed; bytes after it belong to the next
        # reply, as on a real connection
        assert reply.startswith(full) and out.tobytes() == payload


number = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=6),
                   st.integers(-10, 10).map(str))


@settings(max_examples=300, deadline=None)
@given(st.lists(number, min_size=0, max_size=12))
def test_preambles(parts):
    reply = ",".join(parts)
    codes = np.zeros(4, dtype=np.uint8)
    for parse in (lambda: preamble_waveform(reply, codes, 1, "s"),
                  lambda: rigol_waveform(reply, codes, 1, "s", 0, 255)):
        try:
            w = parse()
        except InstrumentError:
            continue
        v = w.volts()
        assert np.all(np.isfinite(v)) or not np.isfinite(w.y_increment * 255)
        assert w.x_increment > 0 and w.y_increment != 0


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=346, max_size=346))
def test_wavedesc(desc):
    try:
        d = parse_wavedesc(desc, "s")
    except InstrumentError:
        return
    assert all(np.isfinite(v) for v in d.values())
    assert d["interval"] > 0 and d["code_per_div"] > 0 and d["vdiv"] > 0
