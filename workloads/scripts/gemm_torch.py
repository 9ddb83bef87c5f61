#!/usr/bin/env python3
"""Matrix products in PyTorch: what a GPU's fp32, fp16 and bf16 units do (2·n³ operations each).

    python3 gemm_torch.py --dtype fp32|fp16|bf16 --n 4096 --reps 200 --warmup 10 --device cuda|cpu

The device is synchronised before `begin` and before `end`, so the events bound the device's work, not the
time the launches took. Prints progress about once a second.
"""

import argparse
import json
import sys
import time

DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def emit(event, **fields):
    sys.stdout.write("@joulebench " + json.dumps(dict(event=event, t=time.monotonic(), **fields),
                                                 separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtype", choices=tuple(DTYPES), default="fp16")
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    args = ap.parse_args(argv)
    if args.n < 1 or args.reps < 1 or args.warmup < 0:
        raise SystemExit("gemm_torch: --n and --reps must be 1 or more, --warmup 0 or more")
    try:
        import torch
    except ImportError:
        raise SystemExit("gemm_torch: needs PyTorch on the board (pip install torch)")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gemm_torch: --device cuda, but PyTorch sees no CUDA device (torch.cuda.is_available() is "
                         "False); check the driver and the CUDA build of torch, or use --param device=cpu")
    dtype = getattr(torch, DTYPES[args.dtype])
    dev = torch.device(args.device)
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(args.n, args.n, generator=gen, dtype=torch.float32).to(dev, dtype)
    b = torch.randn(args.n, args.n, generator=gen, dtype=torch.float32).to(dev, dtype)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    c = None
    for _ in range(args.warmup):
        c = a @ b
    sync()
    emit("begin", dtype=args.dtype, n=args.n, reps=args.reps, device=args.device,
         gpu=torch.cuda.get_device_name(0) if args.device == "cuda" else None)
    next_progress = time.monotonic() + 1.0
    for k in range(args.reps):
        c = a @ b
        if time.monotonic() >= next_progress:
            sync()
            emit("progress", fraction=(k + 1) / args.reps)
            next_progress = time.monotonic() + 1.0
    sync()
    emit("end", ops=2.0 * args.n ** 3 * args.reps,
         result={"checksum": float(c[0, :8].float().sum()), "dtype": args.dtype, "device": args.device})
    return 0


if __name__ == "__main__":
    sys.exit(main())
