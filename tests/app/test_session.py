"""Session files: written atomically, readable by h5dump, read back lazily, faults reported."""

import os
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from app.errors import SessionError
from app.measure.energy import interval_stats
from app.session.reader import SessionReader
from app.session.writer import SessionWriter
from tests.session_factory import int8_window, write_session


def test_round_trip_raw_codes_scaling_and_results(tmp_path):
    path = tmp_path / "s.h5"
    records = write_session(path, [(4.0, 10.0, 0.5), (4.0, 12.0, 0.5)])
    assert path.exists() and not (tmp_path / "s.h5.partial").exists()
    with SessionReader(path) as s:
        assert s.status == "complete"
        assert s.attrs["format"] == "joulebench-session" and s.attrs["format_version"] == 1
        assert s.attrs["label"] == "unit test" and s.workload_name == "test-load"
        assert s.run_numbers() == [1, 2]
        run = s.run(2)
        assert run.record == records[1]
        win = run.window(1)
        vw, iw = int8_window(4.0, 12.0)
        v, i = win.voltage, win.current
        assert v.codes.dtype == np.int8 and np.array_equal(v.code_slice(), vw.codes)
        assert np.array_equal(i.code_slice(), iw.codes)
        assert (v.y_increment, v.x_increment, v.x_origin) == (0.2, 1e-3, -0.1)
        # 20 V x 0.6 A = 12 W after the trigger: 0.5 s -> 6 J, from the stored overview
        tr = win.trace()
        assert interval_stats(tr, win.summary(), 0.0, 0.5).energy_j == pytest.approx(6.0, rel=1e-12)
        assert s.group_attrs("bench/current")["shunt_ohm"] == 0.01


def test_every_applied_setting_has_units(tmp_path):
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])
    with h5py.File(path) as f:
        units = f["bench/voltage"].attrs["units"]
        assert '"volts_per_div": "V/div"' in units and '"offset_v": "V"' in units
        assert f["runs/001/windows/01/voltage"].attrs["units"] == "V"
        assert f["runs/001/windows/01/voltage"].chunks is not None


def test_incomplete_run_is_kept_and_marked(tmp_path):
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5), (4.0, 10.0, 0.5)], incomplete_last=True)
    with SessionReader(path) as s:
        assert s.status == "incomplete" and "dropped" in s.attrs["reason"]
        assert s.run(2).status == "incomplete" and s.run(2).record is None
        assert s.run(2).window_numbers() == [1]      # the window that was captured is there


def test_exception_inside_writer_still_saves_marked_incomplete(tmp_path):
    path = tmp_path / "s.h5"
    with pytest.raises(RuntimeError):
        with SessionWriter(path, bench_toml="", resource="sim") as w:
            w.begin_run()
            raise RuntimeError("scope went away")
    with SessionReader(path) as s:
        assert s.status == "incomplete" and "scope went away" in s.attrs["reason"]


def test_partial_file_exists_while_writing(tmp_path):
    path = tmp_path / "s.h5"
    w = SessionWriter(path, bench_toml="", resource="sim")
    assert (tmp_path / "s.h5.partial").exists() and not path.exists()
    w.close()
    assert path.exists() and not (tmp_path / "s.h5.partial").exists()


def test_deflate_compression_option_uses_standard_filters(tmp_path):
    path = tmp_path / "s.h5"
    vw, iw = int8_window(4.0, 10.0)
    from app.measure.energy import PowerTrace, summarise
    with SessionWriter(path, bench_toml="", resource="sim", compression="deflate") as w:
        run = w.begin_run()
        run.add_window(vw, iw, summarise(PowerTrace(vw, iw, shunt_ohm=0.01)), current_scaling={"shunt_ohm": 0.01})
    with h5py.File(path) as f:
        assert f["runs/001/windows/01/voltage"].compression == "gzip"
    with SessionReader(path) as s:
        assert np.array_equal(s.run(1).window(1).voltage.code_slice(), vw.codes)


def test_h5dump_reads_the_session(tmp_path):
    assert shutil.which("h5dump"), "h5dump is missing: install hdf5-tools (.ci/run does)"
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])
    out = subprocess.run(["h5dump", "-H", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert 'DATASET "voltage"' in out.stdout and "H5T_STD_I8LE" in out.stdout
    attr = subprocess.run(["h5dump", "-a", "/format", str(path)], capture_output=True, text=True, timeout=60)
    assert attr.returncode == 0 and '"joulebench-session"' in attr.stdout
    data = subprocess.run(["h5dump", "-d", "/runs/001/windows/01/current", "-c", "3", "-s", "99", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert data.returncode == 0 and "2, 5, 5" in data.stdout.replace("\n", " ")


def test_truncated_file_gives_session_error(tmp_path):
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])
    blob = path.read_bytes()
    bad = tmp_path / "t.h5"
    bad.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(SessionError, match="truncated"):
        SessionReader(bad)


def test_corrupt_and_foreign_files(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"this is not HDF5" * 100)
    with pytest.raises(SessionError, match="not a readable HDF5 file"):
        SessionReader(junk)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1, 2, 3]
    with pytest.raises(SessionError, match="not a Joulebench session"):
        SessionReader(other)
    with pytest.raises(SessionError, match="no such session file"):
        SessionReader(tmp_path / "missing.h5")


def test_newer_format_is_refused_clearly(tmp_path):
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(SessionError, match="newer than this Joulebench reads"):
        SessionReader(path)


def test_missing_run_and_window_named(tmp_path):
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)])
    with SessionReader(path) as s:
        with pytest.raises(SessionError, match="no run 5"):
            s.run(5)
        with pytest.raises(SessionError, match="no window 3"):
            s.run(1).window(3)


def test_overview_pyramid_levels_agree_with_level0(tmp_path):
    path = tmp_path / "s.h5"
    n = 512 * 3000 + 7
    codes_v = np.full(n, 100, dtype=np.int8)
    codes_i = np.arange(n, dtype=np.int64) % 50
    codes_i = codes_i.astype(np.int8)
    from app.measure.energy import PowerTrace, summarise
    from instruments.waveform import Waveform
    vw = Waveform(codes=codes_v, y_increment=0.2, y_origin=0, y_reference=0, x_increment=1e-6, x_origin=0,
                  code_min=-128, code_max=127)
    iw = Waveform(codes=codes_i, y_increment=1e-3, y_origin=0, y_reference=0, x_increment=1e-6, x_origin=0,
                  code_min=-128, code_max=127)
    summ = summarise(PowerTrace(vw, iw, shunt_ohm=0.01))
    with SessionWriter(path, bench_toml="", resource="sim") as w:
        w.begin_run().add_window(vw, iw, summ, current_scaling={"shunt_ohm": 0.01})
    with SessionReader(path) as s:
        win = s.run(1).window(1)
        rows = win.overview_row_samples
        assert rows[:3] == [512, 4096, 32768]
        l0, l1 = win.overview_level(0), win.overview_level(1)
        assert len(l0["p_sum"]) == 3001 and len(l1["p_sum"]) == 376
        # P = 20 V x (code * 0.1 A): total over all samples, by hand
        expected = 20.0 * 0.1 * float(codes_i.astype(np.int64).sum())
        assert l1["p_sum"].sum() == pytest.approx(expected, rel=1e-12)
        assert l1["p_max"].max() == pytest.approx(20.0 * 4.9) and l1["p_min"].min() == 0.0


# -- never overwritten (issue 23, case 1) ------------------------------------------------------------------------

def test_thirty_sessions_named_in_the_same_instant_are_thirty_files(tmp_path):
    # names stamped to the second gave 27 files for 30 back-to-back captures: the name now carries the
    # microsecond and a random suffix, and even 30 names made for one and the same instant differ
    import datetime as dt

    from app.capture.context import session_filename
    instant = dt.datetime(2026, 12, 3, 18, 0, 0, 123456, tzinfo=dt.timezone.utc)
    for k in range(30):
        with SessionWriter(tmp_path / session_filename("idle", now=instant if k % 2 else None),
                           bench_toml="", resource="sim", label=f"capture {k}"):
            pass
    files = sorted(tmp_path.glob("*.h5"))
    assert len(files) == 30 and not list(tmp_path.glob("*.partial"))
    labels = set()
    for f in files:
        with SessionReader(f) as s:
            labels.add(s.attrs["label"])
    assert labels == {f"capture {k}" for k in range(30)}
    assert sum(f.name.startswith("2026-12-03T18-00-00.123456_") for f in files) == 15


def test_an_existing_session_is_never_written_over(tmp_path):
    path = tmp_path / "s.h5"
    path.write_bytes(b"an earlier session")
    with pytest.raises(SessionError, match="already exists"):
        SessionWriter(path, bench_toml="", resource="sim")
    assert path.read_bytes() == b"an earlier session" and not (tmp_path / "s.h5.partial").exists()


def test_a_partial_file_of_that_name_is_never_taken_over(tmp_path):
    (tmp_path / "s.h5.partial").write_bytes(b"another capture's file")
    with pytest.raises(SessionError, match="another capture is writing it"):
        SessionWriter(tmp_path / "s.h5", bench_toml="", resource="sim")
    assert (tmp_path / "s.h5.partial").read_bytes() == b"another capture's file"


def test_the_final_rename_refuses_a_file_that_appeared_meanwhile(tmp_path):
    path = tmp_path / "s.h5"
    w = SessionWriter(path, bench_toml="", resource="sim")
    path.write_bytes(b"appeared while writing")
    with pytest.raises(SessionError, match="appeared while this session was written"):
        w.close()
    assert path.read_bytes() == b"appeared while writing"
    with SessionReader(tmp_path / "s.h5.partial") as s:          # ours is kept, whole
        assert s.status == "complete"


@pytest.mark.parametrize("how", ["renameat2", "link"])
def test_rename_no_replace_both_ways(tmp_path, monkeypatch, how):
    import app.system.no_replace as nr
    if how == "link":
        monkeypatch.setattr(nr, "_renameat2", None)
    elif nr._renameat2 is None:
        pytest.skip("this C library has no renameat2")
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    with pytest.raises(FileExistsError):
        nr.rename_no_replace(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a").read_text() == "a" and (tmp_path / "b").read_text() == "b"
    nr.rename_no_replace(tmp_path / "a", tmp_path / "c")
    assert not (tmp_path / "a").exists() and (tmp_path / "c").read_text() == "a"


def test_two_processes_capturing_into_one_folder_both_save(tmp_path):
    import sys
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, str(root / "main.py"), "capture", "--demo", "--workload", "idle", "--param",
           "seconds=0.3", "--windows", "0", "--out", str(tmp_path)]
    procs = [subprocess.Popen(cmd + ["--label", f"process {k}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=root) for k in range(2)]
    results = [p.communicate(timeout=180) + (p.returncode,) for p in procs]
    for out, err, rc in results:
        assert rc == 0 and "Traceback" not in err, err[-2000:]
    files = sorted(tmp_path.glob("*.h5"))
    assert len(files) == 2 and not list(tmp_path.glob("*.partial"))
    labels = set()
    for f in files:
        with SessionReader(f) as s:
            assert s.status == "complete" and len(s.runs()) == 1
            labels.add(s.attrs["label"])
    assert labels == {"process 0", "process 1"}


def test_a_session_being_written_by_another_process_says_so(tmp_path):
    # HDF5 locks a file open for writing; a reader in another process was told "truncated, damaged or not a
    # session"
    import sys
    w = SessionWriter(tmp_path / "s.h5", bench_toml="", resource="sim")
    try:
        res = subprocess.run([sys.executable, "-c", "import sys\nfrom app.session.reader import SessionReader\n"
                              "from app.errors import SessionError\ntry:\n    SessionReader(sys.argv[1])\n"
                              "except SessionError as e:\n    print(e)\n", str(tmp_path / "s.h5.partial")],
                             capture_output=True, text=True, timeout=60, cwd=str(Path(__file__).resolve().parents[2]),
                             env={**os.environ, "HDF5_USE_FILE_LOCKING": "TRUE"})
    finally:
        w.close()
    assert "is open for writing by another program" in res.stdout, res.stdout + res.stderr
