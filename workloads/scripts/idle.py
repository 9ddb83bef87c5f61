#!/usr/bin/env python3
"""Sleeps: the idle baseline.  python3 idle.py --seconds 5"""

import argparse
import json
import sys
import time


def emit(event, **fields):
    sys.stdout.write("@joulebench " + json.dumps(dict(event=event, t=time.monotonic(), **fields)) + "\n")
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args(argv)
    if not args.seconds >= 0:
        raise SystemExit("idle: --seconds must be 0 or more")
    emit("begin")
    time.sleep(args.seconds)
    emit("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
