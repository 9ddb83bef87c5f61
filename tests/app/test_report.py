"""Reports and trace export, through the real command line."""

import csv
import math
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import ReportError
from app.report.tables import COLUMNS, cell, export_trace
from tests.session_factory import write_session

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def read_csv(path):
    raw = Path(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark expected"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_cell_keeps_full_precision():
    x = 0.1 + 0.2
    assert float(cell(x)) == x and cell(x) == "0.30000000000000004"
    assert cell(None) == "" and cell(True) == "true" and cell(["a"]) == '["a"]'


def test_report_rows_and_summary(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    # workload "w1": 20 V; busy 0.5 A (10 W) and 0.6 A (12 W) for 0.5 s -> 5 J and 6 J
    write_session(a, [(4.0, 10.0, 0.5), (4.0, 12.0, 0.5)], workload="w1", label="Ω bench", ops=1e9)
    write_session(b, [(4.0, 20.0, 0.5)], workload="w2", ops=1e9)
    out = tmp_path / "r.csv"
    res = run_cli("report", a, b, "--csv", out)
    assert res.returncode == 0, res.stderr
    rows = read_csv(out)
    assert list(rows[0].keys()) == list(COLUMNS)
    runs = [r for r in rows if r["row_type"] == "run"]
    summ = {r["workload"]: r for r in rows if r["row_type"] == "summary"}
    assert len(runs) == 3 and set(summ) == {"w1", "w2"}
    assert runs[0]["session_label"] == "Ω bench" and runs[0]["session_created"].endswith("Z")
    assert float(runs[0]["energy_j"]) == pytest.approx(5.0, rel=1e-9)
    assert float(runs[1]["energy_j"]) == pytest.approx(6.0, rel=1e-9)
    assert float(runs[0]["idle_power_w"]) == pytest.approx(4.0, rel=1e-9)
    # mean 5.5 J, std sqrt(0.5), CI = t(0.975,1) * s / sqrt(2) = 12.7062 * 0.5
    w1 = summ["w1"]
    assert w1["n_runs"] == "2"
    assert float(w1["energy_j_mean"]) == pytest.approx(5.5, rel=1e-9)
    assert float(w1["energy_j_std"]) == pytest.approx(math.sqrt(0.5), rel=1e-9)
    assert float(w1["energy_j_ci95"]) == pytest.approx(12.7062047 * 0.5, rel=1e-6)
    assert float(w1["j_per_gop_mean"]) == pytest.approx(5.5, rel=1e-9)
    assert summ["w2"]["energy_j_ci95"] == ""
    # the factory's sessions were captured on resource "sim": every run row says it is simulated
    assert {r["scope_simulated"] for r in runs} == {"true"}         # booleans as the report writes them


def test_report_plot_png(tmp_path):
    a = tmp_path / "a.h5"
    write_session(a, [(4.0, 10.0, 0.5), (4.0, 12.0, 0.5)], workload="w1")
    b = tmp_path / "b.h5"
    write_session(b, [(4.0, 20.0, 0.5)], workload="w2")
    png = tmp_path / "cmp.png"
    res = run_cli("report", a, b, "--csv", tmp_path / "r.csv", "--plot", png)
    assert res.returncode == 0, res.stderr
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert width == 960 and height > 100


def test_report_missing_or_bad_session_is_one_clear_line(tmp_path):
    res = run_cli("report", tmp_path / "nope.h5", "--csv", tmp_path / "r.csv")
    assert res.returncode == 2 and "no such session file" in res.stderr and "Traceback" not in res.stderr
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    res = run_cli("report", bad, "--csv", tmp_path / "r.csv")
    assert res.returncode == 2 and "truncated, damaged" in res.stderr and "Traceback" not in res.stderr


def test_trace_csv_values_and_window(tmp_path):
    a = tmp_path / "a.h5"
    write_session(a, [(4.0, 10.0, 0.5)])
    out = tmp_path / "t.csv"
    res = run_cli("trace", a, "--run", 1, "--csv", out, "--start", -0.0025, "--stop", 0.0015)
    assert res.returncode == 0, res.stderr
    rows = read_csv(out)
    assert list(rows[0]) == ["time_s", "voltage_v", "current_a", "power_w"]
    # samples every 1 ms from -0.002 to 0.001: idle 0.2 A, busy 0.5 A at 20 V
    assert [round(float(r["time_s"]), 9) for r in rows] == [-0.002, -0.001, 0.0, 0.001]
    assert [float(r["current_a"]) for r in rows] == pytest.approx([0.2, 0.2, 0.5, 0.5])
    assert [float(r["power_w"]) for r in rows] == pytest.approx([4.0, 4.0, 10.0, 10.0])
    assert all(float(r["voltage_v"]) == pytest.approx(20.0) for r in rows)


def test_trace_every_and_whole_window(tmp_path):
    a = tmp_path / "a.h5"
    write_session(a, [(4.0, 10.0, 0.5)])
    out = tmp_path / "t.csv"
    r = export_trace(a, 1, 1, out, every=7)
    assert r.rows == math.ceil(1000 / 7) and r.t_first_s == pytest.approx(-0.1)
    assert r.t_last_s == pytest.approx(-0.1 + 994 * 1e-3)
    with pytest.raises(ReportError, match="no samples"):
        export_trace(a, 1, 1, out, start_s=5.0, stop_s=6.0)
    res = run_cli("trace", a, "--run", 3, "--csv", out)
    assert res.returncode == 2 and "no run 3" in res.stderr


def test_trace_times_carry_no_float_noise(tmp_path):
    # x0 = -0.1 s, dx = 1 ms: sample 100 is at 0 s and 101 at 0.001 s exactly as written, not 0.0010000000000000009
    from app.report.tables import export_trace
    from tests.session_factory import write_session
    path = tmp_path / "s.h5"
    write_session(path, [(4.75, 11.4, 0.6)])
    out = tmp_path / "t.csv"
    export_trace(path, 1, 1, out)
    times = [line.split(",")[0] for line in out.read_text(encoding="utf-8-sig").splitlines()[1:]]
    assert times[100] == "0" and times[101] == "0.001" and times[0] == "-0.1"
    assert all(len(t.replace("-", "").replace(".", "").lstrip("0")) <= 15 for t in times)
