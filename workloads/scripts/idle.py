#!/usr/bin/env python3
"""Sleeps: the idle baseline.  python3 idle.py --seconds 5"""

import argparse
import json
import sys
import time


def emit(event, **fields):
    t = time.monotonic()
    sys.stdout.write("@joulebench " + json.dumps(dict(event=event, t=t, **fields)) + "\n")
    sys.stdout.flush()
    return t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args(argv)
    if not args.seconds >= 0:
        raise SystemExit("idle: --seconds must be 0 or more")
    start = emit("begin")
    while True:                                          # a progress event a second
        left = start + args.seconds - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(1.0, left))
        emit("progress", fraction=min(1.0, (time.monotonic() - start) / args.seconds) if args.seconds else 1.0)
    emit("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
