"""Benchmark of the measurement core: analysis and saving of one 2×N-point window.

    python benchmarks/analysis.py --points 10000000 --json

Every figure is a ratio against a baseline measured in the same run (this
machine is shared and noisy):
  ratio_vs_dot         analysis (scan + run analysis) / one np.dot of two float64 arrays of N
  ratio_save_vs_write  session save (h5py, fsync, rename) / writing the same raw bytes (fsync)
  ratio_file_vs_raw    session file size / raw code bytes
peak_rss_mb is taken after generation, analysis and saving, before the float64
arrays of the dot baseline are allocated (they alone are 16 bytes a point).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bench.config import UncertaintyConfig  # noqa: E402
from app.measure.analysis import WindowData, analyse_run  # noqa: E402
from app.measure.energy import PowerTrace, summarise  # noqa: E402
from app.session.writer import SessionWriter  # noqa: E402
from instruments.waveform import Waveform  # noqa: E402


def make_codes(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes like a scope's: 19 V with noise; a current with bursts and noise. Built in chunks."""
    rng = np.random.default_rng(seed)
    v = np.empty(n, np.int8)
    i = np.empty(n, np.int8)
    step = 1 << 22
    for k in range(0, n, step):
        m = min(step, n - k)
        v[k:k + m] = np.clip(np.rint(95 + rng.normal(0, 2, m)), -128, 127)
        burst = ((np.arange(k, k + m) // 50_000) % 3 == 0) * 60
        i[k:k + m] = np.clip(np.rint(20 + burst + rng.normal(0, 3, m)), -128, 127)
    return v, i


def best_of(fn, repeats: int, setup=None) -> float:
    best = float("inf")
    for _ in range(repeats):
        if setup is not None:
            setup()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10_000_000, help="points per channel (default 10 000 000)")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many timings (default 3)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    n = args.points
    dx = 1e-7
    v, i = make_codes(n)
    vw = Waveform(codes=v, y_increment=0.2, y_origin=0.0, y_reference=0.0, x_increment=dx, x_origin=-0.1 * n * dx,
                  code_min=-128, code_max=127, channel=1)
    iw = Waveform(codes=i, y_increment=1e-3, y_origin=0.0, y_reference=0.0, x_increment=dx, x_origin=-0.1 * n * dx,
                  code_min=-128, code_max=127, channel=2)
    unc = UncertaintyConfig()
    holder = {}

    def analyse():
        trace = PowerTrace(vw, iw, shunt_ohm=0.01)
        summary = summarise(trace)
        holder["summary"] = summary
        holder["result"] = analyse_run(WindowData(trace, summary), 0.5 * n * dx, ops=1e9, unc=unc)

    analyse_s = best_of(analyse, args.repeats)

    tmp = Path(tempfile.mkdtemp(prefix="jb-bench-"))
    session_path = tmp / "s.h5"

    def save():
        with SessionWriter(session_path, bench_toml="", resource="bench") as w:
            w.begin_run().add_window(vw, iw, holder["summary"], current_scaling={"shunt_ohm": 0.01})

    # both the session and the plain file are written afresh each time (as a capture writes a new file): the
    # previous one is removed untimed, so neither timing pays for freeing the last one's blocks
    save_s = best_of(save, args.repeats, setup=lambda: session_path.unlink(missing_ok=True))
    file_bytes = session_path.stat().st_size

    plain = tmp / "plain.bin"

    def plain_write():
        with open(plain, "wb") as fh:
            fh.write(memoryview(v))
            fh.write(memoryview(i))
            fh.flush()
            os.fsync(fh.fileno())

    plain_write_s = best_of(plain_write, args.repeats, setup=lambda: plain.unlink(missing_ok=True))
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    a = v.astype(np.float64)
    b = i.astype(np.float64)
    dot_s = best_of(lambda: np.dot(a, b), max(5, args.repeats))
    raw_bytes = v.nbytes + i.nbytes
    for p in (session_path, plain):
        p.unlink()
    tmp.rmdir()

    out = {
        "points": n, "analyse_s": analyse_s, "dot_s": dot_s, "ratio_vs_dot": analyse_s / dot_s,
        "save_s": save_s, "plain_write_s": plain_write_s, "ratio_save_vs_write": save_s / plain_write_s,
        "file_bytes": file_bytes, "raw_bytes": raw_bytes, "ratio_file_vs_raw": file_bytes / raw_bytes,
        "peak_rss_mb": peak_rss_mb, "energy_j": holder["result"].energy_j,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "numpy": np.__version__},
    }
    if args.json:
        print(json.dumps(out))
    else:
        for k, val in out.items():
            print(f"{k:22s} {val}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
