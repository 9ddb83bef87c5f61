"""The window streamed while it arrives gives exactly what a scan of the finished record gives, and a download
that stops midway leaves what arrived in the session."""

import numpy as np
import pytest

from app.capture.stream import WindowStream
from app.measure.energy import ROW, SUMMARY_FIELDS
from app.session.reader import SessionReader
from app.session.writer import SessionWriter
from tests.helpers import wave_from_volts


def waves(n=300_000, deskew_samples=0.0):
    rng = np.random.default_rng(4)
    t = np.arange(n) * 1e-6
    v = 19.0 - 0.02 * np.sin(2 * np.pi * 50 * t) + rng.normal(0, 0.002, n)
    i = 0.5 + 0.3 * (np.sin(2 * np.pi * 7 * t) > 0) + rng.normal(0, 0.002, n)
    # code 0 is 18 V and 4 mV (a scope's offset setting): the affine maps' offsets are not zero
    vw = wave_from_volts(v, gain_v=1e-3, x_increment=1e-6, dtype=np.int16, y_origin=18.0)
    iw = wave_from_volts(i * 0.01, gain_v=5e-6, x_increment=1e-6, dtype=np.int16, channel=2, y_origin=0.004)
    return vw, iw


def new_stream(window, deskew_s=0.0, **kwargs):
    """A stream for a 0.01 ohm shunt, the voltage measured at the board."""
    return WindowStream(window, shunt_ohm=0.01, amps_per_volt=None, measured_at="board", deskew_s=deskew_s,
                        current_zero_v=0.0, **kwargs)


def stream_through(window, vw, iw, chunk_bytes, deskew_s=0.0):
    st = new_stream(window, deskew_s)
    for name, w in (("voltage", vw), ("current", iw)):
        st.current = name
        st.announce(w)
        total = w.codes.nbytes
        for b in range(0, total, chunk_bytes):
            st.chunk(b, min(total, b + chunk_bytes))
    return st


def rows_by_hand(vw, iw, shift_samples):
    """Per-row sums and extremes of V, I and P (rows of ROW samples, the last one short), from the codes."""
    v = vw.codes.astype(np.float64) * vw.y_increment + vw.y_origin
    amps = (iw.codes.astype(np.float64) * iw.y_increment + iw.y_origin) / 0.01
    whole, frac = int(np.floor(shift_samples)), shift_samples - np.floor(shift_samples)
    n = len(v) - whole - (1 if frac else 0)
    i = (1 - frac) * amps[whole:whole + n] + (frac * amps[whole + 1:whole + 1 + n] if frac else 0.0)
    v = v[:n]
    p = v * i
    edges = list(range(0, n, ROW))
    out = {}
    for name, arr in (("p", p), ("v", v), ("i", i)):
        parts = [arr[a:a + ROW] for a in edges]
        out[f"{name}_sum"] = np.array([x.sum() for x in parts])
        out[f"{name}_min"] = np.array([x.min() for x in parts])
        out[f"{name}_max"] = np.array([x.max() for x in parts])
    out["p2_sum"] = np.array([np.dot(p[a:a + ROW], p[a:a + ROW]) for a in edges])
    return out


@pytest.mark.parametrize("chunk_bytes,deskew_s", [(1 << 20, 0.0), (65_536, 0.0), (4_096, 2.5e-6)])
def test_streamed_rows_equal_a_scan_of_the_whole_record(tmp_path, chunk_bytes, deskew_s):
    vw, iw = waves()
    with SessionWriter(tmp_path / "s.h5", bench_toml="", resource="sim") as w:
        run = w.begin_run()
        window = run.begin_window()
        st = stream_through(window, vw, iw, chunk_bytes, deskew_s)
        trace, summary, means = st.finish()
        window.finish(summary)
        run.finish({})
    # the rows worked out here from the codes, not by the scan the stream runs (energy.py's definitions):
    # V = code·gain (wave_from_volts: code 0 = 0 V); I = code·gain / 0.01 ohm at t_k + deskew, linear between
    # current samples (2.5 µs = 2.5 samples: halfway between current samples k + 2 and k + 3); P = V·I
    expected = rows_by_hand(vw, iw, deskew_s / 1e-6)
    assert len(summary.p_sum) == len(expected["p_sum"])
    for f in SUMMARY_FIELDS:
        got, want = getattr(summary, f), expected[f]
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want))), f
    assert means["voltage"] == pytest.approx(float(np.mean(vw.volts())), rel=1e-12)
    with SessionReader(tmp_path / "s.h5") as s:
        stored = s.run(1).window(1)
        assert np.array_equal(stored.current.code_slice(), iw.codes)      # every code, in whole chunks
        assert stored.attrs["status"] == "complete"


def drop_download(path, landed):
    """A session whose window's download stopped: `landed` is [(channel name, wave, bytes that arrived)], in
    download order; then the connection dropped."""
    with SessionWriter(path, bench_toml="", resource="sim") as w:
        run = w.begin_run()
        st = new_stream(run.begin_window())
        for name, wave, nbytes in landed:
            st.current = name
            st.announce(wave)
            st.chunk(0, nbytes)
        st.abandon("the download stopped: connection dropped")
        run.finish({}, status="incomplete", reason="connection dropped")


def test_a_download_that_stops_midway_keeps_what_arrived(tmp_path):
    vw, iw = waves()
    drop_download(tmp_path / "s.h5", [("voltage", vw, 200_000)])   # 100 000 int16 samples, then it dropped
    with SessionReader(tmp_path / "s.h5") as s:
        window = s.run(1).window(1)
        assert window.attrs["status"] == "incomplete" and "connection dropped" in window.attrs["reason"]
        assert '"voltage": 100000' in window.attrs["samples_arrived"]
        assert np.array_equal(window.group["voltage"][:100_000], vw.codes[:100_000])


def test_the_launch_edge_is_found_while_the_record_still_arrives(tmp_path):
    # 1 µs a sample, trigger at t = 0 with 20 ms before it; the board idles at 0.2 A and its current steps to
    # 0.9 A at t = -3 ms (sample 17 000), the workload's launch. The search averages over SMOOTH_S = 200 samples,
    # so the edge lies within one averaging window after the step: [-3.000 ms, -2.800 ms].
    import time

    from app.measure.region import idle_band_exit_s
    n, pre = 100_000, 20_000
    rng = np.random.default_rng(11)
    t = (np.arange(n) - pre) * 1e-6
    i = np.where(t >= -3e-3, 0.9, 0.2) + rng.normal(0, 0.003, n)
    vw = wave_from_volts(19.0 + rng.normal(0, 0.002, n), gain_v=1e-3, x_increment=1e-6, x_origin=-pre * 1e-6)
    iw = wave_from_volts(i * 0.01, gain_v=5e-6, x_increment=1e-6, x_origin=-pre * 1e-6, channel=2)
    with SessionWriter(tmp_path / "s.h5", bench_toml="", resource="sim") as w:
        window = w.begin_run().begin_window()
        st = new_stream(window, find_launch_edge=True)
        for name, wave in (("voltage", vw), ("current", iw)):
            st.current = name
            st.announce(wave)
            upto = wave.codes.nbytes if name == "voltage" else 2 * 30_000     # the current: 30 % of it so far
            for b in range(0, upto, 8_192):
                st.chunk(b, min(upto, b + 8_192))
        deadline = time.monotonic() + 10
        while st.launch_edge is None and time.monotonic() < deadline:
            time.sleep(0.01)
        found = st.launch_edge                    # before the rest of the current channel has arrived
        for b in range(2 * 30_000, iw.codes.nbytes, 8_192):
            st.chunk(b, min(iw.codes.nbytes, b + 8_192))
        trace, _, _ = st.finish()
        window.abandon("test", {})
    assert found is not None and found == idle_band_exit_s(trace)
    assert -3.0e-3 <= found[0] <= -2.8e-3


def test_a_download_that_stops_in_the_current_channel_keeps_the_scaling_and_no_overview(tmp_path):
    # the scaling of both channels is stored while they arrive, so what arrived can still be read in volts;
    # the overview tables, prepared empty while the record arrived, are removed: they were never computed
    vw, iw = waves()
    # all of the voltage, half of the current channel, then the link dropped
    drop_download(tmp_path / "s.h5", [("voltage", vw, vw.codes.nbytes), ("current", iw, 2 * 150_000)])
    with SessionReader(tmp_path / "s.h5") as s:
        window = s.run(1).window(1)
        assert "overview" not in window.group
        assert window.group["current"].attrs["shunt_ohm"] == 0.01
        assert window.group["current"].attrs["y_increment"] == 5e-6        # wave_from_volts' gain, as given
        assert np.array_equal(window.group["current"][:150_000], iw.codes[:150_000])
