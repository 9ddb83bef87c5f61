"""The window streamed while it arrives gives exactly what a scan of the finished record gives, and a download
that stops midway leaves what arrived in the session."""

import numpy as np
import pytest

from app.energy import PowerTrace, summarise, SUMMARY_FIELDS
from app.session import SessionWriter
from app.session_reader import SessionReader
from app.stream import WindowStream
from tests.helpers import wave_from_volts


def waves(n=300_000, deskew_samples=0.0):
    rng = np.random.default_rng(4)
    t = np.arange(n) * 1e-6
    v = 19.0 - 0.02 * np.sin(2 * np.pi * 50 * t) + rng.normal(0, 0.002, n)
    i = 0.5 + 0.3 * (np.sin(2 * np.pi * 7 * t) > 0) + rng.normal(0, 0.002, n)
    vw = wave_from_volts(v, gain_v=1e-3, x_increment=1e-6, dtype=np.int16)
    iw = wave_from_volts(i * 0.01, gain_v=5e-6, x_increment=1e-6, dtype=np.int16, channel=2)
    return vw, iw


def stream_through(window, vw, iw, chunk_bytes, deskew_s=0.0):
    st = WindowStream(window, shunt_ohm=0.01, amps_per_volt=None, measured_at="board", deskew_s=deskew_s,
                      current_zero_v=0.0)
    for name, w in (("voltage", vw), ("current", iw)):
        st.current = name
        st.announce(w)
        total = w.codes.nbytes
        for b in range(0, total, chunk_bytes):
            st.chunk(b, min(total, b + chunk_bytes))
    return st


@pytest.mark.parametrize("chunk_bytes,deskew_s", [(1 << 20, 0.0), (65_536, 0.0), (4_096, 2.5e-6)])
def test_streamed_rows_equal_a_scan_of_the_whole_record(tmp_path, chunk_bytes, deskew_s):
    vw, iw = waves()
    with SessionWriter(tmp_path / "s.h5", bench_toml="", resource="sim") as w:
        run = w.begin_run()
        window = run.begin_window()
        st = stream_through(window, vw, iw, chunk_bytes, deskew_s)
        trace, summary, means = st.finish()
        window.set_scaling("voltage", vw, {})
        window.set_scaling("current", iw, {"shunt_ohm": 0.01})
        window.finish(summary)
        run.finish({})
    reference = summarise(PowerTrace(vw, iw, shunt_ohm=0.01, deskew_s=deskew_s))
    for f in SUMMARY_FIELDS:
        assert np.array_equal(getattr(summary, f), getattr(reference, f)), f
    assert means["voltage"] == pytest.approx(float(np.mean(vw.volts())), rel=1e-12)
    with SessionReader(tmp_path / "s.h5") as s:
        stored = s.run(1).window(1)
        assert np.array_equal(stored.current.code_slice(), iw.codes)      # every code, in whole chunks
        assert stored.attrs["status"] == "complete"


def test_a_download_that_stops_midway_keeps_what_arrived(tmp_path):
    vw, iw = waves()
    with SessionWriter(tmp_path / "s.h5", bench_toml="", resource="sim") as w:
        run = w.begin_run()
        window = run.begin_window()
        st = WindowStream(window, shunt_ohm=0.01, amps_per_volt=None, measured_at="board", deskew_s=0.0,
                          current_zero_v=0.0)
        st.current = "voltage"
        st.announce(vw)
        st.chunk(0, 200_000)                              # 100 000 int16 samples, then the connection dropped
        st.abandon("the download stopped: connection dropped")
        run.finish({}, status="incomplete", reason="connection dropped")
    with SessionReader(tmp_path / "s.h5") as s:
        window = s.run(1).window(1)
        assert window.attrs["status"] == "incomplete" and "connection dropped" in window.attrs["reason"]
        assert '"voltage": 100000' in window.attrs["samples_arrived"]
        assert np.array_equal(window.group["voltage"][:100_000], vw.codes[:100_000])
