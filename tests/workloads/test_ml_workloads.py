"""The built-in inference workloads, tiny, on the CPU: a transformer decoder (prefill + decode) and a CNN.

What is checked does not come from the scripts' own arithmetic:
* the key/value cache: the logits of one decode step from the cache equal a full causal pass over the prompt
  plus the new tokens (the same model, no cache);
* the counts: prefill tokens = batch × prompt length × prefills, decode tokens = batch × new tokens × rounds,
  images = batch × batches (the repeats as the result reports them);
* the phases cover [begin, end] in order, prefill before decode.
"""

import importlib.util
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest

from workloads.protocol import ProtocolState
from workloads.spec import find_workload

torch = pytest.importorskip("torch")
SCRIPTS = Path(__file__).resolve().parents[2] / "workloads" / "scripts"
TINY_LM = {"device": "cpu", "dtype": "fp32", "batch": 2, "prompt_len": 8, "new_tokens": 4, "layers": 2,
           "d_model": 32, "heads": 4, "ffn": 64, "vocab": 50, "phase_s": 0,
           "min_repeats": 3}
TINY_CNN = {"device": "cpu", "dtype": "fp32", "batch": 3, "image_size": 16, "width": 4, "stages": 2, "blocks": 1,
            "classes": 10, "seconds": 0, "min_batches": 2}


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_builtin(name, params, capsys):
    """The built-in workload's command, run in this process (torch is imported once): its script's main with
    the command's arguments."""
    words = shlex.split(find_workload(name).render_command(params))
    assert words[:2] == ["python3", f"{name.replace('-', '_')}.py"]
    assert load_script(name.replace("-", "_")).main(words[2:]) == 0
    p = ProtocolState()
    for line in capsys.readouterr().out.splitlines():
        p.feed(line)
    assert p.warnings == [] and p.duration_s() is not None
    return p


def test_kv_cache_decode_equals_a_full_pass():
    mod = load_script("transformer_infer")
    args = SimpleNamespace(seed=0, d_model=32, heads=4, ffn=64, vocab=50, layers=2, prompt_len=8, new_tokens=4,
                           batch=2)
    torch.set_grad_enabled(False)
    model = mod.build(torch, args).double().eval()
    prompt = torch.randint(0, args.vocab, (2, 8), generator=torch.Generator().manual_seed(5))
    cache = mod.new_cache(torch, args, torch.float64, torch.device("cpu"))
    _, tokens = mod.generate(model, torch, prompt, cache, 3)
    # the third token came from a decode step at position 9; a fresh pass over prompt + two tokens, no cache
    # carried over, gives the logits at that position
    fresh = mod.new_cache(torch, args, torch.float64, torch.device("cpu"))
    full = model(torch.cat([prompt, tokens[:, :2]], 1), fresh, 0)
    cached = model(tokens[:, 1:2], cache, 9)
    assert torch.allclose(cached, full, rtol=1e-10, atol=1e-10)
    assert torch.equal(full.argmax(-1), tokens[:, 2])


def test_transformer_reports_tokens_per_phase(capsys):
    p = run_builtin("transformer-infer", TINY_LM, capsys)
    res = p.result
    assert res["prefills"] >= 3 and res["decode_rounds"] >= 3
    prefill_tokens = 2 * 8 * res["prefills"]
    decode_tokens = 2 * 4 * res["decode_rounds"]
    assert p.units == ("tokens", prefill_tokens + decode_tokens)
    phases = p.phase_summary()
    assert list(phases) == ["prefill", "decode"]
    assert (phases["prefill"].count, phases["decode"].count) == (prefill_tokens, decode_tokens)
    assert phases["prefill"].latency_s > 0 and phases["decode"].latency_s > 0
    spans = p.phases()
    assert spans[0].t0_s >= p.begin.t and spans[-1].t1_s == p.end.t
    assert res["finite"] and len(res["tokens_head"]) == 1 + 4       # the prefill's token, then 4 decoded


def test_cnn_reports_images(capsys):
    p = run_builtin("cnn-infer", TINY_CNN, capsys)
    assert p.result["batches"] >= 2 and p.units == ("images", 3 * p.result["batches"])
    assert p.latency_s > 0 and len(p.result["classes_head"]) == 3


def test_cuda_asked_without_a_gpu_says_so():
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here: the message is for machines without one")
    for script in ("transformer_infer", "cnn_infer"):
        with pytest.raises(SystemExit, match="no CUDA device"):
            load_script(script).main(["--device", "cuda"])
