"""Sessions as data (app/session/data.py, data_traces.py, data_export.py; docs/python-api.md), against sessions
written by the real writer whose contents are known by construction (tests/session_factory.py):

V is 100 int8 codes of 0.2 V = 20 V; the current's codes are 1 mV across 0.01 ohm = 0.1 A each; a window of
1 ms samples starts 100 samples before the trigger (idle) and the run begins at the trigger. So a run of
(idle 2 W, busy 10 W, 0.5 s) draws 0.1 A before the trigger and 0.5 A after, and its energy is the integral of
V·I over [0, 0.5 s] = 20 V · 0.5 A · 0.5 s = 5.0 J.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from app.bench.config import UncertaintyConfig
from app.errors import SessionError
from app.measure.analysis import WindowData as AnalysisWindow, analyse_run
from app.measure.energy import PowerTrace, summarise
from app.measure.region import Placement
from app.session.data import open_session, runs_dask, runs_frame
from app.session.data_export import export_range, write_runs_parquet
from app.session.extra import DataExtraMissing, require
from app.session.format import RAW_CHUNK_SAMPLES
from app.session.writer import SessionWriter
from tests.session_factory import BENCH_TOML, SHUNT, int8_window, write_session


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "s.h5"
    write_session(path, [(2.0, 10.0, 0.5), (2.0, 12.0, 0.4)])
    return path


def write_runs(path, runs, *, n=1000, pre=100, placement=None):
    """runs: list of (busy W, duration s, params, label); idle 2 W; one window of n samples each."""
    with SessionWriter(path, bench_toml=BENCH_TOML, resource="sim", scope_idn="SIM,0,0,0",
                       target={"kind": "ssh", "host": "board", "facts": {"uname": "Linux", "cpus": 4,
                                                                          "governors": ["performance"]}},
                       workload={"name": "gemm", "toml": "", "command": "true"}) as w:
        for busy, duration, params, label in runs:
            run = w.begin_run({"params": params, "label": label})
            vw, iw = int8_window(2.0, busy, n=n, pre=pre)
            trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
            summary = summarise(trace)
            run.add_window(vw, iw, summary, current_scaling={"shunt_ohm": SHUNT, "deskew_s": 0.0})
            res = analyse_run(AnalysisWindow(trace, summary), duration, ops=2e9, unc=UncertaintyConfig(),
                              placement=placement)
            run.finish({"duration_s": duration, "ops": 2e9, "exit_status": 0}, record={"run": run.number,
                       **res.record()}, details=res.details())


def test_runs_frame_energy_is_the_integral_of_the_known_current(session):
    with open_session(session) as s:
        df = s.runs()
    assert list(df["run"]) == [1, 2]
    # 20 V · 0.5 A · 0.5 s and 20 V · 0.6 A · 0.4 s (code round(12 W / 20 V / 0.1 A) = 6)
    assert df["energy_j"].tolist() == pytest.approx([5.0, 4.8], rel=1e-12)
    assert df["avg_power_w"].tolist() == pytest.approx([10.0, 12.0], rel=1e-12)
    assert df["idle_power_w"].tolist() == pytest.approx([2.0, 2.0], rel=1e-12)     # 20 V · 0.1 A
    assert df["duration_s"].tolist() == [0.5, 0.4]
    assert df["j_per_gop"].tolist() == pytest.approx([5.0, 4.8])                    # ops = 1e9 = 1 GOp
    assert str(df["energy_j"].dtype) == "float64" and str(df["run"].dtype) == "Int64"
    assert str(df["status"].dtype) == "string" and str(df["clipped"].dtype) == "boolean"
    assert (df["energy_u_j"] > 0).all() and df.attrs["units"]["energy_u_j"] == "J"
    assert df["workload"].tolist() == ["test-load"] * 2 and df["board_uname"].tolist() == ["Linux"] * 2


def test_params_and_labels_get_columns_of_their_own(tmp_path):
    write_runs(tmp_path / "g.h5", [(10.0, 0.5, {"n": 256, "dtype": "fp32"}, "small"),
                                   (12.0, 0.5, {"n": 768, "dtype": "fp32"}, "large")])
    with open_session(tmp_path / "g.h5") as s:
        df = s.runs()
    assert df["param_n"].tolist() == [256.0, 768.0] and str(df["param_n"].dtype) == "float64"
    assert df["param_dtype"].tolist() == ["fp32", "fp32"] and df["label"].tolist() == ["small", "large"]
    assert json.loads(df["params"][0]) == {"dtype": "fp32", "n": 256}
    assert df["board_cpus"].tolist() == [4.0, 4.0] and "board_governors" not in df   # nested: in board_facts
    assert df["j_per_gop"].tolist() == pytest.approx([2.5, 3.0])                    # 5 J / 2 GOp, 6 J / 2 GOp


def test_units_of_work_and_phases(tmp_path):
    """A run that counted 500 tokens in two phases (prefill 0.2 s, decode 0.3 s; begin at board time 100 s)."""
    vw, iw = int8_window(2.0, 10.0)
    trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
    res = analyse_run(AnalysisWindow(trace, summarise(trace)), 0.5, ops=None, unc=UncertaintyConfig())
    record = {**res.record(), "units": "tokens", "units_count": 500, "j_per_unit": 5.0 / 500,
              "phases": {"decode": {"energy_j": 3.0}}}
    details = {**res.details(), "timing": {"begin_s": 100.0, "end_s": 100.5}}
    events = [{"event": "begin", "t": 100.0}, {"event": "phase", "t": 100.0, "name": "prefill"},
              {"event": "phase", "t": 100.2, "name": "decode"}, {"event": "end", "t": 100.5}]
    with SessionWriter(tmp_path / "u.h5", bench_toml=BENCH_TOML, resource="sim") as w:
        run = w.begin_run()
        run.add_window(vw, iw, summarise(trace), current_scaling={"shunt_ohm": SHUNT, "deskew_s": 0.0})
        run.finish({"duration_s": 0.5, "events": events}, record=record, details=details)
    with open_session(tmp_path / "u.h5") as s:
        df = s.runs()
        ds = s.window(1).dataset(0.0, 0.001)
    assert df["units"][0] == "tokens" and df["units_count"][0] == 500.0
    assert df["j_per_unit"][0] == pytest.approx(0.01) and json.loads(df["phases"][0])["decode"]["energy_j"] == 3.0
    phases = json.loads(ds.attrs["phases"])
    assert [p["name"] for p in phases] == ["prefill", "decode"]
    assert [t for p in phases for t in (p["t0_s"], p["t1_s"])] == pytest.approx([0.0, 0.2, 0.2, 0.5])


def test_opening_reads_nothing_until_asked(tmp_path):
    not_a_session = tmp_path / "x.h5"
    not_a_session.write_text("not HDF5")
    s = open_session(not_a_session)                    # lazily: no error yet
    with pytest.raises(SessionError, match="not a readable HDF5 file"):
        s.runs()
    with pytest.raises(SessionError, match="no such session file"):
        open_session(tmp_path / "missing.h5")


def test_a_slice_is_the_known_samples_with_time_from_begin(session):
    with open_session(session) as s:
        ds = s.window(1).dataset(start_s=-0.010, stop_s=0.010)
    k = np.arange(-10, 11)
    np.testing.assert_allclose(ds["time"].values, k * 1e-3, atol=1e-12)
    np.testing.assert_array_equal(ds["voltage"].values, np.full(21, 20.0))
    np.testing.assert_allclose(ds["current"].values, np.where(k < 0, 0.1, 0.5), rtol=1e-12)
    np.testing.assert_allclose(ds["power"].values, np.where(k < 0, 2.0, 10.0), rtol=1e-12)
    assert ds["power"].attrs["units"] == "W" and ds["time"].attrs["units"] == "s"
    assert ds.attrs["region_s"] == [0.0, 0.5] and ds.attrs["idle_span_s"] == pytest.approx([-0.1, -0.002])
    assert ds.attrs["energy_j"] == pytest.approx(5.0) and ds.attrs["resolution"] == "full"
    assert ds.attrs["time_reference"].startswith("begin")


def test_time_counts_from_begin_where_the_region_does_not_start_at_the_trigger(tmp_path):
    """`begin` placed 0.1 s after the trigger (the board's t = 0 is the scope's 0.1 s): time 0 is that sample,
    and the region is [0, 0.3 s]."""
    write_runs(tmp_path / "m.h5", [(10.0, 0.3, {}, "")], placement=Placement(-0.1, "launch-stamp", 0.0))
    with open_session(tmp_path / "m.h5") as s:
        assert s.runs()["energy_j"][0] == pytest.approx(10.0 * 0.3, rel=1e-9)
        ds = s.window(1).dataset(start_s=-0.001, stop_s=0.001)
    # trigger-axis samples 0.099, 0.100, 0.101 s: the window starts 100 samples (0.1 s) before the trigger
    np.testing.assert_allclose(ds["time"].values, [-0.001, 0.0, 0.001], atol=1e-12)
    assert ds.attrs["first_sample"] == 199 and ds.attrs["region_s"] == pytest.approx([0.0, 0.3])
    assert ds.attrs["time_origin_on_window_axis_s"] == pytest.approx(0.1)


def test_overview_points_are_row_means_and_extremes(session):
    with open_session(session) as s:
        ds = s.window(1).dataset(points=2)
    # ROW = 512 samples a row: row 0 holds 100 idle and 412 busy samples, row 1 the last 488 busy ones
    np.testing.assert_allclose(ds["current"].values, [(100 * 0.1 + 412 * 0.5) / 512, 0.5], rtol=1e-12)
    np.testing.assert_allclose(ds["power"].values, [(100 * 2.0 + 412 * 10.0) / 512, 10.0], rtol=1e-12)
    np.testing.assert_allclose(ds["power_min"].values, [2.0, 10.0], rtol=1e-6)
    np.testing.assert_allclose(ds["time"].values, [-0.1 + 255.5e-3, -0.1 + (512 + 243.5) * 1e-3], atol=1e-12)
    assert ds["samples"].values.tolist() == [512, 488]


@pytest.fixture(scope="module")
def long_session(tmp_path_factory):
    """One run whose window spans three raw chunks (3 · RAW_CHUNK_SAMPLES samples of 1 µs)."""
    path = tmp_path_factory.mktemp("long") / "long.h5"
    n = 3 * RAW_CHUNK_SAMPLES
    with SessionWriter(path, bench_toml=BENCH_TOML, resource="sim") as w:
        run = w.begin_run()
        vw, iw = int8_window(2.0, 10.0, n=n, pre=100)
        vw.x_increment = iw.x_increment = 1e-6
        vw.x_origin = iw.x_origin = -100e-6
        trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
        run.add_window(vw, iw, summarise(trace), current_scaling={"shunt_ohm": SHUNT, "deskew_s": 0.0})
        res = analyse_run(AnalysisWindow(trace, summarise(trace)), 3.0, ops=None, unc=UncertaintyConfig())
        run.finish({"duration_s": 3.0}, record={"run": 1, **res.record()}, details=res.details())
    return path


def test_a_slice_reads_only_its_chunks(long_session, tmp_path):
    """A damaged last chunk (its Fletcher-32 no longer matches) does not stop a slice in the first chunk: only
    the chunks holding the slice are read."""
    import h5py
    damaged = tmp_path / "damaged.h5"
    damaged.write_bytes(long_session.read_bytes())
    with h5py.File(damaged, "r") as f:
        info = f["runs/001/windows/01/current"].id.get_chunk_info(2)
    with open(damaged, "r+b") as fh:
        fh.seek(info.byte_offset + 1000)
        fh.write(b"\x7f" * 16)
    with open_session(damaged) as s:
        w = s.window(1)
        ds = w.dataset(0.0, 0.010)                     # samples 100 .. 10 100: the first chunk
        assert ds.sizes["time"] == 10001 and float(ds["current"].max()) == pytest.approx(0.5)
        with pytest.raises(SessionError, match="damaged block"):
            w.dataset(3.0, 3.1)                        # in the third chunk


def test_points_pick_the_finest_level_that_fits(long_session):
    n = 3 * RAW_CHUNK_SAMPLES                          # levels of 512, 4096 and 32768 samples a row
    with open_session(long_session) as s:
        ds = s.window(1).dataset(points=100)
    assert ds.attrs["row_samples"] == 32768 and ds.sizes["time"] == -(-n // 32768) == 96
    # the sample-weighted mean of the rows is the mean of all samples: 100 at 2 W, the rest at 10 W
    mean = float((ds["power"] * ds["samples"]).sum() / ds["samples"].sum())
    assert mean == pytest.approx((100 * 2.0 + (n - 100) * 10.0) / n, rel=1e-12)


def test_many_sessions_one_frame_and_the_bad_ones_named(tmp_path, session):
    folder = tmp_path / "share"
    (folder / "bench2").mkdir(parents=True)
    (folder / "a.h5").write_bytes(session.read_bytes())
    write_session(folder / "bench2" / "b.h5", [(1.0, 6.0, 0.3)])     # 20 V · 0.3 A · 0.3 s = 1.8 J
    (folder / "notes.h5").write_text("not HDF5")
    (folder / "c.h5.partial").write_bytes(session.read_bytes())
    df = runs_frame(folder)
    assert sorted(df["energy_j"].tolist()) == pytest.approx([1.8, 4.8, 5.0], rel=1e-12)
    skipped = df.attrs["skipped"]
    assert set(skipped) == {str(folder / "notes.h5"), str(folder / "c.h5.partial")}
    assert "not a readable HDF5 file" in skipped[str(folder / "notes.h5")]
    assert ".partial" in skipped[str(folder / "c.h5.partial")]


def test_dask_frame_one_task_per_file_on_the_local_scheduler(tmp_path, session):
    folder = tmp_path / "share"
    folder.mkdir()
    for k in range(3):
        (folder / f"s{k}.h5").write_bytes(session.read_bytes())
    (folder / "junk.h5").write_text("junk")
    ddf = runs_dask(folder)
    assert ddf.npartitions == 4
    df = ddf.compute(scheduler="threads", num_workers=2)
    runs = df[df["problem"].isna()]
    assert sorted(runs["energy_j"].tolist()) == pytest.approx([4.8] * 3 + [5.0] * 3)
    bad = df[df["problem"].notna()]
    assert bad["session_file"].tolist() == [str(folder / "junk.h5")] and "HDF5" in bad["problem"].iloc[0]


def test_exports_of_a_range_at_full_resolution(session, tmp_path):
    with open_session(session) as s:
        w = s.window(1)
        res = export_range(w, tmp_path / "r.csv", -0.002, 0.002)
        export_range(w, tmp_path / "r.parquet", -0.002, 0.002)
        write_runs_parquet(s.runs(), tmp_path / "runs.parquet")
    assert res.rows == 5
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["time_s", "voltage_v", "current_a", "power_w"]
    assert [float(r[0]) for r in rows[1:]] == [-0.002, -0.001, 0.0, 0.001, 0.002]
    assert [float(r[3]) for r in rows[1:]] == [2.0, 2.0, 10.0, 10.0, 10.0]
    table = pq.read_table(tmp_path / "r.parquet")
    assert table.column("power_w").to_pylist() == [2.0, 2.0, 10.0, 10.0, 10.0]
    meta = json.loads(table.schema.metadata[b"joulebench"])
    assert meta["units"]["power_w"] == "W" and meta["context"]["run"] == 1
    back = pd.read_parquet(tmp_path / "runs.parquet")
    assert back["energy_j"].tolist() == pytest.approx([5.0, 4.8]) and str(back["run"].dtype) == "Int64"


def test_a_missing_package_names_the_extra():
    with pytest.raises(DataExtraMissing, match="requirements-data.txt"):
        require("no_such_package_for_joulebench")


def test_the_docs_three_line_example_runs(tmp_path, session):
    """docs/python-api.md's first example, as written, on a folder of generated sessions."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "python-api.md").read_text()
    code = re.findall(r"```python\n(.+?)```", doc, flags=re.S)[0]
    assert 'SESSIONS = "sessions"' in code
    (tmp_path / "s.h5").write_bytes(session.read_bytes())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.replace('SESSIONS = "sessions"', f"SESSIONS = {str(tmp_path)!r}"), {})
    printed = out.getvalue()
    assert "5.0" in printed and "4.8" in printed and "[0.0, 0.5]" in printed

def test_the_docs_notebook_runs(tmp_path, session):
    """docs/python-api.ipynb executed in a real kernel (nbclient, as nbmake runs notebooks) on generated sessions:
    its `parameters` cell pointed at them, every cell must run without an error."""
    import nbclient
    import nbformat
    root = Path(__file__).resolve().parents[2]
    nb = nbformat.read(root / "docs" / "python-api.ipynb", as_version=4)
    (tmp_path / "s.h5").write_bytes(session.read_bytes())
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0].source == 'SESSIONS = "sessions"'
    params[0].source = f"SESSIONS = {str(tmp_path)!r}"
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(root)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    # the first 10 ms from begin hold 10 W samples (0 .. 0.010 s: 11 samples of 1 ms): 0.11 J; the run 5 J
    assert "0.11 J in the first 10 ms; the run: 5 J" in printed
