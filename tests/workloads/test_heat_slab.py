"""The reference workload: every backend agrees with the others and with central finite differences."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "workloads" / "scripts"
sys.path.insert(0, str(SCRIPTS))
import heat_slab as hs  # noqa: E402

T = 1000


@pytest.fixture(scope="module")
def reference():
    return hs.trial_scalar(T)


def test_twenty_named_parameters_with_published_values():
    assert len(hs.NAMES) == len(hs.DEFAULTS) == 20
    p = dict(zip(hs.NAMES, hs.DEFAULTS))
    assert p["tube.spacing"] == 0.50292 and p["slab.cp"] == 0.2 and p["start_temp"] == 33.3
    assert p["quanta.flow"] == 0.0006309 and p["tank.volume"] == 0.0757082


def test_gradient_matches_central_finite_differences(reference):
    s, loss, grad = reference
    assert loss == pytest.approx(abs(s - hs.TARGET), rel=1e-15)
    base = list(hs.DEFAULTS)
    for k, name in enumerate(hs.NAMES):
        h = 1e-6 * abs(base[k]) if base[k] else 1e-6
        plus, minus = list(base), list(base)
        plus[k] += h
        minus[k] -= h
        fd = (abs(hs.forward(plus, T) - hs.TARGET) - abs(hs.forward(minus, T) - hs.TARGET)) / (2 * h)
        assert grad[name] == pytest.approx(fd, rel=2e-5, abs=1e-9), name
    # parameters the model overwrites or never reads have no influence
    assert grad["slab.temp"] == grad["quanta.power"] == grad["tank.mass"] == 0.0


def test_numpy_backend_agrees(reference):
    import numpy
    s, loss, grad = hs.trial_scalar(T, numpy)
    assert (s, loss) == (pytest.approx(reference[0], rel=1e-12), pytest.approx(reference[1], rel=1e-12))
    for name in hs.NAMES:
        assert grad[name] == pytest.approx(reference[2][name], rel=1e-12, abs=1e-15)


def test_torch_backend_agrees_through_autodiff(reference):
    trial = hs.make_trial("torch")
    s, loss, grad = trial(T)
    assert s == pytest.approx(reference[0], rel=1e-12) and loss == pytest.approx(reference[1], rel=1e-12)
    for name in hs.NAMES:
        assert grad[name] == pytest.approx(reference[2][name], rel=1e-9, abs=1e-12), name


def test_jax_backend_agrees_or_says_it_is_missing(reference):
    if importlib.util.find_spec("jax") is None:
        out = subprocess.run([sys.executable, str(SCRIPTS / "heat_slab.py"), "--backend", "jax", "--trials", "1"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and "needs JAX on the board" in out.stderr
        return
    s, loss, grad = hs.make_trial("jax")(T)
    assert s == pytest.approx(reference[0], rel=1e-12)
    for name in hs.NAMES:
        assert grad[name] == pytest.approx(reference[2][name], rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("backend,ops_per_step", [("python", 37), ("numpy", 49)])
def test_script_events_ops_and_verify(backend, ops_per_step):
    out = subprocess.run([sys.executable, str(SCRIPTS / "heat_slab.py"), "--backend", backend, "--trials", "4",
                          "--timesteps", "200", "--warmup", "1", "--verify"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line.split(" ", 1)[1]) for line in out.stdout.splitlines() if line.startswith("@joulebench ")]
    assert [e["event"] for e in events] == ["begin", "end"]
    end = events[1]
    assert end["ops"] == 4 * 200 * ops_per_step and len(end["trial_times_s"]) == 4
    assert end["t"] > events[0]["t"]
    assert set(end["result"]["grad"]) == set(hs.NAMES)
    assert end["result"]["slab_temp"] == pytest.approx(hs.forward(list(hs.DEFAULTS), 200), rel=1e-12)


def test_published_op_count():
    # 5 000 trials x 1 000 timesteps: 0.185 GOps scalar, 0.245 GOps tensor (docs/heat-slab.md)
    assert 5000 * 1000 * hs.OPS_PER_STEP["python"] == 185_000_000
    assert 5000 * 1000 * hs.OPS_PER_STEP["torch"] == 245_000_000


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(not _cuda_available(), reason="no CUDA GPU here: CI is CPU-only; run on the GPU machine")
def test_torch_on_cuda_agrees_with_the_cpu_reference(reference):
    s, loss, grad = hs.make_trial("torch", "cuda")(T)
    assert s == pytest.approx(reference[0], rel=1e-12)
    for name in hs.NAMES:
        assert grad[name] == pytest.approx(reference[2][name], rel=1e-9, abs=1e-12), name


def test_cuda_asked_without_a_gpu_is_a_clear_message():
    if _cuda_available():
        pytest.skip("a CUDA GPU is here: the message is for machines without one")
    out = subprocess.run([sys.executable, str(SCRIPTS / "heat_slab.py"), "--backend", "torch", "--device", "cuda",
                          "--trials", "1"], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "PyTorch sees no CUDA device" in out.stderr
    out = subprocess.run([sys.executable, str(SCRIPTS / "heat_slab.py"), "--backend", "numpy", "--device", "cuda",
                          "--trials", "1"], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "needs --backend torch or jax" in out.stderr


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_gemm_torch_counts_2n3_and_computes_what_numpy_computes(dtype):
    # on the CPU here (the GPU run is recorded in the closing note): ops = 2 n^3 reps; the first row of the
    # product, rounded to the dtype, against NumPy's float64 product of the same rounded inputs
    import torch
    n, reps = 64, 3
    out = subprocess.run([sys.executable, str(SCRIPTS / "gemm_torch.py"), "--dtype", dtype, "--n", str(n),
                          "--reps", str(reps), "--warmup", "1", "--device", "cpu"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line.split(" ", 1)[1]) for line in out.stdout.splitlines() if line.startswith("@joulebench ")]
    assert [e["event"] for e in events][0] == "begin" and events[-1]["event"] == "end"
    assert events[-1]["ops"] == 2 * n ** 3 * reps
    gen = torch.Generator(device="cpu").manual_seed(0)
    tdtype = torch.float32 if dtype == "fp32" else torch.bfloat16
    a = torch.randn(n, n, generator=gen, dtype=torch.float32).to(tdtype).double().numpy()
    b = torch.randn(n, n, generator=gen, dtype=torch.float32).to(tdtype).double().numpy()
    expected = float((a @ b)[0, :8].sum())
    tol = 1e-3 if dtype == "fp32" else 0.5            # bf16 keeps 8 bits of mantissa in its products' output
    assert events[-1]["result"]["checksum"] == pytest.approx(expected, abs=tol * max(1.0, abs(expected)))
