"""Benchmark of the lab index and the dask frame over a folder of generated sessions (docs/python-api.md).

    python benchmarks/index_sessions.py --sessions 1000 --json

Each phase runs in a fresh Python process (its own peak RSS, no warm caches of the one before):
  baseline_h5py     open every file with h5py alone and read the session's and each run's record attributes
                    (the least any reader does): the same-run baseline
  reader            open every file with Joulebench's SessionReader (which checks every SHA-256 metadata digest on
                    opening, app/session/integrity.py) and read each run's record: what any use of the reader costs
  index_cold        `build_index` on the folder with no index yet (every file read)
  index_warm        `build_index` again, nothing changed (no file opened)
  index_touched     `build_index` after `touch` on 1 % of the files (those opened for their checksum only)
  dask_threads      `runs_dask(folder).compute(scheduler="threads")`: one task per file on dask's local scheduler
  dask_processes    the same on dask's local process pool (h5py holds one lock per process, so threads do not
                    read files in parallel; processes do)
  runs_frame        `runs_frame(folder)` in one process
Figures: seconds, sessions/s, peak RSS (MiB: the phase's own process; dask_processes' workers are not counted)
and the ratio of each phase's time to the baseline's. The sessions
are tests/session_factory.py's (two runs of one 1000-sample window each, about 60 KiB a file), written by the
real writer; the machine is shared, so compare ratios rather than seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def generate(folder: Path, n: int) -> None:
    from tests.session_factory import write_session
    for k in range(n):
        sub = folder / f"bench-{k % 7}" / f"2026-{1 + k % 12:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        write_session(sub / f"s{k:05d}.h5", [(2.0, 6.0 + k % 5, 0.5), (2.0, 8.0, 0.25)], label=f"batch {k % 3}")


def peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM: reset at exec, unlike getrusage's ru_maxrss, which a child inherits)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase(name: str, folder: Path) -> dict:
    """One phase in this process: its seconds (imports done before the clock starts) and result size."""
    import h5py
    if name not in ("baseline_h5py", "reader"):
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import app.session.data  # noqa: F401
        import app.session.index  # noqa: F401
    if name.startswith("dask"):
        import dask.dataframe  # noqa: F401
    t0 = time.perf_counter()
    if name == "baseline_h5py":
        rows = 0
        for p in sorted(folder.rglob("*.h5")):
            with h5py.File(p, "r") as f:
                dict(f.attrs)
                for run in f["runs"].values():
                    if "results" in run:
                        run["results"].attrs.get("record_json")
                        rows += 1
    elif name == "reader":
        from app.session.reader import SessionReader
        rows = 0
        for p in sorted(folder.rglob("*.h5")):
            with SessionReader(p) as s:
                for run in s.runs():
                    rows += run.record is not None
    elif name.startswith("index"):
        from app.session.index import build_index
        if name == "index_touched":
            files = sorted(folder.rglob("*.h5"))
            for p in files[:: 100]:
                os.utime(p)
            t0 = time.perf_counter()
        r = build_index(folder)
        rows = len(r.runs)
    elif name.startswith("dask"):
        from app.session.data import runs_dask
        df = runs_dask(folder).compute(scheduler=name.split("_")[1])
        rows = int(df["problem"].isna().sum())
    elif name == "runs_frame":
        from app.session.data import runs_frame
        rows = len(runs_frame(folder))
    else:
        raise SystemExit(f"no phase {name}")
    seconds = time.perf_counter() - t0
    return {"phase": name, "seconds": seconds, "rows": rows,
            "peak_rss_mib": peak_rss_mib()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--folder", type=Path, help="use (or fill) this folder instead of a temporary one")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase == "generate":
        generate(args.folder, args.sessions)
        return 0
    if args.phase:
        print(json.dumps(phase(args.phase, args.folder)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp) / "share"
        if not any(folder.rglob("*.h5")) if folder.exists() else True:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--phase", "generate", "--folder", str(folder),
                            "--sessions", str(args.sessions)], check=True, cwd=ROOT)
            print(f"generated {args.sessions} sessions in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        index = folder / "joulebench-index.parquet"
        for leftover in (index, index.with_name("joulebench-index.files.parquet")):
            leftover.unlink(missing_ok=True)
        n = len(list(folder.rglob("*.h5")))
        results = []
        for name in ("baseline_h5py", "reader", "index_cold", "index_warm", "index_touched", "dask_threads", "dask_processes",
                     "runs_frame"):
            out = subprocess.run([sys.executable, __file__, "--phase", name, "--folder", str(folder)],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        base = results[0]["seconds"]
        for r in results:
            r["sessions_per_s"] = n / r["seconds"] if r["seconds"] else None
            r["ratio_vs_h5py"] = r["seconds"] / base
        if args.json:
            print(json.dumps({"sessions": n, "cpus": os.cpu_count(), "phases": results}, indent=1))
        else:
            print(f"{n} sessions, {os.cpu_count()} CPUs")
            for r in results:
                print(f"{r['phase']:14s} {r['seconds']:8.2f} s {r['sessions_per_s']:9.0f} sessions/s "
                      f"{r['ratio_vs_h5py']:6.2f}x h5py  peak {r['peak_rss_mib']:6.0f} MiB  rows {r['rows']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
