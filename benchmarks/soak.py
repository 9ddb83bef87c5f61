"""Soak: N consecutive demo captures, through the CLI's capture path and through the app's worker, with the
process's resident memory, open file descriptors and threads at the start and at the end (a benchmark, not a
test: the machine is shared).

    python benchmarks/soak.py --captures 300 --json
    python benchmarks/soak.py --kill 20 --json      # kill -9 a CLI capture at random moments, then read every file

Each capture runs the `idle` workload (0.2 s) on the demo bench with a 0.5 s window (0.2 s of it before the
trigger) into a temporary folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WARMUP = 3


def usage() -> dict:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "fds": len(os.listdir("/proc/self/fd")),
            "threads": int(fields["Threads"])}


def soak_bench():
    from app.bench.config import DEMO_BENCH, load_bench
    bench = load_bench(DEMO_BENCH)
    return dataclasses.replace(bench, acquisition=dataclasses.replace(bench.acquisition, window_s=0.5, pretrigger=0.4,
                                                                      settle_s=0.2))


def request(bench, out_dir: Path):
    from app.capture.procedure import CaptureRequest
    from workloads.spec import find_workload
    return CaptureRequest(bench=bench, workload=find_workload("idle"), params={"seconds": "0.2"}, out_dir=out_dir,
                          windows=0)


MID = {}


def soak_loop(name: str, n: int, capture_once) -> tuple[dict, dict, int]:
    """WARMUP captures, then n measured ones; usage at the start, the middle (MID[name]) and the end.
    capture_once() returns True when the capture succeeded."""
    failures = 0
    for k in range(n + WARMUP):
        if k == WARMUP:
            start = usage()
        if k == WARMUP + n // 2:
            MID[name] = usage()
        failures += not capture_once()
    time.sleep(1.0)                      # the last capture's threads finish winding down
    return start, usage(), failures


def run_cli_path(n: int, out_dir: Path) -> tuple[dict, dict, int]:
    from app.capture.procedure import Capture, CaptureFailed
    bench = soak_bench()

    def once() -> bool:
        try:
            Capture(request(bench, out_dir)).run()
            return True
        except CaptureFailed:
            return False
    return soak_loop("cli", n, once)


def run_app_path(n: int, out_dir: Path) -> tuple[dict, dict, int]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.workers import CaptureWorker
    _app = QApplication.instance() or QApplication(sys.argv)  # noqa: F841 (kept alive for the loop)
    bench = soak_bench()

    def once() -> bool:
        worker = CaptureWorker(request(bench, out_dir))
        loop = QEventLoop()
        result = {}
        worker.finished.connect(lambda o: (result.setdefault("ok", o), loop.quit()))
        worker.failed.connect(lambda m, o, e: (result.setdefault("failed", m), loop.quit()))
        QTimer.singleShot(120_000, loop.quit)
        worker.start()
        loop.exec()
        worker.thread.wait(10_000)
        return "ok" in result
    return soak_loop("app", n, once)


def growth(start: dict, end: dict) -> dict:
    return {k: round(100.0 * (end[k] - start[k]) / start[k], 2) if start[k] else None for k in start}


def kill_test(n: int, out_dir: Path, seed: int = 1) -> dict:
    """kill -9 a CLI capture of 3 runs at a random moment, n times; every file must open and report."""
    from app.report.tables import session_run_rows
    from app.session.reader import SessionReader
    rng = random.Random(seed)
    unreadable, runs_seen = [], 0
    for k in range(n):
        folder = out_dir / f"kill{k:02d}"
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "capture", "--demo", "--workload", "idle",
                                 "--param", "seconds=0.3", "--repeats", "3", "--windows", "0", "--out", str(folder)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(rng.uniform(1.0, 8.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for f in list(folder.glob("*.h5")) + list(folder.glob("*.h5.partial")):
            try:
                with SessionReader(f) as s:
                    finished = [r for r in s.runs() if r.status == "complete"]
                runs_seen += len(finished)
                session_run_rows(f)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports every kind of failure
                unreadable.append(f"{f.name}: {exc}")
    return {"kills": n, "unreadable_files": unreadable, "finished_runs_read": runs_seen}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--captures", type=int, default=300)
    ap.add_argument("--path", choices=("cli", "app", "both"), default="both")
    ap.add_argument("--kill", type=int, default=0, help="instead: kill -9 this many CLI captures at random moments")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {"captures": args.captures, "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.kill:
            out = {"kill": kill_test(args.kill, Path(tmp))}
        else:
            for name, fn in (("cli", run_cli_path), ("app", run_app_path)):
                if args.path in (name, "both"):
                    t0 = time.monotonic()
                    start, end, failures = fn(args.captures, Path(tmp) / name)
                    out[name] = {"start": start, "middle": MID.get(name), "end": end, "growth_pct": growth(start, end),
                                 "second_half_growth_pct": growth(MID[name], end) if name in MID else None,
                                 "failures": failures, "seconds": round(time.monotonic() - t0, 1)}
    print(json.dumps(out, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
