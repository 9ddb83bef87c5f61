#!/usr/bin/env python3
"""A convolutional network classifying batches of images, in PyTorch: inference as a vision service runs it.

    python3 cnn_infer.py --device cuda --dtype bf16 --batch 64 --image-size 224 --width 64 --stages 4 \
        --blocks 2 --classes 1000 --seconds 5

The architecture comes from the arguments (a ResNet-style network: a 3×3 stem, --stages stages of --blocks
residual blocks of two 3×3 convolutions with batch norm, the width doubling and the image halving from one
stage to the next, global average pooling and a linear classifier; --width 64 --stages 4 --blocks 2 is
ResNet-18's shape, with a 3×3 stem); the weights are random from a fixed seed (--seed), so nothing is
downloaded. The images are one random batch made before `begin` (loading and decoding images is not
measured). Batches run until --seconds have passed (at least --min-batches), each synchronised so its latency is the
time its images waited for their classes; `end` reports images, the count and that latency.
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


def build(torch, args):
    nn = torch.nn

    def conv_bn(cin, cout, stride):
        return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)]

    class Residual(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.body = nn.Sequential(*conv_bn(cin, cout, stride), nn.ReLU(inplace=True), *conv_bn(cout, cout, 1))
            self.skip = (nn.Identity() if stride == 1 and cin == cout else
                         nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

        def forward(self, x):
            return torch.relu(self.body(x) + self.skip(x))

    torch.manual_seed(args.seed)
    layers = [*conv_bn(3, args.width, 2 if args.image_size >= 64 else 1), nn.ReLU(inplace=True)]
    cin = args.width
    for stage in range(args.stages):
        cout = args.width * 2 ** stage
        for block in range(args.blocks):
            layers.append(Residual(cin, cout, 2 if block == 0 and stage > 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, args.classes)]
    return nn.Sequential(*layers)


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--dtype", choices=tuple(DTYPES), default="bf16")
    for name, default in (("batch", 64), ("image-size", 224), ("width", 64), ("stages", 4), ("blocks", 2),
                          ("classes", 1000), ("seed", 0), ("warmup", 3), ("min-batches", 1)):
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--seconds", type=float, default=5.0, help="run batches for at least this long")
    args = ap.parse_args(argv)
    if min(args.batch, args.image_size, args.width, args.stages, args.blocks, args.classes) < 1 \
            or args.warmup < 0 or not args.seconds >= 0:
        raise SystemExit("cnn_infer: sizes must be 1 or more, --warmup and --seconds 0 or more")
    return args


def main(argv=None):
    args = parse(argv)
    try:
        import torch
    except ImportError:
        raise SystemExit("cnn_infer: needs PyTorch on the board (pip install torch)")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("cnn_infer: --device cuda, but PyTorch sees no CUDA device; check the driver and the CUDA "
                         "build of torch, or use --param device=cpu")
    dtype, dev = getattr(torch, DTYPES[args.dtype]), torch.device(args.device)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    torch.set_grad_enabled(False)
    fmt = torch.channels_last if args.device == "cuda" else torch.contiguous_format
    model = build(torch, args).to(dev, dtype, memory_format=fmt).eval()
    gen = torch.Generator(device="cpu").manual_seed(args.seed + 1)
    images = torch.randn(args.batch, 3, args.image_size, args.image_size, generator=gen).to(
        dev, dtype, memory_format=fmt)
    for _ in range(args.warmup):
        model(images)
    sync()
    emit("begin", device=args.device, dtype=args.dtype, batch=args.batch, image_size=args.image_size,
         gpu=torch.cuda.get_device_name(0) if args.device == "cuda" else None)
    t0, batches, next_progress = time.monotonic(), 0, time.monotonic() + 1.0
    while batches < max(args.min_batches, 1) or time.monotonic() - t0 < args.seconds:
        classes = model(images).argmax(-1)
        sync()
        batches += 1
        if time.monotonic() >= next_progress and args.seconds > 0:
            emit("progress", fraction=min(1.0, (time.monotonic() - t0) / args.seconds))
            next_progress = time.monotonic() + 1.0
    took = time.monotonic() - t0
    emit("end", units="images", count=args.batch * batches, latency_s=took / batches,
         result={"batches": batches, "device": args.device, "dtype": args.dtype,
                 "classes_head": [int(c) for c in classes[:8]],
                 "parameters": sum(p.numel() for p in model.parameters())})
    return 0


if __name__ == "__main__":
    sys.exit(main())
