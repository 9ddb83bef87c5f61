"""Soak: many captures back to back in one process, every session saved, readable and undamaged, memory flat.

    python benchmarks/soak_sessions.py --captures 300 --json

Issue 23's "done when": a 300-capture soak shows every session saved and readable and the resident set flat
within 5 %. Each capture runs the demo bench (simulated scope, this computer as the board) on a short
workload (--workload, --seconds) with no sampled windows, into one folder; afterwards every file is opened, its digests
and raw checksums verified (SessionReader.verify), and the file count compared with the capture count (names
stamped to the second lost three of thirty before). RSS (VmRSS of /proc/self/status) is read after each
capture; "flat" compares the mean of the last tenth with the mean of the second tenth (the first tenth warms
caches, numba and the allocator). Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bench.config import DEMO_BENCH, loads_bench
from app.capture.procedure import Capture, CaptureRequest
from app.session.reader import SessionReader
from workloads.spec import find_workload


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--captures", type=int, default=300)
    ap.add_argument("--workload", default="cpu-burn",
                    help="a built-in workload that loads the board (default cpu-burn: the demo board's current follows "
                         "its CPU time, so it triggers; `idle` at times does not, and is then saved as incomplete)")
    ap.add_argument("--seconds", type=float, default=0.05, help="the workload's length")
    ap.add_argument("--settle-s", type=float, default=0.1,
                    help="acquisition.settle_s of the demo bench, before an idle window (default 0.1 s)")
    ap.add_argument("--out", type=Path, help="the session folder (default: a temporary one)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    out = args.out or Path(tempfile.mkdtemp(prefix="joulebench-soak-"))
    text = DEMO_BENCH.read_text()
    bench = loads_bench(re.sub(r"(?m)^settle_s = .*$", "", text).replace("[acquisition]", f"[acquisition]\nsettle_s = "
                                                                         f"{args.settle_s!r}", 1), str(DEMO_BENCH))
    spec = find_workload(args.workload)
    rss, failures, started = [], [], time.monotonic()
    for k in range(args.captures):
        req = CaptureRequest(bench=bench, workload=spec, params={"seconds": str(args.seconds)}, windows=0,
                             out_dir=out, label=f"soak {k}")
        try:
            Capture(req).run()
        except Exception as exc:  # noqa: BLE001  (counted and reported)
            failures.append(f"capture {k}: {type(exc).__name__}: {exc}")
        rss.append(rss_mib())
    files = sorted(out.glob("*.h5"))
    unreadable, labels = [], set()
    for f in files:
        try:
            with SessionReader(f) as s:
                damage = s.verify()
                labels.add(s.attrs.get("label"))
            if damage:
                unreadable.append(f"{f.name}: {damage}")
        except Exception as exc:  # noqa: BLE001  (counted and reported)
            unreadable.append(f"{f.name}: {exc}")
    tenth = max(1, len(rss) // 10)
    early = sum(rss[tenth:2 * tenth]) / len(rss[tenth:2 * tenth]) if len(rss) >= 2 * tenth else rss[0]
    late = sum(rss[-tenth:]) / tenth
    doc = {"captures": args.captures, "files": len(files), "distinct_labels": len(labels),
           "partials_left": len(list(out.glob("*.partial"))), "failures": failures[:10],
           "unreadable_or_damaged": unreadable[:10], "rss_mib_second_tenth": early, "rss_mib_last_tenth": late,
           "rss_growth_pct": 100 * (late - early) / early, "wall_s": time.monotonic() - started, "folder": str(out)}
    ok = (len(files) == args.captures == len(labels) and not failures and not unreadable
          and abs(doc["rss_growth_pct"]) <= 5)
    doc["ok"] = ok
    print(json.dumps(doc, indent=None if args.json else 2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
