"""The whole capture pipeline on 2×N points, at a real scope's link rate: is the result ready when the last
byte lands?

    python benchmarks/pipeline.py --points 10000000 --link-mbps 125 --json

A simulated scope (Keysight persona, in this process) captures one window of N points per channel and sends
its replies paced like a link of R Mbit/s (125: gigabit Ethernet). The capture procedure downloads both
channels through the driver while the window is written and scanned as it arrives (app/capture/stream.py), analyses
the run and saves the session (fsynced). Printed:

* link_s: the bytes of both channels ÷ the link rate;
* after_last_byte_s: last byte received → result ready and session saved;
* ratio_vs_link: (acquisition complete → saved) ÷ link_s;
* processing_mb_s: the same pipeline unthrottled: code bytes ÷ (first byte → saved), the median of
  --captures unthrottled captures (one capture's figure swings by a factor of two on a shared 2-core VM);
* download_only_s and ratio_vs_download: the same 2×N codes downloaded through the driver with nothing done
  to them (no session, no scan; median of three), measured in the same run, and (first byte → saved) over it:
  what the whole pipeline costs beyond the bare transfer, on whatever the machine gives at that moment;
* peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_window import acquired  # noqa: E402

from app.bench.config import loads_bench  # noqa: E402
from app.capture.procedure import Capture, CaptureRequest  # noqa: E402
from instruments.sim.server import SimScope  # noqa: E402
from instruments.sim.sources import ProfileSource, load_profile  # noqa: E402
from workloads.spec import parse_workload  # noqa: E402


def capture_once(n: int, link_mbps: float | None, tmp: Path) -> dict:
    window_s = 0.5
    tmp.mkdir(parents=True, exist_ok=True)
    profile = tmp / "p.toml"
    profile.write_text("supply_v = 19.0\nshunt_ohm = 0.01\ninitial_a = 0.25\nsteps = [[0.05, 0.6]]\nperiod_s = 0.1\n")
    sim = SimScope(persona="keysight", source=ProfileSource(load_profile(profile)), max_points=n,
                   link_mbps=link_mbps)
    sim.engine.eager = True          # the record exists when the acquisition completes, as on a real scope
    bench = loads_bench(f'''
[scope]
resource = "{sim.resource}"
timeout_s = 600
[voltage]
channel = 1
probe_ratio = 10
volts_per_div = 0.5
offset_v = 19
[current]
channel = 2
probe_ratio = 1
volts_per_div = 0.002
offset_v = 0.004
shunt_ohm = 0.01
[acquisition]
window_s = {window_s}
sample_rate_hz = {n / window_s}
pretrigger = 0.1
trigger_level_a = 0.4
idle = "pretrigger"
[target]
kind = "local"
workdir = "{tmp / 'work'}"
telemetry = "off"
[uncertainty]
voltage_offset_error_v = 0.002
current_offset_error_v = 0.00002
''')
    spec = parse_workload({"name": "short", "command": "sleep 0.05"}, "short.toml", tmp)
    marks = {}

    def progress(p):
        if p.stage == "downloading":
            marks.setdefault("t0", time.perf_counter())
            if "CH2 100 %" in p.message:
                marks["last_byte"] = time.perf_counter()
    try:
        out = Capture(CaptureRequest(bench=bench, workload=spec, out_dir=tmp / "s", windows=0),
                      progress=progress).run()
        t_end = time.perf_counter()
    finally:
        sim.close()
    return {"t0": marks["t0"], "last_byte": marks["last_byte"], "end": t_end, "energy_j": out.runs[0]["energy_j"],
            "file_bytes": out.session_path.stat().st_size}


def download_only_s(n: int, repeats: int = 3) -> float:
    """Median time to download both channels of one window through the driver, into fresh arrays, nothing else."""
    times = []
    with acquired(n, 0.5, eager=True) as (_, scope):
        for _ in range(repeats):
            t = time.perf_counter()
            waves = [scope.fetch(1), scope.fetch(2)]
            times.append(time.perf_counter() - t)
            del waves
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--link-mbps", type=float, default=125.0)
    ap.add_argument("--captures", type=int, default=3, help="unthrottled captures; their median is reported")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    n = args.points
    code_bytes = 2 * n                       # BYTE transfers, both channels
    link_s = code_bytes / (args.link_mbps * 1e6 / 8)
    with tempfile.TemporaryDirectory(prefix="jb-pipeline-") as tmp:
        paced = capture_once(n, args.link_mbps, Path(tmp) / "paced")
        free = [capture_once(n, None, Path(tmp) / f"free{k}") for k in range(max(1, args.captures))]
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bare_s = download_only_s(n)
    each_s = [f["end"] - f["t0"] for f in free]
    unthrottled_s = statistics.median(each_s)
    doc = {"points": n, "link_mbps": args.link_mbps, "link_s": link_s,
           "after_last_byte_s": paced["end"] - paced["last_byte"],
           "ratio_vs_link": (paced["end"] - paced["t0"]) / link_s,
           "processing_mb_s": code_bytes / 1e6 / unthrottled_s,
           "unthrottled_s": unthrottled_s, "unthrottled_each_s": each_s,
           "download_only_s": bare_s, "ratio_vs_download": unthrottled_s / bare_s, "peak_rss_mb": peak_rss_mb,
           "file_bytes": paced["file_bytes"], "energy_j": paced["energy_j"],
           "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    print(json.dumps(doc) if args.json else "\n".join(f"{k:20s} {v}" for k, v in doc.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
