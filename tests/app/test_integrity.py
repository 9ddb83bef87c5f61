"""Every byte of a session checked (docs/sessions.md, "Every byte checked"): a changed digit in a run's
record_json, a changed y_increment, a damaged overview table or object header is found when the file is opened,
the damaged run is named and left out with its reason, `report` exits 2, and nothing crashes. Damage is done as
a bad disk would do it: bytes changed in place in the file, not through HDF5.

The session: one run, 20 V (int8 code 100 of 0.2 V) and 0.4125 A (code 100 of 41.25 µV across 0.01 ohm), busy
for 0.6 s: by hand P = 20 V x 0.4125 A = 8.25 W and E = 8.25 W x 0.6 s = 4.95 J."""

import csv
import re
import struct
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from app.bench.config import UncertaintyConfig
from app.errors import SessionError
from app.measure.analysis import WindowData, analyse_run
from app.measure.energy import PowerTrace, summarise
from app.session.reader import SessionReader
from app.session.writer import SessionWriter
from instruments.waveform import Waveform

ROOT = Path(__file__).resolve().parents[2]
SHUNT_OHM = 0.01
I_GAIN_V = 41.25e-6                    # a value found once in the file, so that its bytes can be found
E_BY_HAND_J = 20.0 * (100 * I_GAIN_V / SHUNT_OHM) * 0.6


def write_one_run(path: Path, runs: int = 1) -> Path:
    n, pre, dx = 1000, 100, 1e-3
    v = Waveform(codes=np.full(n, 100, np.int8), y_increment=0.2, y_origin=0.0, y_reference=0.0, x_increment=dx,
                 x_origin=-pre * dx, code_min=-128, code_max=127, channel=1)
    i_codes = np.full(n, 100, np.int8)
    i_codes[:pre] = 40
    i = Waveform(codes=i_codes, y_increment=I_GAIN_V, y_origin=0.0, y_reference=0.0, x_increment=dx,
                 x_origin=-pre * dx, code_min=-128, code_max=127, channel=2)
    with SessionWriter(path, bench_toml='[scope]\nresource = "sim"\n', resource="sim", scope_idn="SIM",
                       workload={"name": "w"}) as w:
        for _ in range(runs):
            run = w.begin_run()
            trace = PowerTrace(v, i, shunt_ohm=SHUNT_OHM)
            summary = summarise(trace)
            run.add_window(v, i, summary, current_scaling={"shunt_ohm": SHUNT_OHM, "deskew_s": 0.0})
            res = analyse_run(WindowData(trace, summary), 0.6, ops=1e9, unc=UncertaintyConfig())
            run.finish({"duration_s": 0.6}, record={"run": run.number, **res.record()}, details=res.details())
    return path


def flip(path: Path, offset: int, new: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(new)


def main(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def report_rows(csv_path: Path) -> list[dict]:
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_an_undamaged_session_verifies_and_reports_the_hand_worked_energy(tmp_path):
    path = write_one_run(tmp_path / "s.h5")
    with SessionReader(path) as s:
        assert s.damage() == [] and s.verify() == [] and s.damaged_runs == {}
        assert s.run(1).record["energy_j"] == pytest.approx(E_BY_HAND_J, rel=1e-9)
    with h5py.File(path, "r") as f:            # the digests are in the file, as 64 hex digits
        for node in (f, f["runs/001"], f["runs/001/windows/01"]):
            assert re.fullmatch(r"[0-9a-f]{64}", node.attrs["sha256"])


def test_one_digit_changed_in_record_json_leaves_the_run_out_and_report_exits_2(tmp_path):
    path = write_one_run(tmp_path / "s.h5", runs=2)
    data = path.read_bytes()
    hits = [m.start(1) for m in re.finditer(rb'"energy_j": (\d)\.', data)]
    assert len(hits) == 2                            # one record_json per run
    digit = data[hits[0]:hits[0] + 1]
    flip(path, hits[0], b"9" if digit != b"9" else b"1")    # 4.95 J -> 9.95 J, as the 50.76 -> 90.76
    with SessionReader(path) as s:
        assert list(s.damaged_runs) == [1] and "does not match the SHA-256 digest" in s.damaged_runs[1]
        assert [r.number for r in s.runs()] == [2]
        with pytest.raises(SessionError, match="run 1 is damaged"):
            _ = s.run(1).record
        assert s.run(2).record["energy_j"] == pytest.approx(E_BY_HAND_J, rel=1e-9)
    out = tmp_path / "r.csv"
    res = main("report", path, "--csv", out)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"left out {path}: run 1: its metadata" in res.stderr
    rows = [r for r in report_rows(out) if r["row_type"] == "run"]
    assert [r["run"] for r in rows] == ["2"]
    assert float(rows[0]["energy_j"]) == pytest.approx(E_BY_HAND_J, rel=1e-9)
    # only its metadata was damaged: its raw data still exports, with the hand-worked current
    res = main("trace", path, "--run", 1, "--csv", tmp_path / "t.csv")
    assert res.returncode == 0, res.stderr
    trace = report_rows(tmp_path / "t.csv")
    assert float(trace[-1]["current_a"]) == pytest.approx(100 * I_GAIN_V / SHUNT_OHM, rel=1e-12)   # 0.4125 A


def test_a_changed_y_increment_is_refused_not_exported_as_another_current(tmp_path):
    path = write_one_run(tmp_path / "s.h5")
    data = path.read_bytes()
    packed = struct.pack("<d", I_GAIN_V)
    assert data.count(packed) == 1
    at = data.index(packed)
    flip(path, at + 6, bytes([data[at + 6] ^ 0x01]))        # one bit of the exponent's neighbour: a plausible gain
    with SessionReader(path) as s:
        assert "window 1: its metadata" in s.damaged_runs[1]
        with pytest.raises(SessionError, match="run 1, window 1 is damaged"):
            _ = s.run(1).window(1).current
    res = main("trace", path, "--run", 1, "--csv", tmp_path / "t.csv")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "run 1, window 1 is damaged" in res.stderr
    res = main("report", path, "--csv", tmp_path / "r.csv")
    assert res.returncode == 2 and "Traceback" not in res.stderr and "run 1: window 1: its metadata" in res.stderr


def test_a_damaged_overview_table_is_found(tmp_path):
    path = write_one_run(tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        offset = f["runs/001/windows/01/overview/level0"].id.get_offset()
    data = path.read_bytes()
    flip(path, offset + 3, bytes([data[offset + 3] ^ 0x10]))   # inside row 0's p_sum
    with SessionReader(path) as s:
        assert list(s.damaged_runs) == [1]
        with pytest.raises(SessionError, match="window 1 is damaged"):
            s.run(1).window(1).summary()
    res = main("report", path, "--csv", tmp_path / "r.csv")
    assert res.returncode == 2 and "Traceback" not in res.stderr


@pytest.mark.parametrize("obj", ["runs/001", "runs/001/windows/01", "runs/001/results"])
def test_a_damaged_object_header_is_a_clear_error_never_a_traceback(tmp_path, obj):
    path = write_one_run(tmp_path / "s.h5", runs=2)
    with h5py.File(path, "r") as f:
        addr = h5py.h5o.get_info(f[obj].id).addr
    flip(path, addr, b"\xff" * 16)                # version, message count, reference count, header size
    with SessionReader(path) as s:
        assert 1 in s.damaged_runs and 2 not in s.damaged_runs
        assert [r.number for r in s.runs()] == [2]
    res = main("report", path, "--csv", tmp_path / "r.csv")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"left out {path}: run 1:" in res.stderr
    assert [r["run"] for r in report_rows(tmp_path / "r.csv") if r["row_type"] == "run"] == ["2"]


def test_a_changed_bench_attribute_leaves_the_whole_session_out(tmp_path):
    path = write_one_run(tmp_path / "s.h5")
    data = path.read_bytes()
    at = data.index(b'resource = "sim"')
    flip(path, at + len('resource = "'), b"x")
    with SessionReader(path) as s:
        assert s.session_damage is not None and s.damage()[0].startswith("the session's own metadata")
    res = main("report", path, "--csv", tmp_path / "r.csv")
    assert res.returncode == 2 and "the session's own metadata is damaged" in res.stderr


def test_telemetry_with_text_columns_digests_the_same_on_every_open_and_a_change_is_found(tmp_path):
    # the telemetry table has a text column (the rail): its bytes in memory hold string addresses, so the digest
    # must be taken over its values; a changed reading is then found like any other
    path = tmp_path / "s.h5"
    with SessionWriter(path, bench_toml="", resource="none") as w:
        run = w.begin_run()
        run.set_telemetry([{"time_s": 1.0, "rail": "VDD_IN", "volts": 19.125, "amps": 0.5, "watts": 9.5625}])
        run.finish({"duration_s": 1.0}, record={"run": 1, "energy_j": 9.5625})
    for _ in range(2):
        with SessionReader(path) as s:
            assert s.damage() == []
    data = path.read_bytes()
    packed = struct.pack("<d", 19.125)
    assert data.count(packed) == 1
    at = data.index(packed)
    flip(path, at + 5, bytes([data[at + 5] ^ 0x04]))
    with SessionReader(path) as s:
        assert list(s.damaged_runs) == [1]
