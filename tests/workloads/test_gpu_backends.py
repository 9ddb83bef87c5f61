"""The GPU workloads on CUDA against the CPU (skipped where there is no GPU, as CI is CPU-only; run on the GPU
machine by benchmarks/gpu_smoke.sh):

* the heat slab with jax on CUDA (float64) agrees with the scalar reference, as torch on CUDA does
  (tests/workloads/test_heat_slab.py);
* the transformer and the CNN in float32 on CUDA give the CPU's logits within float32's accumulated rounding
  (TF32 is switched off so the GPU does float32 products).
"""

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "workloads" / "scripts"
sys.path.insert(0, str(SCRIPTS))
import heat_slab as hs  # noqa: E402

T = 1000


def _jax_gpu() -> bool:
    try:
        import jax
        return bool(jax.devices("gpu"))
    except Exception:              # no jax, or jax without a CUDA backend
        return False


def _torch_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not _jax_gpu(), reason="no JAX with a CUDA GPU here: CI is CPU-only; run on the GPU machine")
def test_jax_on_cuda_agrees_with_the_cpu_reference():
    s_ref, loss_ref, grad_ref = hs.trial_scalar(T)
    s, loss, grad = hs.make_trial("jax", "cuda")(T)
    assert s == pytest.approx(s_ref, rel=1e-12) and loss == pytest.approx(loss_ref, rel=1e-9)
    for name in hs.NAMES:
        assert grad[name] == pytest.approx(grad_ref[name], rel=1e-9, abs=1e-12), name


@pytest.mark.skipif(not _torch_cuda(), reason="no CUDA GPU here: CI is CPU-only; run on the GPU machine")
def test_transformer_and_cnn_on_cuda_agree_with_the_cpu():
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_grad_enabled(False)
    lm = load_script("transformer_infer")
    args = SimpleNamespace(seed=0, d_model=128, heads=4, ffn=256, vocab=1000, layers=2, prompt_len=32,
                           new_tokens=8, batch=2)
    prompt = torch.randint(0, args.vocab, (2, 32), generator=torch.Generator().manual_seed(1))
    logits = {}
    for dev in ("cpu", "cuda"):
        model = lm.build(torch, args).to(dev, torch.float32).eval()     # float32 whatever the default dtype
        cache = lm.new_cache(torch, args, torch.float32, torch.device(dev))
        logits[dev] = lm.generate(model, torch, prompt.to(dev), cache, 4)[0].cpu()
    assert torch.allclose(logits["cuda"], logits["cpu"], rtol=1e-4, atol=1e-4)
    cnn = load_script("cnn_infer")
    args = SimpleNamespace(seed=0, width=16, stages=3, blocks=1, classes=100, image_size=64)
    images = torch.randn(4, 3, 64, 64, generator=torch.Generator().manual_seed(2), dtype=torch.float32)
    out = {dev: cnn.build(torch, args).to(dev, torch.float32).eval()(images.to(dev)).cpu() for dev in ("cpu", "cuda")}
    assert torch.allclose(out["cuda"], out["cpu"], rtol=1e-3, atol=1e-3)
