#!/usr/bin/env python3
"""Matrix products with NumPy: ops = 2·n³ per product.

    python3 gemm.py --dtype fp32|fp16 --n 1024 --reps 50 --warmup 2
"""

import argparse
import json
import sys
import time


def emit(event, **fields):
    sys.stdout.write("@joulebench " + json.dumps(dict(event=event, t=time.monotonic(), **fields),
                                                 separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtype", choices=("fp32", "fp16"), default="fp32")
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args(argv)
    if args.n < 1 or args.reps < 1 or args.warmup < 0:
        raise SystemExit("gemm: --n and --reps must be 1 or more, --warmup 0 or more")
    try:
        import numpy as np
    except ImportError:
        raise SystemExit("gemm: needs NumPy on the board")
    dtype = np.float32 if args.dtype == "fp32" else np.float16
    rng = np.random.default_rng(0)
    a = rng.standard_normal((args.n, args.n)).astype(dtype)
    b = rng.standard_normal((args.n, args.n)).astype(dtype)
    for _ in range(args.warmup):
        a @ b
    emit("begin", dtype=args.dtype, n=args.n, reps=args.reps)
    c = None
    next_progress = time.monotonic() + 1.0
    for k in range(args.reps):
        c = a @ b
        if time.monotonic() >= next_progress:           # lets the app spread its windows and tell the time left
            emit("progress", fraction=(k + 1) / args.reps)
            next_progress = time.monotonic() + 1.0
    emit("end", ops=2.0 * args.n ** 3 * args.reps, result={"checksum": float(np.float64(c[0, 0]))})
    return 0


if __name__ == "__main__":
    sys.exit(main())
