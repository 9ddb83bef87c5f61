#!/usr/bin/env python3
"""Keeps every core busy (for ranging and for a known load).  python3 cpu_burn.py --seconds 5 [--procs N]"""

import argparse
import json
import multiprocessing
import os
import sys
import time


def emit(event, **fields):
    sys.stdout.write("@joulebench " + json.dumps(dict(event=event, t=time.monotonic(), **fields)) + "\n")
    sys.stdout.flush()


def burn(until):
    x = 0
    while time.monotonic() < until:
        for _ in range(10000):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    if not args.seconds >= 0 or args.procs < 1:
        raise SystemExit("cpu_burn: --seconds must be 0 or more, --procs 1 or more")
    emit("begin", procs=args.procs)
    until = time.monotonic() + args.seconds
    procs = [multiprocessing.Process(target=burn, args=(until,)) for _ in range(args.procs)]
    for p in procs:
        p.start()
    start = until - args.seconds
    for p in procs:
        while p.is_alive():
            p.join(1.0)                                  # a progress event a second
            if args.seconds:
                emit("progress", fraction=min(1.0, (time.monotonic() - start) / args.seconds))
    emit("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
