"""The whole capture pipeline on 2×N points: acquisition complete → session saved, against a plain socket.

    python benchmarks/pipeline.py --points 10000000 --json

A simulated scope (Keysight persona, in this process) captures one window of N
points per channel; the capture procedure fetches both channels through the
driver, scans them, analyses the run and saves the session (fsynced).
`after_acquisition_s` runs from the end of the acquisition (the first download
step) to the saved session; `socket_transfer_s` reads the same bytes from the
same scope with a plain socket, in the same run.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app.bench import loads_bench  # noqa: E402
from app.capture import Capture, CaptureRequest  # noqa: E402
from fetch_throughput import socket_fetch  # noqa: E402
from instruments.sim.server import SimScope  # noqa: E402
from instruments.sim.sources import ProfileSource, load_profile  # noqa: E402
from workloads.spec import parse_workload  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    n = args.points
    window_s = 0.5
    tmp = Path(tempfile.mkdtemp(prefix="jb-pipeline-"))
    profile = tmp / "p.toml"
    profile.write_text("supply_v = 19.0\nshunt_ohm = 0.01\ninitial_a = 0.25\nsteps = [[0.05, 0.6]]\nperiod_s = 0.1\n")
    sim = SimScope(persona="keysight", source=ProfileSource(load_profile(profile)), max_points=n)
    sim.engine.eager = True          # the record exists when the acquisition completes, as on a real scope
    bench = loads_bench(f'''
[scope]
resource = "{sim.resource}"
timeout_s = 60
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
[target]
kind = "local"
workdir = "{tmp / 'work'}"
telemetry = "off"
''')
    spec = parse_workload({"name": "short", "command": "sleep 0.05"}, "short.toml", tmp)
    marks = {}

    def progress(p):
        if p.stage == "downloading" and "t0" not in marks:
            marks["t0"] = time.perf_counter()
    try:
        out = Capture(CaptureRequest(bench=bench, workload=spec, out_dir=tmp / "s", windows=0),
                      progress=progress).run()
        after = time.perf_counter() - marks["t0"]
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sock = min(_timed(lambda: socket_fetch(sim.host, sim.port)) for _ in range(3))
        file_bytes = out.session_path.stat().st_size
    finally:
        sim.close()
    doc = {"points": n, "after_acquisition_s": after, "socket_transfer_s": sock, "ratio_vs_socket": after / sock,
           "peak_rss_mb": peak_rss_mb, "file_bytes": file_bytes, "energy_j": out.runs[0]["energy_j"],
           "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    print(json.dumps(doc) if args.json else "\n".join(f"{k:20s} {v}" for k, v in doc.items()))
    return 0


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
