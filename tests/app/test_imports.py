"""Other tools' recordings (app/session/imports/): a JLS file written by pyjls's own writer and a Power Profiler
CSV export written here in the app's format (its header and rows as the Power Profiler app's CSV export writes
them: `Timestamp(ms),Current(uA),D0-D7`, one row per sample), read back with known values."""

from __future__ import annotations

import csv

import numpy as np
import pyjls
import pytest

from app.errors import SessionError
from app.session.data_export import export_range
from app.session.imports.jls import open_jls
from app.session.imports.ppk import open_ppk_csv

RATE_HZ = 1000


def write_jls(path, *, voltage=True, n=2000):
    """0.5 A for the first half, 0.25 A for the second, at 1 kHz; 3.3 V (all float32, as the Joulescope writes)."""
    i = np.where(np.arange(n) < n // 2, 0.5, 0.25).astype(np.float32)
    with pyjls.Writer(str(path)) as w:
        w.source_def(source_id=1, name="JS220", vendor="Jetperch", model="JS220", version="1.0",
                     serial_number="000123")
        w.signal_def(1, source_id=1, sample_rate=RATE_HZ, name="current", units="A")
        w.fsr(1, 0, i)
        if voltage:
            w.signal_def(2, source_id=1, sample_rate=RATE_HZ, name="voltage", units="V")
            w.fsr(2, 0, np.full(n, 3.3, dtype=np.float32))
    return i


def test_jls_written_by_pyjls_reads_back_with_its_rate_and_units(tmp_path):
    i = write_jls(tmp_path / "r.jls")
    with open_jls(tmp_path / "r.jls") as rec:
        assert rec.sample_rate_hz == RATE_HZ and rec.samples == 2000 and rec.read_only
        ds = rec.dataset(start_s=0.998, stop_s=1.001)
        np.testing.assert_allclose(ds["time"].values, [0.998, 0.999, 1.0, 1.001], atol=1e-12)
        np.testing.assert_array_equal(ds["current"].values, [0.5, 0.5, 0.25, 0.25])
        assert ds["current"].attrs["units"] == "A" and ds["power"].attrs["units"] == "W"
        totals = rec.totals()
        v32 = float(np.float32(3.3))                   # the voltage as stored
        # charge: 0.5 A · 1 s + 0.25 A · 1 s; energy: that times the stored 3.3 V
        assert totals["charge_c"] == pytest.approx(0.75, rel=1e-12)
        assert totals["energy_j"] == pytest.approx(0.75 * v32, rel=1e-12)
        assert "JS220" in ds.attrs["instrument"] and "run boundaries" in ds.attrs["lacks"]
        coarse = rec.dataset(points=4)                 # 500 samples a row
        np.testing.assert_allclose(coarse["current"].values, [0.5, 0.5, 0.25, 0.25])
        np.testing.assert_array_equal(i[:3], rec.read("current", 0, 3))


def test_jls_with_current_only_lacks_voltage_and_energy(tmp_path):
    write_jls(tmp_path / "i.jls", voltage=False)
    with open_jls(tmp_path / "i.jls") as rec:
        assert [name for name, _ in rec.columns()] == ["current"]
        assert rec.totals()["energy_j"] is None and any("voltage" in x for x in rec.lacks)


def test_jls_truncated_unknown_version_or_foreign_is_one_clear_error(tmp_path):
    write_jls(tmp_path / "r.jls")
    data = (tmp_path / "r.jls").read_bytes()
    (tmp_path / "cut.jls").write_bytes(data[: len(data) // 2])
    with pytest.raises(SessionError, match=r"cut.jls: .*truncated"):
        open_jls(tmp_path / "cut.jls")
    newer = bytearray(data)
    newer[27] = 9                                      # the version's major byte (u32 little-endian at 24)
    (tmp_path / "v9.jls").write_bytes(bytes(newer))
    with pytest.raises(SessionError, match=r"v9.jls: .*JLS format 9\.0\.0"):
        open_jls(tmp_path / "v9.jls")
    (tmp_path / "text.jls").write_text("Timestamp(ms),Current(uA)\n" + "0.01,1.000\n" * 10)
    with pytest.raises(SessionError, match="not a JLS v2 file"):
        open_jls(tmp_path / "text.jls")


def write_ppk(path, *, skip=(), bits=True, cut=None):
    """100 kS/s (10 µs a sample): 1000 µA for 500 samples, then 2000 µA for 500, as the app exports (time in ms,
    current to 3 decimals, the eight digital inputs as one string)."""
    lines = ["Timestamp(ms),Current(uA)" + (",D0-D7" if bits else "")]
    for k in range(1000):
        if k in skip:
            continue
        ua = 1000.0 if k < 500 else 2000.0
        lines.append(f"{k * 10 / 1000},{ua:.3f}" + (",10101010" if bits else ""))
    text = "\n".join(lines) + "\n"
    path.write_text(text if cut is None else text[:cut])


def test_ppk_export_reads_back_as_amperes_on_its_grid(tmp_path):
    write_ppk(tmp_path / "p.csv", skip={10})
    rec = open_ppk_csv(tmp_path / "p.csv")
    assert rec.sample_rate_hz == pytest.approx(100_000, rel=1e-9) and rec.samples == 1000
    assert rec.attrs["missing_samples"] == 1 and np.isnan(rec.read("current", 10, 11)[0])
    np.testing.assert_allclose(rec.read("current", 498, 502), [1e-3, 1e-3, 2e-3, 2e-3], rtol=1e-12)
    totals = rec.totals()
    # 499 samples of 1 mA (one missing) and 500 of 2 mA, 10 µs each
    assert totals["charge_c"] == pytest.approx((499 * 1e-3 + 500 * 2e-3) * 1e-5, rel=1e-9)
    assert totals["energy_j"] is None and any("ampere-meter" in x for x in rec.lacks)


def test_ppk_with_the_source_meter_voltage_gives_power_marked_as_set(tmp_path):
    write_ppk(tmp_path / "p.csv", bits=False)
    rec = open_ppk_csv(tmp_path / "p.csv", supply_v=3.0)
    assert rec.totals()["energy_j"] == pytest.approx(3.0 * (500 * 1e-3 + 500 * 2e-3) * 1e-5, rel=1e-9)
    assert rec.attrs["voltage_source"].startswith("set")
    res = export_range(rec, tmp_path / "out.csv", 0.0, 0.00002)           # samples 0, 1, 2
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert res.rows == 3 and rows[0] == ["time_s", "voltage_v", "current_a", "power_w"]
    assert [float(r[0]) for r in rows[1:]] == [0.0, 1e-5, 2e-5] and float(rows[1][3]) == pytest.approx(3e-3)


def test_ppk_truncated_or_unknown_is_one_clear_error(tmp_path):
    write_ppk(tmp_path / "cut.csv", cut=200)               # ends in the middle of a row
    with pytest.raises(SessionError, match=r"cut.csv: the last row has no line end: the export is truncated"):
        open_ppk_csv(tmp_path / "cut.csv")
    (tmp_path / "half.csv").write_text("Timestamp(ms),Current(uA)\n0,1.000\n0.01,2.000\n0.02\n")
    with pytest.raises(SessionError, match=r"half.csv: line 4 is incomplete"):
        open_ppk_csv(tmp_path / "half.csv")
    (tmp_path / "other.csv").write_text("time,amps,volts\n0,1,2\n")
    with pytest.raises(SessionError, match=r"other.csv: not a Power Profiler CSV export.*'time,amps,volts'"):
        open_ppk_csv(tmp_path / "other.csv")
    (tmp_path / "no_time.csv").write_text("Current(uA)\n1.0\n2.0\n")
    with pytest.raises(SessionError, match="pass sample_rate_hz"):
        open_ppk_csv(tmp_path / "no_time.csv")
    assert open_ppk_csv(tmp_path / "no_time.csv", sample_rate_hz=100_000).samples == 2
