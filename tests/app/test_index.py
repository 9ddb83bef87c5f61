"""The lab index (app/session/index.py, `python main.py index FOLDER`): incremental by size, mtime and checksum;
bad files listed with their reason while the walk goes on. Sessions from tests/session_factory.py: a run of
(idle, busy W, T s) has energy busy · T (20 V times the busy current's codes of 0.1 A over [0, T])."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import pandas as pd
import pytest

from app.errors import SessionError
from app.session.index import INDEX_NAME, build_index
from tests.session_factory import write_session

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def share(tmp_path):
    folder = tmp_path / "share"
    (folder / "bench-a").mkdir(parents=True)
    (folder / "bench-b" / "2026").mkdir(parents=True)
    write_session(folder / "bench-a" / "one.h5", [(2.0, 10.0, 0.5), (2.0, 12.0, 0.4)])     # 5.0 J, 4.8 J
    write_session(folder / "bench-b" / "2026" / "two.h5", [(2.0, 8.0, 0.25)])             # 2.0 J
    write_session(folder / "bench-b" / "three.h5", [(2.0, 6.0, 1.0 / 3.0)])              # 2.0 J
    return folder


def bad_files(folder: Path) -> None:
    (folder / "notes.h5").write_text("a text file named .h5")
    with h5py.File(folder / "foreign.h5", "w") as f:
        f["x"] = [1, 2, 3]
    good = (folder / "bench-a" / "one.h5").read_bytes()
    (folder / "truncated.h5").write_bytes(good[: len(good) // 3])
    (folder / "bench-a" / "live.h5.partial").write_bytes(good)
    (folder / "report.csv").write_text("not a candidate")


def test_every_run_in_one_table_with_bench_board_and_params(share):
    r = build_index(share)
    runs = pd.read_parquet(share / INDEX_NAME)
    got = dict(zip(zip(runs["session_file"], runs["run"]), runs["energy_j"]))
    assert got == pytest.approx({("bench-a/one.h5", 1): 5.0, ("bench-a/one.h5", 2): 4.8,
                                 ("bench-b/2026/two.h5", 1): 2.0, ("bench-b/three.h5", 1): 2.0})
    assert set(runs["scope_idn"]) == {"SIM,0,0,0"} and set(runs["board_uname"]) == {"Linux"}
    assert set(runs["workload"]) == {"test-load"} and str(runs["run"].dtype) == "Int64"
    assert sorted(r.read) == ["bench-a/one.h5", "bench-b/2026/two.h5", "bench-b/three.h5"] and not r.bad


def test_only_new_or_changed_files_are_opened(share):
    build_index(share)
    again = build_index(share)
    assert again.opened == [] and len(again.unchanged) == 3 and len(again.runs) == 4

    os.utime(share / "bench-b" / "three.h5")                 # touched: same bytes, another mtime
    touched = build_index(share)
    assert touched.opened == ["bench-b/three.h5"] and touched.read == []        # checksum same: rows kept
    assert sorted(touched.unchanged) == ["bench-a/one.h5", "bench-b/2026/two.h5"]

    (share / "bench-b" / "three.h5").unlink()                 # replaced by another session of that name
    write_session(share / "bench-b" / "three.h5", [(2.0, 14.0, 0.5)])          # 7.0 J
    write_session(share / "bench-a" / "four.h5", [(2.0, 4.0, 0.5)])            # new: 2.0 J
    changed = build_index(share)
    assert sorted(changed.read) == ["bench-a/four.h5", "bench-b/three.h5"] and changed.checked == []
    runs = changed.runs.set_index("session_file")
    assert runs.loc["bench-b/three.h5", "energy_j"] == pytest.approx(7.0)
    assert runs.loc["bench-a/four.h5", "energy_j"] == pytest.approx(2.0)

    (share / "bench-a" / "four.h5").unlink()
    gone = build_index(share)
    assert gone.removed == ["bench-a/four.h5"] and "bench-a/four.h5" not in set(gone.runs["session_file"])


def test_bad_files_are_listed_with_their_reason_and_the_walk_goes_on(share):
    bad_files(share)
    r = build_index(share)
    assert len(r.runs) == 4                                   # every good session still indexed
    assert set(r.bad) == {"notes.h5", "foreign.h5", "truncated.h5", "bench-a/live.h5.partial"}
    assert "not a readable HDF5 file" in r.bad["notes.h5"]
    assert "not a Joulebench session" in r.bad["foreign.h5"]
    assert "truncated" in r.bad["truncated.h5"] or "damaged" in r.bad["truncated.h5"]
    assert ".partial" in r.bad["bench-a/live.h5.partial"]
    files = pd.read_parquet(r.files_out).set_index("path")
    assert "report.csv" not in files.index                   # not a candidate
    assert files.loc["foreign.h5", "status"] == "bad" and "format=" in files.loc["foreign.h5", "reason"]
    again = build_index(share)                                # unchanged bad files: listed, not reopened
    assert again.opened == [] and set(again.bad) == set(r.bad)


def test_not_a_folder_is_one_clear_error(tmp_path):
    with pytest.raises(SessionError, match="not a folder"):
        build_index(tmp_path / "nowhere")


def test_the_index_command(share):
    bad_files(share)
    out = share.parent / "lab.parquet"
    res = subprocess.run([sys.executable, str(ROOT / "main.py"), "index", str(share), "--out", str(out)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert f"wrote {out}: 4 runs of 3 sessions (3 read" in res.stderr
    assert "left out notes.h5: " in res.stderr and "left out foreign.h5: " in res.stderr
    assert len(pd.read_parquet(out)) == 4 and (share.parent / "lab.files.parquet").is_file()
