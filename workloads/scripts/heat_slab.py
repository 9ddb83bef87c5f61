#!/usr/bin/env python3
"""Heat transfer through a radiant slab: forward pass and gradient of the loss (docs/heat-slab.md).

    python3 heat_slab.py --backend python|numpy|torch|jax --trials N --timesteps N --warmup N
                         [--device cpu|cuda] [--verify]

Joulebench's own implementation, written from docs/heat-slab.md. A trial is one
forward pass plus the gradient of |T_slab - target| with respect to all 20
parameters in reverse mode. The python backend's reverse pass is written by
hand (scalar code, no dependency but the standard library); numpy runs the same
recurrence on NumPy float64 values with the same hand-written reverse pass;
torch and jax use their autodiff. Prints @joulebench begin after the warm-up
trials and end after the last (docs/workloads.md) with the operation count:
37 ops per timestep for scalar code (python), 49 for the tensor convention
(numpy, torch, jax), as published.
"""

import argparse
import json
import sys
import time

DT = 0.1
PI = 3.14159265359
GEO = 10.0
TARGET = 27.344767
NAMES = ("tube.spacing", "tube.diameter", "tube.thickness", "tube.resistivity", "slab.temp", "slab.area",
         "slab.cp", "slab.density", "slab.thickness", "quanta.power", "quanta.temp", "quanta.flow",
         "quanta.density", "quanta.cp", "tank.temp", "tank.volume", "tank.cp", "tank.density", "tank.mass",
         "start_temp")
DEFAULTS = (0.50292, 0.019, 0.001588, 2.43, 21.1111111, 100.0, 0.2, 2242.58, 0.101, 0.0, 60.0, 0.0006309,
            1000.0, 4180.0, 70.0, 0.0757082, 4180.0, 1000.0, 75.708, 33.3)
OPS_PER_STEP = {"python": 37, "numpy": 49, "torch": 49, "jax": 49}


PROGRESS_EVERY_S = 1.0


def emit(event, **fields):
    sys.stdout.write("@joulebench " + json.dumps(dict(event=event, t=time.monotonic(), **fields),
                                                 separators=(",", ":")) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- scalar recurrence (python and numpy)

def unpack(p):
    (spacing, diameter, thickness, resistivity, _slab_temp, area, cp_s, rho_s, thick_s, _power, q0, flow, rho_q,
     cp_q, a0, v_t, cp_t, rho_t, _mass, s0) = p
    return spacing, diameter, thickness, resistivity, area, cp_s, rho_s, thick_s, q0, flow, rho_q, cp_q, a0, v_t, \
        cp_t, rho_t, s0


def step(a, q, s, c):
    """One timestep in the order of docs/heat-slab.md; returns the new (tank, parcel, slab) temperatures."""
    spacing, diameter, thickness, resistivity, area, cp_s, rho_s, thick_s, _q0, flow, rho_q, cp_q, _a0, v_t, \
        cp_t, rho_t, _s0 = c
    # 1. source tank
    p1 = (a - q) * (flow * rho_q * cp_q)
    a = a + p1 * DT / cp_t / (v_t * rho_t)
    # 2. parcel update
    q1 = q + (p1 * DT) / cp_q / (flow * DT * rho_q)
    # 3. load
    area_t = (area / spacing) * PI * diameter
    r = resistivity * thickness / area_t * GEO
    p2 = (s - q1) / r
    load = -p2
    # 4. parcel update
    q = q1 + (p2 * DT) / cp_q / (flow * DT * rho_q)
    # 5. slab
    s = s + (load * DT) / cp_s / (area * thick_s * rho_s)
    return a, q, s


def forward(p, timesteps):
    c = unpack(p)
    a, q, s = c[12], c[8], c[16]
    for _ in range(timesteps):
        a, q, s = step(a, q, s, c)
    return s


def value_and_grad(p, timesteps):
    """Slab temperature, loss and the gradient of the loss (hand-written reverse mode)."""
    c = unpack(p)
    spacing, diameter, thickness, resistivity, area, cp_s, rho_s, thick_s, q0, flow, rho_q, cp_q, a0, v_t, \
        cp_t, rho_t, s0 = c
    tape = []
    a, q, s = a0, q0, s0
    for _ in range(timesteps):
        tape.append((a, q, s))
        a, q, s = step(a, q, s, c)
    slab_temp = s
    diff = s - TARGET
    loss = abs(diff)
    g = dict.fromkeys(("spacing", "diameter", "thickness", "resistivity", "area", "cp_s", "rho_s", "thick_s",
                       "flow", "rho_q", "cp_q", "v_t", "cp_t", "rho_t"), 0.0)
    ab, qb, sb = 0.0 * a, 0.0 * q, (1.0 if diff > 0 else -1.0 if diff < 0 else 0.0) + 0.0 * s
    t13 = area / spacing
    t14 = t13 * PI
    A = t14 * diameter
    t15 = resistivity * thickness
    t16 = t15 / A
    R = t16 * GEO
    t2 = flow * rho_q
    t3 = t2 * cp_q
    t6 = v_t * rho_t
    t10 = flow * DT
    t11 = t10 * rho_q
    t25 = area * thick_s
    t26 = t25 * rho_s
    for a, q, s in reversed(tape):
        t1 = a - q
        P1 = t1 * t3
        t4 = P1 * DT
        t5 = t4 / cp_t
        t8 = P1 * DT
        t9 = t8 / cp_q
        q1 = q + t9 / t11
        t17 = s - q1
        P2 = t17 / R
        t18 = P2 * DT
        t19 = t18 / cp_q
        t23 = -P2 * DT
        t24 = t23 / cp_s
        # 5. s_n = s + t24 / t26
        s_bar = sb
        t24b = sb / t26
        t26b = -sb * t24 / (t26 * t26)
        g["rho_s"] += t26b * t25
        t25b = t26b * rho_s
        g["area"] += t25b * thick_s
        g["thick_s"] += t25b * area
        t23b = t24b / cp_s
        g["cp_s"] += -t24b * t23 / (cp_s * cp_s)
        loadb = t23b * DT
        # 4. q_n = q1 + t19 / t11
        q1b = qb
        t19b = qb / t11
        t11b = -qb * t19 / (t11 * t11)
        t18b = t19b / cp_q
        g["cp_q"] += -t19b * t18 / (cp_q * cp_q)
        P2b = t18b * DT
        # 3. load = -P2, P2 = t17 / R
        P2b += -loadb
        t17b = P2b / R
        Rb = -P2b * t17 / (R * R)
        s_bar += t17b
        q1b += -t17b
        t16b = Rb * GEO
        t15b = t16b / A
        Ab = -t16b * t15 / (A * A)
        g["resistivity"] += t15b * thickness
        g["thickness"] += t15b * resistivity
        t14b = Ab * diameter
        g["diameter"] += Ab * t14
        t13b = t14b * PI
        g["area"] += t13b / spacing
        g["spacing"] += -t13b * area / (spacing * spacing)
        # 2. q1 = q + t9 / t11
        q_bar = q1b
        t9b = q1b / t11
        t11b += -q1b * t9 / (t11 * t11)
        t8b = t9b / cp_q
        g["cp_q"] += -t9b * t8 / (cp_q * cp_q)
        P1b = t8b * DT
        g["rho_q"] += t11b * t10
        g["flow"] += t11b * rho_q * DT
        # 1. a_n = a + t5 / t6
        a_bar = ab
        t5b = ab / t6
        t6b = -ab * t5 / (t6 * t6)
        g["v_t"] += t6b * rho_t
        g["rho_t"] += t6b * v_t
        t4b = t5b / cp_t
        g["cp_t"] += -t5b * t4 / (cp_t * cp_t)
        P1b += t4b * DT
        t1b = P1b * t3
        t3b = P1b * t1
        g["cp_q"] += t3b * t2
        t2b = t3b * cp_q
        g["flow"] += t2b * rho_q
        g["rho_q"] += t2b * flow
        a_bar += t1b
        q_bar += -t1b
        ab, qb, sb = a_bar, q_bar, s_bar
    grad = {"tube.spacing": g["spacing"], "tube.diameter": g["diameter"], "tube.thickness": g["thickness"],
            "tube.resistivity": g["resistivity"], "slab.temp": 0.0, "slab.area": g["area"], "slab.cp": g["cp_s"],
            "slab.density": g["rho_s"], "slab.thickness": g["thick_s"], "quanta.power": 0.0, "quanta.temp": qb,
            "quanta.flow": g["flow"], "quanta.density": g["rho_q"], "quanta.cp": g["cp_q"], "tank.temp": ab,
            "tank.volume": g["v_t"], "tank.cp": g["cp_t"], "tank.density": g["rho_t"], "tank.mass": 0.0,
            "start_temp": sb}
    return slab_temp, loss, grad


def trial_scalar(timesteps, np=None):
    p = DEFAULTS if np is None else tuple(np.float64(x) for x in DEFAULTS)
    s, loss, grad = value_and_grad(p, timesteps)
    return float(s), float(loss), {k: float(v) for k, v in grad.items()}


# ---------------------------------------------------------------- autodiff backends

def make_torch(device="cpu"):
    try:
        import torch
    except ImportError:
        raise SystemExit("heat_slab: the torch backend needs PyTorch on the board (pip install torch); "
                         "or use --backend numpy or python")
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("heat_slab: --device cuda, but PyTorch sees no CUDA device (torch.cuda.is_available() is "
                         "False); check the driver and the CUDA build of torch, or use --device cpu")
    torch.set_default_dtype(torch.float64)
    dev = torch.device(device)

    def trial(timesteps):
        params = [torch.tensor(x, requires_grad=True, device=dev) for x in DEFAULTS]
        c = unpack(params)
        a, q, s = c[12], c[8], c[16]
        for _ in range(timesteps):
            a, q, s = step(a, q, s, c)
        loss = torch.abs(s - TARGET)
        loss.backward()
        grad = {n: (0.0 if p.grad is None else float(p.grad)) for n, p in zip(NAMES, params)}
        return float(s.detach()), float(loss.detach()), grad
    trial.sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return trial


def make_jax(device="cpu"):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise SystemExit("heat_slab: the jax backend needs JAX on the board (pip install jax); "
                         "or use --backend numpy or python")
    jax.config.update("jax_enable_x64", True)
    try:
        target = jax.devices("gpu" if device == "cuda" else "cpu")[0]
    except RuntimeError:
        raise SystemExit("heat_slab: --device %s, but JAX sees no such device; use --device cpu" % device)

    def slab(p, timesteps):
        c = unpack(p)

        def body(_, state):
            return step(*state, c)
        a, q, s = jax.lax.fori_loop(0, timesteps, body, (c[12], c[8], c[16]))
        return s

    def loss_fn(p, timesteps):
        s = slab(p, timesteps)
        return jnp.abs(s - TARGET), s

    grad_fn = jax.jit(jax.value_and_grad(loss_fn, has_aux=True), static_argnums=1)

    def trial(timesteps):
        p = tuple(jax.device_put(jnp.asarray(x, dtype=jnp.float64), target) for x in DEFAULTS)
        (loss, s), grads = grad_fn(p, timesteps)
        return float(s), float(loss), {n: float(gv) for n, gv in zip(NAMES, grads)}
    trial.sync = lambda: None                   # float() of each result already waited for the device
    return trial


def make_trial(backend, device="cpu"):
    if device != "cpu" and backend not in ("torch", "jax"):
        raise SystemExit("heat_slab: --device %s needs --backend torch or jax" % device)
    if backend == "python":
        return trial_scalar
    if backend == "numpy":
        try:
            import numpy
        except ImportError:
            raise SystemExit("heat_slab: the numpy backend needs NumPy on the board; or use --backend python")
        return lambda timesteps: trial_scalar(timesteps, numpy)
    if backend == "torch":
        return make_torch(device)
    if backend == "jax":
        return make_jax(device)
    raise SystemExit("heat_slab: unknown backend %r" % backend)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Heat transfer through a radiant slab (docs/heat-slab.md)")
    ap.add_argument("--backend", choices=("python", "numpy", "torch", "jax"), default="python")
    ap.add_argument("--trials", type=int, default=5000)
    ap.add_argument("--timesteps", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="torch and jax: where to compute")
    ap.add_argument("--verify", action="store_true", help="print the slab temperature, loss and gradient")
    args = ap.parse_args(argv)
    if args.trials < 1 or args.timesteps < 1 or args.warmup < 0:
        raise SystemExit("heat_slab: --trials and --timesteps must be 1 or more, --warmup 0 or more")
    trial = make_trial(args.backend, args.device)
    sync = getattr(trial, "sync", lambda: None)
    for _ in range(args.warmup):
        trial(args.timesteps)
    sync()                                              # the warm-up's device work ends before `begin`
    emit("begin", backend=args.backend, device=args.device, trials=args.trials, timesteps=args.timesteps)
    times = []
    out = None
    next_progress = time.monotonic() + PROGRESS_EVERY_S
    for k in range(args.trials):
        t0 = time.perf_counter()
        out = trial(args.timesteps)
        times.append(time.perf_counter() - t0)
        if time.monotonic() >= next_progress:           # lets the app spread its windows and tell the time left
            emit("progress", fraction=(k + 1) / args.trials)
            next_progress = time.monotonic() + PROGRESS_EVERY_S
    sync()                                              # and the measured work's before `end`
    ops = float(args.trials * args.timesteps * OPS_PER_STEP[args.backend])
    fields = {"ops": ops, "trial_times_s": times}
    if args.verify:
        s, loss, grad = out
        fields["result"] = {"slab_temp": s, "loss": loss, "grad": grad}
    emit("end", **fields)
    if args.verify:
        sys.stderr.write("slab_temp %.12g loss %.12g\n" % (out[0], out[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
