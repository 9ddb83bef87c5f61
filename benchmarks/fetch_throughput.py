"""Fetch throughput: the driver (pyvisa-py) against a plain socket reading the same bytes.

    python benchmarks/fetch_throughput.py --points 10000000 --json

Starts the simulated scope (Keysight persona) in this process, captures one
window of N points per channel, then fetches both channels (2×N BYTE points)
through the driver and, in the same run, with a plain socket client that
reads the same replies into a preallocated buffer (recv_into). Each is timed
best of --repeats; the records are generated before timing starts.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_window import acquired  # noqa: E402

SETUP = ":WAVeform:SOURce CHANnel{n};:WAVeform:FORMat BYTE;:WAVeform:UNSigned 1;:WAVeform:POINts MAX;" \
        ":WAVeform:POINts:MODE RAW\n"


def socket_fetch(host: str, port: int, channels=(1, 2)) -> int:
    """A plain client: the same queries, the header parsed, the payload read with recv_into."""
    total = 0
    with socket.create_connection((host, port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for n in channels:
            s.sendall(SETUP.format(n=n).encode())
            s.sendall(b":WAVeform:DATA?\n")
            head = b""
            while len(head) < 2:
                head += s.recv(2 - len(head))
            ndig = int(head[1:2])
            digits = b""
            while len(digits) < ndig:
                digits += s.recv(ndig - len(digits))
            length = int(digits) + 1                      # the trailing newline
            buf = bytearray(length)
            view = memoryview(buf)
            got = 0
            while got < length:
                k = s.recv_into(view[got:], length - got)
                if not k:
                    raise RuntimeError("connection closed")
                got += k
            total += length - 1
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10_000_000, help="points per channel (default 10 000 000)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    n = args.points
    window_s = 0.2
    with acquired(n, window_s) as (sim, scope):
        socket_fetch(sim.host, sim.port)                 # generates and caches both records
        driver_s = socket_s = float("inf")
        nbytes = 0
        for _ in range(args.repeats):
            t = time.perf_counter()
            waves = [scope.fetch(1), scope.fetch(2)]
            driver_s = min(driver_s, time.perf_counter() - t)
            nbytes = sum(w.codes.nbytes for w in waves)
            del waves
            t = time.perf_counter()
            socket_bytes = socket_fetch(sim.host, sim.port)
            socket_s = min(socket_s, time.perf_counter() - t)
            assert socket_bytes == nbytes, (socket_bytes, nbytes)
    out = {"points": n, "bytes": nbytes, "driver_s": driver_s, "socket_s": socket_s,
           "driver_mb_s": nbytes / driver_s / 1e6, "socket_mb_s": nbytes / socket_s / 1e6,
           "ratio_vs_socket": socket_s / driver_s, "machine": {"cpus": os.cpu_count(),
                                                               "python": sys.version.split()[0]}}
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:16s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
