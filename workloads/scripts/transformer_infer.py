#!/usr/bin/env python3
"""A transformer decoder generating tokens, in PyTorch: prefill and decode, the two phases of LLM inference.

    python3 transformer_infer.py --device cuda --dtype bf16 --batch 8 --prompt-len 512 --new-tokens 128 \
        --layers 12 --d-model 1024 --heads 16 --ffn 4096 --vocab 32000 --phase-s 3

The architecture comes from the arguments (a GPT-style decoder: learned positions, pre-norm blocks of causal
self-attention and a GELU MLP, the output head tied to the embedding); the weights are random from a fixed
seed (--seed), so nothing is downloaded and every run computes the same thing. Greedy decoding with a
key/value cache:

* prefill: the whole prompt of every sequence in one pass (fills the cache, gives the first new token),
  repeated until --phase-s seconds have passed (at least --min-repeats times); units: prompt tokens;
* decode: --new-tokens steps of one token per sequence, each attending to the cache, from the prompt's
  cache, repeated until --phase-s seconds have passed; units: generated tokens.

Prints `begin` after a warm-up of one whole generation (so per-shape kernel plans are built before it), a
`phase` event at the start of each phase, and `end` with the units
(tokens, both phases together), the per-phase counts and latencies (prefill: time to the first token of a
batch; decode: time per generated token of a sequence). The device is synchronised at each boundary.
"""

import argparse
import json
import math
import sys
import time

DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def emit(event, **fields):
    sys.stdout.write("@joulebench " + json.dumps(dict(event=event, t=time.monotonic(), **fields),
                                                 separators=(",", ":")) + "\n")
    sys.stdout.flush()


def build(torch, args):
    """The decoder (torch.nn modules) with weights drawn from --seed."""
    nn = torch.nn
    F = torch.nn.functional
    d, heads = args.d_model, args.heads
    head_dim = d // heads

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc1, self.fc2 = nn.Linear(d, args.ffn), nn.Linear(args.ffn, d)

        def forward(self, x, cache_k, cache_v, pos):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
            cache_k[:, :, pos:pos + t] = k
            cache_v[:, :, pos:pos + t] = v
            keys, values = cache_k[:, :, :pos + t], cache_v[:, :, :pos + t]
            # a prompt from position 0 is causal within itself; one new token sees everything before it
            att = F.scaled_dot_product_attention(q, keys, values, is_causal=(t > 1 and pos == 0))
            x = x + self.proj(att.transpose(1, 2).reshape(b, t, d))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(args.vocab, d)
            self.pos = nn.Embedding(args.prompt_len + args.new_tokens, d)
            self.blocks = nn.ModuleList(Block() for _ in range(args.layers))
            self.ln = nn.LayerNorm(d)

        def forward(self, tokens, cache, pos):
            x = self.embed(tokens) + self.pos.weight[pos:pos + tokens.shape[1]]
            for blk, (ck, cv) in zip(self.blocks, cache):
                x = blk(x, ck, cv, pos)
            return self.ln(x[:, -1]) @ self.embed.weight.t()        # the last position's logits

    torch.manual_seed(args.seed)
    model = Decoder()
    for p in model.parameters():                 # small weights keep a deep random model's activations sane
        if p.dim() > 1:
            torch.nn.init.normal_(p, std=0.02)
    return model


def new_cache(torch, args, dtype, dev):
    shape = (args.batch, args.heads, args.prompt_len + args.new_tokens, args.d_model // args.heads)
    return [(torch.zeros(shape, dtype=dtype, device=dev), torch.zeros(shape, dtype=dtype, device=dev))
            for _ in range(args.layers)]


def generate(model, torch, prompt, cache, new_tokens):
    """Prefill the prompt, then new_tokens − 1 decode steps; returns (logits of the prefill, tokens)."""
    logits = model(prompt, cache, 0)
    out = [logits.argmax(-1)]
    for step in range(1, new_tokens):
        out.append(model(out[-1][:, None], cache, prompt.shape[1] + step - 1).argmax(-1))
    return logits, torch.stack(out, 1)


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--dtype", choices=tuple(DTYPES), default="bf16")
    for name, default in (("batch", 8), ("prompt-len", 512), ("new-tokens", 128), ("layers", 12),
                          ("d-model", 1024), ("heads", 16), ("ffn", 4096), ("vocab", 32000), ("seed", 0),
                          ("warmup", 1), ("min-repeats", 1)):
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--phase-s", type=float, default=3.0, help="repeat each phase for at least this long")
    args = ap.parse_args(argv)
    if min(args.batch, args.prompt_len, args.new_tokens, args.layers, args.d_model, args.heads, args.ffn,
           args.vocab) < 1 or args.d_model % args.heads or args.warmup < 0 or not args.phase_s >= 0:
        raise SystemExit("transformer_infer: sizes must be 1 or more, --d-model a multiple of --heads, "
                         "--warmup and --phase-s 0 or more")
    return args


def main(argv=None):
    args = parse(argv)
    try:
        import torch
    except ImportError:
        raise SystemExit("transformer_infer: needs PyTorch on the board (pip install torch)")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("transformer_infer: --device cuda, but PyTorch sees no CUDA device; check the driver and "
                         "the CUDA build of torch, or use --param device=cpu")
    dtype, dev = getattr(torch, DTYPES[args.dtype]), torch.device(args.device)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    torch.set_grad_enabled(False)
    model = build(torch, args).to(dev, dtype).eval()
    gen = torch.Generator(device="cpu").manual_seed(args.seed + 1)
    prompt = torch.randint(0, args.vocab, (args.batch, args.prompt_len), generator=gen).to(dev)
    cache = new_cache(torch, args, dtype, dev)
    for _ in range(args.warmup):                 # a whole generation: every decode step's key length is new, and
        generate(model, torch, prompt, cache, args.new_tokens + 1)   # kernels planned per shape (cuDNN's
    # attention builds a plan per key length, ~40 ms each on an H200) are made here, not inside the phases
    sync()
    emit("begin", device=args.device, dtype=args.dtype, batch=args.batch, prompt_len=args.prompt_len,
         new_tokens=args.new_tokens, gpu=torch.cuda.get_device_name(0) if args.device == "cuda" else None)
    per_prefill = args.batch * args.prompt_len
    emit("phase", name="prefill", units="tokens")
    t0, prefills = time.monotonic(), 0
    while prefills < max(args.min_repeats, 1) or time.monotonic() - t0 < args.phase_s:
        logits = model(prompt, cache, 0)
        first = logits.argmax(-1)
        sync()
        prefills += 1
    prefill_s = time.monotonic() - t0
    emit("phase", name="decode", units="tokens")
    t0, rounds = time.monotonic(), 0
    while rounds < max(args.min_repeats, 1) or time.monotonic() - t0 < args.phase_s:
        tokens = [first]
        for step in range(args.new_tokens):      # each round continues the same prompt from its cache
            tokens.append(model(tokens[-1][:, None], cache, args.prompt_len + step).argmax(-1))
        sync()
        rounds += 1
    decode_s = time.monotonic() - t0
    decoded = args.batch * args.new_tokens * rounds
    emit("end", units="tokens", count=per_prefill * prefills + decoded,
         phases={"prefill": {"units": "tokens", "count": per_prefill * prefills, "latency_s": prefill_s / prefills},
                 "decode": {"units": "tokens", "count": decoded,
                            "latency_s": decode_s / (rounds * args.new_tokens)}},
         result={"prefills": prefills, "decode_rounds": rounds, "device": args.device, "dtype": args.dtype,
                 "logits_sum": float(logits.double().sum()), "tokens_head": [int(x) for x in torch.stack(tokens, 1)[0, :8]],
                 "parameters": sum(p.numel() for p in model.parameters()),
                 "finite": bool(math.isfinite(float(logits.double().abs().sum())))})
    return 0


if __name__ == "__main__":
    sys.exit(main())
